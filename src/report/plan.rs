//! The report of a `fleetsim plan` folder: the question, the answer, every value
//! run (`plan.csv`) and the runs' charts overlaid, named by their values.

use std::fmt::Write;
use std::path::Path;

use super::ReportError;
use super::html::{self, esc};
use super::pages::csv_table;
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
    body.push_str("<h2>Values run</h2>\n");
    body.push_str(&csv_table(&dir.join("plan.csv"))?.unwrap_or_default());
    let mut runs: Vec<_> = std::fs::read_dir(dir.join("runs"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    runs.retain(|r: &std::path::PathBuf| r.join("summary.json").is_file());
    runs.sort();
    if !runs.is_empty() {
        let loaded: Vec<(String, ResultData)> = runs
            .iter()
            .take(MAX_OVERLAY)
            .map(|r| {
                let label = r
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
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
