//! What the study commands (`sweep`, `run --replications`, `plan`, `merge`) share:
//! their overrides, the mapping of study errors to exit codes, the cost check before
//! a study starts, running it under the stop signals with a progress bar, and the
//! table of points printed after it.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::ScenarioArgs;
use super::common::{self, flag_error};
use super::table::human_secs;
use crate::diag::{Diagnostic, InputError};
use crate::study::StudyError;
use crate::study::budget::Budget;
use crate::study::runner::{self, Control, PointResult, Study, Tick};

/// The `--set` list of a command, with `--seed` last (as `ScenarioArgs::load` does).
pub(crate) fn overrides(a: &ScenarioArgs) -> Vec<String> {
    let mut set = a.set.clone();
    if let Some(seed) = a.seed {
        set.push(format!("simulation.seed={seed}"));
    }
    set
}

/// The key a simulator refusal is about, for locating it.
fn sim_key(e: &crate::sim::SimError) -> &'static str {
    match e {
        crate::sim::SimError::Compile(_) => "task_sequence",
        crate::sim::SimError::TooLarge(m) if m.contains("languages") => "fleet.language",
        crate::sim::SimError::TooLarge(m) if m.contains("distribution points") => {
            "distribution_points"
        }
        crate::sim::SimError::TooLarge(_) => "fleet.clients",
    }
}

/// Maps a study error to the CLI's: input problems become [`InputError`] (exit 2),
/// located: a point that cannot run is blamed on the `--vary` that made it, else on
/// the `--set` or the line of the scenario file that gave the value.
pub(crate) fn study_error(e: StudyError, scenario: &Path, set: &[String]) -> anyhow::Error {
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
        StudyError::Sim {
            point,
            varied,
            source,
        } => {
            let key = sim_key(&source);
            let by_vary = varied.iter().any(|v| {
                v == key
                    || key
                        .strip_prefix(v.as_str())
                        .is_some_and(|r| r.starts_with('.'))
                    || v.strip_prefix(key).is_some_and(|r| r.starts_with('.'))
            });
            if by_vary {
                diag(format!("<--vary {point}>").into(), key, source.to_string())
            } else {
                let d =
                    crate::scenario::blame(scenario, set, key, format!("with {point}: {source}"));
                anyhow::Error::from(InputError(vec![d]))
            }
        }
        StudyError::Inconsistent { path, message } => diag(path, "", message),
        other => anyhow::Error::from(other),
    }
}

/// The size of a study: what its cost depends on besides the scenario.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Size {
    /// Points of the grid.
    pub points: u64,
    /// Replications per point.
    pub reps: u32,
    /// The share this process runs.
    pub shard: Option<crate::study::layout::Shard>,
    /// `--per-client`.
    pub per_client: bool,
    /// `--threads`.
    pub threads: Option<usize>,
}

/// Refuses, before the scenarios of every point are even resolved, a study that will
/// not fit: `size.points` points like `base` times the replications (the share of
/// them this process runs), with the estimate in the message ([`Budget`]), blamed on
/// `flag`.
pub(crate) fn preflight(
    base: &crate::scenario::model::Scenario,
    size: Size,
    out: &Path,
    flag: &str,
) -> Result<(), InputError> {
    let total = size.points.saturating_mul(u64::from(size.reps));
    let runs = match size.shard {
        Some(s) => total.div_ceil(u64::from(s.count)),
        None => total,
    };
    let b = Budget::study(
        base,
        size.points,
        runs,
        size.per_client,
        thread_count(size.threads),
    );
    b.check(out)
        .map_err(|m| flag_error(flag, format!("{m}: ask for fewer runs")))
}

/// The same check once every point's scenario is known (the largest point counts for
/// all: a varied fleet size or horizon changes the cost of its runs), blamed on the
/// `--vary` point that makes it so.
pub(crate) fn check_budget(
    study: &Study,
    threads: Option<usize>,
    out: &Path,
    flag: &str,
) -> Result<(), InputError> {
    let cost = |s: &crate::scenario::model::Scenario| {
        crate::study::budget::run_disk(s, study.per_client)
            .saturating_add(crate::study::budget::run_memory(s))
    };
    let Some((p, worst)) = study
        .scenarios()
        .iter()
        .enumerate()
        .max_by_key(|(_, s)| cost(s))
    else {
        return Ok(());
    };
    let size = Size {
        points: study.points() as u64,
        reps: study.replications,
        shard: study.shard,
        per_client: study.per_client,
        threads,
    };
    preflight(worst, size, out, flag).map_err(|e| {
        let point = study.grid.point(p);
        if point.is_empty() {
            return e;
        }
        let at = runner::describe(&point);
        InputError(
            e.0.into_iter()
                .map(|d| Diagnostic {
                    file: format!("<--vary {at}>").into(),
                    message: format!("the point {at} is the largest: {}", d.message),
                    ..d
                })
                .collect(),
        )
    })
}

fn thread_count(threads: Option<usize>) -> u64 {
    threads
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1) as u64
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

/// Runs a study with the progress bar and the stop signals; `Ok(None)` when stopped
/// before any unit finished (nothing written). Stopped later, the outcome's manifest
/// is `partial` and what was kept is said on stderr.
pub(crate) fn execute(
    study: &Study,
    out: &Path,
    threads: Option<usize>,
    quiet: bool,
) -> anyhow::Result<Option<runner::Outcome>> {
    let stop = common::stop_flag();
    let units = study.owned_units();
    let bar = progress_bar(quiet, units.len());
    if let Some(b) = &bar {
        let reps = u64::from(study.replications.max(1));
        let mut points: Vec<u64> = units.iter().map(|u| u / reps).collect();
        points.dedup();
        b.set_message(format!("0/{} points", points.len()));
    }
    drop(units);
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
                common::note(&format!(
                    "interrupted ({}): {} of {} runs finished and were kept{dropped}; partial results written to {} (study.json lists what is missing)",
                    common::stop_name(),
                    c.units_present.len(),
                    c.units_total,
                    out.display()
                ));
            }
            Ok(Some(o))
        }
        Err(StudyError::Interrupted) => {
            common::note(&format!(
                "interrupted ({}) before any run finished: nothing written to {}",
                common::stop_name(),
                out.display()
            ));
            Ok(None)
        }
        Err(e) => Err(study_error(e, &study.scenario_path, &study.set)),
    }
}

/// `mean ± half-width` of a figure of a point, for tables.
pub(crate) fn mean_pm(p: &PointResult, key: &str, secs: bool) -> String {
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

/// The exit code of a study that ran: 128 + the signal when a stop left it partial.
pub(crate) fn exit_code(o: &runner::Outcome) -> i32 {
    if o.manifest.partial {
        common::stop_code()
    } else {
        0
    }
}
