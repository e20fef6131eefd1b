//! Max-min fair sharing, checked end to end against hand-computed completion times.

use crate::common::*;

fn end_times(dir: &std::path::Path) -> Vec<(String, String)> {
    csv_rows(&dir.join("clients.csv"))
        .into_iter()
        .map(|r| (r["network"].clone(), r["end_s"].clone()))
        .collect()
}

#[test]
fn thousand_simultaneous_downloads_end_together_at_800s() {
    let text = one_download(
        1000,
        "{ wired = 1.0 }",
        r#"wired = "1Gbps""#,
        "[[distribution_points]]\nname = \"DP1\"\nbandwidth = \"10Gbps\"\nmax_connections = 4000",
        "1GB",
    );
    let (_dir, out) = run_scenario(&text, &[]);
    let ends = end_times(&out);
    assert_eq!(ends.len(), 1000);
    // 1000 x 1 GB through 10 Gbps: 8e12 bits / 1e10 bit/s = 800 s, to the microsecond.
    assert!(ends.iter().all(|(_, e)| e == "800"), "{:?}", &ends[..3]);
    let s = summary(&out);
    assert_eq!(s["outcomes"]["succeeded"], 1000);
    assert_eq!(s["bytes"]["total"], 1_000_000_000_000u64);
    assert_eq!(s["bytes"]["by_dp"]["DP1"], 1_000_000_000_000u64);
}

#[test]
fn wired_and_vpn_share_max_min_fairly() {
    let text = one_download(
        100,
        "{ wired = 0.5, vpn = 0.5 }",
        "wired = \"1Gbps\"\nvpn = \"20Mbps\"",
        "[[distribution_points]]\nname = \"DP1\"\nbandwidth = \"10Gbps\"",
        "1GB",
    );
    let (_dir, out) = run_scenario(&text, &[]);
    let ends = end_times(&out);
    let wired: Vec<_> = ends.iter().filter(|(n, _)| n == "wired").collect();
    let vpn: Vec<_> = ends.iter().filter(|(n, _)| n == "vpn").collect();
    assert_eq!((wired.len(), vpn.len()), (50, 50));
    // VPN clients are held at their 20 Mbps cap; the 50 wired ones share the other
    // 9 Gbps: 180 Mbps each, 8e9 bits / 1.8e8 = 44.444445 s (rounded up to the µs).
    for (_, e) in &wired {
        let t: f64 = e.parse().unwrap();
        assert!((t - 44.444444).abs() <= 2e-6, "wired ended at {t}");
    }
    assert!(vpn.iter().all(|(_, e)| e == "400"), "{vpn:?}");
}

#[test]
fn wan_link_is_shared_by_a_sites_downloads_from_another_site() {
    let sites = r#"
[[sites]]
name = "Branch"
share = 1.0
wan = "1Gbps"
distribution_points = ["DP-HQ"]
[[sites]]
name = "HQ"
share = 0.0
[[distribution_points]]
name = "DP-HQ"
site = "HQ"
bandwidth = "10Gbps"
"#;
    let text = one_download(10, "{ wired = 1.0 }", "wired = \"1Gbps\"", sites, "1GB");
    let (_dir, out) = run_scenario(&text, &[]);
    // Each of the 10 gets 100 Mbps of the 1 Gbps WAN: 8e9 / 1e8 = 80 s.
    assert!(end_times(&out).iter().all(|(_, e)| e == "80"));
    let rows = csv_rows(&out.join("bandwidth.csv"));
    let wan: Vec<_> = rows.iter().filter(|r| r["dp"] == "wan:Branch").collect();
    assert!(!wan.is_empty());
    // Saturated during the first 80 s: 1 Gbps in every 10 s bucket.
    for r in wan
        .iter()
        .filter(|r| r["time_s"].parse::<f64>().unwrap() < 80.0)
    {
        assert_eq!(r["bps"], "1000000000", "{r:?}");
        assert_eq!(r["active_downloads"], "10");
    }
}
