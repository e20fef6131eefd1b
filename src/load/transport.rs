//! [`HttpTransport`]: the world's downloads as real HTTP transfers.
//!
//! The world (policy, Install clicks, the task sequence, DP queues, retries) runs on
//! the calling thread exactly as in `run`; each attempt it starts is handed to a tokio
//! runtime on threads of its own. Simulated time is wall time since the start
//! multiplied by the time scale, so a scenario of three weeks plays in three minutes
//! at `--time-scale 10080`.
//!
//! Invariants the world relies on:
//! - completions are stamped with the simulated time at which they happened, under
//!   the lock that queues them, so a completion queued after the world looked at the
//!   clock is never stamped before it: the world's time never runs backwards;
//! - [`Transport::advance`] hands over only completions due at or before its argument,
//!   due meaning the time [`Transport::next_completion`] reported for them;
//! - bytes are counted as they arrive, in the `bandwidth_interval` bucket of their
//!   arrival ([`Transport::link_bytes_until`]): the world samples a bucket only when
//!   its next event comes, maybe many buckets later, and a steady stream must not
//!   show up as one burst in the bucket that happened to be sampled;
//! - attempts still running when the run ends (the horizon, a stop) hand over the
//!   bytes they received ([`Transport::unfinished`]), and every request is counted
//!   when it is sent, so a cut-off test still adds up.
//!
//! Peer content is not load-tested: clients of a load test do not serve each
//! other, so [`Transport::remove_link`] and [`Transport::relink`] keep their
//! defaults and return false (a link, once added, counts bytes until the end).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use smallvec::SmallVec;
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;

use super::errors::{ErrorClass, LoadError};
use super::http::{self, Fetch, HttpClient};
use crate::engine::time::SimTime;
use crate::net::LinkId;
use crate::sim::result::new_histogram;
use crate::sim::transport::{FlowDone, FlowReq, Transport};

/// Live counters for the progress line (read from another thread while the test runs).
#[derive(Debug, Default)]
pub struct Live {
    /// Body bytes received so far.
    pub bytes: AtomicU64,
    /// Transfers in flight (waiting for a connection slot included).
    pub active: AtomicU64,
    /// Failed attempts.
    pub errors: AtomicU64,
    /// Attempts finished, failed or not.
    pub finished: AtomicU64,
    /// HTTP requests sent (chunks, resumes and redirects included).
    pub requests: AtomicU64,
    /// Simulated time reached, µs.
    pub sim_time: AtomicU64,
    /// Attempts still running when the test ended (horizon or stop).
    pub unfinished: AtomicU64,
    /// Bytes those attempts had received.
    pub unfinished_bytes: AtomicU64,
}

/// Bytes one link carried: in all, and per `bandwidth_interval` bucket of arrival.
#[derive(Debug)]
struct LinkBytes {
    total: AtomicU64,
    /// Bucket `k` holds the bytes that arrived in `(k * w, (k + 1) * w]` (an instant on
    /// a boundary belongs to the bucket that ends there, as in `bandwidth.csv`).
    buckets: Mutex<Vec<u64>>,
}

impl LinkBytes {
    fn add(&self, at: SimTime, bucket: SimTime, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
        let k = crate::output::timeline::bucket_of(at, bucket) as usize;
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if b.len() <= k {
            b.resize(k + 1, 0);
        }
        if let Some(x) = b.get_mut(k) {
            *x += n;
        }
    }

    /// Bytes that arrived by `t`: every bucket ending at or before it, and the one
    /// holding `t` when it is not on a boundary (the run's last, partial bucket).
    fn until(&self, t: SimTime, bucket: SimTime) -> u64 {
        let n = t.div_ceil(bucket.max(1)) as usize;
        let b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        b.iter().take(n).sum()
    }
}

