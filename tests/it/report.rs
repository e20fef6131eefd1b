//! `fleetsim report DIR`: one self-contained page with every plot and table, checked
//! in a real browser (headless Chromium) when one is installed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::plots::{CHARTS, decode_png, small_run};

/// Nothing on the page may load from elsewhere.
fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for bad in [
        "http://", "https://", "src=", "<link", "@import", "url(", "<script", "href=",
    ] {
        assert!(!lower.contains(bad), "report.html contains {bad:?}");
    }
}

fn report(dir: &Path) -> String {
    let out = ok(&["report", dir.to_str().unwrap()]);
    assert!(out.contains("report.html"), "{out}");
    std::fs::read_to_string(dir.join("report.html")).unwrap()
}

#[test]
fn run_report_has_every_plot_and_table_and_nothing_external() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    small_run(&out, 5);
    let html = report(&out);
    assert_self_contained(&html);
    for c in CHARTS {
        assert!(
            html.contains(&format!("<figure id=\"plot-{c}\">")),
            "no {c} figure"
        );
    }
    assert_eq!(html.matches("<svg ").count(), CHARTS.len());
    for section in [
        "Headline figures",
        "Latency",
        "Distribution points and WAN links",
        "Failures",
        "Scenario",
    ] {
        assert!(
            html.contains(&format!(">{section}</h2>")),
            "no {section} section"
        );
    }
    for f in csv_rows(&out.join("failures.csv")) {
        assert!(
            html.contains(&format!("<code>{}</code>", f["code_hex"])),
            "{f:?}"
        );
    }
    for dp in ["DP-HQ-1", "DP-LYON", "wan:Munich"] {
        assert!(html.contains(&format!("<td>{dp}</td>")), "{dp} row");
    }
    assert!(out.join("steps.csv").is_file());
    assert!(html.contains(">Task sequence steps</h2>"));
    assert!(html.contains("Check Readiness for Upgrade"));
    // The scenario as run, escaped.
    assert!(html.contains("name = &quot;precache&quot;"));
}

#[test]
fn comparison_report_has_overlays_both_runs_and_every_summary_key() {
    let dir = tempfile::tempdir().unwrap();
    let sc = repo().join("scenarios/quickstart.toml");
    let on_demand = dir.path().join("od");
    let pre = dir.path().join("pc");
    for (out, precache) in [(&pre, "true"), (&on_demand, "false")] {
        ok(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--set",
            "fleet.clients=1500",
            "--set",
            &format!("deployment.precache={precache}"),
        ]);
    }
    let cmp = dir.path().join("cmp");
    ok(&[
        "compare",
        pre.to_str().unwrap(),
        on_demand.to_str().unwrap(),
        "--out",
        cmp.to_str().unwrap(),
        "--quiet",
    ]);
    let html = report(&cmp);
    assert_self_contained(&html);
    for c in [
        "compare_completions",
        "compare_bandwidth",
        "compare_latency",
    ] {
        assert!(
            html.contains(&format!("<figure id=\"plot-{c}\">")),
            "no {c}"
        );
    }
    for run in ["a", "b"] {
        for c in CHARTS {
            assert!(
                html.contains(&format!("<figure id=\"{run}-plot-{c}\">")),
                "no {run} {c}"
            );
        }
    }
    assert_eq!(html.matches("<svg ").count(), 3 + 2 * CHARTS.len());
    for r in csv_rows(&cmp.join("compare.csv")) {
        assert!(
            html.contains(&format!("<code>{}</code>", r["key"])),
            "no row for {}",
            r["key"]
        );
    }
}

#[test]
fn a_folder_without_results_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = fleetsim(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a result folder"));
}

#[test]
fn folders_written_before_timeline_csv_still_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    small_run(&out, 9);
    for f in ["timeline.csv", "links.csv", "marks.csv"] {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    let html = report(&out);
    assert!(html.contains("no timeline.csv in this result folder"));
    assert_eq!(html.matches("<svg ").count(), CHARTS.len());
}

/// Runs a command, killing it if it outlives `limit`.
fn run_with_timeout(cmd: &mut Command, limit: Duration) -> bool {
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn report_renders_in_headless_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        crate::common::missing_tool(
            "report_renders_in_headless_chromium",
            "/usr/bin/chromium not found (install Debian's `chromium`; .ci/run does)",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    small_run(&out, 5);
    report(&out);
    let shot = dir.path().join("shot.png");
    let profile = dir.path().join("profile");
    let url = format!("file://{}", out.join("report.html").display());
    let ok = run_with_timeout(
        Command::new(chromium).args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
            &url,
        ]),
        Duration::from_secs(120),
    );
    assert!(ok && shot.is_file(), "chromium did not take a screenshot");
    let (w, h, px) = decode_png(&shot);
    assert_eq!((w, h), (1280, 2000));
    let colours: std::collections::HashSet<[u8; 4]> = px.iter().copied().collect();
    assert!(
        colours.len() > 200,
        "screenshot has {} colours: blank page?",
        colours.len()
    );
    // The page background is light grey; cards, tables and charts cover much of it,
    // and text makes dark pixels.
    let bg = [0xf4, 0xf5, 0xf7, 0xff];
    let covered = px.iter().filter(|p| **p != bg).count() as f64 / px.len() as f64;
    let dark = px
        .iter()
        .filter(|p| (p[0] as u32 + p[1] as u32 + p[2] as u32) < 240)
        .count();
    assert!(
        covered > 0.3,
        "only {:.0}% of the page is drawn",
        covered * 100.0
    );
    assert!(dark > 5000, "only {dark} dark pixels: no text?");
    // The plots are drawn, not just their boxes: the series colours are there.
    let green = px
        .iter()
        .filter(|p| p[0] == 0x59 && p[1] == 0xA1 && p[2] == 0x4F)
        .count();
    assert!(
        green > 500,
        "only {green} pixels of the succeeded series colour"
    );
}

