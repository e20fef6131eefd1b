//! The report of a sweep folder: each headline figure charted against the varied
//! value with its confidence interval, the table of points, `sweep.csv` in full and the
//! runs overlaid. Points are named by their values (`dp.bandwidth=10Gbps`,
//! `wan=100Mbps, dps=4` for a grid), never by their folder.

use std::fmt::Write;
use std::path::Path;

use super::ReportError;
use super::html::{self, esc};
use super::pages::csv_table;
use super::study_chart::{self, Chart, Point, Series, Unit, XAxis};
use crate::output::plots::{self, ResultData};

/// Most runs overlaid on a sweep's charts (more would be unreadable).
const MAX_OVERLAY: usize = 10;

/// Columns of a partial `sweep.csv` that are not varied keys (`study::table`).
const PARTIAL_COLUMNS: [&str; 3] = ["point", "replications_done", "complete"];

/// `sweep.csv` as read back: the varied keys, then one record per point.
pub struct SweepTable {
    /// Every column.
    pub cols: Vec<String>,
    /// Indexes of the varied keys' columns.
    pub varied: Vec<usize>,
    /// The records.
    pub rows: Vec<Vec<String>>,
}

impl SweepTable {
    /// Reads `sweep.csv`; `None` when it cannot be read as CSV.
    pub fn read(path: &Path) -> Option<SweepTable> {
        let mut r = csv::Reader::from_path(path).ok()?;
        let cols: Vec<String> = r.headers().ok()?.iter().map(String::from).collect();
        let varied = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                !c.ends_with(".mean")
                    && !c.ends_with(".ci95")
                    && !PARTIAL_COLUMNS.contains(&c.as_str())
            })
            .map(|(i, _)| i)
            .collect();
        let rows = r
            .records()
            .flatten()
            .map(|rec| rec.iter().map(String::from).collect())
            .collect();
        Some(SweepTable { cols, varied, rows })
    }

    fn at(&self, name: &str) -> Option<usize> {
        self.cols.iter().position(|c| c == name)
    }

    /// Figure `key`'s mean and half-width at row `row` (`None`: no value, e.g. a
    /// compliance time some replication never reached).
    pub fn figure(&self, row: usize, key: &str) -> Option<(f64, f64)> {
        let cell = |suffix: &str| {
            self.at(&format!("{key}.{suffix}"))
                .and_then(|i| self.rows.get(row)?.get(i))
                .and_then(|v| v.parse::<f64>().ok())
        };
        cell("mean").map(|m| (m, cell("ci95").unwrap_or(0.0)))
    }

    /// The varied keys, as written in the header.
    pub fn keys(&self) -> Vec<&str> {
        self.varied
            .iter()
            .filter_map(|&i| self.cols.get(i).map(|c| c.as_str()))
            .collect()
    }

    /// Row `row`'s value of varied key number `k`.
    fn value(&self, row: usize, k: usize) -> &str {
        self.varied
            .get(k)
            .and_then(|&i| self.rows.get(row)?.get(i))
            .map_or("", |s| s.as_str())
    }

    /// The point folder number of each row: the `point` column of a partial table,
    /// else the row's position (a complete table has every point, in order).
    pub fn point_of_row(&self, row: usize) -> usize {
        self.at("point")
            .and_then(|i| self.rows.get(row)?.get(i)?.parse().ok())
            .unwrap_or(row)
    }

    /// Row `row` named by its values.
    pub fn label(&self, row: usize) -> String {
        let short = short_keys(&self.keys());
        short
            .iter()
            .enumerate()
            .map(|(k, name)| format!("{name}={}", self.value(row, k)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The names `X` of the columns `PREFIX.X.SUFFIX.mean`, in header order.
    fn names(&self, prefix: &str, suffix: &str) -> Vec<String> {
        self.cols
            .iter()
            .filter_map(|c| {
                c.strip_prefix(prefix)?
                    .strip_suffix(&format!("{suffix}.mean"))
                    .map(String::from)
            })
            .collect()
    }
}

/// Short names of the varied keys for point labels: list indexes dropped and
/// `distribution_points` written `dp`, then the last two parts
/// (`distribution_points.0.bandwidth` is `dp.bandwidth`, `sites.1.wan` is
/// `sites.wan`). Keys whose short names would clash keep their full name.
pub fn short_keys(keys: &[&str]) -> Vec<String> {
    let short: Vec<String> = keys
        .iter()
        .map(|k| {
            let parts: Vec<&str> = k
                .split('.')
                .filter(|p| p.parse::<u64>().is_err())
                .map(|p| if p == "distribution_points" { "dp" } else { p })
                .collect();
            let from = parts.len().saturating_sub(2);
            parts.get(from..).unwrap_or_default().join(".")
        })
        .collect();
    short
        .iter()
        .zip(keys)
        .map(|(s, k)| {
            if s.is_empty() || short.iter().filter(|x| *x == s).count() > 1 {
                k.to_string()
            } else {
                s.clone()
            }
        })
        .collect()
}

/// The varied key on the x axis: the one with the most values (the first numeric one
/// among equals); the others name the series.
fn x_key(t: &SweepTable) -> usize {
    let distinct = |k: usize| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for r in 0..t.rows.len() {
            let x = t.value(r, k).to_string();
            if !v.contains(&x) {
                v.push(x);
            }
        }
        v
    };
    (0..t.varied.len())
        .max_by_key(|&k| {
            let d = distinct(k);
            // Ties go to a numeric key, then to the earlier key.
            (
                d.len(),
                study_chart::numeric_values(&d).is_some(),
                usize::MAX - k,
            )
        })
        .unwrap_or(0)
}

/// A headline figure: caption, element id, and its lines `(name, metric path)`.
struct Headline {
    id: &'static str,
    title: &'static str,
    lines: Vec<(String, String)>,
}

/// The figures a capacity planner reads first, from the columns the sweep has.
fn headlines(t: &SweepTable) -> Vec<Headline> {
    let mut wan: Vec<(String, String)> = t
        .names("sites.", ".wan.capacity_bps")
        .into_iter()
        .map(|s| (s.clone(), format!("sites.{s}.bytes.over_wan")))
        .collect();
    if wan.is_empty() {
        wan = t
            .names("sites.", ".bytes.over_wan")
            .into_iter()
            .map(|s| (s.clone(), format!("sites.{s}.bytes.over_wan")))
            .collect();
    }
    vec![
        Headline {
            id: "sweep-time-to-95",
            title: "Time to 95% of the fleet compliant",
            lines: vec![(String::new(), "compliance.p95_s".into())],
        },
        Headline {
            id: "sweep-final-share",
            title: "Final compliance share (share of the fleet upgraded by the end)",
            lines: vec![(String::new(), "compliance.final_share".into())],
        },
        Headline {
            id: "sweep-peak-dp",
            title: "Peak DP bandwidth",
            lines: t
                .names("peak.by_dp.", ".bps")
                .into_iter()
                .map(|dp| (dp.clone(), format!("peak.by_dp.{dp}.bps")))
                .collect(),
        },
        Headline {
            id: "sweep-wan-bytes",
            title: "Bytes over WAN links",
            lines: wan,
        },
        Headline {
            id: "sweep-failures",
            title: "Failures (clients failed or rolled back)",
            lines: vec![
                ("failed".into(), "outcomes.failed".into()),
                ("rolled back".into(), "outcomes.rolled_back".into()),
            ],
        },
    ]
}

/// The chart of one headline figure, and the labels of the points it has no value
/// for (a compliance level not reached in every replication).
fn chart(t: &SweepTable, h: &Headline) -> (Chart, Vec<String>) {
    let xk = x_key(t);
    let mut xvals: Vec<String> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    let short = short_keys(&t.keys());
    let group_of = |r: usize| -> String {
        (0..t.varied.len())
            .filter(|&k| k != xk)
            .map(|k| {
                let name = short.get(k).map_or("", |s| s.as_str());
                format!("{name}={}", t.value(r, k))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    for r in 0..t.rows.len() {
        let x = t.value(r, xk).to_string();
        if !xvals.contains(&x) {
            xvals.push(x);
        }
        let g = group_of(r);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let mut missing = Vec::new();
    let mut series = Vec::new();
    for (name, metric) in &h.lines {
        for g in &groups {
            let mut points = Vec::new();
            for r in (0..t.rows.len()).filter(|&r| group_of(r) == *g) {
                let x = xvals.iter().position(|v| v == t.value(r, xk)).unwrap_or(0);
                match t.figure(r, metric) {
                    Some((mean, half)) => points.push(Point {
                        x,
                        label: t.label(r),
                        mean,
                        half,
                    }),
                    None => missing.push(t.label(r)),
                }
            }
            let parts: Vec<&str> = [name.as_str(), g.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            series.push(Series {
                name: parts.join(", "),
                points,
            });
        }
    }
    missing.dedup();
    let unit = h
        .lines
        .first()
        .map_or(Unit::Number, |(_, m)| Unit::of_metric(m));
    let title = t.keys().get(xk).map_or(String::new(), |k| k.to_string());
    let c = Chart {
        id: h.id.to_string(),
        title: h.title.to_string(),
        unit,
        x: XAxis::of(&title, &xvals),
        series,
        line: None,
    };
    (c, missing)
}

/// The charts section: one chart per headline figure the sweep has.
pub fn charts_section(t: &SweepTable, replications: u64) -> String {
    if t.rows.is_empty() || t.varied.is_empty() {
        return String::new();
    }
    let mut o = format!(
        "<h2>Headline figures against the varied value</h2>\n<p>Each point is the mean over {replications} replication(s); its bar is the 95% confidence interval (Student t), the <code>.ci95</code> half-width of <code>sweep.csv</code>.</p>\n"
    );
    for mut h in headlines(t) {
        // A figure the table does not have (an older or hand-made sweep.csv) is left
        // out; a sweep without WAN links says so.
        h.lines
            .retain(|(_, m)| t.at(&format!("{m}.mean")).is_some());
        if h.lines.is_empty() {
            if h.id == "sweep-wan-bytes" && t.at("clients.mean").is_some() {
                let _ = writeln!(
                    o,
                    "<h3>{}</h3>\n<p class=\"empty\">No site has a WAN link in this sweep.</p>",
                    esc(h.title)
                );
            }
            continue;
        }
        let (c, missing) = chart(t, &h);
        o.push_str(&study_chart::figure(&c));
        if !missing.is_empty() {
            let _ = writeln!(
                o,
                "<p>No value (not reached in every replication) at: {}.</p>",
                esc(&missing.join("; "))
            );
        }
    }
    o
}

/// How a figure is shown in the table.
type Show = fn(f64) -> String;

/// The table's figures, in order, with how to show them.
const HEADLINE: [(&str, &str, Show); 9] = [
    ("outcomes.succeeded", "succeeded", |x| format!("{x:.0}")),
    ("compliance.p95_s", "95% compliant at", html::dur),
    ("compliance.final_share", "final share", |x| {
        format!("{:.1}%", 100.0 * x)
    }),
    (
        "latency.time_to_compliance.p95",
        "time to compliance p95",
        html::dur,
    ),
    ("latency.install_wait.p95", "install wait p95", html::dur),
    ("latency.download.p95", "download p95", html::dur),
    ("latency.task_sequence.p95", "task sequence p95", html::dur),
    ("bytes.total", "bytes", html::bytes),
    ("outcomes.failed", "failed", |x| format!("{x:.0}")),
];

/// One row per point, named by its values, then the headline figures as
/// `mean ± ci95` in readable units, the peak rate of every DP and the bytes over
/// every WAN link.
fn headline_table(t: &SweepTable) -> String {
    let mut metrics: Vec<(String, String, Show)> = HEADLINE
        .iter()
        .filter(|(k, _, _)| t.at(&format!("{k}.mean")).is_some())
        .map(|(k, label, f)| (k.to_string(), label.to_string(), *f))
        .collect();
    for dp in t.names("peak.by_dp.", ".bps") {
        metrics.push((
            format!("peak.by_dp.{dp}.bps"),
            format!("{dp} peak"),
            html::rate,
        ));
    }
    for s in t.names("sites.", ".wan.capacity_bps") {
        metrics.push((
            format!("sites.{s}.bytes.over_wan"),
            format!("{s} over WAN"),
            html::bytes,
        ));
    }
    let mut head: Vec<String> = t.keys().iter().map(|k| k.to_string()).collect();
    head.extend(metrics.iter().map(|(_, l, _)| l.clone()));
    let rows: Vec<Vec<String>> = (0..t.rows.len())
        .map(|r| {
            let mut row: Vec<String> = (0..t.varied.len()).map(|k| esc(t.value(r, k))).collect();
            for (k, _, show) in &metrics {
                row.push(match t.figure(r, k) {
                    Some((m, h)) if h > 0.0 => esc(&format!("{} ± {}", show(m), show(h))),
                    Some((m, _)) => esc(&show(m)),
                    None => "—".to_string(),
                });
            }
            row
        })
        .collect();
    let head_refs: Vec<&str> = head.iter().map(|s| s.as_str()).collect();
    html::table(&head_refs, &rows)
}

/// The warning of a partial sweep (stopped by Ctrl-C, or merged with runs missing),
/// empty for a complete one. A partial `sweep.csv` has a `complete` column; the
/// points without any run are counted from `study.json`.
fn partial_note(t: &SweepTable, manifest: &serde_json::Value) -> String {
    let Some(at) = t.at("complete") else {
        return String::new();
    };
    let flags: Vec<bool> = t
        .rows
        .iter()
        .map(|rec| rec.get(at).map(|s| s.as_str()) == Some("true"))
        .collect();
    let missing = manifest
        .pointer("/completion/points_missing")
        .and_then(|v| v.as_array())
        .map_or(0, Vec::len);
    let complete = flags.iter().filter(|c| **c).count();
    format!(
        "<p><span class=\"badge\">partial</span> The sweep was interrupted: {complete} of {} points listed have every replication; the others (<code>complete</code> = false) are means over fewer replications, with wider intervals. {missing} point(s) without any finished run are left out. <code>study.json</code> lists what is missing.</p>\n",
        flags.len()
    )
}

/// The label of a run folder of the sweep: its point's values (plus the replication
/// for a replication's folder), or its path when it is no point's.
fn run_label(dir: &Path, run: &Path, t: &SweepTable) -> String {
    let rel = run.strip_prefix(dir).unwrap_or(run);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let point = match parts.as_slice() {
        [p, n, ..] if p == "points" => n.parse::<usize>().ok(),
        _ => None,
    };
    let row = point.and_then(|p| (0..t.rows.len()).find(|&r| t.point_of_row(r) == p));
    match (row, parts.last()) {
        (Some(r), Some(last)) if parts.len() > 2 => format!("{}, {last}", t.label(r)),
        (Some(r), _) => t.label(r),
        _ => rel.to_string_lossy().into_owned(),
    }
}

/// The page of a sweep folder: the headline figures charted against the varied
/// value, the table of points, `sweep.csv` in full, and the runs overlaid.
pub fn sweep_page(dir: &Path) -> Result<String, ReportError> {
    let table = csv_table(&dir.join("sweep.csv"))?.unwrap_or_default();
    let t = SweepTable::read(&dir.join("sweep.csv")).unwrap_or(SweepTable {
        cols: Vec::new(),
        varied: Vec::new(),
        rows: Vec::new(),
    });
    let manifest: serde_json::Value = std::fs::read_to_string(dir.join("study.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let replications = manifest
        .get("replications")
        .and_then(|v| v.as_u64())
        .unwrap_or(1);
    let mut body = format!(
        "<header><h1>Sweep: {}</h1><p>{} points</p></header>\n",
        esc(&dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()),
        t.rows.len(),
    );
    body.push_str(&partial_note(&t, &manifest));
    body.push_str(&charts_section(&t, replications));
    body.push_str("<h2>Points</h2>\n");
    body.push_str(&headline_table(&t));
    body.push_str("<details><summary>Every figure (mean and 95% half-width)</summary>\n");
    body.push_str(&table);
    body.push_str("</details>\n");
    let runs = super::find_runs(dir)?;
    if !runs.is_empty() {
        let loaded: Vec<(String, ResultData)> = runs
            .iter()
            .take(MAX_OVERLAY)
            .map(|p| ResultData::load(p).map(|d| (run_label(dir, p, &t), d)))
            .collect::<Result<_, _>>()?;
        let pairs: Vec<(String, &ResultData)> =
            loaded.iter().map(|(l, d)| (l.clone(), d)).collect();
        let _ = writeln!(
            body,
            "<h2>Runs overlaid</h2>\n<p>{} of {} runs found in this folder, named by their values.</p>",
            pairs.len(),
            runs.len()
        );
        for f in plots::compare_figures(&pairs)? {
            body.push_str(&html::figure(&format!("plot-{}", f.name), &f));
        }
    }
    Ok(html::page("fleetsim sweep", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_drop_indexes_and_keep_clashing_keys_whole() {
        assert_eq!(
            short_keys(&["distribution_points.0.bandwidth", "sites.1.wan"]),
            ["dp.bandwidth", "sites.wan"]
        );
        assert_eq!(
            short_keys(&[
                "distribution_points.0.bandwidth",
                "distribution_points.1.bandwidth"
            ]),
            [
                "distribution_points.0.bandwidth",
                "distribution_points.1.bandwidth"
            ]
        );
        assert_eq!(short_keys(&["seed"]), ["seed"]);
    }
}
