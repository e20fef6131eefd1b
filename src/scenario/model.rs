//! The resolved scenario: what the simulator, the load tester and every report read.
//!
//! This is the "high-level config" of the ripgrep pattern: the parser (`scenario::parse`)
//! reads TOML into these types after checking every value, resolving names to indices
//! and filling defaults, so nothing downstream re-validates or looks things up by name.
//! Defaults are documented on each field with their source in the domain reference
//! (`shared/domain/NOTES.md`, the ConfigMgr article).

use std::path::PathBuf;

pub use crate::calendar::Calendar;
pub use crate::domain::{
    Arch, Dist, Fallback, Firmware, Fleet, Inventory, InventoryRow, NetType, OsVersion, PeerCache,
    PeerSources, Power, SetupModel, Site, Tpm, UpdatesMode, Weights, WindowsRelease,
};
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
    /// When machines are on, maintenance windows, BITS: `simulation.start`, the
    /// sites' `utc_offset`, `[[power_schedules]]`, `fleet.power_schedule`,
    /// `[[maintenance_windows]]` and `client.bits`.
    pub calendar: Calendar,
    /// `[[targets]]`: conditions on figures of the summary that `run` reports as met
    /// or missed.
    pub targets: Vec<super::targets::Target>,
    /// The `--set KEY=VALUE` overrides it was read with, in order (results record
    /// them so that `merge` can refuse runs of different variants).
    pub overrides: Vec<String>,
    /// Located warnings found while reading (`file:line:col: key: message`): legal
    /// values that are probably a mistake ([`super::check::raw_notes`]).
    pub notes: Vec<String>,
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

impl Scenario {
    /// The view of this scenario that fleet generation reads.
    pub fn population(&self) -> crate::fleet::Population<'_> {
        crate::fleet::Population {
            seed: self.simulation.seed,
            fleet: &self.fleet,
            sites: &self.sites,
        }
    }
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
    /// OS upgrade packages: the Windows release it installs (default Windows 10);
    /// Windows 11 makes Setup check the hardware requirements.
    pub os: WindowsRelease,
    /// Driver packages: the hardware model they are for. Pre-cache (ConfigMgr 1906
    /// and later) downloads a driver package only on clients whose model contains
    /// this text, as its `Win32_ComputerSystemProduct.Name LIKE '%model%'` query
    /// does, ignoring case (<https://learn.microsoft.com/mem/configmgr/osd/deploy-use/configure-precache-content>).
    pub model: Option<String>,
}

impl Content {
    /// Whether a client of hardware model `client_model` takes this package: true
    /// for every package but a driver package tagged with another model.
    pub fn fits_model(&self, client_model: &str) -> bool {
        match &self.model {
            None => true,
            Some(m) => contains_ignore_case(client_model, m),
        }
    }
}

/// `haystack LIKE '%needle%'`, ignoring ASCII case (WQL's `LIKE` ignores case).
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
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
    /// The task sequence's maximum allowed run time: a required deployment starts
    /// only inside a maintenance window with at least this much left. Default 120
    /// minutes, ConfigMgr's default for a program's "Maximum allowed run time"
    /// (<https://learn.microsoft.com/en-us/mem/configmgr/apps/deploy-use/packages-and-programs>).
    pub max_run_time: SimTime,
    /// The deployment's "Software installation" outside maintenance windows
    /// (default false).
    pub ignore_maintenance_windows: bool,
    /// Share of the machines that are off at the deadline of a required deployment
    /// that a wake-up packet wakes (default 0: no packets).
    pub wake_up: f64,
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
    /// Machine policy polling interval while on; default 60 minutes, the client
    /// setting's default
    /// (<https://learn.microsoft.com/en-us/mem/configmgr/core/clients/deploy/about-client-settings#client-policy-polling-interval-minutes>);
    /// `policy_poll` defaults to a uniform draw within one interval.
    pub policy_interval: SimTime,
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
