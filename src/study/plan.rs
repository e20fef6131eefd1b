//! `fleetsim plan`: the smallest value of one scenario key whose runs meet a target.
//!
//! The key's range `LO..HI[:STEP]` is a grid (`LO + k * STEP`, ending at `HI`; see
//! [`super::grid::Range::plan_step`] for the default step). The search assumes the
//! target is *monotone* in the key: unmet below some value, met from there on (more
//! bandwidth, more DPs, more retries only help). Under that assumption bisection finds
//! the smallest grid value that meets the target, exactly, in about `log2(K)` rounds;
//! the answer is therefore within one STEP of the true threshold (the *tolerance*).
//!
//! Each evaluation runs R replications (seeds as in a sweep, so every value sees the
//! same luck) and compares the mean of the metric with the target. Before bisecting,
//! both ends and a few evenly spaced probes run together (in parallel); afterwards
//! every evaluated value is checked against monotonicity, and each violation (a value
//! that meets the target below one that does not) is reported as a warning, because
//! the answer is then only the threshold of the bracket bisection followed.
//!
//! Which values run does not depend on the number of threads: the probes and the
//! bisection sequence are fixed by the grid, so the runs (and `--out`) are
//! reproducible.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rayon::prelude::*;
use serde::Serialize;

use super::StudyError;
use super::grid::{self, Range, Spec, VaryArg};
use super::runner::{self, in_pool};
use super::stats::mean_ci95;
use super::table::flatten;
use super::target::{self, Target};
use crate::diag::Diagnostic;
use crate::output::summary::{LISTED_CODES, PeakJson, SiteJson, Summary, WanJson};
use crate::scenario::{self, model::ContentKind, model::Scenario};
use crate::setup::codes;

/// What to search.
#[derive(Debug, Clone)]
pub struct PlanSpec {
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// `--set` overrides (and the seed), applied before the searched key.
    pub set: Vec<String>,
    /// The searched key and its range.
    pub key: String,
    /// The range.
    pub range: Range,
    /// The target.
    pub target: Target,
    /// Replications per evaluated value.
    pub replications: u32,
    /// Evenly spaced values run with the two ends before bisecting.
    pub probes: u32,
}

/// Why a value was run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// `LO`.
    LowEnd,
    /// `HI`.
    HighEnd,
    /// An evenly spaced probe.
    Probe,
    /// A bisection step.
    Bisection,
}

impl Role {
    /// How it is printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::LowEnd => "low end",
            Role::HighEnd => "high end",
            Role::Probe => "probe",
            Role::Bisection => "bisection",
        }
    }
}

/// One evaluated value.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Run order (0-based).
    pub order: usize,
    /// Grid index.
    pub index: u64,
    /// The value as passed to `--set`.
    pub value: String,
    /// Mean of the metric over the replications (`None`: null in some replication).
    pub mean: Option<f64>,
    /// 95% half-width of that mean.
    pub ci95: f64,
    /// Whether the mean meets the target.
    pub met: bool,
    /// Why it ran.
    pub role: Role,
    /// Its result folder relative to `--out`, with `--out`.
    pub dir: Option<PathBuf>,
}

/// The answer of a search.
#[derive(Debug, Clone, Serialize)]
pub struct PlanOutcome {
    /// The key searched.
    pub key: String,
    /// The target, as written.
    pub target: String,
    /// Replications per value.
    pub replications: u32,
    /// The grid step (the tolerance of the answer), as written.
    pub step: String,
    /// The smallest value meeting the target, if one does.
    pub answer: Option<String>,
    /// The highest value found not to meet the target below the answer.
    pub below: Option<String>,
    /// Every value run, in run order.
    pub runs: Vec<Evaluation>,
    /// Monotonicity violations and other doubts.
    pub warnings: Vec<String>,
    /// Stopped (Ctrl-C, SIGTERM, SIGHUP) before the search ended: `runs` holds the
    /// values evaluated by then, and there is no answer. Absent when complete.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

impl PlanOutcome {
    fn find(&self, v: &Option<String>) -> Option<&Evaluation> {
        v.as_ref()
            .and_then(|v| self.runs.iter().find(|e| &e.value == v))
    }

    /// The evaluation of the answer.
    pub fn answer_run(&self) -> Option<&Evaluation> {
        self.find(&self.answer)
    }

