//! What a study will cost before it starts: disk, memory and CPU time, estimated
//! from the scenarios and the number of runs, so that `--replications 4294967295` or
//! a sweep of a million points is refused with the estimate in the message (as a
//! fleet too large for memory is) instead of filling the disk or the memory hours in.
//!
//! The figures are estimates from the shape of the output, not measurements:
//!
//! - disk: every run writes `bandwidth.csv` (one row of about
//!   [`BANDWIDTH_ROW_BYTES`] per link and `bandwidth_interval`), `timeline.csv`, a
//!   dozen small files (a file-system block each), and `clients.csv` with
//!   `--per-client`; every point (or the merged result) adds the same again plus its
//!   plots ([`PLOTS_BYTES`]);
//! - memory: the runs in flight (one per worker thread, each holding its fleet:
//!   [`crate::sim::bytes_per_client`]) plus the study's bookkeeping per run and per
//!   point;
//! - time: about [`EVENTS_PER_CLIENT`] events per client at [`EVENTS_PER_SECOND`], the
//!   engine's measured speed (README, Performance).

use std::path::Path;

use crate::output::outdir;
use crate::scenario::model::Scenario;

/// Bytes of one `bandwidth.csv` row (`time_s,dp,bps,active_downloads,queued`).
pub const BANDWIDTH_ROW_BYTES: u64 = 24;
/// Bytes of one `timeline.csv` row.
pub const TIMELINE_ROW_BYTES: u64 = 10;
/// Small files of a run folder (summary, failures, steps, links, marks, five
/// histograms, the marker), each taking at least a file-system block.
const SMALL_FILES: u64 = 12;
const BLOCK: u64 = 4096;
/// Bytes of one `clients.csv` row.
pub const CLIENT_ROW_BYTES: u64 = 120;
/// Bytes of a folder's `plots/` (five charts as SVG and PNG).
pub const PLOTS_BYTES: u64 = 1_500_000;
/// Events per simulated client (about 9.6 per client for the 1M-client benchmark).
pub const EVENTS_PER_CLIENT: f64 = 10.0;
/// Events per second of one thread.
pub const EVENTS_PER_SECOND: f64 = 2.5e6;
/// Memory the study keeps per run (job, state, unit list) and per point (a resolved
/// scenario).
const MEMORY_PER_RUN: u64 = 64;
const MEMORY_PER_POINT: u64 = 64 * 1024;

/// What a study is estimated to take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Runs this process makes.
    pub runs: u64,
    /// Bytes written.
    pub disk: u64,
    /// Peak bytes of memory.
    pub memory: u64,
    /// CPU seconds.
    pub cpu_s: f64,
    /// Worker threads.
    pub threads: u64,
}

/// Bytes of one run's folder (without plots).
pub fn run_disk(s: &Scenario, per_client: bool) -> u64 {
    let buckets = s
        .simulation
        .horizon
        .div_ceil(s.simulation.bandwidth_interval.max(1));
    let links = (s.distribution_points.len() + s.sites.len()) as u64;
    let clients = if per_client {
        s.fleet.clients.saturating_mul(CLIENT_ROW_BYTES)
    } else {
        0
    };
    buckets
        .saturating_mul(links.saturating_mul(BANDWIDTH_ROW_BYTES) + TIMELINE_ROW_BYTES)
        .saturating_add(SMALL_FILES * BLOCK)
        .saturating_add(clients)
}

/// Bytes of memory one run of `s` holds.
pub fn run_memory(s: &Scenario) -> u64 {
    crate::sim::bytes_per_client(s, 32).saturating_mul(s.fleet.clients)
}

/// CPU seconds of one run of `s`.
pub fn run_cpu(s: &Scenario) -> f64 {
    s.fleet.clients as f64 * EVENTS_PER_CLIENT / EVENTS_PER_SECOND + 0.01
}

impl Budget {
    /// A study of `points` points like `s` (the largest of them, when they differ),
    /// `runs` of which this process runs, on `threads` workers.
    pub fn study(s: &Scenario, points: u64, runs: u64, per_client: bool, threads: u64) -> Budget {
        let threads = threads.max(1);
        let disk = runs
            .saturating_mul(run_disk(s, per_client))
            .saturating_add(points.saturating_mul(run_disk(s, false) + PLOTS_BYTES));
        let memory = run_memory(s)
            .saturating_mul(threads.min(runs.max(1)))
            .saturating_add(runs.saturating_mul(MEMORY_PER_RUN))
            .saturating_add(points.saturating_mul(MEMORY_PER_POINT));
        Budget {
            runs,
            disk,
            memory,
            cpu_s: runs as f64 * run_cpu(s),
            threads,
        }
    }

