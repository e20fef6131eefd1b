//! Joining shards: `fleetsim merge` of study folders rebuilds the whole study from
//! the units the shards ran, with the same code that finishes an unsharded study
//! ([`super::runner::finish`]), so the result is byte for byte the same; plain result
//! folders are merged as replications of one another ([`super::merge`]).
//!
//! A missing unit (a shard not given, or a partial shard stopped by Ctrl-C) is an
//! error naming the units, unless the caller allows a partial result: then the study
//! is rebuilt from the units present and marked partial, as an interrupted run is.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::StudyError;
use super::grid::Grid;
use super::layout::{self, Completion, MANIFEST, Manifest};
use super::merge;
use super::runner::{Outcome, finish, in_pool, input, io_at, write_atomically, write_json};
use crate::output::atomic::COMPLETE_MARKER;
use crate::output::summary::Summary;

fn copy_dir(from: &Path, to: &Path) -> Result<(), StudyError> {
    std::fs::create_dir_all(to).map_err(io_at(to))?;
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .map_err(io_at(from))?
        .collect::<Result<_, _>>()
        .map_err(io_at(from))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let src = e.path();
        let dst = to.join(e.file_name());
        if e.file_type().map_err(io_at(&src))?.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(io_at(&src))?;
        }
    }
    Ok(())
}

fn read_manifest(dir: &Path) -> Result<Option<Manifest>, StudyError> {
    let p = dir.join(MANIFEST);
    if !p.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).map_err(io_at(&p))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| StudyError::Inconsistent {
            path: p.clone(),
            message: format!("not a fleetsim study manifest: {e}"),
        })
}

/// What `fleetsim merge` did.
#[derive(Debug, Clone)]
pub enum Joined {
    /// Shards (or other parts) of one study were joined into the whole study.
    Study(Box<Outcome>),
    /// Plain result folders were merged as replications of one another.
    Folders(Box<Summary>),
}

/// Joins `inputs` into `out`: shards of one study become the study, exactly as if it
/// had run whole; plain result folders (no `study.json`) are merged into one result
/// folder ([`merge`] says how). Units missing from every input are an error unless
/// `allow_partial`, which writes a partial study from the units present.
pub fn join(
    inputs: &[PathBuf],
    out: &Path,
    threads: Option<usize>,
    allow_partial: bool,
) -> Result<Joined, StudyError> {
    let Some(first) = inputs.first() else {
        return Err(input(Path::new("merge"), "", "no folder to merge".into()));
    };
    let manifests = inputs
        .iter()
        .map(|d| read_manifest(d))
        .collect::<Result<Vec<_>, _>>()?;
    let bad = |path: &Path, message: String| StudyError::Inconsistent {
        path: path.to_path_buf(),
        message,
    };
    if manifests.iter().all(Option::is_none) {
        let s = write_atomically(out, |tmp| merge::merge_into(inputs, tmp))?;
        return Ok(Joined::Folders(Box::new(s)));
    }
    let mut whole: Option<Manifest> = None;
    for (d, m) in inputs.iter().zip(&manifests) {
        let Some(m) = m else {
            return Err(bad(
                d,
                "is a plain result folder, the others are study folders: merge one kind at a time"
                    .into(),
            ));
        };
        if m.format != layout::FORMAT {
            return Err(bad(
                d,
                format!("study format {} is not {}", m.format, layout::FORMAT),
            ));
        }
        match &whole {
            None => whole = Some(m.whole()),
            Some(w) if *w != m.whole() => {
                return Err(bad(
                    d,
                    format!(
                        "belongs to another study than {} (scenario, --set, --vary, replications or version differ)",
                        first.display()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    let Some(mut manifest) = whole else {
        return Err(bad(first, "no manifest".into()));
    };
    let grid = Grid {
        vary: manifest.vary.clone(),
    };
    let n = grid.len().unwrap_or(0);
    let reps = manifest.replications;
    let mut sources: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut missing = Vec::new();
    let mut present = BTreeSet::new();
    let total = n as u64 * u64::from(reps);
    for u in 0..total {
        let p = (u / u64::from(reps)) as usize;
        let r = (u % u64::from(reps)) as u32;
        let rel = layout::unit_dir(
            &layout::point_dir(Path::new(""), manifest.kind, p, n),
            r,
            reps,
        );
        let found: Vec<&PathBuf> = inputs
            .iter()
            .filter(|d| d.join(&rel).join(COMPLETE_MARKER).exists())
            .collect();
        match found.as_slice() {
            [one] => {
                sources.push((one.join(&rel), rel));
                present.insert(u);
            }
            [] => missing.push(layout::unit_name(manifest.kind, u, n, reps)),
            [a, b, ..] => {
                return Err(bad(
                    b,
                    format!(
                        "holds unit {} that {} holds too",
                        rel.display(),
                        a.display()
                    ),
                ));
            }
        }
    }
    if !missing.is_empty() && (!allow_partial || sources.is_empty()) {
        let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
        let more = if missing.len() > shown.len() {
            ", ..."
        } else {
            ""
        };
        let hint = if sources.is_empty() {
            "no unit at all is present"
        } else {
            "is a shard missing, or was one interrupted? --allow-partial joins the units present into a partial study"
        };
        return Err(bad(
            first,
            format!(
                "{} unit(s) missing from the folders given: {}{more}; {hint}",
                missing.len(),
                shown.join(", ")
            ),
        ));
    }
    if !missing.is_empty() {
        let all: Vec<u64> = (0..total).collect();
        manifest.partial = true;
        manifest.completion = Some(Completion::new(
            manifest.kind,
            n,
            reps,
            &all,
            &present,
            &BTreeSet::new(),
            true,
        ));
    }
    let outcome = write_atomically(out, |tmp| {
        write_json(&tmp.join(MANIFEST), &manifest)?;
        let sc = first.join("scenario.toml");
        std::fs::copy(&sc, tmp.join("scenario.toml")).map_err(io_at(&sc))?;
        for (src, rel) in &sources {
            copy_dir(src, &tmp.join(rel))?;
        }
        let points = in_pool(threads, || finish(tmp, &manifest))??;
        Ok(Outcome {
            manifest: manifest.clone(),
            units_run: 0,
            points: Some(points),
        })
    })?;
    Ok(Joined::Study(Box::new(outcome)))
}