    /// The evaluation just below the answer.
    pub fn below_run(&self) -> Option<&Evaluation> {
        self.find(&self.below)
    }
}

/// Every numeric figure a summary of `s` has (the metrics a target may name).
pub fn known_metrics(s: &Scenario) -> Vec<String> {
    let mut m = Summary::default();
    for c in LISTED_CODES {
        m.failures_by_code.insert(codes::hex(c), 0);
    }
    for d in &s.distribution_points {
        m.bytes.by_dp.insert(d.name.clone(), 0);
        m.peak.by_dp.insert(d.name.clone(), PeakJson::default());
    }
    for k in ContentKind::ALL {
        m.bytes.by_kind.insert(k.as_str().to_string(), 0);
    }
    for site in &s.sites {
        let x = SiteJson {
            wan: site.wan.map(|_| WanJson::default()),
            ..SiteJson::default()
        };
        m.sites.insert(site.name.clone(), x);
    }
    serde_json::to_value(&m)
        .map(|v| flatten(&v).into_keys().collect())
        .unwrap_or_default()
}

fn input(raw: &str, message: impl Into<String>) -> StudyError {
    Diagnostic {
        file: format!("<--vary {raw}>").into(),
        line: 0,
        column: 0,
        key: String::new(),
        message: message.into(),
    }
    .into()
}

impl PlanSpec {
    /// Resolves the arguments of `fleetsim plan`: the range must be a range, the
    /// target must name a figure of this scenario's summary.
    pub fn new(
        scenario_path: &Path,
        set: Vec<String>,
        vary: &str,
        target: &str,
        replications: u32,
        probes: u32,
    ) -> Result<PlanSpec, StudyError> {
        let VaryArg { key, spec, .. } = grid::parse(vary)?;
        let Spec::Range(range) = spec else {
            return Err(input(
                vary,
                "plan searches a range: KEY=LO..HI or KEY=LO..HI:STEP",
            ));
        };
        if replications == 0 {
            return Err(input(vary, "at least one replication is needed"));
        }
        let base = scenario::load(scenario_path, &set)?;
        let target = target::parse(target, &known_metrics(&base))?;
        Ok(PlanSpec {
            scenario_path: scenario_path.to_path_buf(),
            set,
            key,
            range,
            target,
            replications,
            probes,
        })
    }
}

/// One batch of values to evaluate.
struct Search<'a> {
    spec: &'a PlanSpec,
    step: f64,
    out: Option<&'a Path>,
    stop: Option<&'a Arc<AtomicBool>>,
    runs: Vec<Evaluation>,
    on_eval: Option<&'a (dyn Fn(&Evaluation) + Sync)>,
}

