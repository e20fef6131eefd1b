//! `fleetsim compare A B`: run (or take) two results, print every summary figure side
//! by side with the change in percent, and write overlay plots.
//!
//! The comparison folder holds both results (`a/`, `b/`: runs of the given scenarios
//! or copies of the given result folders), so it stays readable and reportable when
//! the inputs move or change.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::diag::{Diagnostic, InputError};
use crate::output::{self, atomic};
use crate::report::compare;
use crate::scenario::model::Scenario;
use crate::sim::{self, RunOptions};

/// Arguments of `fleetsim compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The reference (A): a scenario file or a result folder.
    pub a: PathBuf,
    /// The alternative (B): a scenario file or a result folder.
    pub b: PathBuf,
    /// Output folder (default `results/compare-<A>-vs-<B>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing (the folder is still written).
    #[arg(long, short)]
    pub quiet: bool,
}

/// One side of the comparison, checked before anything is written.
enum Input {
    /// A result folder to copy.
    Folder { dir: PathBuf, name: String },
    /// A scenario to run.
    Scenario {
        file: PathBuf,
        scenario: Box<Scenario>,
    },
}

impl Input {
    fn name(&self) -> &str {
        match self {
            Input::Folder { name, .. } => name,
            Input::Scenario { scenario, .. } => &scenario.name,
        }
    }
}

fn input_error(path: &Path, message: impl Into<String>) -> InputError {
    InputError(vec![Diagnostic {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        key: String::new(),
        message: message.into(),
    }])
}

fn classify(path: &Path) -> Result<Input, InputError> {
    if path.is_dir() {
        let s = path.join("summary.json");
        let kind = if path.join("sweep.csv").is_file() || path.join("study.json").is_file() {
            Some("a sweep (or a shard of one)")
        } else if path.join("compare.json").is_file() {
            Some("a comparison")
        } else if path.join("plan.json").is_file() {
            Some("a plan")
        } else {
            None
        };
        if let (Some(kind), false) = (kind, s.is_file()) {
            return Err(input_error(
                path,
                format!(
                    "is {kind}, not a run: compare takes two runs (result folders or scenarios); compare one point of a sweep (its points/<p> folder), or write a sweep's page with `fleetsim report`"
                ),
            ));
        }
        if !s.is_file() {
            return Err(input_error(
                path,
                "not a result folder (no summary.json) and not a scenario file",
            ));
        }
        if !path.join(atomic::COMPLETE_MARKER).exists() {
            return Err(input_error(
                path,
                "not a complete result folder (no .complete marker): its run was interrupted or is still being written",
            ));
        }
        let text = std::fs::read_to_string(&s).map_err(|e| input_error(&s, e.to_string()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| input_error(&s, format!("not valid JSON: {e}")))?;
        let name = v
            .get("scenario")
            .and_then(|n| n.as_str())
            .unwrap_or("result")
            .to_string();
        return Ok(Input::Folder {
            dir: path.to_path_buf(),
            name,
        });
    }
    if !path.exists() {
        return Err(input_error(path, "no such scenario file or result folder"));
    }
    let scenario = crate::scenario::load(path, &[])?;
    Ok(Input::Scenario {
        file: path.to_path_buf(),
        scenario: Box::new(scenario),
    })
}

/// A file-name-safe version of a scenario name.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Copies a result folder (skipping hidden temporary folders).
fn copy_dir(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let name = e.file_name();
        let ty = e.file_type()?;
        if ty.is_dir() {
            if !name.to_string_lossy().starts_with('.') {
                copy_dir(&e.path(), &dst.join(&name))?;
            }
        } else if ty.is_file() {
            std::fs::copy(e.path(), dst.join(&name))?;
        }
    }
    Ok(())
}

/// Runs the command; returns the exit code.
pub fn compare(a: &CompareArgs) -> anyhow::Result<i32> {
    let inputs = [classify(&a.a)?, classify(&a.b)?];
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(format!(
            "compare-{}-vs-{}",
            slug(inputs[0].name()),
            slug(inputs[1].name())
        ))
    });
    let _claim = super::common::claim_out(&out, &[a.a.clone(), a.b.clone()])?;
    // Both scenarios run at once (each run is single-threaded and deterministic).
    let opts = RunOptions::default();
    let results = std::thread::scope(|sc| {
        let handles: Vec<_> = inputs
            .iter()
            .map(|i| {
                sc.spawn(|| match i {
                    Input::Scenario { scenario, file } => sim::run(scenario, &opts)
                        .map(Some)
                        .map_err(|e| super::common::sim_error(file, &[], e)),
                    Input::Folder { .. } => Ok(None),
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect::<Vec<_>>()
    });
    let mut runs = Vec::new();
    for r in results {
        match r {
            Ok(r) => runs.push(r?),
            Err(_) => anyhow::bail!("a simulation thread panicked"),
        }
    }
    let mut table = None;
    atomic::write_dir(&out, |dir| {
        for ((input, run), sub) in inputs.iter().zip(&runs).zip(compare::RUN_DIRS) {
            let target = dir.join(sub);
            match (input, run) {
                (Input::Scenario { file, .. }, Some(r)) => {
                    let text = std::fs::read(file).ok();
                    output::write_all(r, &target, false, true, &|d| match &text {
                        Some(t) => std::fs::write(d.join("scenario.toml"), t),
                        None => Ok(()),
                    })?;
                }
                (Input::Folder { dir: src, .. }, _) => {
                    copy_dir(src, &target)?;
                    if !target.join("plots").is_dir() {
                        let d = output::plots::ResultData::load(&target)
                            .map_err(std::io::Error::other)?;
                        output::plots::write_run_plots(&d, &target.join("plots"))
                            .map_err(std::io::Error::other)?;
                    }
                }
                (Input::Scenario { .. }, None) => {
                    return Err(std::io::Error::other("a scenario was not run"));
                }
            }
        }
        table = Some(compare::finish(dir).map_err(std::io::Error::other)?);
        Ok(())
    })
    .with_context(|| format!("writing the comparison to {}", out.display()))?;
    if let (false, Some(c)) = (a.quiet, table) {
        let labels = [c.labels[0].as_str(), c.labels[1].as_str()];
        super::out(&format!("A = {}, B = {}\n", labels[0], labels[1]));
        super::out(&compare::text_table(labels, &c.rows));
        super::out(&format!(
            "results: {}\nplots: {}\n",
            out.display(),
            out.join("plots").display()
        ));
    }
    Ok(0)
}
