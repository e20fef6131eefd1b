//! `fleetsim sweep`: a grid of scenario variants times R replications, in parallel;
//! writes `sweep.csv` and one result folder per point. Also holds what `plan`,
//! `merge` and `run --replications` share: error mapping, Ctrl-C, the progress bar.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::ScenarioArgs;
use super::table::human_secs;
use crate::diag::{Diagnostic, InputError};
use crate::study::StudyError;
use crate::study::grid::Grid;
use crate::study::layout::{Shard, StudyKind};
use crate::study::runner::{self, Control, PointResult, Study, Tick};

/// Arguments of `fleetsim sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Scenario and overrides (applied before the varied keys).
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// A key and its values: `KEY=V1,V2,...`, `KEY=1..8`, `KEY=1Gbps..10Gbps:1Gbps`
    /// (repeatable; the grid is the product, the first --vary changing slowest).
    #[arg(long, required = true, value_name = "KEY=VALUES")]
    pub vary: Vec<String>,
    /// Replications per point (seeds shared across points: common random numbers).
    #[arg(long, short = 'r', default_value_t = 1)]
    pub replications: u32,
    /// Run only share I of N (1-based) of the units, e.g. from a Kubernetes Indexed
    /// Job or a Slurm array; join the shares with `fleetsim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Output folder (default `results/<scenario name>-sweep/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: every core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar and no table.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The `--set` list of a command, with `--seed` last (as `ScenarioArgs::load` does).
pub(crate) fn overrides(a: &ScenarioArgs) -> Vec<String> {
    let mut set = a.set.clone();
    if let Some(seed) = a.seed {
        set.push(format!("simulation.seed={seed}"));
    }
    set
}

/// Maps a study error to the CLI's: input problems become [`InputError`] (exit 2).
pub(crate) fn study_error(e: StudyError, scenario: &std::path::Path) -> anyhow::Error {
    let diag = |file: PathBuf, key: &str, message: String| {
        anyhow::Error::from(InputError(vec![Diagnostic {
            file,
            line: 0,
            column: 0,
            key: key.to_string(),
            message,
        }]))
    };
    match e {
        StudyError::Input(ie) => ie.into(),
        StudyError::Sim { point, source } => diag(
            scenario.to_path_buf(),
            "",
            format!("with {point}: {source}"),
        ),
        StudyError::Inconsistent { path, message } => diag(path, "", message),
        other => anyhow::Error::from(other),
    }
}

/// A flag set by Ctrl-C; a second Ctrl-C exits at once.
pub(crate) fn ctrlc_flag() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let _ = ctrlc::set_handler(move || {
        if s.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    stop
}

/// A progress bar on stderr (only on a terminal and without --quiet).
pub(crate) fn progress_bar(quiet: bool, len: usize) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:30} {pos}/{len} runs, {msg}, {elapsed} elapsed, ETA {eta}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// Runs a study with the progress bar and Ctrl-C; `Ok(None)` when interrupted before
/// any unit finished (nothing written). Interrupted later, the outcome's manifest is
/// `partial` and what was kept is said on stderr.
pub(crate) fn execute(
    study: &Study,
    out: &std::path::Path,
    threads: Option<usize>,
    quiet: bool,
) -> anyhow::Result<Option<runner::Outcome>> {
    let stop = ctrlc_flag();
    let units = study.owned_units();
    let bar = progress_bar(quiet, units.len());
    if let Some(b) = &bar {
        let reps = u64::from(study.replications.max(1));
        let mut points: Vec<u64> = units.iter().map(|u| u / reps).collect();
        points.dedup();
        b.set_message(format!("0/{} points", points.len()));
    }
    let tick = |t: Tick| {
        if let Some(b) = &bar {
            b.inc(1);
            b.set_message(format!("{}/{} points", t.points_done, t.points_total));
        }
    };
    let ctl = Control {
        threads,
        stop: Some(&stop),
        progress: Some(&tick),
    };
    let r = runner::execute(study, out, &ctl);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match r {
        Ok(o) => {
            if let Some(c) = o
                .manifest
                .completion
                .as_ref()
                .filter(|_| o.manifest.partial)
            {
                let dropped = match c.units_dropped.len() {
                    0 => String::new(),
                    n => format!(" ({n} stopped mid-run were dropped)"),
                };
                eprintln!(
                    "interrupted: {} of {} runs finished and were kept{dropped}; partial results written to {} (study.json lists what is missing)",
                    c.units_present.len(),
                    c.units_total,
                    out.display()
                );
            }
            Ok(Some(o))
        }
        Err(StudyError::Interrupted) => {
            eprintln!(
                "interrupted before any run finished: nothing written to {}",
                out.display()
            );
            Ok(None)
        }
        Err(e) => Err(study_error(e, &study.scenario_path)),
    }
}

fn mean_pm(p: &PointResult, key: &str, secs: bool) -> String {
    match p.stats.get(key).copied().flatten() {
        None => "never".into(),
        Some((m, h)) if secs => {
            if h > 0.0 {
                format!("{} ± {}", human_secs(m), human_secs(h))
            } else {
                human_secs(m)
            }
        }
        Some((m, h)) => {
            if h > 0.0 {
                format!("{m:.1} ± {h:.1}")
            } else {
                format!("{m:.0}")
            }
        }
    }
}

