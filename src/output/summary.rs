//! `summary.json`: every figure of a run, with every key present (zeros where nothing
//! happened). Deterministic for a scenario and seed except the `run` object.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::Exporter;
use crate::scenario::model::ContentKind;
use crate::scenario::targets::Target;
use crate::setup::codes;
use crate::sim::result::{METRICS, Outcome, RunResult, SiteResult};

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
    /// By source: distribution points, peer cache sources, BranchCache peers
    /// (CONTRACT section 6); absent from summaries written before it (read as 0).
    #[serde(default)]
    pub by_source: BySourceJson,
}

/// `bytes.by_source`: where the bytes came from; `total` is their sum.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BySourceJson {
    /// From distribution points (BranchCache content information included).
    pub dp: u64,
    /// From ConfigMgr peer cache sources.
    pub peer_cache: u64,
    /// From BranchCache peers of the client's subnet.
    pub branchcache: u64,
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

/// A site's bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteBytesJson {
    /// Downloaded by the site's clients (failed attempts included).
    pub total: u64,
    /// Of those, over the site's WAN link (from DPs of other sites).
    pub over_wan: u64,
    /// Of those, from peers (0 until peer content is modelled).
    pub from_peers: u64,
}

/// A site's WAN link.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WanJson {
    /// Capacity, bits/s.
    pub capacity_bps: u64,
    /// Highest bandwidth-bucket average, bits/s.
    pub peak_bps: f64,
    /// Seconds the link carried 99% of its capacity or more (exact, from the fluid
    /// model's rates; bucket-based in load tests).
    pub busy_s: f64,
}

/// One site (boundary group): its clients' figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteJson {
    /// Clients of the site.
    pub clients: u64,
    /// Their outcomes (they add up to `clients`).
    pub outcomes: OutcomesJson,
    /// When shares of the *site's* clients had succeeded (the fleet's `compliance`,
    /// for this site).
    pub compliance: ComplianceJson,
    /// Bytes.
    pub bytes: SiteBytesJson,
    /// The WAN link; `null` when the site has none.
    pub wan: Option<WanJson>,
    /// `true` when the site's clients use peer content (BranchCache or peer cache
    /// sources), so that tables show the share of its bytes from peers, even 0%
    /// (requests all at once); absent otherwise, which keeps the summaries of
    /// scenarios without peers as they were.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub peers: bool,
}

/// A target and whether the run met it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetJson {
    /// As written: `sites.Lyon.compliance.p95_s <= 72h`.
    pub target: String,
    /// The figure's dotted path.
    pub metric: String,
    /// `<=`, `<`, `>=` or `>`.
    pub op: String,
    /// The threshold as written (`72h`).
    pub written: String,
    /// The threshold in the figure's units (seconds, bytes, bits/s).
    pub threshold: f64,
    /// The figure; `null` when it has no value (a share never reached).
    pub value: Option<f64>,
    /// Whether the figure meets the threshold.
    pub met: bool,
}

