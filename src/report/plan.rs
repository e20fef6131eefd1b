//! The report of a `fleetsim plan` folder: the question, the answer, the target
//! figure charted against every value run (with its confidence interval and the
//! target line), `plan.csv`, and the runs' charts overlaid, named by their values.

use std::fmt::Write;
use std::path::Path;

use super::ReportError;
use super::html::{self, esc};
use super::pages::csv_table;
use super::study_chart::{self, Chart, Point, Series, Unit, XAxis};
use super::sweep::short_keys;
use crate::output::plots::{self, ResultData};

/// Runs overlaid at most (the charts stay readable).
const MAX_OVERLAY: usize = 8;

/// The page.
pub fn plan_page(dir: &Path) -> Result<String, ReportError> {
    let p = dir.join("plan.json");
    let text = std::fs::read_to_string(&p).map_err(|e| ReportError::io(&p, e))?;
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let answer = match v.get("answer").and_then(|x| x.as_str()) {
        Some(a) => format!("<b>{} = {}</b>", esc(&s("key")), esc(a)),
        None => "<b>none</b>: no value of the range meets the target".to_string(),
    };
    let mut body = format!(
        "<header><h1>Plan: {}</h1><p>the smallest {} with {} (mean of {} replication(s))</p></header>\n\
         <section class=\"verdict\" id=\"verdict\"><h2>Answer: {answer}</h2></section>\n",
        esc(&dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()),
        esc(&s("key")),
        esc(&s("target")),
        v.get("replications").and_then(|x| x.as_u64()).unwrap_or(0)
    );
    if let Some(ws) = v.get("warnings").and_then(|x| x.as_array()) {
        for w in ws.iter().filter_map(|w| w.as_str()) {
            let _ = writeln!(body, "<p>warning: {}</p>", esc(w));
        }
    }
    body.push_str(&target_chart(dir, &s("key"), &s("target")));
    body.push_str("<h2>Values run</h2>\n");
    body.push_str(&csv_table(&dir.join("plan.csv"))?.unwrap_or_default());
    let mut runs: Vec<_> = std::fs::read_dir(dir.join("runs"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    runs.retain(|r: &std::path::PathBuf| r.join("summary.json").is_file());
    runs.sort();
    if !runs.is_empty() {
        let short = short_keys(&[s("key").as_str()]).join("");
        let loaded: Vec<(String, ResultData)> = runs
            .iter()
            .take(MAX_OVERLAY)
            .map(|r| {
                let name = r
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                // Run folders are `ORDER-VALUE`: named here by the key and value.
                let label = match name.split_once('-') {
                    Some((_, value)) => format!("{short}={value}"),
                    None => name,
                };
                ResultData::load(r).map(|d| (label, d))
            })
            .collect::<Result<_, _>>()?;
        let pairs: Vec<(String, &ResultData)> =
            loaded.iter().map(|(l, d)| (l.clone(), d)).collect();
        let _ = writeln!(
            body,
            "<h2>Runs overlaid</h2>\n<p>{} of {} runs, named by their value.</p>",
            pairs.len(),
            runs.len()
        );
        for f in plots::compare_figures(&pairs)? {
            body.push_str(&html::figure(&format!("plot-{}", f.name), &f));
        }
    }
    Ok(html::page("fleetsim plan", &body))
}

/// The target figure against the values run: one point per value (mean and 95%
/// interval over the replications, from `plan.csv`), sorted by value, with the target
/// as a dashed line. Empty when `plan.csv` has no figure to draw.
fn target_chart(dir: &Path, key: &str, target: &str) -> String {
    let Ok(mut r) = csv::Reader::from_path(dir.join("plan.csv")) else {
        return String::new();
    };
    let mut runs: Vec<(String, f64, f64)> = Vec::new();
    let mut missing = Vec::new();
    for rec in r
        .deserialize::<std::collections::HashMap<String, String>>()
        .flatten()
    {
        let value = rec.get("value").cloned().unwrap_or_default();
        let num = |k: &str| rec.get(k).and_then(|v| v.parse::<f64>().ok());
        match num("mean") {
            Some(m) => runs.push((value, m, num("ci95").unwrap_or(0.0))),
            None => missing.push(value),
        }
    }
    if runs.is_empty() {
        return String::new();
    }
    let values: Vec<String> = runs.iter().map(|(v, _, _)| v.clone()).collect();
    if let Some((xs, _)) = study_chart::numeric_values(&values) {
        let mut keyed: Vec<_> = xs.into_iter().zip(runs).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        runs = keyed.into_iter().map(|(_, r)| r).collect();
    }
    let values: Vec<String> = runs.iter().map(|(v, _, _)| v.clone()).collect();
    let short = short_keys(&[key]).join("");
    let parsed = crate::scenario::targets::parse_expr(target).ok();
    let metric = parsed.as_ref().map_or_else(
        || target.split(' ').next().unwrap_or("").to_string(),
        |t| t.metric.clone(),
    );
    let c = Chart {
        id: "plan-target".into(),
        title: format!("{metric} against {key}"),
        unit: Unit::of_metric(&metric),
        x: XAxis::of(key, &values),
        series: vec![Series {
            name: String::new(),
            points: runs
                .iter()
                .enumerate()
                .map(|(x, (v, mean, half))| Point {
                    x,
                    label: format!("{short}={v}"),
                    mean: *mean,
                    half: *half,
                })
                .collect(),
        }],
        line: parsed.map(|t| (t.value, format!("target: {target}"))),
    };
    let mut o = format!("<h2>The target figure against {}</h2>\n", esc(key));
    o.push_str(&study_chart::figure(&c));
    if !missing.is_empty() {
        let _ = writeln!(
            o,
            "<p>No value (not reached in every replication) at: {}.</p>",
            esc(&missing.join(", "))
        );
    }
    o
}
