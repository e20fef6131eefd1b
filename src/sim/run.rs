//! The event loop and the assembly of the result.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use super::program::{self, CompileError};
use super::result::{BandwidthRow, Bytes, ClientRow, FailureRow, Peak, RunResult, Timing};
use super::sites::{PeerSaved, WanBusy};
use super::state::NEVER;
use super::transport::{FlowDone, Transport};
use super::world::World;
use crate::engine::time::SimTime;
use crate::fleet;
use crate::net::FairShareNet;
use crate::scenario::model::{Arch, NetType, Power, Scenario};

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Keep per-client rows (`clients.csv`).
    pub per_client: bool,
    /// Set to stop early (Ctrl-C); the result is then marked partial.
    pub stop: Option<Arc<AtomicBool>>,
    /// Progress counters for a progress bar: simulated µs reached, clients done.
    pub progress: Option<Arc<Progress>>,
    /// Simulate only the clients with `id % n == i` (`Some((i, n))`, i from 0), so
    /// several processes or machines (`--shard`) share one fleet; outcomes and client
    /// counts then cover that share only, and `merge` adds them up.
    pub shard: Option<(u64, u64)>,
    /// Clients whose every step is written to `trace.csv` (sorted).
    pub trace: Vec<u32>,
}

/// Live counters a progress bar reads.
#[derive(Debug, Default)]
pub struct Progress {
    /// Simulated time reached, µs.
    pub sim_time: AtomicU64,
    /// Clients whose task sequence ended.
    pub done: AtomicU64,
    /// Events handled.
    pub events: AtomicU64,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The task sequence cannot be compiled against the scenario.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// The fleet does not fit in memory.
    #[error("{0}")]
    TooLarge(String),
}

/// Approximate bytes of memory per simulated client (attributes, state, variables).
pub fn bytes_per_client(s: &Scenario, vars: usize) -> u64 {
    (std::mem::size_of::<fleet::ClientAttrs>()
        + std::mem::size_of::<super::state::ClientState>()
        + 4 * vars
        + 8 * s.content.len().div_ceil(64).max(1)
        + 16) as u64
}

/// Simulates the scenario with the fluid max-min fair network.
pub fn run(s: &Scenario, opts: &RunOptions) -> Result<RunResult, SimError> {
    run_with(s, opts, FairShareNet::new())
}

/// Runs the scenario's clients with a given transport: the fluid model for `run`, real
/// HTTP for `load`. With a real-time transport the loop sleeps until the next timer or
/// the next finished transfer, whichever comes first.
pub fn run_with<T: Transport>(
    s: &Scenario,
    opts: &RunOptions,
    transport: T,
) -> Result<RunResult, SimError> {
    let started = Instant::now();
    let prog = program::compile(s)?;
    check_limits(s, &prog)?;
    let attrs = fleet::generate(&s.population());
    let mut w = World::new(s, prog, attrs, transport);
    if let Some((i, n)) = opts.shard.filter(|&(i, n)| n > 0 && i < n) {
        w.shard = (i, n);
    }
    w.trace_clients = opts.trace.clone();
    if opts.per_client {
        w.precache_end = vec![NEVER; w.st.len()];
    }
    w.schedule_policies();
    let mut buckets = Buckets::new(&w);
    let mut busy = WanBusy::new(&w);
    let end = event_loop(&mut w, opts, &mut buckets, &mut busy);
    Ok(finish(w, s, opts, buckets, busy, end, started))
}

/// Refuses, before anything is allocated per client, a scenario whose ids do not fit
/// the packed per-client state or whose fleet does not fit in memory.
fn check_limits(s: &Scenario, prog: &program::Program) -> Result<(), SimError> {
    if s.fleet.language.items.len() > u8::MAX as usize + 1
        || s.fleet.model.items.len() > u16::MAX as usize
    {
        return Err(SimError::TooLarge(
            "at most 256 languages and 65536 models per fleet".into(),
        ));
    }
    if s.distribution_points.len() >= u16::MAX as usize || s.sites.len() >= u16::MAX as usize {
        return Err(SimError::TooLarge(
            "at most 65534 distribution points and sites".into(),
        ));
    }
    let need = bytes_per_client(s, prog.vars.len()).saturating_mul(s.fleet.clients);
    let avail = available_memory();
    if need > avail {
        return Err(SimError::TooLarge(format!(
            "{} clients need about {:.1} GB of memory ({} bytes per client); this machine has {:.1} GB available",
            s.fleet.clients,
            need as f64 / 1e9,
            need / s.fleet.clients.max(1),
            avail as f64 / 1e9
        )));
    }
    Ok(())
}

