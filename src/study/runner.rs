//! Running a study: every unit (point, replication) is an independent simulation run
//! on the rayon pool and written to its own folder; once all units of the study are
//! present, the point folders and `sweep.csv` are rebuilt from the unit folders
//! ([`finish`]), the same way whether the units ran here or came from shards
//! ([`super::join`]).
//!
//! Ctrl-C ([`Control::stop`]) keeps what is finished: no unit starts after it, units
//! running are stopped and dropped (half a replication would bias the means and
//! intervals it joins), and the finished units are written as a *partial* study: the
//! manifest says `"partial": true` and lists what is missing
//! ([`layout::Completion`]), points with some units are merged from those and marked
//! partial, and the table gets `point`, `replications_done` and `complete` columns.
//! When no unit finished there is nothing to keep and nothing is written, so an
//! earlier complete folder at the same place is not replaced by an empty one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicUsize, Ordering};

use rayon::prelude::*;

use super::StudyError;
use super::grid::Grid;
use super::layout::{self, Completion, MANIFEST, Manifest, Shard, StudyKind};
use super::merge;
use super::table::{self, FigureStats, Figures, Row};
use crate::diag::InputError;
use crate::output::atomic::{self, COMPLETE_MARKER};
use crate::output::summary::Summary;
use crate::scenario::{self, model::Scenario};
use crate::sim::{self, RunOptions, result::RunResult};

/// What to run: a scenario, its overrides, the grid, replications and share.
#[derive(Debug, Clone)]
pub struct Study {
    /// Sweep or replications.
    pub kind: StudyKind,
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// Its bytes (copied into the study folder).
    pub scenario_text: Vec<u8>,
    /// `--set` overrides (and the seed), applied before the varied keys.
    pub set: Vec<String>,
    /// The grid of points.
    pub grid: Grid,
    /// Replications per point (at least 1).
    pub replications: u32,
    /// The share to run; `None` for all.
    pub shard: Option<Shard>,
    /// Write clients.csv in every unit folder.
    pub per_client: bool,
    /// Clients whose steps every unit writes to trace.csv (`run --trace`).
    pub trace: Vec<u32>,
    /// The resolved scenario of every point.
    scenarios: Vec<Scenario>,
}

/// Progress of a running study, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// Units finished.
    pub units_done: usize,
    /// Units this process runs.
    pub units_total: usize,
    /// Points whose units (those this process runs) are all finished.
    pub points_done: usize,
    /// Points with at least one unit in this process.
    pub points_total: usize,
}

/// How to run: threads, Ctrl-C and progress.
#[derive(Default, Clone, Copy)]
pub struct Control<'a> {
    /// Worker threads; `None` for rayon's default (every core).
    pub threads: Option<usize>,
    /// Set to stop (Ctrl-C): no new unit starts, running units stop and are dropped,
    /// and the finished units are written as a partial study (nothing when none).
    pub stop: Option<&'a Arc<AtomicBool>>,
    /// Called after each unit.
    pub progress: Option<&'a (dyn Fn(Tick) + Sync)>,
}

/// A point's merged result and statistics.
#[derive(Debug, Clone)]
pub struct PointResult {
    /// The point's index in the grid (its folder; a partial study skips points).
    pub index: usize,
    /// Replications merged into it: fewer than asked in a partial study.
    pub replications: u32,
    /// Whether every replication asked for is in.
    pub complete: bool,
    /// The point's `(key, value)` assignments.
    pub assignments: Vec<(String, String)>,
    /// Its folder.
    pub dir: PathBuf,
    /// The merged summary of its replications.
    pub summary: Summary,
    /// Mean and half-width of every figure.
    pub stats: FigureStats,
}

/// What a run of a study produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The manifest written (`partial` when units are missing).
    pub manifest: Manifest,
    /// Units run to the end by this process and written.
    pub units_run: usize,
    /// Every point with at least one unit, in grid order, when the folder holds the
    /// whole study (not a shard).
    pub points: Option<Vec<PointResult>>,
}

pub(crate) fn input(path: &Path, key: &str, message: String) -> StudyError {
    StudyError::Input(InputError(vec![crate::diag::Diagnostic {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        key: key.to_string(),
        message,
    }]))
}

pub(crate) fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> StudyError + '_ {
    move |source| StudyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `KEY=VALUE` overrides of a point, after the study's own.
fn point_overrides(set: &[String], assignments: &[(String, String)]) -> Vec<String> {
    let mut v = set.to_vec();
    v.extend(assignments.iter().map(|(k, x)| format!("{k}={x}")));
    v
}

