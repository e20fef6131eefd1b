//! `fleetsim calibrate`: measure a DP at rising concurrency (1, 2, 4, ... up to a
//! limit) and derive the `[[distribution_points]]` values that make the simulator
//! reproduce it.
//!
//! The model's DP is an uplink of `bandwidth` shared fairly by at most
//! `max_connections` downloads, the rest waiting. So:
//! - `bandwidth` is the highest aggregate rate measured (the plateau);
//! - `max_connections` is how many connections the server really serves at once: in
//!   each 100 ms window the connections that received bytes are counted; when, at
//!   the highest concurrency, clearly fewer than all made progress, the server limits
//!   them (IIS does), and the median count is the limit. Otherwise no limit was seen
//!   up to the concurrency tried.
//! - the rate of a single connection bounds what one client gets; it is printed as
//!   a hint for the scenario's `[network]` caps.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::errors::{ErrorClass, LoadError};
use super::http::{self, Fetch};
use super::target::Target;
use crate::sim::result::new_histogram;

/// What `calibrate` is told.
#[derive(Debug, Clone)]
pub struct CalibrateOptions {
    /// The content URL measured.
    pub target: String,
    /// Highest concurrency tried (the ramp doubles up to it; it is tried last).
    pub max_connections: usize,
    /// How long each concurrency level runs.
    pub step: Duration,
    /// Stall timeout.
    pub timeout: Duration,
    /// Accept any certificate.
    pub insecure: bool,
    /// Runtime worker threads.
    pub threads: usize,
}

/// One concurrency level.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Connections.
    pub concurrency: usize,
    /// Aggregate rate, bits/s.
    pub aggregate_bps: f64,
    /// Aggregate divided by the connections, bits/s.
    pub per_connection_bps: f64,
    /// Median over 100 ms windows of the connections that received bytes.
    pub progressing: f64,
    /// Requests completed or cut at the end of the step.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Median time to first byte, seconds.
    pub ttfb_p50_s: f64,
}

/// The result: the steps and the derived model values.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Steps in order.
    pub steps: Vec<Step>,
    /// Model `bandwidth`, bits/s.
    pub bandwidth_bps: f64,
    /// Model `max_connections` when the server limited connections.
    pub max_connections: Option<u32>,
    /// Rate of one connection alone, bits/s.
    pub single_connection_bps: f64,
}

/// The concurrency levels: 1, 2, 4, ... below `max`, then `max`.
pub fn levels(max: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut c = 1usize;
    while c < max {
        v.push(c);
        c = c.saturating_mul(2);
    }
    v.push(max.max(1));
    v
}

/// Runs the ramp; `on_step` sees each level as it finishes. `stop` ends it early
/// (the levels measured so far are used).
pub fn calibrate(
    o: &CalibrateOptions,
    stop: Option<Arc<AtomicBool>>,
    mut on_step: impl FnMut(&Step),
) -> Result<Calibration, LoadError> {
    if o.max_connections == 0 {
        return Err(LoadError::BadOption {
            flag: "--max-connections",
            reason: "must be at least 1".into(),
        });
    }
    let (target, uri) = Target::exact(&o.target)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.threads.max(1))
        .enable_all()
        .build()
        .map_err(LoadError::Runtime)?;
    let client = {
        let _g = rt.enter();
        http::client(&http::ClientOptions {
            insecure: o.insecure,
            timeout: o.timeout,
            max_idle: o.max_connections,
        })?
    };
    let reach = std::net::ToSocketAddrs::to_socket_addrs(target.authority())
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| LoadError::Unreachable {
            dp: o.target.clone(),
            authority: target.authority().into(),
            reason: "cannot resolve".into(),
        })?;
    std::net::TcpStream::connect_timeout(&reach, o.timeout.min(Duration::from_secs(10))).map_err(
        |e| LoadError::Unreachable {
            dp: o.target.clone(),
            authority: target.authority().into(),
            reason: e.to_string(),
        },
    )?;
    let mut steps = Vec::new();
    for c in levels(o.max_connections) {
        if stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed)) {
            break;
        }
        let step = rt.block_on(one_level(&client, &uri, c, o))?;
        on_step(&step);
        steps.push(step);
    }
    rt.shutdown_background();
    Ok(derive(steps))
}

/// Derives the model values from the steps (see the module doc).
pub fn derive(steps: Vec<Step>) -> Calibration {
    let bandwidth = steps.iter().map(|s| s.aggregate_bps).fold(0.0, f64::max);
    let single = steps
        .iter()
        .find(|s| s.concurrency == 1)
        .map_or(0.0, |s| s.aggregate_bps);
    let limit = steps.last().and_then(|last| {
        let limited = last.concurrency >= 2 && last.progressing < 0.8 * last.concurrency as f64;
        limited.then(|| last.progressing.round().max(1.0) as u32)
    });
    Calibration {
        steps,
        bandwidth_bps: bandwidth,
        max_connections: limit,
        single_connection_bps: single,
    }
}

