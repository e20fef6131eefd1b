//! `fleetsim merge`: shards joined into exactly the unsharded study; plain result
//! folders merged with histograms added exactly and counts summed.

use std::path::{Path, PathBuf};

use fleetsim::output::hdr;
use fleetsim::output::summary::Stat;
use hdrhistogram::serialization::{Serializer, V2Serializer};

use crate::common::*;

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn without_run(bytes: &[u8]) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    v.as_object_mut().unwrap().remove("run");
    v
}

/// The two folders hold the same files with the same bytes, except the wall-clock
/// `run` object of every summary.json.
pub fn assert_same_tree(a: &Path, b: &Path) {
    let fa = files(a);
    assert_eq!(
        fa,
        files(b),
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    assert!(!fa.is_empty());
    for f in fa {
        let x = std::fs::read(a.join(&f)).unwrap();
        let y = std::fs::read(b.join(&f)).unwrap();
        if f.file_name().is_some_and(|n| n == "summary.json") {
            assert_eq!(without_run(&x), without_run(&y), "{} differs", f.display());
        } else {
            assert!(x == y, "{} differs", f.display());
        }
    }
}

const SWEEP: [&str; 8] = [
    "--vary",
    "distribution_points.1.bandwidth=500Mbps..2Gbps:750Mbps",
    "--vary",
    "deployment.precache=false,true",
    "--replications",
    "3",
    "--set",
    "fleet.clients=1500",
];

#[test]
fn shards_merged_equal_the_unsharded_sweep_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let sc = repo().join("scenarios/quickstart.toml");
    let sc = sc.to_str().unwrap();
    let whole = dir.path().join("whole");
    let mut args = vec!["sweep", sc, "--quiet", "--out", whole.to_str().unwrap()];
    args.extend(SWEEP);
    ok(&args);
    let mut shards = Vec::new();
    for i in 1..=3 {
        let out = dir.path().join(format!("shard{i}"));
        let shard = format!("{i}/3");
        let mut args = vec!["sweep", sc, "--quiet", "--out", out.to_str().unwrap()];
        args.extend(SWEEP);
        args.extend(["--shard", shard.as_str()]);
        ok(&args);
        // A shard holds only its units: no sweep.csv, no merged point folders.
        assert!(!out.join("sweep.csv").exists());
        assert!(!out.join("points/0/summary.json").exists());
        shards.push(out);
    }
    let merged = dir.path().join("merged");
    let mut args = vec!["merge"];
    args.extend(shards.iter().rev().map(|p| p.to_str().unwrap()));
    args.extend(["--out", merged.to_str().unwrap()]);
    ok(&args);
    assert_same_tree(&whole, &merged);
    assert_eq!(
        std::fs::read(whole.join("sweep.csv")).unwrap(),
        std::fs::read(merged.join("sweep.csv")).unwrap()
    );
    assert!(merged.join("points/5/histograms/download.hdr").exists());

    // A missing shard, a shard given twice, or a foreign folder are input errors.
    let bad = dir.path().join("bad");
    let o = fleetsim(&[
        "merge",
        shards[0].to_str().unwrap(),
        shards[1].to_str().unwrap(),
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing"));
    let o = fleetsim(&[
        "merge",
        shards[0].to_str().unwrap(),
        shards[0].to_str().unwrap(),
        shards[1].to_str().unwrap(),
        shards[2].to_str().unwrap(),
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let run = dir.path().join("run");
    ok(&[
        "run",
        sc,
        "--quiet",
        "--set",
        "fleet.clients=100",
        "--out",
        run.to_str().unwrap(),
    ]);
    let o = fleetsim(&[
        "merge",
        shards[0].to_str().unwrap(),
        run.to_str().unwrap(),
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!bad.exists(), "a failed merge writes nothing");
}

#[test]
fn replication_shards_of_run_merge_into_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let sc = repo().join("scenarios/quickstart.toml");
    let sc = sc.to_str().unwrap();
    let base = [
        "--quiet",
        "--set",
        "fleet.clients=1000",
        "--replications",
        "4",
    ];
    let whole = dir.path().join("whole");
    let mut args = vec!["run", sc, "--out", whole.to_str().unwrap()];
    args.extend(base);
    ok(&args);
    let s = summary(&whole);
    assert_eq!(
        s["clients"], 1000,
        "four replications of one 1000-client rollout"
    );
    assert_eq!(s["replications"]["runs"], 4);
    assert_eq!(s["replications"]["sums"]["clients"], 4000);
    let mut parts = Vec::new();
    for i in 1..=2 {
        let out = dir.path().join(format!("part{i}"));
        let shard = format!("{i}/2");
        let mut args = vec!["run", sc, "--out", out.to_str().unwrap(), "--shard", &shard];
        args.extend(base);
        ok(&args);
        parts.push(out);
    }
    let merged = dir.path().join("merged");
    ok(&[
        "merge",
        parts[0].to_str().unwrap(),
        parts[1].to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "--quiet",
    ]);
    assert_same_tree(&whole, &merged);
}

#[test]
fn plain_folders_merge_as_one_rollout_with_exact_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let sc = repo().join("scenarios/quickstart.toml");
    let mut outs = Vec::new();
    for seed in ["1", "2", "3"] {
        let out = dir.path().join(format!("seed{seed}"));
        ok(&[
            "run",
            sc.to_str().unwrap(),
            "--quiet",
            "--seed",
            seed,
            "--set",
            "fleet.clients=800",
            "--out",
            out.to_str().unwrap(),
        ]);
        outs.push(out);
    }
    let merged = dir.path().join("merged");
    ok(&[
        "merge",
        outs[0].to_str().unwrap(),
        outs[1].to_str().unwrap(),
        outs[2].to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    let m = summary(&merged);
    let parts: Vec<serde_json::Value> = outs.iter().map(|o| summary(o)).collect();
    let sum = |f: &dyn Fn(&serde_json::Value) -> u64| parts.iter().map(f).sum::<u64>();
    // One rollout: the fleet size, the mean of each count (rounded; outcomes by
    // largest remainder, so they add up to the fleet), the exact mean with its 95%
    // half-width and the sum under `replications`.
    let mean = |x: u64| (x + 1) / 3;
    assert_eq!(m["clients"], 800, "replications report the fleet size");
    assert_eq!(m["replications"]["sums"]["clients"], 2400);
    assert_eq!(m["replications"]["ci95"]["clients"], 0.0);
    let mut shown_sum = 0;
    for k in [
        "succeeded",
        "rolled_back",
        "failed",
        "in_progress",
        "not_started",
    ] {
        let total = sum(&|s| s["outcomes"][k].as_u64().unwrap());
        let shown = m["outcomes"][k].as_u64().unwrap();
        assert!(
            (shown as f64 - total as f64 / 3.0).abs() < 1.0,
            "{k}: {shown} is not within one of {total} / 3"
        );
        shown_sum += shown;
        assert_eq!(m["replications"]["sums"][format!("outcomes.{k}")], total);
        let exact = m["replications"]["mean"][format!("outcomes.{k}")]
            .as_f64()
            .unwrap();
        assert!((exact - total as f64 / 3.0).abs() < 1e-9, "{k}");
    }
    assert_eq!(
        shown_sum, 800,
        "the outcomes of one rollout add up to its fleet"
    );
    let bytes = sum(&|s| s["bytes"]["total"].as_u64().unwrap());
    assert_eq!(m["bytes"]["total"].as_u64(), Some(mean(bytes)));
    assert_eq!(m["seed"], 1);
    for metric in ["download", "task_sequence", "time_to_compliance"] {
        let f = format!("histograms/{metric}.hdr");
        let mut h = hdr::read(&outs[0].join(&f)).unwrap();
        for o in &outs[1..] {
            h.add(hdr::read(&o.join(&f)).unwrap()).unwrap();
        }
        let mut want = Vec::new();
        V2Serializer::new().serialize(&h, &mut want).unwrap();
        assert!(std::fs::read(merged.join(&f)).unwrap() == want, "{f}");
        let st = Stat::from_hist(&h);
        let got: Stat = serde_json::from_value(m["latency"][metric].clone()).unwrap();
        assert_eq!(got, st, "{metric} figures come from the merged histogram");
    }
    // timeline.csv is the mean per rollout: its buckets add up to the mean outcome.
    let succeeded: u64 = csv_rows(&merged.join("timeline.csv"))
        .iter()
        .map(|r| r["succeeded"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(Some(succeeded), m["outcomes"]["succeeded"].as_u64());
    // failures.csv is summed by (code, phase), then averaged.
    let total = |p: &Path| -> u64 {
        csv_rows(&p.join("failures.csv"))
            .iter()
            .map(|r| r["count"].parse::<u64>().unwrap())
            .sum()
    };
    let all = outs.iter().map(|o| total(o)).sum::<u64>();
    assert!(
        total(&merged).abs_diff(all / 3) <= 3,
        "{} vs {all}/3",
        total(&merged)
    );
    // bandwidth.csv is the mean over the folders, bucket by bucket.
    let rows = |p: &Path| csv_rows(&p.join("bandwidth.csv"));
    let first = rows(&outs[0]);
    let merged_rows = rows(&merged);
    let row = &first[first.len() / 3];
    let key =
        |r: &std::collections::HashMap<String, String>| (r["time_s"].clone(), r["dp"].clone());
    let mean: f64 = outs
        .iter()
        .map(|o| {
            rows(o)
                .iter()
                .find(|r| key(r) == key(row))
                .map(|r| r["bps"].parse::<f64>().unwrap())
                .unwrap_or(0.0)
        })
        .sum::<f64>()
        / 3.0;
    let got: f64 = merged_rows.iter().find(|r| key(r) == key(row)).unwrap()["bps"]
        .parse()
        .unwrap();
    assert!((got - mean).abs() <= 0.5, "{got} vs {mean}");
}

#[test]
fn damaged_folders_are_reported_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let sc = repo().join("scenarios/quickstart.toml");
    let good = dir.path().join("good");
    ok(&[
        "run",
        sc.to_str().unwrap(),
        "--quiet",
        "--set",
        "fleet.clients=100",
        "--out",
        good.to_str().unwrap(),
    ]);
    let damage: [(&str, &[u8]); 6] = [
        ("summary.json", b"{not json"),
        ("summary.json", b"{\"clients\": \"many\"}"),
        ("failures.csv", b"code,count\n1,2\n"),
        (
            "bandwidth.csv",
            b"time_s,dp,bps,active_downloads,queued\n-1,DP,x,1,1\n",
        ),
        ("histograms/download.hdr", b"\x1c\x84\x93\x13garbage"),
        (
            "steps.csv",
            b"index,path,type,ran,skipped,succeeded,failed\n0,Other,group,1,0,0,0\n",
        ),
    ];
    for (file, bytes) in damage {
        let bad = dir.path().join("bad");
        let _ = std::fs::remove_dir_all(&bad);
        let o = fleetsim(&[
            "run",
            sc.to_str().unwrap(),
            "--quiet",
            "--set",
            "fleet.clients=100",
            "--out",
            bad.to_str().unwrap(),
        ]);
        assert!(o.status.success());
        std::fs::write(bad.join(file), bytes).unwrap();
        let out = dir.path().join("out");
        let o = fleetsim(&[
            "merge",
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            matches!(o.status.code(), Some(1 | 2)),
            "{file}: {:?} {err}",
            o.status.code()
        );
        assert!(
            err.contains(file.split('/').next_back().unwrap()),
            "{file}: {err}"
        );
        assert!(!out.exists());
    }
    // Merging one folder reproduces its files exactly (the formats round-trip).
    let alone = dir.path().join("alone");
    ok(&[
        "merge",
        good.to_str().unwrap(),
        "--out",
        alone.to_str().unwrap(),
        "--quiet",
    ]);
    for f in [
        "bandwidth.csv",
        "failures.csv",
        "steps.csv",
        "histograms/download.hdr",
        "histograms/install_wait.hdr",
        "histograms/time_to_compliance.hdr",
    ] {
        assert!(
            std::fs::read(good.join(f)).unwrap() == std::fs::read(alone.join(f)).unwrap(),
            "{f}"
        );
    }
    // A folder without the completion marker (an interrupted run) is refused.
    std::fs::remove_file(good.join(".complete")).unwrap();
    let o = fleetsim(&[
        "merge",
        good.to_str().unwrap(),
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn merge_refuses_runs_with_different_bandwidth_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let sc = repo().join("scenarios/quickstart.toml");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (out, interval) in [(&a, "5m"), (&b, "60s")] {
        ok(&[
            "run",
            sc.to_str().unwrap(),
            "--quiet",
            "--set",
            "fleet.clients=100",
            "--set",
            &format!("simulation.bandwidth_interval={interval}"),
            "--out",
            out.to_str().unwrap(),
        ]);
    }
    let out = dir.path().join("m");
    let o = fleetsim(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("has bandwidth_interval 1m, the first folder has 5m"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_truncated_or_garbage_hdr_is_exit_2_with_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let sc = repo().join("scenarios/quickstart.toml");
    let (good, bad) = (dir.path().join("good"), dir.path().join("bad"));
    for out in [&good, &bad] {
        ok(&[
            "run",
            sc.to_str().unwrap(),
            "--quiet",
            "--set",
            "fleet.clients=100",
            "--out",
            out.to_str().unwrap(),
        ]);
    }
    let hdr = bad.join("histograms/download.hdr");
    let whole = std::fs::read(&hdr).unwrap();
    for (damage, says) in [
        (whole[..whole.len() / 2].to_vec(), "truncated"),
        (b"\x1c\x84\x93\x13garbage".to_vec(), "truncated"),
        (b"not a histogram at all".to_vec(), "damaged"),
    ] {
        std::fs::write(&hdr, &damage).unwrap();
        let out = dir.path().join("m");
        for args in [
            vec![
                "merge",
                good.to_str().unwrap(),
                bad.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            vec!["report", bad.to_str().unwrap()],
            vec![
                "compare",
                good.to_str().unwrap(),
                bad.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        ] {
            let o = fleetsim(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(
                err.starts_with(&format!("error: {}: ", hdr.display())) && err.contains(says),
                "{args:?}: {err}"
            );
            assert_eq!(err.matches("download.hdr").count(), 1, "{err}");
            assert!(!out.exists());
        }
    }
}

#[test]
fn merge_refuses_folders_of_different_scenarios_or_set_values_naming_the_difference() {
    let dir = tempfile::tempdir().unwrap();
    let run = |scenario: &str, set: &str, name: &str| {
        let out = dir.path().join(name);
        ok(&[
            "run",
            repo().join(scenario).to_str().unwrap(),
            "--quiet",
            "--set",
            set,
            "--out",
            out.to_str().unwrap(),
        ]);
        out
    };
    let a = run("scenarios/quickstart.toml", "fleet.clients=100", "a");
    let b = run("scenarios/quickstart.toml", "fleet.clients=120", "b");
    let c = run("scenarios/branch-offices.toml", "fleet.clients=100", "c");
    let refused = |x: &Path, y: &Path| {
        let out = dir.path().join("m");
        let o = fleetsim(&[
            "merge",
            x.to_str().unwrap(),
            y.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(!out.exists(), "a refused merge writes nothing");
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let err = refused(&a, &b);
    assert!(
        err.contains("--set fleet.clients=120, the first folder with --set fleet.clients=100"),
        "{err}"
    );
    let err = refused(&a, &c);
    assert!(
        err.contains("holds scenario") && err.contains("only runs of one scenario merge"),
        "{err}"
    );
}
