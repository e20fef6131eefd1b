//! The fleet: N clients drawn from the scenario's attribute weights, placed in sites
//! (boundary groups) and assigned a distribution point.
//!
//! Every client draws its attributes from its own random stream keyed by
//! `(seed, client id, FLEET)`, so client 17 is the same machine whatever the fleet
//! size, the thread count or the order of generation; that is what makes sharded and
//! parallel runs reproduce an unsharded one.
//!
//! Per-client state is packed (about 40 bytes: no strings, no maps) because the
//! engine must hold millions of clients; labels are indices into the scenario's
//! weight tables.

use rand::Rng;
use rayon::prelude::*;

pub mod inventory;

use crate::domain::{
    Arch, Firmware, Fleet, InventoryRow, NetType, OsVersion, Power, Site, Tpm, Weights,
};
use crate::engine::rng::{self, StreamRng};

/// What fleet generation reads from a scenario: the `[fleet]` weights, the sites and
/// the root seed. A view rather than the scenario itself, so that this layer needs
/// nothing from the reader above it (`Scenario::population` builds one).
#[derive(Debug, Clone, Copy)]
pub struct Population<'a> {
    /// Root seed of every random stream.
    pub seed: u64,
    /// `[fleet]`.
    pub fleet: &'a Fleet,
    /// `[[sites]]`, whose shares place clients and whose DPs serve them.
    pub sites: &'a [Site],
}

/// Random-stream purposes used by fleet generation (kinds 1..=9 are reserved for it).
pub mod purpose {
    /// Attribute draws.
    pub const ATTRIBUTES: u32 = 1;
    /// Choice of the DP within the site.
    pub const DP_CHOICE: u32 = 2;
}

/// Flags of a client, packed in one byte.
pub mod flags {
    /// Has an application that blocks setup.
    pub const INCOMPATIBLE_APP: u8 = 1;
    /// Has a driver that makes setup roll back.
    pub const INCOMPATIBLE_DRIVER: u8 = 2;
    /// Third-party disk encryption (needs `/ReflectDrivers`).
    pub const ENCRYPTION: u8 = 4;
    /// A laptop (has a battery; `Win32_Battery` has an instance).
    pub const HAS_BATTERY: u8 = 8;
}

/// The Windows 11 hardware attributes of a client, packed in one byte: TPM in bits
/// 0-1, firmware in bits 2-3, processor support in bit 4. Zero is the default
/// machine (TPM 2.0, UEFI with Secure Boot, supported processor), so a fleet that
/// says nothing of them costs nothing and reads as eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hardware(u8);

impl Hardware {
    /// Packs the three attributes.
    pub fn new(tpm: Tpm, firmware: Firmware, cpu_supported: bool) -> Self {
        let t = match tpm {
            Tpm::V20 => 0,
            Tpm::V12 => 1,
            Tpm::None => 2,
        };
        let f = match firmware {
            Firmware::UefiSecureBoot => 0,
            Firmware::Uefi => 1,
            Firmware::Bios => 2,
        };
        Hardware(t | (f << 2) | (u8::from(!cpu_supported) << 4))
    }

    /// The TPM.
    pub fn tpm(self) -> Tpm {
        match self.0 & 3 {
            0 => Tpm::V20,
            1 => Tpm::V12,
            _ => Tpm::None,
        }
    }

    /// The firmware.
    pub fn firmware(self) -> Firmware {
        match (self.0 >> 2) & 3 {
            0 => Firmware::UefiSecureBoot,
            1 => Firmware::Uefi,
            _ => Firmware::Bios,
        }
    }

    /// Whether the processor is on Windows 11's supported list.
    pub fn cpu_supported(self) -> bool {
        self.0 & 16 == 0
    }
}

/// One client's attributes (fixed for the run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAttrs {
    /// Free disk, bytes.
    pub free_disk: u64,
    /// Physical memory, MiB.
    pub memory_mb: u32,
    /// Index into `Scenario::sites`.
    pub site: u16,
    /// Index into `Scenario::distribution_points` of the DP it uses (its site's);
    /// `u16::MAX` when the site has no DP of its own (it will need fallback).
    pub dp: u16,
    /// Processor speed, MHz.
    pub cpu_mhz: u16,
    /// Index into `fleet.model`.
    pub model: u16,
    /// Index into `fleet.language`.
    pub language: u8,
    /// Architecture.
    pub arch: Arch,
    /// Power state.
    pub power: Power,
    /// Network type.
    pub network: NetType,
    /// OS before the upgrade.
    pub os: OsVersion,
    /// See [`flags`].
    pub flags: u8,
    /// TPM, firmware, processor support.
    pub hw: Hardware,
    /// System drive size, MiB (32 bits: up to 4 PiB).
    pub system_drive_mb: u32,
}

// Millions of clients: the Windows 11 attributes live in the padding the struct
// already had (it was 32 bytes before them and still is).
const _: () = assert!(std::mem::size_of::<ClientAttrs>() <= 32);

