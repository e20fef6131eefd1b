//! Network models: fluid flows sharing links max-min fairly.
//!
//! One trait, [`FlowNetwork`], and two implementations: [`FairShareNet`], the fast
//! one the simulator uses, and [`ReferenceNet`], a plain one that recomputes
//! everything at every event and exists so that tests can drive both in lockstep.
//!
//! ```
//! use fleetsim::net::{FairShareNet, FlowNetwork};
//!
//! let mut net = FairShareNet::new();
//! let dp = net.add_link(10_000_000_000); // a 10 Gbps DP uplink
//! // Two clients download 1 GB each; one is wired (1 Gbps), one on VPN (20 Mbps).
//! net.start_flow(0, 1_000_000_000, 1_000_000_000, &[dp], 1);
//! net.start_flow(0, 1_000_000_000, 20_000_000, &[dp], 2);
//! let mut done = Vec::new();
//! while let Some(t) = net.next_completion() {
//!     net.advance(t, &mut done);
//! }
//! assert_eq!(done[0].finished, 8_000_000); // 8 s at 1 Gbps
//! assert_eq!(done[1].finished, 400_000_000); // 400 s at 20 Mbps
//! assert_eq!(net.link_bytes(dp), 2_000_000_000);
//! ```
#![doc = include_str!("README.md")]

mod fair;
mod fill;
mod heap;
mod reference;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_lockstep;
#[cfg(test)]
mod tests_maxmin;
#[cfg(test)]
mod tests_peer;
#[cfg(test)]
mod tests_workload;

pub use fair::FairShareNet;
pub use reference::ReferenceNet;

use crate::engine::time::SimTime;

/// Index of a link, as returned by [`FlowNetwork::add_link`]; stable until
/// [`FlowNetwork::remove_link`] removes the link, after which a later `add_link`
/// may hand the same index out again (peer links come and go by the hundred
/// thousand; their ids must not grow without bound).
pub type LinkId = u32;

/// Index of a flow, as returned by [`FlowNetwork::start_flow`]. An id is reused
/// once [`FlowNetwork::advance`] has reported its completion, so callers that keep
/// flow ids must drop them when they see the completion (keep `tag` for identity).
pub type FlowId = u32;

/// A finished download, reported by [`FlowNetwork::advance`]; carries the caller's
/// `tag` back so the simulator can wake the right client without a lookup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// The flow's id (free for reuse from now on).
    pub flow: FlowId,
    /// The caller's opaque data given to `start_flow`.
    pub tag: u64,
    /// The flow's size, so download statistics need no side table.
    pub bytes: u64,
    /// When the flow started, so its duration is `finished - started`.
    pub started: SimTime,
    /// The µs at which the flow completed (see the completion rule in the README).
    pub finished: SimTime,
}

/// A network of links shared max-min fairly by fluid flows.
///
/// The simulator only talks to this trait, so the reference model can stand in for
/// the fast one in tests, and a different sharing model could later.
pub trait FlowNetwork {
    /// Adds a shared link (a WAN link, a DP uplink, a serving peer's own link) of
    /// `capacity_bps` bits/s. Reuses the id of a removed link when there is one
    /// (the last removed first, in every model, so that ids agree).
    fn add_link(&mut self, capacity_bps: u64) -> LinkId;

    /// Removes a link that no active or paused flow crosses (a paused flow crosses
    /// the links it had when paused); false otherwise, or when the link is unknown.
    ///
    /// A peer's link exists only while it serves: with hundreds of thousands of
    /// peers serving now and then, the model's memory must be bounded by the links
    /// alive, not by the links ever created. From the call on the id is unknown
    /// (ignored by `start_flow`, 0 in the link queries, its byte count gone) until
    /// [`add_link`](Self::add_link) reuses it. Acts at the model's clock: a flow
    /// due to complete but not yet reached by [`advance`](Self::advance) still
    /// crosses its links.
    fn remove_link(&mut self, link: LinkId) -> bool;

