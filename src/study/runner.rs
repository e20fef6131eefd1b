//! Running a study: every unit (point, replication) is an independent simulation run
//! on the rayon pool and written to its own folder; once all units of the study are
//! present, the point folders and `sweep.csv` are rebuilt from the unit folders
//! ([`finish`]), the same way whether the units ran here or came from shards
//! ([`super::join`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use rayon::prelude::*;

use super::StudyError;
use super::grid::Grid;
use super::layout::{self, MANIFEST, Manifest, Shard, StudyKind};
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
    /// Set to stop: running units stop, no new unit starts, nothing is written.
    pub stop: Option<&'a Arc<AtomicBool>>,
    /// Called after each unit.
    pub progress: Option<&'a (dyn Fn(Tick) + Sync)>,
}

/// A point's merged result and statistics.
#[derive(Debug, Clone)]
pub struct PointResult {
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
    /// The manifest written.
    pub manifest: Manifest,
    /// Units run by this process.
    pub units_run: usize,
    /// Every point, when the folder holds the whole study (not a shard).
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

/// Runs the study's units into `out` (atomically: the folder appears when done).
pub fn execute(study: &Study, out: &Path, ctl: &Control<'_>) -> Result<Outcome, StudyError> {
    let manifest = study.manifest();
    let units = study.owned_units();
    let r_count = study.replications;
    let points = study.points();
    let per_point: Vec<AtomicU32> = (0..points).map(|_| AtomicU32::new(0)).collect();
    for &u in &units {
        per_point[(u / u64::from(r_count)) as usize].fetch_add(1, Ordering::Relaxed);
    }
    let points_total = per_point
        .iter()
        .filter(|c| c.load(Ordering::Relaxed) > 0)
        .count();
    let done = AtomicUsize::new(0);
    let points_done = AtomicUsize::new(0);
    let stopped = || ctl.stop.is_some_and(|s| s.load(Ordering::Relaxed));
    write_atomically(out, |tmp| {
        write_json(&tmp.join(MANIFEST), &manifest)?;
        let sc = tmp.join("scenario.toml");
        std::fs::write(&sc, &study.scenario_text).map_err(io_at(&sc))?;
        in_pool(ctl.threads, || {
            units.par_iter().try_for_each(|&u| {
                if stopped() {
                    return Err(StudyError::Interrupted);
                }
                let p = (u / u64::from(r_count)) as usize;
                let r = (u % u64::from(r_count)) as u32;
                let scen = &study.scenarios[p];
                let res = run_replication(scen, r, study.per_client, &study.trace, ctl.stop)
                    .map_err(|source| StudyError::Sim {
                        point: describe(&study.grid.point(p)),
                        source,
                    })?;
                if res.partial {
                    return Err(StudyError::Interrupted);
                }
                let pdir = layout::point_dir(tmp, study.kind, p, points);
                write_unit(&res, &layout::unit_dir(&pdir, r, r_count), study.per_client)?;
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                let pd = if per_point[p].fetch_sub(1, Ordering::Relaxed) == 1 {
                    points_done.fetch_add(1, Ordering::Relaxed) + 1
                } else {
                    points_done.load(Ordering::Relaxed)
                };
                if let Some(f) = ctl.progress {
                    f(Tick {
                        units_done: d,
                        units_total: units.len(),
                        points_done: pd,
                        points_total,
                    });
                }
                Ok(())
            })
        })??;
        let points = match study.shard {
            Some(_) => None,
            None => Some(in_pool(ctl.threads, || finish(tmp, &manifest))??),
        };
        Ok(Outcome {
            manifest: manifest.clone(),
            units_run: units.len(),
            points,
        })
    })
}

/// Builds every point folder and `sweep.csv` (or the merged result and
/// `replications.csv`) of a complete study folder from its unit folders.
pub fn finish(root: &Path, manifest: &Manifest) -> Result<Vec<PointResult>, StudyError> {
    let grid = Grid {
        vary: manifest.vary.clone(),
    };
    let n = grid.len().unwrap_or(0);
    let reps = manifest.replications;
    let merged: Vec<(PathBuf, Summary, Vec<Figures>)> = (0..n)
        .into_par_iter()
        .map(|p| {
            let pdir = layout::point_dir(root, manifest.kind, p, n);
            let units: Vec<PathBuf> = (0..reps)
                .map(|r| layout::unit_dir(&pdir, r, reps))
                .collect();
            let summary = merge::merge_into(&units, &pdir)?;
            let figures = units
                .iter()
                .map(|u| merge::read_summary(u).map(|(_, v)| table::flatten(&v)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((pdir, summary, figures))
        })
        .collect::<Result<_, StudyError>>()?;
    let keys: std::collections::BTreeSet<String> = merged
        .iter()
        .flat_map(|(_, _, f)| f.iter().flat_map(|u| u.keys().cloned()))
        .collect();
    let mut out = Vec::with_capacity(n);
    let mut rows = Vec::with_capacity(n);
    for (p, (dir, summary, figures)) in merged.into_iter().enumerate() {
        let assignments = grid.point(p);
        let stats = table::point_stats(&figures, &keys);
        rows.push(Row {
            values: assignments.iter().map(|(_, v)| v.clone()).collect(),
            stats: stats.clone(),
        });
        out.push(PointResult {
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
    table::write(&root.join(name), &varied, &rows)?;
    Ok(out)
}
