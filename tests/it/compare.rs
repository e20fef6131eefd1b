//! `fleetsim compare A B`: both columns and the change for every key of
//! `summary.json`, overlay plots, and a self-contained comparison folder.

use std::path::Path;

use crate::common::*;
use crate::plots::{decode_png, svg_texts};

/// Dotted paths of every leaf of a JSON document (also used by `study_figures`).
pub(crate) fn leaves(
    prefix: &str,
    v: &serde_json::Value,
    out: &mut Vec<(String, serde_json::Value)>,
) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&p, x, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(&format!("{prefix}.{i}"), x, out);
            }
        }
        leaf => out.push((prefix.to_string(), leaf.clone())),
    }
}

/// A JSON figure as `compare.csv` and the comparison table print it.
pub(crate) fn printed(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "none".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) if n.is_f64() => {
            let s = format!("{:.3}", n.as_f64().unwrap());
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        other => other.to_string(),
    }
}

fn check_table(stdout: &str, a: &Path, b: &Path) {
    let (sa, sb) = (summary(a), summary(b));
    let mut keys = Vec::new();
    leaves("", &sa, &mut keys);
    let mut kb = Vec::new();
    leaves("", &sb, &mut kb);
    assert!(keys.len() > 60, "summary has {} leaves", keys.len());
    // failure_names are labels of failures_by_code, not figures: compare leaves them out.
    keys.retain(|(k, _)| !k.starts_with("failure_names."));
    for (k, va) in keys {
        let vb = kb
            .iter()
            .find(|(x, _)| *x == k)
            .map(|(_, v)| v.clone())
            .unwrap();
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(k.as_str()))
            .unwrap_or_else(|| panic!("no row for {k} in:\n{stdout}"));
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells.len(), 4, "{line}");
        // Durations, sizes and rates are printed in human units, the rest as is.
        for (cell, v) in [(cells[1], &va), (cells[2], &vb)] {
            let human = ["latency.", "compliance.p", "bytes.", "peak.", "sim_end_s"]
                .iter()
                .any(|p| k.starts_with(p) || k.contains(&format!(".{p}")))
                && !k.ends_with(".count")
                && !k.ends_with("active_downloads")
                && !k.ends_with(".queued")
                && !v.is_null();
            if human {
                assert!(
                    ["s", "m", "h", "d", "B", "bps"]
                        .iter()
                        .any(|u| cell.ends_with(u)),
                    "{k}: {cell} has no unit in {line}"
                );
            } else if !k.starts_with("sites.") || !k.contains(".wan") {
                assert_eq!(cell, printed(v), "{k}: column in {line}");
            }
        }
        let d = cells[3];
        assert!(
            d.ends_with('%') || d == "n/a" || d == "same" || d == "differs",
            "{k}: difference {d:?}"
        );
        if let (Some(x), Some(y)) = (va.as_f64(), vb.as_f64())
            && x != 0.0
            && ((y - x) / x).abs() > 0.01
        {
            let pct: f64 = d.trim_end_matches('%').parse().unwrap();
            assert!(
                (pct - (y - x) / x.abs() * 100.0).abs() < 0.06,
                "{k}: {d} for {x} -> {y}"
            );
        }
    }
}

#[test]
fn precache_vs_on_demand_scenarios_every_summary_key_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let stdout = ok(&[
        "compare",
        repo().join("scenarios/precache.toml").to_str().unwrap(),
        repo().join("scenarios/on-demand.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let header = stdout
        .lines()
        .find(|l| l.starts_with("summary.json"))
        .unwrap();
    assert!(
        header.contains("precache") && header.contains("on-demand"),
        "{header}"
    );
    check_table(&stdout, &out.join("a"), &out.join("b"));
    // The runs are complete result folders of their own.
    for sub in ["a", "b"] {
        assert!(out.join(sub).join("plots/completions.svg").is_file());
        assert!(out.join(sub).join("scenario.toml").is_file());
    }
    assert_eq!(summary(&out.join("a"))["scenario"], "precache");
    assert_eq!(summary(&out.join("b"))["bytes"]["precache"], 0);
    // Overlay plots with both runs in the legend.
    for c in [
        "compare_completions",
        "compare_bandwidth",
        "compare_latency",
    ] {
        let t = svg_texts(&out.join("plots").join(format!("{c}.svg")));
        assert!(
            t.contains("precache") && t.contains("on-demand"),
            "{c}: {t}"
        );
        let (_, _, px) = decode_png(&out.join("plots").join(format!("{c}.png")));
        let colours: std::collections::HashSet<_> = px.into_iter().collect();
        assert!(colours.len() > 16, "{c}.png is nearly blank");
    }
    let rows = csv_rows(&out.join("compare.csv"));
    let install = rows
        .iter()
        .find(|r| r["key"] == "latency.install_wait.p95")
        .unwrap();
    // On demand, Install waits for the download: the point of the pair. (+71% since
    // the task sequence's own downloads stopped waiting the branches' 2 h fallback
    // time, issue 18; pre-cache, the client's own download, still waits it.)
    assert!(
        install["diff_pct"].parse::<f64>().unwrap() > 50.0,
        "{install:?}"
    );
}

#[test]
fn result_folders_are_copied_and_same_scenarios_get_a_and_b_labels() {
    let dir = tempfile::tempdir().unwrap();
    let sc = repo().join("scenarios/quickstart.toml");
    let (a, b) = (dir.path().join("ra"), dir.path().join("rb"));
    for (out, seed) in [(&a, "1"), (&b, "2")] {
        ok(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--seed",
            seed,
            "--set",
            "fleet.clients=1000",
        ]);
    }
    let out = dir.path().join("cmp");
    let stdout = ok(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let header = stdout
        .lines()
        .find(|l| l.starts_with("summary.json"))
        .unwrap();
    assert!(
        header.contains("A: quickstart") && header.contains("B: quickstart"),
        "{header}"
    );
    check_table(&stdout, &a, &b);
    assert_eq!(
        std::fs::read(a.join("bandwidth.csv")).unwrap(),
        std::fs::read(out.join("a/bandwidth.csv")).unwrap()
    );
    let seed_row = stdout.lines().find(|l| l.starts_with("seed ")).unwrap();
    assert!(seed_row.ends_with("+100.0%"), "{seed_row}");
}

#[test]
fn a_missing_input_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = fleetsim(&[
        "compare",
        dir.path().join("nope").to_str().unwrap(),
        repo().join("scenarios/precache.toml").to_str().unwrap(),
        "--out",
        dir.path().join("cmp").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nope") && err.contains("no such"), "{err}");
    assert!(!dir.path().join("cmp").exists());
}
