//! What the subcommands share: the stop signals (Ctrl-C, SIGTERM, SIGHUP), messages
//! on stderr that never panic, flag and `--out` errors, located errors for scenarios
//! that cannot run, and `--trace` with its cost estimate. The study commands' own
//! plumbing is in [`super::study`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::diag::{Diagnostic, InputError};
use crate::output::outdir::{self, Claim, OutError};
use crate::scenario::model::Scenario;
use crate::tasksequence::tree::{Node, StepKind};

/// Writes a line to stderr. After SIGHUP the terminal is gone and writes fail; that
/// must not turn a clean stop into a panic (`eprintln!` panics on a failed write).
pub fn note(text: &str) {
    use std::io::Write;
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{text}");
}

/// The stop flag of this process, set by the first SIGINT (Ctrl-C), SIGTERM
/// (`timeout`, `kill`, Kubernetes, Slurm's `scancel`) or SIGHUP (the terminal
/// closed): the command then stops starting work, writes what is finished marked
/// partial, and exits with [`stop_code`]. A second signal exits at once.
///
/// A signal the parent process set to be ignored (`nohup` for SIGHUP, a background
/// job of a script for SIGINT) stays ignored.
pub fn stop_flag() -> Arc<AtomicBool> {
    signals::install()
}

/// The exit code after a stop: 128 + the signal number (130 for Ctrl-C, 143 for
/// SIGTERM, 129 for SIGHUP), as shells report a process killed by that signal.
pub fn stop_code() -> i32 {
    128 + signals::received().unwrap_or(2)
}

/// The signal that stopped the command, for messages (`SIGTERM`).
pub fn stop_name() -> &'static str {
    match signals::received() {
        Some(1) => "SIGHUP",
        Some(15) => "SIGTERM",
        _ => "Ctrl-C",
    }
}

/// Whether `flag` was set (by a signal).
pub fn stopped(flag: &AtomicBool) -> bool {
    flag.load(Ordering::SeqCst)
}

#[cfg(unix)]
mod signals {
    use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
    use std::sync::{Arc, OnceLock};

    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    static RECEIVED: AtomicI32 = AtomicI32::new(0);

    /// Async-signal-safe: atomics only, and `_exit` for the second signal.
    extern "C" fn on_signal(sig: libc::c_int) {
        if RECEIVED
            .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            // SAFETY: _exit is async-signal-safe; temporary folders are left for the
            // next run to remove (their owner is gone).
            unsafe { libc::_exit(128 + sig) };
        }
        if let Some(f) = FLAG.get() {
            f.store(true, Ordering::SeqCst);
        }
    }

    pub fn install() -> Arc<AtomicBool> {
        let flag = FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)));
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                // SAFETY: sigaction with a zeroed struct, an empty mask and a handler
                // that only touches atomics; the old action is read to keep an
                // inherited "ignore".
                unsafe {
                    let mut old: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                        && old.sa_sigaction == libc::SIG_IGN
                    {
                        continue;
                    }
                    let mut sa: libc::sigaction = std::mem::zeroed();
                    sa.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                    libc::sigemptyset(&mut sa.sa_mask);
                    sa.sa_flags = libc::SA_RESTART;
                    libc::sigaction(sig, &sa, std::ptr::null_mut());
                }
            }
        });
        flag.clone()
    }

    pub fn received() -> Option<i32> {
        match RECEIVED.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }
}

#[cfg(not(unix))]
mod signals {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, OnceLock};

    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

    pub fn install() -> Arc<AtomicBool> {
        FLAG.get_or_init(|| {
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            let _ = ctrlc::set_handler(move || {
                if f.swap(true, Ordering::SeqCst) {
                    std::process::exit(130);
                }
            });
            flag
        })
        .clone()
    }

    pub fn received() -> Option<i32> {
        FLAG.get().filter(|f| f.load(Ordering::SeqCst)).map(|_| 2)
    }
}

/// A bad flag value (exit code 2), reported against the command line.
pub fn flag_error(flag: &str, message: impl Into<String>) -> InputError {
    InputError(vec![Diagnostic {
        file: PathBuf::from("<command line>"),
        line: 0,
        column: 0,
        key: flag.to_string(),
        message: message.into(),
    }])
}

/// Claims `--out` for this command ([`outdir::claim`]): refused (exit code 2) when it
/// is not a folder fleetsim may replace, overlaps one of `inputs`, or another process
/// is writing it. Hold the claim until the folder is written.
pub fn claim_out(out: &Path, inputs: &[PathBuf]) -> anyhow::Result<Claim> {
    outdir::check_inputs(out, inputs).map_err(anyhow::Error::from)?;
    Ok(outdir::claim(out)?)
}

/// Whether an error is a refusal of `--out` that is the user's to fix.
pub fn is_out_refusal(e: &anyhow::Error) -> Option<bool> {
    e.chain().find_map(|c| {
        c.downcast_ref::<OutError>()
            .or_else(|| {
                c.downcast_ref::<std::io::Error>()
                    .and_then(outdir::out_error)
            })
            .map(OutError::is_input)
    })
}

/// A scenario that cannot be simulated, located: the key is blamed on the `--set` (or
/// `--vary` point) that gave its value, else on its line in the file.
pub fn sim_error(file: &Path, set: &[String], e: crate::sim::SimError) -> InputError {
    let key = match e {
        crate::sim::SimError::Compile(_) => "task_sequence",
        crate::sim::SimError::TooLarge(_) => "fleet.clients",
    };
    crate::scenario::blame(file, set, key, e.to_string()).into()
}