/// What the transport needs to know.
#[derive(Debug, Clone)]
pub struct TransportOptions {
    /// Simulated seconds per wall second (`--time-scale`).
    pub time_scale: f64,
    /// Bytes per Range request (`--chunk-size`).
    pub chunk: Option<u64>,
    /// Hard cap on transfers in flight, hence on connections (`--max-connections`).
    pub max_connections: usize,
    /// Stall timeout, wall time.
    pub timeout: Duration,
    /// Accept any certificate.
    pub insecure: bool,
    /// Worker threads of the runtime.
    pub threads: usize,
    /// Width of a `bandwidth.csv` bucket, simulated µs.
    pub bucket: SimTime,
}

/// One finished attempt, as a runtime task reports it.
#[derive(Debug, Clone, Copy)]
struct Finished {
    tag: u64,
    client: u32,
    content: u32,
    /// Where the attempt started in the content (resume offset).
    start: u64,
    bytes: u64,
    error: Option<ErrorClass>,
    /// Simulated time at which it finished.
    at: SimTime,
    /// Scheduled start to first body byte, simulated µs.
    ttfb: Option<SimTime>,
}

/// State shared with the runtime tasks.
struct Shared {
    clock: Clock,
    done: Mutex<Vec<Finished>>,
    ready: Condvar,
    live: Arc<Live>,
}

/// Wall clock to simulated time.
#[derive(Debug, Clone, Copy)]
struct Clock {
    origin: Instant,
    scale: f64,
}

impl Clock {
    fn at(&self, t: Instant) -> SimTime {
        let us = t.saturating_duration_since(self.origin).as_secs_f64() * 1e6 * self.scale;
        if us.is_finite() && us < u64::MAX as f64 {
            us as u64
        } else {
            SimTime::MAX
        }
    }

    fn now(&self) -> SimTime {
        self.at(Instant::now())
    }

    /// Wall instant at which simulated time `t` is reached.
    fn wall(&self, t: SimTime) -> Instant {
        let secs = t as f64 / 1e6 / self.scale;
        let d = Duration::try_from_secs_f64(secs).unwrap_or(Duration::from_secs(86_400 * 365));
        self.origin
            .checked_add(d)
            .unwrap_or(self.origin + Duration::from_secs(86_400 * 365))
    }
}

/// The world's transport for `load`: real downloads over HTTP.
pub struct HttpTransport {
    rt: Option<Runtime>,
    client: HttpClient,
    slots: Arc<Semaphore>,
    shared: Arc<Shared>,
    /// URL of each (DP, content) pair, `[dp * ncontent + content]`.
    urls: Vec<::http::Uri>,
    ncontent: usize,
    links: Vec<Arc<LinkBytes>>,
    /// Bytes received so far by each attempt in flight, by tag.
    flights: HashMap<u64, Arc<AtomicU64>>,
    /// Bytes already received of each (client, content) whose last attempt broke:
    /// the next attempt resumes there (BITS keeps the partial file).
    resume: HashMap<(u32, u32), u64>,
    in_flight: usize,
    /// Latest time handed to the world (never decreases).
    floor: SimTime,
    opts: TransportOptions,
    ttfb: Arc<Mutex<Histogram<u64>>>,
}

impl HttpTransport {
    /// Starts the runtime and the client. `urls[dp][content]` is the URL of a content
    /// item on a DP.
    pub fn new(
        opts: TransportOptions,
        urls: Vec<Vec<::http::Uri>>,
        live: Arc<Live>,
        ttfb: Arc<Mutex<Histogram<u64>>>,
    ) -> Result<Self, LoadError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(opts.threads.max(1))
            .thread_name("fleetsim-http")
            .enable_all()
            .build()
            .map_err(LoadError::Runtime)?;
        let client = {
            let _guard = rt.enter();
            http::client(&http::ClientOptions {
                insecure: opts.insecure,
                timeout: opts.timeout,
                max_idle: opts.max_connections,
            })?
        };
        let ncontent = urls.first().map_or(0, Vec::len);
        let flat = urls.into_iter().flatten().collect();
        Ok(HttpTransport {
            rt: Some(rt),
            client,
            slots: Arc::new(Semaphore::new(
                opts.max_connections.clamp(1, Semaphore::MAX_PERMITS),
            )),
            shared: Arc::new(Shared {
                clock: Clock {
                    origin: Instant::now(),
                    scale: opts.time_scale,
                },
                done: Mutex::new(Vec::new()),
                ready: Condvar::new(),
                live,
            }),
            urls: flat,
            ncontent,
            links: Vec::new(),
            flights: HashMap::new(),
            resume: HashMap::new(),
            in_flight: 0,
            floor: 0,
            opts,
            ttfb,
        })
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Vec<Finished>> {
        // A task that panicked while holding the lock left a valid Vec behind.
        self.shared
            .done
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn earliest(&self) -> Option<SimTime> {
        self.pending()
            .iter()
            .map(|f| f.at)
            .min()
            .map(|t| t.max(self.floor))
    }
}

impl Transport for HttpTransport {
    fn add_link(&mut self, _capacity_bps: u64) -> LinkId {
        // The real server has whatever capacity it has: only bytes are counted.
        self.links.push(Arc::new(LinkBytes {
            total: AtomicU64::new(0),
            buckets: Mutex::new(Vec::new()),
        }));
        (self.links.len() - 1) as LinkId
    }

