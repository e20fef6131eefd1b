//! Sites in every output (issue 15): per-site figures in `summary.json` add up to the
//! fleet's, and the time a WAN link ran full is exact.

use crate::common::*;

/// Two sites; every client of the branch downloads from the HQ DP over the branch's
/// WAN link. `caps` is the client link cap.
fn branch(clients: u64, caps: &str) -> String {
    one_download(
        clients,
        "{ wired = 1.0 }",
        caps,
        r#"
[[sites]]
name = "HQ"
share = 0.0
distribution_points = ["DP1"]
[[sites]]
name = "Branch"
share = 1.0
wan = "8Mbps"
distribution_points = []
fallback = { after = "0s", distribution_points = ["DP1"] }
[[distribution_points]]
name = "DP1"
site = "HQ"
bandwidth = "10Gbps"
"#,
        "10MB",
    )
}

fn busy_s(dir: &std::path::Path) -> f64 {
    summary(dir)["sites"]["Branch"]["wan"]["busy_s"]
        .as_f64()
        .expect("busy_s")
}

/// Hand-computed: two clients capped at 4 Mbps share an 8 Mbps WAN link, so together
/// they fill it (rate = capacity) until both have their 10 MB: 20 MB at 1 MB/s = 20 s
/// busy. One such client alone uses half the link: never busy. Ten uncapped clients
/// fill it for 100 MB / 1 MB/s = 100 s.
#[test]
fn a_saturated_wan_link_shows_in_busy_hours() {
    let (_d, out) = run_scenario(&branch(2, "wired = \"4Mbps\""), &[]);
    assert_eq!(busy_s(&out), 20.0);
    let s = summary(&out);
    let b = &s["sites"]["Branch"];
    assert_eq!(b["wan"]["capacity_bps"], 8_000_000);
    assert_eq!(b["bytes"]["over_wan"], 20_000_000);
    assert_eq!(b["bytes"]["total"], 20_000_000);
    assert_eq!(b["bytes"]["from_peers"], 0);
    assert_eq!(s["sites"]["HQ"]["wan"], serde_json::Value::Null);
    assert_eq!(s["sites"]["HQ"]["bytes"]["over_wan"], 0);

    let (_d, out) = run_scenario(&branch(1, "wired = \"4Mbps\""), &[]);
    assert_eq!(busy_s(&out), 0.0);
    assert_eq!(
        summary(&out)["sites"]["Branch"]["wan"]["peak_bps"],
        4_000_000.0
    );

    let (_d, out) = run_scenario(&branch(10, "wired = \"1Gbps\""), &[]);
    assert_eq!(busy_s(&out), 100.0);
}

/// Every site's clients, outcomes and bytes add up to the fleet's, and a site's
/// bytes over its WAN link are part of its bytes.
#[test]
fn site_figures_add_up_to_the_fleets() {
    let sc = repo().join("scenarios/branch-offices.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_file(&sc, &out, &["--set", "fleet.clients=600", "--per-client"]);
    let s = summary(&out);
    let sites = s["sites"].as_object().expect("sites");
    assert_eq!(sites.len(), 4);
    let sum = |f: &dyn Fn(&serde_json::Value) -> u64| sites.values().map(f).sum::<u64>();
    assert_eq!(sum(&|x| x["clients"].as_u64().unwrap()), 600);
    for k in [
        "succeeded",
        "rolled_back",
        "failed",
        "in_progress",
        "not_started",
    ] {
        assert_eq!(
            sum(&|x| x["outcomes"][k].as_u64().unwrap()),
            s["outcomes"][k].as_u64().unwrap(),
            "{k}"
        );
    }
    assert_eq!(
        sum(&|x| x["bytes"]["total"].as_u64().unwrap()),
        s["bytes"]["total"].as_u64().unwrap()
    );
    for (name, x) in sites {
        assert!(
            x["bytes"]["over_wan"].as_u64() <= x["bytes"]["total"].as_u64(),
            "{name}"
        );
        let share = x["compliance"]["final_share"].as_f64().unwrap();
        let ok = x["outcomes"]["succeeded"].as_f64().unwrap();
        assert!(
            (share - ok / x["clients"].as_f64().unwrap()).abs() < 1e-12,
            "{name}"
        );
    }
    // Per client: the site column of clients.csv agrees with the site counts.
    let rows = csv_rows(&out.join("clients.csv"));
    for (name, x) in sites {
        let n = rows.iter().filter(|r| &r["site"] == name).count() as u64;
        assert_eq!(n, x["clients"].as_u64().unwrap(), "{name}");
    }
}