/// What a merged folder of replications is: the figures of *one* rollout (means over
/// the runs), with the 95% half-widths and the sums over all runs beside them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplicationsJson {
    /// Runs merged.
    pub runs: u64,
    /// Mean over the runs of every count, byte figure and time (by dotted path; the
    /// summary's own keys hold these rounded to whole clients and bytes).
    pub mean: BTreeMap<String, f64>,
    /// 95% Student-t half-width of each mean (0 for a single run).
    pub ci95: BTreeMap<String, f64>,
    /// Sums over all runs (clients, outcomes, bytes, failures, events).
    pub sums: BTreeMap<String, u64>,
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
    /// What each code of `failures_by_code` means, in the words of Microsoft's error
    /// pages ([`codes::name`]), so that the file is read without a lookup table.
    #[serde(default)]
    pub failure_names: BTreeMap<String, String>,
    /// Latencies.
    pub latency: LatencyJson,
    /// Compliance over time.
    pub compliance: ComplianceJson,
    /// Bytes.
    pub bytes: BytesJson,
    /// Peaks.
    pub peak: PeakByDp,
    /// Per site (boundary group), by name.
    #[serde(default)]
    pub sites: BTreeMap<String, SiteJson>,
    /// The `--set` overrides of the run (seed included), in order.
    #[serde(default)]
    pub set: Vec<String>,
    /// Targets (`[[targets]]` and `--target`) and whether they were met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetJson>,
    /// Present in a merged folder of replications (see [`ReplicationsJson`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replications: Option<ReplicationsJson>,
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
        let mut s = Summary {
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
            failure_names: failure_names(&failures),
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
                by_source: BySourceJson {
                    dp: r.bytes.by_source.dp,
                    peer_cache: r.bytes.by_source.peer_cache,
                    branchcache: r.bytes.by_source.branchcache,
                },
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
            sites: r
                .sites
                .iter()
                .map(|x| (x.name.clone(), site_json(x)))
                .collect(),
            set: r.overrides.clone(),
            targets: Vec::new(),
            replications: None,
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
        };
        s.targets = s.judge(&r.targets);
        s
    }

    /// Every numeric figure by dotted path (`null` ones as `None`), `run` left out:
    /// what targets, `sweep.csv` and `plan` name.
    pub fn figures(&self) -> BTreeMap<String, Option<f64>> {
        serde_json::to_value(self)
            .map(|v| figures(&v))
            .unwrap_or_default()
    }

    /// Whether the summary meets each target.
    pub fn judge(&self, targets: &[Target]) -> Vec<TargetJson> {
        if targets.is_empty() {
            return Vec::new();
        }
        let f = self.figures();
        targets
            .iter()
            .map(|t| {
                let value = f.get(&t.metric).copied().flatten().or_else(|| {
                    // A failure code that never happened is listed nowhere: 0.
                    t.metric.starts_with("failures_by_code.").then_some(0.0)
                });
                TargetJson {
                    target: t.describe(),
                    metric: t.metric.clone(),
                    op: t.op.as_str().to_string(),
                    written: t.written.clone(),
                    threshold: t.value,
                    value,
                    met: t.met(value),
                }
            })
            .collect()
    }

    /// The targets recorded in this summary, parsed back (to judge a merge by them).
    pub fn recorded_targets(&self) -> Vec<Target> {
        self.targets
            .iter()
            .filter_map(|t| crate::scenario::targets::parse_expr(&t.target).ok())
            .collect()
    }
}

/// The numeric leaves of a `summary.json` value by dotted path, without `run` and
/// `replications` (which describe the runs, not the rollout).
pub fn figures(v: &serde_json::Value) -> BTreeMap<String, Option<f64>> {
    fn walk(v: &serde_json::Value, path: String, out: &mut BTreeMap<String, Option<f64>>) {
        use serde_json::Value;
        match v {
            Value::Number(n) => {
                out.insert(path, n.as_f64());
            }
            Value::Null => {
                out.insert(path, None);
            }
            Value::Object(m) => {
                for (k, x) in m {
                    walk(x, format!("{path}.{k}"), out);
                }
            }
            Value::Bool(_) | Value::String(_) | Value::Array(_) => {}
        }
    }
    let mut out = BTreeMap::new();
    if let serde_json::Value::Object(m) = v {
        for (k, x) in m {
            if k != "run" && k != "replications" && k != "targets" {
                walk(x, k.clone(), &mut out);
            }
        }
    }
    out
}

/// The name of each `0x...` key of a `failures_by_code` map ([`codes::name`]).
pub fn failure_names(by_code: &BTreeMap<String, u64>) -> BTreeMap<String, String> {
    by_code
        .keys()
        .map(|k| {
            let name = codes::name_of_hex(k).unwrap_or("exit code of a task sequence step");
            (k.clone(), name.to_string())
        })
        .collect()
}

fn compliance(r: &RunResult) -> ComplianceJson {
    let ok: Vec<u64> = r
        .completions
        .iter()
        .filter(|(_, o)| *o == Outcome::Succeeded)
        .map(|(t, _)| *t)
        .collect();
    shares(&ok, r.clients)
}

fn site_json(x: &SiteResult) -> SiteJson {
    let o = &x.outcomes;
    SiteJson {
        clients: x.clients,
        outcomes: OutcomesJson {
            succeeded: o.succeeded,
            rolled_back: o.rolled_back,
            failed: o.failed,
            in_progress: o.in_progress,
            not_started: o.not_started,
        },
        compliance: shares(&x.successes, x.clients),
        bytes: SiteBytesJson {
            total: x.bytes,
            over_wan: x.over_wan,
            from_peers: x.from_peers,
        },
        wan: x.wan.map(|w| WanJson {
            capacity_bps: w.capacity_bps,
            peak_bps: w.peak_bps.round(),
            busy_s: w.busy as f64 / 1e6,
        }),
        peers: x.peers,
    }
}

/// When shares of `clients` had succeeded, from the sorted success times `ok` (µs).
fn shares(ok: &[u64], clients: u64) -> ComplianceJson {
    let n = clients.max(1) as f64;
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
