//! Peer content (issue 18): the `[[sites]]` keys `subnets`, `branchcache` and
//! `peer_cache`, what `validate` says about them, and what peers do in a run,
//! checked against hand-computed figures.

use crate::common::*;

/// One branch without a DP of its own, reaching the HQ DP over its WAN link; `extra`
/// goes into the branch's `[[sites]]` table, `size` is the package size.
pub(crate) fn branch(clients: u64, extra: &str, size: &str) -> String {
    one_download(
        clients,
        "{ wired = 1.0 }",
        "wired = \"100Mbps\"",
        &format!(
            r#"
[[sites]]
name = "HQ"
share = 0.0
distribution_points = ["DP1"]
[[sites]]
name = "Branch"
share = 1.0
wan = "100Mbps"
distribution_points = []
fallback = {{ after = "0s", distribution_points = ["DP1"] }}
{extra}
[[distribution_points]]
name = "DP1"
site = "HQ"
bandwidth = "10Gbps"
"#
        ),
        size,
    )
}

fn validate(text: &str) -> (Option<i32>, String) {
    let (_dir, p) = scenario(text);
    let o = fleetsim(&["validate", p.to_str().unwrap()]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), all)
}

#[test]
fn validate_describes_the_peer_keys() {
    let (code, out) = validate(&branch(
        10,
        "subnets = 4\nbranchcache = true\npeer_cache = { sources = 0.2, max_connections = 3 }",
        "10MB",
    ));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(
            "4 subnets, BranchCache, peer cache sources: 20.0% of clients, 3 connections each"
        ),
        "{out}"
    );
}

#[test]
fn bad_peer_values_are_located_errors() {
    let (code, out) = validate(&branch(
        10,
        "subnets = 0\npeer_cache = { sources = [3, 12] }",
        "10MB",
    ));
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("sites.1.subnets: found 0, expected an integer from 1"),
        "{out}"
    );
    assert!(
        out.contains("sites.1.peer_cache.sources.1: client 12 does not exist, expected a client id from 0 to 9"),
        "{out}"
    );
}

/// "a 6 GB package does not fit a 5,120 MB cache" (issue 18).
#[test]
fn content_larger_than_the_cache_cannot_be_held_by_a_peer_cache_source() {
    let (code, out) = validate(&branch(10, "peer_cache = { sources = 0.1 }", "6GB"));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(
            "content \"PKG\" (6 GB) does not fit a 5120 MB client cache (client.cache_size): \
             peer cache sources of \"Branch\" cannot hold it"
        ),
        "{out}"
    );
    let (_, out) = validate(&branch(10, "peer_cache = { sources = 0.1 }", "5GB"));
    assert!(!out.contains("does not fit"), "{out}");
}

#[test]
fn delivery_optimization_and_connected_cache_are_told_they_do_not_apply() {
    let (code, out) = validate(&branch(
        10,
        "delivery_optimization = true\nconnected_cache = { enabled = true }",
        "10MB",
    ));
    assert_eq!(code, Some(0), "{out}");
    for what in ["Delivery Optimization", "Microsoft Connected Cache"] {
        assert!(
            out.contains(&format!(
                "{what} does not serve the packages of a ConfigMgr task sequence"
            )),
            "{out}"
        );
    }
}

/// 1 GB: 30 BranchCache segments and 15,259 blocks, so its content information is
/// 18 + 30 * 84 + 15,259 * 32 bytes ([MS-PCCRC] 2.3, `peer::content_info_bytes`).
pub(crate) const GB: u64 = 1_000_000_000;
pub(crate) const INFO_1GB: u64 = 18 + 30 * 84 + 15_259 * 32;

/// The branch of [`branch`] with `clients` clients of a 1 GB package whose policy
/// arrives after `poll` (a duration or a distribution).
pub(crate) fn branch_run(
    clients: u64,
    extra: &str,
    poll: &str,
    args: &[&str],
) -> (tempfile::TempDir, std::path::PathBuf) {
    let text = branch(clients, extra, "1GB")
        .replace("policy_poll = \"0s\"", &format!("policy_poll = {poll}"));
    run_scenario(&text, args)
}

pub(crate) fn bytes(s: &serde_json::Value, path: &[&str]) -> u64 {
    let mut v = s;
    for k in path {
        v = &v[*k];
    }
    v.as_u64().unwrap_or_else(|| panic!("{path:?} in {s}"))
}

