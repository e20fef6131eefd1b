//! The benchmark inputs stay runnable and mean what the benchmarks say they mean
//! (scripts/bench.sh and scripts/simpy/compare.sh rely on them), at small sizes.

use crate::common::*;

fn run_small(rel: &str, clients: u64) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let sc = repo().join(rel);
    let set = format!("fleet.clients={clients}");
    ok(&[
        "run",
        sc.to_str().unwrap(),
        "--set",
        &set,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    summary(&out)
}

fn outcome_sum(s: &serde_json::Value) -> u64 {
    s["outcomes"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum()
}

#[test]
fn bench_ps_is_one_download_then_twenty_fixed_minutes() {
    let s = run_small("scenarios/bench-ps.toml", 2_000);
    assert_eq!(s["outcomes"]["succeeded"], 2_000);
    // 2,000 x (policy, Install, download, one event for the chain of 20 fixed steps:
    // see sim::chain).
    assert_eq!(s["events"], 2_000 * 4);
    let dl = s["latency"]["download"]["mean"].as_f64().unwrap();
    let ts = s["latency"]["task_sequence"]["mean"].as_f64().unwrap();
    // The task sequence is the download plus 20 x 60 s (histogram means are
    // quantized to about 0.1%).
    assert!(
        (ts - dl - 1200.0).abs() < 3.0,
        "task sequence {ts} s, download {dl} s: expected a 1200 s difference"
    );
}

#[test]
fn bench_1m_runs_every_client_through_the_recommended_template() {
    let s = run_small("scenarios/bench-1m.toml", 2_000);
    assert_eq!(outcome_sum(&s), 2_000);
    assert!(s["outcomes"]["succeeded"].as_u64().unwrap() > 1_500);
    assert!(s["latency"]["precache"]["count"].as_u64().unwrap() > 1_500);
    assert_eq!(s["peak"]["by_dp"].as_object().unwrap().len(), 20);
}

#[test]
fn ts_interpretation_bench_input_runs_without_downloads() {
    let s = run_small("benches/data/ts-interpretation.toml", 1_000);
    assert_eq!(outcome_sum(&s), 1_000);
    assert_eq!(s["outcomes"]["in_progress"], 0);
    assert_eq!(s["outcomes"]["not_started"], 0);
    assert_eq!(s["bytes"]["total"], 0);
}

#[test]
fn bench_office_week_exercises_the_calendar() {
    let s = run_small("scenarios/bench-office-week.toml", 2_000);
    assert_eq!(outcome_sum(&s), 2_000);
    assert!(s["outcomes"]["succeeded"].as_u64().unwrap() > 1_500, "{s}");
    assert_eq!(s["outcomes"]["in_progress"], 0, "{s}");
    // bench-1m's deployment: every client pre-caches, and only its matching OS
    // package (on demand, not download-all-first's every referenced package).
    assert_eq!(s["latency"]["precache"]["count"], 2_000, "{s}");
    assert_eq!(s["bytes"]["on_demand"], 0, "{s}");
    // The run starts on Monday 08:00, inside the BITS window, so pre-cache is a
    // throttled background transfer: a 3.4 GB package at 20 Mbps takes 1,360 s
    // (bench-1m's unthrottled median is under a minute).
    let p50 = s["latency"]["precache"]["p50"].as_f64().unwrap();
    assert!(
        p50 >= 1_300.0,
        "pre-cache median {p50} s: not throttled by BITS"
    );
}

#[test]
fn bench_branches_serves_branch_offices_from_peers() {
    // 20,000 clients: 200 per branch site, 2 per subnet, 4 peer cache sources each.
    let s = run_small("scenarios/bench-branches.toml", 20_000);
    assert_eq!(outcome_sum(&s), 20_000);
    let by = &s["bytes"]["by_source"];
    let (dp, pc, bc) = (
        by["dp"].as_u64().unwrap(),
        by["peer_cache"].as_u64().unwrap(),
        by["branchcache"].as_u64().unwrap(),
    );
    // Both mechanisms serve, and every byte has one source.
    assert!(pc > 0 && bc > 0, "{by}");
    assert_eq!(dp + pc + bc, s["bytes"]["total"].as_u64().unwrap(), "{by}");
    // Every branch office takes part of its content from its peers, and what its
    // peers do not hold crosses its WAN link (it has no DP of its own).
    let sites = s["sites"].as_object().unwrap();
    let branches: Vec<_> = sites
        .iter()
        .filter(|(k, _)| k.starts_with("Branch-"))
        .collect();
    assert_eq!(branches.len(), 50);
    for (name, v) in branches {
        let b = &v["bytes"];
        let (total, wan, peers) = (
            b["total"].as_u64().unwrap(),
            b["over_wan"].as_u64().unwrap(),
            b["from_peers"].as_u64().unwrap(),
        );
        assert!(peers > 0 && wan > 0, "{name}: {b}");
        assert_eq!(wan + peers, total, "{name}: {b}");
    }
}
