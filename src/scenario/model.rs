//! The resolved scenario: what the simulator, the load tester and every report read.
//!
//! This is the "high-level config" of the ripgrep pattern: the parser (`scenario::parse`)
//! reads TOML into these types after checking every value, resolving names to indices
//! and filling defaults, so nothing downstream re-validates or looks things up by name.
//! Defaults are documented on each field with their source in the domain reference
//! (`shared/domain/NOTES.md`, the ConfigMgr article).

use std::path::PathBuf;

use crate::engine::time::SimTime;
use crate::tasksequence::tree::TaskSequence;

/// A whole scenario, resolved and valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// `name`; defaults to the file stem. Names the default output folder.
    pub name: String,
    /// The file it was read from (relative paths in the scenario resolve against its folder).
    pub source: Option<PathBuf>,
    /// `[simulation]`.
    pub simulation: Simulation,
    /// `[fleet]`.
    pub fleet: Fleet,
    /// `[network]`: per-client link caps by network type.
    pub network: NetworkCaps,
    /// `[[sites]]` (boundary groups); at least one.
    pub sites: Vec<Site>,
    /// `[[distribution_points]]`; at least one.
    pub distribution_points: Vec<DistributionPoint>,
    /// `[[content]]`: the packages the task sequence references.
    pub content: Vec<Content>,
    /// `[deployment]`.
    pub deployment: Deployment,
    /// `[client]`.
    pub client: ClientSettings,
    /// `[task_sequence]`, already expanded (template, XML or inline) into a tree.
    pub task_sequence: TaskSequence,
    /// `[setup]`: the Windows Setup model.
    pub setup: SetupModel,
    /// `[[task_sequence.overrides]]`: durations, exit codes and outputs given to steps
    /// of a template or an imported export, which carry none of their own.
    pub step_overrides: Vec<StepOverride>,
}

/// Simulation parameters for steps selected by name or path
/// (`"Group / Sub-group / Step"`): an exported task sequence says what a step runs,
/// not how long it takes or how it tends to end.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOverride {
    /// Step (or group) name, or a path of names joined with ` / `.
    pub step: String,
    /// Duration of the step.
    pub duration: Option<Dist>,
    /// Weighted exit codes `(code, weight)`; empty keeps the step's own behaviour.
    pub exit_codes: Vec<(i64, f64)>,
    /// Value a PowerShell step writes to its output variable.
    pub output: Option<String>,
    /// Exit codes meaning success, replacing the step's own list.
    pub success_codes: Option<Vec<i64>>,
}

/// `[simulation]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// Root seed of every random stream (default 1).
    pub seed: u64,
    /// Simulated time at which the run stops (default `21d`).
    pub horizon: SimTime,
    /// Bucket width of `bandwidth.csv` (default `60s`).
    pub bandwidth_interval: SimTime,
}

/// A probability distribution of a quantity in base units (microseconds for durations,
/// bytes for sizes, plain numbers otherwise). Sampling lives in `scenario::dist`.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// Always `value`.
    Fixed(f64),
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean: f64,
    },
    /// Normal, optionally truncated to `[min, max]` by clamping.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
        /// Lower clamp.
        min: Option<f64>,
        /// Upper clamp.
        max: Option<f64>,
    },
    /// Log-normal given by its median (`exp(mu)`) and `sigma`.
    LogNormal {
        /// Median.
        median: f64,
        /// Sigma of the underlying normal.
        sigma: f64,
    },
    /// Uniform choice among observed values (from `values` or a CSV file's first column).
    Empirical {
        /// The observations, in base units; never empty.
        values: Vec<f64>,
    },
}

/// Weighted choice among labelled alternatives, normalised so weights sum to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights<T> {
    /// `(value, probability)` in the order written in the scenario (deterministic draws).
    pub items: Vec<(T, f64)>,
}

/// Processor architecture of a client and of an OS upgrade package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    /// 64-bit.
    X64,
    /// 32-bit.
    X86,
}

/// Power state of a client when the task sequence runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Power {
    /// On mains power.
    Ac,
    /// On battery.
    Battery,
}

/// How a client is connected; selects its link cap and transient failure rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetType {
    /// Corporate wired network.
    Wired,
    /// Wireless.
    Wireless,
    /// Remote, over VPN.
    Vpn,
}

/// The operating system a client runs before the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OsVersion {
    /// Windows 7 SP1 (6.1.7601).
    Win7,
    /// Windows 8.1 (6.3.9600).
    Win81,
    /// Windows 10 (10.0.x): a feature-update upgrade.
    Win10,
    /// Windows Server 2012 (6.2.9200), upgraded to Server 2016.
    Server2012,
    /// Windows Server 2012 R2 (6.3.9600), upgraded to Server 2016.
    Server2012R2,
}

