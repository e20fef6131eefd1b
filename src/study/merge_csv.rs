//! The per-row files of a merge: `timeline.csv` summed by bucket (then divided per
//! rollout for replications) and `steps.csv` written back in the format of
//! `output::csv_out::StepsCsv`. Split from [`super::merge`] to keep files short.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use super::StudyError;
use super::merge::{STEPS_COLUMNS, StepSum, bad, cell, io_err, parse_secs, records};

/// Sums `timeline.csv` of the inputs bucket by bucket (inputs without one add
/// nothing), then divides by `runs` (1 for load shards) with
/// [`super::rollout::mean_buckets`].
pub(super) fn merge_timelines(inputs: &[PathBuf], out: &Path, runs: u64) -> Result<(), StudyError> {
    let mut sums: BTreeMap<u64, ([u64; 3], String)> = BTreeMap::new();
    let mut any = false;
    for d in inputs {
        let p = d.join("timeline.csv");
        if !p.exists() {
            continue;
        }
        any = true;
        for rec in records(&p, &["time_s", "succeeded", "rolled_back", "failed"])? {
            let t = parse_secs(cell(&rec, 0)).ok_or_else(|| bad(&p, "bad time_s"))?;
            let slot = sums.entry(t).or_insert(([0; 3], cell(&rec, 0).to_string()));
            for (j, v) in slot.0.iter_mut().enumerate() {
                let n: u64 = cell(&rec, 1 + j)
                    .parse()
                    .map_err(|_| bad(&p, "bad count"))?;
                *v = v.saturating_add(n);
            }
        }
    }
    if !any {
        return Ok(());
    }
    let p = out.join("timeline.csv");
    let err = |e: csv::Error| StudyError::Io {
        path: p.clone(),
        source: io::Error::other(e),
    };
    let mut w = csv::Writer::from_path(&p).map_err(err)?;
    w.write_record(["time_s", "succeeded", "rolled_back", "failed"])
        .map_err(err)?;
    let mut columns: Vec<Vec<u64>> = (0..3)
        .map(|j| {
            sums.values()
                .map(|(c, _)| c.get(j).copied().unwrap_or(0))
                .collect()
        })
        .collect();
    for c in &mut columns {
        *c = super::rollout::mean_buckets(c, runs);
    }
    for (i, (_, label)) in sums.values().enumerate() {
        let counts = columns.iter().map(|c| c.get(i).copied().unwrap_or(0));
        let mut rec = vec![label.clone()];
        rec.extend(counts.map(|x| x.to_string()));
        w.write_record(&rec).map_err(err)?;
    }
    w.flush().map_err(io_err(&p))
}

/// Writes summed `steps.csv` rows in the format of `output::csv_out::StepsCsv`.
pub(super) fn write_steps(p: &Path, steps: &[StepSum]) -> Result<(), StudyError> {
    let err = |e: csv::Error| StudyError::Io {
        path: p.to_path_buf(),
        source: io::Error::other(e),
    };
    let mut w = csv::Writer::from_path(p).map_err(err)?;
    w.write_record(STEPS_COLUMNS).map_err(err)?;
    for (i, (path, kind, n)) in steps.iter().enumerate() {
        let mut rec = vec![i.to_string(), path.clone(), kind.clone()];
        rec.extend(n.iter().map(u64::to_string));
        w.write_record(&rec).map_err(err)?;
    }
    w.flush().map_err(io_err(p))
}
