//! Random workloads for the property tests: calls on a network, drawn by proptest.
//!
//! Two shapes: [`workload`], flows over a few fixed links (DP uplinks, WAN links)
//! with now and then a link added or removed; and [`peer_workload`], a WAN link and
//! a DP with many small peer links created and removed on the fly, uploads crossing
//! one or two peer links with the requester's cap, serving peers' own downloads
//! crossing their link, the WAN and the DP uncapped, and flows moved between them.
//! Both shapes pause, resume, re-cap, move and cancel flows.

use proptest::prelude::*;

use super::*;

/// One call on the models.
#[derive(Debug, Clone)]
pub(super) enum Op {
    /// `start_flow` `dt` µs after the previous op.
    Start {
        dt: SimTime,
        bytes: u64,
        cap: u64,
        path: Path,
    },
    /// `advance` `dt` µs after the previous op: in one call (jumping over any
    /// completions), or stepping through each next completion first.
    Advance { dt: SimTime, stepwise: bool },
    /// `pause_flow` of the `which`-th active flow (by tag), `dt` µs after.
    Pause { dt: SimTime, which: usize },
    /// `resume_flow` of the `which`-th paused flow with a new cap and links.
    Resume {
        dt: SimTime,
        which: usize,
        cap: u64,
        path: Path,
    },
    /// `set_flow_cap` of the `which`-th active flow.
    SetCap { dt: SimTime, which: usize, cap: u64 },
    /// `set_flow_links` of the `which`-th active flow.
    Relink {
        dt: SimTime,
        which: usize,
        cap: u64,
        path: Path,
    },
    /// `cancel_flow` of the `which`-th active or paused flow (by tag), `dt` µs
    /// after (a serving peer switching off cuts its uploads).
    Cancel { dt: SimTime, which: usize },
    /// `add_link` (a peer starts serving).
    AddLink { capacity: u64 },
    /// `remove_link` of the `which`-th alive link, `dt` µs after (after an
    /// `advance` there, so that both models have reported what completed).
    RemoveLink { dt: SimTime, which: usize },
}

/// The links of a flow, drawn as indices resolved against the links alive when
/// the op runs (see [`Links::resolve`]).
#[derive(Debug, Clone)]
pub(super) enum Path {
    /// Any alive links, each the `i`-th (modulo) alive link.
    Any(Vec<u32>),
    /// Peer links (links added by [`Op::AddLink`]), each the `i`-th (modulo)
    /// alive one; with `via_infra`, followed by every alive initial link (a
    /// serving peer's own download: its link, the WAN, the DP).
    Peer { picks: Vec<u32>, via_infra: bool },
}

/// A workload: the initial links' capacities, then the calls.
#[derive(Debug, Clone)]
pub(super) struct Workload {
    pub(super) capacities: Vec<u64>,
    pub(super) ops: Vec<Op>,
}

/// What the driver knows of the links: which ids are alive, which were initial
/// (WAN, DP), and their capacities.
#[derive(Debug, Default)]
pub(super) struct Links {
    /// Alive ids, ascending.
    pub(super) alive: Vec<LinkId>,
    /// By id: added at the start (infrastructure) rather than by an op (a peer).
    infra: Vec<bool>,
    /// By id: capacity, 0 once removed.
    pub(super) capacity: Vec<u64>,
}

impl Links {
    /// Records the link `id` the models returned for an `add_link`.
    pub(super) fn added(&mut self, id: LinkId, capacity: u64, infra: bool) {
        let i = id as usize;
        if self.capacity.len() <= i {
            self.capacity.resize(i + 1, 0);
            self.infra.resize(i + 1, false);
        }
        self.capacity[i] = capacity;
        self.infra[i] = infra;
        if let Err(at) = self.alive.binary_search(&id) {
            self.alive.insert(at, id);
        }
    }

    pub(super) fn removed(&mut self, id: LinkId) {
        self.alive.retain(|&l| l != id);
        self.capacity[id as usize] = 0;
    }

    /// Every id ever handed out (alive or not).
    pub(super) fn ids(&self) -> std::ops::Range<LinkId> {
        0..self.capacity.len() as LinkId
    }

    /// The `which`-th (modulo) alive link.
    pub(super) fn pick(&self, which: usize) -> Option<LinkId> {
        nth(self.alive.iter().map(|&l| u64::from(l)), which).map(|l| l as LinkId)
    }

