//! Boundary-group fallback time (issue 18): the task sequence engine does not wait
//! `fallback.after` for its own downloads; content the client downloads for itself
//! (pre-cache, applications, software updates) does.

use crate::common::*;

/// One client of a branch without a DP; its fallback DP is 2 hours away. The client
/// link is 8 Mbps and the package 10 MB: a transfer takes exactly 10 s.
fn branch(deployment: &str) -> String {
    let text = one_download(
        1,
        "{ wired = 1.0 }",
        "wired = \"8Mbps\"",
        r#"
[[sites]]
name = "HQ"
share = 0.0
distribution_points = ["DP1"]
[[sites]]
name = "Branch"
share = 1.0
distribution_points = []
fallback = { after = "2h", distribution_points = ["DP1"] }
[[distribution_points]]
name = "DP1"
site = "HQ"
bandwidth = "10Gbps"
"#,
        "10MB",
    );
    text.replace("[deployment]\nuser_start = \"0s\"\n", deployment)
}

fn latency(dir: &std::path::Path, metric: &str) -> (u64, f64) {
    let s = summary(dir);
    let m = &s["latency"][metric];
    (
        m["count"].as_u64().expect("count"),
        m["max"].as_f64().expect("max"),
    )
}

/// Download Package Content is the task sequence engine's: it falls back at once, so
/// the download takes its 10 s (it took 2 h 10 s when every download waited).
#[test]
fn a_task_sequence_download_does_not_wait_for_the_fallback_time() {
    let (_d, out) = run_scenario(&branch("[deployment]\nuser_start = \"0s\"\n"), &[]);
    let (n, max) = latency(&out, "download");
    // The histograms keep 3 significant digits; clients.csv is exact.
    assert!(n == 1 && (max - 10.0).abs() < 0.01, "{n} {max}");
    let rows = csv_rows(&out.join("clients.csv"));
    assert_eq!(rows[0]["outcome"], "succeeded");
    assert_eq!(rows[0]["end_s"].parse::<f64>().expect("end_s"), 10.0);
}

/// Pre-cache is the client agent's own download: it waits the 2 h before it may use
/// the fallback DP, then takes 10 s.
#[test]
fn pre_cache_waits_for_the_fallback_time() {
    let dep = "[deployment]\nprecache = true\nuser_start = \"10h\"\n";
    let (_d, out) = run_scenario(&branch(dep), &[]);
    let (n, max) = latency(&out, "precache");
    assert!(n == 1 && (max - 7210.0).abs() < 7.21, "{n} {max}");
    let rows = csv_rows(&out.join("clients.csv"));
    assert_eq!(
        rows[0]["precache_end_s"]
            .parse::<f64>()
            .expect("precache_end_s"),
        7210.0
    );
}
