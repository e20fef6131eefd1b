//! What users see of peer content (issue 18, "Outputs and users"): the bytes peers
//! saved each WAN link per bandwidth bucket (`bandwidth.csv` `saved_bps`), the WAN
//! panel's "without peers" curve, and the peer share in the site tables of
//! `report.html` and the terminal; none of it for a scenario without peers.

use std::path::Path;

use crate::common::*;
use crate::peers::{GB, INFO_1GB, branch_run, bytes};
use crate::plots::svg_texts;

/// Requests spread over 20 hours in one subnet of the branch (`peers.rs`).
const SPREAD: &str = r#"{ dist = "uniform", min = "0s", max = "20h" }"#;

/// `bandwidth.csv`'s `saved_bps` of one link, as bytes per bucket (10 s buckets).
fn saved_bytes(out: &Path, link: &str) -> Vec<f64> {
    csv_rows(&out.join("bandwidth.csv"))
        .iter()
        .filter(|r| r["dp"] == link)
        .map(|r| r["saved_bps"].parse::<f64>().unwrap() * 10.0 / 8.0)
        .collect()
}

/// The run's terminal table (`run` without `--quiet`).
fn terminal_table(out: &Path) -> String {
    let sc = out.parent().unwrap().join("scenario.toml");
    let again = out.parent().unwrap().join("again");
    ok(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ])
}

fn report_html(out: &Path) -> String {
    ok(&["report", out.to_str().unwrap()]);
    std::fs::read_to_string(out.join("report.html")).unwrap()
}

/// 20 clients hours apart: 19 take the 1 GB package from a peer. The bytes peers
/// saved the branch's WAN link, bucket by bucket, add up to exactly the site's
/// `bytes.from_peers`; DP rows have none; the WAN panel draws the link without
/// peers; both site tables show the peer share, 19 GB of 20 GB and 20 content
/// informations: 94.95%, shown "95.0%".
#[test]
fn branchcache_outputs_show_the_bytes_peers_saved_the_wan_link() {
    let (_d, out) = branch_run(20, "branchcache = true", SPREAD, &[]);
    let s = summary(&out);
    let site = &s["sites"]["Branch"];
    let from_peers = bytes(site, &["bytes", "from_peers"]);
    assert_eq!(from_peers, 19 * GB, "{s}");
    assert_eq!(site["peers"], true);
    assert!(s["sites"]["HQ"].get("peers").is_none(), "{s}");

    let text = std::fs::read_to_string(out.join("bandwidth.csv")).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "time_s,dp,bps,active_downloads,queued,saved_bps"
    );
    let rows = csv_rows(&out.join("bandwidth.csv"));
    assert!(
        rows.iter()
            .filter(|r| r["dp"] == "DP1")
            .all(|r| r["saved_bps"].is_empty())
    );
    let saved = saved_bytes(&out, "wan:Branch");
    assert_eq!(saved.len(), rows.len() / 2);
    // Every bucket's figure is whole bytes written in full, and they add up exactly.
    for b in &saved {
        assert!(*b >= 0.0 && (b - b.round()).abs() < 1e-6, "{b}");
    }
    let total: f64 = saved.iter().map(|b| b.round()).sum();
    assert_eq!(total as u64, from_peers);
    // A 1 GB leg from a peer at 100 Mbps takes 80 s, so 19 legs fill at least 152
    // buckets of 10 s with peer bytes (more where a leg straddles buckets).
    let busy = saved.iter().filter(|b| **b > 0.0).count();
    assert!((152..=19 * 9).contains(&busy), "{busy}");

    let texts = svg_texts(&out.join("plots/bandwidth.svg"));
    assert_eq!(
        texts.matches("wan:Branch without peers").count(),
        1,
        "{texts}"
    );

    let share = 100.0 * from_peers as f64 / bytes(site, &["bytes", "total"]) as f64;
    assert_eq!(bytes(site, &["bytes", "total"]), 20 * GB + 20 * INFO_1GB);
    assert_eq!(format!("{share:.1}%"), "95.0%");
    let html = report_html(&out);
    assert!(
        html.contains("<th class=\"num\">from peers</th>") || html.contains("<th>from peers</th>"),
        "{html}"
    );
    assert!(html.contains(">95.0%</td>"), "report has no 95.0% cell");
    let table = terminal_table(&out);
    let head = table
        .lines()
        .find(|l| l.trim_start().starts_with("site "))
        .unwrap();
    assert!(head.contains(" peers "), "{table}");
    let branch = table
        .lines()
        .find(|l| l.trim_start().starts_with("Branch "))
        .unwrap();
    assert!(branch.contains(" 95.0% "), "{table}");
    let hq = table
        .lines()
        .find(|l| l.trim_start().starts_with("HQ "))
        .unwrap();
    assert!(hq.contains(" - "), "{table}");
}

