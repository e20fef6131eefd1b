//! Lockstep property tests: the fast model and the reference model driven by the
//! same random workload must agree; and the fast model's rates must be max-min fair.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// One call on the models.
#[derive(Debug, Clone)]
enum Op {
    /// `start_flow` `dt` µs after the previous op.
    Start {
        dt: SimTime,
        bytes: u64,
        cap: u64,
        links: Vec<u32>,
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
        links: Vec<u32>,
    },
    /// `set_flow_cap` of the `which`-th active flow.
    SetCap { dt: SimTime, which: usize, cap: u64 },
}

#[derive(Debug, Clone)]
struct Workload {
    capacities: Vec<u64>,
    ops: Vec<Op>,
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

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (gap(), bytes(), cap(), proptest::collection::vec(0u32..5, 0..=3))
            .prop_map(|(dt, bytes, cap, links)| Op::Start { dt, bytes, cap, links }),
        2 => (gap(), any::<bool>()).prop_map(|(dt, stepwise)| Op::Advance { dt, stepwise }),
        1 => (gap(), any::<usize>()).prop_map(|(dt, which)| Op::Pause { dt, which }),
        1 => (gap(), any::<usize>(), cap(), proptest::collection::vec(0u32..5, 0..=3))
            .prop_map(|(dt, which, cap, links)| Op::Resume { dt, which, cap, links }),
        1 => (gap(), any::<usize>(), cap()).prop_map(|(dt, which, cap)| Op::SetCap { dt, which, cap }),
    ]
}

/// The `which`-th (modulo) element of a set of tags.
fn nth(tags: impl Iterator<Item = u64> + Clone, which: usize) -> Option<u64> {
    let n = tags.clone().count();
    if n == 0 {
        return None;
    }
    tags.clone().nth(which % n)
}

/// Links of a workload op, reduced to the workload's links, sorted and distinct.
fn link_ids(picked: &[u32], links: usize) -> Vec<LinkId> {
    let mut ls: Vec<LinkId> = picked.iter().map(|&l| l % links as u32).collect();
    ls.sort_unstable();
    ls.dedup();
    ls
}

fn workload() -> impl Strategy<Value = Workload> {
    (
        proptest::collection::vec(capacity(), 1..=5),
        proptest::collection::vec(op(), 1..100),
    )
        .prop_map(|(capacities, ops)| Workload { capacities, ops })
}

/// One model under test with what the driver knows about it.
struct Side<N> {
    net: N,
    done: BTreeMap<u64, Completion>,
    /// Active flow ids by tag.
    ids: BTreeMap<u64, FlowId>,
    bytes: Vec<u64>,
}

impl<N: FlowNetwork> Side<N> {
    fn new(net: N, links: usize) -> Self {
        Side {
            net,
            done: BTreeMap::new(),
            ids: BTreeMap::new(),
            bytes: vec![0; links],
        }
    }

    fn advance(&mut self, now: SimTime) -> Result<(), TestCaseError> {
        let mut out = Vec::new();
        self.net.advance(now, &mut out);
        for pair in out.windows(2) {
            // By finish time, then start order (tags are given in start order).
            prop_assert!((pair[0].finished, pair[0].tag) < (pair[1].finished, pair[1].tag));
        }
        for c in out {
            prop_assert!(c.finished <= self.net.now());
            prop_assert_eq!(self.ids.remove(&c.tag), Some(c.flow));
            prop_assert!(self.done.insert(c.tag, c).is_none());
        }
        Ok(())
    }