    /// One run of `s` with its plots (`fleetsim run`, `load`).
    pub fn single(s: &Scenario, per_client: bool) -> Budget {
        Budget {
            runs: 1,
            disk: run_disk(s, per_client).saturating_add(PLOTS_BYTES),
            memory: run_memory(s),
            cpu_s: run_cpu(s),
            threads: 1,
        }
    }

    /// The estimate in words.
    pub fn describe(&self) -> String {
        format!(
            "{} run(s): about {} on disk, {} of memory and {} of CPU time ({} on {} thread(s))",
            self.runs,
            bytes(self.disk),
            bytes(self.memory),
            duration(self.cpu_s),
            duration(self.cpu_s / self.threads as f64),
            self.threads
        )
    }

    /// `Err` with the estimate when it does not fit in the memory available or in the
    /// free space of the file system that will hold `out`.
    pub fn check(&self, out: &Path) -> Result<(), String> {
        let memory = crate::sim::available_memory();
        if self.memory > memory {
            return Err(format!(
                "{}; this machine has {} of memory available",
                self.describe(),
                bytes(memory)
            ));
        }
        self.check_disk(out)
    }

    /// [`check`](Self::check) for the disk alone (a single run's memory is checked by
    /// the simulator itself, exactly).
    pub fn check_disk(&self, out: &Path) -> Result<(), String> {
        if let Some(free) = outdir::free_bytes(out).filter(|&f| self.disk > f) {
            return Err(format!(
                "{}; {} has {} free",
                self.describe(),
                outdir::parent_of(out).display(),
                bytes(free)
            ));
        }
        Ok(())
    }
}

/// A byte count for messages.
pub fn bytes(b: u64) -> String {
    match b {
        b if b >= 1_000_000_000_000 => format!("{:.1} TB", b as f64 / 1e12),
        b if b >= 1_000_000_000 => format!("{:.1} GB", b as f64 / 1e9),
        b => format!("{:.1} MB", b as f64 / 1e6),
    }
}

/// Seconds for messages: `40 s`, `3.2 h`, `12.5 years`.
pub fn duration(s: f64) -> String {
    match s {
        s if s >= 3.15e7 => format!("{:.1} years", s / 3.15e7),
        s if s >= 86_400.0 => format!("{:.1} days", s / 86_400.0),
        s if s >= 3_600.0 => format!("{:.1} h", s / 3_600.0),
        s if s >= 60.0 => format!("{:.1} min", s / 60.0),
        s => format!("{s:.0} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        let text = "[simulation]\nhorizon = \"14d\"\nbandwidth_interval = \"5m\"\n[fleet]\nclients = 5000\n[[distribution_points]]\nname = \"DP\"\nbandwidth = \"1Gbps\"\n[[content]]\nid = \"P\"\nkind = \"package\"\nsize = \"1MB\"\n[task_sequence]\n[[task_sequence.steps]]\ntype = \"download\"\nname = \"D\"\ncontent = [\"P\"]\n";
        crate::scenario::load_str(text, Path::new("t.toml"), Path::new("."), &[])
            .expect("valid scenario")
    }

    #[test]
    fn a_run_folder_is_its_buckets_and_a_few_blocks() {
        let s = scenario();
        // 4032 buckets x (2 links x 24 + 10) + 12 blocks: what `run` writes for such a
        // scenario is 161 KB of bandwidth.csv and 33 KB of timeline.csv.
        assert_eq!(run_disk(&s, false), 4032 * 58 + 12 * 4096);
        assert_eq!(run_disk(&s, true) - run_disk(&s, false), 5000 * 120);
    }

    #[test]
    fn four_billion_replications_do_not_fit() {
        let s = scenario();
        let b = Budget::study(&s, 1, u64::from(u32::MAX), false, 2);
        assert!(b.disk > 1_000_000_000_000_000, "{b:?}");
        let e = b.check(&std::env::temp_dir()).unwrap_err();
        assert!(e.starts_with("4294967295 run(s): about"), "{e}");
        assert!(e.contains("PB") || e.contains("TB"), "{e}");
        assert!(
            Budget::study(&s, 3, 6, false, 2)
                .check(&std::env::temp_dir())
                .is_ok()
        );
    }
}
