//! The report of a sweep folder (issue 15): a chart of each headline figure against
//! the varied value, points named by their values, error bars that are the
//! confidence half-widths of `sweep.csv`.

use std::collections::HashMap;

use crate::common::*;
use crate::study_figures::wan_sweep;

/// Attribute `name` of the first element in `s`.
fn attr<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    let pat = format!(" {name}=\"");
    let at = s.find(&pat)? + pat.len();
    s[at..].split('"').next()
}

fn num(s: &str, name: &str) -> f64 {
    attr(s, name)
        .unwrap_or_else(|| panic!("no {name} in {s}"))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is no number in {s}"))
}

/// A point as drawn: series, label, mean, half-width, and the error bar's ends and
/// the marker's centre in pixels.
#[derive(Debug)]
struct Drawn {
    series: String,
    label: String,
    mean: f64,
    half: f64,
    bar: (f64, f64),
    cx: f64,
}

/// Axis ticks as `(value, pixel)`.
type Ticks = Vec<(f64, f64)>;

/// The metric a chart's series draws (`""` for its only series).
type MetricOf<'a> = &'a dyn Fn(&str) -> String;

/// The figure `id` of the page: its y ticks `(value, y)`, x ticks `(value, x)` and
/// points.
fn chart(page: &str, id: &str) -> (Ticks, Ticks, Vec<Drawn>) {
    let start = page
        .find(&format!("<figure id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let fig = &page[start..start + page[start..].find("</figure>").unwrap()];
    assert!(fig.contains("<svg"), "{id} has no svg");
    let ticks = |class: &str, coord: &str| -> Vec<(f64, f64)> {
        fig.split(&format!("<g class=\"{class}\""))
            .skip(1)
            .filter(|g| attr(g, "data-v").is_some())
            .map(|g| (num(g, "data-v"), num(g, coord)))
            .collect()
    };
    let mut points = Vec::new();
    for s in fig.split("<g class=\"series\"").skip(1) {
        let series = attr(s, "data-series").unwrap().to_string();
        for p in s.split("<g class=\"point\"").skip(1) {
            let bar = &p[p.find("class=\"ci\"").unwrap()..];
            points.push(Drawn {
                series: series.clone(),
                label: attr(p, "data-label").unwrap().to_string(),
                mean: num(p, "data-mean"),
                half: num(p, "data-ci95"),
                bar: (num(bar, "y1"), num(bar, "y2")),
                cx: num(&p[p.find("<circle").unwrap()..], "cx"),
            });
        }
    }
    (ticks("ytick", "y1"), ticks("xtick", "x1"), points)
}

#[test]
fn sweep_report_charts_each_headline_figure_with_its_confidence_interval() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    wan_sweep(&out);
    ok(&["report", out.to_str().unwrap()]);
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    // Points are named by their values, never by their folder.
    assert!(!page.contains("points/0"), "a point named by its folder");
    assert!(page.contains("sites.wan=200Mbps") && page.contains("sites.wan=1Gbps"));
    let rows = csv_rows(&out.join("sweep.csv"));
    let row_of: HashMap<String, &HashMap<String, String>> = rows
        .iter()
        .map(|r| (format!("sites.wan={}", r["sites.1.wan"]), r))
        .collect();
    let dps = ["DP-HQ", "DP-BR"];
    let charts: [(&str, MetricOf); 5] = [
        ("sweep-time-to-95", &|_| "compliance.p95_s".into()),
        ("sweep-final-share", &|_| "compliance.final_share".into()),
        ("sweep-peak-dp", &|dp| format!("peak.by_dp.{dp}.bps")),
        ("sweep-wan-bytes", &|site| {
            format!("sites.{site}.bytes.over_wan")
        }),
        ("sweep-failures", &|s| {
            if s == "failed" {
                "outcomes.failed"
            } else {
                "outcomes.rolled_back"
            }
            .into()
        }),
    ];
    let mut bars = 0;
    for (id, metric) in charts {
        let (yt, xt, points) = chart(&page, id);
        // A numeric varied value: a numeric x axis, on which the points sit at their
        // values (200 Mbps and 1 Gbps).
        assert!(xt.len() >= 2, "{id}: x ticks {xt:?}");
        let ((v0, x0), (v1, x1)) = (xt[0], xt[xt.len() - 1]);
        let x_of = |v: f64| x0 + (v - v0) / (v1 - v0) * (x1 - x0);
        let ((a, ya), (b, yb)) = (yt[0], yt[yt.len() - 1]);
        let px_per_unit = (ya - yb) / (b - a);
        for p in &points {
            let row = row_of
                .get(&p.label)
                .unwrap_or_else(|| panic!("{id}: label {:?} names no point", p.label));
            let k = metric(&p.series);
            let mean: f64 = row[&format!("{k}.mean")].parse().unwrap();
            let half: f64 = row[&format!("{k}.ci95")].parse().unwrap();
            assert_eq!((p.mean, p.half), (mean, half), "{id} {p:?}");
            // The bar spans the half-width each side, on the y axis' scale.
            let drawn = (p.bar.1 - p.bar.0) / 2.0 / px_per_unit;
            assert!(
                (drawn - half).abs() <= 0.01 / px_per_unit + 1e-9 * half,
                "{id} {p:?}: bar half-width {drawn} vs {half}"
            );
            let v = if p.label.ends_with("200Mbps") {
                2e8
            } else {
                1e9
            };
            assert!((p.cx - x_of(v)).abs() < 12.0, "{id} {p:?} not at {v}");
            bars += usize::from(half > 0.0);
        }
        if id == "sweep-peak-dp" {
            let series: Vec<&str> = points.iter().map(|p| p.series.as_str()).collect();
            assert!(dps.iter().all(|d| series.contains(d)), "{series:?}");
        }
        if id != "sweep-time-to-95" {
            assert!(points.len() >= 2, "{id}: {points:?}");
        }
    }
    assert!(bars >= 4, "only {bars} error bars of non-zero width");
}
