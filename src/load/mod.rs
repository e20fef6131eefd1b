//! Live load tests of real distribution points.
//!
//! The simulator predicts what a DP will see; the load tester makes it happen. The
//! scenario's clients follow the same schedule as in `run` (policy, available time,
//! Install clicks, task-sequence steps, DP choice, retries), because it *is* the same
//! world ([`crate::sim::run_with`]); only the transport differs: every download is a
//! real HTTP GET, streamed and counted, never buffered whole.
//!
//! - [`transport`]: the world's downloads as HTTP transfers on a tokio runtime.
//! - [`http`]: the pooled client, TLS, Range requests, resume, redirect rule.
//! - [`target`]: URL templates per DP.
//! - [`scale`]: the scenario copy (sizes scaled, simulated faults off).
//! - [`errors`]: error classes of transfers and the load tester's own errors.
//! - [`output`]: the result folder (`"mode": "load"`, `ttfb`, transfer errors).
//! - [`calibrate`]: measure a DP at rising concurrency, print the DP's model values.
//!
//! Latency is measured from the *scheduled* start of each download (the world's
//! request time), so a slow server cannot hide the queue it causes (coordinated
//! omission): a download that waited for a connection slot, or behind a stalled
//! server, waited in the figures too.

pub mod calibrate;
pub mod errors;
pub mod http;
pub mod output;
pub mod scale;
pub mod target;
pub mod transport;

use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use hdrhistogram::Histogram;

pub use errors::{ErrorClass, LoadError};
pub use transport::{HttpTransport, Live, TransportOptions};

use crate::scenario::model::Scenario;
use crate::sim::result::RunResult;
use crate::sim::{self, RunOptions};
use target::Target;

/// Everything `fleetsim load` is told besides the scenario.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// URL template for DPs without a `url` of their own.
    pub target: Option<String>,
    /// Simulated seconds per wall second.
    pub time_scale: f64,
    /// Factor applied to content sizes.
    pub size_scale: f64,
    /// Bytes per Range request.
    pub chunk: Option<u64>,
    /// Hard cap on concurrent connections.
    pub max_connections: usize,
    /// Stall timeout (wall time).
    pub timeout: Duration,
    /// Accept any certificate.
    pub insecure: bool,
    /// Run only clients with `id % n == i` (`(i, n)`, i from 0).
    pub shard: Option<(u64, u64)>,
    /// Runtime worker threads.
    pub threads: usize,
    /// Keep per-client rows.
    pub per_client: bool,
}

/// A finished (or stopped) load test.
#[derive(Debug)]
pub struct LoadRun {
    /// The same record `run` produces, measured.
    pub result: RunResult,
    /// Time to first byte, simulated µs.
    pub ttfb: Histogram<u64>,
    /// What `load.json` says.
    pub info: output::LoadInfo,
}

/// The URL template of every DP: its own `url`, else `--target`.
pub fn targets(s: &Scenario, target: Option<&str>) -> Result<Vec<Target>, LoadError> {
    s.distribution_points
        .iter()
        .enumerate()
        .map(|(i, d)| match (d.url.as_deref(), target) {
            (Some(u), _) => Target::parse(u).map_err(|e| match e {
                LoadError::BadUrl { url, reason } => LoadError::BadDpUrl {
                    index: i,
                    dp: d.name.clone(),
                    url,
                    reason,
                },
                other => other,
            }),
            (None, Some(u)) => Target::parse(u),
            (None, None) => Err(LoadError::BadUrl {
                url: String::new(),
                reason: format!(
                    "distribution point {} has no url and no --target was given",
                    d.name
                ),
            }),
        })
        .collect()
}