/// `[fleet]`: how clients are drawn. Every client draws each attribute independently
/// from its own random stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// Number of clients.
    pub clients: u64,
    /// Default `{ x64 = 0.85, x86 = 0.15 }`.
    pub architecture: Weights<Arch>,
    /// Decimal LCIDs; default `{ 1033 = 1.0 }`.
    pub language: Weights<u32>,
    /// Default `{ ac = 0.8, battery = 0.2 }`.
    pub power: Weights<Power>,
    /// Default `{ wired = 0.7, wireless = 0.25, vpn = 0.05 }`.
    pub network: Weights<NetType>,
    /// Operating system before the upgrade; default `{ win7 = 0.6, win81 = 0.4 }`.
    pub os: Weights<OsVersion>,
    /// Free disk in bytes; default normal(60 GB, 25 GB) truncated at 1 GB.
    pub free_disk: Dist,
    /// Physical memory in bytes; default fixed 8 GiB.
    pub memory: Dist,
    /// Processor speed in MHz; default fixed 2400.
    pub cpu_mhz: Dist,
    /// Hardware model names (`Win32_ComputerSystemProduct.Name`); default `{ "Generic PC" = 1 }`.
    pub model: Weights<String>,
    /// Share of clients with an application that blocks setup (default 0.0).
    pub incompatible_app: f64,
    /// Share with a driver that makes setup roll back (default 0.0).
    pub incompatible_driver: f64,
    /// Share with third-party disk encryption needing `/ReflectDrivers` (default 0.0).
    pub third_party_encryption: f64,
    /// `exact_shares = true`: every weighted attribute and share is assigned in exact
    /// proportions (largest remainder) instead of drawn independently per client, so
    /// `network = { wired = 0.5, vpn = 0.5 }` over 100 clients gives exactly 50 and 50.
    /// Assignment goes through a fixed permutation per attribute, so attributes stay
    /// uncorrelated. Default false.
    pub exact_shares: bool,
}

/// `[network]`: per-client link cap by network type, bits/s.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkCaps {
    /// Default `1Gbps`.
    pub wired: u64,
    /// Default `150Mbps`.
    pub wireless: u64,
    /// Default `20Mbps`.
    pub vpn: u64,
}

impl NetworkCaps {
    /// Cap for a network type, bits/s.
    pub fn cap(&self, n: NetType) -> u64 {
        match n {
            NetType::Wired => self.wired,
            NetType::Wireless => self.wireless,
            NetType::Vpn => self.vpn,
        }
    }
}

/// `[[sites]]`: a boundary group.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Unique name.
    pub name: String,
    /// Fraction of the fleet (normalised over all sites).
    pub share: f64,
    /// WAN link (bits/s) shared by this site's downloads from DPs of other sites; `None`
    /// means unconstrained.
    pub wan: Option<u64>,
    /// Indices into `Scenario::distribution_points` of the site's own DPs (may be empty).
    pub distribution_points: Vec<usize>,
    /// Boundary-group fallback.
    pub fallback: Option<Fallback>,
}

/// Boundary-group fallback: after `after` without content, use these DPs.
#[derive(Debug, Clone, PartialEq)]
pub struct Fallback {
    /// Wait before falling back (ConfigMgr default 120 minutes, NOTES.md).
    pub after: SimTime,
    /// Indices into `Scenario::distribution_points`.
    pub distribution_points: Vec<usize>,
}

/// `[[distribution_points]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DistributionPoint {
    /// Unique name.
    pub name: String,
    /// Index into `Scenario::sites` of the site it stands in.
    pub site: usize,
    /// Uplink, bits/s, shared max-min fairly by its active downloads.
    pub bandwidth: u64,
    /// Downloads served at once; the rest wait FIFO (default 4000, the ConfigMgr limit
    /// of client connections per DP, NOTES.md).
    pub max_connections: u32,
    /// Base URL or URL template for the load tester (`{content}` is replaced).
    pub url: Option<String>,
}

/// Kind of a content item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContentKind {
    /// OS upgrade package (one per architecture and language).
    OsUpgrade,
    /// Driver package.
    Driver,
    /// Application.
    Application,
    /// Software update.
    SoftwareUpdate,
    /// Any other package.
    Package,
}

impl ContentKind {
    /// The scenario spelling (`os_upgrade`, ...), also used in `summary.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::OsUpgrade => "os_upgrade",
            ContentKind::Driver => "driver",
            ContentKind::Application => "application",
            ContentKind::SoftwareUpdate => "software_update",
            ContentKind::Package => "package",
        }
    }

    /// All kinds, in output order.
    pub const ALL: [ContentKind; 5] = [
        ContentKind::OsUpgrade,
        ContentKind::Driver,
        ContentKind::Application,
        ContentKind::SoftwareUpdate,
        ContentKind::Package,
    ];
}

