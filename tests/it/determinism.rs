//! Same scenario and seed: byte-identical outputs (apart from summary.json's `run`).

use crate::common::*;

fn strip_run(text: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    v.as_object_mut().unwrap().remove("run");
    v
}

#[test]
fn same_seed_gives_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let sc = repo().join("scenarios/quickstart.toml");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for out in [&a, &b] {
        run_file(&sc, out, &["--per-client", "--set", "fleet.clients=2000"]);
    }
    for f in [
        "bandwidth.csv",
        "failures.csv",
        "clients.csv",
        "histograms/download.hdr",
        "histograms/task_sequence.hdr",
    ] {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(b.join(f)).unwrap();
        assert!(x == y, "{f} differs between identical runs");
    }
    let sa = strip_run(&std::fs::read_to_string(a.join("summary.json")).unwrap());
    let sb = strip_run(&std::fs::read_to_string(b.join("summary.json")).unwrap());
    assert_eq!(sa, sb);
    // And a different seed gives a different run.
    let c = dir.path().join("c");
    run_file(&sc, &c, &["--set", "fleet.clients=2000", "--seed", "99"]);
    assert_ne!(
        std::fs::read(a.join("bandwidth.csv")).unwrap(),
        std::fs::read(c.join("bandwidth.csv")).unwrap()
    );
}

#[test]
fn outcomes_add_up_and_every_key_is_present() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q");
    let sc = repo().join("scenarios/quickstart.toml");
    run_file(&sc, &out, &["--set", "fleet.clients=1000"]);
    let s = summary(&out);
    let o = &s["outcomes"];
    let sum: u64 = [
        "succeeded",
        "rolled_back",
        "failed",
        "in_progress",
        "not_started",
    ]
    .iter()
    .map(|k| o[k].as_u64().unwrap())
    .sum();
    assert_eq!(sum, 1000);
    for m in [
        "precache",
        "install_wait",
        "download",
        "task_sequence",
        "time_to_compliance",
    ] {
        for k in ["count", "mean", "p50", "p90", "p95", "p99", "max"] {
            assert!(s["latency"][m][k].is_number(), "latency.{m}.{k} missing");
        }
    }
    for k in ["total", "precache", "on_demand"] {
        assert!(s["bytes"][k].is_u64());
    }
    for k in [
        "os_upgrade",
        "driver",
        "application",
        "software_update",
        "package",
    ] {
        assert!(s["bytes"]["by_kind"][k].is_u64(), "bytes.by_kind.{k}");
    }
    assert!(s["peak"]["by_dp"]["DP-HQ"]["bps"].is_number());
    assert!(s["failures_by_code"]["0xC1900208"].is_u64());
    for k in ["sim_end_s", "events"] {
        assert!(s[k].is_number());
    }
    for k in ["wall_s", "events_per_s", "peak_rss_bytes", "version"] {
        assert!(!s["run"][k].is_null());
    }
    assert!(out.join("histograms/download.hdr").exists());
    assert!(out.join(".complete").exists());
}