/// Checks that every DP accepts TCP connections before the test starts.
pub fn check_reachable(
    s: &Scenario,
    targets: &[Target],
    timeout: Duration,
) -> Result<(), LoadError> {
    let mut seen = std::collections::BTreeSet::new();
    for (d, t) in s.distribution_points.iter().zip(targets) {
        if !seen.insert(t.authority().to_string()) {
            continue;
        }
        let unreachable = |reason: String| LoadError::Unreachable {
            dp: d.name.clone(),
            authority: t.authority().to_string(),
            reason,
        };
        let addrs: Vec<_> = t
            .authority()
            .to_socket_addrs()
            .map_err(|e| unreachable(e.to_string()))?
            .collect();
        let mut last = String::from("no address");
        let ok = addrs.iter().any(|a| {
            match std::net::TcpStream::connect_timeout(a, timeout.min(Duration::from_secs(10))) {
                Ok(_) => true,
                Err(e) => {
                    last = e.to_string();
                    false
                }
            }
        });
        if !ok {
            return Err(unreachable(last));
        }
    }
    Ok(())
}

/// Runs a load test: the scenario's schedule, real transfers. `live` is updated as
/// the test runs (for a progress line); `stop` ends it early with a partial result.
pub fn run(
    s: &Scenario,
    o: &LoadOptions,
    stop: Option<Arc<AtomicBool>>,
    live: Arc<Live>,
) -> Result<LoadRun, LoadError> {
    let time_scale = scale::check_factor("--time-scale", o.time_scale)?;
    let size_scale = scale::check_factor("--size-scale", o.size_scale)?;
    if o.max_connections == 0 {
        return Err(LoadError::BadOption {
            flag: "--max-connections",
            reason: "must be at least 1".into(),
        });
    }
    if o.chunk == Some(0) {
        return Err(LoadError::BadOption {
            flag: "--chunk-size",
            reason: "must be at least 1 byte".into(),
        });
    }
    let targets = targets(s, o.target.as_deref())?;
    let urls = targets
        .iter()
        .map(|t| {
            s.content
                .iter()
                .map(|c| t.url_for(&c.id))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_reachable(s, &targets, o.timeout)?;
    let copy = scale::for_load(s, size_scale);
    let ttfb = transport::ttfb_histogram();
    let t = HttpTransport::new(
        TransportOptions {
            time_scale,
            chunk: o.chunk,
            max_connections: o.max_connections,
            timeout: o.timeout,
            insecure: o.insecure,
            threads: o.threads,
            bucket: copy.simulation.bandwidth_interval,
        },
        urls,
        live.clone(),
        ttfb.clone(),
    )?;
    let opts = RunOptions {
        per_client: o.per_client,
        stop,
        shard: o.shard,
        ..Default::default()
    };
    let result = sim::run_with(&copy, &opts, t)?;
    let ttfb = std::mem::replace(
        &mut *ttfb.lock().unwrap_or_else(|p| p.into_inner()),
        crate::sim::result::new_histogram(),
    );
    let info = output::LoadInfo {
        target: o.target.clone(),
        urls: s
            .distribution_points
            .iter()
            .zip(&targets)
            .map(|(d, t)| (d.name.clone(), t.template().to_string()))
            .collect(),
        time_scale,
        size_scale,
        chunk_size: o.chunk,
        max_connections: o.max_connections,
        shard: o.shard.map(|(i, n)| format!("{}/{n}", i + 1)),
        requests: live.requests.load(std::sync::atomic::Ordering::Relaxed),
        errors: output::errors_by_name(&result),
        partial: result.partial,
        unfinished: output::Unfinished {
            transfers: live.unfinished.load(std::sync::atomic::Ordering::Relaxed),
            bytes: live
                .unfinished_bytes
                .load(std::sync::atomic::Ordering::Relaxed),
        },
    };
    Ok(LoadRun { result, ttfb, info })
}

/// The live progress line: elapsed, simulated time, active downloads, throughput,
/// errors.
pub fn progress_line(live: &Live, elapsed: Duration, mb_per_s: f64) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let sim = live.sim_time.load(Relaxed) / 1_000_000;
    format!(
        "{:>7.1}s  sim {}d{:02}h{:02}m  active {:>5}  {:>8.1} MB/s  {:>8.1} MB total  done {:>7}  errors {}",
        elapsed.as_secs_f64(),
        sim / 86_400,
        sim % 86_400 / 3600,
        sim % 3600 / 60,
        live.active.load(Relaxed),
        mb_per_s,
        live.bytes.load(Relaxed) as f64 / 1e6,
        live.finished.load(Relaxed),
        live.errors.load(Relaxed),
    )
}