/// `k1=v1 k2=v2`, for messages.
pub fn describe(assignments: &[(String, String)]) -> String {
    if assignments.is_empty() {
        return "the scenario".into();
    }
    assignments
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Study {
    /// Reads the scenario and resolves every point, reporting all bad points at once
    /// before anything runs.
    pub fn new(
        kind: StudyKind,
        scenario_path: &Path,
        set: Vec<String>,
        grid: Grid,
        replications: u32,
        shard: Option<Shard>,
        per_client: bool,
    ) -> Result<Study, StudyError> {
        if replications == 0 {
            return Err(input(
                scenario_path,
                "--replications",
                "at least one replication is needed".into(),
            ));
        }
        let n = grid.len().unwrap_or(0);
        if (n as u64)
            .checked_mul(u64::from(replications))
            .is_none_or(|u| u > u64::from(u32::MAX))
        {
            return Err(input(
                scenario_path,
                "--replications",
                "too many units".into(),
            ));
        }
        let scenario_text = std::fs::read(scenario_path).map_err(|e| {
            input(
                scenario_path,
                "",
                format!("cannot read the scenario file: {e}"),
            )
        })?;
        let mut scenarios = Vec::with_capacity(n);
        let mut diags = Vec::new();
        for p in 0..n {
            let over = point_overrides(&set, &grid.point(p));
            match scenario::load(scenario_path, &over) {
                Ok(s) => scenarios.push(s),
                Err(InputError(d)) => {
                    for x in d {
                        if !diags.contains(&x) {
                            diags.push(x);
                        }
                    }
                }
            }
        }
        if !diags.is_empty() {
            return Err(StudyError::Input(InputError(diags)));
        }
        Ok(Study {
            kind,
            scenario_path: scenario_path.to_path_buf(),
            scenario_text,
            set,
            grid,
            replications,
            shard,
            per_client,
            trace: Vec::new(),
            scenarios,
        })
    }

    /// Number of points.
    pub fn points(&self) -> usize {
        self.scenarios.len()
    }

    /// The resolved scenario of every point, in grid order.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// The scenario name (of the first point).
    pub fn name(&self) -> &str {
        self.scenarios
            .first()
            .map(|s| s.name.as_str())
            .unwrap_or("")
    }

    /// The manifest of this study.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            format: layout::FORMAT,
            kind: self.kind,
            scenario: self.name().to_string(),
            scenario_hash: layout::fingerprint(&self.scenario_text),
            set: self.set.clone(),
            vary: self.grid.vary.clone(),
            replications: self.replications,
            shard: self.shard,
            version: env!("CARGO_PKG_VERSION").to_string(),
            partial: false,
            completion: None,
        }
    }

    /// Judges every point's runs by these targets (the scenario's `[[targets]]` and
    /// `run --target`): each unit records them in its summary, and the merged point
    /// is judged by its means.
    pub fn set_targets(&mut self, targets: &[crate::scenario::targets::Target]) {
        for s in &mut self.scenarios {
            s.targets = targets.to_vec();
        }
    }

    /// The units this process runs, in order.
    pub fn owned_units(&self) -> Vec<u64> {
        let total = self.points() as u64 * u64::from(self.replications);
        (0..total)
            .filter(|&u| self.shard.is_none_or(|s| s.owns(u)))
            .collect()
    }
}

/// Runs replication `r` of a point's scenario (seed derived from the point's own).
pub fn run_replication(
    s: &Scenario,
    r: u32,
    per_client: bool,
    trace: &[u32],
    stop: Option<&Arc<AtomicBool>>,
) -> Result<RunResult, sim::SimError> {
    let mut s = s.clone();
    s.simulation.seed = layout::replication_seed(s.simulation.seed, r);
    let opts = RunOptions {
        per_client,
        stop: stop.cloned(),
        progress: None,
        trace: trace.to_vec(),
        ..RunOptions::default()
    };
    sim::run(&s, &opts)
}

/// Writes one unit's result folder (as `run` would, with its completion marker).
pub fn write_unit(r: &RunResult, dir: &Path, per_client: bool) -> Result<(), StudyError> {
    std::fs::create_dir_all(dir).map_err(io_at(dir))?;
    // Replications skip plots: the merged point folder draws them once.
    for e in crate::output::exporters(per_client, false) {
        e.write(r, dir).map_err(io_at(&dir.join(e.name())))?;
    }
    let m = dir.join(COMPLETE_MARKER);
    std::fs::write(&m, b"").map_err(io_at(&m))
}

