//! `fleetsim load` against a server that misbehaves: every fault class is counted in
//! `failures.csv`, retried as `download_retry_count` says, resumed from the last byte
//! received, and nothing hangs past its timeout.

use std::time::{Duration, Instant};

use crate::common::{csv_rows, ok, one_download, scenario, summary};
use crate::load_support::{Fault, FaultServer};

const SIZE: u64 = 100_000;

/// One client downloading SIZE bytes with `retries` retries 15 simulated seconds
/// apart (100 ms of wall time at 150x).
fn one_client(clients: u64, retries: u32) -> String {
    one_download(
        clients,
        "{ wired = 1.0 }",
        "wired = \"1Gbps\"",
        "[[sites]]\nname = \"HQ\"\ndistribution_points = [\"DP1\"]\n[[distribution_points]]\nname = \"DP1\"\nbandwidth = \"1Gbps\"",
        &SIZE.to_string(),
    )
    .replace(
        "[client]\n",
        &format!("[client]\ndownload_retry_count = {retries}\ndownload_retry_delay = \"15s\"\n"),
    )
}

fn transfer_errors(out: &std::path::Path) -> std::collections::BTreeMap<String, u64> {
    csv_rows(&out.join("failures.csv"))
        .into_iter()
        .filter(|r| r["phase"] == "transfer")
        .map(|r| (r["name"].clone(), r["count"].parse().unwrap()))
        .collect()
}

fn load(server: &FaultServer, path: &std::path::Path, out: &std::path::Path, extra: &[&str]) {
    let target = server.template();
    let mut args = vec![
        "load",
        path.to_str().unwrap(),
        "--target",
        &target,
        "--time-scale",
        "150",
        "--timeout",
        "300ms",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    ok(&args);
}

#[test]
fn every_fault_class_is_counted_retried_and_resumed() {
    let server = FaultServer::start(
        SIZE,
        vec![
            Fault::Status503,
            Fault::ResetMidBody,
            Fault::ShortBody,
            Fault::Stall,
            Fault::RedirectElsewhere,
            Fault::Normal,
        ],
    );
    let (dir, path) = scenario(&one_client(1, 5));
    let out = dir.path().join("out");
    let t0 = Instant::now();
    load(&server, &path, &out, &[]);
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t0.elapsed()
    );
    let errors = transfer_errors(&out);
    let expect: std::collections::BTreeMap<String, u64> = [
        ("http_503", 1),
        ("reset", 1),
        ("short_body", 1),
        ("timeout", 1),
        ("http_302", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(errors, expect);
    let s = summary(&out);
    assert_eq!(s["outcomes"]["succeeded"], 1);
    // Resumed from the last byte received: the content arrived exactly once.
    assert_eq!(s["bytes"]["total"], SIZE);
    assert!(
        server
            .seen()
            .iter()
            .all(|r| r.path == "/SMS_DP_SMSPKG$/PKG")
    );
    let starts: Vec<u64> = server
        .seen()
        .iter()
        .map(|r| r.range.map_or(0, |x| x.0))
        .collect();
    assert_eq!(starts, vec![0, 0, 50_000, 75_000, 87_500, 87_500]);
}

#[test]
fn retries_run_out_as_configured() {
    let server = FaultServer::start(SIZE, vec![Fault::Status503; 10]);
    let (dir, path) = scenario(&one_client(1, 2));
    let out = dir.path().join("out");
    load(&server, &path, &out, &[]);
    // The first attempt and two retries.
    assert_eq!(transfer_errors(&out).get("http_503"), Some(&3));
    assert_eq!(server.seen().len(), 3);
    let s = summary(&out);
    assert_eq!(s["outcomes"]["failed"], 1);
    let download_failed = csv_rows(&out.join("failures.csv"))
        .into_iter()
        .filter(|r| r["phase"] == "download")
        .count();
    assert_eq!(download_failed, 1);
}

#[test]
fn refused_connections_are_connect_errors() {
    let server = FaultServer::start(SIZE, vec![Fault::Refuse(Duration::from_millis(500))]);
    let (dir, path) = scenario(&one_client(1, 40));
    let out = dir.path().join("out");
    load(&server, &path, &out, &[]);
    let errors = transfer_errors(&out);
    assert_eq!(errors.get("http_503"), Some(&1));
    let connect = errors.get("connect").copied().unwrap_or(0);
    assert!((1..40).contains(&connect), "{errors:?}");
    assert_eq!(summary(&out)["outcomes"]["succeeded"], 1);
}

#[test]
fn max_connections_caps_what_the_server_sees() {
    let server = FaultServer::start(2_000_000, vec![]);
    let text = one_client(12, 0).replace(&format!("size = \"{SIZE}\""), "size = \"2000000\"");
    let (dir, path) = scenario(&text);
    let out = dir.path().join("out");
    load(&server, &path, &out, &["--max-connections", "3"]);
    let s = summary(&out);
    assert_eq!(s["bytes"]["total"], 12 * 2_000_000u64);
    assert_eq!(s["outcomes"]["succeeded"], 12);
    // The reachability check's own connection may still be closing: one more.
    let most = server.max_open.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=4).contains(&most), "{most} connections at once");
}

fn load_json(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("load.json")).unwrap()).unwrap()
}

#[test]
fn status_999_is_named_http_999() {
    let server = FaultServer::start(SIZE, vec![Fault::Status(999)]);
    let (dir, path) = scenario(&one_client(1, 1));
    let out = dir.path().join("out");
    load(&server, &path, &out, &[]);
    assert_eq!(transfer_errors(&out).get("http_999"), Some(&1));
    assert_eq!(load_json(&out)["errors"]["http_999"], 1);
    assert_eq!(
        summary(&out)["outcomes"]["succeeded"],
        1,
        "the retry succeeded"
    );
}

