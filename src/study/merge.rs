//! Merging result folders (replications of one point, or shards of a load test)
//! into one result folder of the same shape, from the files alone.
//!
//! What each figure becomes, and why:
//!
//! - latency histograms are added exactly (same bounds and precision everywhere), and
//!   the `latency` figures of `summary.json` are recomputed from the sums, so the p95
//!   of the merge is the p95 of every observation, not an average of p95s;
//! - counts and bytes (`clients`, `outcomes`, `failures_by_code`, `bytes`, `events`,
//!   sites) are the mean per rollout, with exact means, 95% half-widths and the sums
//!   under `replications` ([`super::rollout`]); `failures.csv`, `steps.csv` and
//!   `timeline.csv` are summed by row or bucket, then divided by the number of runs;
//! - `peak` figures are the maximum over the inputs: the worst any input saw;
//! - `compliance.p50_s/p90_s/p95_s` are the mean over the inputs (when one input never
//!   reached the share, the merge did not either: `null`); `final_share` is the
//!   summed successes over the summed fleet;
//! - `steps.csv` rows are the task sequence's nodes, which must be the same in
//!   every input;
//! - `bandwidth.csv` is averaged by (time, link): `bps` is the mean over the inputs
//!   (a missing row, an input that ended earlier, counts as 0), `active_downloads` and
//!   `queued` the maximum, `saved_bps` (runs with peers) the mean like `bps`.
//!   Averaging keeps the file the load of *one* rollout, which is what a DP has to
//!   carry; a sum would describe R rollouts at once on one DP;
//! - `seed`, `scenario` and `mode` are the first input's (names, modes, `--set`
//!   values and, for replications, fleet sizes must match, or the merge is refused
//!   naming the difference);
//! - `run` (wall clock) sums wall time, takes the highest peak RSS;
//! - `links.csv` and `marks.csv` are the first input's; the plots are redrawn from the
//!   merged files;
//! - `clients.csv` and `trace.csv` are per-run detail and stay in the run folders.
//!
//! Load-test shards (`"mode": "load"`) are not replications but parts of one test:
//! their clients hit the same DPs at the same time. Their counts, bytes and per-row
//! files add up, nothing is divided; `bandwidth.csv` is
//! *summed* by (time, link) — rates and concurrent downloads add up — the peaks are
//! recomputed from the summed buckets, and `histograms/ttfb.hdr` (time to first byte)
//! is added like the other histograms.
//!
//! Inputs are taken in the order given, and every sum runs in that order, so the
//! same inputs give the same bytes.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;

use super::StudyError;
use crate::output::Exporter;
use crate::output::atomic::COMPLETE_MARKER;
use crate::output::summary::{Stat, Summary};
use crate::output::{csv_out, hdr};
use crate::sim::result::{
    BandwidthRow, Bytes, FailureRow, Latencies, METRICS, Outcomes, RunResult, Timing, new_histogram,
};

pub(super) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StudyError + '_ {
    move |source| StudyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(super) fn bad(path: &Path, message: impl Into<String>) -> StudyError {
    StudyError::Inconsistent {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads a histogram of a folder to merge: a missing, truncated or garbage file is the
/// input's fault (exit code 2, one sentence), a failing disk is not.
fn read_hdr(p: &Path) -> Result<Histogram<u64>, StudyError> {
    hdr::read(p).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => bad(p, "missing: every result folder has this histogram"),
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => bad(p, e.to_string()),
        _ => StudyError::Io {
            path: p.to_path_buf(),
            source: e,
        },
    })
}

/// The `bandwidth_interval` of a result folder, from `marks.csv` (`interval`), else
/// from the first two times of `bandwidth.csv`; `None` when neither says.
fn interval_of(dir: &Path, bandwidth_times: &[u64]) -> Option<u64> {
    let from_marks = std::fs::read_to_string(dir.join("marks.csv"))
        .ok()
        .and_then(|t| {
            t.lines()
                .filter_map(|l| l.split_once(','))
                .find(|(k, _)| k.trim() == "interval")
                .and_then(|(_, v)| parse_secs(v.trim()))
        });
    from_marks.or_else(|| match bandwidth_times {
        [a, b, ..] => Some(b.saturating_sub(*a)),
        _ => None,
    })
}