    /// The links of a path now, sorted and distinct.
    pub(super) fn resolve(&self, path: &Path) -> Vec<LinkId> {
        let of = |set: &[LinkId], i: u32| (!set.is_empty()).then(|| set[i as usize % set.len()]);
        let mut ls: Vec<LinkId> = match path {
            Path::Any(picks) => picks.iter().filter_map(|&i| of(&self.alive, i)).collect(),
            Path::Peer { picks, via_infra } => {
                let (infra, peers): (Vec<LinkId>, Vec<LinkId>) =
                    self.alive.iter().partition(|&&l| self.infra[l as usize]);
                let mut ls: Vec<LinkId> = picks.iter().filter_map(|&i| of(&peers, i)).collect();
                if *via_infra {
                    ls.extend(infra);
                }
                ls
            }
        };
        ls.sort_unstable();
        ls.dedup();
        ls
    }
}

/// The `which`-th (modulo) element of a set of tags.
pub(super) fn nth(tags: impl Iterator<Item = u64> + Clone, which: usize) -> Option<u64> {
    let n = tags.clone().count();
    if n == 0 {
        return None;
    }
    tags.clone().nth(which % n)
}

fn capacity() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(10_000_000u64),
        Just(100_000_000),
        Just(1_000_000_000),
        Just(10_000_000_000),
        1_000_000u64..20_000_000_000,
    ]
}

/// A client's network cap: what a peer link's capacity and an upload's cap are.
fn peer_capacity() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(20_000_000u64),
        Just(100_000_000),
        Just(150_000_000),
        Just(1_000_000_000),
        1_000_000u64..1_000_000_000,
    ]
}

fn cap() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(20_000_000u64),
        3 => Just(150_000_000),
        3 => Just(1_000_000_000),
        2 => Just(u64::MAX),
        1 => 1_000_000u64..5_000_000_000,
    ]
}

fn bytes() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(0u64),
        2 => 1u64..10_000,
        6 => 1u64..1_000_000_000,
        1 => Just(1_000_000_000),
    ]
}

fn gap() -> impl Strategy<Value = SimTime> {
    prop_oneof![Just(0u64), 0u64..1_000, 0u64..10_000_000, 0u64..200_000_000]
}

fn any_path() -> BoxedStrategy<Path> {
    proptest::collection::vec(0u32..8, 0..=3)
        .prop_map(Path::Any)
        .boxed()
}

/// Paths of a peer topology: an upload over the serving peer's link (and the
/// requester's when it serves too), a serving peer's own download, or any links.
fn peer_path() -> BoxedStrategy<Path> {
    prop_oneof![
        3 => proptest::collection::vec(0u32..64, 1..=2)
            .prop_map(|picks| Path::Peer { picks, via_infra: false }),
        2 => (0u32..64).prop_map(|p| Path::Peer { picks: vec![p], via_infra: true }),
        1 => any_path(),
    ]
    .boxed()
}

/// Ops over links drawn by `path`, with `weights` for (add link, remove link,
/// relink) and new links of `link_capacity`.
fn op(
    path: BoxedStrategy<Path>,
    link_capacity: impl Strategy<Value = u64> + 'static,
    weights: (u32, u32, u32),
) -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (gap(), bytes(), cap(), path.clone())
            .prop_map(|(dt, bytes, cap, path)| Op::Start { dt, bytes, cap, path }),
        2 => (gap(), any::<bool>()).prop_map(|(dt, stepwise)| Op::Advance { dt, stepwise }),
        1 => (gap(), any::<usize>()).prop_map(|(dt, which)| Op::Pause { dt, which }),
        1 => (gap(), any::<usize>(), cap(), path.clone())
            .prop_map(|(dt, which, cap, path)| Op::Resume { dt, which, cap, path }),
        1 => (gap(), any::<usize>(), cap()).prop_map(|(dt, which, cap)| Op::SetCap { dt, which, cap }),
        1 => (gap(), any::<usize>()).prop_map(|(dt, which)| Op::Cancel { dt, which }),
        weights.2 => (gap(), any::<usize>(), cap(), path)
            .prop_map(|(dt, which, cap, path)| Op::Relink { dt, which, cap, path }),
        weights.0 => link_capacity.prop_map(|capacity| Op::AddLink { capacity }),
        weights.1 => (gap(), any::<usize>()).prop_map(|(dt, which)| Op::RemoveLink { dt, which }),
    ]
}

/// A few fixed links (1 to 5), sometimes one more added or one removed.
pub(super) fn workload() -> impl Strategy<Value = Workload> {
    (
        proptest::collection::vec(capacity(), 1..=5),
        proptest::collection::vec(op(any_path(), capacity(), (1, 1, 1)), 1..100),
    )
        .prop_map(|(capacities, ops)| Workload { capacities, ops })
}

/// A WAN link and a DP, and peer links coming and going.
pub(super) fn peer_workload() -> impl Strategy<Value = Workload> {
    (
        capacity(),
        capacity(),
        proptest::collection::vec(op(peer_path(), peer_capacity(), (3, 3, 3)), 1..150),
    )
        .prop_map(|(wan, dp, ops)| Workload {
            capacities: vec![wan, dp],
            ops,
        })
}
