//! How downloads move bytes: the seam between the rollout model and the network.
//!
//! `run` moves bytes through the fluid max-min fair model
//! ([`FairShareNet`](crate::net::FairShareNet), any [`FlowNetwork`] via the blanket
//! impl); `load` moves them over real HTTP with a transport of its own. The world, the task-sequence interpreter, the DP queues and
//! the statistics are the same code in both, so a load test follows exactly the
//! schedule the simulator predicts.

use std::cell::Cell;

use crate::engine::time::SimTime;
use crate::net::{Completion, FlowNetwork, LinkId};

/// One download attempt to start.
#[derive(Debug, Clone, Copy)]
pub struct FlowReq<'a> {
    /// Client id.
    pub client: u32,
    /// Content index into `Scenario::content`.
    pub content: u32,
    /// DP index into `Scenario::distribution_points`.
    pub dp: u16,
    /// Attempt number (0 = first, then retries).
    pub attempt: u16,
    /// Bytes this attempt moves (the whole content, or less when the simulator injects
    /// a transient failure part-way).
    pub bytes: u64,
    /// Size of the whole content.
    pub size: u64,
    /// Client link cap, bits/s (`u64::MAX` = none).
    pub cap_bps: u64,
    /// Shared links crossed (site WAN, DP uplink; a serving peer's link).
    pub links: &'a [LinkId],
    /// Opaque tag to hand back on completion.
    pub tag: u64,
}

/// One finished attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowDone {
    /// The request's tag.
    pub tag: u64,
    /// Bytes received.
    pub bytes: u64,
    /// `None` when the attempt completed; otherwise a transport-defined error class
    /// (the attempt is then retried like a transient failure).
    pub error: Option<u32>,
}

/// Moves the bytes of download attempts.
pub trait Transport {
    /// Declares a shared link (DP uplink or site WAN) of the given capacity.
    fn add_link(&mut self, capacity_bps: u64) -> LinkId;
    /// Starts an attempt at simulated time `now`.
    fn start(&mut self, now: SimTime, req: &FlowReq<'_>);
    /// Time of the next completion, if known. A real-time transport returns `Some`
    /// only for completions that already happened.
    fn next_completion(&self) -> Option<SimTime>;
    /// Moves to `now` and appends every attempt finished by then.
    fn advance(&mut self, now: SimTime, out: &mut Vec<FlowDone>);
    /// Bytes carried by a link so far (never decreasing).
    fn link_bytes(&self, link: LinkId) -> u64;
    /// The tag of an attempt the next `advance` will report, if cheaply known (a
    /// prefetch hint; see [`FlowNetwork::next_tag`]).
    fn next_tag(&self) -> Option<u64> {
        None
    }
    /// Attempts in flight.
    fn active(&self) -> usize;
    /// The transport's clock.
    fn now(&self) -> SimTime;
    /// Whether simulated time follows the wall clock (load tests).
    fn realtime(&self) -> bool {
        false
    }
    /// Real-time transports: block until a completion is ready or the clock reaches
    /// `t`; returns the current simulated time. Others return `t` at once.
    fn wait_until(&mut self, t: SimTime) -> SimTime {
        t
    }
    /// Bytes carried by a link up to simulated time `t` (the end of a bandwidth
    /// bucket). A real-time transport is sampled after the fact, when the world's next
    /// event comes, so it must say when the bytes arrived; others are sampled at `t`
    /// and give [`link_bytes`](Self::link_bytes).
    fn link_bytes_until(&self, link: LinkId, _t: SimTime) -> u64 {
        self.link_bytes(link)
    }
    /// Attempts still running when the run ends (at the horizon or a stop), with the
    /// bytes they received so far, so those bytes are counted too. The fluid model
    /// reports none (its results are defined at completions).
    fn unfinished(&mut self, _out: &mut Vec<FlowDone>) {}

    /// Starts an attempt that may later be paused, resumed or re-capped (a
    /// background BITS transfer on a machine that sleeps, or under a throttling
    /// window): returns its handle, or `None` when the transport cannot do that
    /// (the attempt then runs as [`start`](Self::start) runs it).
    fn start_pausable(&mut self, now: SimTime, req: &FlowReq<'_>) -> Option<u32> {
        self.start(now, req);
        None
    }
    /// Pauses an attempt, keeping its bytes; false when it is not running.
    fn pause(&mut self, _now: SimTime, _handle: u32) -> bool {
        false
    }
    /// Resumes a paused attempt with its remaining bytes; false when not paused.
    fn resume(&mut self, _now: SimTime, _handle: u32, _cap_bps: u64, _links: &[LinkId]) -> bool {
        false
    }
    /// Changes the cap of a running attempt; false when it is not running.
    fn set_cap(&mut self, _now: SimTime, _handle: u32, _cap_bps: u64) -> bool {
        false
    }
    /// Removes a link no running or paused attempt crosses (a peer's link once
    /// its last upload ended); its id may come back from a later
    /// [`add_link`](Self::add_link). False when the link is crossed, unknown, or
    /// the transport has no peer links (a real-HTTP load test: its clients are not
    /// peers, and its links only count bytes).
    fn remove_link(&mut self, _link: LinkId) -> bool {
        false
    }
    /// Moves a running attempt onto other links with another cap, keeping its
    /// bytes: a pause and a resume at the same µs (a peer's own download shares
    /// its link while it serves). False when it is not running or the transport
    /// cannot (a real-HTTP load test).
    fn relink(&mut self, _now: SimTime, _handle: u32, _cap_bps: u64, _links: &[LinkId]) -> bool {
        false
    }
    /// Ends a running or paused attempt before it completes, returning the bytes
    /// it received (a serving peer switched off); no completion is reported for
    /// it. `None` when it is not running or paused, or the transport cannot (a
    /// real-HTTP load test has no peers).
    fn cancel(&mut self, _now: SimTime, _handle: u32) -> Option<u64> {
        None
    }
    /// Bytes a running or paused attempt has received by `now` (BranchCache: the
    /// blocks a peer's download in progress can serve); `None` when unknown.
    fn received(&self, _now: SimTime, _handle: u32) -> Option<u64> {
        None
    }
    /// Current aggregate rate through a link, bits/s, when the transport knows it
    /// (the fluid model does; a real-time transport does not): `sim::sites` integrates
    /// the time a WAN link runs full from it.
    fn link_rate_bps(&self, _link: LinkId) -> Option<f64> {
        None
    }
}

impl<N: FlowNetwork> Transport for N {
    fn add_link(&mut self, capacity_bps: u64) -> LinkId {
        FlowNetwork::add_link(self, capacity_bps)
    }