/// Requests hours apart in one subnet: the first client takes the package over the
/// WAN, every later one from a peer, so the WAN carries one copy plus each
/// client's content information; and the WAN never carries a peer's byte.
#[test]
fn branchcache_requests_hours_apart_cross_the_wan_once() {
    let poll = r#"{ dist = "uniform", min = "0s", max = "20h" }"#;
    let (_d, out) = branch_run(20, "branchcache = true", poll, &[]);
    let s = summary(&out);
    assert_eq!(
        bytes(&s, &["bytes", "by_source", "dp"]),
        GB + 20 * INFO_1GB,
        "{s}"
    );
    assert_eq!(bytes(&s, &["bytes", "by_source", "branchcache"]), 19 * GB);
    assert_eq!(bytes(&s, &["bytes", "by_source", "peer_cache"]), 0);
    assert_eq!(bytes(&s, &["bytes", "total"]), 20 * GB + 20 * INFO_1GB);
    let site = &s["sites"]["Branch"]["bytes"];
    assert_eq!(bytes(site, &["over_wan"]), GB + 20 * INFO_1GB);
    assert_eq!(bytes(site, &["from_peers"]), 19 * GB);
    let rows = csv_rows(&out.join("clients.csv"));
    let from_peers: Vec<u64> = rows
        .iter()
        .map(|r| r["bytes_from_peers"].parse().unwrap())
        .collect();
    assert_eq!(
        from_peers.iter().filter(|&&b| b == GB).count(),
        19,
        "{from_peers:?}"
    );
    assert_eq!(from_peers.iter().filter(|&&b| b == 0).count(), 1);
}

/// All at once: nobody holds a segment the others lack, so each client takes its
/// own copy over the WAN (BranchCache saves nothing and adds its content
/// information).
#[test]
fn branchcache_requests_all_at_once_cross_the_wan_once_per_client() {
    let (_d, out) = branch_run(20, "branchcache = true", "\"0s\"", &[]);
    let s = summary(&out);
    assert_eq!(
        bytes(&s, &["bytes", "by_source", "dp"]),
        20 * (GB + INFO_1GB),
        "{s}"
    );
    assert_eq!(bytes(&s, &["bytes", "by_source", "branchcache"]), 0);
    assert_eq!(
        bytes(&s["sites"]["Branch"]["bytes"], &["over_wan"]),
        20 * (GB + INFO_1GB)
    );
}

/// BranchCache shares within a subnet only: with 2 subnets, each takes one copy
/// over the WAN; clients stand in subnet `k mod 2`.
#[test]
fn branchcache_does_not_cross_subnets() {
    let poll = r#"{ dist = "uniform", min = "0s", max = "20h" }"#;
    let (_d, out) = branch_run(20, "branchcache = true\nsubnets = 2", poll, &[]);
    let s = summary(&out);
    assert_eq!(
        bytes(&s, &["bytes", "by_source", "dp"]),
        2 * GB + 20 * INFO_1GB,
        "{s}"
    );
    assert_eq!(bytes(&s, &["bytes", "by_source", "branchcache"]), 18 * GB);
    let rows = csv_rows(&out.join("clients.csv"));
    for r in &rows {
        let k: u64 = r["client"].parse().unwrap();
        assert_eq!(r["subnet"], (k % 2).to_string(), "{r:?}");
    }
}

/// Two power schedules: `early` machines are on 00:00-`early_end`, `late` ones
/// 05:00-12:00, so late machines ask for the package at 05:00, when the early ones
/// (done since about 00:07) may still be on. The branch has one peer cache source,
/// chosen by `pick` among the early clients of a first run without peers.
pub(crate) fn source_scenario(
    early_end: &str,
    power: &str,
    pick_late: bool,
) -> (tempfile::TempDir, std::path::PathBuf, Vec<u64>) {
    let calendar = format!(
        r#"
[[power_schedules]]
name = "early"
on = "daily 00:00-{early_end}"
[[power_schedules]]
name = "late"
on = "daily 05:00-12:00"
"#
    );
    let text = |extra: &str| {
        branch(10, extra, "1GB")
            .replace("exact_shares = true", &format!("exact_shares = true\npower = {power}\npower_schedule = {{ early = 0.5, late = 0.5 }}"))
            + &calendar
    };
    let (_d0, out0) = run_scenario(&text(""), &[]);
    let rows = csv_rows(&out0.join("clients.csv"));
    let of = |name: &str| -> Vec<u64> {
        rows.iter()
            .filter(|r| r["power_schedule"] == name)
            .map(|r| r["client"].parse().unwrap())
            .collect()
    };
    let (early, late) = (of("early"), of("late"));
    assert_eq!((early.len(), late.len()), (5, 5), "{rows:?}");
    let source = if pick_late { late[0] } else { early[0] };
    let (d, out) = run_scenario(
        &text(&format!("peer_cache = {{ sources = [{source}] }}")),
        &[],
    );
    (d, out, late)
}

