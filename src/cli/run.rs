//! `fleetsim run`: simulate, print the summary table, write the result folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use super::ScenarioArgs;
use super::common::{self, note};
use super::study::{
    Size, check_budget, execute, exit_code, mean_pm, overrides, preflight, study_error,
};
use crate::diag::InputError;
use crate::output;
use crate::sim::{self, RunOptions};
use crate::study::grid::Grid;
use crate::study::layout::{Shard, StudyKind};
use crate::study::runner::Study;

/// Arguments of `fleetsim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario and overrides.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Output folder (default `results/<scenario name>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write clients.csv (one row per client).
    #[arg(long)]
    pub per_client: bool,
    /// No progress bar and no table.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run R replications (derived seeds) and merge them into one result folder;
    /// each replication's own folder is kept under `replications/`.
    #[arg(long, short = 'r')]
    pub replications: Option<u32>,
    /// Run only share I of N (1-based) of the replications; join with `fleetsim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Skip drawing plots/ (saves ~0.1 s per run in batch use; `report` can draw later).
    #[arg(long)]
    pub no_plots: bool,
    /// Write every step of these clients to trace.csv (`17`, `0-99`, `1,5,9-12`).
    #[arg(long, value_name = "CLIENTS")]
    pub trace: Option<String>,
    /// A target to judge the run by, `'METRIC <= VALUE'` (or `<`, `>=`, `>`), e.g.
    /// `'sites.Lyon.compliance.p95_s <= 72h'`; repeatable, added to the scenario's
    /// `[[targets]]`. A missed target makes the exit code 3.
    #[arg(long, value_name = "'METRIC <= VALUE'")]
    pub target: Vec<String>,
}

/// Exit code of a run that completed but missed one of its targets (0, 1, 2, 129,
/// 130 and 143 are taken by success, failure, bad input and the signals).
pub const TARGET_MISSED: i32 = 3;

/// The scenario's `[[targets]]` checked against the figures its summary has (a
/// located error for an unknown metric), then the `--target` ones added.
fn resolve_targets(
    s: &mut crate::scenario::model::Scenario,
    cli: &[String],
) -> Result<(), InputError> {
    let known = crate::study::plan::known_metrics(s);
    let mut errors = Vec::new();
    for t in &s.targets {
        if let Err(d) = crate::study::target::check(t, &known) {
            errors.push(d);
        }
    }
    for raw in cli {
        match crate::study::target::parse(raw, &known) {
            Ok(t) => s.targets.push(t),
            Err(d) => errors.push(d),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(InputError(errors))
    }
}

/// The exit code the targets give (the summary table prints their verdicts).
fn target_code(targets: &[crate::output::summary::TargetJson]) -> i32 {
    if targets.iter().all(|t| t.met) {
        0
    } else {
        TARGET_MISSED
    }
}

/// Runs the command; returns the exit code.
pub fn run(a: &RunArgs) -> anyhow::Result<i32> {
    let mut s = a.scenario.load()?;
    resolve_targets(&mut s, &a.target)?;
    if !a.quiet {
        for n in &s.notes {
            common::note(&format!("warning: {n}"));
        }
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&s.name));
    if a.replications.is_some() || a.shard.is_some() {
        return replications(a, &s, &out);
    }
    let trace = match &a.trace {
        Some(t) => common::trace_clients(t, &s, &out)?,
        None => Vec::new(),
    };
    crate::study::budget::Budget::single(&s, a.per_client)
        .check_disk(&out)
        .map_err(|m| common::flag_error("--out", format!("{m}: choose another --out")))?;
    let stop = common::stop_flag();
    let _claim = common::claim_out(&out, std::slice::from_ref(&a.scenario.scenario))?;
    let progress = Arc::new(sim::Progress::default());
    let bar = super::progress::start(
        progress.clone(),
        s.simulation.horizon,
        s.fleet.clients,
        super::progress::wanted(a.quiet),
    );
    let opts = RunOptions {
        per_client: a.per_client,
        stop: Some(stop),
        progress: Some(progress),
        trace,
        ..Default::default()
    };
    let r = sim::run(&s, &opts);
    drop(bar);
    let r = r.map_err(|e| common::sim_error(&a.scenario.scenario, &overrides(&a.scenario), e))?;
    let scenario_text = std::fs::read(&a.scenario.scenario).ok();
    output::write_all(
        &r,
        &out,
        a.per_client,
        !a.no_plots,
        &|dir| match &scenario_text {
            Some(t) => std::fs::write(dir.join("scenario.toml"), t),
            None => Ok(()),
        },
    )
    .with_context(|| format!("writing results to {}", out.display()))?;
    let summary = output::summary::Summary::of(&r);
    if !a.quiet {
        super::out(&super::table::summary_table(&summary));
        // Windows 11 readiness and pre-cache shortfall (issue 16), when they apply.
        for l in output::readiness::lines(
            summary.windows11_readiness.as_ref(),
            &summary.precache_shortfall,
        ) {
            super::out(&format!("{l}\n"));
        }
        super::out(&format!("results: {}\n", out.display()));
    }
    if r.partial {
        note(&format!(
            "interrupted ({}): partial results written to {}",
            common::stop_name(),
            out.display()
        ));
        return Ok(common::stop_code());
    }
    Ok(target_code(&summary.targets))
}

/// `fleetsim run --replications R [--shard I/N]`: a study of one point.
fn replications(
    a: &RunArgs,
    s: &crate::scenario::model::Scenario,
    out: &Path,
) -> anyhow::Result<i32> {
    let path = &a.scenario.scenario;
    let set = overrides(&a.scenario);
    let shard = a
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(InputError::from)?;
    let reps = a.replications.unwrap_or(1);
    let trace = match &a.trace {
        Some(t) => common::trace_clients(t, s, out)?,
        None => Vec::new(),
    };
    let size = Size {
        points: 1,
        reps,
        shard,
        per_client: a.per_client,
        threads: None,
    };
    preflight(s, size, out, "--replications")?;
    // Signals from here on stop the study (before any run, nothing is written).
    common::stop_flag();
    let _claim = common::claim_out(out, std::slice::from_ref(path))?;
    let mut study = Study::new(
        StudyKind::Replications,
        path,
        set.clone(),
        Grid::default(),
        reps,
        shard,
        a.per_client,
    )
    .map_err(|e| study_error(e, path, &set))?;
    study.set_targets(&s.targets);
    check_budget(&study, None, out, "--replications", a.quiet)?;
    study.trace = trace;
    let Some(outcome) = execute(&study, out, None, a.quiet)? else {
        return Ok(common::stop_code());
    };
    let mut code = exit_code(&outcome);
    if code == 0
        && let Some([p]) = outcome.points.as_deref()
    {
        code = target_code(&p.summary.targets);
    }
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
        (_, Some(sh)) => super::out(&format!(
            "shard {}/{}: {} of {reps} replications written to {}{}; join the shards with `fleetsim merge DIR... --out DIR`\n",
            sh.index,
            sh.count,
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
