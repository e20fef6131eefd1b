//! Lockstep property tests: the fast model and the reference model driven by the
//! same random workload must agree (max-min fairness of the fast model alone is
//! checked in `tests_maxmin.rs`).

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

pub(super) fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn next_of(a: &dyn FlowNetwork, b: &dyn FlowNetwork) -> Option<SimTime> {
    match (a.next_completion(), b.next_completion()) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// The size of the flow of tag `k` (tags are the indices of the start ops).
fn size(w: &Workload, k: u64) -> u64 {
    match w.ops.get(k as usize) {
        Some(Op::Start { bytes, .. }) => *bytes,
        _ => 0,
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
    /// Pauses, cap changes, moves and cancels: the bound on byte disagreements
    /// per link (each may round the bytes received apart by one).
    stops: u64,
    /// Segments of each unfinished flow by tag (1, plus one per pause, cap change
    /// and move): the floor of each segment's bytes may fall apart by one between
    /// the models, so this bounds their disagreement on the bytes it received.
    segments: BTreeMap<u64, u64>,
    /// By link id: how far the fast model's count may run above `expected`
    /// (see [`Lockstep::cancel`]).
    slack: Vec<u64>,
    /// Tags cancelled in both models.
    cancelled: BTreeSet<u64>,
    /// Tags cancelled in one model and completed in the other (it was due at the
    /// cancel's µs in one model only: a 1 µs disagreement).
    odd: BTreeSet<u64>,
    /// Whether the models' histories have parted (a completion at different µs or
    /// an odd cancel): until then, they must hand out the same flow ids.
    diverged: bool,
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
        if self.slack.len() <= id as usize {
            self.slack.resize(id as usize + 1, 0);
        }
        self.slack[id as usize] = 0;
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
    /// off it (the fast model within its slack above, after cancels).
    fn check_link_bytes(&self, l: LinkId) -> Result<(), TestCaseError> {
        let (a, b) = (self.fast.net.link_bytes(l), self.slow.net.link_bytes(l));
        let sum = self.expected[l as usize];
        let slack = self.slack[l as usize];
        if sum != u64::MAX {
            prop_assert!(
                (sum..=sum + slack).contains(&a),
                "link {}: fast {} expected {} slack {}",
                l,
                a,
                sum,
                slack
            );
            prop_assert_eq!(b, sum, "link {}", l);
        }
        prop_assert!(
            a.abs_diff(b) <= self.stops + slack,
            "link {}: fast {} reference {}",
            l,
            a,
            b
        );
        Ok(())
    }

    /// `cancel_flow` of tag `k` (of `bytes`) at `t` on both models. Each returns
    /// what its `flow_received` read at `t` just before (when `t` was within its
    /// contract), and the two agree within a byte per segment; neither reports the
    /// flow again. Its links keep the bytes it received: the reference exactly;
    /// the fast model may have credited them more at the flow's stops (a class's
    /// count can run ahead of the exact progress by a fraction of a µs of service
    /// and must not dip: `Class::floor`), at most one µs of the link's capacity
    /// and two bytes of rounding per segment, which is the link's slack.
    fn cancel(&mut self, t: SimTime, k: u64, bytes: u64) -> Result<(), TestCaseError> {
        let (f, s) = (self.fast.ids[&k], self.slow.ids[&k]);
        let read = |net: &dyn FlowNetwork, id| {
            let within = net.now() <= t && net.next_completion().is_none_or(|n| t <= n);
            within.then(|| net.flow_received(t, id))
        };
        let (rf, rs) = (read(&self.fast.net, f), read(&self.slow.net, s));
        let a = self.fast.net.cancel_flow(t, f);
        let b = self.slow.net.cancel_flow(t, s);
        for (read, got, model) in [(rf, a, "fast"), (rs, b, "reference")] {
            if let (Some(read), Some(_)) = (read, got) {
                prop_assert_eq!(read, got, "{} model, flow {} at {}", model, k, t);
            }
        }
        let links = self.spec[&k].1.clone();
        let segments = self.segments[&k];
        match (a, b) {
            (Some(x), Some(y)) => {
                prop_assert!(x.abs_diff(y) <= segments, "flow {}: {} and {}", k, x, y);
                prop_assert!(x <= bytes && y <= bytes);
                self.cancelled.insert(k);
                self.spec.remove(&k);
                for &l in &links {
                    let l = l as usize;
                    let e = &mut self.expected[l];
                    if *e != u64::MAX {
                        *e = if x == y { *e - (bytes - x) } else { u64::MAX };
                    }
                    let us = self.links.capacity[l].div_ceil(8_000_000);
                    self.slack[l] += segments * (us + 2);
                }
            }
            // Completed in both at or before `t`: the next `advance` reports it.
            (None, None) => return Ok(()),
            _ => {
                // Due at `t` in one model only: completed there, cancelled in the
                // other (whose links then miss the rest of it).
                prop_assert!(!self.paused.contains(&k), "a paused flow completed");
                self.odd.insert(k);
                self.diverged = true;
                for &l in &links {
                    self.expected[l as usize] = u64::MAX;
                }
            }
        }
        self.paused.remove(&k);
        if a.is_some() {
            self.fast.ids.remove(&k);
            prop_assert!(self.fast.net.flow_received(t, f).is_none());
            prop_assert!(!self.fast.net.is_paused(f));
        }
        if b.is_some() {
            self.slow.ids.remove(&k);
            prop_assert!(self.slow.net.flow_received(t, s).is_none());
            prop_assert!(!self.slow.net.is_paused(s));
        }
        Ok(())
    }

    /// `flow_received` of every flow both models hold agrees within a byte per
    /// segment, at the clock and at the next completion (10 s on if none), grows
    /// with time, stays within the flow's size, and moves neither clock.
    fn check_received(&self, w: &Workload) -> Result<(), TestCaseError> {
        let clock = self.fast.net.now();
        let next = next_of(&self.fast.net, &self.slow.net);
        // A completion held at the clock may be in one model only.
        let held = next.is_some_and(|n| n <= clock);
        let later = next.unwrap_or(clock + 10_000_000).max(clock);
        for (k, &f) in &self.fast.ids {
            let Some(&s) = self.slow.ids.get(k) else {
                continue;
            };
            let mut last = (0, 0);
            for now in [clock, later] {
                let a = self.fast.net.flow_received(now, f);
                let b = self.slow.net.flow_received(now, s);
                let (Some(a), Some(b)) = (a, b) else {
                    prop_assert!(
                        held,
                        "flow {} at {}: fast {:?} reference {:?}",
                        k,
                        now,
                        a,
                        b
                    );
                    continue;
                };
                prop_assert!(
                    a.abs_diff(b) <= self.segments[k],
                    "flow {} at {}: fast {} reference {}",
                    k,
                    now,
                    a,
                    b
                );
                prop_assert!(a >= last.0 && b >= last.1, "flow {} went back", k);
                prop_assert!(a <= size(w, *k) && b <= size(w, *k));
                last = (a, b);
            }
        }
        prop_assert_eq!(self.fast.net.now(), clock);
        prop_assert_eq!(self.slow.net.now(), clock);
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
            .filter(|o| {
                matches!(
                    o,
                    Op::Pause { .. } | Op::SetCap { .. } | Op::Relink { .. } | Op::Cancel { .. }
                )
            })
            .count() as u64,
        segments: BTreeMap::new(),
        slack: Vec::new(),
        cancelled: BTreeSet::new(),
        odd: BTreeSet::new(),
        diverged: false,
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
                if !d.diverged {
                    // Reported and cancelled ids come back in the same order.
                    prop_assert_eq!(f, s, "flow id of tag {}", tag);
                }
                d.segments.insert(tag, 1);
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
                    *d.segments.entry(k).or_default() += 1;
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
                    *d.segments.entry(k).or_default() += 1;
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
                    *d.segments.entry(k).or_default() += 1;
                } else if a {
                    // The other model completed it at this µs: move it back.
                    prop_assert!(d.fast.net.set_flow_links(t, d.fast.ids[&k], old_cap, &old));
                } else if b {
                    prop_assert!(d.slow.net.set_flow_links(t, d.slow.ids[&k], old_cap, &old));
                }
            }
            Op::Cancel { dt, which } => {
                t += dt;
                // Flows both models still hold, active or paused.
                let held = d.fast.ids.keys().filter(|k| d.slow.ids.contains_key(k));
                let Some(k) = nth(held.copied(), *which) else {
                    continue;
                };
                d.cancel(t, k, size(w, k))?;
            }
            Op::AddLink { capacity } => d.add_link(*capacity, false)?,
            Op::RemoveLink { dt, which } => {
                t += dt;
                d.remove_link(t, *which)?;
            }
        }
        d.check_received(w)?;
        if !d.diverged {
            let finished = |done: &BTreeMap<u64, Completion>| -> Vec<(u64, SimTime)> {
                done.values().map(|c| (c.tag, c.finished)).collect()
            };
            d.diverged = finished(&d.fast.done) != finished(&d.slow.done);
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
    // Every flow completed in both models, or was cancelled in both (never
    // reported), or (odd) was cancelled in one and completed in the other.
    for (tag, op) in w.ops.iter().enumerate() {
        let tag = tag as u64;
        if !matches!(op, Op::Start { .. }) {
            continue;
        }
        let (a, b) = (
            d.fast.done.contains_key(&tag),
            d.slow.done.contains_key(&tag),
        );
        if d.cancelled.contains(&tag) {
            prop_assert!(!a && !b, "cancelled flow {} reported", tag);
        } else if d.odd.contains(&tag) {
            prop_assert!(a != b, "flow {}", tag);
        } else {
            prop_assert!(a && b, "flow {} not reported", tag);
        }
    }
    for (tag, a) in &d.fast.done {
        let Some(b) = d.slow.done.get(tag) else {
            continue;
        };
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
}
