//! Reports people read: the self-contained `report.html` of a run, a comparison or a
//! sweep, and the comparison of two results (side-by-side table and overlay charts).
//!
//! This layer sits on [`crate::output`]: it reads result folders back through
//! [`ResultData`](crate::output::plots::ResultData) and draws with the same charts as
//! `run`, so a report made later shows exactly what the run showed.
//!
//! - [`compare`]: the comparison table, `compare.json`/`compare.csv`, overlay plots;
//! - [`html`]: HTML building blocks (escaping, tables, inline SVG figures, the page);
//! - [`pages`]: what the run and comparison pages contain;
//! - [`sweep`]: the sweep page, its headline figures charted against the varied value;
//! - [`study_chart`]: those charts (a figure per value with its confidence interval);
//! - [`readiness`]: the Windows 11 readiness and pre-cache shortfall section.

use std::path::{Path, PathBuf};

use crate::output::plots::{DataError, PlotError};

pub mod compare;
pub mod html;
pub mod pages;
pub mod plan;
pub mod readiness;
pub mod sites;
pub mod study_chart;
pub mod sweep;
pub mod verdict;

/// Why a report or comparison could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file is malformed.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The folder holds no result, comparison or sweep.
    #[error(
        "{}: not a result folder (expected summary.json, compare.json, sweep.csv or plan.json)",
        .0.display()
    )]
    NotAResult(PathBuf),
    /// The folder was not completely written (no `.complete` marker): a run still
    /// being written, or one killed before it finished.
    #[error(
        "{}: not a complete result folder (no .complete marker): its run was interrupted or is still being written",
        .0.display()
    )]
    Incomplete(PathBuf),
    /// A result folder could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A chart could not be drawn.
    #[error(transparent)]
    Plot(#[from] PlotError),
}

impl ReportError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether the user pointed at the wrong thing (exit code 2) rather than the
    /// machine failing (exit code 1).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            ReportError::NotAResult(_)
                | ReportError::Incomplete(_)
                | ReportError::Invalid { .. }
                | ReportError::Data(_)
        )
    }
}

/// What a folder holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `compare.json`: a comparison made by `fleetsim compare`.
    Compare(compare::Manifest),
    /// `sweep.csv`: a sweep.
    Sweep,
    /// `plan.json`: a plan made by `fleetsim plan --out`.
    Plan,
    /// `summary.json`: one run.
    Run,
}

/// Tells what a folder holds (a comparison or sweep also holds runs, so they win).
pub fn kind(dir: &Path) -> Result<Kind, ReportError> {
    if let Some(m) = compare::read_manifest(dir)? {
        return Ok(Kind::Compare(m));
    }
    if dir.join("sweep.csv").is_file() {
        return Ok(Kind::Sweep);
    }
    if dir.join("plan.json").is_file() {
        return Ok(Kind::Plan);
    }
    if dir.join("summary.json").is_file() {
        return Ok(Kind::Run);
    }
    Err(ReportError::NotAResult(dir.to_path_buf()))
}

/// The HTML page for a folder.
pub fn render(dir: &Path) -> Result<String, ReportError> {
    match kind(dir)? {
        Kind::Compare(m) => pages::compare_page(dir, &m),
        Kind::Sweep => sweep::sweep_page(dir),
        Kind::Plan => plan::plan_page(dir),
        Kind::Run => {
            let d = crate::output::plots::ResultData::load(dir)?;
            pages::run_page(&d)
        }
    }
}

/// Writes `DIR/report.html` (via a temporary file, so a reader never sees half a
/// page) and returns its path.
pub fn write_report(dir: &Path) -> Result<PathBuf, ReportError> {
    // What the folder is comes first: a folder that is no result at all says so.
    kind(dir)?;
    if !dir.join(crate::output::atomic::COMPLETE_MARKER).exists() {
        return Err(ReportError::Incomplete(dir.to_path_buf()));
    }
    let page = render(dir)?;
    let out = dir.join("report.html");
    let tmp = dir.join(format!(".report.html.tmp-{}", std::process::id()));
    let written = std::fs::write(&tmp, page)
        .map_err(|e| ReportError::io(&tmp, e))
        .and_then(|()| std::fs::rename(&tmp, &out).map_err(|e| ReportError::io(&out, e)));
    if written.is_err() {
        // A full disk or a read-only folder must not leave half a page behind.
        let _ = std::fs::remove_file(&tmp);
    }
    written.map(|()| out)
}

/// `summary.json` as a JSON value (every key, including ones this version does not
/// know, for the comparison table).
pub fn summary_value(dir: &Path) -> Result<serde_json::Value, ReportError> {
    let p = dir.join("summary.json");
    let text = std::fs::read_to_string(&p).map_err(|e| ReportError::io(&p, e))?;
    serde_json::from_str(&text).map_err(|e| ReportError::Invalid {
        path: p,
        message: e.to_string(),
    })
}

/// Result folders (holding `summary.json`) directly inside `dir` or one level
/// deeper, sorted by path; hidden folders (temporary ones) are skipped.
pub fn find_runs(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    fn subdirs(d: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(d).map_err(|e| ReportError::io(d, e))? {
            let e = e.map_err(|e| ReportError::io(d, e))?;
            let hidden = e.file_name().to_string_lossy().starts_with('.');
            if !hidden && e.path().is_dir() {
                v.push(e.path());
            }
        }
        v.sort();
        Ok(v)
    }
    let mut runs = Vec::new();
    for d in subdirs(dir)? {
        if d.join("summary.json").is_file() {
            runs.push(d);
        } else {
            runs.extend(
                subdirs(&d)?
                    .into_iter()
                    .filter(|x| x.join("summary.json").is_file()),
            );
        }
    }
    Ok(runs)
}