/// The same branch without peers: five columns, no curve, no peer column.
#[test]
fn a_scenario_without_peers_shows_no_peer_figures() {
    let (_d, out) = branch_run(20, "", SPREAD, &[]);
    let text = std::fs::read_to_string(out.join("bandwidth.csv")).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "time_s,dp,bps,active_downloads,queued"
    );
    assert!(text.lines().all(|l| l.split(',').count() == 5));
    let s = summary(&out);
    assert!(s["sites"]["Branch"].get("peers").is_none(), "{s}");
    let texts = svg_texts(&out.join("plots/bandwidth.svg"));
    assert!(texts.contains("WAN link wan:Branch"), "{texts}");
    assert!(!texts.contains("without peers"), "{texts}");
    assert!(!report_html(&out).contains("from peers"));
    let table = terminal_table(&out);
    assert!(table.contains("site "), "{table}");
    assert!(!table.contains("peers"), "{table}");
}

/// Two replications merge into one rollout whose `saved_bps` is the mean of theirs
/// (here both runs' peers give 19 GB, so the merge's buckets still add up to 19 GB)
/// and whose site keeps its peer mark.
#[test]
fn merged_replications_keep_the_bytes_peers_saved() {
    let (d, out) = branch_run(20, "branchcache = true", SPREAD, &[]);
    let sc = d.path().join("scenario.toml");
    let other = d.path().join("seed2");
    run_file(&sc, &other, &["--seed", "2"]);
    let mut per_run = Vec::new();
    for dir in [&out, &other] {
        let s = summary(dir);
        per_run.push(bytes(&s["sites"]["Branch"], &["bytes", "from_peers"]));
        let total: f64 = saved_bytes(dir, "wan:Branch")
            .iter()
            .map(|b| b.round())
            .sum();
        assert_eq!(total as u64, per_run[per_run.len() - 1]);
    }
    assert_eq!(per_run, [19 * GB, 19 * GB]);
    let merged = d.path().join("merged");
    ok(&[
        "merge",
        out.to_str().unwrap(),
        other.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    let s = summary(&merged);
    assert_eq!(s["sites"]["Branch"]["peers"], true, "{s}");
    assert_eq!(
        bytes(&s["sites"]["Branch"], &["bytes", "from_peers"]),
        19 * GB
    );
    let total: f64 = saved_bytes(&merged, "wan:Branch").iter().sum();
    assert!((total - 19e9).abs() < 1e-3, "{total}");
    let texts = svg_texts(&merged.join("plots/bandwidth.svg"));
    assert!(texts.contains("wan:Branch without peers"), "{texts}");
}

/// The peer cache source of `peers.rs` serves the five late clients at its full
/// 100 Mbps from 05:00 until it switches off at 05:05, cutting their legs: the 300 s
/// are 30 buckets of exactly 100 Mbps saved (uploads in flight count in the bucket
/// that carried them), nothing else, and the cut legs' bytes make the total
/// 3.75 GB, the site's `from_peers`.
#[test]
fn a_cut_peer_cache_source_saved_its_link_rate_while_it_served() {
    let (_d, out, _) = crate::peers::source_scenario("05:05", "{ ac = 1.0 }", false);
    let s = summary(&out);
    let from_peers = bytes(&s["sites"]["Branch"], &["bytes", "from_peers"]);
    assert_eq!(from_peers, 3_750_000_000, "{s}");
    let rows = csv_rows(&out.join("bandwidth.csv"));
    let saved: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r["dp"] == "wan:Branch")
        .map(|r| {
            (
                r["time_s"].parse().unwrap(),
                r["saved_bps"].parse().unwrap(),
            )
        })
        .filter(|&(_, v): &(f64, f64)| v != 0.0)
        .collect();
    let want: Vec<(f64, f64)> = (0..30).map(|k| (18_000.0 + 10.0 * k as f64, 1e8)).collect();
    assert_eq!(saved, want);
}

/// A branch with a DP of its own: its peers spare that DP, not the WAN link (the
/// clients never cross it), so no `saved_bps` and no "without peers" curve, while
/// the site table still shows the peer share (the site has peers).
#[test]
fn peers_of_a_site_with_its_own_dp_save_no_wan_bandwidth() {
    let text = crate::peers::branch(20, "branchcache = true", "1GB")
        .replace(
            "distribution_points = []\nfallback = { after = \"0s\", distribution_points = [\"DP1\"] }",
            "distribution_points = [\"DP2\"]",
        )
        .replace("policy_poll = \"0s\"", &format!("policy_poll = {SPREAD}"))
        + "[[distribution_points]]\nname = \"DP2\"\nsite = \"Branch\"\nbandwidth = \"1Gbps\"\n";
    let (_d, out) = run_scenario(&text, &[]);
    let s = summary(&out);
    let site = &s["sites"]["Branch"];
    assert_eq!(bytes(site, &["bytes", "from_peers"]), 19 * GB, "{s}");
    assert_eq!(bytes(site, &["bytes", "over_wan"]), 0, "{s}");
    let text = std::fs::read_to_string(out.join("bandwidth.csv")).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "time_s,dp,bps,active_downloads,queued"
    );
    let texts = svg_texts(&out.join("plots/bandwidth.svg"));
    assert!(texts.contains("WAN link wan:Branch"), "{texts}");
    assert!(!texts.contains("without peers"), "{texts}");
    let table = terminal_table(&out);
    let branch = table
        .lines()
        .find(|l| l.trim_start().starts_with("Branch "))
        .unwrap();
    assert!(branch.contains(" 95.0% "), "{table}");
}
