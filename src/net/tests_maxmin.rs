//! Property tests of the fast model alone: after every call of a random
//! workload, its rates are max-min fair (every flow is at its cap or on a
//! saturated link where no flow is faster) and no cap or link is exceeded.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::tests_lockstep::close;
use super::tests_workload::{Links, Op, Workload, nth, peer_workload, workload};
use super::*;

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
            Op::Cancel { dt, which } => {
                t += dt;
                let unfinished = active.keys().chain(paused.keys()).copied();
                if let Some(k) = nth(unfinished, *which) {
                    let f = active.get(&k).or(paused.get(&k)).expect("unfinished").0;
                    // None when it completed at or before `t` (then reported).
                    if net.cancel_flow(t, f).is_some() {
                        active.remove(&k);
                        paused.remove(&k);
                    }
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
    fn fast_model_is_max_min_fair(w in workload()) {
        max_min_throughout(&w)?;
    }

    #[test]
    fn fast_model_is_max_min_fair_with_peer_links(w in peer_workload()) {
        max_min_throughout(&w)?;
    }
}
