//! Capacity-planning studies: many runs of one scenario, and what they say together.
//!
//! A capacity planner asks "how many DPs, how much WAN, to reach 95% compliance in 72
//! hours, and with what certainty?". One run answers for one seed; a study runs a
//! grid of scenario variants (a *sweep*) times R replications each, or searches a
//! range for the smallest value that meets a target (a *plan*), and reports means
//! with Student-t confidence intervals.
//!
//! - [`budget`]: what a study will cost (disk, memory, CPU), checked before it runs;
//! - [`grid`]: `--vary KEY=V1,V2` / `LO..HI:STEP` with units, and the grid of points;
//! - [`layout`]: folders, the `study.json` manifest, replication seeds (common random
//!   numbers: replication r of every point uses the same seed), `--shard I/N`;
//! - [`runner`]: runs the units of a study in parallel (rayon) and builds its
//!   merged folders and `sweep.csv` from the unit folders;
//! - [`join`]: `fleetsim merge`: shards back into the whole study (or, when asked,
//!   into a partial one);
//! - [`merge`]: merging result folders exactly (histograms added, counts summed);
//! - [`table`]: `sweep.csv`, mean and 95% half-width of every figure;
//! - [`stats`]: the Student-t interval;
//! - [`target`] and [`plan`]: `METRIC <= VALUE` targets and the bisection search.
//!
//! Output never depends on the number of threads: units are independent simulations
//! written to their own folders, and everything merged is read back from those
//! folders in unit order.

use std::path::PathBuf;

use crate::diag::{Diagnostic, InputError};
use crate::sim::SimError;

pub mod budget;
pub mod grid;
pub mod join;
pub mod layout;
pub mod merge;
mod merge_csv;
pub mod plan;
pub mod rollout;
pub mod runner;
pub mod stats;
pub mod table;
pub mod target;

/// Why a study could not be run, merged or searched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StudyError {
    /// A scenario, a `--vary`, a `--target` or a `--shard` is wrong (exit code 2).
    #[error(transparent)]
    Input(#[from] InputError),
    /// A point's scenario cannot be simulated (its task sequence does not compile,
    /// its fleet does not fit in memory).
    #[error("{point}: {source}")]
    Sim {
        /// The point, as its `KEY=VALUE` assignments.
        point: String,
        /// The keys the study varies (`--vary`), so that a problem caused by a varied
        /// value is blamed on `--vary` rather than on the scenario file.
        varied: Vec<String>,
        /// What the simulator said.
        source: SimError,
    },
    /// Folders given to `merge` do not belong together, or are not result folders.
    #[error("{}: {message}", path.display())]
    Inconsistent {
        /// The offending folder or file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Stopped by Ctrl-C with nothing worth keeping, so nothing was written: a study
    /// before any unit finished (later, the finished units are written as a partial
    /// study instead), or a plan.
    #[error("interrupted")]
    Interrupted,
}

impl StudyError {
    /// Whether the user's input is at fault (the CLI's exit code 2).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            StudyError::Input(_) | StudyError::Sim { .. } | StudyError::Inconsistent { .. }
        )
    }
}

impl From<Diagnostic> for StudyError {
    fn from(d: Diagnostic) -> Self {
        StudyError::Input(d.into())
    }
}
