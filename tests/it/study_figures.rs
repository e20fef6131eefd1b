//! Honest studies (issue 15): the site columns of `sweep.csv` and `compare.csv` are the
//! per-site figures of the runs they summarise, and the `±` figures the terminal
//! prints after `run --replications` and `sweep` are the half-widths the files hold.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use crate::compare::{leaves, printed};

/// The quickstart scenario with a branch that has no DP of its own: its clients
/// fall back to the HQ DP over their WAN link, so every per-site figure (bytes over
/// WAN, WAN busy time and peak) is non-zero and depends on the link.
pub(crate) fn branch_over_wan() -> Vec<String> {
    [
        repo()
            .join("scenarios/quickstart.toml")
            .to_string_lossy()
            .into_owned(),
        "--set".into(),
        "fleet.clients=100".into(),
        "--set".into(),
        "sites.1.distribution_points=[]".into(),
    ]
    .into()
}

/// A sweep of the branch's WAN link, 2 values x 2 replications, into `out`.
pub(crate) fn wan_sweep(out: &Path) -> String {
    let mut args: Vec<String> = vec!["sweep".into()];
    args.extend(branch_over_wan());
    args.extend(
        [
            "--vary",
            "sites.1.wan=200Mbps,1Gbps",
            "--replications",
            "2",
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from),
    );
    ok(&args.iter().map(|s| s.as_str()).collect::<Vec<_>>())
}

/// `a` and `b` agree to the six significant digits `sweep.csv` writes.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn sweep_csv_site_columns_are_each_points_site_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    wan_sweep(&out);
    let text = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let rows = csv_rows(&out.join("sweep.csv"));
    assert_eq!(rows.len(), 2);
    let mut checked = 0;
    for (p, row) in rows.iter().enumerate() {
        let point = summary(&out.join(format!("points/{p}")));
        let (means, ci) = (
            &point["replications"]["mean"],
            &point["replications"]["ci95"],
        );
        let mut sites = Vec::new();
        leaves("sites", &point["sites"], &mut sites);
        assert!(sites.len() >= 25, "{sites:?}");
        for (k, v) in sites {
            let (mean, half) = (format!("{k}.mean"), format!("{k}.ci95"));
            assert!(header.contains(&mean.as_str()), "no {mean} in {header:?}");
            assert!(header.contains(&half.as_str()), "no {half} in {header:?}");
            match v.as_f64() {
                Some(x) => {
                    // The mean over the replications, as the point's summary keeps it
                    // exactly under replications.mean; its `sites` object shows counts
                    // and bytes of one rollout, rounded to whole clients and bytes.
                    let got: f64 = row[&mean].parse().unwrap();
                    let exact = means[&k].as_f64().expect("a mean per site figure");
                    assert!(close(got, exact), "point {p} {k}: {got} vs {exact}");
                    if k.ends_with(".peak_bps") {
                        // A merged folder's peak is the largest of its replications'.
                        assert!(x >= got, "point {p} {k}: {got} vs {x}");
                    } else if v.is_f64() {
                        assert!(close(got, x), "point {p} {k}: {got} vs {x}");
                    } else {
                        assert!((got - x).abs() <= 0.5, "point {p} {k}: {got} vs {x}");
                    }
                    let want = ci[&k].as_f64().unwrap_or(0.0);
                    let got: f64 = row[&half].parse().unwrap();
                    assert!(close(got, want), "point {p} {k} ci: {got} vs {want}");
                    checked += 1;
                }
                // A null (HQ has no WAN link; a level never reached) is an empty cell.
                None => assert_eq!((row[&mean].as_str(), row[&half].as_str()), ("", "")),
            }
        }
        // The varied link is the one the branch figures describe.
        let cap = point["sites"]["Branch"]["wan"]["capacity_bps"].as_f64();
        assert_eq!(cap, Some([2e8, 1e9][p]));
        assert!(point["sites"]["Branch"]["bytes"]["over_wan"].as_f64() > Some(0.0));
    }
    assert!(checked >= 40, "{checked}");
    // The two links give different busy times: the columns are per point.
    assert_ne!(
        rows[0]["sites.Branch.wan.busy_s.mean"],
        rows[1]["sites.Branch.wan.busy_s.mean"]
    );
}

fn run_into(out: &Path, wan: &str) {
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(branch_over_wan());
    args.extend(
        [
            "--set",
            &format!("sites.1.wan={wan}"),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]
        .map(String::from),
    );
    ok(&args.iter().map(|s| s.as_str()).collect::<Vec<_>>());
}

