//! Lockstep property tests: the fast model and the reference model driven by the
//! same random workload must agree; and the fast model's rates must be max-min fair.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::tests_workload::{Links, Op, Workload, nth, peer_workload, workload};
use super::*;

/// One model under test with what the driver knows about it.
struct Side<N> {
    net: N,
    done: BTreeMap<u64, Completion>,
    /// Active or paused flow ids by tag.
    ids: BTreeMap<u64, FlowId>,
    /// Last byte count seen per link id.
    bytes: Vec<u64>,
}

impl<N: FlowNetwork> Side<N> {
    fn new(net: N) -> Self {
        Side {
            net,
            done: BTreeMap::new(),
            ids: BTreeMap::new(),
            bytes: Vec::new(),
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

    /// Link byte counts never decrease (a link's count restarts from 0 when it is
    /// removed: see [`Side::forget`]).
    fn check_bytes(&mut self) -> Result<(), TestCaseError> {
        for (l, last) in self.bytes.iter_mut().enumerate() {
            let now = self.net.link_bytes(l as LinkId);
            prop_assert!(now >= *last, "link {} went from {} to {}", l, *last, now);
            *last = now;
        }
        Ok(())
    }

    /// Starts the byte history of link `l` afresh (added or removed).
    fn forget(&mut self, l: LinkId) {
        let l = l as usize;
        if self.bytes.len() <= l {
            self.bytes.resize(l + 1, 0);
        }
        self.bytes[l] = 0;
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

/// The driver's view of both models: links, and what each unfinished flow was
/// last given.
struct Lockstep {
    fast: Side<FairShareNet>,
    slow: Side<ReferenceNet>,
    links: Links,
    /// By link id: the exact bytes it must have carried, or `u64::MAX` once a flow
    /// moved on or off it part-way (the split is then the bytes received at the
    /// move, which the models may round apart by a byte).
    expected: Vec<u64>,
    /// Cap and links of each unfinished flow by tag.
    spec: BTreeMap<u64, (u64, Vec<LinkId>)>,
    paused: BTreeSet<u64>,
    /// Pauses, cap changes and moves: the bound on byte disagreements per link.
    stops: u64,
}

impl Lockstep {
    fn add_link(&mut self, capacity: u64, infra: bool) -> Result<(), TestCaseError> {
        let id = self.fast.net.add_link(capacity);
        prop_assert_eq!(id, self.slow.net.add_link(capacity));
        prop_assert_eq!(self.fast.net.link_bytes(id), 0);
        prop_assert_eq!(self.slow.net.link_bytes(id), 0);
        self.links.added(id, capacity, infra);
        if self.expected.len() <= id as usize {
            self.expected.resize(id as usize + 1, 0);
        }
        self.expected[id as usize] = 0;
        self.fast.forget(id);
        self.slow.forget(id);
        Ok(())
    }

    /// A flow moved from `old` links to `new` ones part-way: the links in only one
    /// of the two carried a part of it.
    fn moved(&mut self, old: &[LinkId], new: &[LinkId]) {
        for &l in old.iter().filter(|l| !new.contains(l)) {
            self.expected[l as usize] = u64::MAX;
        }
        for &l in new.iter().filter(|l| !old.contains(l)) {
            self.expected[l as usize] = u64::MAX;
        }
    }

    /// Both models' byte counts of link `l` agree, exactly when no flow moved on or
    /// off it.
    fn check_link_bytes(&self, l: LinkId) -> Result<(), TestCaseError> {
        let (a, b) = (self.fast.net.link_bytes(l), self.slow.net.link_bytes(l));
        let sum = self.expected[l as usize];
        if sum != u64::MAX {
            prop_assert_eq!(a, sum, "link {}", l);
            prop_assert_eq!(b, sum, "link {}", l);
        }
        prop_assert!(
            a.abs_diff(b) <= self.stops,
            "link {}: fast {} reference {}",
            l,
            a,
            b
        );
        Ok(())
    }

    /// `remove_link` on both models at `t`: refused exactly when a flow both still
    /// run (or hold paused) crosses the link; skipped when one model has completed
    /// such a flow and the other not (they may differ by a µs).
    fn remove_link(&mut self, t: SimTime, which: usize) -> Result<(), TestCaseError> {
        self.fast.advance(t)?;
        self.slow.advance(t)?;
        let Some(l) = self.links.pick(which) else {
            return Ok(());
        };
        let crossing = |ids: &BTreeMap<u64, FlowId>| -> BTreeSet<u64> {
            ids.keys()
                .filter(|k| self.spec[k].1.contains(&l))
                .copied()
                .collect()
        };
        let (a, b) = (crossing(&self.fast.ids), crossing(&self.slow.ids));
        if a != b {
            return Ok(());
        }
        if a.is_empty() {
            // Everything that crossed it has completed or moved off.
            self.check_link_bytes(l)?;
        }
        let removed = self.fast.net.remove_link(l);
        prop_assert_eq!(removed, a.is_empty(), "fast model, link {}", l);
        prop_assert_eq!(
            self.slow.net.remove_link(l),
            removed,
            "reference, link {}",
            l
        );
        if removed {
            self.links.removed(l);
            self.fast.forget(l);
            self.slow.forget(l);
            for net in [
                &mut self.fast.net as &mut dyn FlowNetwork,
                &mut self.slow.net,
            ] {
                prop_assert_eq!(net.link_bytes(l), 0);
                prop_assert_eq!(net.link_active(l), 0);
                prop_assert!(!net.remove_link(l));
            }
        }
        Ok(())
    }
}

/// Drives both models through `w` and checks that they agree.
fn lockstep(w: &Workload) -> Result<(), TestCaseError> {
    let mut d = Lockstep {
        fast: Side::new(FairShareNet::new()),
        slow: Side::new(ReferenceNet::new()),
        links: Links::default(),
        expected: Vec::new(),
        spec: BTreeMap::new(),
        paused: BTreeSet::new(),
        stops: w
            .ops
            .iter()
            .filter(|o| matches!(o, Op::Pause { .. } | Op::SetCap { .. } | Op::Relink { .. }))
            .count() as u64,
    };
    for &c in &w.capacities {
        d.add_link(c, true)?;
    }
    let mut t = 0;
    for (tag, op) in w.ops.iter().enumerate() {
        let tag = tag as u64;
        // Flows both models still run (a completion may differ by 1 µs).
        let common: Vec<u64> = d
            .fast
            .ids
            .keys()
            .filter(|k| d.slow.ids.contains_key(k) && !d.paused.contains(k))
            .copied()
            .collect();
        match op {
            Op::Start {
                dt,
                bytes,
                cap,
                path,
            } => {
                t += dt;
                let ls = d.links.resolve(path);
                for &l in &ls {
                    let e = &mut d.expected[l as usize];
                    *e = e.saturating_add(*bytes);
                }
                let f = d.fast.net.start_flow(t, *bytes, *cap, &ls, tag);
                let s = d.slow.net.start_flow(t, *bytes, *cap, &ls, tag);
                d.fast.ids.insert(tag, f);
                d.slow.ids.insert(tag, s);
                d.spec.insert(tag, (*cap, ls));
            }
            Op::Advance { dt, stepwise } => {
                t += dt;
                if *stepwise {
                    while let Some(n) = next_of(&d.fast.net, &d.slow.net).filter(|&n| n <= t) {
                        d.fast.advance(n)?;
                        d.slow.advance(n)?;
                    }
                }
                d.fast.advance(t)?;
                d.slow.advance(t)?;
            }
            Op::Pause { dt, which } => {
                t += dt;
                let Some(k) = nth(common.iter().copied(), *which) else {
                    continue;
                };
                let a = d.fast.net.pause_flow(t, d.fast.ids[&k]);
                let b = d.slow.net.pause_flow(t, d.slow.ids[&k]);
                let (cap, ls) = d.spec[&k].clone();
                if a && b {
                    d.paused.insert(k);
                    prop_assert!(
                        d.fast.net.is_paused(d.fast.ids[&k])
                            && d.slow.net.is_paused(d.slow.ids[&k])
                    );
                } else if a {
                    // The other model completed it at this µs: undo.
                    prop_assert!(d.fast.net.resume_flow(t, d.fast.ids[&k], cap, &ls));
                } else if b {
                    prop_assert!(d.slow.net.resume_flow(t, d.slow.ids[&k], cap, &ls));
                }
            }
            Op::Resume {
                dt,
                which,
                cap,
                path,
            } => {
                t += dt;
                let Some(k) = nth(d.paused.iter().copied(), *which) else {
                    continue;
                };
                let ls = d.links.resolve(path);
                prop_assert!(d.fast.net.resume_flow(t, d.fast.ids[&k], *cap, &ls));
                prop_assert!(d.slow.net.resume_flow(t, d.slow.ids[&k], *cap, &ls));
                d.paused.remove(&k);
                let old = d.spec[&k].1.clone();
                d.moved(&old, &ls);
                d.spec.insert(k, (*cap, ls));
            }
            Op::SetCap { dt, which, cap } => {
                t += dt;
                let Some(k) = nth(common.iter().copied(), *which) else {
                    continue;
                };
                let a = d.fast.net.set_flow_cap(t, d.fast.ids[&k], *cap);
                let b = d.slow.net.set_flow_cap(t, d.slow.ids[&k], *cap);
                let old = d.spec[&k].0;
                if a && b {
                    d.spec.get_mut(&k).expect("known flow").0 = *cap;
                } else if a {
                    prop_assert!(d.fast.net.set_flow_cap(t, d.fast.ids[&k], old));
                } else if b {
                    prop_assert!(d.slow.net.set_flow_cap(t, d.slow.ids[&k], old));
                }
            }
            Op::Relink {
                dt,
                which,
                cap,
                path,
            } => {
                t += dt;
                let Some(k) = nth(common.iter().copied(), *which) else {
                    continue;
                };
                let ls = d.links.resolve(path);
                let a = d.fast.net.set_flow_links(t, d.fast.ids[&k], *cap, &ls);
                let b = d.slow.net.set_flow_links(t, d.slow.ids[&k], *cap, &ls);
                let (old_cap, old) = d.spec[&k].clone();
                if a || b {
                    d.moved(&old, &ls);
                }
                if a && b {
                    d.spec.insert(k, (*cap, ls));
                } else if a {
                    // The other model completed it at this µs: move it back.
                    prop_assert!(d.fast.net.set_flow_links(t, d.fast.ids[&k], old_cap, &old));
                } else if b {
                    prop_assert!(d.slow.net.set_flow_links(t, d.slow.ids[&k], old_cap, &old));
                }
            }
            Op::AddLink { capacity } => d.add_link(*capacity, false)?,
            Op::RemoveLink { dt, which } => {
                t += dt;
                d.remove_link(t, *which)?;
            }
        }
        // A paused flow is never reported complete.
        for k in &d.paused {
            prop_assert!(d.fast.ids.contains_key(k) && d.slow.ids.contains_key(k));
        }
        for k in d.fast.done.keys() {
            d.spec.remove(k);
        }
        d.fast.check_bytes()?;
        d.slow.check_bytes()?;
        prop_assert_eq!(d.fast.net.now(), d.slow.net.now());
        // Rates can only be compared while both models have the same active flows
        // (a 1 µs disagreement on a completion time makes them differ for 1 µs).
        if d.fast.ids.keys().eq(d.slow.ids.keys()) {
            prop_assert_eq!(d.fast.net.active_flows(), d.slow.net.active_flows());
            for (tag, &f) in &d.fast.ids {
                let (a, b) = (
                    d.fast.net.flow_rate_bps(f),
                    d.slow.net.flow_rate_bps(d.slow.ids[tag]),
                );
                prop_assert!(close(a, b), "flow {}: fast {} reference {}", tag, a, b);
            }
            for l in d.links.ids() {
                prop_assert_eq!(d.fast.net.link_active(l), d.slow.net.link_active(l));
                let (a, b) = (d.fast.net.link_rate_bps(l), d.slow.net.link_rate_bps(l));
                prop_assert!(close(a, b), "link {}: fast {} reference {}", l, a, b);
            }
        }
    }
    // Whatever is paused resumes where it stopped, so everything completes.
    for k in std::mem::take(&mut d.paused) {
        let (cap, ls) = d.spec[&k].clone();
        prop_assert!(d.fast.net.resume_flow(t, d.fast.ids[&k], cap, &ls));
        prop_assert!(d.slow.net.resume_flow(t, d.slow.ids[&k], cap, &ls));
    }
    while let Some(n) = next_of(&d.fast.net, &d.slow.net) {
        d.fast.advance(n)?;
        d.slow.advance(n)?;
    }
    d.fast.check_bytes()?;
    d.slow.check_bytes()?;
    prop_assert!(d.fast.ids.is_empty() && d.slow.ids.is_empty());
    prop_assert_eq!(
        d.fast.done.len(),
        w.ops
            .iter()
            .filter(|o| matches!(o, Op::Start { .. }))
            .count()
    );
    prop_assert!(d.fast.done.keys().eq(d.slow.done.keys()));
    for (tag, a) in &d.fast.done {
        let b = &d.slow.done[tag];
        prop_assert_eq!((a.tag, a.bytes, a.started), (b.tag, b.bytes, b.started));
        prop_assert!(
            a.finished.abs_diff(b.finished) <= 1,
            "flow {}: fast {} reference {}",
            tag,
            a.finished,
            b.finished
        );
    }
    for l in d.links.alive.clone() {
        d.check_link_bytes(l)?;
    }
    // Every link can go now, and the ids come back last removed first.
    let alive = d.links.alive.clone();
    while let Some(&l) = d.links.alive.first() {
        d.remove_link(t, 0)?;
        prop_assert!(d.links.alive.first() != Some(&l), "link {} kept", l);
    }
    for &l in alive.iter().rev() {
        let capacity = 1_000_000;
        prop_assert_eq!(d.fast.net.add_link(capacity), l);
        prop_assert_eq!(d.slow.net.add_link(capacity), l);
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

/// Runs `w` on the fast model alone and checks max-min fairness after every op.
fn max_min_throughout(w: &Workload) -> Result<(), TestCaseError> {
    let mut net = FairShareNet::new();
    let mut links = Links::default();
    for &c in &w.capacities {
        links.added(net.add_link(c), c, true);
    }
    // Unfinished flows by tag: id, cap, links.
    let mut active = BTreeMap::new();
    let mut paused = BTreeMap::new();
    let mut t = 0;
    let mut out = Vec::new();
    for (tag, op) in w.ops.iter().enumerate() {
        match op {
            Op::Start {
                dt,
                bytes,
                cap,
                path,
            } => {
                t += dt;
                let ls = links.resolve(path);
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
                    let flow = active.remove(&k).expect("active");
                    paused.insert(k, flow);
                }
            }
            Op::Resume {
                dt,
                which,
                cap,
                path,
            } => {
                t += dt;
                if let Some(k) = nth(paused.keys().copied(), *which) {
                    let (f, _, _) = paused.remove(&k).expect("paused");
                    let ls = links.resolve(path);
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
            Op::Relink {
                dt,
                which,
                cap,
                path,
            } => {
                t += dt;
                let ls = links.resolve(path);
                if let Some(k) = nth(active.keys().copied(), *which)
                    && net.set_flow_links(t, active[&k].0, *cap, &ls)
                {
                    let flow = active.get_mut(&k).expect("active");
                    (flow.1, flow.2) = (*cap, ls);
                }
            }
            Op::AddLink { capacity } => links.added(net.add_link(*capacity), *capacity, false),
            Op::RemoveLink { dt, which } => {
                t += dt;
                net.advance(t, &mut out);
                if let Some(l) = links.pick(*which) {
                    // Completions `advance` just reported do not cross it any more.
                    let done: BTreeSet<u64> = out.iter().map(|c| c.tag).collect();
                    let crossed = active
                        .iter()
                        .chain(&paused)
                        .any(|(k, (_, _, ls))| !done.contains(k) && ls.contains(&l));
                    prop_assert_eq!(net.remove_link(l), !crossed);
                    if !crossed {
                        links.removed(l);
                    }
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
        check_max_min(&net, &links.capacity, &active)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn fast_and_reference_agree(w in workload()) {
        lockstep(&w)?;
    }

    /// Peer topologies: peer links created and removed on the fly, uploads over
    /// one or two peer links, serving peers' own downloads over their link, the
    /// WAN and the DP, flows moved between them, pauses.
    #[test]
    fn fast_and_reference_agree_on_peer_links(w in peer_workload()) {
        lockstep(&w)?;
    }

    #[test]
    fn fast_model_is_max_min_fair(w in workload()) {
        max_min_throughout(&w)?;
    }

    #[test]
    fn fast_model_is_max_min_fair_with_peer_links(w in peer_workload()) {
        max_min_throughout(&w)?;
    }
}
