//! A merged folder of replications describes *one* rollout (CONTRACT section 8).
//!
//! R replications of a 5,000-client fleet are R possible futures of the same 5,000
//! machines, not a 5R-client fleet: headlining their sum ("15,000 clients") misleads
//! the reader. So the merged `summary.json` holds, for `clients`, `outcomes`,
//! `failures_by_code`, `bytes`, `events` and every site, the mean per rollout
//! (rounded to whole clients and bytes), and under `replications` the exact means,
//! their 95% Student-t half-widths ([`super::stats::mean_ci95`]) and the sums over all
//! runs. The per-bucket and per-row files of the merge (`timeline.csv`,
//! `failures.csv`, `steps.csv`) are means per rollout as well, so every chart of the
//! report agrees with the headline.
//!
//! Load-test shards are parts of one test, not replications: they still add up and
//! never pass through here.

use std::collections::{BTreeMap, BTreeSet};

use crate::output::summary::{ReplicationsJson, SiteJson, Summary, WanJson};

use super::table::{flatten, point_stats};

/// `sum / n` rounded to the nearest whole number (halves up), exactly in integers.
pub fn mean_count(sum: u64, n: u64) -> u64 {
    if n == 0 {
        return sum;
    }
    let (q, r) = (sum / n, sum % n);
    if r >= n - r { q + 1 } else { q }
}

/// Means of the parts of a whole (the outcomes of a fleet or a site) summed over
/// `n` runs, rounded so that they add up to the rounded mean of their sum (the whole:
/// a fleet's or site's clients, when the outcomes of every run add up to them).
///
/// Rounding each part on its own can miss: the means 63, 1.5 and 5.5 of a 70-client
/// site round to 63 + 2 + 6 = 71. Largest remainder (Hamilton's method) gives each
/// part its floor, then hands the missing units to the largest fractions, earlier
/// parts first on a tie, so the parts always add up and none is more than one
/// from its exact mean.
pub fn mean_parts<const K: usize>(sums: [u64; K], n: u64) -> [u64; K] {
    if n == 0 {
        return sums;
    }
    let total = mean_count(sums.iter().fold(0u64, |a, &b| a.saturating_add(b)), n);
    let mut parts = sums.map(|s| s / n);
    let given: u64 = parts.iter().sum();
    let mut order: Vec<(u64, usize)> = sums.iter().map(|&s| s % n).zip(0..).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let extra: BTreeSet<usize> = order
        .iter()
        .take(total.saturating_sub(given) as usize)
        .map(|&(_, i)| i)
        .collect();
    for (i, p) in parts.iter_mut().enumerate() {
        if extra.contains(&i) {
            *p += 1;
        }
    }
    parts
}

/// Per-bucket means of counts summed over `n` runs, rounded so that their running
/// total is the rounded mean of the running total: the buckets of a timeline still
/// add up to the rounded mean outcome.
pub fn mean_buckets(sums: &[u64], n: u64) -> Vec<u64> {
    let mut total = 0u64;
    let mut shown = 0u64;
    sums.iter()
        .map(|&s| {
            total = total.saturating_add(s);
            let now = mean_count(total, n);
            let d = now.saturating_sub(shown);
            shown = now;
            d
        })
        .collect()
}

/// Whether a figure of `summary.json` is a count or a byte total, which sum over
/// runs (as opposed to times, shares and peaks).
fn is_count(key: &str) -> bool {
    let head = ["clients", "events"];
    let prefixes = ["outcomes.", "failures_by_code.", "bytes."];
    if head.contains(&key) || prefixes.iter().any(|p| key.starts_with(p)) {
        return true;
    }
    key.starts_with("sites.")
        && (key.ends_with(".clients") || key.contains(".outcomes.") || key.contains(".bytes."))
}

