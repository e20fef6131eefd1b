//! `fleetsim load`: the scenario's schedule as real downloads from real DPs.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::ScenarioArgs;
use super::common::{self, flag_error, note};
use crate::diag::InputError;
use crate::load::{self, Live, LoadError, LoadOptions};
use crate::scenario::units::{self, Quantity};

/// Arguments of `fleetsim load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Scenario and overrides.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// URL template of the DP, e.g. `http://dp1/SMS_DP_SMSPKG$/{content}`; DPs with
    /// their own `url` in the scenario use that instead.
    #[arg(long)]
    pub target: Option<String>,
    /// Simulated seconds per wall second (3 weeks in 3 minutes: 10080).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Factor applied to content sizes (time-scale x size-scale = 1 keeps the
    /// scenario's rates on the wire).
    #[arg(long, default_value_t = 1.0)]
    pub size_scale: f64,
    /// Output folder (default `results/<scenario name>-load/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Download in Range requests of this size (`1MiB`), as BITS does.
    #[arg(long, value_name = "SIZE")]
    pub chunk_size: Option<String>,
    /// Hard cap on concurrent connections (downloads beyond it wait, and the wait
    /// counts in their latency).
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Give up on a connection, response or body that stalls this long (wall time).
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub timeout: String,
    /// Accept any TLS certificate.
    #[arg(long)]
    pub insecure: bool,
    /// Run only the I-th of N shares of the clients (I from 1), e.g. `2/4`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// HTTP worker threads (default: the number of CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also write clients.csv.
    #[arg(long)]
    pub per_client: bool,
    /// No progress line and no table.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Parses a duration flag (`30s`, `250ms`).
pub fn duration_flag(flag: &str, v: &str) -> Result<Duration, InputError> {
    let us = units::parse_str(Quantity::Duration, v)
        .and_then(units::to_u64)
        .map_err(|m| flag_error(flag, m))?;
    if us == 0 {
        return Err(flag_error(flag, "must be longer than 0"));
    }
    Ok(Duration::from_micros(us))
}

/// Parses `I/N` (1 <= I <= N) into `(I - 1, N)`.
pub fn shard_flag(v: &str) -> Result<(u64, u64), InputError> {
    let bad = || {
        flag_error(
            "--shard",
            format!("found {v:?}, expected I/N with 1 <= I <= N"),
        )
    };
    let (i, n) = v.split_once('/').ok_or_else(bad)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i - 1, n))
}

/// Converts the load tester's errors: bad flags and URLs are input errors (exit 2),
/// the rest (server unreachable, runtime) failures of the run (exit 1).
pub fn load_error(e: LoadError) -> anyhow::Error {
    load_error_in(e, None)
}

/// [`load_error`], locating a DP's own bad `url` in the scenario (`file`, `--set`).
fn load_error_in(e: LoadError, scenario: Option<(&std::path::Path, &[String])>) -> anyhow::Error {
    match e {
        LoadError::BadDpUrl {
            index,
            dp,
            url,
            reason,
        } => match scenario {
            Some((file, set)) => InputError::from(crate::scenario::blame(
                file,
                set,
                &format!("distribution_points.{index}.url"),
                format!("bad url {url:?} of distribution point {dp}: {reason}"),
            ))
            .into(),
            None => flag_error("url", format!("{dp}: {url:?}: {reason}")).into(),
        },
        LoadError::BadUrl { .. } => flag_error("--target", e.to_string()).into(),
        LoadError::BadOption { flag, reason } => flag_error(flag, reason).into(),
        other => anyhow::Error::new(other),
    }
}

/// Prints the progress line every second until `done` is set.
pub fn progress_thread(live: Arc<Live>, done: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let tty = std::io::stderr().is_terminal();
        let start = Instant::now();
        let (mut last_t, mut last_b) = (start, 0u64);
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(200));
            if last_t.elapsed() < Duration::from_secs(1) {
                continue;
            }
            let b = live.bytes.load(Ordering::Relaxed);
            let rate = (b - last_b.min(b)) as f64 / 1e6 / last_t.elapsed().as_secs_f64();
            (last_t, last_b) = (Instant::now(), b);
            let line = load::progress_line(&live, start.elapsed(), rate);
            // Not eprint!: after SIGHUP the terminal is gone and a write would panic.
            use std::io::Write;
            let mut e = std::io::stderr().lock();
            let _ = if tty {
                write!(e, "\r{line}").and_then(|()| e.flush())
            } else {
                writeln!(e, "{line}")
            };
        }
        if tty {
            note("");
        }
    })
}

/// Runs the command; returns the exit code.
pub fn run(a: &LoadArgs) -> anyhow::Result<i32> {
    let s = a.scenario.load()?;
    if crate::sim::peers::used(&s) {
        // Peers are machines of the fleet, not servers a load test can reach.
        common::note(
            "warning: peer content (branchcache, peer_cache) is simulated by `run` only: \
             this load test fetches every download from the distribution points",
        );
    }
    let chunk = match &a.chunk_size {
        Some(v) => {
            let b = units::parse_str(Quantity::Size, v)
                .and_then(units::to_u64)
                .map_err(|m| flag_error("--chunk-size", m))?;
            Some(b)
        }
        None => None,
    };
    let opts = LoadOptions {
        target: a.target.clone(),
        time_scale: a.time_scale,
        size_scale: a.size_scale,
        chunk,
        max_connections: a.max_connections,
        timeout: duration_flag("--timeout", &a.timeout)?,
        insecure: a.insecure,
        shard: a.shard.as_deref().map(shard_flag).transpose()?,
        threads: a
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        per_client: a.per_client,
    };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("{}-load", s.name)));
    crate::study::budget::Budget::single(&s, a.per_client)
        .check_disk(&out)
        .map_err(|m| flag_error("--out", format!("{m}: choose another --out")))?;
    let stop = common::stop_flag();
    let _claim = common::claim_out(&out, std::slice::from_ref(&a.scenario.scenario))?;
    let live = Arc::new(Live::default());
    let done = Arc::new(AtomicBool::new(false));
    let progress = (!a.quiet).then(|| progress_thread(live.clone(), done.clone()));
    let res = load::run(&s, &opts, Some(stop), live);
    done.store(true, Ordering::Relaxed);
    if let Some(p) = progress {
        let _ = p.join();
    }
    let set = super::study::overrides(&a.scenario);
    let r = res.map_err(|e| load_error_in(e, Some((&a.scenario.scenario, &set))))?;
    let scenario_text = std::fs::read(&a.scenario.scenario).ok();
    load::output::write(
        &r.result,
        &r.ttfb,
        &r.info,
        &out,
        a.per_client,
        &|dir| match &scenario_text {
            Some(t) => std::fs::write(dir.join("scenario.toml"), t),
            None => Ok(()),
        },
    )
    .with_context(|| format!("writing results to {}", out.display()))?;
    if !a.quiet {
        let summary = load::output::summary(&r.result, &r.ttfb);
        super::out(&super::table::summary_table(&summary));
        let errors: Vec<String> = r
            .info
            .errors
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        super::out(&format!(
            "requests: {}   bytes: {}   transfer errors: {}\nresults: {}\n",
            r.info.requests,
            r.result.bytes.total,
            if errors.is_empty() {
                "none".to_string()
            } else {
                errors.join(", ")
            },
            out.display()
        ));
    }
    if r.result.partial {
        note(&format!(
            "interrupted ({}): partial results written to {}",
            common::stop_name(),
            out.display()
        ));
        return Ok(common::stop_code());
    }
    Ok(0)
}
