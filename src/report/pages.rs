//! The content of the report pages: a run (headline figures, charts, latency, DPs,
//! failures, scenario), a comparison (the same for both runs, preceded by the overlays
//! and the side-by-side table); a sweep's page is [`super::sweep`].

use std::fmt::Write;
use std::path::Path;

use super::ReportError;
use super::compare::{self, Row};
use super::html::{self, bytes, count, dur, esc, pct, rate};
use crate::output::plots::data::LinkKind;
use crate::output::plots::{self, ResultData};
use crate::output::summary::Stat;

fn compliance(s: Option<f64>, final_share: f64) -> (String, String) {
    match s {
        Some(t) => (dur(t), "after the start".into()),
        None => (
            "not reached".into(),
            format!("{:.1}% by the end", 100.0 * final_share),
        ),
    }
}

/// The headline cards of one run.
fn headline(d: &ResultData) -> String {
    let s = &d.summary;
    let o = &s.outcomes;
    let (c95, n95) = compliance(s.compliance.p95_s, s.compliance.final_share);
    let (c50, _) = compliance(s.compliance.p50_s, s.compliance.final_share);
    let (c90, _) = compliance(s.compliance.p90_s, s.compliance.final_share);
    let busiest = s
        .peak
        .by_dp
        .iter()
        .max_by(|a, b| a.1.bps.total_cmp(&b.1.bps));
    let queue = s.peak.by_dp.iter().max_by_key(|(_, p)| p.queued);
    html::cards(&[
        (
            "Clients".into(),
            count(s.clients),
            format!("seed {}", s.seed),
        ),
        (
            "Succeeded".into(),
            count(o.succeeded),
            format!("{} of the fleet", pct(o.succeeded, s.clients)),
        ),
        (
            "Failed / rolled back".into(),
            format!("{} / {}", count(o.failed), count(o.rolled_back)),
            format!(
                "{} in progress, {} not started",
                count(o.in_progress),
                count(o.not_started)
            ),
        ),
        ("95% compliant".into(), c95, n95),
        (
            "50% / 90% compliant".into(),
            format!("{c50} / {c90}"),
            "after the start".into(),
        ),
        (
            "Content moved".into(),
            bytes(s.bytes.total as f64),
            format!(
                "pre-cache {}, on demand {}",
                bytes(s.bytes.precache as f64),
                bytes(s.bytes.on_demand as f64)
            ),
        ),
        (
            "Busiest DP peak".into(),
            busiest
                .map(|(_, p)| rate(p.bps))
                .unwrap_or_else(|| "-".into()),
            busiest.map(|(n, _)| n.clone()).unwrap_or_default(),
        ),
        (
            "Longest DP queue".into(),
            queue
                .map(|(_, p)| count(p.queued))
                .unwrap_or_else(|| "-".into()),
            queue.map(|(n, _)| n.clone()).unwrap_or_default(),
        ),
        (
            "Simulated".into(),
            dur(s.sim_end_s),
            format!("{} events", count(s.events)),
        ),
    ])
}

fn latency_table(d: &ResultData) -> String {
    let l = &d.summary.latency;
    let rows: Vec<Vec<String>> = [
        ("precache", "pre-cache start to content local", &l.precache),
        (
            "install_wait",
            "Install or deadline to the upgrade step",
            &l.install_wait,
        ),
        ("download", "one download, queueing included", &l.download),
        (
            "task_sequence",
            "task sequence start to end",
            &l.task_sequence,
        ),
        (
            "time_to_compliance",
            "available to upgraded",
            &l.time_to_compliance,
        ),
    ]
    .iter()
    .map(|(k, what, s): &(&str, &str, &Stat)| {
        let f = |v: f64| if s.count == 0 { "-".into() } else { dur(v) };
        vec![
            format!("<b>{}</b><br><small>{}</small>", esc(k), esc(what)),
            count(s.count),
            f(s.mean),
            f(s.p50),
            f(s.p90),
            f(s.p95),
            f(s.p99),
            f(s.max),
        ]
    })
    .collect();
    html::table(
        &["metric", "count", "mean", "p50", "p90", "p95", "p99", "max"],
        &rows,
    )
}

