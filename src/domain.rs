//! The vocabulary the domain layers share: distributions, weighted choices, machine
//! attributes (architecture, OS, power, network), the fleet and site descriptions and
//! Windows Setup's parameters.
//!
//! A leaf: it imports nothing of the crate but [`crate::engine`]'s time. The scenario
//! reader fills these types; `fleet`, `setup`, `tasksequence` and `sim` read them,
//! so none of those needs the reader (`crate::scenario`) to name them. They are
//! re-exported from `scenario::model`, where a scenario holds them.
//!
//! Sampling a [`Dist`] never returns a negative or non-finite value for the
//! quantities of this product (durations, sizes): a draw below zero is clamped to 0,
//! which is what a truncated normal of a duration means in practice.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal};

use crate::engine::time::SimTime;

/// A probability distribution of a quantity in base units (microseconds for durations,
/// bytes for sizes, plain numbers otherwise). Parsing lives in `input::dist`.
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

/// The Windows release an OS upgrade package installs (`[[content]] os`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum WindowsRelease {
    /// Windows 10 (the default: every package before issue 16 was one).
    #[default]
    Win10,
    /// Windows 11: Setup's compatibility scan checks the hardware requirements.
    Win11,
}

/// The Trusted Platform Module a client has (`Win32_Tpm.SpecVersion`, inventoried
/// as `v_GS_TPM.SpecVersion0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tpm {
    /// TPM 2.0 (what Windows 11 requires).
    V20,
    /// TPM 1.2.
    V12,
    /// No TPM, or one that is disabled in the firmware.
    None,
}

/// How a client boots (`v_GS_FIRMWARE.UEFI0` and `SecureBoot0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Firmware {
    /// UEFI with Secure Boot on.
    UefiSecureBoot,
    /// UEFI, Secure Boot off.
    Uefi,
    /// Legacy BIOS (or UEFI in CSM mode).
    Bios,
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
    /// TPM; default `{ "2.0" = 1 }` (every machine eligible for Windows 11).
    pub tpm: Weights<Tpm>,
    /// Firmware; default `{ uefi_secure_boot = 1 }`.
    pub firmware: Weights<Firmware>,
    /// Share of clients whose processor is on Windows 11's supported list (default 1).
    pub cpu_supported: f64,
    /// Size of the system drive, bytes; default fixed 256 GB.
    pub system_drive: Dist,
    /// `inventory = "devices.csv"`: the real fleet, one client per row; the
    /// attributes it does not give are drawn from the weights above.
    pub inventory: Option<std::sync::Arc<Inventory>>,
    /// `exact_shares = true`: every weighted attribute and share is assigned in exact
    /// proportions (largest remainder) instead of drawn independently per client, so
    /// `network = { wired = 0.5, vpn = 0.5 }` over 100 clients gives exactly 50 and 50.
    /// Assignment goes through a fixed permutation per attribute, so attributes stay
    /// uncorrelated. Default false.
    pub exact_shares: bool,
}

/// A fleet read from an inventory file (`fleet::inventory` reads it): one client
/// per row, in file order, each attribute `None` where the file has no column for
/// it or the cell is empty (then it is drawn from the `[fleet]` weights).
///
/// Packed for millions of rows: names in one string, a column absent from the file
/// costs nothing per row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inventory {
    /// The file it was read from (for messages and the README's query).
    pub path: std::path::PathBuf,
    /// Every device name, concatenated; `name_ends[i]` is where row `i`'s ends.
    pub names: String,
    /// End offsets into `names`, one per row.
    pub name_ends: Vec<u32>,
    /// Per-row values, one entry per row.
    pub rows: Vec<InventoryRow>,
    /// Distinct models in first-seen order (`InventoryRow::model` indexes it).
    pub models: Vec<String>,
    /// Distinct LCIDs in first-seen order (`InventoryRow::language` indexes it).
    pub languages: Vec<u32>,
    /// Distinct subnets as written, in first-seen order (`InventoryRow::subnet`
    /// indexes it): BranchCache shares within a subnet.
    pub subnets: Vec<String>,
}

impl Inventory {
    /// Number of devices.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the file had no device row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The name of device `i` (empty past the end).
    pub fn name(&self, i: usize) -> &str {
        let end = self.name_ends.get(i).map_or(0, |&e| e as usize);
        let start = match i.checked_sub(1) {
            Some(j) => self.name_ends.get(j).map_or(0, |&e| e as usize),
            None => 0,
        };
        self.names.get(start..end).unwrap_or("")
    }
}