/// Runs `f` on a pool of `threads` workers, or on rayon's global pool.
pub fn in_pool<T: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, StudyError> {
    match threads {
        None => Ok(f()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .map_err(|e| StudyError::Io {
                    path: PathBuf::from("<thread pool>"),
                    source: std::io::Error::other(e),
                })?;
            Ok(pool.install(f))
        }
    }
}

/// Writes files into a fresh temporary folder renamed to `out` when `fill` succeeds,
/// carrying `fill`'s own error out (the folder is then removed).
pub fn write_atomically<T>(
    out: &Path,
    fill: impl FnOnce(&Path) -> Result<T, StudyError>,
) -> Result<T, StudyError> {
    let mut result: Option<Result<T, StudyError>> = None;
    let written = atomic::write_dir(out, |tmp| {
        let r = fill(tmp);
        let ok = r.is_ok();
        result = Some(r);
        if ok {
            Ok(())
        } else {
            Err(std::io::Error::other("study failed"))
        }
    });
    match (result, written) {
        (Some(Err(e)), _) => Err(e),
        (_, Err(source)) => Err(StudyError::Io {
            path: out.to_path_buf(),
            source,
        }),
        (Some(Ok(v)), Ok(())) => Ok(v),
        (None, Ok(())) => Err(StudyError::Interrupted),
    }
}

pub(crate) fn write_json(path: &Path, v: &impl serde::Serialize) -> Result<(), StudyError> {
    let mut text = serde_json::to_string_pretty(v).map_err(|e| StudyError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(io_at(path))
}

/// A unit of the study as this process runs it.
struct Job<'a> {
    /// Unit number, `point * R + r`.
    u: u64,
    point: usize,
    r: u32,
    scenario: &'a Scenario,
    /// Units of this point still to finish here (for the progress ticks).
    left: &'a AtomicU32,
}

/// What became of a unit: not started, written, or stopped mid-run and dropped.
const NOT_RUN: u8 = 0;
const DONE: u8 = 1;
const DROPPED: u8 = 2;

/// Runs the study's units into `out` (atomically: the folder appears when done).
/// Stopped by [`Control::stop`], it writes the finished units as a partial study
/// (see the module docs), or returns [`StudyError::Interrupted`] when none finished.
pub fn execute(study: &Study, out: &Path, ctl: &Control<'_>) -> Result<Outcome, StudyError> {
    let r_count = study.replications;
    let reps = u64::from(r_count);
    let points = study.points();
    let owns = |u: u64| study.shard.is_none_or(|s| s.owns(u));
    let per_point: Vec<AtomicU32> = (0..points as u64)
        .map(|p| AtomicU32::new((0..reps).filter(|r| owns(p * reps + r)).count() as u32))
        .collect();
    let jobs: Vec<Job<'_>> = study
        .scenarios
        .iter()
        .zip(&per_point)
        .enumerate()
        .flat_map(|(point, (scenario, left))| {
            (0..r_count).map(move |r| Job {
                u: point as u64 * reps + u64::from(r),
                point,
                r,
                scenario,
                left,
            })
        })
        .filter(|j| owns(j.u))
        .collect();
    let state: Vec<AtomicU8> = jobs.iter().map(|_| AtomicU8::new(NOT_RUN)).collect();
    let points_total = per_point
        .iter()
        .filter(|c| c.load(Ordering::Relaxed) > 0)
        .count();
    let done = AtomicUsize::new(0);
    let points_done = AtomicUsize::new(0);
    let stopped = || ctl.stop.is_some_and(|s| s.load(Ordering::Relaxed));
    write_atomically(out, |tmp| {
        let sc = tmp.join("scenario.toml");
        std::fs::write(&sc, &study.scenario_text).map_err(io_at(&sc))?;
        in_pool(ctl.threads, || {
            jobs.par_iter()
                .zip(&state)
                .try_for_each(|(j, slot)| -> Result<(), StudyError> {
                    if stopped() {
                        return Ok(());
                    }
                    let res =
                        run_replication(j.scenario, j.r, study.per_client, &study.trace, ctl.stop)
                            .map_err(|source| StudyError::Sim {
                                point: describe(&study.grid.point(j.point)),
                                varied: study.grid.vary.iter().map(|v| v.key.clone()).collect(),
                                source,
                            })?;
                    if res.partial {
                        slot.store(DROPPED, Ordering::Relaxed);
                        return Ok(());
                    }
                    let pdir = layout::point_dir(tmp, study.kind, j.point, points);
                    write_unit(
                        &res,
                        &layout::unit_dir(&pdir, j.r, r_count),
                        study.per_client,
                    )?;
                    slot.store(DONE, Ordering::Relaxed);
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    let pd = if j.left.fetch_sub(1, Ordering::Relaxed) == 1 {
                        points_done.fetch_add(1, Ordering::Relaxed) + 1
                    } else {
                        points_done.load(Ordering::Relaxed)
                    };
                    if let Some(f) = ctl.progress {
                        f(Tick {
                            units_done: d,
                            units_total: jobs.len(),
                            points_done: pd,
                            points_total,
                        });
                    }
                    Ok(())
                })
        })??;
        let with = |want: u8| -> BTreeSet<u64> {
            jobs.iter()
                .zip(&state)
                .filter(|(_, s)| s.load(Ordering::Relaxed) == want)
                .map(|(j, _)| j.u)
                .collect()
        };
        let present = with(DONE);
        let mut manifest = study.manifest();
        if present.len() < jobs.len() {
            if present.is_empty() {
                return Err(StudyError::Interrupted);
            }
            let owned: Vec<u64> = jobs.iter().map(|j| j.u).collect();
            manifest.partial = true;
            manifest.completion = Some(Completion::new(
                study.kind,
                points,
                r_count,
                &owned,
                &present,
                &with(DROPPED),
                study.shard.is_none(),
            ));
        }
        write_json(&tmp.join(MANIFEST), &manifest)?;
        let points = match study.shard {
            Some(_) => None,
            None => Some(in_pool(ctl.threads, || finish(tmp, &manifest))??),
        };
        Ok(Outcome {
            manifest,
            units_run: present.len(),
            points,
        })
    })
}