impl Search<'_> {
    fn value(&self, k: u64) -> String {
        let r = &self.spec.range;
        r.format(r.plan_value(self.step, k))
    }

    fn get(&self, k: u64) -> Option<&Evaluation> {
        self.runs.iter().find(|e| e.index == k)
    }

    /// Runs R replications of each new value of `ks` (in parallel) and records them.
    fn evaluate(&mut self, ks: &[(u64, Role)]) -> Result<(), StudyError> {
        let new: Vec<(u64, Role)> = ks
            .iter()
            .copied()
            .filter(|(k, _)| self.get(*k).is_none())
            .collect();
        let spec = self.spec;
        let mut scenarios = Vec::new();
        for (k, _) in &new {
            let mut set = spec.set.clone();
            set.push(format!("{}={}", spec.key, self.value(*k)));
            scenarios.push(scenario::load(&spec.scenario_path, &set)?);
        }
        let reps = spec.replications;
        let first = self.runs.len();
        // Folders relative to `out` (what plan.json records) and absolute.
        let rel: Vec<PathBuf> = new
            .iter()
            .enumerate()
            .map(|(i, (k, _))| {
                Path::new("runs").join(format!("{:03}-{}", first + i, self.value(*k)))
            })
            .collect();
        let dirs: Vec<Option<PathBuf>> = rel.iter().map(|r| self.out.map(|o| o.join(r))).collect();
        let values: Vec<String> = new.iter().map(|(k, _)| self.value(*k)).collect();
        let units: Vec<(&Scenario, &String, Option<&PathBuf>, u32)> = scenarios
            .iter()
            .zip(&values)
            .zip(&dirs)
            .flat_map(|((sc, v), d)| (0..reps).map(move |r| (sc, v, d.as_ref(), r)))
            .collect();
        let stop = self.stop;
        let figures: Vec<Option<f64>> = units
            .par_iter()
            .map(|&(sc, value, dir, r)| {
                let res = runner::run_replication(sc, r, false, &[], stop).map_err(|source| {
                    StudyError::Sim {
                        point: format!("{}={value}", spec.key),
                        varied: vec![spec.key.clone()],
                        source,
                    }
                })?;
                if res.partial {
                    return Err(StudyError::Interrupted);
                }
                if let Some(d) = dir {
                    runner::write_unit(&res, &super::layout::unit_dir(d, r, reps), false)?;
                }
                let v = serde_json::to_value(Summary::of(&res)).unwrap_or_default();
                let f = flatten(&v);
                Ok(match f.get(&spec.target.metric) {
                    Some(x) => *x,
                    None if spec.target.metric.starts_with("failures_by_code.") => Some(0.0),
                    None => None,
                })
            })
            .collect::<Result<_, StudyError>>()
            .inspect_err(|_| {
                // A batch stopped part-way is not kept: its folders go.
                for d in dirs.iter().flatten() {
                    let _ = std::fs::remove_dir_all(d);
                }
            })?;
        for (i, (((k, role), dir), rel)) in new.iter().zip(&dirs).zip(&rel).enumerate() {
            let xs: Option<Vec<f64>> = figures
                .get(i * reps as usize..(i + 1) * reps as usize)
                .unwrap_or(&[])
                .iter()
                .copied()
                .collect();
            let (mean, ci95) = match xs {
                Some(x) => {
                    let (m, h) = mean_ci95(&x);
                    (Some(m), h)
                }
                None => (None, 0.0),
            };
            if let Some(d) = dir {
                let units: Vec<PathBuf> = (0..reps)
                    .map(|r| super::layout::unit_dir(d, r, reps))
                    .collect();
                super::merge::merge_into(&units, d)?;
            }
            let e = Evaluation {
                order: first + i,
                index: *k,
                value: self.value(*k),
                mean,
                ci95,
                met: spec.target.met(mean),
                role: *role,
                dir: self.out.map(|_| rel.clone()),
            };
            if let Some(f) = self.on_eval {
                f(&e);
            }
            self.runs.push(e);
        }
        Ok(())
    }

    fn met(&self, k: u64) -> bool {
        self.get(k).is_some_and(|e| e.met)
    }
}

/// Runs the search; with `out`, keeps every evaluated value's result folder under
/// `out/runs/` and writes `out/plan.json` and `out/plan.csv`.
pub fn search(
    spec: &PlanSpec,
    out: Option<&Path>,
    threads: Option<usize>,
    stop: Option<&Arc<AtomicBool>>,
    on_eval: Option<&(dyn Fn(&Evaluation) + Sync)>,
) -> Result<PlanOutcome, StudyError> {
    let go = |dir: Option<&Path>| in_pool(threads, || search_in(spec, dir, stop, on_eval))?;
    match out {
        None => go(None),
        Some(o) => runner::write_atomically(o, |tmp| {
            let plan = go(Some(tmp))?;
            write_plan(tmp, &plan)?;
            Ok(plan)
        }),
    }
}

