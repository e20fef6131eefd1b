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
        Err(e) if e.is_input_error() => {
            // Named once: by the file at fault when there is one, else the folder.
            let (file, message) = match e {
                report::ReportError::NotAResult(_) => (
                    a.dir.clone(),
                    "not a result folder (expected summary.json, compare.json, sweep.csv or plan.json)"
                        .to_string(),
                ),
                report::ReportError::Incomplete(_) => (
                    a.dir.clone(),
                    "not a complete result folder (no .complete marker): its run was interrupted or is still being written"
                        .to_string(),
                ),
                report::ReportError::Invalid { path, message } => (path, message),
                report::ReportError::Data(crate::output::plots::DataError::File {
                    file,
                    message,
                }) => (file, message),
                other => (a.dir.clone(), other.to_string()),
            };
            Err(InputError(vec![Diagnostic {
                file,
                line: 0,
                column: 0,
                key: String::new(),
                message,
            }])
            .into())
        }
        Err(e) => Err(e.into()),
    }
}