/// Reads and checks `summary.json` of a result folder.
pub fn read_summary(dir: &Path) -> Result<(Summary, serde_json::Value), StudyError> {
    let p = dir.join("summary.json");
    let text = std::fs::read_to_string(&p).map_err(io_err(&p))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(&p, format!("not valid JSON: {e}")))?;
    let s: Summary = serde_json::from_value(value.clone())
        .map_err(|e| bad(&p, format!("not a fleetsim summary: {e}")))?;
    Ok((s, value))
}

/// Seconds as written by `fmt_secs` (`12.5`) back to microseconds, exactly.
pub(super) fn parse_secs(s: &str) -> Option<u64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let w: u64 = whole.parse().ok()?;
    let f: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    w.checked_mul(1_000_000)?.checked_add(f)
}

pub(super) fn records(path: &Path, want: &[&str]) -> Result<Vec<csv::StringRecord>, StudyError> {
    records_of(path, want, &[]).map(|(r, _)| r)
}

/// [`records`] of a file whose columns are `want`, optionally followed by `extra`:
/// the records, and whether the extra columns are there.
fn records_of(
    path: &Path,
    want: &[&str],
    extra: &[&str],
) -> Result<(Vec<csv::StringRecord>, bool), StudyError> {
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(path, e.to_string()))?;
    let headers = r.headers().map_err(|e| bad(path, e.to_string()))?.clone();
    let h: Vec<&str> = headers.iter().collect();
    let with = !extra.is_empty() && h.len() == want.len() + extra.len() && h.ends_with(extra);
    if h != want && !(with && h.starts_with(want)) {
        return Err(bad(
            path,
            format!("expected the columns {}", want.join(",")),
        ));
    }
    r.records()
        .map(|x| x.map_err(|e| bad(path, e.to_string())))
        .collect::<Result<_, _>>()
        .map(|x| (x, with))
}

/// Cell `i` of a record ("" past the end; `records` already checked the width).
pub(super) fn cell(rec: &csv::StringRecord, i: usize) -> &str {
    rec.get(i).unwrap_or("")
}

/// A row of `steps.csv`, summed: path, type, ran, skipped, succeeded, failed.
pub(super) type StepSum = (String, String, [u64; 4]);

pub(super) const STEPS_COLUMNS: [&str; 7] = [
    "index",
    "path",
    "type",
    "ran",
    "skipped",
    "succeeded",
    "failed",
];

/// One bucket of `bandwidth.csv` over the inputs: `bps` summed, active downloads
/// and queue (summed or the maximum), `saved_bps` summed when an input has it.
type BucketSum = (f64, u32, u32, Option<f64>);

/// Everything merged so far.
struct Acc {
    n: u64,
    first: Option<Summary>,
    sum: Summary,
    compliance: [(f64, bool); 3],
    hists: Vec<Histogram<u64>>,
    failures: BTreeMap<(u32, String), u64>,
    steps: Vec<StepSum>,
    links: Vec<String>,
    /// Buckets by (time, link).
    bandwidth: BTreeMap<(u64, usize), BucketSum>,
    interval: u64,
    /// The `bandwidth_interval` of the first folder that has one.
    first_interval: Option<u64>,
    /// Time-to-first-byte histogram of load tests.
    ttfb: Option<Histogram<u64>>,
    /// Every input's summary, in order (a replication merge averages them).
    runs: Vec<Summary>,
}

impl Acc {
    fn new() -> Self {
        Acc {
            n: 0,
            first: None,
            sum: Summary::default(),
            compliance: [(0.0, true); 3],
            hists: METRICS.iter().map(|_| new_histogram()).collect(),
            failures: BTreeMap::new(),
            steps: Vec::new(),
            links: Vec::new(),
            bandwidth: BTreeMap::new(),
            interval: 0,
            first_interval: None,
            ttfb: None,
            runs: Vec::new(),
        }
    }

