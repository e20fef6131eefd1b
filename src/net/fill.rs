//! The fast model's state per link and per flow class, and water-filling over
//! classes.
//!
//! A class is the set of active flows sharing a cap and a set of links: max-min
//! fairness gives all of them the same rate, so progressive filling can run over
//! classes (a handful) instead of flows (thousands).
#![allow(
    clippy::indexing_slicing,
    reason = "per-event hot path: flow, class and link ids are slots this module allocated \
              itself; no user value is used as an index"
)]

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use smallvec::SmallVec;

use super::{BIT_US, FlowId, LinkId};
use crate::engine::time::SimTime;

/// The sorted, distinct links a class crosses, inline up to four: a DP download
/// crosses its WAN and DP links, a serving peer's own download its peer link, WAN
/// and DP (3), a peer upload the serving peer's link and the requester's when the
/// requester serves too (2). More links spill to the heap and still work.
pub(crate) type LinkSet = SmallVec<[LinkId; 4]>;

/// Scale of the fixed-point virtual times: 1/256 byte. An i64 then holds 3.6e16
/// bytes per flow, nine years of a class never emptying at 1 Gbps per flow.
const FIXED_SCALE: f64 = 256.0;

/// A virtual time (bytes, >= 0) as a fixed-point integer, so that sums of arrivals
/// add and subtract exactly over millions of churn events instead of drifting.
/// Truncation toward zero (a hardware conversion, unlike `round`) is monotone, which
/// is all the byte counts need.
pub(crate) fn to_fixed(v: f64) -> i64 {
    (v * FIXED_SCALE) as i64
}

/// A shared link.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    /// Capacity, bits/s.
    pub(crate) capacity: f64,
    /// Classes with at least one active flow crossing this link.
    pub(crate) classes: Vec<u32>,
    /// Active flows crossing this link.
    pub(crate) active: u32,
    /// Aggregate rate, bits/s, as of the last water-filling of its component.
    pub(crate) rate: f64,
    /// Exact sum of the sizes of completed flows that crossed this link.
    pub(crate) completed: u64,
    /// Component-search epoch that last visited this link.
    pub(crate) mark: u64,
    /// Water-filling scratch: capacity not yet given to frozen classes.
    pub(crate) spare: f64,
    /// Water-filling scratch: flows of unfrozen classes crossing the link.
    pub(crate) unfrozen: u64,
    /// Every class whose link set includes this link, empty or not: the classes
    /// freed when the link is removed. Each class knows its index here
    /// ([`Class::slots`]), so a class leaves the lists of its other links in O(1).
    pub(crate) members: Vec<u32>,
    /// Paused flows whose last links include this one (removal is refused then).
    pub(crate) paused: u32,
    /// False once removed: the id is then unknown until `add_link` reuses it.
    pub(crate) alive: bool,
}

impl Link {
    pub(crate) fn new(capacity_bps: u64) -> Self {
        Link {
            capacity: capacity_bps as f64,
            classes: Vec::new(),
            active: 0,
            rate: 0.0,
            completed: 0,
            mark: 0,
            spare: 0.0,
            unfrozen: 0,
            members: Vec::new(),
            paused: 0,
            alive: true,
        }
    }

    /// A removed link: no capacity, no bytes, no classes, so every query about it
    /// answers as for an unknown id.
    pub(crate) fn removed() -> Self {
        Link {
            alive: false,
            ..Link::new(0)
        }
    }
}

/// An active flow waiting in its class, ordered by finish tag then start order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Queued {
    /// The class's virtual time at which the flow has received its whole size.
    pub(crate) finish_v: f64,
    /// Global start order, the tie-break.
    pub(crate) seq: u64,
    /// The flow.
    pub(crate) flow: FlowId,
    /// The flow slot's generation when queued (an older one is stale).
    pub(crate) generation: u32,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    /// Reversed, so that `BinaryHeap` (a max-heap) yields the earliest finish first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .finish_v
            .total_cmp(&self.finish_v)
            .then(other.seq.cmp(&self.seq))
    }
}

