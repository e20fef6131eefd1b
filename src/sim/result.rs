//! The one result record every output format is fed from (`summary.json`, CSVs,
//! histograms, plots, reports), so no exporter recomputes anything.

use hdrhistogram::Histogram;

use crate::engine::time::SimTime;

/// Final state of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Outcome {
    /// Never started the task sequence before the horizon.
    NotStarted = 0,
    /// Task sequence started and not finished at the horizon.
    InProgress = 1,
    /// Task sequence completed successfully.
    Succeeded = 2,
    /// Windows Setup rolled back to the previous OS.
    RolledBack = 3,
    /// Task sequence failed.
    Failed = 4,
}

impl Outcome {
    /// The `summary.json` / `clients.csv` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NotStarted => "not_started",
            Outcome::InProgress => "in_progress",
            Outcome::Succeeded => "succeeded",
            Outcome::RolledBack => "rolled_back",
            Outcome::Failed => "failed",
        }
    }
}

/// Counts of clients by outcome (they add up to the fleet size).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
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

/// The latency metrics, in `summary.json` order.
pub const METRICS: [&str; 5] = [
    "precache",
    "install_wait",
    "download",
    "task_sequence",
    "time_to_compliance",
];

/// A latency metric: an index into [`METRICS`] and [`Latencies::hists`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Metric {
    /// Pre-cache start to its last item.
    Precache = 0,
    /// Install click to the Upgrade OS step.
    InstallWait = 1,
    /// First request of a content item to its arrival (retries included).
    Download = 2,
    /// Task sequence start to end.
    TaskSequence = 3,
    /// Availability to a successful end.
    TimeToCompliance = 4,
}

/// One HdrHistogram per metric, values in microseconds.
#[derive(Debug, Clone)]
pub struct Latencies {
    /// Indexed like [`METRICS`].
    pub hists: Vec<Histogram<u64>>,
}

impl Latencies {
    /// Empty histograms covering 1 µs to ~35 years at 3 significant digits.
    pub fn new() -> Self {
        Latencies {
            hists: METRICS.iter().map(|_| new_histogram()).collect(),
        }
    }

    /// Records a value (µs) in metric `m`; 0 is recorded as 0.
    pub fn record(&mut self, m: Metric, v: SimTime) {
        // The histogram saturates at its highest trackable value instead of failing.
        if let Some(h) = self.hists.get_mut(m as usize) {
            h.saturating_record(v);
        }
    }
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

/// A histogram with fleetsim's range and precision (so merges are exact).
pub fn new_histogram() -> Histogram<u64> {
    // 2^50 µs is 35 years; 3 significant digits is 0.1% resolution.
    #[allow(
        clippy::expect_used,
        reason = "constant bounds that hdrhistogram accepts; every run creates one, so any test catches a change"
    )]
    Histogram::new_with_bounds(1, 1 << 50, 3).expect("static histogram bounds are valid")
}

/// A failure class: exit code and the phase it happened in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FailureRow {
    /// Exit code (as Windows prints it, unsigned 32-bit).
    pub code: u32,
    /// Phase (`download`, `check_readiness`, `compat_scan`, `safeos`...).
    pub phase: String,
    /// Clients.
    pub count: u64,
}

/// A row of `bandwidth.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct BandwidthRow {
    /// Start of the bucket.
    pub time: SimTime,
    /// Index into [`RunResult::links`].
    pub link: u32,
    /// Average rate over the bucket, bits/s.
    pub bps: f64,
    /// Most downloads active at once during the bucket.
    pub active: u32,
    /// Most downloads queued at once during the bucket (DPs only).
    pub queued: u32,
    /// WAN links of sites with peer content: the average rate, bits/s, at which
    /// peers served the site's clients during the bucket, bytes the link would
    /// otherwise have carried (`None` for DPs and sites without peers).
    pub saved_bps: Option<f64>,
}

/// Peak figures of a DP.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Peak {
    /// Highest bucket-average rate, bits/s.
    pub bps: f64,
    /// Most active downloads at once.
    pub active: u32,
    /// Longest queue.
    pub queued: u32,
}

