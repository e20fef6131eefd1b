//! `summary.json`: every figure of a run, with every key present (zeros where nothing
//! happened). Deterministic for a scenario and seed except the `run` object.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::Exporter;
use crate::scenario::model::ContentKind;
use crate::setup::codes;
use crate::sim::result::{METRICS, Outcome, RunResult};

/// Latency figures of one metric, seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Observations.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl Stat {
    /// Figures of a histogram of microseconds (percentiles at 0.1% resolution).
    pub fn from_hist(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Stat::default();
        }
        let s = |v: u64| v as f64 / 1e6;
        Stat {
            count: h.len(),
            mean: round6(h.mean() / 1e6),
            p50: s(h.value_at_quantile(0.50)),
            p90: s(h.value_at_quantile(0.90)),
            p95: s(h.value_at_quantile(0.95)),
            p99: s(h.value_at_quantile(0.99)),
            max: s(h.max()),
        }
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Client counts by outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutcomesJson {
    /// Succeeded.
    pub succeeded: u64,
    /// Rolled back.
    pub rolled_back: u64,
    /// Failed.
    pub failed: u64,
    /// In progress at the horizon.
    pub in_progress: u64,
    /// Never started.
    pub not_started: u64,
}

/// The five latency metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyJson {
    /// Pre-cache start to all pre-cache content local.
    pub precache: Stat,
    /// Install (or deadline) to the upgrade step starting.
    pub install_wait: Stat,
    /// One content download, request to last byte, queueing and retries included.
    pub download: Stat,
    /// Task sequence start to end.
    pub task_sequence: Stat,
    /// Available time to a successful upgrade.
    pub time_to_compliance: Stat,
    /// Load tests only: attempt start (as scheduled) to the first byte of the body.
    /// Absent in simulated runs, whose network model has no such thing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttfb: Option<Stat>,
}

/// Bytes moved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BytesJson {
    /// All.
    pub total: u64,
    /// By DP name.
    pub by_dp: BTreeMap<String, u64>,
    /// By content kind.
    pub by_kind: BTreeMap<String, u64>,
    /// By pre-cache.
    pub precache: u64,
    /// By the running task sequence.
    pub on_demand: u64,
}

/// Peak of one DP.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeakJson {
    /// Highest bandwidth bucket, bits/s.
    pub bps: f64,
    /// Most downloads at once.
    pub active_downloads: u64,
    /// Longest connection queue.
    pub queued: u64,
}

/// Peaks by DP.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeakByDp {
    /// By DP name.
    pub by_dp: BTreeMap<String, PeakJson>,
}

/// Time at which a share of the whole fleet had succeeded, seconds from the start
/// (`None` when never reached): the planner's "95% compliant after ..." figure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplianceJson {
    /// Half the fleet.
    pub p50_s: Option<f64>,
    /// 90% of the fleet.
    pub p90_s: Option<f64>,
    /// 95% of the fleet.
    pub p95_s: Option<f64>,
    /// Share of the fleet that succeeded by the end.
    pub final_share: f64,
}

/// Wall-clock figures (not deterministic).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunJson {
    /// Wall time.
    pub wall_s: f64,
    /// Events per wall second.
    pub events_per_s: f64,
    /// Peak RSS.
    pub peak_rss_bytes: u64,
    /// fleetsim version.
    pub version: String,
}

/// The whole `summary.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// `sim` for `run`, `load` for `load`.
    pub mode: String,
    /// Seed.
    pub seed: u64,
    /// Fleet size.
    pub clients: u64,
    /// Stopped early.
    pub partial: bool,
    /// Outcomes.
    pub outcomes: OutcomesJson,
    /// Failed and rolled-back clients by exit code.
    pub failures_by_code: BTreeMap<String, u64>,
    /// Latencies.
    pub latency: LatencyJson,
    /// Compliance over time.
    pub compliance: ComplianceJson,
    /// Bytes.
    pub bytes: BytesJson,
    /// Peaks.
    pub peak: PeakByDp,
    /// Simulated time of the end.
    pub sim_end_s: f64,
    /// Events handled.
    pub events: u64,
    /// Wall-clock figures.
    pub run: RunJson,
    /// Windows 11 readiness (`output::readiness`); only when the task sequence
    /// references a Windows 11 package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows11_readiness: Option<super::readiness::ReadinessJson>,
    /// Content pre-cache could not take for want of client cache; only when some.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub precache_shortfall: Vec<super::readiness::ShortfallJson>,
}