/// Sites of one rollout: the mean of each count, the mean of each time when every
/// run reached it (else `null`, as for the fleet), the WAN link's capacity, its
/// highest peak and its mean busy time.
fn mean_sites(runs: &[Summary]) -> BTreeMap<String, SiteJson> {
    let n = runs.len() as u64;
    let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.sites.keys()).collect();
    let mut out = BTreeMap::new();
    for name in names {
        let each: Vec<SiteJson> = runs
            .iter()
            .map(|r| r.sites.get(name).cloned().unwrap_or_default())
            .collect();
        let sum = |f: &dyn Fn(&SiteJson) -> u64| {
            mean_count(each.iter().map(f).fold(0u64, u64::saturating_add), n)
        };
        let time = |f: &dyn Fn(&SiteJson) -> Option<f64>| {
            let xs: Option<Vec<f64>> = each.iter().map(f).collect();
            xs.map(|x| x.iter().sum::<f64>() / n.max(1) as f64)
        };
        let mut s = SiteJson {
            clients: sum(&|x| x.clients),
            ..SiteJson::default()
        };
        let total =
            |f: &dyn Fn(&SiteJson) -> u64| each.iter().map(f).fold(0u64, u64::saturating_add);
        let o = &mut s.outcomes;
        [
            o.succeeded,
            o.rolled_back,
            o.failed,
            o.in_progress,
            o.not_started,
        ] = mean_parts(
            [
                total(&|x| x.outcomes.succeeded),
                total(&|x| x.outcomes.rolled_back),
                total(&|x| x.outcomes.failed),
                total(&|x| x.outcomes.in_progress),
                total(&|x| x.outcomes.not_started),
            ],
            n,
        );
        s.compliance.p50_s = time(&|x| x.compliance.p50_s);
        s.compliance.p90_s = time(&|x| x.compliance.p90_s);
        s.compliance.p95_s = time(&|x| x.compliance.p95_s);
        let (succ, all) = each.iter().fold((0u64, 0u64), |(a, b), x| {
            (a + x.outcomes.succeeded, b + x.clients)
        });
        s.compliance.final_share = succ as f64 / all.max(1) as f64;
        s.bytes.total = sum(&|x| x.bytes.total);
        s.bytes.over_wan = sum(&|x| x.bytes.over_wan);
        s.bytes.from_peers = sum(&|x| x.bytes.from_peers);
        s.peers = each.iter().any(|x| x.peers);
        let wans: Vec<&WanJson> = each.iter().filter_map(|x| x.wan.as_ref()).collect();
        s.wan = wans.first().map(|w| WanJson {
            capacity_bps: w.capacity_bps,
            peak_bps: wans.iter().map(|w| w.peak_bps).fold(0.0, f64::max),
            busy_s: wans.iter().map(|w| w.busy_s).sum::<f64>() / n.max(1) as f64,
        });
        out.insert(name.clone(), s);
    }
    out
}