impl ClientAttrs {
    /// Whether a flag of [`flags`] is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Draws an index from weights with one uniform number.
pub fn pick<T>(w: &Weights<T>, u: f64) -> usize {
    let mut acc = 0.0;
    for (i, (_, p)) in w.items.iter().enumerate() {
        acc += p;
        if u < acc {
            return i;
        }
    }
    // Rounding: the weights sum to 1 within float error; fall back to the last
    // alternative with positive weight.
    w.items.iter().rposition(|(_, p)| *p > 0.0).unwrap_or(0)
}

/// The alternative [`pick`] chooses; `fallback` only for an empty list, which the
/// scenario checker refuses before a run starts.
fn pick_value<T: Copy>(w: &Weights<T>, u: f64, fallback: T) -> T {
    w.items.get(pick(w, u)).map_or(fallback, |x| x.0)
}

fn unit(r: &mut StreamRng) -> f64 {
    (r.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The site of each inventory row that names one (`None` when the fleet is drawn or
/// the file has no `site` column).
fn inventory_site(s: &Population<'_>, id: u64) -> Option<usize> {
    let inv = s.fleet.inventory.as_ref()?;
    inv.rows.get(id as usize)?.site.map(usize::from)
}

/// Number of clients per site: shares times N, rounded by largest remainder so that
/// the counts add up to N exactly (ties go to the earlier site).
pub fn site_counts(s: &Population<'_>) -> Vec<u64> {
    let n = s.fleet.clients;
    let total: f64 = s.sites.iter().map(|x| x.share).sum();
    let exact: Vec<f64> = s.sites.iter().map(|x| x.share / total * n as f64).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut left = n.saturating_sub(counts.iter().sum());
    // Sites by descending remainder (ties to the earlier site).
    let mut order: Vec<(f64, usize)> = exact
        .iter()
        .enumerate()
        .map(|(i, x)| (x - x.floor(), i))
        .collect();
    order.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.1.cmp(&b.1))
    });
    for &(_, i) in order.iter().cycle() {
        if left == 0 {
            break;
        }
        if let Some(c) = counts.get_mut(i) {
            *c += 1;
        }
        left -= 1;
    }
    counts
}

/// The site of every client id: contiguous blocks in site order.
pub fn site_starts(s: &Population<'_>) -> Vec<u64> {
    let mut starts = Vec::with_capacity(s.sites.len() + 1);
    let mut acc = 0;
    starts.push(0);
    for c in site_counts(s) {
        acc += c;
        starts.push(acc);
    }
    starts
}

/// The `k`-th exact-share position of client `id` among `n`: a fixed permutation of
/// `0..n` per attribute (multiplication by a number coprime with `n`), so exact shares
/// of different attributes are not correlated with each other or with client ids.
fn exact_position(id: u64, n: u64, k: u64) -> f64 {
    const MULTS: [u64; 12] = [
        2_654_435_761,
        2_246_822_519,
        3_266_489_917,
        668_265_263,
        374_761_393,
        1_181_783_497,
        2_869_860_233,
        3_432_918_353,
        461_845_907,
        2_042_371_811,
        1_500_450_271,
        3_999_999_979,
    ];
    let n = n.max(1);
    let mut m = MULTS.get(k as usize % MULTS.len()).copied().unwrap_or(1) % n;
    while gcd(m.max(1), n) != 1 {
        m += 1;
    }
    let off = (k.wrapping_mul(0x9E37_79B9) ^ 0x5bd1_e995) % n;
    let pos = ((id as u128 * m.max(1) as u128 + off as u128) % n as u128) as u64;
    // The centre of the position's slot, as a uniform number in (0, 1).
    (pos as f64 + 0.5) / n as f64
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Draws client `id` (which stands in site `site`); an inventory row replaces the
/// draws of the attributes it gives. Every draw is made whatever the row says, so a
/// column added to the inventory changes only its own attribute.
pub fn draw_client(s: &Population<'_>, id: u64, site: usize) -> ClientAttrs {
    let mut a = draw_only(s, id, site);
    if let Some(inv) = &s.fleet.inventory
        && let Some(row) = inv.rows.get(id as usize)
    {
        apply_row(&mut a, row);
    }
    a
}

/// Overwrites the drawn attributes with what an inventory row gives. The row's
/// language and model index the inventory's own lists, which the scenario reader
/// made the fleet's `language` and `model` tables.
fn apply_row(a: &mut ClientAttrs, row: &InventoryRow) {
    if let Some(x) = row.arch {
        a.arch = x;
    }
    if let Some(x) = row.language {
        a.language = x;
    }
    if let Some(x) = row.os {
        a.os = x;
    }
    if let Some(x) = row.model {
        a.model = x;
    }
    if let Some(x) = row.free_disk {
        a.free_disk = x;
    }
    if let Some(x) = row.memory {
        a.memory_mb = (x / 1_048_576).min(u32::MAX as u64) as u32;
    }
    if let Some(x) = row.cpu_mhz {
        a.cpu_mhz = x.min(u16::MAX as u32) as u16;
    }
    if let Some(x) = row.network {
        a.network = x;
    }
    if let Some(x) = row.power {
        a.power = x;
        if x == Power::Battery {
            a.flags |= flags::HAS_BATTERY;
        }
    }
    if row.tpm.is_some() || row.firmware.is_some() || row.cpu_supported.is_some() {
        a.hw = Hardware::new(
            row.tpm.unwrap_or(a.hw.tpm()),
            row.firmware.unwrap_or(a.hw.firmware()),
            row.cpu_supported.unwrap_or(a.hw.cpu_supported()),
        );
    }
    if let Some(x) = row.system_drive {
        a.system_drive_mb = (x / 1_048_576).min(u32::MAX as u64) as u32;
    }
    for (v, flag) in [
        (row.incompatible_app, flags::INCOMPATIBLE_APP),
        (row.incompatible_driver, flags::INCOMPATIBLE_DRIVER),
        (row.third_party_encryption, flags::ENCRYPTION),
    ] {
        match v {
            Some(true) => a.flags |= flag,
            Some(false) => a.flags &= !flag,
            None => {}
        }
    }
}

/// The drawn attributes of client `id`.
fn draw_only(s: &Population<'_>, id: u64, site: usize) -> ClientAttrs {
    let seed = s.seed;
    let f = &s.fleet;
    let mut r = rng::stream(seed, id, rng::purpose(purpose::ATTRIBUTES, 0));
    // One uniform number per attribute: drawn, or an exact-share position.
    let mut k = 0u64;
    let mut share = |r: &mut StreamRng| {
        let u = unit(r);
        k += 1;
        if f.exact_shares {
            exact_position(id, f.clients, k)
        } else {
            u
        }
    };
    let arch = pick_value(&f.architecture, share(&mut r), Arch::X64);
    let language = pick(&f.language, share(&mut r));
    let power = pick_value(&f.power, share(&mut r), Power::Ac);
    let network = pick_value(&f.network, share(&mut r), NetType::Wired);
    let os = pick_value(&f.os, share(&mut r), OsVersion::Win10);
    let model = pick(&f.model, share(&mut r));
    let app = share(&mut r) < f.incompatible_app;
    let driver = share(&mut r) < f.incompatible_driver;
    let encryption = share(&mut r) < f.third_party_encryption;
    let free_disk = f.free_disk.sample(&mut r).round() as u64;
    let memory_mb = (f.memory.sample(&mut r) / 1_048_576.0)
        .round()
        .min(u32::MAX as f64) as u32;
    let cpu_mhz = f.cpu_mhz.sample(&mut r).round().min(u16::MAX as f64) as u16;
    let mut fl = 0u8;
    if app {
        fl |= flags::INCOMPATIBLE_APP;
    }
    if driver {
        fl |= flags::INCOMPATIBLE_DRIVER;
    }
    if encryption {
        fl |= flags::ENCRYPTION;
    }
    // Machines on battery are laptops; a share of those on AC are laptops too.
    if power == Power::Battery || unit(&mut r) < 0.5 {
        fl |= flags::HAS_BATTERY;
    }
    // The Windows 11 attributes come after every earlier draw, so a fleet that
    // existed before them draws the same machines; a constant (the defaults) draws
    // nothing.
    let tpm = if f.tpm.items.len() > 1 {
        pick_value(&f.tpm, share(&mut r), Tpm::V20)
    } else {
        f.tpm.items.first().map_or(Tpm::V20, |x| x.0)
    };
    let firmware = if f.firmware.items.len() > 1 {
        pick_value(&f.firmware, share(&mut r), Firmware::UefiSecureBoot)
    } else {
        f.firmware
            .items
            .first()
            .map_or(Firmware::UefiSecureBoot, |x| x.0)
    };
    let cpu_supported = if f.cpu_supported < 1.0 {
        share(&mut r) < f.cpu_supported
    } else {
        true
    };
    let system_drive_mb = (f.system_drive.sample(&mut r) / 1_048_576.0)
        .round()
        .min(u32::MAX as f64) as u32;
    let dps = s
        .sites
        .get(site)
        .map_or(&[][..], |x| x.distribution_points.as_slice());
    let dp = if dps.is_empty() {
        u16::MAX
    } else {
        let u = rng::uniform01(seed, id, rng::purpose(purpose::DP_CHOICE, 0));
        let i = ((u * dps.len() as f64) as usize).min(dps.len() - 1);
        dps.get(i).map_or(u16::MAX, |&d| d as u16)
    };
    ClientAttrs {
        free_disk,
        memory_mb,
        site: site as u16,
        dp,
        cpu_mhz,
        model: model as u16,
        language: language as u8,
        arch,
        power,
        network,
        os,
        flags: fl,
        hw: Hardware::new(tpm, firmware, cpu_supported),
        system_drive_mb,
    }
}

/// Generates the whole fleet (in parallel; the result does not depend on the number
/// of threads because each client uses only its own stream).
pub fn generate(s: &Population<'_>) -> Vec<ClientAttrs> {
    let starts = site_starts(s);
    (0..s.fleet.clients)
        .into_par_iter()
        .map(|id| {
            let site =
                inventory_site(s, id).unwrap_or_else(|| starts.partition_point(|&st| st <= id) - 1);
            draw_client(s, id, site)
        })
        .collect()
}
