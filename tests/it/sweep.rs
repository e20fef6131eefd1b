//! `fleetsim sweep` and `run --replications`: one row per point with means and
//! Student-t intervals, common random numbers, thread-count independence.

use std::path::Path;

use crate::common::*;
use crate::merge::assert_same_tree;

fn quickstart() -> String {
    repo()
        .join("scenarios/quickstart.toml")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn sweep_writes_a_row_per_point_and_a_folder_per_replication() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let sc = quickstart();
    ok(&[
        "sweep",
        &sc,
        "--vary",
        "distribution_points.0.bandwidth=1Gbps..3Gbps:1Gbps",
        "--vary",
        "client.download_retry_count=0,3",
        "--replications",
        "2",
        "--set",
        "fleet.clients=1000",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let rows = csv_rows(&out.join("sweep.csv"));
    assert_eq!(rows.len(), 6);
    let bw: Vec<&str> = rows
        .iter()
        .map(|r| r["distribution_points.0.bandwidth"].as_str())
        .collect();
    assert_eq!(bw, ["1Gbps", "1Gbps", "2Gbps", "2Gbps", "3Gbps", "3Gbps"]);
    let rc: Vec<&str> = rows
        .iter()
        .map(|r| r["client.download_retry_count"].as_str())
        .collect();
    assert_eq!(rc, ["0", "3", "0", "3", "0", "3"]);
    // The mean and half-width are those of the replications' own summaries.
    for (p, row) in rows.iter().enumerate() {
        let reps: Vec<f64> = (0..2)
            .map(|r| {
                let s = summary(&out.join(format!("points/{p}/replications/rep-{r}")));
                s["latency"]["download"]["mean"].as_f64().unwrap()
            })
            .collect();
        let mean = (reps[0] + reps[1]) / 2.0;
        let half = 12.706_2 * (reps[0] - reps[1]).abs() / 2.0;
        let got_mean: f64 = row["latency.download.mean.mean"].parse().unwrap();
        let got_half: f64 = row["latency.download.mean.ci95"].parse().unwrap();
        assert!(
            (got_mean - mean).abs() < 1e-5,
            "point {p}: {got_mean} vs {mean}"
        );
        assert!(
            (got_half - half).abs() < 1e-3 * half.max(1.0),
            "point {p}: {got_half} vs {half}"
        );
        assert_eq!(row["clients.mean"], "1000");
        assert_eq!(row["clients.ci95"], "0");
        // Point folders are merged results of one rollout: the fleet size, not the
        // sum over replications (that is under replications.sums).
        let point = summary(&out.join(format!("points/{p}")));
        assert_eq!(point["clients"], 1000);
        assert_eq!(point["replications"]["sums"]["clients"], 2000);
        let m = point["replications"]["mean"]["latency.download.mean"].as_f64();
        assert!((m.unwrap() - mean).abs() < 1e-5);
    }
    assert!(!rows[0].contains_key("run.wall_s.mean"));
    // Common random numbers: replication r has the same seed at every point, and
    // replication 0 is the scenario's own seed.
    for r in 0..2 {
        let seeds: Vec<u64> = (0..6)
            .map(|p| {
                summary(&out.join(format!("points/{p}/replications/rep-{r}")))["seed"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert!(seeds.iter().all(|s| *s == seeds[0]), "{seeds:?}");
        if r == 0 {
            assert_eq!(seeds[0], 42);
        }
    }
    // Replication 0 of a point is `fleetsim run` with the same overrides.
    let single = dir.path().join("single");
    ok(&[
        "run",
        &sc,
        "--set",
        "fleet.clients=1000",
        "--set",
        "distribution_points.0.bandwidth=2Gbps",
        "--set",
        "client.download_retry_count=3",
        "--out",
        single.to_str().unwrap(),
        "--quiet",
    ]);
    let rep = out.join("points/3/replications/rep-0");
    for f in [
        "bandwidth.csv",
        "failures.csv",
        "histograms/time_to_compliance.hdr",
    ] {
        assert!(
            std::fs::read(rep.join(f)).unwrap() == std::fs::read(single.join(f)).unwrap(),
            "{f}"
        );
    }
}

fn sweep_with_threads(out: &Path, threads: Option<&str>) {
    let sc = quickstart();
    let mut args = vec![
        "sweep",
        sc.as_str(),
        "--vary",
        "distribution_points.1.max_connections=5,50",
        "--vary",
        "fleet.clients=600,1200",
        "--replications",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    if let Some(t) = threads {
        args.extend(["--threads", t]);
    }
    ok(&args);
}

#[test]
fn thread_count_does_not_change_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one");
    let all = dir.path().join("all");
    let many = dir.path().join("many");
    sweep_with_threads(&one, Some("1"));
    sweep_with_threads(&all, None);
    sweep_with_threads(&many, Some("7"));
    assert_same_tree(&one, &all);
    assert_same_tree(&one, &many);
}

fn ci_of(reps: &str, dir: &Path) -> (f64, f64) {
    let out = dir.join(format!("r{reps}"));
    ok(&[
        "run",
        &quickstart(),
        "--set",
        "fleet.clients=300",
        "--replications",
        reps,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let rows = csv_rows(&out.join("replications.csv"));
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    (
        r["latency.time_to_compliance.mean.ci95"].parse().unwrap(),
        r["outcomes.succeeded.ci95"].parse().unwrap(),
    )
}

#[test]
fn confidence_intervals_shrink_as_replications_grow() {
    let dir = tempfile::tempdir().unwrap();
    let (a1, b1) = ci_of("3", dir.path());
    let (a2, b2) = ci_of("10", dir.path());
    let (a3, b3) = ci_of("40", dir.path());
    assert!(a1 > 0.0 && b1 > 0.0, "300 clients are noisy: {a1} {b1}");
    assert!(a1 > a2 && a2 > a3, "time to compliance: {a1} {a2} {a3}");
    assert!(b1 > b2 && b2 > b3, "succeeded: {b1} {b2} {b3}");
    // Roughly 1/sqrt(R) from 10 to 40 replications (the t factor changes little).
    assert!(a3 < 0.8 * a2, "{a2} -> {a3}");
}

#[test]
fn bad_vary_arguments_are_input_errors() {
    let sc = quickstart();
    for (vary, says) in [
        (
            "distribution_points.0.bandwidth=1Gbps..4Gbps",
            "give a step",
        ),
        (
            "distribution_points.0.bandwidth=4Gbps..1Gbps:1Gbps",
            "low end is above",
        ),
        ("fleet.clients", "expected KEY="),
        (
            "distribution_points.0.bandwidth=1Gbps,fast",
            "distribution_points.0.bandwidth",
        ),
        ("distribution_points.9.bandwidth=1Gbps", "out of range"),
    ] {
        let o = fleetsim(&[
            "sweep",
            &sc,
            "--vary",
            vary,
            "--quiet",
            "--out",
            "/nonexistent/never",
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{vary}: {err}");
        assert!(err.contains(says), "{vary}: {err}");
    }
    let o = fleetsim(&["sweep", &sc, "--vary", "fleet.clients=10", "--shard", "4/3"]);
    assert_eq!(o.status.code(), Some(2));
    let o = fleetsim(&["run", &sc, "--replications", "0"]);
    assert_eq!(o.status.code(), Some(2));
}
