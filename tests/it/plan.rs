//! `fleetsim plan`: bisection finds the analytic answer; unreachable targets,
//! non-monotone metrics and bad targets are reported.

use crate::common::*;

/// N clients each download 1 GB at t = 0 from one DP whose uplink is the only
/// bottleneck (client caps far above it, no queueing, no failures).
fn n_downloads(n: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let text = one_download(
        n,
        "{ wired = 1.0 }",
        r#"wired = "100Gbps""#,
        "[[sites]]\nname = \"S\"\ndistribution_points = [\"DP1\"]\n[[distribution_points]]\nname = \"DP1\"\nbandwidth = \"1Gbps\"",
        "1GB",
    );
    scenario(&text)
}

fn rate(v: &str) -> f64 {
    let n: f64 = v.trim_end_matches("Mbps").parse().unwrap();
    n * 1e6
}

#[test]
fn n_downloads_need_n_times_8_gbit_per_400_s() {
    for n in [10u64, 25] {
        let (dir, p) = n_downloads(n);
        let out = dir.path().join("plan");
        let stdout = ok(&[
            "plan",
            p.to_str().unwrap(),
            "--vary",
            "distribution_points.0.bandwidth=50Mbps..2000Mbps",
            "--target",
            "latency.download.max <= 400s",
            "--out",
            out.to_str().unwrap(),
        ]);
        let plan: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
        let answer = rate(plan["answer"].as_str().unwrap());
        let step = rate(plan["step"].as_str().unwrap());
        let analytic = n as f64 * 8e9 / 400.0;
        // The grid step is the search tolerance; the histogram's 0.1% resolution of
        // the maximum adds at most one more 0.1%.
        assert!(
            answer >= analytic && answer <= analytic + step + 1e-3 * analytic,
            "N = {n}: {answer} bps vs {analytic} bps (step {step})\n{stdout}"
        );
        assert!(stdout.contains(&format!(
            "answer: distribution_points.0.bandwidth = {}",
            plan["answer"].as_str().unwrap()
        )));
        assert!(stdout.contains("bracket: "), "{stdout}");
        // The bracket's lower value is one step below and fails the target.
        let below = rate(plan["below"].as_str().unwrap());
        assert!((answer - below - step).abs() < 1.0, "{below} .. {answer}");
        let runs = plan["runs"].as_array().unwrap();
        assert!(
            runs.len() <= 5 + 14,
            "bisection, not a scan: {} runs",
            runs.len()
        );
        let first = runs[0]["dir"].as_str().unwrap();
        assert!(out.join(first).join("histograms/download.hdr").exists());
    }
}

#[test]
fn integer_and_unit_ranges_and_unreachable_targets() {
    let (_dir, p) = n_downloads(10);
    // 10 x 8 Gbit at once on B Gbps all end at 80 / B s: "< 8s" needs B > 10.
    let stdout = ok(&[
        "plan",
        p.to_str().unwrap(),
        "--vary",
        "distribution_points.0.bandwidth=1Gbps..20Gbps:1Gbps",
        "--target",
        "latency.download.max < 8s",
        "--quiet",
    ]);
    assert_eq!(
        stdout.trim(),
        "answer: distribution_points.0.bandwidth = 11Gbps"
    );
    // With k connections on 1 Gbps, download i ends at (i / k + 1) * 8k s: the mean
    // over the 10 is 44, 48, 52.8, 57.6, 60, 67.2... s for k = 1, 2, 3, 4, 5, 6.
    let stdout = ok(&[
        "plan",
        p.to_str().unwrap(),
        "--vary",
        "distribution_points.0.max_connections=1..10",
        "--target",
        "latency.download.mean >= 58s",
    ]);
    assert!(
        stdout.contains("answer: distribution_points.0.max_connections = 5\n"),
        "{stdout}"
    );
    assert!(stdout.contains("tolerance 1\n"), "{stdout}");
    let o = fleetsim(&[
        "plan",
        p.to_str().unwrap(),
        "--vary",
        "distribution_points.0.bandwidth=1Gbps..2Gbps:1Gbps",
        "--target",
        "latency.download.max <= 1s",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("answer: none"));
}

#[test]
fn a_non_monotone_metric_is_warned_about() {
    // The seed has no order: whether a noisy figure meets a target jumps around.
    let sc = repo().join("scenarios/quickstart.toml");
    let o = fleetsim(&[
        "plan",
        sc.to_str().unwrap(),
        "--set",
        "fleet.clients=200",
        "--vary",
        "simulation.seed=1..64",
        "--target",
        "outcomes.succeeded >= 180",
        "--probes",
        "7",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: not monotone"),
        "{err}\n{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn bad_targets_and_ranges_are_input_errors() {
    let (_dir, p) = n_downloads(2);
    for (vary, target, says) in [
        (
            "distribution_points.0.bandwidth=1Gbps..2Gbps",
            "latency.download.p42 <= 1s",
            "latency.download.max",
        ),
        (
            "distribution_points.0.bandwidth=1Gbps..2Gbps",
            "latency.download.max <= 1Gbps",
            "duration",
        ),
        (
            "distribution_points.0.bandwidth=1Gbps..2Gbps",
            "latency.download.max == 1s",
            "METRIC <= VALUE",
        ),
        (
            "distribution_points.0.bandwidth=1Gbps,2Gbps",
            "latency.download.max <= 1s",
            "searches a range",
        ),
    ] {
        let o = fleetsim(&[
            "plan",
            p.to_str().unwrap(),
            "--vary",
            vary,
            "--target",
            target,
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{target}: {err}");
        assert!(err.contains(says), "{target}: {err}");
    }
}
