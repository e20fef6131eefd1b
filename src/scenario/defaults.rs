//! Default values of every optional scenario key, in one place so that the parser, the
//! documentation and tests agree. Each value cites its source: the contract
//! (`shared/CONTRACT.md`), the domain notes (`shared/domain/NOTES.md`) or, where the
//! references are silent, the reasoning behind the choice.
//!
//! These are free functions rather than `Default` impls on the model types so that a
//! default is always a deliberate call at the place it applies.

use super::model::{
    Arch, ClientSettings, Dist, DpOption, NetType, NetworkCaps, OsVersion, Power, Purpose,
    SetupModel, Simulation, TransientFailure, UpdatesMode, Weights,
};
use crate::engine::time::{DAY, HOUR, MINUTE, SECOND, SimTime};

/// One mebibyte: ConfigMgr's "MB" for the client cache is 2^20 bytes.
pub const MIB: u64 = 1 << 20;

/// Most download retries (`client.download_retry_count`; the task sequence variable
/// `SMSTSDownloadRetryCount` is held to the same bound when it is read). Retries of a
/// transfer that fails at once all happen at one instant when the retry delay is 0,
/// so the count must be finite and small enough to simulate (issue 13: 65,536 used to
/// wrap a 16-bit counter and retry forever).
pub const MAX_DOWNLOAD_RETRIES: u32 = 65_535;

/// Longest horizon accepted: ten years of 365 days. Longer runs are typing mistakes
/// (`210d` vs `21000d`), and every time in the model stays far from `u64` overflow.
pub const MAX_HORIZON: SimTime = 3650 * DAY;

/// Most clients accepted: client indices are stored as `u32` downstream.
pub const MAX_CLIENTS: u64 = u32::MAX as u64;

/// `[simulation]`: seed 1, horizon 21 days (three weeks covers a deadline of 14 days plus
/// stragglers), one `bandwidth.csv` row per DP per minute (CONTRACT section 3).
pub fn simulation() -> Simulation {
    Simulation {
        seed: 1,
        horizon: 21 * DAY,
        bandwidth_interval: 60 * SECOND,
    }
}

/// `fleet.architecture`: the contract example's 85 % x64.
pub fn architecture() -> Weights<Arch> {
    Weights {
        items: vec![(Arch::X64, 0.85), (Arch::X86, 0.15)],
    }
}

/// `fleet.language`: every client en-US (LCID 1033).
pub fn language() -> Weights<u32> {
    Weights {
        items: vec![(1033, 1.0)],
    }
}

/// `fleet.power`: 80 % on mains, as in the contract example.
pub fn power() -> Weights<Power> {
    Weights {
        items: vec![(Power::Ac, 0.8), (Power::Battery, 0.2)],
    }
}

/// `fleet.network`: the contract example's mix.
pub fn network() -> Weights<NetType> {
    Weights {
        items: vec![
            (NetType::Wired, 0.7),
            (NetType::Wireless, 0.25),
            (NetType::Vpn, 0.05),
        ],
    }
}

/// `fleet.os`: a Windows 7 / 8.1 estate moving to Windows 10 (model.rs).
pub fn os() -> Weights<OsVersion> {
    Weights {
        items: vec![(OsVersion::Win7, 0.6), (OsVersion::Win81, 0.4)],
    }
}

/// `fleet.free_disk`: normal(60 GB, 25 GB) truncated at 1 GB (contract example).
pub fn free_disk() -> Dist {
    Dist::Normal {
        mean: 60e9,
        sd: 25e9,
        min: Some(1e9),
        max: None,
    }
}

/// `fleet.memory`: 8 GiB, above every Check Readiness threshold of the template.
pub fn memory() -> Dist {
    Dist::Fixed((8u64 << 30) as f64)
}

/// `fleet.cpu_mhz`: 2400 MHz, above the template's 1024 MHz check.
pub fn cpu_mhz() -> Dist {
    Dist::Fixed(2400.0)
}

/// `fleet.tpm`: every machine has TPM 2.0 (Windows 11's requirement), so a fleet
/// that says nothing of its TPMs is eligible, as before issue 16.
pub fn tpm() -> Weights<crate::domain::Tpm> {
    Weights {
        items: vec![(crate::domain::Tpm::V20, 1.0)],
    }
}

/// `fleet.firmware`: every machine boots UEFI with Secure Boot (eligible).
pub fn firmware() -> Weights<crate::domain::Firmware> {
    Weights {
        items: vec![(crate::domain::Firmware::UefiSecureBoot, 1.0)],
    }
}

/// `fleet.system_drive`: 256 GB (10^9 bytes), a common business laptop drive and
/// above Windows 11's 64 GB.
pub fn system_drive() -> Dist {
    Dist::Fixed(256e9)
}