#[test]
fn a_chunked_body_whose_bytes_all_arrived_is_delivered_without_its_closing_chunk() {
    let server = FaultServer::start(SIZE, vec![Fault::ChunkedNoEnd]);
    let (dir, path) = scenario(&one_client(1, 0));
    let out = dir.path().join("out");
    load(&server, &path, &out, &[]);
    assert!(
        transfer_errors(&out).is_empty(),
        "{:?}",
        transfer_errors(&out)
    );
    let s = summary(&out);
    assert_eq!(s["outcomes"]["succeeded"], 1);
    assert_eq!(s["bytes"]["total"], SIZE);
}

/// One client downloading SIZE bytes that the server trickles over `over`, at
/// `--time-scale 1` with `bucket`-wide bandwidth buckets and the given horizon.
fn trickle(over: Duration, bucket: &str, horizon: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let server = FaultServer::start(SIZE, vec![Fault::Trickle(over)]);
    let text = one_client(1, 0)
        .replace(
            "bandwidth_interval = \"10s\"",
            &format!("bandwidth_interval = \"{bucket}\""),
        )
        .replace("horizon = \"2d\"", &format!("horizon = \"{horizon}\""));
    let (dir, path) = scenario(&text);
    let out = dir.path().join("out");
    ok(&[
        "load",
        path.to_str().unwrap(),
        "--target",
        &server.template(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    (dir, out)
}

#[test]
fn bytes_land_in_the_bandwidth_bucket_they_arrived_in() {
    // 100 KB at a steady 50 KB/s for 2 s, in 250 ms buckets. Before the fix every
    // byte landed in the bucket sampled at the completion: one bucket at 8x the rate.
    let (_dir, out) = trickle(Duration::from_secs(2), "250ms", "1h");
    let rows: Vec<f64> = csv_rows(&out.join("bandwidth.csv"))
        .iter()
        .map(|r| r["bps"].parse().unwrap())
        .collect();
    let bits: f64 = rows.iter().map(|b| b * 0.25).sum();
    assert!((bits - SIZE as f64 * 8.0).abs() < 1.0, "{rows:?}");
    let busy = rows.iter().filter(|&&b| b > 0.0).count();
    assert!(busy >= 5, "spread over the transfer: {rows:?}");
    let peak = rows.iter().copied().fold(0.0, f64::max);
    let steady = SIZE as f64 * 8.0 / 2.0;
    assert!(
        peak < 3.0 * steady,
        "peak {peak} vs steady {steady}: {rows:?}"
    );
    let s = summary(&out);
    assert_eq!(
        s["peak"]["by_dp"]["DP1"]["bps"].as_f64().unwrap().round(),
        peak.round()
    );
}

#[test]
fn transfers_running_at_the_horizon_count_their_bytes_and_requests() {
    // The horizon (1 s) comes half-way through a 2-second transfer.
    let (_dir, out) = trickle(Duration::from_secs(2), "500ms", "1s");
    let info = load_json(&out);
    assert_eq!(info["unfinished"]["transfers"], 1, "{info}");
    assert_eq!(info["requests"], 1, "{info}");
    assert_eq!(info["partial"], false);
    let cut = info["unfinished"]["bytes"].as_u64().unwrap();
    assert!(cut > 0 && cut < SIZE, "{info}");
    let s = summary(&out);
    assert_eq!(s["bytes"]["total"], cut);
    assert_eq!(s["bytes"]["by_dp"]["DP1"], cut);
    assert_eq!(s["outcomes"]["in_progress"], 1);
    // The load folder has the files of a run.
    for f in [
        "steps.csv",
        "timeline.csv",
        "links.csv",
        "marks.csv",
        "plots/bandwidth.svg",
        "plots/completions.png",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
}

#[test]
fn a_bad_dp_url_is_located_in_the_scenario() {
    let text = one_client(1, 0).replace(
        "bandwidth = \"1Gbps\"",
        "bandwidth = \"1Gbps\"\nurl = \"http://127.0.0.1:70000/{content}\"",
    );
    let line = text.lines().position(|l| l.starts_with("url = ")).unwrap() + 1;
    let (dir, path) = scenario(&text);
    let o = crate::common::fleetsim(&[
        "load",
        path.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "scenario.toml:{line}:1: distribution_points.0.url: "
        )) && err.contains("port 70000 is not a TCP port"),
        "{err}"
    );
}

#[test]
fn port_above_65535_is_refused_before_any_connection() {
    // `:99999` used to load-test port 80 (and record :99999). Every bad URL is exit
    // code 2 before any connection is made.
    let (dir, path) = scenario(&one_client(1, 0));
    for (bad, says) in [
        (
            "http://127.0.0.1:99999/{content}",
            "port 99999 is not a TCP port",
        ),
        ("http://127.0.0.1:0/{content}", "port 0 is not a TCP port"),
        ("http://127.0.0.1:/{content}", "empty port"),
        ("http://user:pw@127.0.0.1/{content}", "no credentials"),
        ("http://dp one/{content}", "bad target URL"),
        ("ftp://127.0.0.1/{content}", "scheme ftp"),
    ] {
        let out = dir.path().join("out");
        let o = crate::common::fleetsim(&[
            "load",
            path.to_str().unwrap(),
            "--target",
            bad,
            "--out",
            out.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains(says), "{bad}: {err}");
        assert!(!err.contains("cannot reach"), "{bad}: {err}");
        assert!(!out.exists());
    }
}