fn links_table(d: &ResultData) -> String {
    let s = &d.summary;
    let rows: Vec<Vec<String>> = d
        .links
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let cap = l.capacity_bps.map(rate).unwrap_or_else(|| "-".into());
            let peak_bucket = d
                .samples
                .get(i)
                .map(|v| v.iter().map(|x| x.peak_bps).fold(0.0, f64::max))
                .unwrap_or(0.0);
            let (moved, active, queued) = match l.kind {
                LinkKind::Dp => {
                    let p = s.peak.by_dp.get(&l.name);
                    (
                        s.bytes
                            .by_dp
                            .get(&l.name)
                            .map(|b| bytes(*b as f64))
                            .unwrap_or_else(|| "-".into()),
                        p.map(|p| count(p.active_downloads)).unwrap_or_default(),
                        p.map(|p| count(p.queued)).unwrap_or_default(),
                    )
                }
                LinkKind::Wan => {
                    let active = d
                        .samples
                        .get(i)
                        .map(|v| v.iter().map(|x| x.active).fold(0.0, f64::max))
                        .unwrap_or(0.0);
                    ("-".into(), count(active as u64), "-".into())
                }
            };
            vec![
                esc(&l.name),
                match l.kind {
                    LinkKind::Dp => "DP".into(),
                    LinkKind::Wan => "WAN".into(),
                },
                cap,
                rate(peak_bucket),
                moved,
                active,
                queued,
            ]
        })
        .collect();
    if rows.is_empty() {
        return "<p class=\"empty\">No bandwidth.csv in this result.</p>\n".into();
    }
    html::table(
        &[
            "link",
            "kind",
            "capacity",
            "peak (bucket mean)",
            "bytes served",
            "most downloads at once",
            "longest queue",
        ],
        &rows,
    )
}

fn failures_table(d: &ResultData) -> String {
    let mut f: Vec<_> = d.failures.iter().filter(|f| f.count > 0).collect();
    if f.is_empty() {
        return "<p class=\"empty\">No task sequence failed or rolled back.</p>\n".into();
    }
    f.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.code_hex.cmp(&b.code_hex))
    });
    let rows: Vec<Vec<String>> = f
        .iter()
        .map(|f| {
            vec![
                format!("<code>{}</code>", esc(&f.code_hex)),
                esc(&f.name),
                esc(&f.phase),
                count(f.count),
                pct(f.count, d.summary.clients),
            ]
        })
        .collect();
    html::table(
        &["code", "meaning", "phase", "clients", "of the fleet"],
        &rows,
    )
}

/// Any CSV of the folder as a table (`None` when the file is absent).
pub(super) fn csv_table(path: &Path) -> Result<Option<String>, ReportError> {
    if !path.is_file() {
        return Ok(None);
    }
    let bad = |e: csv::Error| ReportError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut r = csv::Reader::from_path(path).map_err(bad)?;
    let head: Vec<String> = r.headers().map_err(bad)?.iter().map(String::from).collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec.map_err(bad)?.iter().map(esc).collect::<Vec<_>>());
    }
    let head_ref: Vec<&str> = head.iter().map(String::as_str).collect();
    Ok(Some(html::table(&head_ref, &rows)))
}

/// The sections of one run; `prefix` keeps element ids unique on a page with several.
pub fn run_sections(d: &ResultData, prefix: &str, level: u8) -> Result<String, ReportError> {
    let h = |t: &str| format!("<h{level}>{}</h{level}>\n", esc(t));
    let mut o = String::new();
    o.push_str(&h("Headline figures"));
    if d.summary.partial {
        o.push_str("<p><span class=\"badge\">partial</span> The run was interrupted; the figures cover what was simulated.</p>\n");
    }
    o.push_str(&headline(d));
    if d.summary.replications.is_some() {
        o.push_str(&h("Mean and confidence interval over the replications"));
        o.push_str(&super::sites::replications_table(&d.summary));
    }
    if !d.summary.sites.is_empty() {
        o.push_str(&h("Sites"));
        o.push_str(&super::sites::sites_table(&d.summary));
    }
    o.push_str(&h("Plots"));
    for f in plots::run_figures(d)? {
        o.push_str(&html::figure(&format!("{prefix}plot-{}", f.name), &f));
    }
    o.push_str(&h("Latency"));
    o.push_str(&latency_table(d));
    o.push_str(&h("Distribution points and WAN links"));
    o.push_str(&links_table(d));
    o.push_str(&h("Failures"));
    o.push_str(&failures_table(d));
    if let Some(w) = super::readiness::section(
        d.summary.windows11_readiness.as_ref(),
        &d.summary.precache_shortfall,
        level,
    ) {
        o.push_str(&w);
    }
    if let Some(t) = csv_table(&d.dir.join("steps.csv"))? {
        o.push_str(&h("Task sequence steps"));
        o.push_str(&t);
    }
    o.push_str(&h("Scenario"));
    match &d.scenario_text {
        Some(t) => o.push_str(&html::pre(t)),
        None => o.push_str("<p class=\"empty\">This result folder has no scenario.toml.</p>\n"),
    }
    Ok(o)
}

/// The page of one run.
pub fn run_page(d: &ResultData) -> Result<String, ReportError> {
    let s = &d.summary;
    let mut body = format!(
        "<header><h1>Rollout report: {}</h1><p>{} clients, seed {}, {} simulated ({} mode)</p></header>\n",
        esc(&s.scenario),
        count(s.clients),
        s.seed,
        dur(s.sim_end_s),
        esc(&s.mode)
    );
    body.push_str(&super::sites::verdict_section(s));
    body.push_str(&run_sections(d, "", 2)?);
    Ok(html::page(
        &format!("fleetsim report: {}", s.scenario),
        &body,
    ))
}

