//! Task sequence variables for millions of clients without a map per client.
//!
//! Every variable name the task sequence can read or write is known at compile time
//! (conditions, Set Variable targets, download output variables, built-ins), so each
//! gets a slot. A client's values live in one flat `Vec<u32>` (`clients x slots`) as
//! ids into a shared interner of strings; 0 means "the slot's initial value".
//! Names are case-insensitive, as in ConfigMgr.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::scenario::model::Scenario;
use crate::tasksequence::tree::{Condition, TaskSequence};

/// Built-in variables the engine maintains.
pub(crate) mod builtin {
    /// Return code of the last step that ran.
    pub(crate) const LAST_RET: &str = "_SMSTSLastActionRetCode";
    /// Return code of the last Upgrade Operating System step.
    pub(crate) const UPGRADE_RET: &str = "_SMSTSOSUpgradeActionReturnCode";
    /// `true` after Windows Setup rolled back.
    pub(crate) const ROLLBACK: &str = "_SMSTSSetupRollback";
    /// Download retries.
    pub(crate) const RETRY_COUNT: &str = "SMSTSDownloadRetryCount";
    /// Delay between download retries, seconds.
    pub(crate) const RETRY_DELAY: &str = "SMSTSDownloadRetryDelay";
    /// Extra Windows Setup options.
    pub(crate) const SETUP_OPTIONS: &str = "OSDSetupAdditionalUpgradeOptions";
    /// Slot of [`LAST_RET`] in every table ([`super::VarTable::new`] creates the
    /// built-ins first, in this order), so the per-step write needs no lookup.
    pub(crate) const LAST_RET_SLOT: u16 = 0;
    /// Slot of [`SETUP_OPTIONS`] in every table (see [`LAST_RET_SLOT`]).
    pub(crate) const SETUP_OPTIONS_SLOT: u16 = 3;
}

/// Largest variable table [`VarTable::find`] scans linearly instead of hashing.
const SCAN_MAX: usize = 32;

/// Integer values [`Interner::intern_int`] remembers; return codes are few.
const INT_CACHE_MAX: usize = 64;

/// A word-at-a-time multiply hasher (FxHash) for the interner: values are interned
/// on every step of every client, and SipHash's resistance to chosen keys buys
/// nothing for a scenario's own strings.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        self.0 =
            (self.0.rotate_left(5) ^ u64::from_le_bytes(w) ^ rest.len() as u64).wrapping_mul(K);
    }
}

/// Interned strings; id 0 is reserved for "unset".
#[derive(Debug, Default)]
pub(crate) struct Interner {
    strings: Vec<String>,
    ids: HashMap<String, u32, BuildHasherDefault<FxHasher>>,
    /// Ids of integers interned through [`Interner::intern_int`].
    ints: Vec<(i64, u32)>,
}

impl Interner {
    /// Id of `s` (adding it if new); ids start at 1.
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        self.strings.push(s.to_string());
        let id = self.strings.len() as u32;
        self.ids.insert(s.to_string(), id);
        id
    }

    /// Id of the decimal form of `v`, the same as `intern(&v.to_string())`, without
    /// formatting or hashing for the few return codes a run sees (every step of every
    /// client stores its exit code in `_SMSTSLastActionRetCode`).
    pub(crate) fn intern_int(&mut self, v: i64) -> u32 {
        if let Some(&(_, id)) = self.ints.iter().find(|e| e.0 == v) {
            return id;
        }
        let id = self.intern(&v.to_string());
        if self.ints.len() < INT_CACHE_MAX {
            self.ints.push((v, id));
        }
        id
    }

    /// The string of an id (0 and unknown ids have none).
    pub(crate) fn get(&self, id: u32) -> Option<&str> {
        id.checked_sub(1)
            .and_then(|i| self.strings.get(i as usize))
            .map(|s| s.as_str())
    }
}

/// Variable names, their slots and initial values.
#[derive(Debug)]
pub(crate) struct VarTable {
    slots: HashMap<String, u16>,
    names: Vec<String>,
    initial: Vec<u32>,
    /// Shared string storage for values.
    pub(crate) strings: Interner,
}

impl VarTable {
    /// The built-ins and the task sequence's own variables, with their initial values.
    pub(crate) fn new(s: &Scenario, ts: &TaskSequence) -> Self {
        let mut t = VarTable {
            slots: HashMap::new(),
            names: Vec::new(),
            initial: Vec::new(),
            strings: Interner::default(),
        };
        for b in [
            builtin::LAST_RET,
            builtin::UPGRADE_RET,
            builtin::ROLLBACK,
            builtin::SETUP_OPTIONS,
        ] {
            t.slot(b);
        }
        let rc = s.client.download_retry_count.to_string();
        let rd = (s.client.download_retry_delay / 1_000_000).to_string();
        t.set_initial(builtin::RETRY_COUNT, &rc);
        t.set_initial(builtin::RETRY_DELAY, &rd);
        for (k, v) in &ts.variables {
            t.set_initial(k, v);
        }
        t
    }

    fn set_initial(&mut self, name: &str, value: &str) {
        let slot = self.slot(name);
        let id = self.strings.intern(value);
        self.initial[slot as usize] = id;
    }

    /// The slot of a name, creating it.
    pub(crate) fn slot(&mut self, name: &str) -> u16 {
        let key = name.to_ascii_lowercase();
        if let Some(&s) = self.slots.get(&key) {
            return s;
        }
        let s = self.names.len() as u16;
        self.names.push(name.to_string());
        self.initial.push(0);
        self.slots.insert(key, s);
        s
    }