    fn start(&mut self, now: SimTime, req: &FlowReq<'_>) {
        self.floor = self.floor.max(now);
        self.in_flight += 1;
        let key = (req.client, req.content);
        let start = if req.attempt == 0 {
            self.resume.remove(&key);
            0
        } else {
            self.resume.get(&key).copied().unwrap_or(0).min(req.size)
        };
        let ix = req.dp as usize * self.ncontent + req.content as usize;
        let links: SmallVec<[Arc<LinkBytes>; 2]> = req
            .links
            .iter()
            .filter_map(|&l| self.links.get(l as usize).cloned())
            .collect();
        let shared = self.shared.clone();
        shared.live.active.fetch_add(1, Ordering::Relaxed);
        let base = Finished {
            tag: req.tag,
            client: req.client,
            content: req.content,
            start,
            bytes: 0,
            error: None,
            at: 0,
            ttfb: None,
        };
        let Some(uri) = self.urls.get(ix).cloned() else {
            // Cannot happen with URLs built for every DP and content; fail the attempt
            // rather than the process.
            finish(&shared, base, Some(ErrorClass::Protocol));
            return;
        };
        if req.size == 0 || start >= req.size {
            finish(&shared, base, None);
            return;
        }
        let fetch = Fetch {
            uri,
            start,
            end: Some(req.size),
            chunk: self.opts.chunk,
            timeout: self.opts.timeout,
        };
        let client = self.client.clone();
        let slots = self.slots.clone();
        let scheduled = now;
        let bucket = self.opts.bucket;
        let received = Arc::new(AtomicU64::new(0));
        self.flights.insert(req.tag, received.clone());
        let Some(rt) = &self.rt else { return };
        rt.spawn(async move {
            // Waiting for a slot is part of the download's latency: the schedule, not
            // the load tester's capacity, decides when a download should have started.
            let Ok(_permit) = slots.acquire_owned().await else {
                finish(&shared, base, Some(ErrorClass::Connect));
                return;
            };
            let live = shared.live.clone();
            let got = http::fetch(&client, &fetch, |e| match e {
                http::Event::Request => {
                    live.requests.fetch_add(1, Ordering::Relaxed);
                }
                http::Event::Bytes(n) => {
                    let at = shared.clock.now();
                    for l in &links {
                        l.add(at, bucket, n);
                    }
                    received.fetch_add(n, Ordering::Relaxed);
                    live.bytes.fetch_add(n, Ordering::Relaxed);
                }
            })
            .await;
            let ttfb = got
                .first_byte
                .map(|t| shared.clock.at(t).saturating_sub(scheduled));
            finish(
                &shared,
                Finished {
                    bytes: got.bytes,
                    ttfb,
                    ..base
                },
                got.error,
            );
        });
    }

    fn next_completion(&self) -> Option<SimTime> {
        self.earliest()
    }

