//! The Windows 11 sections of `summary.json`: the readiness table (how many clients
//! Setup would block, by which requirement) and the pre-cache shortfall (content the
//! client cache could not hold). Both are absent from runs they do not concern, so
//! the summaries of other scenarios are unchanged.

use serde::{Deserialize, Serialize};

use crate::setup::readiness::{Cause, Readiness};
use crate::sim::result::{PrecacheShortfall, RunResult};

/// Clients by requirement, in Setup's order (`setup::readiness`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByCause {
    /// 32-bit OS: no Windows 11 package.
    pub architecture: u64,
    /// System drive under 64 GB.
    pub system_drive: u64,
    /// Memory under 4 GB.
    pub memory: u64,
    /// No TPM 2.0.
    pub tpm: u64,
    /// Processor not supported.
    pub processor: u64,
    /// Not UEFI with Secure Boot.
    pub firmware: u64,
}

impl ByCause {
    fn of(counts: &[u64; 6]) -> Self {
        let [architecture, system_drive, memory, tpm, processor, firmware] = *counts;
        ByCause {
            architecture,
            system_drive,
            memory,
            tpm,
            processor,
            firmware,
        }
    }

    /// The counts in Setup's order, with their causes.
    pub fn iter(&self) -> impl Iterator<Item = (Cause, u64)> {
        let v = [
            self.architecture,
            self.system_drive,
            self.memory,
            self.tpm,
            self.processor,
            self.firmware,
        ];
        Cause::ALL.into_iter().zip(v)
    }

    fn add(&mut self, o: &ByCause) {
        self.architecture += o.architecture;
        self.system_drive += o.system_drive;
        self.memory += o.memory;
        self.tpm += o.tpm;
        self.processor += o.processor;
        self.firmware += o.firmware;
    }
}

/// `windows11_readiness`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessJson {
    /// Clients checked.
    pub clients: u64,
    /// Clients meeting every requirement.
    pub eligible: u64,
    /// Clients Setup blocks with 0xC1900200 (or that have no package: x86).
    pub blocked: u64,
    /// Blocked clients by their first cause in Setup's order (adds up to `blocked`).
    pub first_cause: ByCause,
    /// Clients missing each requirement (a client missing two counts under both).
    pub any_cause: ByCause,
}

/// One row of `precache_shortfall`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortfallJson {
    /// Content id.
    pub content: String,
    /// Its size, bytes.
    pub size_bytes: u64,
    /// Clients that could not pre-cache it: their cache was too small.
    pub clients: u64,
    /// A client cache of this size would have held it for all of them, bytes.
    pub cache_needed_bytes: u64,
}

/// Both sections from the records they are made of (for `validate`, which has no
/// run result).
pub fn sections(
    r: Option<&Readiness>,
    s: &[PrecacheShortfall],
) -> (Option<ReadinessJson>, Vec<ShortfallJson>) {
    (r.map(json), s.iter().map(shortfall_json).collect())
}

/// The readiness section of a run.
pub fn readiness_of(r: &RunResult) -> Option<ReadinessJson> {
    r.readiness.as_ref().map(json)
}

fn json(x: &Readiness) -> ReadinessJson {
    ReadinessJson {
        clients: x.clients,
        eligible: x.eligible,
        blocked: x.blocked(),
        first_cause: ByCause::of(&x.first_cause),
        any_cause: ByCause::of(&x.any_cause),
    }
}

/// The pre-cache shortfall section of a run.
pub fn shortfall_of(r: &RunResult) -> Vec<ShortfallJson> {
    r.precache_shortfall.iter().map(shortfall_json).collect()
}

fn shortfall_json(x: &PrecacheShortfall) -> ShortfallJson {
    ShortfallJson {
        content: x.content.clone(),
        size_bytes: x.size,
        clients: x.clients,
        cache_needed_bytes: x.cache_needed,
    }
}

/// Adds `from` into `into` (merging shards: counts add, the cache needed is the
/// largest).
pub fn merge(
    into: &mut (Option<ReadinessJson>, Vec<ShortfallJson>),
    from: (&Option<ReadinessJson>, &[ShortfallJson]),
) {
    if let Some(f) = from.0 {
        let t = into.0.get_or_insert_with(ReadinessJson::default);
        t.clients += f.clients;
        t.eligible += f.eligible;
        t.blocked += f.blocked;
        t.first_cause.add(&f.first_cause);
        t.any_cause.add(&f.any_cause);
    }
    for s in from.1 {
        match into.1.iter_mut().find(|x| x.content == s.content) {
            Some(t) => {
                t.clients += s.clients;
                t.cache_needed_bytes = t.cache_needed_bytes.max(s.cache_needed_bytes);
            }
            None => into.1.push(s.clone()),
        }
    }
}

/// Lines for the terminal (and `validate`): the readiness table and the shortfall,
/// nothing when neither applies.
pub fn lines(readiness: Option<&ReadinessJson>, shortfall: &[ShortfallJson]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(r) = readiness {
        let pct = |n: u64| 100.0 * n as f64 / r.clients.max(1) as f64;
        out.push(format!(
            "Windows 11 readiness: {} of {} clients eligible ({:.1}%), {} below the \
             requirements (by first cause, in Setup's order):",
            r.eligible,
            r.clients,
            pct(r.eligible),
            r.blocked
        ));
        for ((cause, first), (_, any)) in r.first_cause.iter().zip(r.any_cause.iter()) {
            if any > 0 {
                out.push(format!(
                    "  {:<32} {:>8} first cause, {:>8} in all",
                    cause.requirement(),
                    first,
                    any
                ));
            }
        }
    }
    for s in shortfall {
        out.push(format!(
            "pre-cache: {} clients could not pre-cache {} ({:.2} GB): it does not fit their \
             client cache; a cache of {} MB would (downloaded on demand instead)",
            s.clients,
            s.content,
            s.size_bytes as f64 / 1e9,
            s.cache_needed_bytes.div_ceil(1 << 20)
        ));
    }
    out
}
