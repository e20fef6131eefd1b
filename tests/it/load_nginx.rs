//! `fleetsim load` and `fleetsim calibrate` against a real nginx on loopback: the
//! bytes of the scenario arrive exactly, one request per download (or per chunk),
//! shards add up, Ctrl-C keeps what was measured.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{
    bin, csv_rows, fleetsim, ok, one_download, scenario, signal_and_wait, summary,
};
use crate::load_support::{Nginx, wait_for};

/// `clients` clients each download PKG (1 MB in the scenario) with policy arrivals
/// spread over ten simulated minutes.
fn spread(clients: u64) -> String {
    one_download(
        clients,
        "{ wired = 1.0 }",
        "wired = \"1Gbps\"",
        "[[sites]]\nname = \"HQ\"\ndistribution_points = [\"DP1\"]\n[[distribution_points]]\nname = \"DP1\"\nbandwidth = \"1Gbps\"",
        "1MB",
    )
    .replace("policy_poll = \"0s\"", "policy_poll = { dist = \"uniform\", min = \"0s\", max = \"10m\" }")
}

#[test]
fn load_moves_the_scenario_bytes_exactly() {
    let Some(nginx) = Nginx::start("load_moves_the_scenario_bytes_exactly", &[("PKG", 100_000)])
    else {
        return;
    };
    let (dir, path) = scenario(&spread(20));
    let out = dir.path().join("out");
    let started = Instant::now();
    ok(&[
        "load",
        path.to_str().unwrap(),
        "--target",
        &nginx.template(),
        "--time-scale",
        "600",
        "--size-scale",
        "0.1",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(started.elapsed() < Duration::from_secs(30));
    let s = summary(&out);
    assert_eq!(s["mode"], "load");
    assert_eq!(s["partial"], false);
    assert_eq!(s["outcomes"]["succeeded"], 20);
    assert_eq!(s["bytes"]["total"], 20 * 100_000);
    assert_eq!(s["bytes"]["by_dp"]["DP1"], 20 * 100_000);
    assert_eq!(s["latency"]["download"]["count"], 20);
    assert_eq!(s["latency"]["ttfb"]["count"], 20);
    assert!(
        s["latency"]["ttfb"]["max"].as_f64().unwrap()
            <= s["latency"]["download"]["max"].as_f64().unwrap()
    );
    // One request per download: nothing buffered, retried or split.
    let reqs = nginx.requests();
    assert_eq!(reqs.len(), 20, "{reqs:#?}");
    assert!(
        reqs.iter()
            .all(|l| l.contains("\" 206 ") || l.contains("\" 200 ")),
        "{reqs:#?}"
    );
    // bandwidth.csv reports the rate on the wire: its rows add back up to the bytes.
    let interval_s = 10.0;
    let rows = csv_rows(&out.join("bandwidth.csv"));
    let bytes: f64 = rows
        .iter()
        .filter(|r| r["dp"] == "DP1")
        .map(|r| r["bps"].parse::<f64>().unwrap() * interval_s / 600.0 / 8.0)
        .sum();
    assert!(
        (bytes - 2e6).abs() < 2e6 * 0.01,
        "bandwidth.csv adds up to {bytes}"
    );
    for f in [
        "summary.json",
        "bandwidth.csv",
        "failures.csv",
        "histograms/download.hdr",
        "histograms/ttfb.hdr",
        "load.json",
        "scenario.toml",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let failures = csv_rows(&out.join("failures.csv"));
    assert!(
        failures.iter().all(|r| r["phase"] != "transfer"),
        "{failures:?}"
    );
}

#[test]
fn chunked_downloads_send_one_range_request_per_chunk() {
    let Some(nginx) = Nginx::start("chunked_downloads", &[("PKG", 100_000)]) else {
        return;
    };
    let (dir, path) = scenario(&spread(5));
    let out = dir.path().join("out");
    ok(&[
        "load",
        path.to_str().unwrap(),
        "--target",
        &nginx.template(),
        "--time-scale",
        "600",
        "--size-scale",
        "0.1",
        "--chunk-size",
        "30000",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let s = summary(&out);
    assert_eq!(s["bytes"]["total"], 5 * 100_000);
    let reqs = nginx.requests();
    // 30000 + 30000 + 30000 + 10000.
    assert_eq!(reqs.len(), 5 * 4, "{reqs:#?}");
    assert!(reqs.iter().all(|l| l.contains("\" 206 ")), "{reqs:#?}");
}

#[test]
fn shards_split_the_fleet_and_add_up() {
    let Some(nginx) = Nginx::start("shards", &[("PKG", 10_000)]) else {
        return;
    };
    let (dir, path) = scenario(&spread(10));
    let mut clients = 0;
    let mut bytes = 0;
    for i in 1..=3 {
        let out = dir.path().join(format!("shard{i}"));
        ok(&[
            "load",
            path.to_str().unwrap(),
            "--target",
            &nginx.template(),
            "--time-scale",
            "1200",
            "--size-scale",
            "0.01",
            "--shard",
            &format!("{i}/3"),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        let s = summary(&out);
        assert_eq!(s["clients"], if i == 1 { 4 } else { 3 });
        assert_eq!(s["outcomes"]["succeeded"], s["clients"]);
        clients += s["clients"].as_u64().unwrap();
        bytes += s["bytes"]["total"].as_u64().unwrap();
    }
    assert_eq!(clients, 10);
    assert_eq!(bytes, 10 * 10_000);
    assert_eq!(nginx.requests().len(), 10);
    // The shards merge into one load test: counts and bytes add, rates add per bucket
    // (the shards hit the DP together), time-to-first-byte histograms add.
    let merged = dir.path().join("merged");
    let shards: Vec<String> = (1..=3)
        .map(|i| {
            dir.path()
                .join(format!("shard{i}"))
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    ok(&[
        "merge",
        &shards[0],
        &shards[1],
        &shards[2],
        "--out",
        merged.to_str().unwrap(),
    ]);
    let m = summary(&merged);
    assert_eq!(m["mode"], "load");
    assert_eq!(m["clients"], 10);
    assert_eq!(m["bytes"]["total"], 100_000);
    assert_eq!(
        m["latency"]["ttfb"]["count"],
        m["latency"]["download"]["count"]
    );
    assert!(merged.join("histograms/ttfb.hdr").exists());
    let bw_total = |d: &std::path::Path| -> f64 {
        csv_rows(&d.join("bandwidth.csv"))
            .iter()
            .map(|r| r["bps"].parse::<f64>().unwrap())
            .sum()
    };
    let parts: f64 = (1..=3)
        .map(|i| bw_total(&dir.path().join(format!("shard{i}"))))
        .sum();
    assert!(
        (bw_total(&merged) - parts).abs()
            <= 3.0 * csv_rows(&merged.join("bandwidth.csv")).len() as f64,
        "rates add up"
    );
    let bad = fleetsim(&[
        "load",
        path.to_str().unwrap(),
        "--target",
        &nginx.template(),
        "--shard",
        "4/3",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn calibrate_prints_dp_values() {
    let Some(nginx) = Nginx::start("calibrate", &[("PKG", 2_000_000)]) else {
        return;
    };
    let url = nginx.template().replace("{content}", "PKG");
    let text = ok(&[
        "calibrate",
        "--target",
        &url,
        "--max-connections",
        "4",
        "--step-duration",
        "300ms",
    ]);
    assert!(text.contains("[[distribution_points]]"), "{text}");
    assert!(text.contains("bandwidth = \""), "{text}");
    assert!(text.contains("max_connections = "), "{text}");
    let steps: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.parse::<u32>().is_ok())
        })
        .collect();
    assert_eq!(steps.len(), 3, "levels 1, 2, 4:\n{text}");
    assert!(nginx.requests().len() >= 3);
}

/// Starts a load test of 50 clients arriving over an hour at 60x (a minute of wall
/// time unless stopped), stops it with `sig` and checks the partial result.
fn stop_a_load_test(test: &str, sig: &str, code: i32) {
    let Some(nginx) = Nginx::start(test, &[("PKG", 10_000)]) else {
        return;
    };
    let text = spread(50).replace("max = \"10m\"", "max = \"1h\"");
    let (dir, path) = scenario(&text);
    let out = dir.path().join("out");
    let mut child = Command::new(bin())
        .args([
            "load",
            path.to_str().unwrap(),
            "--target",
            &nginx.template(),
            "--time-scale",
            "60",
            "--size-scale",
            "0.01",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(1500));
    signal_and_wait(&mut child, sig, Duration::from_secs(10), "load");
    assert_eq!(child.wait().expect("wait").code(), Some(code));
    assert!(wait_for(&out.join("summary.json"), Duration::from_secs(1)));
    let s = summary(&out);
    assert_eq!(s["partial"], true);
    assert_eq!(s["mode"], "load");
    let done = s["outcomes"]["succeeded"].as_u64().unwrap();
    assert!(done < 50, "stopped early");
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("load.json")).unwrap()).unwrap();
    assert_eq!(info["partial"], true);
    // Whole downloads of 10,000 bytes, plus what the transfers cut off had received.
    let cut = info["unfinished"]["bytes"].as_u64().unwrap();
    assert_eq!((s["bytes"]["total"].as_u64().unwrap() - cut) % 10_000, 0);
    assert_eq!(crate::common::names(dir.path()), ["out", "scenario.toml"]);
}

#[test]
fn ctrl_c_writes_partial_results() {
    stop_a_load_test("ctrl_c", "INT", 130);
}

#[test]
fn sigterm_writes_partial_load_results() {
    stop_a_load_test("sigterm", "TERM", 143);
}

#[test]
fn unreachable_and_bad_targets_fail_cleanly() {
    let (_dir, path) = scenario(&spread(1));
    // A port nobody listens on (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = fleetsim(&[
        "load",
        path.to_str().unwrap(),
        "--target",
        &format!("http://127.0.0.1:{port}/{{content}}"),
        "--timeout",
        "2s",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot reach DP1"));
    let o = fleetsim(&[
        "load",
        path.to_str().unwrap(),
        "--target",
        "ftp://127.0.0.1/{content}",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = fleetsim(&["load", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "no target and no DP url");
    let o = fleetsim(&[
        "load",
        path.to_str().unwrap(),
        "--target",
        "http://127.0.0.1:1/{content}",
        "--time-scale",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2));
}
