//! The on-disk layout of a study, its manifest, replication seeds and shards.
//!
//! A study is a grid of points times R replications; each (point, replication) pair
//! is one *unit*, one ordinary simulation. Units are numbered `point * R + r`.
//!
//! ```text
//! OUT/study.json                           the manifest (what was asked; no results)
//! OUT/scenario.toml                        the scenario file, as read
//! OUT/sweep.csv                            sweep: one row per point, mean and ci95
//! OUT/points/<p>/                          sweep: point p, a merged result folder
//! OUT/points/<p>/replications/rep-<r>/     sweep: unit (p, r), a `run` result folder
//! OUT/summary.json, ..., replications.csv  run --replications: the merged result
//! OUT/replications/rep-<r>/                run --replications: unit r
//! ```
//!
//! Every merged figure is rebuilt from the unit folders, never from memory, so a
//! study run whole and the same study run as shards and joined by `fleetsim merge`
//! are built by the same code from the same bytes and come out identical. A shard
//! folder holds only its own units (and the manifest with its shard number); the
//! merged folders and CSVs appear once every unit is present.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::grid::Vary;
use crate::diag::Diagnostic;
use crate::engine::rng;

/// File name of the manifest.
pub const MANIFEST: &str = "study.json";
/// Format number of the manifest; bumped when the layout changes.
pub const FORMAT: u32 = 1;

/// What a study folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StudyKind {
    /// `fleetsim sweep`: points under `points/`.
    Sweep,
    /// `fleetsim run --replications`: one point, the folder itself.
    Replications,
}

/// One share of the units: `--shard I/N` runs the units whose number is `I - 1`
/// modulo `N`. Interleaving (rather than contiguous blocks) spreads expensive points
/// (large fleets at one end of a range) evenly over the shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based share number.
    pub index: u32,
    /// Number of shares.
    pub count: u32,
}