/// Per-client record for `clients.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRow {
    /// Client id.
    pub client: u64,
    /// Site name index.
    pub site: u16,
    /// DP used (index), or `u16::MAX` for none.
    pub dp: u16,
    /// Architecture label.
    pub architecture: &'static str,
    /// LCID.
    pub language: u32,
    /// `ac` / `battery`.
    pub power: &'static str,
    /// `wired` / `wireless` / `vpn`.
    pub network: &'static str,
    /// Free disk, bytes.
    pub free_disk: u64,
    /// Outcome.
    pub outcome: Outcome,
    /// Exit code (0 on success).
    pub exit_code: u32,
    /// Every content the client needed was pre-cached before Install.
    pub precached: bool,
    /// Bytes downloaded (failed attempts included).
    pub bytes: u64,
    /// Policy received.
    pub policy: Option<SimTime>,
    /// Install clicked or deadline reached.
    pub install: Option<SimTime>,
    /// Task sequence ended.
    pub end: Option<SimTime>,
    /// Device name (inventory fleets; empty when the fleet is drawn).
    pub name: String,
    /// Hardware model.
    pub model: String,
    /// `2.0`, `1.2` or `none`.
    pub tpm: &'static str,
    /// `uefi_secure_boot`, `uefi` or `bios`.
    pub firmware: &'static str,
    /// Processor on Windows 11's supported list.
    pub cpu_supported: bool,
    /// Physical memory, bytes.
    pub memory: u64,
    /// System drive size, bytes.
    pub system_drive: u64,
    /// The client's power schedule: its name, `NAME (left on)` when drawn never to
    /// be switched off, `always` when the fleet has no power schedules.
    pub power_schedule: String,
    /// Time the machine was on within the run (its schedule, plus the time a
    /// running task sequence kept it on).
    pub on: SimTime,
    /// The site's UTC offset, µs.
    pub utc_offset: i64,
    /// Task sequence started (after `install` when a maintenance window or a
    /// sleeping machine held it back).
    pub ts_start: Option<SimTime>,
    /// Pre-cache finished (every item downloaded or given up).
    pub precache_end: Option<SimTime>,
    /// Subnet: as the inventory names it, else its number within its site
    /// (`[[sites]] subnets`; 0 with one subnet).
    pub subnet: String,
    /// A ConfigMgr peer cache source of its site.
    pub peer_cache_source: bool,
    /// Bytes received from peers (peer cache and BranchCache), within `bytes`.
    pub bytes_from_peers: u64,
}

/// Content that pre-cache could not take for some clients because it does not fit
/// in their cache: it is downloaded on demand instead (the deployment's DP option).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecacheShortfall {
    /// Content id.
    pub content: String,
    /// Its size, bytes.
    pub size: u64,
    /// Clients whose cache could not hold it.
    pub clients: u64,
    /// The smallest client cache in which every one of them could have pre-cached
    /// it (the largest of cache used before it plus its size), bytes.
    pub cache_needed: u64,
}

/// What happened at one node of the task sequence, over the whole fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    /// Group names and the node's name, joined with ` / `.
    pub path: String,
    /// Step type (`group`, `run`, `upgrade_os`...).
    pub kind: &'static str,
    /// Times started (groups: entered); retries count again.
    pub ran: u64,
    /// Times skipped by a condition or because disabled.
    pub skipped: u64,
    /// Times it ended with a success code.
    pub succeeded: u64,
    /// Times it failed after its retries (continue-on-error failures included).
    pub failed: u64,
}

/// Bytes moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bytes {
    /// All bytes.
    pub total: u64,
    /// By DP, indexed like the scenario's DPs.
    pub by_dp: Vec<u64>,
    /// By content kind, indexed like `ContentKind::ALL`.
    pub by_kind: [u64; 5],
    /// Downloaded by pre-cache.
    pub precache: u64,
    /// Downloaded while the task sequence ran.
    pub on_demand: u64,
    /// By source: DPs, peer cache sources, BranchCache peers (`total` is their sum).
    pub by_source: super::peers::BySource,
}