    fn start(&mut self, now: SimTime, req: &FlowReq<'_>) {
        self.start_flow(now, req.bytes, req.cap_bps, req.links, req.tag);
    }

    fn start_pausable(&mut self, now: SimTime, req: &FlowReq<'_>) -> Option<u32> {
        Some(self.start_flow(now, req.bytes, req.cap_bps, req.links, req.tag))
    }

    fn pause(&mut self, now: SimTime, handle: u32) -> bool {
        self.pause_flow(now, handle)
    }

    fn resume(&mut self, now: SimTime, handle: u32, cap_bps: u64, links: &[LinkId]) -> bool {
        self.resume_flow(now, handle, cap_bps, links)
    }

    fn set_cap(&mut self, now: SimTime, handle: u32, cap_bps: u64) -> bool {
        self.set_flow_cap(now, handle, cap_bps)
    }

    fn remove_link(&mut self, link: LinkId) -> bool {
        FlowNetwork::remove_link(self, link)
    }

    fn relink(&mut self, now: SimTime, handle: u32, cap_bps: u64, links: &[LinkId]) -> bool {
        self.set_flow_links(now, handle, cap_bps, links)
    }

    fn cancel(&mut self, now: SimTime, handle: u32) -> Option<u64> {
        self.cancel_flow(now, handle)
    }

    fn received(&self, now: SimTime, handle: u32) -> Option<u64> {
        self.flow_received(now, handle)
    }

    fn next_completion(&self) -> Option<SimTime> {
        FlowNetwork::next_completion(self)
    }

    fn advance(&mut self, now: SimTime, out: &mut Vec<FlowDone>) {
        // One buffer per thread, reused: this runs at every flow completion.
        thread_local! {
            static DONE: Cell<Vec<Completion>> = const { Cell::new(Vec::new()) };
        }
        let mut done = DONE.take();
        done.clear();
        FlowNetwork::advance(self, now, &mut done);
        out.extend(done.drain(..).map(|c| FlowDone {
            tag: c.tag,
            bytes: c.bytes,
            error: None,
        }));
        DONE.set(done);
    }

    fn next_tag(&self) -> Option<u64> {
        FlowNetwork::next_tag(self)
    }

    fn link_bytes(&self, link: LinkId) -> u64 {
        FlowNetwork::link_bytes(self, link)
    }

    fn active(&self) -> usize {
        self.active_flows()
    }

    fn now(&self) -> SimTime {
        FlowNetwork::now(self)
    }

    fn link_rate_bps(&self, link: LinkId) -> Option<f64> {
        Some(FlowNetwork::link_rate_bps(self, link))
    }
}