impl Shard {
    /// Parses `I/N` (1 <= I <= N).
    pub fn parse(raw: &str) -> Result<Shard, Diagnostic> {
        let bad = |m: &str| Diagnostic {
            file: format!("<--shard {raw}>").into(),
            line: 0,
            column: 0,
            key: String::new(),
            message: m.to_string(),
        };
        let (i, n) = raw
            .split_once('/')
            .ok_or_else(|| bad("expected I/N, e.g. 2/8 (the second of eight shares)"))?;
        let i: u32 = i
            .trim()
            .parse()
            .map_err(|_| bad("I is not a whole number"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| bad("N is not a whole number"))?;
        if n == 0 || i == 0 || i > n {
            return Err(bad("expected 1 <= I <= N"));
        }
        Ok(Shard { index: i, count: n })
    }

    /// Whether this share runs unit `u`.
    pub fn owns(&self, u: u64) -> bool {
        u % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// `study.json`: everything needed to tell whether two shards belong to the same
/// study and to rebuild its folders. Holds no result, so every shard writes the same
/// manifest apart from `shard`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version, [`FORMAT`].
    pub format: u32,
    /// Sweep or replications.
    pub kind: StudyKind,
    /// Scenario name.
    pub scenario: String,
    /// FNV-1a 64 of the scenario file's bytes, hex: shards of different scenario
    /// versions must not be merged.
    pub scenario_hash: String,
    /// The `--set` overrides, in order (a `--seed` is the last, as `simulation.seed`).
    pub set: Vec<String>,
    /// The varied keys and their values (empty for replications).
    pub vary: Vec<Vary>,
    /// Replications per point.
    pub replications: u32,
    /// The share this folder holds; `None` when it holds every unit.
    pub shard: Option<Shard>,
    /// fleetsim version that wrote it.
    pub version: String,
    /// The folder lacks units: the study was stopped by Ctrl-C, or joined by
    /// `merge --allow-partial` with units missing. Absent (false) when complete, so a
    /// complete study's manifest is the same as before partial folders existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// What a partial folder holds and lacks; absent when complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Completion>,
}

impl Manifest {
    /// The manifest with the shard and completeness cleared: equal for every shard of
    /// one study, partial or not.
    pub fn whole(&self) -> Manifest {
        Manifest {
            shard: None,
            partial: false,
            completion: None,
            ..self.clone()
        }
    }
}

/// What happens to a unit that Ctrl-C stops mid-run, as the manifest records it.
pub const PARTIAL_POLICY: &str = "finished units only: a unit stopped mid-run is dropped (half a replication would bias means and intervals); a point with some units is merged from those and marked partial; a point with none is missing";

/// The inventory of a partial study folder, in `study.json`: which units are there,
/// which are not and why, so that nobody mistakes a partial mean for a full one and a
/// later `merge` knows what to look for. Units are named by their folder relative to
/// the study folder (`points/3/replications/rep-1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    /// What was done with units stopped mid-run ([`PARTIAL_POLICY`]).
    pub policy: String,
    /// Units this folder should hold (its share of the study).
    pub units_total: u64,
    /// Units present, complete.
    pub units_present: Vec<String>,
    /// Units absent: never started, or stopped mid-run.
    pub units_missing: Vec<String>,
    /// The missing units that were running when the study stopped and were dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units_dropped: Vec<String>,
    /// Points with every replication (whole-study folders only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points_complete: Vec<usize>,
    /// Points merged from some of their replications: their `summary.json` says
    /// `"partial": true` (whole-study folders only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points_partial: Vec<usize>,
    /// Points without any replication: no folder, no row (whole-study folders only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points_missing: Vec<usize>,
}

impl Completion {
    /// The inventory of a folder meant to hold `owned` (unit numbers, ascending) of a
    /// study of `points` points x `reps` replications, of which `present` are there
    /// and `dropped` were stopped mid-run. Point lists are filled for whole-study
    /// folders only (`whole`), where every unit of a point is owned.
    pub fn new(
        kind: StudyKind,
        points: usize,
        reps: u32,
        owned: &[u64],
        present: &BTreeSet<u64>,
        dropped: &BTreeSet<u64>,
        whole: bool,
    ) -> Completion {
        let name = |u: u64| unit_name(kind, u, points, reps);
        let mut c = Completion {
            policy: PARTIAL_POLICY.to_string(),
            units_total: owned.len() as u64,
            units_present: Vec::new(),
            units_missing: Vec::new(),
            units_dropped: dropped.iter().map(|&u| name(u)).collect(),
            points_complete: Vec::new(),
            points_partial: Vec::new(),
            points_missing: Vec::new(),
        };
        for &u in owned {
            if present.contains(&u) {
                c.units_present.push(name(u));
            } else {
                c.units_missing.push(name(u));
            }
        }
        if whole {
            let r = u64::from(reps.max(1));
            for p in 0..points {
                let first = p as u64 * r;
                let n = present.range(first..first + r).count() as u64;
                match n {
                    0 => c.points_missing.push(p),
                    n if n == r => c.points_complete.push(p),
                    _ => c.points_partial.push(p),
                }
            }
        }
        c
    }
}

/// FNV-1a 64 of some bytes, hex: a cheap fingerprint (not a security measure).
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Draw kind of replication seeds in the engine's stream key space.
const KIND_REPLICATION: u32 = 0x5245_504c; // "REPL"

/// Seed of replication `r` of a point whose scenario seed is `base`. The same for every
/// point of a sweep (common random numbers: points differ by what was varied, not by
/// luck). Replication 0 keeps the scenario's own seed, so a one-replication sweep
/// point is exactly `fleetsim run` with the same `--set`.
pub fn replication_seed(base: u64, r: u32) -> u64 {
    use rand::Rng;
    if r == 0 {
        return base;
    }
    rng::stream(base, u64::from(r), rng::purpose(KIND_REPLICATION, 0)).next_u64()
}

/// Folder of point `p` (for printing and merging) given the study's kind and size.
pub fn point_dir(root: &Path, kind: StudyKind, p: usize, points: usize) -> PathBuf {
    match kind {
        StudyKind::Replications => root.to_path_buf(),
        StudyKind::Sweep => root.join("points").join(padded(p, points)),
    }
}

/// The folder of unit `u` relative to the study folder, `/`-separated, as the
/// manifest and messages name it.
pub fn unit_name(kind: StudyKind, u: u64, points: usize, reps: u32) -> String {
    let r = u64::from(reps.max(1));
    let rep = format!(
        "replications/rep-{}",
        padded((u % r) as usize, reps as usize)
    );
    match kind {
        StudyKind::Replications => rep,
        StudyKind::Sweep => format!("points/{}/{rep}", padded((u / r) as usize, points)),
    }
}

/// Folder of replication `r` inside a point folder.
pub fn unit_dir(point_dir: &Path, r: u32, replications: u32) -> PathBuf {
    point_dir
        .join("replications")
        .join(format!("rep-{}", padded(r as usize, replications as usize)))
}

/// `i` zero-padded to the width of `n - 1`, so folder names sort in index order.
fn padded(i: usize, n: usize) -> String {
    let width = n.saturating_sub(1).max(1).to_string().len();
    format!("{i:0width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_units() {
        let shards: Vec<Shard> = (1..=3)
            .map(|i| Shard::parse(&format!("{i}/3")).expect("valid"))
            .collect();
        for u in 0..100u64 {
            assert_eq!(shards.iter().filter(|s| s.owns(u)).count(), 1);
        }
        for bad in ["0/3", "4/3", "1/0", "x/2", "2", "1/-1"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seeds_are_shared_by_points_and_distinct_by_replication() {
        assert_eq!(replication_seed(42, 0), 42);
        let s: Vec<u64> = (0..50).map(|r| replication_seed(42, r)).collect();
        let mut d = s.clone();
        d.sort_unstable();
        d.dedup();
        assert_eq!(d.len(), 50);
        assert_eq!(replication_seed(42, 7), s[7]);
        assert_ne!(replication_seed(43, 7), s[7]);
    }

    #[test]
    fn a_partial_inventory_names_units_by_folder_and_sorts_points() {
        assert_eq!(
            unit_name(StudyKind::Sweep, 7, 12, 3),
            "points/02/replications/rep-1"
        );
        assert_eq!(
            unit_name(StudyKind::Replications, 3, 1, 10),
            "replications/rep-3"
        );
        // 3 points x 2 replications: point 0 whole, point 1 half (its other unit was
        // stopped mid-run), point 2 never started.
        let owned: Vec<u64> = (0..6).collect();
        let c = Completion::new(
            StudyKind::Sweep,
            3,
            2,
            &owned,
            &[0, 1, 2].into(),
            &[3].into(),
            true,
        );
        assert_eq!(c.units_total, 6);
        assert_eq!(c.units_present.len(), 3);
        assert_eq!(
            c.units_missing,
            [
                "points/1/replications/rep-1",
                "points/2/replications/rep-0",
                "points/2/replications/rep-1"
            ]
        );
        assert_eq!(c.units_dropped, ["points/1/replications/rep-1"]);
        assert_eq!(
            (c.points_complete, c.points_partial, c.points_missing),
            (vec![0], vec![1], vec![2])
        );
        // A shard's inventory has no point lists: its points are never whole.
        let c = Completion::new(
            StudyKind::Sweep,
            3,
            2,
            &[1, 3, 5],
            &[1].into(),
            &BTreeSet::new(),
            false,
        );
        assert_eq!((c.units_total, c.units_missing.len()), (3, 2));
        assert!(c.points_complete.is_empty() && c.points_missing.is_empty());
    }

    #[test]
    fn a_complete_manifest_has_no_partial_keys() {
        let m = Manifest {
            format: FORMAT,
            kind: StudyKind::Sweep,
            scenario: "s".into(),
            scenario_hash: fingerprint(b"x"),
            set: Vec::new(),
            vary: Vec::new(),
            replications: 2,
            shard: None,
            version: "0".into(),
            partial: false,
            completion: None,
        };
        let text = serde_json::to_string(&m).expect("serializes");
        assert!(
            !text.contains("partial") && !text.contains("completion"),
            "{text}"
        );
        let back: Manifest = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back, m);
        let p = Manifest {
            partial: true,
            completion: Some(Completion::new(
                StudyKind::Sweep,
                1,
                2,
                &[0, 1],
                &[0].into(),
                &BTreeSet::new(),
                true,
            )),
            ..m.clone()
        };
        let text = serde_json::to_string(&p).expect("serializes");
        assert!(text.contains("\"partial\":true"), "{text}");
        assert_eq!(
            serde_json::from_str::<Manifest>(&text).ok(),
            Some(p.clone())
        );
        assert_eq!(p.whole(), m);
    }

    #[test]
    fn folders_sort_by_index() {
        let root = Path::new("out");
        assert_eq!(
            point_dir(root, StudyKind::Sweep, 7, 12),
            Path::new("out/points/07")
        );
        assert_eq!(point_dir(root, StudyKind::Replications, 0, 1), root);
        assert_eq!(unit_dir(root, 3, 10), Path::new("out/replications/rep-3"));
        assert_eq!(unit_dir(root, 3, 11), Path::new("out/replications/rep-03"));
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
    }
}