    /// Starts a flow of `bytes` at `now`, capped at `cap_bps` (`u64::MAX` means
    /// uncapped) and crossing the shared `links`.
    ///
    /// The model first moves its fluid state to `now`; a `now` before the clock is
    /// taken as the clock. Flows that complete at or before `now` while doing so are
    /// held and reported by the next [`advance`](Self::advance). `bytes == 0`
    /// completes at `now`. Unknown link ids are ignored and duplicates count once.
    /// An uncapped flow crossing no link completes at `now`; a flow whose rate is 0
    /// (zero cap or zero-capacity link) never completes. `tag` is returned in the
    /// flow's [`Completion`].
    fn start_flow(
        &mut self,
        now: SimTime,
        bytes: u64,
        cap_bps: u64,
        links: &[LinkId],
        tag: u64,
    ) -> FlowId;

    /// Earliest time at which some flow completes: the next event the simulator must
    /// schedule for the network. Completions held by `start_flow` count (their time
    /// may be before the clock). `None` when nothing will ever complete.
    fn next_completion(&self) -> Option<SimTime>;

    /// Moves the clock to `now` and appends every flow completing at or before `now`
    /// to `out`, ordered by finish time, then start order.
    ///
    /// Rates are recomputed at each completion on the way, so a `now` past
    /// [`next_completion`](Self::next_completion) is handled exactly as a sequence of
    /// single steps. A `now` before the clock only reports held completions.
    fn advance(&mut self, now: SimTime, out: &mut Vec<Completion>);

    /// Pauses an active flow at `now` (a machine switching off, a BITS job
    /// suspended): it stops being served, keeps the bytes it has received (whole
    /// bytes: the fraction of a byte in flight is dropped) and its id, and frees its
    /// share for the others. Its links have carried those bytes. Completions due at
    /// or before `now` are processed first (and held, as in
    /// [`start_flow`](Self::start_flow)); false if the flow is not active then
    /// (completed, paused or unknown).
    fn pause_flow(&mut self, now: SimTime, flow: FlowId) -> bool;

    /// Resumes a paused flow at `now` with the bytes it still lacks, capped at
    /// `cap_bps` and crossing `links` (as for [`start_flow`](Self::start_flow)). Its
    /// completion reports its whole size and its first start. False if the flow is
    /// not paused.
    fn resume_flow(&mut self, now: SimTime, flow: FlowId, cap_bps: u64, links: &[LinkId]) -> bool;

    /// Changes the cap of an active flow at `now` (a BITS throttling window opening
    /// or closing), keeping its links and the bytes it has received; false if the
    /// flow is not active.
    fn set_flow_cap(&mut self, now: SimTime, flow: FlowId, cap_bps: u64) -> bool;

    /// Moves an active flow at `now` onto other `links` with another cap (as for
    /// [`start_flow`](Self::start_flow)), keeping the bytes it has received: exactly
    /// a [`pause_flow`](Self::pause_flow) and a [`resume_flow`](Self::resume_flow)
    /// at the same µs. A peer's own download shares the peer's link while the peer
    /// serves and goes back to its cap when it stops. False if the flow is not
    /// active.
    fn set_flow_links(
        &mut self,
        now: SimTime,
        flow: FlowId,
        cap_bps: u64,
        links: &[LinkId],
    ) -> bool;

    /// Whether `flow` is paused.
    fn is_paused(&self, flow: FlowId) -> bool;

    /// Ends an active or paused flow at `now` before it completes (a serving peer
    /// switched off, and the requester looks for its remaining bytes elsewhere):
    /// its share goes to the others, its links keep the whole bytes it received,
    /// no completion is ever reported for it and its id is free at once. Returns
    /// those bytes; `None` when the flow is neither active nor paused at `now`
    /// (a completion due by then is held and reported by the next
    /// [`advance`](Self::advance), as in [`pause_flow`](Self::pause_flow)).
    fn cancel_flow(&mut self, now: SimTime, flow: FlowId) -> Option<u64>;

    /// Whole bytes an active or paused flow has received by `now` (its size minus
    /// what it still lacks), without moving the clock: `now` must not be before
    /// the clock nor past [`next_completion`](Self::next_completion). BranchCache
    /// reads how far a peer's download has come, because the blocks it has are
    /// blocks it can serve. `None` for a completed or unknown flow.
    fn flow_received(&self, now: SimTime, flow: FlowId) -> Option<u64>;