    fn add(&mut self, dir: &Path) -> Result<(), StudyError> {
        if !dir.join(COMPLETE_MARKER).exists() {
            return Err(bad(
                dir,
                "not a complete result folder (no .complete marker): was its run interrupted?",
            ));
        }
        let (s, _) = read_summary(dir)?;
        if let Some(f) = &self.first {
            if f.scenario != s.scenario || f.mode != s.mode {
                return Err(bad(
                    dir,
                    format!(
                        "holds scenario {:?} ({}), the first folder holds {:?} ({}): only runs of one scenario merge",
                        s.scenario, s.mode, f.scenario, f.mode
                    ),
                ));
            }
        } else {
            self.first = Some(s.clone());
        }
        self.add_summary(&s);
        self.runs.push(s.clone());
        for (name, sum) in METRICS.iter().zip(self.hists.iter_mut()) {
            let p = dir.join("histograms").join(format!("{name}.hdr"));
            let h = read_hdr(&p)?;
            sum.add(&h)
                .map_err(|e| bad(&p, format!("histogram does not merge: {e:?}")))?;
        }
        let p = dir.join("histograms").join("ttfb.hdr");
        if s.mode == "load" && p.exists() {
            let h = read_hdr(&p)?;
            self.ttfb
                .get_or_insert_with(new_histogram)
                .add(&h)
                .map_err(|e| bad(&p, format!("histogram does not merge: {e:?}")))?;
        }
        let load = s.mode == "load";
        let p = dir.join("failures.csv");
        for rec in records(&p, &["code", "code_hex", "name", "phase", "count"])? {
            let code: u32 = cell(&rec, 0).parse().map_err(|_| bad(&p, "bad code"))?;
            let count: u64 = cell(&rec, 4).parse().map_err(|_| bad(&p, "bad count"))?;
            let slot = self
                .failures
                .entry((code, cell(&rec, 3).to_string()))
                .or_insert(0);
            *slot = slot.saturating_add(count);
        }
        let p = dir.join("steps.csv");
        if p.exists() {
            self.add_steps(&p)?;
        }
        let p = dir.join("bandwidth.csv");
        let mut times = Vec::new();
        let cols = ["time_s", "dp", "bps", "active_downloads", "queued"];
        let (recs, with_saved) = records_of(&p, &cols, &["saved_bps"])?;
        for rec in recs {
            let t = parse_secs(cell(&rec, 0)).ok_or_else(|| bad(&p, "bad time_s"))?;
            let link = match self.links.iter().position(|l| l == cell(&rec, 1)) {
                Some(i) => i,
                None => {
                    self.links.push(cell(&rec, 1).to_string());
                    self.links.len() - 1
                }
            };
            let bps: f64 = cell(&rec, 2).parse().map_err(|_| bad(&p, "bad bps"))?;
            let active: u32 = cell(&rec, 3)
                .parse()
                .map_err(|_| bad(&p, "bad active_downloads"))?;
            let queued: u32 = cell(&rec, 4).parse().map_err(|_| bad(&p, "bad queued"))?;
            let saved: Option<f64> = match cell(&rec, 5) {
                "" => None,
                v if with_saved => Some(v.parse().map_err(|_| bad(&p, "bad saved_bps"))?),
                _ => None,
            };
            let slot = self.bandwidth.entry((t, link)).or_insert((0.0, 0, 0, None));
            slot.0 += bps;
            if let Some(v) = saved {
                slot.3 = Some(slot.3.unwrap_or(0.0) + v);
            }
            if load {
                slot.1 = slot.1.saturating_add(active);
                slot.2 = slot.2.saturating_add(queued);
            } else {
                slot.1 = slot.1.max(active);
                slot.2 = slot.2.max(queued);
            }
            if times.last() != Some(&t) {
                times.push(t);
            }
        }
        // Buckets of different widths cannot be added or averaged bucket by bucket.
        if let Some(w) = interval_of(dir, &times) {
            match self.first_interval {
                Some(first) if first != w => {
                    return Err(bad(
                        dir,
                        format!(
                            "has bandwidth_interval {}, the first folder has {}: their bandwidth.csv buckets do not line up, so they do not merge (run them with the same interval)",
                            human(w),
                            human(first)
                        ),
                    ));
                }
                _ => self.first_interval = Some(w),
            }
            self.interval = self.interval.max(w);
        }
        if let Some(f) = &self.first {
            if variant(&f.set) != variant(&s.set) {
                return Err(bad(
                    dir,
                    format!(
                        "was run with --set {}, the first folder with --set {}: only runs of one scenario variant merge",
                        shown_set(&variant(&s.set)),
                        shown_set(&variant(&f.set))
                    ),
                ));
            }
            if s.mode != "load" && f.clients != s.clients {
                return Err(bad(
                    dir,
                    format!(
                        "simulates {} clients, the first folder {}: replications of one rollout have one fleet",
                        s.clients, f.clients
                    ),
                ));
            }
        }
        self.n += 1;
        Ok(())
    }