/// A site's WAN link over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WanResult {
    /// Capacity, bits/s.
    pub capacity_bps: u64,
    /// Highest bandwidth-bucket average, bits/s (as DP peaks are measured).
    pub peak_bps: f64,
    /// Time the link carried at least 99% of its capacity, µs (`sim::sites`).
    pub busy: SimTime,
}

/// One site (boundary group) over the run: its clients only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteResult {
    /// Site name.
    pub name: String,
    /// Clients of the site (in this run's shard).
    pub clients: u64,
    /// Their outcomes.
    pub outcomes: Outcomes,
    /// Bytes they downloaded (failed attempts included).
    pub bytes: u64,
    /// Of those, bytes that crossed the site's WAN link.
    pub over_wan: u64,
    /// Of those, bytes served by peers (0 until peer content is modelled).
    pub from_peers: u64,
    /// End times of the site's successful task sequences, µs, sorted.
    pub successes: Vec<SimTime>,
    /// The WAN link, when the site has one.
    pub wan: Option<WanResult>,
    /// The site's clients use peer content (BranchCache or peer cache sources).
    pub peers: bool,
}

/// Wall-clock figures of the run (the only non-deterministic part of the outputs).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    /// Wall time, seconds.
    pub wall_s: f64,
    /// Events per wall second.
    pub events_per_s: f64,
    /// Peak resident memory of the process, bytes.
    pub peak_rss_bytes: u64,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Fleet size.
    pub clients: u64,
    /// Outcomes.
    pub outcomes: Outcomes,
    /// Failures by (code, phase), sorted.
    pub failures: Vec<FailureRow>,
    /// Latency histograms.
    pub latency: Latencies,
    /// Bytes.
    pub bytes: Bytes,
    /// DP names (index = DP index).
    pub dp_names: Vec<String>,
    /// Link names for `bandwidth.csv`: DPs first (same index), then `wan:<site>`.
    pub links: Vec<String>,
    /// Capacity of each link, bits/s (for plots).
    pub link_capacity: Vec<u64>,
    /// Peaks by DP.
    pub peaks: Vec<Peak>,
    /// Bandwidth rows, ordered by time then link.
    pub bandwidth: Vec<BandwidthRow>,
    /// Bucket width.
    pub bandwidth_interval: SimTime,
    /// Per-client rows (only with `--per-client`).
    pub clients_rows: Option<Vec<ClientRow>>,
    /// Site names.
    pub site_names: Vec<String>,
    /// Time of the last event (or the horizon).
    pub sim_end: SimTime,
    /// Events processed.
    pub events: u64,
    /// Deadline, for plots.
    pub deadline: Option<SimTime>,
    /// Completion times of successful task sequences (µs, sorted), for plots.
    pub completions: Vec<(SimTime, Outcome)>,
    /// Wall-clock figures.
    pub timing: Timing,
    /// Stopped early (Ctrl-C): the figures cover what was simulated.
    pub partial: bool,
    /// Per task-sequence node, in order.
    pub steps: Vec<StepRow>,
    /// Trace lines of the traced clients, in event order.
    pub trace: Vec<super::trace::TraceRow>,
    /// Failed transfer attempts by transport error class (load tests; empty in `run`).
    pub transfer_errors: std::collections::BTreeMap<u32, u64>,
    /// Windows 11 readiness of the clients (this shard's), when the task sequence
    /// references a Windows 11 package; `None` otherwise.
    pub readiness: Option<crate::setup::readiness::Readiness>,
    /// Content pre-cache could not take for want of client cache (empty when all
    /// fit or nothing is pre-cached).
    pub precache_shortfall: Vec<PrecacheShortfall>,
    /// Nights, weekends and maintenance windows of the first site, `(kind, from,
    /// to)`, for `marks.csv` and the plots (empty without a calendar).
    pub calendar_marks: Vec<(&'static str, SimTime, SimTime)>,
    /// Per site, in scenario order.
    pub sites: Vec<SiteResult>,
    /// The `--set` overrides the scenario was read with (seed included), so a merge
    /// can tell runs of different variants apart.
    pub overrides: Vec<String>,
    /// The targets to judge the run by (`[[targets]]`, then `--target`).
    pub targets: Vec<crate::scenario::targets::Target>,
}