/// A flow class: every active flow with the same cap and the same links.
///
/// Invariant: for every active flow f of the class, bytes served to f so far
/// = `v_at(now) - arrival_v(f)`, where `v_at` is the class's virtual time.
#[derive(Debug, Clone)]
pub(crate) struct Class {
    /// Per-flow cap, bits/s (infinite when uncapped).
    pub(crate) cap: f64,
    /// The cap as given (`u64::MAX` uncapped): with `links`, the class's key.
    pub(crate) cap_bps: u64,
    /// The links every flow of the class crosses.
    pub(crate) links: LinkSet,
    /// `slots[i]` is this class's index in `links[i]`'s [`Link::members`].
    pub(crate) slots: LinkSet,
    /// Active flows.
    pub(crate) n: u32,
    /// Per-flow rate, bits/s.
    pub(crate) rate: f64,
    /// Virtual time (bytes served to each flow since the class last became active)
    /// at `t_base`.
    pub(crate) v_base: f64,
    /// When `v_base` was taken; `rate` has been constant since.
    pub(crate) t_base: SimTime,
    /// Active flows by finish tag.
    pub(crate) queue: BinaryHeap<Queued>,
    /// Sum over active flows of their arrival virtual time, fixed point.
    pub(crate) arrivals: i128,
    /// Sum of the sizes of active flows (bounds the fluid progress).
    pub(crate) sizes: u128,
    /// Lower bound of the class's progress, set when a flow completes: the
    /// completed flow may have been counted for a hair more than its size (it
    /// completes at the µs after its fluid end), and the link total must not dip
    /// when its fluid share is swapped for its exact size.
    pub(crate) floor: u64,
    /// Next completion time of the class, as stored in the due heap.
    pub(crate) next: Option<SimTime>,
    /// Component-search epoch that last visited this class.
    pub(crate) mark: u64,
    /// Water-filling scratch.
    pub(crate) frozen: bool,
    /// The queue's top entry was found live (`FairShareNet::live_head`) and
    /// nothing that can make it stale happened since: a top entry goes stale only
    /// when its flow leaves the class (`dequeue`) or by a pop, and both clear this;
    /// a push keeps it (the new entry is live). Spares `refill` a load of the head
    /// flow's slot per class, a cache miss in large components.
    pub(crate) head_live: bool,
}

impl Class {
    pub(crate) fn new(cap_bps: u64, links: LinkSet, now: SimTime) -> Self {
        Class {
            cap: super::cap_f64(cap_bps),
            cap_bps,
            links,
            slots: LinkSet::new(),
            n: 0,
            rate: 0.0,
            v_base: 0.0,
            t_base: now,
            queue: BinaryHeap::new(),
            arrivals: 0,
            sizes: 0,
            floor: 0,
            next: None,
            mark: 0,
            frozen: false,
            head_live: false,
        }
    }

    /// The virtual time at `now` (>= `t_base`).
    pub(crate) fn v_at(&self, now: SimTime) -> f64 {
        let dt = now.saturating_sub(self.t_base);
        if dt == 0 || self.rate == 0.0 || self.rate.is_infinite() {
            // An infinite rate only exists for flows that complete at their start µs.
            self.v_base
        } else {
            self.v_base + self.rate * dt as f64 / BIT_US
        }
    }

    /// Moves the base to `now` before the rate changes.
    pub(crate) fn rebase(&mut self, now: SimTime) {
        self.v_base = self.v_at(now);
        self.t_base = now;
    }

    /// Exact fluid time (µs) at which a flow of tag `finish_v` is fully served.
    pub(crate) fn fluid_finish(&self, finish_v: f64) -> f64 {
        let left = (finish_v - self.v_base).max(0.0);
        if left == 0.0 {
            return self.t_base as f64;
        }
        self.t_base as f64 + left * BIT_US / self.rate
    }

    /// Bytes served to the active flows of the class by `now`: the floor of
    /// `n V(now) - Σ arrivals`, within their sizes, and at least `floor`.
    pub(crate) fn progress(&self, now: SimTime) -> u64 {
        self.raw_progress(now).max(self.floor)
    }

    /// [`progress`](Self::progress) without the floor.
    pub(crate) fn raw_progress(&self, now: SimTime) -> u64 {
        if self.n == 0 {
            return 0;
        }
        let served = i128::from(self.n) * i128::from(to_fixed(self.v_at(now))) - self.arrivals;
        (served as f64 / FIXED_SCALE).clamp(0.0, self.sizes as f64) as u64
    }
}

/// Scratch buffers for [`water_fill`], kept to avoid allocating per event.
#[derive(Debug, Default, Clone)]
pub(crate) struct FillScratch {
    /// The component's classes as `(total_order_key(cap), class)`, sorted.
    by_cap: Vec<(i64, u32)>,
    saturated: Vec<u32>,
    /// The component's links that still carry unfrozen flows, in `comp_links`
    /// order: links drop out as their classes freeze, so a round scans only these.
    open: Vec<u32>,
}