/// Turns `merged`, whose counts and bytes are sums over `runs`, into one rollout:
/// counts and bytes become rounded means, sites are averaged, and `replications`
/// records the exact means, their 95% half-widths and the sums.
pub fn one_rollout(merged: &mut Summary, runs: &[Summary]) {
    let n = runs.len() as u64;
    let figures: Vec<_> = runs
        .iter()
        .map(|r| {
            serde_json::to_value(r)
                .map(|v| flatten(&v))
                .unwrap_or_default()
        })
        .collect();
    let keys: BTreeSet<String> = figures.iter().flat_map(|f| f.keys().cloned()).collect();
    let mut mean = BTreeMap::new();
    let mut ci95 = BTreeMap::new();
    for (k, stat) in point_stats(&figures, &keys) {
        if let Some((m, h)) = stat {
            mean.insert(k.clone(), m);
            ci95.insert(k, h);
        }
    }
    let sums: BTreeMap<String, u64> = keys
        .iter()
        .filter(|k| is_count(k))
        .map(|k| {
            let s = figures
                .iter()
                .filter_map(|f| f.get(k).copied().flatten())
                .map(|x| x as u64)
                .fold(0u64, u64::saturating_add);
            (k.clone(), s)
        })
        .collect();
    let m = |x: &mut u64| *x = mean_count(*x, n);
    m(&mut merged.clients);
    m(&mut merged.events);
    let o = &mut merged.outcomes;
    [
        o.succeeded,
        o.rolled_back,
        o.failed,
        o.in_progress,
        o.not_started,
    ] = mean_parts(
        [
            o.succeeded,
            o.rolled_back,
            o.failed,
            o.in_progress,
            o.not_started,
        ],
        n,
    );
    merged.failures_by_code.values_mut().for_each(m);
    let b = &mut merged.bytes;
    let src = &mut b.by_source;
    for x in [&mut src.dp, &mut src.peer_cache, &mut src.branchcache] {
        m(x);
    }
    for x in [&mut b.total, &mut b.precache, &mut b.on_demand] {
        m(x);
    }
    b.by_dp.values_mut().for_each(m);
    b.by_kind.values_mut().for_each(m);
    merged.sites = mean_sites(runs);
    merged.replications = Some(ReplicationsJson {
        runs: n,
        mean,
        ci95,
        sums,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_round_half_up_in_integers() {
        assert_eq!(mean_count(15_000, 3), 5_000);
        assert_eq!(mean_count(5, 2), 3);
        assert_eq!(mean_count(4, 3), 1);
        assert_eq!(mean_count(u64::MAX, 1), u64::MAX);
    }

    #[test]
    fn outcome_means_add_up_to_the_mean_whole() {
        // Two runs of a 70-client site: 63/1.5/5.5 rounded alone would be 71.
        let sums = [126, 3, 11, 0, 0];
        let parts = mean_parts(sums, 2);
        assert_eq!(parts.iter().sum::<u64>(), 70);
        assert_eq!(parts, [63, 2, 5, 0, 0]);
        // Exact means stay exact.
        assert_eq!(mean_parts([9, 6, 0], 3), [3, 2, 0]);
        // Three runs, thirds everywhere: the first parts take the units.
        assert_eq!(mean_parts([1, 1, 1], 3), [1, 0, 0]);
    }

    #[test]
    fn bucket_means_add_up_to_the_mean_total() {
        let sums = [1, 1, 1, 1, 1, 1, 1];
        let b = mean_buckets(&sums, 3);
        assert_eq!(b.iter().sum::<u64>(), mean_count(7, 3));
        assert_eq!(b, [0, 1, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn three_replications_are_one_fleet_with_intervals_and_sums() {
        let run = |succ: u64, p95: f64| {
            let mut s = Summary {
                clients: 5000,
                ..Summary::default()
            };
            s.outcomes.succeeded = succ;
            s.outcomes.failed = 5000 - succ;
            s.compliance.p95_s = Some(p95);
            s.bytes.total = succ * 10;
            let mut site = SiteJson {
                clients: 1000,
                ..SiteJson::default()
            };
            site.outcomes.succeeded = succ / 5;
            site.wan = Some(WanJson {
                capacity_bps: 20_000_000,
                peak_bps: 1e6 * succ as f64 / 1000.0,
                busy_s: 3600.0,
            });
            s.sites.insert("Lyon".into(), site);
            s
        };
        let runs = [run(4000, 10.0), run(4500, 20.0), run(5000, 30.0)];
        let mut merged = Summary {
            clients: 15_000,
            ..Summary::default()
        };
        merged.outcomes.succeeded = 13_500;
        merged.outcomes.failed = 1_500;
        merged.bytes.total = 135_000;
        one_rollout(&mut merged, &runs);
        assert_eq!(merged.clients, 5000);
        assert_eq!(merged.outcomes.succeeded, 4500);
        assert_eq!(merged.bytes.total, 45_000);
        let r = merged.replications.as_ref().unwrap();
        assert_eq!(r.runs, 3);
        assert_eq!(r.sums["clients"], 15_000);
        assert_eq!(r.sums["sites.Lyon.clients"], 3000);
        assert_eq!(r.mean["outcomes.succeeded"], 4500.0);
        // s = 500, t(0.975, 2) = 4.302653: 4.302653 * 500 / sqrt(3).
        assert!((r.ci95["outcomes.succeeded"] - 1242.07).abs() < 0.01);
        assert_eq!(r.ci95["clients"], 0.0);
        let lyon = &merged.sites["Lyon"];
        assert_eq!(lyon.clients, 1000);
        assert_eq!(lyon.outcomes.succeeded, 900);
        let w = lyon.wan.as_ref().unwrap();
        assert_eq!(
            (w.capacity_bps, w.peak_bps, w.busy_s),
            (20_000_000, 5e6, 3600.0)
        );
    }
}