    fn add_steps(&mut self, p: &Path) -> Result<(), StudyError> {
        let rows = records(p, &STEPS_COLUMNS)?;
        let first = self.steps.is_empty();
        if !first && rows.len() != self.steps.len() {
            return Err(bad(
                p,
                "lists other task sequence steps than the first folder",
            ));
        }
        for (i, rec) in rows.iter().enumerate() {
            let mut n = [0u64; 4];
            for (j, slot) in n.iter_mut().enumerate() {
                *slot = cell(rec, 3 + j)
                    .parse()
                    .map_err(|_| bad(p, format!("bad count in row {}", i + 1)))?;
            }
            let (path, kind) = (cell(rec, 1), cell(rec, 2));
            if first {
                self.steps.push((path.to_string(), kind.to_string(), n));
                continue;
            }
            match self.steps.get_mut(i) {
                Some((p0, k0, sum)) if p0 == path && k0 == kind => {
                    for (a, b) in sum.iter_mut().zip(n) {
                        *a = a.saturating_add(b);
                    }
                }
                _ => {
                    return Err(bad(
                        p,
                        format!(
                            "step {path:?} differs from the first folder's row {}",
                            i + 1
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn add_summary(&mut self, s: &Summary) {
        let m = &mut self.sum;
        // Windows 11 readiness and pre-cache shortfall: counts add up (issue 16).
        let mut w11 = (
            m.windows11_readiness.take(),
            std::mem::take(&mut m.precache_shortfall),
        );
        crate::output::readiness::merge(&mut w11, (&s.windows11_readiness, &s.precache_shortfall));
        (m.windows11_readiness, m.precache_shortfall) = w11;
        let add = |a: &mut u64, b: u64| *a = a.saturating_add(b);
        add(&mut m.clients, s.clients);
        m.partial |= s.partial;
        add(&mut m.outcomes.succeeded, s.outcomes.succeeded);
        add(&mut m.outcomes.rolled_back, s.outcomes.rolled_back);
        add(&mut m.outcomes.failed, s.outcomes.failed);
        add(&mut m.outcomes.in_progress, s.outcomes.in_progress);
        add(&mut m.outcomes.not_started, s.outcomes.not_started);
        for (k, v) in &s.failures_by_code {
            add(m.failures_by_code.entry(k.clone()).or_insert(0), *v);
        }
        m.failure_names = crate::output::summary::failure_names(&m.failures_by_code);
        add(&mut m.bytes.total, s.bytes.total);
        add(&mut m.bytes.precache, s.bytes.precache);
        add(&mut m.bytes.on_demand, s.bytes.on_demand);
        add(&mut m.bytes.by_source.dp, s.bytes.by_source.dp);
        add(
            &mut m.bytes.by_source.peer_cache,
            s.bytes.by_source.peer_cache,
        );
        add(
            &mut m.bytes.by_source.branchcache,
            s.bytes.by_source.branchcache,
        );
        for (k, v) in &s.bytes.by_dp {
            add(m.bytes.by_dp.entry(k.clone()).or_insert(0), *v);
        }
        for (k, v) in &s.bytes.by_kind {
            add(m.bytes.by_kind.entry(k.clone()).or_insert(0), *v);
        }
        for (k, p) in &s.peak.by_dp {
            let e = m.peak.by_dp.entry(k.clone()).or_default();
            e.bps = e.bps.max(p.bps);
            e.active_downloads = e.active_downloads.max(p.active_downloads);
            e.queued = e.queued.max(p.queued);
        }
        m.sim_end_s = m.sim_end_s.max(s.sim_end_s);
        add(&mut m.events, s.events);
        m.run.wall_s += s.run.wall_s;
        m.run.peak_rss_bytes = m.run.peak_rss_bytes.max(s.run.peak_rss_bytes);
        let c = &s.compliance;
        for (slot, v) in self.compliance.iter_mut().zip([c.p50_s, c.p90_s, c.p95_s]) {
            match v {
                Some(x) => slot.0 += x,
                None => slot.1 = false,
            }
        }
    }

    fn finish(mut self) -> (Summary, RunResult, Vec<StepSum>) {
        let load = self.first.as_ref().is_some_and(|f| f.mode == "load");
        let n = self.n.max(1) as f64;
        let mut s = self.sum;
        if let Some(f) = &self.first {
            s.scenario = f.scenario.clone();
            s.mode = f.mode.clone();
            s.seed = f.seed;
        }
        let st = |name: &str| {
            METRICS
                .iter()
                .zip(&self.hists)
                .find(|(m, _)| **m == name)
                .map(|(_, h)| Stat::from_hist(h))
                .unwrap_or_default()
        };
        s.latency.precache = st("precache");
        s.latency.install_wait = st("install_wait");
        s.latency.download = st("download");
        s.latency.task_sequence = st("task_sequence");
        s.latency.time_to_compliance = st("time_to_compliance");
        let [p50, p90, p95] = self.compliance.map(|(sum, all)| all.then_some(sum / n));
        s.compliance.p50_s = p50;
        s.compliance.p90_s = p90;
        s.compliance.p95_s = p95;
        s.compliance.final_share = s.outcomes.succeeded as f64 / s.clients.max(1) as f64;
        s.run.events_per_s = if s.run.wall_s > 0.0 {
            (s.events as f64 / s.run.wall_s).round()
        } else {
            0.0
        };
        s.run.version = env!("CARGO_PKG_VERSION").to_string();
        let runs = self.n;
        if !load {
            // Replications: one rollout, not their sum.
            super::rollout::one_rollout(&mut s, &self.runs);
            for (_, _, n) in &mut self.steps {
                n.iter_mut()
                    .for_each(|x| *x = super::rollout::mean_count(*x, runs));
            }
            for c in self.failures.values_mut() {
                *c = super::rollout::mean_count(*c, runs);
            }
            self.failures.retain(|_, c| *c > 0);
        }
        s.latency.ttfb = self.ttfb.as_ref().map(Stat::from_hist);
        // Shards of one load test add up; replications are averaged.
        let divisor = if load { 1.0 } else { n };
        let bandwidth: Vec<BandwidthRow> = self
            .bandwidth
            .iter()
            .map(
                |(&(time, link), &(bps, active, queued, saved))| BandwidthRow {
                    time,
                    link: link as u32,
                    bps: bps / divisor,
                    active,
                    queued,
                    saved_bps: saved.map(|v| v / divisor),
                },
            )
            .collect();
        if load {
            for (name, peak) in s.peak.by_dp.iter_mut() {
                let Some(li) = self.links.iter().position(|l| l == name) else {
                    continue;
                };
                let rows = bandwidth.iter().filter(|r| r.link as usize == li);
                peak.bps = rows.clone().map(|r| r.bps).fold(0.0, f64::max).round();
                peak.active_downloads = rows.clone().map(|r| r.active as u64).max().unwrap_or(0);
                peak.queued = rows.map(|r| r.queued as u64).max().unwrap_or(0);
            }
        }
        let failures = self
            .failures
            .into_iter()
            .map(|((code, phase), count)| FailureRow { code, phase, count })
            .collect();
        let r = RunResult {
            scenario: s.scenario.clone(),
            seed: s.seed,
            clients: s.clients,
            outcomes: Outcomes::default(),
            failures,
            latency: Latencies {
                hists: std::mem::take(&mut self.hists),
            },
            bytes: Bytes::default(),
            dp_names: Vec::new(),
            link_capacity: vec![0; self.links.len()],
            links: self.links,
            peaks: Vec::new(),
            bandwidth,
            bandwidth_interval: self.interval,
            clients_rows: None,
            site_names: Vec::new(),
            sim_end: 0,
            events: s.events,
            deadline: None,
            completions: Vec::new(),
            timing: Timing::default(),
            partial: s.partial,
            steps: Vec::new(),
            trace: Vec::new(),
            transfer_errors: BTreeMap::new(),
            readiness: None,
            precache_shortfall: Vec::new(),
            calendar_marks: Vec::new(),
            sites: Vec::new(),
            overrides: Vec::new(),
            targets: Vec::new(),
        };
        (s, r, self.steps)
    }
}

/// Merges the result folders `inputs` (in that order) into `out`, which must exist
/// and be empty of result files: writes summary.json, bandwidth.csv, failures.csv and
/// histograms/. Returns the merged summary.
pub fn merge_into(inputs: &[PathBuf], out: &Path) -> Result<Summary, StudyError> {
    merge_into_marked(inputs, out, false)
}

/// [`merge_into`], marking the merge `"partial": true` when `incomplete`: the inputs
/// are only some of the replications that were asked for (a study stopped by
/// Ctrl-C), so its figures must not be read as the whole point's.
pub fn merge_into_marked(
    inputs: &[PathBuf],
    out: &Path,
    incomplete: bool,
) -> Result<Summary, StudyError> {
    let mut acc = Acc::new();
    for d in inputs {
        acc.add(d)?;
    }
    acc.sum.partial |= incomplete;
    let ttfb = acc.ttfb.clone();
    let targets = acc
        .first
        .as_ref()
        .map(Summary::recorded_targets)
        .unwrap_or_default();
    let (mut summary, r, steps) = acc.finish();
    // Judged again on the merged figures (for replications: one rollout's means).
    summary.targets = summary.judge(&targets);
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let mut text = serde_json::to_string_pretty(&summary)
        .map_err(|e| bad(out, format!("cannot write summary.json: {e}")))?;
    text.push('\n');
    let p = out.join("summary.json");
    std::fs::write(&p, text).map_err(io_err(&p))?;
    for e in [
        &csv_out::BandwidthCsv as &dyn Exporter,
        &csv_out::FailuresCsv,
        &hdr::Histograms,
    ] {
        e.write(&r, out).map_err(io_err(&out.join(e.name())))?;
    }
    if !steps.is_empty() {
        super::merge_csv::write_steps(&out.join("steps.csv"), &steps)?;
    }
    if let Some(h) = ttfb {
        let p = out.join("histograms").join("ttfb.hdr");
        hdr::write(&h, &p).map_err(io_err(&p))?;
    }
    let divisor = if summary.mode == "load" {
        1
    } else {
        inputs.len() as u64
    };
    super::merge_csv::merge_timelines(inputs, out, divisor)?;
    if let Some(first) = inputs.first() {
        for f in ["links.csv", "marks.csv"] {
            let src = first.join(f);
            if src.exists() {
                std::fs::copy(&src, out.join(f)).map_err(io_err(&src))?;
            }
        }
    }
    crate::output::plots::Plots
        .write(&r, out)
        .map_err(io_err(&out.join("plots")))?;
    // Last: the merged folder is a complete result (compare and report read a sweep's
    // point folders and a plan's run folders on their own).
    let m = out.join(COMPLETE_MARKER);
    std::fs::write(&m, b"").map_err(io_err(&m))?;
    Ok(summary)
}

/// The `--set` values that make a scenario variant: all but the seed (`--seed` is
/// recorded as `simulation.seed=N`), which is what tells replications apart.
fn variant(set: &[String]) -> Vec<&str> {
    set.iter()
        .map(String::as_str)
        .filter(|x| !x.trim_start().starts_with("simulation.seed"))
        .collect()
}

/// A run's `--set` values as a user would type them (`(none)` without any).
fn shown_set(set: &[&str]) -> String {
    if set.is_empty() {
        "(none)".into()
    } else {
        set.join(" --set ")
    }
}

/// Microseconds as a duration a scenario would write (`60s`, `5m`).
fn human(us: u64) -> String {
    let s = us as f64 / 1e6;
    if us.is_multiple_of(60_000_000) && us > 0 {
        format!("{}m", us / 60_000_000)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_back_exactly() {
        for t in [0u64, 1, 500_000, 12_500_000, 800_000_000, 1_234_567_891] {
            let s = crate::engine::time::fmt_secs(t);
            assert_eq!(parse_secs(&s), Some(t), "{s}");
        }
        for bad in ["", "x", "1.1234567", "-1", "1.-5", "99999999999999999999"] {
            assert_eq!(parse_secs(bad), None, "{bad}");
        }
    }
}