#[test]
fn compare_csv_site_rows_are_each_runs_site_figures() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_into(&a, "200Mbps");
    run_into(&b, "1Gbps");
    let out = dir.path().join("cmp");
    ok(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert_eq!(text.lines().next(), Some("key,a,b,diff_pct"));
    let rows: HashMap<String, HashMap<String, String>> = csv_rows(&out.join("compare.csv"))
        .into_iter()
        .map(|r| (r["key"].clone(), r))
        .collect();
    let (sa, sb) = (summary(&out.join("a")), summary(&out.join("b")));
    let mut la = Vec::new();
    leaves("sites", &sa["sites"], &mut la);
    let mut lb = Vec::new();
    leaves("sites", &sb["sites"], &mut lb);
    assert_eq!(
        la.iter().map(|x| &x.0).collect::<Vec<_>>(),
        lb.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
    assert!(la.len() >= 25, "{la:?}");
    let mut moved = 0;
    for ((k, va), (_, vb)) in la.iter().zip(&lb) {
        let r = rows
            .get(k)
            .unwrap_or_else(|| panic!("no {k} row in compare.csv"));
        assert_eq!(r["a"], printed(va), "{k}");
        assert_eq!(r["b"], printed(vb), "{k}");
        if let (Some(x), Some(y)) = (va.as_f64(), vb.as_f64())
            && x != 0.0
        {
            let pct: f64 = r["diff_pct"].parse().unwrap();
            assert!((pct - (y - x) / x.abs() * 100.0).abs() < 1e-3, "{k}: {r:?}");
            moved += usize::from(x != y);
        }
    }
    // The WAN link's own figures differ between the runs.
    assert!(moved >= 2, "{moved}");
    assert_eq!(rows["sites.Branch.wan.capacity_bps"]["a"], "200000000");
    assert_eq!(rows["sites.Branch.wan.capacity_bps"]["b"], "1000000000");
}

/// `human_secs` of the report and the terminal: `42.0s`, `3.5m`, `7.2h`, `2.1d`.
fn human_secs(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.1}s")
    } else if s < 7200.0 {
        format!("{:.1}m", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1}h", s / 3600.0)
    } else {
        format!("{:.1}d", s / 86400.0)
    }
}

/// The text after `what ` in `line`, up to the next `,` or double space.
fn after<'a>(line: &'a str, what: &str) -> &'a str {
    let at = line
        .find(what)
        .unwrap_or_else(|| panic!("no {what:?} in {line:?}"));
    let rest = &line[at + what.len()..];
    let end = [rest.find(", "), rest.find("  ")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    rest[..end].trim()
}

/// `m ± h` split; a cell without `±` has a zero half-width.
fn pm(cell: &str) -> (&str, Option<&str>) {
    match cell.split_once(" ± ") {
        Some((m, h)) => (m, Some(h)),
        None => (cell, None),
    }
}

#[test]
fn run_replications_prints_the_half_widths_of_replications_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("reps");
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(branch_over_wan());
    args.extend(["--replications", "3", "--out", out.to_str().unwrap()].map(String::from));
    let stdout = ok(&args.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    let rows = csv_rows(&out.join("replications.csv"));
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let ci = summary(&out)["replications"]["ci95"].clone();
    let half = |k: &str| -> f64 {
        let h: f64 = row[&format!("{k}.ci95")].parse().unwrap();
        // replications.csv and summary.json's replications.ci95 agree.
        assert!(close(h, ci[k].as_f64().unwrap()), "{k}");
        h
    };
    let line = stdout
        .lines()
        .find(|l| l.starts_with("95% confidence half-widths over the replications:"))
        .unwrap_or_else(|| panic!("{stdout}"));
    for (what, k) in [
        ("succeeded ±", "outcomes.succeeded"),
        ("failed ±", "outcomes.failed"),
    ] {
        assert_eq!(after(line, what), format!("{:.1}", half(k)), "{line}");
    }
    assert!(
        half("outcomes.succeeded") > 0.0,
        "3 replications that all agree"
    );
    let last = stdout
        .lines()
        .find(|l| l.contains("mean ± 95% half-width per replication:"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let mean = |k: &str| -> f64 { row[&format!("{k}.mean")].parse().unwrap() };
    let (m, h) = pm(after(last, "succeeded "));
    assert_eq!(m, format!("{:.1}", mean("outcomes.succeeded")), "{last}");
    assert_eq!(
        h,
        Some(format!("{:.1}", half("outcomes.succeeded")).as_str())
    );
    let k = "latency.time_to_compliance.p95";
    let (m, h) = pm(after(last, "compliance p95 "));
    assert_eq!(m, human_secs(mean(k)), "{last}");
    assert_eq!(h, Some(human_secs(half(k)).as_str()), "{last}");
}

#[test]
fn sweep_prints_the_half_widths_of_sweep_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let stdout = wan_sweep(&out);
    let rows = csv_rows(&out.join("sweep.csv"));
    let lines: Vec<&str> = stdout.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.starts_with("point "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let split = |l: &str| -> Vec<String> {
        l.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    };
    let cols = split(lines[head]);
    let mut with_pm = 0;
    for (p, row) in rows.iter().enumerate() {
        let cells = split(lines[head + 1 + p]);
        assert_eq!(cells.len(), cols.len(), "{:?}", lines[head + 1 + p]);
        assert_eq!(cells[0], p.to_string());
        assert_eq!(cells[1], row["sites.1.wan"]);
        for (col, key, secs) in [
            ("succeeded", "outcomes.succeeded", false),
            ("95% compliant at", "compliance.p95_s", true),
            ("compliance p95", "latency.time_to_compliance.p95", true),
            ("download p95", "latency.download.p95", true),
        ] {
            let at = cols.iter().position(|c| c == col).expect(col);
            let (m, h) = pm(&cells[at]);
            let Ok(mean) = row[&format!("{key}.mean")].parse::<f64>() else {
                assert_eq!(m, "never", "{col}");
                continue;
            };
            let half: f64 = row[&format!("{key}.ci95")].parse().unwrap();
            let show = |x: f64| {
                if secs {
                    human_secs(x)
                } else {
                    format!("{x:.1}")
                }
            };
            if half > 0.0 {
                assert_eq!(m, show(mean), "point {p} {col}");
                assert_eq!(h, Some(show(half).as_str()), "point {p} {col}");
                with_pm += 1;
            } else {
                assert_eq!(h, None, "point {p} {col}");
            }
        }
    }
    assert!(with_pm >= 4, "{with_pm} figures with a ± in:\n{stdout}");
}