/// `x`'s rank under [`f64::total_cmp`] as an integer (the same transform the
/// standard library uses), so that sorting plain `(key, class)` pairs orders the
/// classes exactly as comparing their caps with `total_cmp` did, without
/// following an index per comparison.
fn total_order_key(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    b ^ ((((b >> 63) as u64) >> 1) as i64)
}

/// Sets max-min fair rates for one connected component: `comp_classes` must hold
/// every active class crossing any of `comp_links`, and `comp_links` every link
/// those classes cross. Also sets the links' aggregate rates.
///
/// Progressive filling: all unfrozen flows rise together to the level of the
/// tightest constraint; if that is a cap, every class capped at or below the lowest
/// link share freezes at its cap (freezing below a share only raises the shares);
/// otherwise the saturated links freeze their unfrozen classes at that share.
/// Each round freezes at least one class.
pub(crate) fn water_fill(
    classes: &mut [Class],
    links: &mut [Link],
    comp_classes: &[u32],
    comp_links: &[u32],
    scratch: &mut FillScratch,
) {
    for &l in comp_links {
        let link = &mut links[l as usize];
        link.spare = link.capacity;
        link.unfrozen = 0;
    }
    for &c in comp_classes {
        let class = &mut classes[c as usize];
        class.frozen = false;
        for &l in &class.links {
            links[l as usize].unfrozen += u64::from(class.n);
        }
    }
    let by_cap = &mut scratch.by_cap;
    by_cap.clear();
    by_cap.extend(
        comp_classes
            .iter()
            .map(|&c| (total_order_key(classes[c as usize].cap), c)),
    );
    // Keys then class ids: the order of `cap.total_cmp` then id, all pairs distinct.
    by_cap.sort_unstable();
    let open = &mut scratch.open;
    open.clear();
    open.extend(
        comp_links
            .iter()
            .copied()
            .filter(|&l| links[l as usize].unfrozen > 0),
    );
    let mut next_cap = 0;
    let mut left = comp_classes.len();
    while left > 0 {
        let before = left;
        // One pass: the lowest share over the links with unfrozen flows, the links
        // at that share (in `comp_links` order), and links fully frozen drop out.
        // A link is saturated when its share is <= the minimum, i.e. equal to it.
        let mut share = f64::INFINITY;
        scratch.saturated.clear();
        let mut keep = 0;
        for i in 0..open.len() {
            let l = open[i];
            let link = &links[l as usize];
            if link.unfrozen == 0 {
                continue;
            }
            open[keep] = l;
            keep += 1;
            let s = link.spare.max(0.0) / link.unfrozen as f64;
            // `min` as before, over the same values in the same order, so that
            // `share` has the same bits (a signed zero included).
            if s < share {
                scratch.saturated.clear();
            }
            share = share.min(s);
            if s <= share {
                scratch.saturated.push(l);
            }
        }
        open.truncate(keep);
        while next_cap < by_cap.len() && classes[by_cap[next_cap].1 as usize].frozen {
            next_cap += 1;
        }
        let lowest_cap = by_cap
            .get(next_cap)
            .map_or(f64::INFINITY, |&(_, c)| classes[c as usize].cap);
        if lowest_cap <= share {
            while let Some(&(_, c)) = by_cap.get(next_cap) {
                let class = &classes[c as usize];
                if !class.frozen {
                    if class.cap > share {
                        break;
                    }
                    freeze(classes, links, c, class.cap);
                    left -= 1;
                }
                next_cap += 1;
            }
        } else {
            for &l in &scratch.saturated {
                // Freezing changes only `frozen` and link scratch, never the list.
                for i in 0..links[l as usize].classes.len() {
                    let c = links[l as usize].classes[i];
                    if !classes[c as usize].frozen {
                        freeze(classes, links, c, share);
                        left -= 1;
                    }
                }
            }
        }
        if left == before {
            // Unreachable while the component is complete; never spin if it is not.
            break;
        }
    }
    for &l in comp_links {
        let link = &mut links[l as usize];
        link.rate = link
            .classes
            .iter()
            .map(|&c| f64::from(classes[c as usize].n) * classes[c as usize].rate)
            .sum();
    }
}

fn freeze(classes: &mut [Class], links: &mut [Link], c: u32, rate: f64) {
    let class = &mut classes[c as usize];
    class.frozen = true;
    class.rate = rate;
    let n = class.n;
    for &l in &class.links {
        let link = &mut links[l as usize];
        link.spare -= f64::from(n) * rate;
        link.unfrozen -= u64::from(n);
    }
}