/// The source is on until 05:05: the five late clients share its 100 Mbps link
/// fairly (20 Mbps each) for 300 s, then it switches off and stops serving; each
/// keeps 750 MB and fetches the other 250 MB from the DP over the WAN.
#[test]
fn a_peer_cache_source_serves_fairly_until_it_switches_off() {
    let (_d, out, late) = source_scenario("05:05", "{ ac = 1.0 }", false);
    let s = summary(&out);
    // 100 Mbps for 300 s.
    let served = 100_000_000 / 8 * 300;
    assert_eq!(served, 3_750_000_000);
    assert_eq!(
        bytes(&s, &["bytes", "by_source", "peer_cache"]),
        served,
        "{s}"
    );
    assert_eq!(bytes(&s, &["bytes", "by_source", "dp"]), 10 * GB - served);
    assert_eq!(
        bytes(&s["sites"]["Branch"]["bytes"], &["over_wan"]),
        10 * GB - served
    );
    assert_eq!(s["outcomes"]["succeeded"], 10);
    let rows = csv_rows(&out.join("clients.csv"));
    for r in &rows {
        let c: u64 = r["client"].parse().unwrap();
        let want = if late.contains(&c) { served / 5 } else { 0 };
        assert_eq!(r["bytes_from_peers"], want.to_string(), "{r:?}");
        assert_eq!(r["bytes_downloaded"], GB.to_string(), "{r:?}");
    }
    let sources: Vec<&str> = rows
        .iter()
        .filter(|r| r["peer_cache_source"] == "true")
        .map(|r| r["client"].as_str())
        .collect();
    assert_eq!(sources.len(), 1);
}

/// A source that is off (its schedule ended at 04:00), or on battery, serves
/// nothing: every byte crosses the WAN.
#[test]
fn a_peer_cache_source_that_is_off_or_on_battery_serves_nothing() {
    for (end, power) in [("04:00", "{ ac = 1.0 }"), ("05:05", "{ battery = 1.0 }")] {
        let (_d, out, _) = source_scenario(end, power, false);
        let s = summary(&out);
        assert_eq!(
            bytes(&s, &["bytes", "by_source", "peer_cache"]),
            0,
            "{end} {power}: {s}"
        );
        assert_eq!(bytes(&s, &["bytes", "by_source", "dp"]), 10 * GB);
    }
}

/// A source among the late clients asks at the same moment as the others, so it
/// holds nothing yet when they ask: all at once, peer cache saves nothing either.
#[test]
fn a_peer_cache_source_serves_only_what_it_holds_whole() {
    let (_d, out, _) = source_scenario("05:05", "{ ac = 1.0 }", true);
    let s = summary(&out);
    assert_eq!(bytes(&s, &["bytes", "by_source", "peer_cache"]), 0, "{s}");
}

/// Same scenario and seed, same outputs whatever the thread count (the plots
/// are drawn on threads; the simulation is not, and must not depend on them).
#[test]
fn peer_runs_are_identical_across_thread_counts() {
    let poll = r#"{ dist = "uniform", min = "0s", max = "3h" }"#;
    let extra =
        "branchcache = true\nsubnets = 3\npeer_cache = { sources = 0.1, max_connections = 2 }";
    let text =
        branch(60, extra, "1GB").replace("policy_poll = \"0s\"", &format!("policy_poll = {poll}"));
    let (dir, sc) = scenario(&text);
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}"));
        let o = std::process::Command::new(bin())
            .args([
                "run",
                sc.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--per-client",
                "--quiet",
            ])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outs.push(out);
    }
    for f in ["clients.csv", "steps.csv", "failures.csv", "bandwidth.csv"] {
        let x = std::fs::read(outs[0].join(f)).unwrap();
        let y = std::fs::read(outs[1].join(f)).unwrap();
        assert!(x == y, "{f} differs");
    }
    let (mut x, mut y) = (summary(&outs[0]), summary(&outs[1]));
    x.as_object_mut().unwrap().remove("run");
    y.as_object_mut().unwrap().remove("run");
    assert_eq!(x, y);
    let s = &x["bytes"]["by_source"];
    assert!(
        bytes(s, &["branchcache"]) > 0 && bytes(s, &["peer_cache"]) > 0,
        "{s}"
    );
    assert_eq!(
        bytes(&x, &["bytes", "total"]),
        bytes(s, &["dp"]) + bytes(s, &["branchcache"]) + bytes(s, &["peer_cache"])
    );
}

