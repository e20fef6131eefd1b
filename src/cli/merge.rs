//! `fleetsim merge`: joins the shards of a sweep (or of `run --replications`) into
//! the whole study, or merges plain result folders into one.

use std::path::PathBuf;

use super::common::{self, note};
use super::study::{points_table, study_error};
use crate::diag::{Diagnostic, InputError};
use crate::output::outdir;
use crate::output::summary::Summary;
use crate::study::join::{self, Joined};

/// Arguments of `fleetsim merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Folders to merge: the shards of one study, or result folders of one scenario.
    #[arg(required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Join the units present even when some are missing (a shard not given, or
    /// stopped by Ctrl-C): the result is a partial study, marked so in study.json,
    /// sweep.csv and the merged summaries. Without it a missing unit is an error.
    #[arg(long)]
    pub allow_partial: bool,
    /// Worker threads (default: every core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print nothing.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs the command; returns the exit code.
pub fn merge(a: &MergeArgs) -> anyhow::Result<i32> {
    same_folder_twice(&a.dirs)?;
    let _claim = common::claim_out(&a.out, &a.dirs)?;
    let joined = join::join(&a.dirs, &a.out, a.threads, a.allow_partial).map_err(|e| {
        study_error(
            e,
            a.dirs.first().map(PathBuf::as_path).unwrap_or(&a.out),
            &[],
        )
    })?;
    if let Joined::Study(o) = &joined
        && let Some(c) = o
            .manifest
            .completion
            .as_ref()
            .filter(|_| o.manifest.partial)
    {
        note(&format!(
            "partial: {} of {} units missing (--allow-partial); {} holds a partial study, its study.json lists them",
            c.units_missing.len(),
            c.units_total,
            a.out.display()
        ));
    }
    if a.quiet {
        return Ok(0);
    }
    match joined {
        Joined::Study(o) => {
            let partial_of = o.manifest.partial.then_some(o.manifest.replications);
            let points = o.points.unwrap_or_default();
            let keys: Vec<String> = o.manifest.vary.iter().map(|v| v.key.clone()).collect();
            if keys.is_empty() {
                if let Some(p) = points.first() {
                    super::out(&super::table::summary_table(&p.summary));
                }
            } else {
                super::out(&points_table(&keys, &points, partial_of));
            }
            super::out(&format!(
                "joined {} folder(s): {} point(s) x {} replication(s) in {}\n",
                a.dirs.len(),
                points.len(),
                o.manifest.replications,
                a.out.display()
            ));
        }
        Joined::Folders(s) => {
            print_merged(&s);
            super::out(&format!(
                "merged {} folder(s) into {}\n",
                a.dirs.len(),
                a.out.display()
            ));
        }
    }
    Ok(0)
}

fn print_merged(s: &Summary) {
    super::out(&super::table::summary_table(s));
}

/// Refuses a folder given twice (`merge r r`, `merge r ./r/`): its runs would count
/// twice. Paths are compared resolved (`.`, `..`, trailing slashes, symbolic links).
fn same_folder_twice(dirs: &[PathBuf]) -> Result<(), InputError> {
    let resolved: Vec<PathBuf> = dirs.iter().map(|d| outdir::absolute(d)).collect();
    for (i, a) in resolved.iter().enumerate() {
        if let Some(j) = resolved.iter().take(i).position(|b| b == a)
            && let (Some(first), Some(again)) = (dirs.get(j), dirs.get(i))
        {
            return Err(InputError(vec![Diagnostic {
                file: again.clone(),
                line: 0,
                column: 0,
                key: String::new(),
                message: format!(
                    "is the same folder as {} given before: a folder merged twice would count its runs twice",
                    first.display()
                ),
            }]));
        }
    }
    Ok(())
}