/// `[[content]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// Package id as the task sequence references it.
    pub id: String,
    /// Kind.
    pub kind: ContentKind,
    /// Size in bytes.
    pub size: u64,
    /// OS upgrade packages: architecture, used by pre-cache.
    pub architecture: Option<Arch>,
    /// OS upgrade packages: decimal LCID, used by pre-cache.
    pub language: Option<u32>,
}

/// Deployment purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Shown in Software Center; starts when the user clicks Install.
    Available,
    /// Starts at the deadline at the latest.
    Required,
}

/// The deployment's "Distribution Points" option (used for content that is not cached).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpOption {
    /// Each step downloads its content just before it runs.
    DownloadOnDemand,
    /// All referenced content is downloaded before the first step.
    DownloadAllFirst,
    /// Steps read content from the DP while they run; no local copy.
    AccessFromDp,
}

/// Which software updates Install Software Updates applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdatesMode {
    /// Required updates only.
    Required,
    /// All updates targeted at the client.
    All,
    /// None.
    None,
}

/// `[deployment]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// Default available.
    pub purpose: Purpose,
    /// Default 0.
    pub available_at: SimTime,
    /// Required deployments start at the deadline at the latest; default none
    /// (an error for required deployments).
    pub deadline: Option<SimTime>,
    /// Pre-download content (default false).
    pub precache: bool,
    /// Default download on demand.
    pub dp_option: DpOption,
    /// Delay from notification to Install; default lognormal(median 24h, sigma 1).
    pub user_start: Dist,
    /// Default required.
    pub software_updates: UpdatesMode,
    /// A running task sequence that has not ended this long after it started is
    /// stopped and counted as failed (default none: it runs to the horizon).
    pub timeout: Option<SimTime>,
}

/// `[client]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSettings {
    /// Delay until the client receives the policy; default uniform(0, 60m)
    /// (policy polling every 60 minutes, NOTES.md).
    pub policy_poll: Dist,
    /// `SMSTSDownloadRetryCount`, default 2 (NOTES.md).
    pub download_retry_count: u32,
    /// `SMSTSDownloadRetryDelay`, default 15 s (NOTES.md).
    pub download_retry_delay: SimTime,
    /// Client cache size in bytes; default 5,120 MB (NOTES.md) in ConfigMgr's binary
    /// sense: 5,120 x 2^20 bytes (`scenario::defaults::client`).
    pub cache_size: u64,
    /// Probability that one download attempt fails transiently, by network type;
    /// defaults wired 0.001, wireless 0.02, vpn 0.05.
    pub transient_failure: TransientFailure,
}

/// Per-attempt transient download failure probability by network type.
#[derive(Debug, Clone, PartialEq)]
pub struct TransientFailure {
    /// Wired.
    pub wired: f64,
    /// Wireless.
    pub wireless: f64,
    /// VPN.
    pub vpn: f64,
}

impl TransientFailure {
    /// Probability for a network type.
    pub fn for_net(&self, n: NetType) -> f64 {
        match n {
            NetType::Wired => self.wired,
            NetType::Wireless => self.wireless,
            NetType::Vpn => self.vpn,
        }
    }
}

/// `[setup]`: durations of Windows Setup's phases (distributions in microseconds)
/// and the probabilities of failures not tied to a client attribute.
///
/// Defaults (`scenario::defaults::setup`): the offline phases (restart, SafeOS, first
/// and second boot) average 32 minutes, matching the "about 30 minutes" offline time
/// of Windows 10 1803 (NOTES.md; 51 minutes for 1709).
#[derive(Debug, Clone, PartialEq)]
pub struct SetupModel {
    /// Compatibility scan (also the whole of a scan-only run); default normal(10m, 3m),
    /// at least 2m.
    pub compat_scan: Dist,
    /// Downlevel phase (online, user can work); default normal(45m, 15m), at least 10m.
    pub downlevel: Dist,
    /// The restart into SafeOS; default fixed 2m.
    pub restart: Dist,
    /// SafeOS phase (offline); default normal(10m, 3m), at least 3m.
    pub safeos: Dist,
    /// First boot (offline); default normal(12m, 4m), at least 3m.
    pub first_boot: Dist,
    /// Second boot / OOBE (offline); default normal(8m, 3m), at least 2m.
    pub second_boot: Dist,
    /// Rollback to the previous OS after a failure past the first restart; default
    /// normal(40m, 10m), at least 10m.
    pub rollback: Dist,
    /// Probability of a random driver/migration failure after the restart (rolls back);
    /// default 0.
    pub random_rollback: f64,
    /// Duration of steps that have no model of their own ("timed only" steps); default
    /// fixed 30s.
    pub default_step: Dist,
}