async fn one_level(
    client: &http::HttpClient,
    uri: &::http::Uri,
    c: usize,
    o: &CalibrateOptions,
) -> Result<Step, LoadError> {
    let counters: Arc<Vec<AtomicU64>> = Arc::new((0..c).map(|_| AtomicU64::new(0)).collect());
    let requests = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let last_error = Arc::new(std::sync::Mutex::new(None::<ErrorClass>));
    let ttfb = Arc::new(std::sync::Mutex::new(new_histogram()));
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + o.step;
    let mut tasks = Vec::with_capacity(c);
    for i in 0..c {
        let (client, counters, requests, errors, last_error, ttfb) = (
            client.clone(),
            counters.clone(),
            requests.clone(),
            errors.clone(),
            last_error.clone(),
            ttfb.clone(),
        );
        let fetch = Fetch {
            uri: uri.clone(),
            start: 0,
            end: None,
            chunk: None,
            timeout: o.timeout,
        };
        tasks.push(tokio::spawn(async move {
            while tokio::time::Instant::now() < deadline {
                let sent = Instant::now();
                let f = http::fetch(&client, &fetch, |e| {
                    if let (http::Event::Bytes(n), Some(k)) = (e, counters.get(i)) {
                        k.fetch_add(n, Ordering::Relaxed);
                    }
                });
                // A transfer still running at the end of the step is cut there.
                let Ok(got) = tokio::time::timeout_at(deadline, f).await else {
                    requests.fetch_add(1, Ordering::Relaxed);
                    break;
                };
                requests.fetch_add(1, Ordering::Relaxed);
                if let Some(t) = got.first_byte {
                    let us = t.saturating_duration_since(sent).as_micros() as u64;
                    ttfb.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .saturating_record(us);
                }
                if let Some(e) = got.error {
                    errors.fetch_add(1, Ordering::Relaxed);
                    *last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    // Do not hammer a failing server in a tight loop.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    // Sample which connections progress in each 100 ms window.
    let mut prev: Vec<u64> = vec![0; c];
    let mut progressing = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.tick().await;
    while tokio::time::Instant::now() < deadline {
        tick.tick().await;
        let mut moving = 0;
        for (p, k) in prev.iter_mut().zip(counters.iter()) {
            let v = k.load(Ordering::Relaxed);
            if v > *p {
                moving += 1;
            }
            *p = v;
        }
        progressing.push(moving);
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = started.elapsed().as_secs_f64().max(1e-6);
    let bytes: u64 = counters.iter().map(|k| k.load(Ordering::Relaxed)).sum();
    let (requests, errors) = (
        requests.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
    );
    if bytes == 0 && errors > 0 {
        let class = last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map_or_else(|| "unknown".into(), ErrorClass::name);
        return Err(LoadError::AllFailed {
            concurrency: c,
            class,
        });
    }
    progressing.sort_unstable();
    let median = progressing.get(progressing.len() / 2).copied().unwrap_or(c) as f64;
    let agg = bytes as f64 * 8.0 / secs;
    let h: Histogram<u64> = ttfb.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok(Step {
        concurrency: c,
        aggregate_bps: agg,
        per_connection_bps: agg / c as f64,
        progressing: median,
        requests,
        errors,
        ttfb_p50_s: if h.is_empty() {
            0.0
        } else {
            h.value_at_quantile(0.5) as f64 / 1e6
        },
    })
}

/// A rate as the scenario writes it (`940Mbps`).
pub fn fmt_rate(bps: f64) -> String {
    if bps >= 1e9 {
        format!("{:.2}Gbps", bps / 1e9)
    } else if bps >= 1e6 {
        format!("{:.1}Mbps", bps / 1e6)
    } else {
        format!("{:.0}Kbps", (bps / 1e3).max(1.0))
    }
}

/// The table of steps and the `[[distribution_points]]` block to paste.
pub fn report(c: &Calibration) -> String {
    let mut s = String::from(
        "connections  aggregate     per-connection  progressing  requests  errors  ttfb p50\n",
    );
    for st in &c.steps {
        s += &format!(
            "{:>11}  {:>12}  {:>14}  {:>11.0}  {:>8}  {:>6}  {:>7.3}s\n",
            st.concurrency,
            fmt_rate(st.aggregate_bps),
            fmt_rate(st.per_connection_bps),
            st.progressing,
            st.requests,
            st.errors,
            st.ttfb_p50_s
        );
    }
    let tried = c.steps.last().map_or(0, |s| s.concurrency);
    s += "\n[[distribution_points]]\nname = \"DP1\"\n";
    s += &format!("bandwidth = \"{}\"\n", fmt_rate(c.bandwidth_bps));
    match c.max_connections {
        Some(m) => {
            s += &format!(
                "max_connections = {m}   # the server served only {m} connections at once\n"
            )
        }
        None => {
            s += &format!(
                "max_connections = 4000   # no limit seen up to {tried} connections (4000 is ConfigMgr's default)\n"
            )
        }
    }
    s += &format!(
        "# one connection alone reached {}: client network caps above that are not reached\n",
        fmt_rate(c.single_connection_bps)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(c: usize, agg: f64, progressing: f64) -> Step {
        Step {
            concurrency: c,
            aggregate_bps: agg,
            per_connection_bps: agg / c as f64,
            progressing,
            requests: 1,
            errors: 0,
            ttfb_p50_s: 0.0,
        }
    }

    #[test]
    fn ramp_doubles_then_ends_at_the_limit() {
        assert_eq!(levels(1), vec![1]);
        assert_eq!(levels(8), vec![1, 2, 4, 8]);
        assert_eq!(levels(10), vec![1, 2, 4, 8, 10]);
    }

    #[test]
    fn plateau_and_limit() {
        let open = derive(vec![
            step(1, 1e9, 1.0),
            step(2, 2e9, 2.0),
            step(4, 2.1e9, 4.0),
        ]);
        assert_eq!(open.bandwidth_bps, 2.1e9);
        assert_eq!(open.max_connections, None);
        assert_eq!(open.single_connection_bps, 1e9);
        let capped = derive(vec![step(1, 1e9, 1.0), step(8, 2e9, 3.0)]);
        assert_eq!(capped.max_connections, Some(3));
        assert!(report(&capped).contains("max_connections = 3"));
        assert!(report(&open).contains("bandwidth = \"2.10Gbps\""));
    }
}
