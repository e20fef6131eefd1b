//! The fluid model against queueing theory: M/G/1 processor sharing and M/D/1.

use crate::common::*;

fn mean_download(extra: &[&str]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let sc = repo().join("scenarios/ps-link.toml");
    run_file(&sc, &out, extra);
    let s = summary(&out);
    assert_eq!(s["latency"]["download"]["count"], 40_000);
    s["latency"]["download"]["mean"].as_f64().unwrap()
}

#[test]
fn processor_sharing_mean_sojourn_matches_mg1_ps() {
    // rho = 0.5, E[S]/C = 8 s: (E[S]/C) / (1 - rho) = 16 s.
    let m = mean_download(&[]);
    assert!(
        (m - 16.0).abs() / 16.0 < 0.03,
        "mean download {m} s, expected 16 s within 3%"
    );
}

#[test]
fn one_connection_slot_matches_md1() {
    // M/D/1: S/C + rho (S/C) / (2 (1 - rho)) = 8 + 4 = 12 s.
    let m = mean_download(&["--set", "distribution_points.0.max_connections=1"]);
    assert!(
        (m - 12.0).abs() / 12.0 < 0.03,
        "mean download {m} s, expected 12 s within 3%"
    );
}
