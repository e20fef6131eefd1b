//! Comparing result folders: every figure of `summary.json`, side by side, with the
//! change in percent, and the overlay charts.
//!
//! A comparison folder is self-contained: the two results live in `a/` and `b/`
//! (runs of the given scenarios, or copies of the given result folders), beside
//! `compare.json` (labels), `compare.csv` (the table) and `plots/compare_*`.

use std::path::Path;

use serde_json::Value;

use super::ReportError;
use crate::output::plots::{self, ResultData};

/// The two subfolders of a comparison, in order.
pub const RUN_DIRS: [&str; 2] = ["a", "b"];

/// `compare.json`: what a comparison folder holds, so `report` can tell it apart.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Always `"compare"`.
    pub kind: String,
    /// The runs compared, first is the reference.
    pub runs: Vec<ManifestRun>,
}

/// One run of a comparison.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ManifestRun {
    /// Label in tables and legends.
    pub label: String,
    /// Subfolder holding the result.
    pub dir: String,
}

/// One summary figure of both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Dotted path in `summary.json` (`latency.download.p95`).
    pub key: String,
    /// Value in A (`None` when A has no such key).
    pub a: Option<Value>,
    /// Value in B.
    pub b: Option<Value>,
}

/// How B differs from A.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Diff {
    /// Numeric change relative to A, percent.
    Percent(f64),
    /// Equal values that are not numbers (or both null).
    Same,
    /// Different non-numeric values.
    Differs,
    /// No relative change exists (A is zero, or a value is missing or null).
    NotApplicable,
}

impl Row {
    /// The change from A to B.
    pub fn diff(&self) -> Diff {
        match (&self.a, &self.b) {
            (Some(Value::Number(x)), Some(Value::Number(y))) => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                if x == y {
                    Diff::Percent(0.0)
                } else if x == 0.0 {
                    Diff::NotApplicable
                } else {
                    Diff::Percent((y - x) / x.abs() * 100.0)
                }
            }
            (Some(Value::Null), Some(Value::Null)) => Diff::Same,
            (Some(Value::Null), _) | (_, Some(Value::Null)) | (None, _) | (_, None) => {
                Diff::NotApplicable
            }
            (Some(x), Some(y)) => {
                if x == y {
                    Diff::Same
                } else {
                    Diff::Differs
                }
            }
        }
    }
}

impl std::fmt::Display for Diff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Diff::Percent(p) if *p == 0.0 => f.write_str("0.0%"),
            // Small changes keep a digit that shows them (-0.01%, not -0.0%).
            Diff::Percent(p) if p.abs() < 0.005 => {
                write!(f, "{}<0.01%", if *p < 0.0 { "-" } else { "+" })
            }
            Diff::Percent(p) if p.abs() < 0.1 => write!(f, "{p:+.2}%"),
            Diff::Percent(p) => write!(f, "{p:+.1}%"),
            Diff::Same => f.write_str("same"),
            Diff::Differs => f.write_str("differs"),
            Diff::NotApplicable => f.write_str("n/a"),
        }
    }
}

/// Leaves of a JSON document as `(dotted.path, value)`, in document order.
pub fn flatten(v: &Value) -> Vec<(String, Value)> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
        let join = |k: &str| {
            if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            }
        };
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    walk(&join(k), x, out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(&join(&i.to_string()), x, out);
                }
            }
            leaf => out.push((prefix.to_string(), leaf.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

/// Every key of either document, A's order first, then keys only B has; the labels
/// of `failure_names` are left out (they name codes, they are not figures).
pub fn rows(a: &Value, b: &Value) -> Vec<Row> {
    let figures = |v: &Value| {
        let mut f = flatten(v);
        f.retain(|(k, _)| !k.starts_with("failure_names."));
        f
    };
    let fa = figures(a);
    let fb = figures(b);
    let mut out: Vec<Row> = fa
        .iter()
        .map(|(k, v)| Row {
            key: k.clone(),
            a: Some(v.clone()),
            b: fb.iter().find(|(kb, _)| kb == k).map(|(_, v)| v.clone()),
        })
        .collect();
    for (k, v) in &fb {
        if !fa.iter().any(|(ka, _)| ka == k) {
            out.push(Row {
                key: k.clone(),
                a: None,
                b: Some(v.clone()),
            });
        }
    }
    out
}

/// A value as the table prints it (`-` when missing, `none` for null).
pub fn fmt_value(v: Option<&Value>) -> String {
    match v {
        None => "-".into(),
        Some(Value::Null) => "none".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                let s = format!("{f:.3}");
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            }
        }
        Some(other) => other.to_string(),
    }
}

/// A value as the terminal table prints it: durations, sizes and rates in human
/// units without spaces (`39.2h`, `15.44TB`, `20.0Mbps`) by the kind of figure the
/// key is ([`crate::scenario::targets::quantity_of`]), other values as
/// [`fmt_value`] prints them.
pub fn human_value(key: &str, v: Option<&Value>) -> String {
    use crate::scenario::units::Quantity;
    let Some(x) = v.and_then(Value::as_f64) else {
        return fmt_value(v);
    };
    let squeeze = |s: String| s.replace(' ', "");
    match crate::scenario::targets::quantity_of(key) {
        _ if key == "seed" || key.ends_with("_downloads") || key.ends_with(".queued") => {
            fmt_value(v)
        }
        Quantity::Duration => super::html::human_secs(x),
        Quantity::Size => squeeze(super::html::bytes(x)),
        Quantity::Rate => squeeze(super::html::rate(x)),
        Quantity::Number => fmt_value(v),
    }
}

