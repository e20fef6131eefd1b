//! The `fleetsim` command line: arguments are parsed here (clap) into one struct per
//! subcommand, each handled by its own module. Errors map to exit codes in one place:
//! 2 for bad input (scenario, XML, flags), 1 for a run that failed.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::diag::InputError;

pub mod calibrate;
pub mod common;
pub mod compare;
pub mod load;
pub mod merge;
pub mod plan;
pub mod progress;
pub mod report;
pub mod run;
pub mod study;
pub mod sweep;
pub mod table;
pub mod ts;
pub mod validate;

/// fleetsim: simulate ConfigMgr in-place upgrade rollouts and load-test distribution points.
#[derive(Debug, Parser)]
#[command(name = "fleetsim", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a rollout and write summary.json, CSVs and histograms.
    Run(run::RunArgs),
    /// Parse and check a scenario; print what it describes or every error.
    Validate(validate::ValidateArgs),
    /// Run a grid of scenario variants times R replications; write sweep.csv.
    Sweep(sweep::SweepArgs),
    /// Find the smallest value of a key that meets a target, by bisection over runs.
    Plan(plan::PlanArgs),
    /// Join the shards of a sweep, or merge result folders (histograms exactly).
    Merge(merge::MergeArgs),
    /// Compare two scenarios or result folders: side-by-side table and overlay plots.
    Compare(compare::CompareArgs),
    /// Write DIR/report.html: one self-contained page for a run, comparison or sweep.
    Report(report::ReportArgs),
    /// Task sequences: show a scenario's tree, or import an exported XML.
    Ts {
        /// What to do.
        #[command(subcommand)]
        command: ts::TsCommand,
    },
    /// Live load test: the scenario's downloads as real HTTP transfers from real DPs.
    Load(load::LoadArgs),
    /// Measure a DP at rising concurrency; print the DP values that reproduce it.
    Calibrate(calibrate::CalibrateArgs),
}

/// Options shared by commands that read a scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct ScenarioArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Override a scenario key by dotted path, e.g. `fleet.clients=100000` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Override `simulation.seed`.
    #[arg(long)]
    pub seed: Option<u64>,
}

impl ScenarioArgs {
    /// Loads the scenario with the overrides (`--seed` last, so it wins).
    pub fn load(&self) -> Result<crate::scenario::model::Scenario, InputError> {
        let mut set = self.set.clone();
        if let Some(seed) = self.seed {
            set.push(format!("simulation.seed={seed}"));
        }
        crate::scenario::load(&self.scenario, &set)
    }
}

/// Writes to stdout; a closed pipe (`fleetsim ... | head`) is not an error worth a
/// panic: output simply stops.
pub fn out(text: &str) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|()| o.flush());
}

/// Maps an error to the process exit code: 2 for bad input (an `--out` that may not
/// be written included), 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    if e.downcast_ref::<InputError>().is_some() || common::is_out_refusal(e) == Some(true) {
        2
    } else {
        1
    }
}

/// Entry point of the binary; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            };
        }
    };
    let result = match cli.command {
        Command::Run(a) => run::run(&a),
        Command::Validate(a) => validate::validate(&a),
        Command::Sweep(a) => sweep::sweep(&a),
        Command::Plan(a) => plan::plan(&a),
        Command::Merge(a) => merge::merge(&a),
        Command::Compare(a) => compare::compare(&a),
        Command::Report(a) => report::report(&a),
        Command::Ts { command } => ts::ts(&command),
        Command::Load(a) => load::run(&a),
        Command::Calibrate(a) => calibrate::run(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if let Some(ie) = e.downcast_ref::<InputError>() {
                common::note(&ie.to_string());
            } else {
                common::note(&format!("error: {e:#}"));
            }
            exit_code(&e)
        }
    }
}