    /// The slot of a name, if it exists (case-insensitive, no allocation for short names).
    ///
    /// Task sequences name a handful of variables and conditions look them up on every
    /// step of every client, so small tables are scanned in place (length first, then
    /// a case-insensitive compare): profiling showed lower-casing plus SipHash at 22%
    /// of a 1M-client run. Large tables fall back to the map.
    pub(crate) fn find(&self, name: &str) -> Option<u16> {
        if self.names.len() <= SCAN_MAX {
            return self
                .names
                .iter()
                .position(|n| n.len() == name.len() && n.eq_ignore_ascii_case(name))
                .map(|i| i as u16);
        }
        self.find_hashed(name)
    }

    /// [`VarTable::find`] through the map (the reference the scan must agree with).
    fn find_hashed(&self, name: &str) -> Option<u16> {
        let mut buf = [0u8; 96];
        if name.len() <= buf.len() {
            let b = &mut buf[..name.len()];
            b.copy_from_slice(name.as_bytes());
            b.make_ascii_lowercase();
            let key = std::str::from_utf8(b).ok()?;
            self.slots.get(key).copied()
        } else {
            self.slots.get(&name.to_ascii_lowercase()).copied()
        }
    }

    /// Registers every variable a condition reads.
    pub(crate) fn register_condition(&mut self, c: &Condition) {
        match c {
            Condition::Variable { variable, .. } => {
                self.slot(variable);
            }
            Condition::All(v) | Condition::Any(v) | Condition::None(v) => {
                v.iter().for_each(|c| self.register_condition(c))
            }
            _ => {}
        }
    }

    /// Number of slots.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// Initial value id of a slot.
    pub(crate) fn initial(&self, slot: u16) -> u32 {
        self.initial[slot as usize]
    }
}

/// Per-client values: `values[client * stride + slot]`.
#[derive(Debug)]
pub(crate) struct VarStore {
    stride: usize,
    values: Vec<u32>,
}

impl VarStore {
    /// Storage for `clients` clients.
    pub(crate) fn new(clients: usize, table: &VarTable) -> Self {
        VarStore {
            stride: table.len(),
            values: vec![0; clients * table.len()],
        }
    }

    /// Value id of a slot for a client (0: not set by the client, use the initial value).
    pub(crate) fn raw(&self, client: u32, slot: u16) -> u32 {
        self.values[client as usize * self.stride + slot as usize]
    }

    /// Prefetch hint for a client's values.
    pub(crate) fn prefetch(&self, client: u32) {
        if let Some(v) = self.values.get(client as usize * self.stride) {
            crate::engine::prefetch::prefetch(v);
        }
    }

    /// Sets a slot's value id.
    pub(crate) fn set(&mut self, client: u32, slot: u16, id: u32) {
        self.values[client as usize * self.stride + slot as usize] = id;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(n: usize) -> VarTable {
        let mut t = VarTable {
            slots: HashMap::new(),
            names: Vec::new(),
            initial: Vec::new(),
            strings: Interner::default(),
        };
        for i in 0..n {
            t.slot(&format!("Var{i}_MixedCase"));
        }
        t.slot("_SMSTSLastActionRetCode");
        t
    }

    #[test]
    fn scan_and_map_agree_on_small_and_large_tables() {
        for n in [0, 5, SCAN_MAX - 1, SCAN_MAX + 10] {
            let t = table(n);
            let probes = [
                "var0_mixedcase".to_string(),
                format!("VAR{}_MIXEDCASE", n.saturating_sub(1)),
                "_smstslastactionretcode".to_string(),
                "Var_MixedCase".to_string(),
                "missing".to_string(),
                String::new(),
                "x".repeat(200),
            ];
            for p in &probes {
                assert_eq!(t.find(p), t.find_hashed(p), "{n} names, probe {p:?}");
            }
            assert_eq!(t.find("_SMSTSLASTACTIONRETCODE"), Some(n as u16));
            assert_eq!(t.find("missing"), None);
        }
    }

    #[test]
    fn builtin_slots_are_fixed() {
        let text = r#"
[fleet]
clients = 1
[[distribution_points]]
name = "DP1"
bandwidth = "1Gbps"
[task_sequence]
[[task_sequence.steps]]
type = "set_variable"
name = "set"
variable = "Alpha"
value = "x"
"#;
        let s = match crate::scenario::load_str(
            text,
            std::path::Path::new("t.toml"),
            std::path::Path::new("."),
            &[],
        ) {
            Ok(s) => s,
            Err(e) => panic!("test scenario: {e}"),
        };
        let t = VarTable::new(&s, &s.task_sequence);
        assert_eq!(t.find(builtin::LAST_RET), Some(builtin::LAST_RET_SLOT));
        assert_eq!(
            t.find(builtin::SETUP_OPTIONS),
            Some(builtin::SETUP_OPTIONS_SLOT)
        );
    }

    #[test]
    fn intern_int_matches_interning_the_decimal_string() {
        let mut a = Interner::default();
        let mut b = Interner::default();
        let values: Vec<i64> = (0..200)
            .map(|i| {
                [0, 3010, -1, i64::MIN, i64::MAX, 3247440400][i % 6].wrapping_add(i as i64 / 6)
            })
            .collect();
        for (k, &v) in values.iter().enumerate() {
            if k % 7 == 0 {
                // Mix in strings, some of which look like the integers.
                let s = format!("{}", v.wrapping_add(1));
                assert_eq!(a.intern(&s), b.intern(&s));
            }
            assert_eq!(a.intern_int(v), b.intern(&v.to_string()), "value {v}");
            let id = a.intern_int(v);
            assert_eq!(a.get(id), Some(v.to_string().as_str()));
        }
        assert!(a.ints.len() <= INT_CACHE_MAX);
    }
}
