//! `sweep.csv` (and `replications.csv`): one row per point, the varied values, then
//! for every numeric figure of `summary.json` its mean over the replications and the
//! 95% half-width (`<figure>.mean`, `<figure>.ci95`).
//!
//! Figures are the numeric leaves of `summary.json` under their dotted paths
//! (`latency.download.p95`, `bytes.by_dp.DP1`, `compliance.p95_s`), except the
//! wall-clock `run` object. Columns are the union over all points, sorted by path, so
//! the header does not depend on which point ran first. A cell is empty when the
//! figure is `null` in any replication (e.g. `compliance.p95_s` when 95% was never
//! reached: the mean of "never" is not a number) or does not exist at that point (a
//! DP that only some points have); a failure code that did not happen counts 0.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::StudyError;
use super::stats::mean_ci95;

/// A summary's numeric figures by dotted path; `None` for `null`.
pub type Figures = BTreeMap<String, Option<f64>>;

/// Mean and half-width of a figure at one point, `None` when it has no numeric mean.
pub type FigureStats = BTreeMap<String, Option<(f64, f64)>>;

/// The numeric leaves of a `summary.json` value, without `run` (and the
/// `replications` and `targets` records): [`crate::output::summary::figures`].
pub fn flatten(v: &Value) -> Figures {
    crate::output::summary::figures(v)
}

/// Whether a figure that a replication lacks counts as zero there rather than
/// unknown: failure codes are listed only when they happened (or are well known).
fn missing_is_zero(key: &str) -> bool {
    key.starts_with("failures_by_code.")
}

/// Mean and half-width over the replications of one point, for every key of `keys`.
pub fn point_stats(units: &[Figures], keys: &BTreeSet<String>) -> FigureStats {
    keys.iter()
        .map(|k| {
            let xs: Option<Vec<f64>> = units
                .iter()
                .map(|u| match u.get(k) {
                    Some(v) => *v,
                    None if missing_is_zero(k) => Some(0.0),
                    None => None,
                })
                .collect();
            let stat = xs.filter(|x| !x.is_empty()).map(|x| mean_ci95(&x));
            (k.clone(), stat)
        })
        .collect()
}

/// A figure as the CSV writes it: whole numbers plainly, others rounded to six
/// decimals and written in the shortest form that reads back the same, so files stay
/// short and stable.
pub fn fmt_figure(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let r = if x.abs() < 1e9 {
        (x * 1e6).round() / 1e6
    } else {
        x
    };
    if r == 0.0 { "0".into() } else { format!("{r}") }
}

/// One row: the point's varied values and its figures.
pub struct Row {
    /// Values of the varied keys, in column order.
    pub values: Vec<String>,
    /// Statistics of every figure of the point.
    pub stats: FigureStats,
    /// The point's index (its folder), for the `point` column of a partial table.
    pub point: usize,
    /// Replications its statistics are over, for the `replications_done` column of a
    /// partial table.
    pub replications: u32,
}

/// Columns a partial table adds after the varied values, so that a mean over fewer
/// replications than asked (a wider, different interval) is never read as the full
/// point's: `point` (the folder, as rows of missing points are left out),
/// `replications_done` and `complete` (`true` when every replication is in).
pub const PARTIAL_COLUMNS: [&str; 3] = ["point", "replications_done", "complete"];

