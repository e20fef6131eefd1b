//! `fleetsim report DIR`: write `DIR/report.html`, one self-contained page for a run,
//! a comparison or a sweep.

use std::path::PathBuf;

use crate::diag::{Diagnostic, InputError};
use crate::report;

/// Arguments of `fleetsim report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A result folder (of `run`, `compare` or `sweep`).
    pub dir: PathBuf,
    /// Print nothing.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs the command; returns the exit code.
pub fn report(a: &ReportArgs) -> anyhow::Result<i32> {
    match report::write_report(&a.dir) {
        Ok(path) => {
            if !a.quiet {
                super::out(&format!("report: {}\n", path.display()));
            }
            Ok(0)
        }
        Err(e) if e.is_input_error() => Err(InputError(vec![Diagnostic {
            file: a.dir.clone(),
            line: 0,
            column: 0,
            key: String::new(),
            message: match e {
                report::ReportError::NotAResult(_) => {
                    "not a result folder (expected summary.json, compare.json or sweep.csv)".into()
                }
                report::ReportError::Incomplete(_) => {
                    "not a complete result folder (no .complete marker): its run was interrupted or is still being written".into()
                }
                other => other.to_string(),
            },
        }])
        .into()),
        Err(e) => Err(e.into()),
    }
}