/// Figures worth a first look when comparing, by summary key.
const KEY_FIGURES: [&str; 12] = [
    "outcomes.succeeded",
    "outcomes.failed",
    "outcomes.rolled_back",
    "compliance.p50_s",
    "compliance.p90_s",
    "compliance.p95_s",
    "compliance.final_share",
    "latency.install_wait.p95",
    "latency.download.p95",
    "latency.time_to_compliance.p50",
    "bytes.total",
    "bytes.on_demand",
];

/// A summary value in the units a reader thinks in, chosen by its key.
fn human(key: &str, v: Option<&serde_json::Value>) -> String {
    let Some(x) = v.and_then(|v| v.as_f64()) else {
        return compare::fmt_value(v);
    };
    if key.ends_with(".count") || key.starts_with("outcomes.") {
        count(x as u64)
    } else if key.ends_with("_share") {
        format!("{:.1}%", 100.0 * x)
    } else if key.ends_with("_s") || key.starts_with("latency.") {
        dur(x)
    } else if key.starts_with("bytes.") {
        bytes(x)
    } else if key.ends_with(".bps") {
        rate(x)
    } else {
        compare::fmt_value(v)
    }
}

fn compare_table(rows: &[Row], keys: Option<&[&str]>, labels: [&str; 2]) -> String {
    // The headline table speaks in units; the full table shows summary.json as is.
    let shown = |k: &str, v: Option<&serde_json::Value>| {
        if keys.is_some() {
            human(k, v)
        } else {
            compare::fmt_value(v)
        }
    };
    let pick: Vec<&Row> = match keys {
        Some(k) => k
            .iter()
            .filter_map(|k| rows.iter().find(|r| r.key == *k))
            .collect(),
        None => rows.iter().collect(),
    };
    let cells: Vec<Vec<String>> = pick
        .iter()
        .map(|r| {
            vec![
                format!("<code>{}</code>", esc(&r.key)),
                esc(&shown(&r.key, r.a.as_ref())),
                esc(&shown(&r.key, r.b.as_ref())),
                r.diff().to_string(),
            ]
        })
        .collect();
    // Labels of runs of the same scenario already say which is which.
    let name = |tag: &str, l: &str| {
        if l.starts_with(&format!("{tag}: ")) {
            l.to_string()
        } else {
            format!("{tag}: {l}")
        }
    };
    let (a, b) = (name("A", labels[0]), name("B", labels[1]));
    html::table(&["summary.json", &a, &b, "B vs A"], &cells)
}

/// The page of a comparison folder.
pub fn compare_page(dir: &Path, m: &compare::Manifest) -> Result<String, ReportError> {
    let mut runs = Vec::new();
    for r in &m.runs {
        runs.push((r.label.clone(), ResultData::load(&dir.join(&r.dir))?));
    }
    let [(la, a), (lb, b)] = match <[_; 2]>::try_from(runs) {
        Ok(x) => x,
        Err(v) => {
            return Err(ReportError::Invalid {
                path: dir.join("compare.json"),
                message: format!("a comparison needs 2 runs, found {}", v.len()),
            });
        }
    };
    let va = super::summary_value(&a.dir)?;
    let vb = super::summary_value(&b.dir)?;
    let rows = compare::rows(&va, &vb);
    let mut body = format!(
        "<header><h1>Comparison: {} vs {}</h1><p>A = {} ({} clients), B = {} ({} clients); changes are B relative to A</p></header>\n",
        esc(&la),
        esc(&lb),
        esc(&la),
        count(a.summary.clients),
        esc(&lb),
        count(b.summary.clients),
    );
    body.push_str("<h2>Headline figures</h2>\n");
    body.push_str(&compare_table(&rows, Some(&KEY_FIGURES), [&la, &lb]));
    body.push_str("<h2>Overlay plots</h2>\n");
    let pairs = [(la.clone(), &a), (lb.clone(), &b)];
    for f in plots::compare_figures(&pairs)? {
        body.push_str(&html::figure(&format!("plot-{}", f.name), &f));
    }
    body.push_str("<h2>Every summary figure</h2>\n");
    body.push_str(&compare_table(&rows, None, [&la, &lb]));
    for (cls, label, d) in [("a", &la, &a), ("b", &lb, &b)] {
        let _ = write!(
            body,
            "<section class=\"run {cls}\" id=\"run-{cls}\">\n<h2>{}: {}</h2>\n",
            cls.to_uppercase(),
            esc(label)
        );
        body.push_str(&run_sections(d, &format!("{cls}-"), 3)?);
        body.push_str("</section>\n");
    }
    Ok(html::page(
        &format!("fleetsim comparison: {la} vs {lb}"),
        &body,
    ))
}