/// An inventory's `subnet` column places its devices: six devices of the branch in
/// two subnets of three (the site's `subnets` key is not used for them), so
/// BranchCache takes one copy per subnet over the WAN, and `clients.csv` names the
/// subnets as the inventory does.
#[test]
fn an_inventory_subnet_column_sets_the_branchcache_subnets() {
    let poll = r#"{ dist = "uniform", min = "0s", max = "20h" }"#;
    let text = branch(6, "branchcache = true\nsubnets = 6", "1GB")
        .replace("policy_poll = \"0s\"", &format!("policy_poll = {poll}"))
        .replace("clients = 6\n", "inventory = \"devices.csv\"\n");
    let (dir, sc) = scenario(&text);
    let mut csv = String::from("name,site,subnet\n");
    for i in 0..6 {
        csv.push_str(&format!("PC{i},Branch,10.2.{}.0/24\n", i % 2));
    }
    std::fs::write(dir.path().join("devices.csv"), csv).unwrap();
    let out = dir.path().join("out");
    run_file(&sc, &out, &["--per-client"]);
    let s = summary(&out);
    assert_eq!(
        bytes(&s, &["bytes", "by_source", "dp"]),
        2 * GB + 6 * INFO_1GB,
        "{s}"
    );
    assert_eq!(bytes(&s, &["bytes", "by_source", "branchcache"]), 4 * GB);
    let rows = csv_rows(&out.join("clients.csv"));
    for r in &rows {
        let k: u64 = r["client"].parse().unwrap();
        assert_eq!(r["subnet"], format!("10.2.{}.0/24", k % 2), "{r:?}");
    }
}

/// `peer_cache.precache`: the source downloads the package as soon as it has the
/// policy, so it holds it when the others ask, even when it asks for its own
/// upgrade after all of them. Without it the same source serves nothing.
#[test]
fn pre_caching_sources_hold_the_content_before_their_peers_ask() {
    // Policies spread over 20 h; the source is the client whose policy comes last.
    let poll = r#"{ dist = "uniform", min = "0s", max = "20h" }"#;
    let (_d0, out0) = branch_run(10, "", poll, &[]);
    let rows = csv_rows(&out0.join("clients.csv"));
    let last = rows
        .iter()
        .max_by(|a, b| {
            let t = |r: &std::collections::HashMap<String, String>| -> f64 {
                r["policy_s"].parse().unwrap()
            };
            t(a).total_cmp(&t(b))
        })
        .map(|r| r["client"].clone())
        .unwrap();
    // Users click Install 24 h after the policy: by then every source has it.
    let run = |precache: bool| {
        let extra = format!("peer_cache = {{ sources = [{last}], precache = {precache} }}");
        let text = branch(10, &extra, "1GB")
            .replace("policy_poll = \"0s\"", &format!("policy_poll = {poll}"))
            .replace("user_start = \"0s\"", "user_start = \"24h\"");
        run_scenario(&text, &[])
    };
    let (_d1, seeded) = run(true);
    let s = summary(&seeded);
    assert_eq!(
        bytes(&s, &["bytes", "by_source", "peer_cache"]),
        9 * GB,
        "{s}"
    );
    assert_eq!(bytes(&s, &["bytes", "by_source", "dp"]), GB);
    assert_eq!(bytes(&s, &["bytes", "precache"]), GB);
    let (_d2, plain) = run(false);
    let s = summary(&plain);
    assert_eq!(bytes(&s, &["bytes", "by_source", "peer_cache"]), 0, "{s}");
    assert_eq!(bytes(&s, &["bytes", "by_source", "dp"]), 10 * GB);
}