    /// The tag of a flow the next [`advance`](Self::advance) will report, when the
    /// model knows it cheaply: a hint only (the simulator prefetches that client's
    /// state, because the completing client is otherwise a cache miss at scale).
    fn next_tag(&self) -> Option<u64> {
        None
    }

    /// Cumulative bytes carried through `link` up to the clock: the exact sum of the
    /// sizes of completed flows plus the floor of the fluid progress of active ones.
    /// Never decreases; equals the sum of sizes once all flows are done. 0 for an
    /// unknown link.
    fn link_bytes(&self, link: LinkId) -> u64;

    /// Number of active flows crossing `link` (0 for an unknown link).
    fn link_active(&self, link: LinkId) -> u32;

    /// Current aggregate rate through `link`, bits/s (0 for an unknown link).
    fn link_rate_bps(&self, link: LinkId) -> f64;

    /// Current rate of an active flow, bits/s; 0 for a finished or unknown flow,
    /// infinite for an uncapped flow crossing no link.
    fn flow_rate_bps(&self, flow: FlowId) -> f64;

    /// Number of flows started and not yet completed.
    fn active_flows(&self) -> usize;

    /// The model's clock: the latest time it was moved to.
    fn now(&self) -> SimTime;
}

/// Bits per byte times µs per second: `bytes = rate_bps * dt_us / BIT_US`.
pub(crate) const BIT_US: f64 = 8e6;

/// Relative tolerance under which a fluid completion time counts as an integer µs.
const SNAP_RELATIVE: f64 = 1e-9;
/// Absolute tolerance (µs) under which a fluid completion time counts as an integer.
const SNAP_ABSOLUTE: f64 = 1e-3;
/// Largest tolerance: just under half a µs (0.5 - 2^-10), see [`completion_time`].
const SNAP_MAX: f64 = 0.5 - 1.0 / 1024.0;

/// The µs at which a flow whose exact fluid completion is `fluid_us` (absolute, µs)
/// completes, never before `clock`; `None` if that is beyond the representable
/// range (including a zero rate, which makes `fluid_us` infinite).
///
/// The first integer µs at or after `fluid_us`, unless `fluid_us` is within
/// `max(1e-3, 1e-9 * fluid_us)` of an integer, which then counts: float noise must
/// not add a µs. The tolerance is relative to the absolute time, not to the time
/// left, because accumulated float error grows with the history (virtual times,
/// re-based remainders), and because a rule that depends only on the absolute fluid
/// time gives the same answer whenever a model re-bases its state.
///
/// Past 500 s the relative tolerance reaches half a µs, where the rule would turn
/// into rounding to the nearest µs with its tie at exactly .5 µs; such ties are
/// common (a link's share halves when a flow joins) and float noise would break
/// them either way. So the tolerance is capped just under half a µs (0.5 - 2^-10):
/// a time at .5 rounds up whatever its noise, and the remaining boundary sits at a
/// fraction that exact completion times practically never hit.
pub(crate) fn completion_time(fluid_us: f64, clock: SimTime) -> Option<SimTime> {
    if fluid_us.is_nan() || fluid_us >= u64::MAX as f64 {
        return None;
    }
    if fluid_us <= clock as f64 {
        // Noise below the clock (or a flow already due) completes now.
        return Some(clock);
    }
    // From here 0 < fluid_us < 2^64, so `as u64` truncates exactly: a hardware
    // conversion instead of libm's round and ceil (this runs at every event).
    let whole = fluid_us as u64;
    let frac = fluid_us - whole as f64;
    let tolerance = (SNAP_RELATIVE * fluid_us).clamp(SNAP_ABSOLUTE, SNAP_MAX);
    // Within tolerance above `whole`: that integer. Otherwise the next one, which is
    // both the ceiling and the integer a time just under it is within tolerance of.
    let at = if frac <= tolerance { whole } else { whole + 1 };
    Some(at.max(clock))
}

/// Per-flow or per-link rate as f64 bits/s, with `u64::MAX` meaning no limit.
pub(crate) fn cap_f64(cap_bps: u64) -> f64 {
    if cap_bps == u64::MAX {
        f64::INFINITY
    } else {
        cap_bps as f64
    }
}
