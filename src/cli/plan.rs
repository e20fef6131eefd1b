//! `fleetsim plan`: the smallest value of a key that meets a target, by bisection
//! over runs; prints the answer, the bracket and the runs that decided it.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

use super::ScenarioArgs;
use super::common::{self, note};
use super::study::{overrides, study_error};
use crate::study::StudyError;
use crate::study::plan::{self, Evaluation, PlanOutcome, PlanSpec};

/// Arguments of `fleetsim plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Scenario and overrides (applied before the searched key).
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// The key and range to search: `KEY=LO..HI` or `KEY=LO..HI:STEP` (the step is
    /// the tolerance; default 1 for whole numbers, else about a thousandth of the range).
    #[arg(long, value_name = "KEY=LO..HI[:STEP]")]
    pub vary: String,
    /// The target, `'METRIC <= VALUE'` (or <, >=, >): METRIC is a dotted path of
    /// summary.json, VALUE in its units (`latency.time_to_compliance.p95 <= 72h`).
    #[arg(long, value_name = "'METRIC <= VALUE'")]
    pub target: String,
    /// Replications per value; the target applies to their mean.
    #[arg(long, short = 'r', default_value_t = 1)]
    pub replications: u32,
    /// Evenly spaced values run with both ends before bisecting (monotonicity checks).
    #[arg(long, default_value_t = 3)]
    pub probes: u32,
    /// Keep the runs: `DIR/runs/<n>-<value>/`, `DIR/plan.json`, `DIR/plan.csv`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: every core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print only the answer.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A run's figure in the metric's human units (`39.6h ± 2.5h`); `null` when never
/// reached.
fn figure(e: &Evaluation, metric: &str) -> String {
    let h = |x: f64| crate::report::verdict::human_value(metric, x);
    match e.mean {
        None => "null".into(),
        Some(m) if e.ci95 > 0.0 => format!("{} ± {}", h(m), h(e.ci95)),
        Some(m) => h(m),
    }
}

/// The report: every run, then the answer and its bracket.
pub fn report(p: &PlanOutcome, metric: &str, quiet: bool) -> String {
    let unit = metric;
    let mut o = String::new();
    if !quiet {
        let _ = writeln!(
            o,
            "plan: smallest {} with {} (mean of {} replication(s)); tolerance {}",
            p.key, p.target, p.replications, p.step
        );
        let w = p
            .runs
            .iter()
            .map(|e| e.value.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let fw = p
            .runs
            .iter()
            .map(|e| figure(e, unit).chars().count())
            .chain([metric.len()])
            .max()
            .unwrap_or(0);
        let _ = writeln!(o, "  run  {:<w$}  {:<fw$}  met  why", "value", metric);
        for e in &p.runs {
            let _ = writeln!(
                o,
                "  {:<3}  {:<w$}  {:<fw$}  {:<3}  {}",
                e.order,
                e.value,
                figure(e, unit),
                if e.met { "yes" } else { "no" },
                e.role.as_str()
            );
        }
    }
    if p.partial {
        let _ = writeln!(
            o,
            "PARTIAL: interrupted before the search ended; no answer ({} value(s) run)",
            p.runs.len()
        );
        return o;
    }
    match (p.answer_run(), p.below_run()) {
        (Some(a), below) => {
            let _ = writeln!(o, "answer: {} = {}", p.key, a.value);
            if !quiet {
                match below {
                    Some(b) => {
                        let _ = writeln!(
                            o,
                            "bracket: {} does not meet the target ({}), {} does ({}); tolerance {}",
                            b.value,
                            figure(b, unit),
                            a.value,
                            figure(a, unit),
                            p.step
                        );
                    }
                    None => {
                        let _ = writeln!(
                            o,
                            "bracket: the low end {} meets the target ({})",
                            a.value,
                            figure(a, unit)
                        );
                    }
                }
            }
        }
        (None, below) => {
            let _ = writeln!(
                o,
                "answer: none: {} = {} (the high end) does not meet {} ({})",
                p.key,
                below.map(|b| b.value.as_str()).unwrap_or("?"),
                p.target,
                below.map(|b| figure(b, unit)).unwrap_or_default()
            );
        }
    }
    o
}

/// Runs the command; returns the exit code (1 when no value in the range meets the
/// target).
pub fn plan(a: &PlanArgs) -> anyhow::Result<i32> {
    let path = &a.scenario.scenario;
    let set = overrides(&a.scenario);
    let spec = PlanSpec::new(
        path,
        set.clone(),
        &a.vary,
        &a.target,
        a.replications,
        a.probes,
    )
    .map_err(|e| study_error(e, path, &set))?;
    // Signals from here on stop the search; before, they end the process at once.
    let stop = common::stop_flag();
    let _claim = match &a.out {
        Some(o) => Some(common::claim_out(o, std::slice::from_ref(path))?),
        None => None,
    };
    let live = !a.quiet && std::io::stderr().is_terminal();
    let unit = spec.target.metric.as_str();
    let on_eval = |e: &Evaluation| {
        if live {
            note(&format!(
                "  ran {}={}: {} ({})",
                spec.key,
                e.value,
                figure(e, unit),
                if e.met { "met" } else { "not met" }
            ));
        }
    };
    let result = plan::search(
        &spec,
        a.out.as_deref(),
        a.threads,
        Some(&stop),
        Some(&on_eval),
    );
    let p = match result {
        Ok(p) => p,
        Err(StudyError::Interrupted) => {
            note(&format!(
                "interrupted ({}) before any value was evaluated: nothing written",
                common::stop_name()
            ));
            return Ok(common::stop_code());
        }
        Err(e) => return Err(study_error(e, path, &set)),
    };
    super::out(&report(&p, &spec.target.metric, a.quiet));
    for w in &p.warnings {
        note(&format!("warning: {w}"));
    }
    if let Some(o) = &a.out
        && !a.quiet
    {
        super::out(&format!("runs: {}\n", o.display()));
    }
    if p.partial {
        note(&format!(
            "interrupted ({}): partial results written{}",
            common::stop_name(),
            a.out
                .as_ref()
                .map(|o| format!(" to {}", o.display()))
                .unwrap_or_default()
        ));
        return Ok(common::stop_code());
    }
    Ok(if p.answer.is_some() { 0 } else { 1 })
}