/// The rows of `bandwidth.csv` as the run goes: one bucket per interval.
struct Buckets {
    interval: SimTime,
    /// End of the bucket being filled.
    next_tick: SimTime,
    /// Bytes each link had carried at the last bucket's end.
    last_bytes: Vec<u64>,
    /// Bytes peers had given each site at the last bucket's end.
    saved: PeerSaved,
    rows: Vec<BandwidthRow>,
}

impl Buckets {
    fn new<T: Transport>(w: &World<'_, T>) -> Self {
        let interval = w.s.simulation.bandwidth_interval;
        Buckets {
            interval,
            next_tick: interval,
            last_bytes: vec![0; w.dps.len() + w.sites.len()],
            saved: PeerSaved::new(w),
            rows: Vec::new(),
        }
    }

    /// Writes every bucket that ends before `t` (events at exactly a bucket boundary
    /// belong to the bucket that ends there).
    fn close_before<T: Transport>(&mut self, w: &mut World<'_, T>, t: SimTime) {
        while self.next_tick < t {
            self.close_one(w, t);
        }
    }

    /// Writes every bucket that starts before `t`, the last one cut at `t`.
    fn close_through<T: Transport>(&mut self, w: &mut World<'_, T>, t: SimTime) {
        while self.next_tick - self.interval < t {
            self.close_one(w, t);
        }
    }

    fn close_one<T: Transport>(&mut self, w: &mut World<'_, T>, limit: SimTime) {
        let start = self.next_tick - self.interval;
        sample(
            w,
            start,
            self.interval,
            limit,
            &mut self.last_bytes,
            &mut self.saved,
            &mut self.rows,
        );
        self.next_tick += self.interval;
    }
}

/// How the event loop ended.
struct LoopEnd {
    /// Time of the last event handled.
    last_time: SimTime,
    /// Stopped by the stop flag (Ctrl-C).
    partial: bool,
}

/// Handles events in time order until none is left, the horizon is passed or the
/// stop flag is set. Two sources feed it: the event queue and the network's
/// completions; at equal times network completions go first.
fn event_loop<T: Transport>(
    w: &mut World<'_, T>,
    opts: &RunOptions,
    buckets: &mut Buckets,
    busy: &mut WanBusy,
) -> LoopEnd {
    let horizon = w.s.simulation.horizon;
    let realtime = w.net.realtime();
    let mut done_out: Vec<FlowDone> = Vec::new();
    let mut end = LoopEnd {
        last_time: 0,
        partial: false,
    };
    loop {
        if realtime || w.events & 0xFFF == 0 {
            if let Some(p) = &opts.progress {
                p.sim_time.store(w.now, Ordering::Relaxed);
                p.events.store(w.events, Ordering::Relaxed);
                p.done
                    .store(w.stats.completions.len() as u64, Ordering::Relaxed);
            }
            if opts
                .stop
                .as_ref()
                .is_some_and(|f| f.load(Ordering::Relaxed))
            {
                end.partial = true;
                return end;
            }
        }
        let tq = w.queue.peek_time();
        let mut tn = w.net.next_completion();
        if realtime && tn.is_none() {
            // Nothing has finished: sleep until the next timer, a finished transfer,
            // or the horizon.
            if tq.is_none() && w.net.active() == 0 {
                return end;
            }
            let until = tq
                .unwrap_or(horizon.saturating_add(1))
                .min(horizon.saturating_add(1));
            let reached = w.net.wait_until(until);
            tn = w.net.next_completion();
            if tn.is_none() && reached < until {
                continue; // woken early (e.g. to check the stop flag)
            }
        }
        let t = match (tq, tn) {
            (None, None) => return end,
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (Some(a), Some(b)) => a.min(b),
        };
        if t > horizon {
            return end;
        }
        buckets.close_before(w, t);
        busy.reach(&w.net, t);
        w.now = t;
        end.last_time = t;
        if tn == Some(t) {
            // The completing client's state is a cache miss at scale: start loading
            // it while the network works out the completion.
            if let Some(tag) = w.net.next_tag() {
                w.prefetch_client(tag as u32);
            }
            done_out.clear();
            w.net.advance(t, &mut done_out);
            for d in done_out.drain(..) {
                w.events += 1;
                w.on_flow_done(d);
            }
            continue;
        }
        if let Some((_, ev)) = w.queue.pop() {
            if let Some(next) = w.queue.peek_next() {
                w.prefetch_client(next.client);
            }
            w.events += 1;
            w.handle(ev);
        }
    }
}