#[test]
fn sweep_report_has_its_table_and_the_runs_overlaid() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep");
    let sc = repo().join("scenarios/quickstart.toml");
    for (i, n) in ["800", "1600"].iter().enumerate() {
        ok(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            sweep.join(format!("point-{i}")).to_str().unwrap(),
            "--quiet",
            "--set",
            &format!("fleet.clients={n}"),
        ]);
    }
    std::fs::write(
        sweep.join("sweep.csv"),
        "fleet.clients,outcomes.succeeded.mean\n800,700.5\n1600,1401.25\n",
    )
    .unwrap();
    // Written last by a real sweep; report reads only complete folders.
    std::fs::write(sweep.join(".complete"), "").unwrap();
    let html = report(&sweep);
    assert_self_contained(&html);
    assert!(html.contains("<h1>Sweep: sweep</h1>"));
    assert!(html.contains("<th class=\"num\">outcomes.succeeded.mean</th>"));
    assert!(html.contains("<td class=\"num\">1401.25</td>"));
    assert_eq!(html.matches("<svg ").count(), 3, "the three overlays");
    assert!(html.contains("point-0") && html.contains("point-1"));
}

/// The report of a run with targets opens with the verdict: one line per target,
/// a missed one in red, drawn at the top of the page in headless Chromium.
#[test]
fn report_opens_with_the_verdict_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let sc = repo().join("scenarios/branch-offices.toml");
    let o = fleetsim(&[
        "run",
        sc.to_str().unwrap(),
        "--quiet",
        "--set",
        "fleet.clients=400",
        "--out",
        out.to_str().unwrap(),
        "--target",
        "sites.HQ.clients >= 1",
        "--target",
        "sites.Gdansk.compliance.p95_s <= 72h",
    ]);
    assert_eq!(o.status.code(), Some(3), "one target is missed");
    let html = report(&out);
    let verdict = html.find("id=\"verdict\"").expect("a verdict section");
    let first_chart = html.find("<svg ").expect("charts");
    assert!(verdict < first_chart, "the verdict comes before the charts");
    assert!(html.contains("Verdict: 1 of 2 targets met"), "{html}");
    assert!(html.contains("Gdansk: 95% of its clients compliant within 72h: MISSED"));
    // The completions chart marks the target's time.
    assert!(
        html.contains("target Gdansk 95% by 72h: missed"),
        "no target line on the completions chart"
    );
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        crate::common::missing_tool(
            "report_opens_with_the_verdict_in_headless_chromium",
            "/usr/bin/chromium not found (install Debian's `chromium`; .ci/run does)",
        );
        return;
    }
    let shot = dir.path().join("shot.png");
    let profile = dir.path().join("profile");
    let url = format!("file://{}", out.join("report.html").display());
    let ok = run_with_timeout(
        Command::new(chromium).args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,500",
            &url,
        ]),
        Duration::from_secs(120),
    );
    assert!(ok && shot.is_file(), "chromium did not take a screenshot");
    let (w, h, px) = decode_png(&shot);
    assert_eq!((w, h), (1280, 500));
    let count = |rgb: [u8; 3]| {
        px.iter()
            .filter(|p| p[0] == rgb[0] && p[1] == rgb[1] && p[2] == rgb[2])
            .count()
    };
    // Within the first 500 pixels: the verdict box's border, the missed line in red
    // and the met line's green mark.
    let border = count([0x4e, 0x79, 0xa7]);
    let red = count([0xb7, 0x1c, 0x1c]);
    let green = count([0x2e, 0x7d, 0x32]);
    assert!(border > 1000, "verdict box border: {border} pixels");
    assert!(red > 200, "missed target in red: {red} pixels");
    assert!(green > 20, "met target's green mark: {green} pixels");
}

/// `report` on a plan folder: the question, the answer, every value run and the
/// runs overlaid, named by their values.
#[test]
fn report_on_a_plan_folder_gives_the_answer_and_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan");
    let sc = repo().join("scenarios/branch-offices.toml");
    ok(&[
        "plan",
        sc.to_str().unwrap(),
        "--quiet",
        "--set",
        "fleet.clients=300",
        "--vary",
        "sites.3.wan=10Mbps..200Mbps:10Mbps",
        "--target",
        "sites.Gdansk.wan.busy_s <= 12h",
        "--out",
        out.to_str().unwrap(),
    ]);
    let html = report(&out);
    assert_self_contained(&html);
    assert!(html.contains("<h1>Plan: plan</h1>"), "{html}");
    assert!(html.contains("Answer: <b>sites.3.wan = "), "no answer");
    assert!(html.contains("<h2>Values run</h2>"));
    assert!(html.contains("Runs overlaid"));
    assert!(html.contains("<svg "));
    // The target figure against the values run, named by their values, with the
    // target line; the overlays are named by their values too.
    assert!(
        html.contains("<figure id=\"plan-target\">"),
        "no target chart"
    );
    let plan = csv_rows(&out.join("plan.csv"));
    for r in &plan {
        let label = format!("data-label=\"sites.wan={}\"", r["value"]);
        assert!(html.contains(&label), "no point {label}");
        let drawn = format!(
            "{label} data-mean=\"{}\"",
            r["mean"].parse::<f64>().unwrap()
        );
        assert!(html.contains(&drawn), "{drawn}");
    }
    assert!(
        html.contains("<g class=\"target\" data-v=\"43200\">"),
        "12 h target line"
    );
    assert!(!html.contains(">000-"), "a run named by its folder");
}
