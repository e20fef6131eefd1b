//! `fleetsim run`: simulate, print the summary table, write the result folder.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

use super::ScenarioArgs;
use crate::output;
use crate::sim::{self, RunOptions};

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
}

/// Runs the command; returns the exit code.
pub fn run(a: &RunArgs) -> anyhow::Result<i32> {
    let s = a.scenario.load()?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&s.name));
    if a.replications.is_some() || a.shard.is_some() {
        return super::sweep::replications(a, &out);
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second Ctrl-C while results are written kills the process as usual.
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    }
    let trace = match &a.trace {
        Some(t) => crate::sim::trace::parse_clients(t).map_err(|m| {
            crate::diag::InputError(vec![crate::diag::Diagnostic {
                file: "<--trace>".into(),
                line: 0,
                column: 0,
                key: "--trace".into(),
                message: m,
            }])
        })?,
        None => Vec::new(),
    };
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
    let r = r.map_err(|e| sim_error(&a.scenario.scenario, e))?;
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
    if !a.quiet {
        super::out(&super::table::summary_table(&output::summary::Summary::of(
            &r,
        )));
        super::out(&format!("results: {}\n", out.display()));
    }
    if r.partial {
        eprintln!("interrupted: partial results written to {}", out.display());
        return Ok(130);
    }
    Ok(0)
}

/// A simulation that cannot start is a problem of the input: name the key.
pub fn sim_error(file: &std::path::Path, e: sim::SimError) -> crate::diag::InputError {
    let key = match e {
        sim::SimError::Compile(_) => "task_sequence",
        sim::SimError::TooLarge(_) => "fleet.clients",
    };
    crate::diag::InputError(vec![crate::diag::Diagnostic {
        file: file.to_path_buf(),
        line: 0,
        column: 0,
        key: key.into(),
        message: e.to_string(),
    }])
}