/// Codes always listed in `failures_by_code` (zero when they did not happen).
pub const LISTED_CODES: [u32; 12] = [
    codes::COMPAT_APP_BLOCK,
    codes::DRIVER_ROLLBACK,
    codes::DISK_SPACE,
    codes::MIGRATION_CHOICE,
    codes::BELOW_MINIMUM,
    codes::CLEANUP_PENDING,
    codes::DISK_FULL,
    codes::E_FAIL,
    codes::DOWNLOAD_FAILED,
    codes::NO_CONTENT_LOCATION,
    codes::TIMEOUT,
    codes::NO_MATCHING_OS_PACKAGE,
];

impl Summary {
    /// Builds the summary of a run.
    pub fn of(r: &RunResult) -> Self {
        let mut failures: BTreeMap<String, u64> =
            LISTED_CODES.iter().map(|&c| (codes::hex(c), 0)).collect();
        for f in &r.failures {
            *failures.entry(codes::hex(f.code)).or_insert(0) += f.count;
        }
        let stat = |m: &str| {
            let i = METRICS.iter().position(|x| *x == m).unwrap_or(0);
            r.latency
                .hists
                .get(i)
                .map(Stat::from_hist)
                .unwrap_or_default()
        };
        let mut by_kind = BTreeMap::new();
        for k in ContentKind::ALL {
            let b = r.bytes.by_kind.get(k as usize).copied().unwrap_or(0);
            by_kind.insert(k.as_str().to_string(), b);
        }
        Summary {
            scenario: r.scenario.clone(),
            mode: "sim".into(),
            seed: r.seed,
            clients: r.clients,
            partial: r.partial,
            outcomes: OutcomesJson {
                succeeded: r.outcomes.succeeded,
                rolled_back: r.outcomes.rolled_back,
                failed: r.outcomes.failed,
                in_progress: r.outcomes.in_progress,
                not_started: r.outcomes.not_started,
            },
            failures_by_code: failures,
            latency: LatencyJson {
                precache: stat("precache"),
                install_wait: stat("install_wait"),
                download: stat("download"),
                task_sequence: stat("task_sequence"),
                time_to_compliance: stat("time_to_compliance"),
                ttfb: None,
            },
            compliance: compliance(r),
            bytes: BytesJson {
                total: r.bytes.total,
                by_dp: r
                    .dp_names
                    .iter()
                    .cloned()
                    .zip(r.bytes.by_dp.iter().copied())
                    .collect(),
                by_kind,
                precache: r.bytes.precache,
                on_demand: r.bytes.on_demand,
            },
            peak: PeakByDp {
                by_dp: r
                    .dp_names
                    .iter()
                    .zip(&r.peaks)
                    .map(|(n, p)| {
                        (
                            n.clone(),
                            PeakJson {
                                bps: p.bps.round(),
                                active_downloads: p.active as u64,
                                queued: p.queued as u64,
                            },
                        )
                    })
                    .collect(),
            },
            sim_end_s: r.sim_end as f64 / 1e6,
            events: r.events,
            run: RunJson {
                wall_s: r.timing.wall_s,
                events_per_s: r.timing.events_per_s.round(),
                peak_rss_bytes: r.timing.peak_rss_bytes,
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            windows11_readiness: super::readiness::readiness_of(r),
            precache_shortfall: super::readiness::shortfall_of(r),
        }
    }
}

fn compliance(r: &RunResult) -> ComplianceJson {
    let n = r.clients.max(1) as f64;
    let ok: Vec<u64> = r
        .completions
        .iter()
        .filter(|(_, o)| *o == Outcome::Succeeded)
        .map(|(t, _)| *t)
        .collect();
    let at = |share: f64| {
        let k = (share * n).ceil() as usize;
        k.checked_sub(1)
            .and_then(|i| ok.get(i))
            .map(|&t| t as f64 / 1e6)
    };
    ComplianceJson {
        p50_s: at(0.5),
        p90_s: at(0.9),
        p95_s: at(0.95),
        final_share: ok.len() as f64 / n,
    }
}

/// The `summary.json` exporter.
pub struct SummaryJson;

impl Exporter for SummaryJson {
    fn name(&self) -> &'static str {
        "summary.json"
    }

    fn write(&self, r: &RunResult, dir: &Path) -> io::Result<()> {
        let mut text = serde_json::to_string_pretty(&Summary::of(r)).map_err(io::Error::other)?;
        text.push('\n');
        std::fs::write(dir.join("summary.json"), text)
    }
}