/// `fleet.model`: one generic hardware model.
pub fn model() -> Weights<String> {
    Weights {
        items: vec![("Generic PC".to_string(), 1.0)],
    }
}

/// `[network]`: 1 Gbps wired, 150 Mbps wireless, 20 Mbps VPN (contract example).
pub fn network_caps() -> NetworkCaps {
    NetworkCaps {
        wired: 1_000_000_000,
        wireless: 150_000_000,
        vpn: 20_000_000,
    }
}

/// `fallback.after`: ConfigMgr falls back to neighbour boundary groups after 120
/// minutes by default (NOTES.md).
pub const FALLBACK_AFTER: SimTime = 2 * HOUR;

/// `peer_cache.max_connections`: peers one peer cache source serves at once.
///
/// The peer cache page names the rule (a source rejects a request when "there are no
/// more available connections to the computer", configured through the
/// `SMS_WinPEPeerCacheConfig` client settings class) but gives no default number:
/// <https://learn.microsoft.com/en-us/mem/configmgr/core/plan-design/hierarchy/client-peer-cache>.
/// 20 is fleetsim's assumption, not a documented figure: set the value your client
/// settings use.
pub const PEER_CACHE_MAX_CONNECTIONS: u32 = 20;

/// Most subnets one site may have: a client stores its subnet in 16 bits.
pub const MAX_SUBNETS: u32 = 65_535;

/// `max_connections`: a DP supports up to 4,000 client connections (NOTES.md).
pub const MAX_CONNECTIONS: u32 = 4000;

/// Name of the implicit site when a scenario has no `[[sites]]`.
pub const DEFAULT_SITE: &str = "default";

/// `deployment.purpose`.
pub const PURPOSE: Purpose = Purpose::Available;

/// `deployment.dp_option`: ConfigMgr's default "download content locally when needed".
pub const DP_OPTION: DpOption = DpOption::DownloadOnDemand;

/// `deployment.software_updates`: required updates only (ConfigMgr's default).
pub const SOFTWARE_UPDATES: UpdatesMode = UpdatesMode::Required;

/// `deployment.user_start`: log-normal with median 24 h and sigma 1: half the users
/// click Install within a day, with a long tail (contract example).
pub fn user_start() -> Dist {
    Dist::LogNormal {
        median: (24 * HOUR) as f64,
        sigma: 1.0,
    }
}

/// `[client]`: policy within one 60-minute polling cycle, two retries 15 s apart,
/// a 5,120 MB cache and per-network transient failure rates (NOTES.md).
///
/// The cache is 5,120 MiB (5,120 x 2^20 bytes): ConfigMgr sizes the client cache in
/// binary megabytes, so that is what an administrator reading "5120 MB" has.
pub fn client() -> ClientSettings {
    ClientSettings {
        policy_poll: Dist::Uniform {
            min: 0.0,
            max: (60 * MINUTE) as f64,
        },
        download_retry_count: 2,
        download_retry_delay: 15 * SECOND,
        cache_size: 5120 * MIB,
        transient_failure: transient_failure(),
        policy_interval: 60 * MINUTE,
    }
}

/// `client.transient_failure`: one attempt in 1,000 fails on wired, 1 in 50 on
/// wireless, 1 in 20 over VPN. Judgement, not measurement: the ordering matches the
/// notes' advice that clients off the wired network need more retries.
pub fn transient_failure() -> TransientFailure {
    TransientFailure {
        wired: 0.001,
        wireless: 0.02,
        vpn: 0.05,
    }
}

/// A normal distribution of durations given in minutes, truncated below.
fn normal_min(mean: u64, sd: u64, min: u64) -> Dist {
    Dist::Normal {
        mean: (mean * MINUTE) as f64,
        sd: (sd * MINUTE) as f64,
        min: Some((min * MINUTE) as f64),
        max: None,
    }
}

/// `[setup]`: phase durations of Windows Setup. The offline phases (restart, SafeOS,
/// first and second boot) add up to about 32 minutes on average, matching the "about
/// 30 minutes" offline time of Windows 10 1803 (NOTES.md; 1709 took 51). The downlevel
/// phase is online and dominated by copying and migration, 45 minutes on average.
/// No random rollbacks unless the scenario asks for them.
pub fn setup() -> SetupModel {
    SetupModel {
        compat_scan: normal_min(10, 3, 2),
        downlevel: normal_min(45, 15, 10),
        restart: Dist::Fixed((2 * MINUTE) as f64),
        safeos: normal_min(10, 3, 3),
        first_boot: normal_min(12, 4, 3),
        second_boot: normal_min(8, 3, 2),
        rollback: normal_min(40, 10, 10),
        random_rollback: 0.0,
        default_step: Dist::Fixed((30 * SECOND) as f64),
    }
}
