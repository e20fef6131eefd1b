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
}

/// Runs the command; returns the exit code.
pub fn run(a: &RunArgs) -> anyhow::Result<i32> {
    let s = a.scenario.load()?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&s.name));
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
    };
    let r = sim::run(&s, &opts);
    drop(bar);
    let r = r.map_err(|e| {
        crate::diag::InputError(vec![crate::diag::Diagnostic {
            file: a.scenario.scenario.clone(),
            line: 0,
            column: 0,
            key: "task_sequence".into(),
            message: e.to_string(),
        }])
    })?;
    let scenario_text = std::fs::read(&a.scenario.scenario).ok();
    output::write_all(&r, &out, a.per_client, &|dir| match &scenario_text {
        Some(t) => std::fs::write(dir.join("scenario.toml"), t),
        None => Ok(()),
    })
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