/// The table printed after a sweep: a few headline figures per point. `partial_of`
/// is `Some(R)` for a partial study: a `runs` column then shows how many of the R
/// replications each point's figures are over, and a last line says it is partial.
pub(crate) fn points_table(
    keys: &[String],
    points: &[PointResult],
    partial_of: Option<u32>,
) -> String {
    let mut o = String::new();
    let cols = [
        ("succeeded", "outcomes.succeeded", false),
        ("95% compliant at", "compliance.p95_s", true),
        ("compliance p95", "latency.time_to_compliance.p95", true),
        ("download p95", "latency.download.p95", true),
    ];
    let mut rows: Vec<Vec<String>> = vec![
        std::iter::once("point".to_string())
            .chain(keys.iter().cloned())
            .chain(partial_of.map(|_| "runs".to_string()))
            .chain(cols.iter().map(|c| c.0.to_string()))
            .collect(),
    ];
    for p in points {
        rows.push(
            std::iter::once(p.index.to_string())
                .chain(p.assignments.iter().map(|(_, v)| v.clone()))
                .chain(partial_of.map(|r| {
                    let mark = if p.complete { "" } else { " (partial)" };
                    format!("{}/{r}{mark}", p.replications)
                }))
                .chain(cols.iter().map(|(_, k, s)| mean_pm(p, k, *s)))
                .collect(),
        );
    }
    let n = rows.first().map(Vec::len).unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map(|x| x.chars().count()).unwrap_or(0))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(x, w)| format!("{x:<w$}"))
            .collect();
        let _ = writeln!(o, "{}", line.join("  ").trim_end());
    }
    if partial_of.is_some() {
        let complete = points.iter().filter(|p| p.complete).count();
        let _ = writeln!(
            o,
            "PARTIAL: {complete} point(s) complete, {} merged from fewer replications than asked (wider intervals; `complete` is false in the CSV); points without any run are left out",
            points.len() - complete
        );
    }
    o
}

/// The exit code of a study that ran: 130 when Ctrl-C left it partial.
fn exit_code(o: &runner::Outcome) -> i32 {
    if o.manifest.partial { 130 } else { 0 }
}

/// Runs the command; returns the exit code.
pub fn sweep(a: &SweepArgs) -> anyhow::Result<i32> {
    let path = &a.scenario.scenario;
    let grid = Grid::from_args(&a.vary).map_err(InputError::from)?;
    let shard = a
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(InputError::from)?;
    let study = Study::new(
        StudyKind::Sweep,
        path,
        overrides(&a.scenario),
        grid,
        a.replications,
        shard,
        false,
    )
    .map_err(|e| study_error(e, path))?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("{}-sweep", study.name())));
    let Some(outcome) = execute(&study, &out, a.threads, a.quiet)? else {
        return Ok(130);
    };
    let code = exit_code(&outcome);
    if a.quiet {
        return Ok(code);
    }
    let partial_of = outcome.manifest.partial.then_some(a.replications);
    match (&outcome.points, shard) {
        (Some(points), _) => {
            let keys: Vec<String> = study.grid.vary.iter().map(|v| v.key.clone()).collect();
            super::out(&points_table(&keys, points, partial_of));
            let shown = if partial_of.is_some() {
                format!("{} of {} points (partial)", points.len(), study.points())
            } else {
                format!("{} points", points.len())
            };
            super::out(&format!(
                "{shown} x {} replication(s): {}\n",
                a.replications,
                out.join("sweep.csv").display()
            ));
        }
        (None, Some(s)) => super::out(&format!(
            "shard {}/{}: {} of {} runs written to {}{}; join the shards with `fleetsim merge DIR... --out DIR`\n",
            s.index,
            s.count,
            outcome.units_run,
            study.points() * a.replications as usize,
            out.display(),
            if partial_of.is_some() {
                " (partial)"
            } else {
                ""
            }
        )),
        (None, None) => {}
    }
    Ok(code)
}

/// `fleetsim run --replications R [--shard I/N]`: a study of one point.
pub(crate) fn replications(a: &super::run::RunArgs, out: &std::path::Path) -> anyhow::Result<i32> {
    let path = &a.scenario.scenario;
    let shard = a
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(InputError::from)?;
    let reps = a.replications.unwrap_or(1);
    let trace = match &a.trace {
        Some(t) => crate::sim::trace::parse_clients(t).map_err(|m| {
            InputError(vec![Diagnostic {
                file: "<--trace>".into(),
                line: 0,
                column: 0,
                key: "--trace".into(),
                message: m,
            }])
        })?,
        None => Vec::new(),
    };
    let mut study = Study::new(
        StudyKind::Replications,
        path,
        overrides(&a.scenario),
        Grid::default(),
        reps,
        shard,
        a.per_client,
    )
    .map_err(|e| study_error(e, path))?;
    study.trace = trace;
    let Some(outcome) = execute(&study, out, None, a.quiet)? else {
        return Ok(130);
    };
    let code = exit_code(&outcome);
    if a.quiet {
        return Ok(code);
    }
    match (outcome.points.as_deref(), shard) {
        (Some([p]), _) => {
            super::out(&super::table::summary_table(&p.summary));
            let merged = if p.complete {
                format!("{reps} replication(s) merged")
            } else {
                format!(
                    "PARTIAL: {} of {reps} replication(s) merged (interrupted; `complete` is false in replications.csv)",
                    p.replications
                )
            };
            super::out(&format!(
                "{merged}; mean ± 95% half-width per replication: succeeded {}, 95% compliant at {}, compliance p95 {}\nresults: {}\n",
                mean_pm(p, "outcomes.succeeded", false),
                mean_pm(p, "compliance.p95_s", true),
                mean_pm(p, "latency.time_to_compliance.p95", true),
                out.display()
            ));
        }
        (_, Some(s)) => super::out(&format!(
            "shard {}/{}: {} of {reps} replications written to {}{}; join the shards with `fleetsim merge DIR... --out DIR`\n",
            s.index,
            s.count,
            outcome.units_run,
            out.display(),
            if outcome.manifest.partial {
                " (partial)"
            } else {
                ""
            }
        )),
        _ => {}
    }
    Ok(code)
}