/// After the loop: the run ends at the last event, or at the horizon when work was
/// still pending; chains are settled on a stop; the last buckets are written.
fn finish<T: Transport>(
    mut w: World<'_, T>,
    s: &Scenario,
    opts: &RunOptions,
    mut buckets: Buckets,
    mut busy: WanBusy,
    end: LoopEnd,
    started: Instant,
) -> RunResult {
    let pending = !w.queue.is_empty() || w.net.active() > 0;
    let sim_end = if pending && !end.partial {
        s.simulation.horizon
    } else {
        end.last_time
    };
    w.now = sim_end;
    busy.reach(&w.net, sim_end);
    if end.partial {
        w.settle_chains(sim_end);
    }
    // Transfers a real-time transport was still running moved bytes too.
    let mut cut = Vec::new();
    w.net.unfinished(&mut cut);
    for d in &cut {
        w.count_bytes(d);
    }
    buckets.close_through(&mut w, sim_end);
    assemble(
        w,
        s,
        opts,
        &busy,
        buckets.rows,
        sim_end,
        end.partial,
        started,
    )
}

/// Writes one bucket of `bandwidth.csv` for every DP and WAN link (with the bytes
/// peers saved the WAN links of sites with peers). The network's fluid state is
/// brought forward to the bucket's end (or to `limit`, the time of the next event, if
/// earlier) without ever crossing a completion, so no completion is consumed here.
fn sample<T: Transport>(
    w: &mut World<'_, T>,
    start: SimTime,
    interval: SimTime,
    limit: SimTime,
    last: &mut [u64],
    saved: &mut PeerSaved,
    rows: &mut Vec<BandwidthRow>,
) {
    let target = (start + interval).min(limit);
    if w.net.now() < target && w.net.next_completion().is_none_or(|c| c > target) {
        let mut sink = Vec::new();
        w.net.advance(target, &mut sink);
        debug_assert!(sink.is_empty(), "sampling must not consume completions");
    }
    let secs = interval as f64 / 1e6;
    let ndp = w.dps.len();
    for (i, d) in w.dps.iter_mut().enumerate() {
        let b = w.net.link_bytes_until(d.link, target);
        let delta = b.saturating_sub(last[i]);
        last[i] = b.max(last[i]);
        rows.push(BandwidthRow {
            time: start,
            link: i as u32,
            bps: delta as f64 * 8.0 / secs,
            active: d.bucket_active,
            queued: d.bucket_queued,
            saved_bps: None,
        });
        d.bucket_active = d.active;
        d.bucket_queued = d.queue.len() as u32;
    }
    let peer_bytes = saved.read(w, target);
    for (j, site) in w.sites.iter_mut().enumerate() {
        let Some(link) = site.wan else { continue };
        let b = w.net.link_bytes_until(link, target);
        let delta = b.saturating_sub(last[ndp + j]);
        last[ndp + j] = b.max(last[ndp + j]);
        rows.push(BandwidthRow {
            time: start,
            link: (ndp + j) as u32,
            bps: delta as f64 * 8.0 / secs,
            active: site.bucket_active,
            queued: 0,
            saved_bps: saved.step(j, &peer_bytes).map(|b| b as f64 * 8.0 / secs),
        });
        site.bucket_active = site.wan_active;
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "the loop's end state, handed over once; a struct would only rename them"
)]
fn assemble<T: Transport>(
    w: World<'_, T>,
    s: &Scenario,
    opts: &RunOptions,
    busy: &WanBusy,
    mut bandwidth: Vec<BandwidthRow>,
    sim_end: SimTime,
    partial: bool,
    started: Instant,
) -> RunResult {
    let ndp = s.distribution_points.len();
    let mut links: Vec<String> = s
        .distribution_points
        .iter()
        .map(|d| d.name.clone())
        .collect();
    let mut link_capacity: Vec<u64> = s.distribution_points.iter().map(|d| d.bandwidth).collect();
    // WAN rows use link index ndp + site index; renumber to the compact list.
    let mut wan_ix = vec![u32::MAX; s.sites.len()];
    for (j, site) in s.sites.iter().enumerate() {
        if let Some(cap) = site.wan {
            wan_ix[j] = links.len() as u32;
            links.push(format!("wan:{}", site.name));
            link_capacity.push(cap);
        }
    }
    for r in &mut bandwidth {
        if r.link as usize >= ndp {
            r.link = wan_ix[r.link as usize - ndp];
        }
    }
    let mut peaks = vec![Peak::default(); ndp];
    for r in &bandwidth {
        if (r.link as usize) < ndp {
            let p = &mut peaks[r.link as usize];
            p.bps = p.bps.max(r.bps);
            p.active = p.active.max(r.active);
            p.queued = p.queued.max(r.queued);
        }
    }
    let sites = super::sites::assemble(&w, busy, &bandwidth, &wan_ix);
    let outcomes = w.outcomes();
    let failures = w
        .stats
        .failures
        .iter()
        .map(|(&(code, ph), &count)| FailureRow {
            code,
            phase: ph.as_str().to_string(),
            count,
        })
        .collect();
    let (shard_i, shard_n) = w.shard;
    let shard_clients = w.in_shard_count();
    let clients_rows = opts.per_client.then(|| {
        // Where each client stands (subnets, peer cache sources): cheap to place
        // again, and a run without peers keeps no per-client peer state.
        let site_of: Vec<u16> = w.attrs.iter().map(|a| a.site).collect();
        let layout =
            crate::peer::Layout::new(&site_of, &s.sites, |c| super::peers::inventory_subnet(s, c));
        (0..w.st.len() as u32)
            .filter(|&c| c as u64 % shard_n == shard_i)
            .map(|c| {
                let a = &w.attrs[c as usize];
                let st = &w.st[c as usize];
                let t = |x: SimTime| (x != NEVER).then_some(x);
                ClientRow {
                    client: c as u64,
                    site: a.site,
                    dp: st.dp,
                    architecture: match a.arch {
                        Arch::X64 => "x64",
                        Arch::X86 => "x86",
                    },
                    language: s.fleet.language.items[a.language as usize].0,
                    power: match a.power {
                        Power::Ac => "ac",
                        Power::Battery => "battery",
                    },
                    network: match a.network {
                        NetType::Wired => "wired",
                        NetType::Wireless => "wireless",
                        NetType::Vpn => "vpn",
                    },
                    free_disk: a.free_disk,
                    outcome: w.outcome(c),
                    exit_code: if w.outcome(c) == super::result::Outcome::Succeeded {
                        0
                    } else {
                        st.exit_code
                    },
                    precached: st.facts.has(super::state::Facts::PRECACHED),
                    bytes: st.bytes,
                    policy: t(st.policy_at),
                    install: t(st.install_at),
                    end: t(st.end_at),
                    name: s
                        .fleet
                        .inventory
                        .as_ref()
                        .map(|inv| inv.name(c as usize).to_string())
                        .unwrap_or_default(),
                    model: s
                        .fleet
                        .model
                        .items
                        .get(a.model as usize)
                        .map(|m| m.0.clone())
                        .unwrap_or_default(),
                    tpm: match a.hw.tpm() {
                        crate::domain::Tpm::V20 => "2.0",
                        crate::domain::Tpm::V12 => "1.2",
                        crate::domain::Tpm::None => "none",
                    },
                    firmware: match a.hw.firmware() {
                        crate::domain::Firmware::UefiSecureBoot => "uefi_secure_boot",
                        crate::domain::Firmware::Uefi => "uefi",
                        crate::domain::Firmware::Bios => "bios",
                    },
                    cpu_supported: a.hw.cpu_supported(),
                    memory: u64::from(a.memory_mb) * 1_048_576,
                    system_drive: u64::from(a.system_drive_mb) * 1_048_576,
                    power_schedule: w.power_schedule_label(c),
                    on: w.on_time(c, sim_end),
                    utc_offset: s
                        .calendar
                        .site_offsets
                        .get(a.site as usize)
                        .copied()
                        .unwrap_or(0),
                    ts_start: t(st.ts_start),
                    precache_end: w.precache_end.get(c as usize).copied().and_then(t),
                    subnet: match super::peers::inventory_subnet(s, c as usize) {
                        Some(i) => s
                            .fleet
                            .inventory
                            .as_ref()
                            .and_then(|inv| inv.subnets.get(i as usize))
                            .cloned()
                            .unwrap_or_default(),
                        None => layout
                            .subnet
                            .get(c as usize)
                            .map_or(0, |&g| {
                                g - layout
                                    .first_subnet
                                    .get(a.site as usize)
                                    .copied()
                                    .unwrap_or(g)
                            })
                            .to_string(),
                    },
                    peer_cache_source: layout.source.get(c as usize).copied().unwrap_or(false),
                    bytes_from_peers: w.bytes_from_peers(c),
                }
            })
            .collect()
    });
    let in_shard = |c: u64| c % shard_n == shard_i;
    let readiness = super::kinds::readiness(s, &w.prog.referenced, &w.attrs, in_shard);
    let precache_shortfall =
        super::precache::precache_shortfall(s, &w.prog.referenced, &w.attrs, in_shard);
    let by_dp = w.stats.by_dp.clone();
    let by_source = w.by_source();
    let total = by_source.dp + by_source.peer_cache + by_source.branchcache;
    let mut completions = w.stats.completions;
    completions.sort();
    let wall = started.elapsed().as_secs_f64();
    RunResult {
        scenario: s.name.clone(),
        seed: s.simulation.seed,
        clients: shard_clients,
        outcomes,
        failures,
        latency: w.stats.latency,
        bytes: Bytes {
            total,
            by_dp,
            by_kind: w.stats.by_kind,
            precache: w.stats.precache,
            on_demand: w.stats.on_demand,
            by_source,
        },
        dp_names: s
            .distribution_points
            .iter()
            .map(|d| d.name.clone())
            .collect(),
        links,
        link_capacity,
        peaks,
        bandwidth,
        bandwidth_interval: s.simulation.bandwidth_interval,
        clients_rows,
        site_names: s.sites.iter().map(|x| x.name.clone()).collect(),
        sim_end,
        events: w.events,
        deadline: s.deployment.deadline,
        completions,
        timing: Timing {
            wall_s: wall,
            events_per_s: if wall > 0.0 {
                w.events as f64 / wall
            } else {
                0.0
            },
            peak_rss_bytes: peak_rss(),
        },
        partial,
        transfer_errors: w.stats.transfer_errors,
        readiness,
        precache_shortfall,
        trace: super::trace::in_time_order(w.trace_rows),
        calendar_marks: if s.calendar.is_used() {
            s.calendar.axis_marks(sim_end)
        } else {
            Vec::new()
        },
        sites,
        overrides: s.overrides.clone(),
        targets: s.targets.clone(),
        steps: w
            .prog
            .ops
            .iter()
            .zip(&w.stats.steps)
            .map(|(op, n)| super::result::StepRow {
                path: op.path.clone(),
                kind: op.type_name,
                ran: n.ran,
                skipped: n.skipped,
                succeeded: n.succeeded,
                failed: n.failed,
            })
            .collect(),
    }
}

/// Peak resident set size of this process (Linux `VmHWM`), 0 when unknown.
pub fn peak_rss() -> u64 {
    proc_status_kb("VmHWM:").map(|kb| kb * 1024).unwrap_or(0)
}

fn proc_status_kb(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Memory available to a run (Linux `MemAvailable`), or a large default elsewhere.
pub fn available_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            let l = t.lines().find(|l| l.starts_with("MemAvailable:"))?;
            l.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map(|kb| kb * 1024)
        .unwrap_or(u64::MAX)
}