    fn advance(&mut self, now: SimTime, out: &mut Vec<FlowDone>) {
        // A completion is due at its stamp, or at the floor if the world is already
        // past the stamp: the same time `next_completion` reported for it.
        let floor = self.floor;
        self.floor = floor.max(now);
        let mut ready: Vec<_> = self
            .pending()
            .extract_if(.., |f| f.at.max(floor) <= now)
            .collect();
        // Finish order among equal stamps is arrival order, as far as it is known.
        ready.sort_by_key(|f| f.at);
        let mut hist = self.ttfb.lock().unwrap_or_else(|p| p.into_inner());
        for f in ready {
            self.in_flight = self.in_flight.saturating_sub(1);
            self.flights.remove(&f.tag);
            let key = (f.client, f.content);
            if f.error.is_some() {
                self.resume.insert(key, f.start + f.bytes);
            } else {
                self.resume.remove(&key);
            }
            if let Some(t) = f.ttfb {
                hist.saturating_record(t);
            }
            out.push(FlowDone {
                tag: f.tag,
                bytes: f.bytes,
                error: f.error.map(ErrorClass::code),
            });
        }
    }

    fn link_bytes(&self, link: LinkId) -> u64 {
        // Scaled so that the world's per-simulated-second rates in bandwidth.csv come
        // out as the real rate on the wire (bytes per wall second).
        let b = self
            .links
            .get(link as usize)
            .map_or(0, |l| l.total.load(Ordering::Relaxed));
        (b as f64 * self.opts.time_scale) as u64
    }

    fn link_bytes_until(&self, link: LinkId, t: SimTime) -> u64 {
        let b = self
            .links
            .get(link as usize)
            .map_or(0, |l| l.until(t, self.opts.bucket));
        (b as f64 * self.opts.time_scale) as u64
    }

    fn unfinished(&mut self, out: &mut Vec<FlowDone>) {
        let mut tags: Vec<u64> = self.flights.keys().copied().collect();
        tags.sort_unstable();
        let live = &self.shared.live;
        for tag in tags {
            let bytes = self
                .flights
                .remove(&tag)
                .map_or(0, |b| b.load(Ordering::Relaxed));
            live.unfinished.fetch_add(1, Ordering::Relaxed);
            live.unfinished_bytes.fetch_add(bytes, Ordering::Relaxed);
            out.push(FlowDone {
                tag,
                bytes,
                error: None,
            });
        }
    }

    fn active(&self) -> usize {
        self.in_flight
    }

    fn now(&self) -> SimTime {
        self.shared.clock.now().max(self.floor)
    }

    fn realtime(&self) -> bool {
        true
    }

    fn wait_until(&mut self, t: SimTime) -> SimTime {
        // Wake at least every 100 ms so the world sees a Ctrl-C.
        let deadline = self
            .shared
            .clock
            .wall(t)
            .min(Instant::now() + Duration::from_millis(100));
        let mut p = self
            .shared
            .done
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        while p.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            p = match self.shared.ready.wait_timeout(p, left) {
                Ok((g, _)) => g,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        drop(p);
        let now = self.shared.clock.now().max(self.floor);
        self.shared.live.sim_time.store(now, Ordering::Relaxed);
        if now >= t {
            // The world is about to handle an event at t: nothing may be stamped
            // before it from now on.
            self.floor = self.floor.max(t);
        }
        now
    }
}

/// Queues a finished attempt, stamped under the lock (see the module invariants).
fn finish(shared: &Shared, mut f: Finished, error: Option<ErrorClass>) {
    f.error = error;
    shared.live.active.fetch_sub(1, Ordering::Relaxed);
    shared.live.finished.fetch_add(1, Ordering::Relaxed);
    if error.is_some() {
        shared.live.errors.fetch_add(1, Ordering::Relaxed);
    }
    let mut p = shared
        .done
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f.at = shared.clock.now();
    p.push(f);
    drop(p);
    shared.ready.notify_one();
}

impl Drop for HttpTransport {
    fn drop(&mut self) {
        // Transfers still running (a stop, or the horizon) are abandoned, not awaited.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// A fresh histogram for time to first byte.
pub fn ttfb_histogram() -> Arc<Mutex<Histogram<u64>>> {
    Arc::new(Mutex::new(new_histogram()))
}

#[cfg(test)]
mod tests;