fn search_in(
    spec: &PlanSpec,
    out: Option<&Path>,
    stop: Option<&Arc<AtomicBool>>,
    on_eval: Option<&(dyn Fn(&Evaluation) + Sync)>,
) -> Result<PlanOutcome, StudyError> {
    let step = spec.range.plan_step();
    let kmax = spec.range.plan_intervals(step);
    let mut s = Search {
        spec,
        step,
        out,
        stop,
        runs: Vec::new(),
        on_eval,
    };
    let mut first = vec![(0, Role::LowEnd), (kmax, Role::HighEnd)];
    for j in 1..=u64::from(spec.probes) {
        let k = kmax * j / (u64::from(spec.probes) + 1);
        if !first.iter().any(|(x, _)| *x == k) {
            first.push((k, Role::Probe));
        }
    }
    match s.evaluate(&first) {
        Err(StudyError::Interrupted) => return stopped(s),
        other => other?,
    }
    let mut warnings = Vec::new();
    let (answer, below) = if !s.met(kmax) {
        (None, Some(kmax))
    } else if s.met(0) {
        warnings.push(format!(
            "the low end {} already meets the target: the smallest value may lie below the range",
            s.value(0)
        ));
        (Some(0), None)
    } else {
        let mut hi = s
            .runs
            .iter()
            .filter(|e| e.met)
            .map(|e| e.index)
            .min()
            .unwrap_or(kmax);
        let mut lo = s
            .runs
            .iter()
            .filter(|e| !e.met && e.index < hi)
            .map(|e| e.index)
            .max()
            .unwrap_or(0);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match s.evaluate(&[(mid, Role::Bisection)]) {
                Err(StudyError::Interrupted) => return stopped(s),
                other => other?,
            }
            if s.met(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        (Some(hi), Some(lo))
    };
    let mut sorted: Vec<&Evaluation> = s.runs.iter().collect();
    sorted.sort_by_key(|e| e.index);
    for (i, a) in sorted.iter().enumerate() {
        if let Some(b) = sorted.iter().skip(i + 1).find(|b| a.met && !b.met) {
            warnings.push(format!(
                "not monotone: {key}={} meets the target but {key}={} does not; the answer is the threshold of the bracket bisection followed",
                a.value,
                b.value,
                key = spec.key
            ));
        }
    }
    for k in [answer, below].into_iter().flatten() {
        if let Some(e) = s.get(k)
            && let Some(m) = e.mean
            && e.ci95 > (m - spec.target.value).abs()
        {
            warnings.push(format!(
                "{}={} is {} the target by less than its 95% half-width ({} vs {}): more --replications would make the answer firmer",
                spec.key,
                e.value,
                if e.met { "within" } else { "outside" },
                super::table::fmt_figure((m - spec.target.value).abs()),
                super::table::fmt_figure(e.ci95)
            ));
        }
    }
    Ok(PlanOutcome {
        key: spec.key.clone(),
        target: spec.target.describe(),
        replications: spec.replications,
        step: spec
            .range
            .format((step / spec.range.scale * 1e9).round() / 1e9),
        answer: answer.map(|k| s.value(k)),
        below: below.map(|k| s.value(k)),
        runs: s.runs,
        warnings,
        partial: false,
    })
}

/// The outcome of a search stopped by a signal: the values evaluated so far (whole
/// batches only), no answer, and what they say; [`StudyError::Interrupted`] when none
/// was evaluated (then nothing is written).
fn stopped(s: Search<'_>) -> Result<PlanOutcome, StudyError> {
    if s.runs.is_empty() {
        return Err(StudyError::Interrupted);
    }
    let spec = s.spec;
    let met = s.runs.iter().filter(|e| e.met).min_by_key(|e| e.index);
    let unmet = s
        .runs
        .iter()
        .filter(|e| !e.met && met.is_none_or(|m| e.index < m.index))
        .max_by_key(|e| e.index);
    let so_far = match (met, unmet) {
        (Some(m), Some(u)) => format!(
            "the answer lies above {} (not met) and at or below {} (met)",
            u.value, m.value
        ),
        (Some(m), None) => format!("{} meets the target", m.value),
        (None, Some(u)) => format!("no value run so far meets it, up to {}", u.value),
        (None, None) => String::new(),
    };
    Ok(PlanOutcome {
        key: spec.key.clone(),
        target: spec.target.describe(),
        replications: spec.replications,
        step: spec
            .range
            .format((s.step / spec.range.scale * 1e9).round() / 1e9),
        answer: None,
        below: None,
        warnings: vec![format!(
            "interrupted after {} value(s), before the search ended: no answer; so far {so_far}",
            s.runs.len()
        )],
        runs: s.runs,
        partial: true,
    })
}

fn write_plan(dir: &Path, plan: &PlanOutcome) -> Result<(), StudyError> {
    let io = |path: PathBuf| move |source| StudyError::Io { path, source };
    let p = dir.join("plan.json");
    let mut text =
        serde_json::to_string_pretty(plan).map_err(|e| io(p.clone())(std::io::Error::other(e)))?;
    text.push('\n');
    std::fs::write(&p, text).map_err(io(p.clone()))?;
    let p = dir.join("plan.csv");
    let csv_err = |e: csv::Error| io(dir.join("plan.csv"))(std::io::Error::other(e));
    let mut w = csv::Writer::from_path(&p).map_err(csv_err)?;
    w.write_record(["order", "value", "mean", "ci95", "met", "role"])
        .map_err(csv_err)?;
    for e in &plan.runs {
        w.write_record([
            e.order.to_string(),
            e.value.clone(),
            e.mean.map(super::table::fmt_figure).unwrap_or_default(),
            super::table::fmt_figure(e.ci95),
            e.met.to_string(),
            e.role.as_str().to_string(),
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(io(p))
}