/// One inventory row: `None` is "not in the file" (drawn from the weights).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct InventoryRow {
    /// Index into `Scenario::sites`.
    pub site: Option<u16>,
    /// Index into [`Inventory::subnets`].
    pub subnet: Option<u32>,
    /// Architecture.
    pub arch: Option<Arch>,
    /// Index into [`Inventory::languages`].
    pub language: Option<u8>,
    /// OS before the upgrade.
    pub os: Option<OsVersion>,
    /// Index into [`Inventory::models`].
    pub model: Option<u16>,
    /// Free disk on the system drive, bytes.
    pub free_disk: Option<u64>,
    /// Physical memory, bytes.
    pub memory: Option<u64>,
    /// Processor speed, MHz.
    pub cpu_mhz: Option<u32>,
    /// Network type.
    pub network: Option<NetType>,
    /// Power state.
    pub power: Option<Power>,
    /// TPM.
    pub tpm: Option<Tpm>,
    /// Firmware.
    pub firmware: Option<Firmware>,
    /// Processor on Windows 11's list.
    pub cpu_supported: Option<bool>,
    /// System drive size, bytes.
    pub system_drive: Option<u64>,
    /// Has an application that blocks setup.
    pub incompatible_app: Option<bool>,
    /// Has a driver that makes setup roll back.
    pub incompatible_driver: Option<bool>,
    /// Third-party disk encryption.
    pub third_party_encryption: Option<bool>,
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
    /// `subnets`: the site's clients are spread over this many subnets (at least 1),
    /// round robin in client order within the site: the `k`-th client of the site
    /// stands in subnet `k mod subnets`. BranchCache shares blocks within a subnet.
    pub subnets: u32,
    /// `branchcache`: BranchCache distributed cache mode for the site's clients.
    pub branchcache: bool,
    /// `peer_cache`: ConfigMgr peer cache sources among the site's clients.
    pub peer_cache: Option<PeerCache>,
}

/// `[[sites]] peer_cache`: which of a boundary group's clients are ConfigMgr peer
/// cache sources, and how many peers each serves at once.
///
/// A source rejects a request when "there are no more available connections to the
/// computer" (and in low battery mode), and the client then goes on down its list of
/// content locations:
/// <https://learn.microsoft.com/en-us/mem/configmgr/core/plan-design/hierarchy/client-peer-cache>
/// ("Limited access to a peer cache source").
#[derive(Debug, Clone, PartialEq)]
pub struct PeerCache {
    /// Which clients are sources.
    pub sources: PeerSources,
    /// Peers a source serves at once; a request beyond that is rejected.
    pub max_connections: u32,
    /// `precache`: the sources download the deployment's content as soon as they
    /// have its policy, whatever the deployment's own pre-cache setting, as a
    /// deployment of the content to the sources' collection does. A source serves
    /// only what it holds whole, so sources that get the content when their own
    /// users click Install come too late for most of their peers; seeding them
    /// first is the usual practice ("The content you want to have available for
    /// peer caching must be fully deployed to the peer cache sources [...] before
    /// it becomes available for other clients",
    /// <https://www.deploymentresearch.com/setup-peer-cache-in-configmgr-current-branch/>).
    pub precache: bool,
}

/// The peer cache sources of a site.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerSources {
    /// This share of the site's clients (`sources = 0.05`), rounded to the nearest
    /// whole number of clients: the site's clients whose position in the site, in
    /// client order, falls on an evenly spaced grid.
    Share(f64),
    /// These client ids (`sources = [12, 40]`); an id of another site's client is
    /// not a source of this one.
    Clients(Vec<u64>),
}

/// Boundary-group fallback: after `after` without content, use these DPs.
#[derive(Debug, Clone, PartialEq)]
pub struct Fallback {
    /// Wait before falling back (ConfigMgr default 120 minutes, NOTES.md).
    pub after: SimTime,
    /// Indices into `Scenario::distribution_points`.
    pub distribution_points: Vec<usize>,
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

impl Dist {
    /// Draws one value (base units), never negative or NaN.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let x = match self {
            Dist::Fixed(v) => *v,
            Dist::Uniform { min, max } => {
                if max > min {
                    min + (max - min) * unit_f64(rng)
                } else {
                    *min
                }
            }
            Dist::Exponential { mean } => match Exp::new(1.0 / mean) {
                Ok(e) => e.sample(rng),
                Err(_) => *mean,
            },
            Dist::Normal { mean, sd, min, max } => {
                let mut x = match Normal::new(*mean, *sd) {
                    Ok(n) => n.sample(rng),
                    Err(_) => *mean,
                };
                if let Some(lo) = min {
                    x = x.max(*lo);
                }
                if let Some(hi) = max {
                    x = x.min(*hi);
                }
                x
            }
            Dist::LogNormal { median, sigma } => match LogNormal::new(median.ln(), *sigma) {
                Ok(l) => l.sample(rng),
                Err(_) => *median,
            },
            Dist::Empirical { values } => {
                let i = ((values.len() as f64) * unit_f64(rng)) as usize;
                values
                    .get(i.min(values.len().saturating_sub(1)))
                    .copied()
                    .unwrap_or(0.0)
            }
        };
        if x.is_finite() && x > 0.0 { x } else { 0.0 }
    }

    /// The distribution's mean (base units), for reports and sanity checks.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Exponential { mean } => *mean,
            Dist::Normal { mean, .. } => *mean,
            Dist::LogNormal { median, sigma } => median * (sigma * sigma / 2.0).exp(),
            Dist::Empirical { values } => values.iter().sum::<f64>() / values.len() as f64,
        }
    }
}

/// Uniform on [0, 1) with 53 random bits.
fn unit_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}