/// Writes the table to `path`. `partial_of` is `Some(R)` when the study is partial
/// (R replications were asked per point): the [`PARTIAL_COLUMNS`] are added. A
/// complete study's table has no such columns and is the same as before they existed.
pub fn write(
    path: &Path,
    varied: &[String],
    rows: &[Row],
    partial_of: Option<u32>,
) -> Result<(), StudyError> {
    let err = |e: csv::Error| StudyError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    let keys: BTreeSet<&String> = rows.iter().flat_map(|r| r.stats.keys()).collect();
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    let mut header: Vec<String> = varied.to_vec();
    if partial_of.is_some() {
        header.extend(PARTIAL_COLUMNS.map(String::from));
    }
    for k in &keys {
        header.push(format!("{k}.mean"));
        header.push(format!("{k}.ci95"));
    }
    w.write_record(&header).map_err(err)?;
    for r in rows {
        let mut rec = r.values.clone();
        if let Some(want) = partial_of {
            rec.push(r.point.to_string());
            rec.push(r.replications.to_string());
            rec.push((r.replications >= want).to_string());
        }
        for k in &keys {
            match r.stats.get(*k) {
                Some(Some((m, h))) => {
                    rec.push(fmt_figure(*m));
                    rec.push(fmt_figure(*h));
                }
                None if missing_is_zero(k) => {
                    rec.push("0".into());
                    rec.push("0".into());
                }
                _ => {
                    rec.push(String::new());
                    rec.push(String::new());
                }
            }
        }
        w.write_record(&rec).map_err(err)?;
    }
    w.flush().map_err(|source| StudyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_numbers_and_nulls_without_run() {
        let v: Value = serde_json::json!({
            "scenario": "x", "partial": false, "clients": 10,
            "latency": {"download": {"p95": 1.5}},
            "compliance": {"p95_s": null},
            "run": {"wall_s": 3.0}
        });
        let f = flatten(&v);
        assert_eq!(
            f.into_iter().collect::<Vec<_>>(),
            [
                ("clients".to_string(), Some(10.0)),
                ("compliance.p95_s".to_string(), None),
                ("latency.download.p95".to_string(), Some(1.5)),
            ]
        );
    }

    #[test]
    fn only_a_partial_table_has_the_marker_columns() {
        let dir = tempfile::tempdir().expect("tempdir");
        let row = |point: usize, replications| Row {
            values: vec![point.to_string()],
            stats: [("a".to_string(), Some((1.5, 0.25)))].into(),
            point,
            replications,
        };
        let rows = [row(0, 3), row(2, 1)];
        let p = dir.path().join("t.csv");
        write(&p, &["k".into()], &rows, None).expect("writes");
        let whole = std::fs::read_to_string(&p).expect("reads");
        assert_eq!(whole, "k,a.mean,a.ci95\n0,1.5,0.25\n2,1.5,0.25\n");
        write(&p, &["k".into()], &rows, Some(3)).expect("writes");
        let partial = std::fs::read_to_string(&p).expect("reads");
        assert_eq!(
            partial,
            "k,point,replications_done,complete,a.mean,a.ci95\n0,0,3,true,1.5,0.25\n2,2,1,false,1.5,0.25\n"
        );
    }

    #[test]
    fn stats_treat_null_as_unknown_and_missing_codes_as_zero() {
        let u1: Figures = [
            ("a".to_string(), Some(1.0)),
            ("b".into(), None),
            ("failures_by_code.0x1".into(), Some(4.0)),
        ]
        .into();
        let u2: Figures = [("a".to_string(), Some(3.0)), ("b".into(), Some(2.0))].into();
        let keys: BTreeSet<String> = ["a", "b", "c", "failures_by_code.0x1"]
            .map(String::from)
            .into();
        let s = point_stats(&[u1, u2], &keys);
        assert_eq!(s["a"].map(|x| x.0), Some(2.0));
        assert_eq!(s["b"], None);
        assert_eq!(s["c"], None);
        assert_eq!(s["failures_by_code.0x1"].map(|x| x.0), Some(2.0));
        assert_eq!(fmt_figure(2.0), "2");
        assert_eq!(fmt_figure(2.5), "2.5");
        assert_eq!(fmt_figure(1.0 / 3.0), "0.333333");
        assert_eq!(fmt_figure(-0.0000001), "0");
        assert_eq!(fmt_figure(4_495_579_221_736.2), "4495579221736.2");
        assert_eq!(fmt_figure(0.1 + 0.2), "0.3");
    }
}