    /// Link byte counts never decrease.
    fn check_bytes(&mut self) -> Result<(), TestCaseError> {
        for (l, last) in self.bytes.iter_mut().enumerate() {
            let now = self.net.link_bytes(l as LinkId);
            prop_assert!(now >= *last, "link {} went from {} to {}", l, *last, now);
            *last = now;
        }
        Ok(())
    }
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn next_of(a: &dyn FlowNetwork, b: &dyn FlowNetwork) -> Option<SimTime> {
    match (a.next_completion(), b.next_completion()) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Drives both models through `w` and checks that they agree.
fn lockstep(w: &Workload) -> Result<(), TestCaseError> {
    let links = w.capacities.len();
    let mut fast = Side::new(FairShareNet::new(), links);
    let mut slow = Side::new(ReferenceNet::new(), links);
    for &c in &w.capacities {
        prop_assert_eq!(fast.net.add_link(c), slow.net.add_link(c));
    }
    let mut expected = vec![0u64; links];
    let mut t = 0;
    // What each unfinished flow was last given (cap, links), and which are paused.
    let mut spec: BTreeMap<u64, (u64, Vec<LinkId>)> = BTreeMap::new();
    let mut paused: std::collections::BTreeSet<u64> = Default::default();
    let stops = w
        .ops
        .iter()
        .filter(|o| matches!(o, Op::Pause { .. } | Op::SetCap { .. }))
        .count() as u64;
    for (tag, op) in w.ops.iter().enumerate() {
        let tag = tag as u64;
        // Flows both models still run (a completion may differ by 1 µs).
        let common: Vec<u64> = fast
            .ids
            .keys()
            .filter(|k| slow.ids.contains_key(k) && !paused.contains(k))
            .copied()
            .collect();
        match op {
            Op::Start {
                dt,
                bytes,
                cap,
                links: picked,
            } => {
                t += dt;
                let ls = link_ids(picked, links);
                for &l in &ls {
                    expected[l as usize] = expected[l as usize].saturating_add(*bytes);
                }
                let f = fast.net.start_flow(t, *bytes, *cap, &ls, tag);
                let s = slow.net.start_flow(t, *bytes, *cap, &ls, tag);
                fast.ids.insert(tag, f);
                slow.ids.insert(tag, s);
                spec.insert(tag, (*cap, ls));
            }
            Op::Advance { dt, stepwise } => {
                t += dt;
                if *stepwise {
                    while let Some(n) = next_of(&fast.net, &slow.net).filter(|&n| n <= t) {
                        fast.advance(n)?;
                        slow.advance(n)?;
                    }
                }
                fast.advance(t)?;
                slow.advance(t)?;
            }
            Op::Pause { dt, which } => {
                t += dt;
                let Some(k) = nth(common.iter().copied(), *which) else {
                    continue;
                };
                let a = fast.net.pause_flow(t, fast.ids[&k]);
                let b = slow.net.pause_flow(t, slow.ids[&k]);
                let (cap, ls) = spec[&k].clone();
                if a && b {
                    paused.insert(k);
                    prop_assert!(
                        fast.net.is_paused(fast.ids[&k]) && slow.net.is_paused(slow.ids[&k])
                    );
                } else if a {
                    // The other model completed it at this µs: undo.
                    prop_assert!(fast.net.resume_flow(t, fast.ids[&k], cap, &ls));
                } else if b {
                    prop_assert!(slow.net.resume_flow(t, slow.ids[&k], cap, &ls));
                }
            }
            Op::Resume {
                dt,
                which,
                cap,
                links: picked,
            } => {
                t += dt;
                let Some(k) = nth(paused.iter().copied(), *which) else {
                    continue;
                };
                let ls = link_ids(picked, links);
                prop_assert!(fast.net.resume_flow(t, fast.ids[&k], *cap, &ls));
                prop_assert!(slow.net.resume_flow(t, slow.ids[&k], *cap, &ls));
                paused.remove(&k);
                // The bytes still to come cross the new links; the old ones carried
                // the rest, so the expected totals per link are no longer simple sums.
                expected.fill(u64::MAX);
                spec.insert(k, (*cap, ls));
            }
            Op::SetCap { dt, which, cap } => {
                t += dt;
                let Some(k) = nth(common.iter().copied(), *which) else {
                    continue;
                };
                let a = fast.net.set_flow_cap(t, fast.ids[&k], *cap);
                let b = slow.net.set_flow_cap(t, slow.ids[&k], *cap);
                let old = spec[&k].0;
                if a && b {
                    spec.get_mut(&k).expect("known flow").0 = *cap;
                } else if a {
                    prop_assert!(fast.net.set_flow_cap(t, fast.ids[&k], old));
                } else if b {
                    prop_assert!(slow.net.set_flow_cap(t, slow.ids[&k], old));
                }
            }
        }
        // A paused flow is never reported complete.
        for k in &paused {
            prop_assert!(fast.ids.contains_key(k) && slow.ids.contains_key(k));
        }
        for k in fast.done.keys() {
            spec.remove(k);
        }
        fast.check_bytes()?;
        slow.check_bytes()?;
        prop_assert_eq!(fast.net.now(), slow.net.now());
        // Rates can only be compared while both models have the same active flows
        // (a 1 µs disagreement on a completion time makes them differ for 1 µs).
        if fast.ids.keys().eq(slow.ids.keys()) {
            prop_assert_eq!(fast.net.active_flows(), slow.net.active_flows());
            for (tag, &f) in &fast.ids {
                let (a, b) = (
                    fast.net.flow_rate_bps(f),
                    slow.net.flow_rate_bps(slow.ids[tag]),
                );
                prop_assert!(close(a, b), "flow {}: fast {} reference {}", tag, a, b);
            }
            for l in 0..links as LinkId {
                prop_assert_eq!(fast.net.link_active(l), slow.net.link_active(l));
                let (a, b) = (fast.net.link_rate_bps(l), slow.net.link_rate_bps(l));
                prop_assert!(close(a, b), "link {}: fast {} reference {}", l, a, b);
            }
        }
    }
    // Whatever is paused resumes where it stopped, so everything completes.
    for k in std::mem::take(&mut paused) {
        let (cap, ls) = spec[&k].clone();
        prop_assert!(fast.net.resume_flow(t, fast.ids[&k], cap, &ls));
        prop_assert!(slow.net.resume_flow(t, slow.ids[&k], cap, &ls));
    }
    while let Some(n) = next_of(&fast.net, &slow.net) {
        fast.advance(n)?;
        slow.advance(n)?;
    }
    fast.check_bytes()?;
    slow.check_bytes()?;
    prop_assert!(fast.ids.is_empty() && slow.ids.is_empty());
    prop_assert_eq!(
        fast.done.len(),
        w.ops
            .iter()
            .filter(|o| matches!(o, Op::Start { .. }))
            .count()
    );
    prop_assert!(fast.done.keys().eq(slow.done.keys()));
    for (tag, a) in &fast.done {
        let b = &slow.done[tag];
        prop_assert_eq!((a.tag, a.bytes, a.started), (b.tag, b.bytes, b.started));
        prop_assert!(
            a.finished.abs_diff(b.finished) <= 1,
            "flow {}: fast {} reference {}",
            tag,
            a.finished,
            b.finished
        );
    }
    for (l, &sum) in expected.iter().enumerate() {
        // Without a resume onto other links, each link carried exactly the sizes
        // of the flows that crossed it. Otherwise the split between the old links
        // and the new ones is the whole bytes received at each pause, which the
        // models may round apart by a byte.
        let (a, b) = (
            fast.net.link_bytes(l as LinkId),
            slow.net.link_bytes(l as LinkId),
        );
        if sum != u64::MAX {
            prop_assert_eq!(a, sum);
            prop_assert_eq!(b, sum);
        }
        prop_assert!(
            a.abs_diff(b) <= stops,
            "link {}: fast {} reference {}",
            l,
            a,
            b
        );
    }
    Ok(())
}

/// Checks that every active flow of the fast model is bottlenecked: at its cap, or
/// on a saturated link where no flow is faster; and that no cap or link is exceeded.
fn check_max_min(
    net: &FairShareNet,
    capacities: &[u64],
    active: &BTreeMap<u64, (FlowId, u64, Vec<LinkId>)>,
) -> Result<(), TestCaseError> {
    let mut load = vec![0.0f64; capacities.len()];
    let mut fastest = vec![0.0f64; capacities.len()];
    for (f, _, links) in active.values() {
        let r = net.flow_rate_bps(*f);
        for &l in links {
            load[l as usize] += r;
            fastest[l as usize] = fastest[l as usize].max(r);
        }
    }
    for (l, &c) in capacities.iter().enumerate() {
        prop_assert!(
            load[l] <= c as f64 * (1.0 + 1e-9),
            "link {} over capacity",
            l
        );
        prop_assert!(close(load[l], net.link_rate_bps(l as LinkId)));
    }
    for (tag, (f, cap, links)) in active {
        let r = net.flow_rate_bps(*f);
        let cap = cap_f64(*cap);
        prop_assert!(r <= cap * (1.0 + 1e-9), "flow {} over its cap", tag);
        let at_cap = r == cap || r >= cap * (1.0 - 1e-9);
        let bottleneck = links.iter().any(|&l| {
            let l = l as usize;
            load[l] >= capacities[l] as f64 * (1.0 - 1e-9) && r >= fastest[l] * (1.0 - 1e-9)
        });
        prop_assert!(
            at_cap || bottleneck,
            "flow {} at {} is not bottlenecked",
            tag,
            r
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn fast_and_reference_agree(w in workload()) {
        lockstep(&w)?;
    }

    #[test]
    fn fast_model_is_max_min_fair(w in workload()) {
        let mut net = FairShareNet::new();
        for &c in &w.capacities {
            net.add_link(c);
        }
        let mut active = BTreeMap::new();
        let mut paused = BTreeMap::new();
        let mut t = 0;
        let mut out = Vec::new();
        for (tag, op) in w.ops.iter().enumerate() {
            match op {
                Op::Start { dt, bytes, cap, links } => {
                    t += dt;
                    let mut ls: Vec<LinkId> =
                        links.iter().map(|&l| l % w.capacities.len() as u32).collect();
                    ls.sort_unstable();
                    ls.dedup();
                    let f = net.start_flow(t, *bytes, *cap, &ls, tag as u64);
                    active.insert(tag as u64, (f, *cap, ls));
                }
                Op::Advance { dt, .. } => {
                    t += dt;
                    net.advance(t, &mut out);
                }
                Op::Pause { dt, which } => {
                    t += dt;
                    if let Some(k) = nth(active.keys().copied(), *which)
                        && net.pause_flow(t, active[&k].0)
                    {
                        let (f, cap, _) = active.remove(&k).expect("active");
                        paused.insert(k, (f, cap));
                    }
                }
                Op::Resume { dt, which, cap, links } => {
                    t += dt;
                    if let Some(k) = nth(paused.keys().copied(), *which) {
                        let (f, _) = paused.remove(&k).expect("paused");
                        let ls = link_ids(links, w.capacities.len());
                        prop_assert!(net.resume_flow(t, f, *cap, &ls));
                        active.insert(k, (f, *cap, ls));
                    }
                }
                Op::SetCap { dt, which, cap } => {
                    t += dt;
                    if let Some(k) = nth(active.keys().copied(), *which)
                        && net.set_flow_cap(t, active[&k].0, *cap)
                    {
                        active.get_mut(&k).expect("active").1 = *cap;
                    }
                }
            }
            // Reported or held completions leave the active set.
            let mut held = Vec::new();
            if net.next_completion().is_some_and(|n| n <= net.now()) {
                net.advance(net.now(), &mut held);
            }
            for c in out.drain(..).chain(held) {
                active.remove(&c.tag);
            }
            prop_assert_eq!(net.active_flows(), active.len());
            check_max_min(&net, &w.capacities, &active)?;
        }
    }
}