/// The side-by-side text table.
pub fn text_table(labels: [&str; 2], rows: &[Row]) -> String {
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.key.clone(),
                human_value(&r.key, r.a.as_ref()),
                human_value(&r.key, r.b.as_ref()),
                r.diff().to_string(),
            ]
        })
        .collect();
    let head = [
        "summary.json".to_string(),
        labels[0].to_string(),
        labels[1].to_string(),
        "B vs A".to_string(),
    ];
    let mut w = [0usize; 4];
    for row in std::iter::once(&head).chain(cells.iter()) {
        for (wi, c) in w.iter_mut().zip(row) {
            *wi = (*wi).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |row: &[String; 4], out: &mut String| {
        out.push_str(&format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        ));
    };
    line(&head, &mut out);
    out.push_str(&format!("{}\n", "-".repeat(w.iter().sum::<usize>() + 6)));
    for c in &cells {
        line(c, &mut out);
    }
    out
}

/// Writes `compare.csv`: `key,a,b,diff_pct` (empty `diff_pct` when not numeric).
pub fn write_csv(path: &Path, rows: &[Row]) -> Result<(), ReportError> {
    let io = |e: csv::Error| ReportError::io(path, std::io::Error::other(e));
    let mut w = csv::Writer::from_path(path).map_err(io)?;
    w.write_record(["key", "a", "b", "diff_pct"]).map_err(io)?;
    for r in rows {
        let d = match r.diff() {
            Diff::Percent(p) => format!("{p:.4}"),
            Diff::Same => String::new(),
            Diff::Differs | Diff::NotApplicable => String::new(),
        };
        w.write_record([
            r.key.as_str(),
            fmt_value(r.a.as_ref()).as_str(),
            fmt_value(r.b.as_ref()).as_str(),
            d.as_str(),
        ])
        .map_err(io)?;
    }
    w.flush().map_err(|e| ReportError::io(path, e))
}

/// Labels of two runs: their scenario names, or `A: name` / `B: name` when equal.
pub fn labels(a: &str, b: &str) -> [String; 2] {
    if a == b {
        [format!("A: {a}"), format!("B: {b}")]
    } else {
        [a.to_string(), b.to_string()]
    }
}

/// A finished comparison.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Labels of A and B.
    pub labels: [String; 2],
    /// Every summary figure.
    pub rows: Vec<Row>,
}

/// Completes a comparison folder whose `a/` and `b/` hold results: writes
/// `compare.json`, `compare.csv` and the overlay plots, and returns the table.
pub fn finish(dir: &Path) -> Result<Comparison, ReportError> {
    let [da, db] = RUN_DIRS.map(|r| dir.join(r));
    let (ra, rb) = (ResultData::load(&da)?, ResultData::load(&db)?);
    let rows = rows(&super::summary_value(&da)?, &super::summary_value(&db)?);
    let labels = labels(&ra.summary.scenario, &rb.summary.scenario);
    let manifest = Manifest {
        kind: "compare".into(),
        runs: labels
            .iter()
            .zip(RUN_DIRS)
            .map(|(l, d)| ManifestRun {
                label: l.clone(),
                dir: d.to_string(),
            })
            .collect(),
    };
    let mp = dir.join("compare.json");
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| ReportError::Invalid {
        path: mp.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&mp, text + "\n").map_err(|e| ReportError::io(&mp, e))?;
    write_csv(&dir.join("compare.csv"), &rows)?;
    let runs = [(labels[0].clone(), &ra), (labels[1].clone(), &rb)];
    plots::write_compare_plots(&runs, &dir.join("plots"))?;
    Ok(Comparison { labels, rows })
}

/// Reads `compare.json` when `dir` is a comparison folder.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, ReportError> {
    let p = dir.join("compare.json");
    if !p.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).map_err(|e| ReportError::io(&p, e))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| ReportError::Invalid {
            path: p,
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_leaf_of_either_side_is_a_row() {
        let a = json!({"x": 1, "lat": {"p50": 2.0, "p95": null}, "by": {"DP1": 10}, "s": "a"});
        let b = json!({"x": 2, "lat": {"p50": 2.0, "p95": 7.5}, "by": {"DP2": 5}, "s": "b"});
        let r = rows(&a, &b);
        let keys: Vec<&str> = r.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["x", "lat.p50", "lat.p95", "by.DP1", "s", "by.DP2"]);
        assert_eq!(r[0].diff(), Diff::Percent(100.0));
        assert_eq!(r[1].diff(), Diff::Percent(0.0));
        assert_eq!(r[2].diff(), Diff::NotApplicable);
        assert_eq!(r[3].diff(), Diff::NotApplicable);
        assert_eq!(r[4].diff(), Diff::Differs);
        assert_eq!(fmt_value(r[5].a.as_ref()), "-");
    }

    #[test]
    fn zero_reference_has_no_percentage() {
        let r = Row {
            key: "k".into(),
            a: Some(json!(0)),
            b: Some(json!(3)),
        };
        assert_eq!(r.diff(), Diff::NotApplicable);
        assert_eq!(Diff::Percent(-12.345).to_string(), "-12.3%");
        assert_eq!(Diff::Percent(-0.00536).to_string(), "-0.01%");
        assert_eq!(Diff::Percent(0.001).to_string(), "+<0.01%");
        assert_eq!(Diff::Percent(0.0).to_string(), "0.0%");
        assert_eq!(Diff::Same.to_string(), "same");
    }

    #[test]
    fn table_has_a_line_per_row_and_aligned_columns() {
        let a = json!({"clients": 20000, "wall": 0.25});
        let b = json!({"clients": 20000, "wall": 0.5});
        let t = text_table(["A", "B"], &rows(&a, &b));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[3].contains("0.25") && lines[3].contains("+100.0%"),
            "{t}"
        );
        assert_eq!(lines[2].len(), lines[3].len());
    }
}