/// Builds every point folder and `sweep.csv` (or the merged result and
/// `replications.csv`) of a study folder from its unit folders. In a partial study
/// (`manifest.partial`) only units with their completion marker count: a point with
/// some is merged from those and marked partial, a point with none is left out, and
/// the table gets the partial columns ([`table::PARTIAL_COLUMNS`]).
pub fn finish(root: &Path, manifest: &Manifest) -> Result<Vec<PointResult>, StudyError> {
    let grid = Grid {
        vary: manifest.vary.clone(),
    };
    let n = grid.len().unwrap_or(0);
    let reps = manifest.replications;
    let partial = manifest.partial;
    type Merged = (usize, PathBuf, Summary, Vec<Figures>);
    let merged: Vec<Option<Merged>> = (0..n)
        .into_par_iter()
        .map(|p| {
            let pdir = layout::point_dir(root, manifest.kind, p, n);
            let units: Vec<PathBuf> = (0..reps)
                .map(|r| layout::unit_dir(&pdir, r, reps))
                .filter(|u| !partial || u.join(COMPLETE_MARKER).exists())
                .collect();
            if partial && units.is_empty() {
                return Ok(None);
            }
            let summary = merge::merge_into_marked(&units, &pdir, units.len() < reps as usize)?;
            let figures = units
                .iter()
                .map(|u| merge::read_summary(u).map(|(_, v)| table::flatten(&v)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some((p, pdir, summary, figures)))
        })
        .collect::<Result<_, StudyError>>()?;
    let keys: std::collections::BTreeSet<String> = merged
        .iter()
        .flatten()
        .flat_map(|(_, _, _, f)| f.iter().flat_map(|u| u.keys().cloned()))
        .collect();
    let mut out = Vec::with_capacity(n);
    let mut rows = Vec::with_capacity(n);
    for (p, dir, summary, figures) in merged.into_iter().flatten() {
        let assignments = grid.point(p);
        let stats = table::point_stats(&figures, &keys);
        let done = u32::try_from(figures.len()).unwrap_or(u32::MAX);
        rows.push(Row {
            values: assignments.iter().map(|(_, v)| v.clone()).collect(),
            stats: stats.clone(),
            point: p,
            replications: done,
        });
        out.push(PointResult {
            index: p,
            replications: done,
            complete: done >= reps,
            assignments,
            dir,
            summary,
            stats,
        });
    }
    let varied: Vec<String> = grid.vary.iter().map(|v| v.key.clone()).collect();
    let name = match manifest.kind {
        StudyKind::Sweep => "sweep.csv",
        StudyKind::Replications => "replications.csv",
    };
    table::write(&root.join(name), &varied, &rows, partial.then_some(reps))?;
    Ok(out)
}