/// Bytes a traced client adds to memory and to `trace.csv` per row of its trace, and
/// rows per client for each node of its task sequence (entered, started, ended) plus
/// the rows every client has (policy, notification, Install, downloads, the end).
const TRACE_ROW_BYTES: u64 = 160;
const TRACE_ROWS_PER_NODE: u64 = 3;
const TRACE_ROWS_FIXED: u64 = 12;

fn nodes(steps: &[Node]) -> u64 {
    steps
        .iter()
        .map(|n| match &n.kind {
            StepKind::Group { steps } => 1 + nodes(steps),
            StepKind::Download { content, .. } => 1 + content.len() as u64,
            StepKind::InstallApplications { applications, .. } => 1 + applications.len() as u64,
            _ => 1,
        })
        .sum()
}

/// Parses `--trace` (`17`, `0-99`, `1,5,9-12`) for a scenario: ranges are merged
/// before anything is expanded (so `0-999999` given a thousand times costs what it
/// costs once), ids must be clients of the fleet, and the trace must fit: its rows are
/// kept in memory until the end of the run, then written to `trace.csv`, so the
/// estimate is checked against the memory available and the free disk space at
/// `out`, and the message gives it.
pub fn trace_clients(raw: &str, s: &Scenario, out: &Path) -> Result<Vec<u32>, InputError> {
    let bad = |m: String| flag_error("--trace", m);
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let syntax = || {
            bad(format!(
                "bad client list {raw:?}: expected ids and ranges such as 17, 0-99, 1,5,9-12"
            ))
        };
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part, part),
        };
        let (a, b): (u64, u64) = (
            a.parse().map_err(|_| syntax())?,
            b.parse().map_err(|_| syntax())?,
        );
        if b < a {
            return Err(bad(format!("client range {part:?} is empty")));
        }
        if b >= s.fleet.clients {
            return Err(bad(format!(
                "client {b} does not exist: the fleet has {} clients (ids 0 to {})",
                s.fleet.clients,
                s.fleet.clients.saturating_sub(1)
            )));
        }
        ranges.push((a, b));
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let count: u64 = merged.iter().map(|(a, b)| b - a + 1).sum();
    let rows = nodes(&s.task_sequence.steps) * TRACE_ROWS_PER_NODE + TRACE_ROWS_FIXED;
    let bytes = count.saturating_mul(rows).saturating_mul(TRACE_ROW_BYTES);
    let memory = crate::sim::available_memory();
    let disk = outdir::free_bytes(out);
    let estimate = || {
        format!(
            "tracing {count} clients keeps about {} in memory and writes about as much to trace.csv (about {rows} rows of {TRACE_ROW_BYTES} bytes per client)",
            gb(bytes)
        )
    };
    if bytes.saturating_add(ids_bytes(count)) > memory / 2 {
        return Err(bad(format!(
            "{}; this machine has {} of memory available: trace fewer clients",
            estimate(),
            gb(memory)
        )));
    }
    if let Some(free) = disk.filter(|&f| bytes > f) {
        return Err(bad(format!(
            "{}; {} has {} free: trace fewer clients",
            estimate(),
            outdir::parent_of(out).display(),
            gb(free)
        )));
    }
    let mut ids = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for (a, b) in merged {
        ids.extend((a..=b).filter_map(|c| u32::try_from(c).ok()));
    }
    Ok(ids)
}

fn ids_bytes(count: u64) -> u64 {
    count.saturating_mul(4)
}

/// A byte count for messages: `12.3 GB`.
pub fn gb(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.1} GB", bytes as f64 / 1e9)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(clients: u64) -> Scenario {
        let text = format!(
            "[fleet]\nclients = {clients}\n[[distribution_points]]\nname = \"DP\"\nbandwidth = \"1Gbps\"\n[[content]]\nid = \"P\"\nkind = \"package\"\nsize = \"1MB\"\n[task_sequence]\n[[task_sequence.steps]]\ntype = \"download\"\nname = \"D\"\ncontent = [\"P\"]\n"
        );
        crate::scenario::load_str(&text, Path::new("t.toml"), Path::new("."), &[])
            .expect("valid scenario")
    }

    #[test]
    fn trace_ranges_merge_before_expanding() {
        let s = scenario(1000);
        let out = std::env::temp_dir().join("fleetsim-trace-test");
        let repeated = vec!["0-999"; 1000].join(",");
        assert_eq!(trace_clients(&repeated, &s, &out).unwrap().len(), 1000);
        assert_eq!(
            trace_clients("9, 1-3,2-4 ,7", &s, &out).unwrap(),
            [1, 2, 3, 4, 7, 9]
        );
        for (bad, says) in [
            ("5-2", "is empty"),
            ("x", "bad client list"),
            ("1000", "the fleet has 1000 clients (ids 0 to 999)"),
            ("0-99999999999999999999", "bad client list"),
        ] {
            let e = trace_clients(bad, &s, &out).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains("--trace"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_trace_that_cannot_fit_is_refused_with_its_estimate() {
        let s = scenario(4_000_000_000);
        let out = std::env::temp_dir().join("fleetsim-trace-test");
        let e = trace_clients("0-3999999999", &s, &out)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tracing 4000000000 clients keeps about"), "{e}");
        assert!(e.contains("GB") && e.contains("trace fewer clients"), "{e}");
    }
}
