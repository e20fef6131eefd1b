//! `fleetsim sweep`: a grid of scenario variants times R replications, in parallel;
//! writes `sweep.csv` and one result folder per point.

use std::path::PathBuf;

use super::ScenarioArgs;
use super::common;
use super::study::{
    Size, check_budget, execute, exit_code, overrides, points_table, preflight, study_error,
};
use crate::diag::InputError;
use crate::study::grid::Grid;
use crate::study::layout::{Shard, StudyKind};
use crate::study::runner::Study;

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

/// Runs the command; returns the exit code.
pub fn sweep(a: &SweepArgs) -> anyhow::Result<i32> {
    let path = &a.scenario.scenario;
    let set = overrides(&a.scenario);
    let grid = Grid::from_args(&a.vary).map_err(InputError::from)?;
    let shard = a
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(InputError::from)?;
    let base = crate::scenario::load(path, &set)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("{}-sweep", base.name)));
    let points = grid.len().unwrap_or(0) as u64;
    let flag = if points > 1 {
        "--vary"
    } else {
        "--replications"
    };
    let size = Size {
        points,
        reps: a.replications,
        shard,
        per_client: false,
        threads: a.threads,
    };
    preflight(&base, size, &out, flag)?;
    let _claim = common::claim_out(&out, std::slice::from_ref(path))?;
    let study = Study::new(
        StudyKind::Sweep,
        path,
        set.clone(),
        grid,
        a.replications,
        shard,
        false,
    )
    .map_err(|e| study_error(e, path, &set))?;
    check_budget(&study, a.threads, &out, flag)?;
    let Some(outcome) = execute(&study, &out, a.threads, a.quiet)? else {
        return Ok(common::stop_code());
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
