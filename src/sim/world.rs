//! The simulation world: clients, distribution points and the network, driven by one
//! event loop.
//!
//! Two event sources feed the loop: the event queue (timers: policy arrival, Install
//! clicks, deadlines, step ends, retries) and the network model (download
//! completions). At equal times, network completions are handled first, then queued
//! events in FIFO order; both orders are deterministic, so a run is a pure function
//! of the scenario and the seed.

use std::collections::VecDeque;

use super::program::Program;
use super::result::{Latencies, Outcome, Outcomes};
use super::state::{Activity, CacheBits, ClientState, FailPhase, NEVER};
use super::transport::Transport;
use super::vars::VarStore;
use crate::engine::queue::EventQueue;
use crate::engine::rng;
use crate::engine::time::SimTime;
use crate::fleet::ClientAttrs;
use crate::net::LinkId;
use crate::scenario::model::{ContentKind, Purpose, Scenario};
use crate::setup::codes;

/// Random-stream purposes of the simulation (fleet uses 1..=9).
pub(crate) mod purpose {
    /// Policy arrival delay.
    pub(crate) const POLICY: u32 = 10;
    /// Delay until the user clicks Install.
    pub(crate) const USER_START: u32 = 11;
    /// Step duration, index = pc, try.
    pub(crate) const STEP_DURATION: u32 = 12;
    /// Step exit code.
    pub(crate) const EXIT_CODE: u32 = 13;
    /// Transient download failure of an attempt.
    pub(crate) const DL_FAIL: u32 = 14;
    /// Fraction downloaded before a transient failure.
    pub(crate) const DL_FAIL_AT: u32 = 15;
    /// Choice of a fallback DP.
    pub(crate) const FALLBACK_DP: u32 = 16;
    /// Windows Setup phase durations and outcomes.
    pub(crate) const SETUP: u32 = 17;
    /// Whether a wake-up packet wakes a sleeping machine at the deadline.
    pub(crate) const WAKE_UP: u32 = 18;
}

/// Kinds of queued events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum EvKind {
    /// The client receives the deployment policy.
    Policy,
    /// The deployment becomes available to a client that already has the policy.
    Available,
    /// The user clicks Install.
    Install,
    /// The deadline of a required deployment.
    Deadline,
    /// The running step's timed part ends.
    StepTimer,
    /// Retry a failed download.
    Retry,
    /// Boundary-group fallback time reached.
    Fallback,
    /// The deployment timeout of a running task sequence.
    Timeout,
    /// Something the calendar decides: the machine switches on or off, a BITS
    /// throttling window opens or closes, a maintenance window long enough for the
    /// task sequence starts (`sim::calendar`).
    Calendar,
    /// A serving peer's schedule switches it off (`sim::peers`): it stops serving.
    /// Not tied to the peer's epoch: its task sequence moving on does not stop it
    /// serving.
    PeerOff,
}

impl EvKind {
    const ALL: [EvKind; 10] = [
        EvKind::Policy,
        EvKind::Available,
        EvKind::Install,
        EvKind::Deadline,
        EvKind::StepTimer,
        EvKind::Retry,
        EvKind::Fallback,
        EvKind::Timeout,
        EvKind::Calendar,
        EvKind::PeerOff,
    ];
}

/// Bits of [`Event`]'s packed word that hold the kind; the epoch has the rest.
const KIND_BITS: u32 = 4;

/// Largest epoch an event can carry: a client's epoch never exceeds it, because the
/// compiler refuses a task sequence whose tries could move it further
/// (`program::compile_ts`).
pub(crate) const MAX_EPOCH: u32 = u32::MAX >> KIND_BITS;

/// A queued event: 8 bytes (the client, then its epoch and the kind in one word),
/// copied, never allocated. Millions are queued at once, so it stays this small.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event {
    /// Client.
    pub(crate) client: u32,
    /// Epoch of the client when scheduled (stale events are dropped) and the kind.
    packed: u32,
}

impl Event {
    pub(crate) fn new(client: u32, epoch: u32, kind: EvKind) -> Event {
        debug_assert!(epoch <= MAX_EPOCH);
        Event {
            client,
            packed: (epoch << KIND_BITS) | kind as u32,
        }
    }

    /// The client's epoch when the event was scheduled.
    pub(crate) fn epoch(self) -> u32 {
        self.packed >> KIND_BITS
    }

    /// What the event is.
    pub(crate) fn kind(self) -> EvKind {
        let i = (self.packed & ((1 << KIND_BITS) - 1)) as usize;
        EvKind::ALL.get(i).copied().unwrap_or(EvKind::Policy)
    }
}

/// A distribution point at run time.
pub(crate) struct DpRun {
    /// Its uplink.
    pub(crate) link: LinkId,
    /// Site index.
    pub(crate) site: u16,
    /// Downloads in progress.
    pub(crate) active: u32,
    /// Connection limit.
    pub(crate) max: u32,
    /// Clients waiting for a connection, FIFO.
    pub(crate) queue: VecDeque<u32>,
    /// Most active during the current bandwidth bucket.
    pub(crate) bucket_active: u32,
    /// Longest queue during the current bucket.
    pub(crate) bucket_queued: u32,
}

/// A site at run time.
pub(crate) struct SiteRun {
    /// WAN link, if constrained.
    pub(crate) wan: Option<LinkId>,
    /// Downloads crossing the WAN now.
    pub(crate) wan_active: u32,
    /// Most during the current bucket.
    pub(crate) bucket_active: u32,
}

/// Aggregates collected during the run.
pub(crate) struct Stats {
    /// Latencies.
    pub(crate) latency: Latencies,
    /// Failures by (code, phase).
    pub(crate) failures: std::collections::BTreeMap<(u32, FailPhase), u64>,
    /// Bytes by DP.
    pub(crate) by_dp: Vec<u64>,
    /// Bytes by content kind.
    pub(crate) by_kind: [u64; 5],
    /// Pre-cache bytes.
    pub(crate) precache: u64,
    /// On-demand bytes.
    pub(crate) on_demand: u64,
    /// Task sequence ends by outcome.
    pub(crate) completions: Vec<(SimTime, Outcome)>,
    /// Failed transfer attempts by transport error class (real transports only).
    pub(crate) transfer_errors: std::collections::BTreeMap<u32, u64>,
    /// Per node of the task sequence, what it did over the fleet.
    pub(crate) steps: Vec<StepCounts>,
}

/// What one node of the task sequence did over the fleet (`steps.csv`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StepCounts {
    /// Started (groups: entered); retries count again.
    pub(crate) ran: u64,
    /// Skipped by its condition or disabled.
    pub(crate) skipped: u64,
    /// Ended with a success code.
    pub(crate) succeeded: u64,
    /// Ended with a failure (after its retries).
    pub(crate) failed: u64,
}

/// The world.
pub(crate) struct World<'s, T: Transport> {
    /// The scenario.
    pub(crate) s: &'s Scenario,
    /// Compiled task sequence.
    pub(crate) prog: Program,
    /// Client attributes.
    pub(crate) attrs: Vec<ClientAttrs>,
    /// Client states.
    pub(crate) st: Vec<ClientState>,
    /// Variables.
    pub(crate) vars: VarStore,
    /// Cache contents.
    pub(crate) cache: CacheBits,
    /// Timers.
    pub(crate) queue: EventQueue<Event>,
    /// How bytes move (fluid model or real HTTP).
    pub(crate) net: T,
    /// DPs.
    pub(crate) dps: Vec<DpRun>,
    /// Sites.
    pub(crate) sites: Vec<SiteRun>,
    /// Aggregates.
    pub(crate) stats: Stats,
    /// Events handled.
    pub(crate) events: u64,
    /// Current time.
    pub(crate) now: SimTime,
    /// Content indices downloaded by pre-cache for each (arch, language index) pair is
    /// computed per client; this is the non-OS part, shared by all.
    pub(crate) precache_common: Vec<u32>,
    /// The OS upgrade packages among the referenced content, in reference order: the
    /// candidates for the first pre-cache item.
    pub(crate) referenced_os: Vec<u32>,
    /// Some driver package is tagged with a hardware model: staged driver lists are
    /// filtered by the client's model (`needed_item`).
    pub(crate) model_drivers: bool,
    /// Every software update in the catalogue, in catalogue order: what Install
    /// Software Updates installs.
    pub(crate) updates: Vec<u32>,
    /// Which clients this run simulates (`id % shard_n == shard_i`).
    pub(crate) shard: (u64, u64),
    /// Clients to trace, sorted.
    pub(crate) trace_clients: Vec<u32>,
    /// Trace lines recorded so far.
    pub(crate) trace_rows: Vec<super::trace::TraceRow>,
    /// What the calendar changes in this run (nothing for a scenario without it).
    pub(crate) cal: super::calendar::CalFlags,
    /// Background (BITS) jobs that need more than the client state holds: a
    /// transfer that may be paused or re-capped, or an item with bytes kept across
    /// a transient error (`BgJobs` says how they are kept).
    pub(crate) bg: super::calendar::BgJobs,
    /// When each client's pre-cache finished (only kept with `--per-client`).
    pub(crate) precache_end: Vec<SimTime>,
    /// Bytes that crossed each site's WAN link (`sim::sites`), by site.
    pub(crate) site_wan_bytes: Vec<u64>,
    /// Peer content (`sim::peers`); `None` when the scenario has none, or the
    /// transport is real HTTP (a load test fetches everything from the DPs).
    pub(crate) peers: Option<Box<super::peers::Peers>>,
}

impl<'s, T: Transport> World<'s, T> {
    /// Builds the world: generates the fleet and schedules every policy arrival.
    pub(crate) fn new(s: &'s Scenario, prog: Program, attrs: Vec<ClientAttrs>, mut net: T) -> Self {
        let n = attrs.len();
        let dps: Vec<DpRun> = s
            .distribution_points
            .iter()
            .map(|d| DpRun {
                link: net.add_link(d.bandwidth),
                site: d.site as u16,
                active: 0,
                max: d.max_connections,
                queue: VecDeque::new(),
                bucket_active: 0,
                bucket_queued: 0,
            })
            .collect();
        let sites = s
            .sites
            .iter()
            .map(|x| SiteRun {
                wan: x.wan.map(|w| net.add_link(w)),
                wan_active: 0,
                bucket_active: 0,
            })
            .collect();
        let is_os = |i: u32| s.content[i as usize].kind == ContentKind::OsUpgrade;
        let (referenced_os, precache_common) =
            prog.referenced.iter().copied().partition(|&i| is_os(i));
        let updates = (0..s.content.len() as u32)
            .filter(|&i| s.content[i as usize].kind == ContentKind::SoftwareUpdate)
            .collect();
        let vars = VarStore::new(n, &prog.vars);
        let peers = (super::peers::used(s) && !net.realtime()).then(|| {
            let site_of: Vec<u16> = attrs.iter().map(|a| a.site).collect();
            Box::new(super::peers::Peers::new(s, &site_of))
        });
        World {
            s,
            cache: CacheBits::new(n, s.content.len()),
            st: vec![ClientState::default(); n],
            attrs,
            vars,
            queue: EventQueue::with_capacity(n),
            net,
            dps,
            sites,
            stats: Stats {
                latency: Latencies::new(),
                failures: Default::default(),
                by_dp: vec![0; s.distribution_points.len()],
                by_kind: [0; 5],
                precache: 0,
                on_demand: 0,
                completions: Vec::new(),
                transfer_errors: Default::default(),
                steps: vec![StepCounts::default(); prog.ops.len()],
            },
            prog,
            events: 0,
            now: 0,
            precache_common,
            referenced_os,
            model_drivers: s.content.iter().any(|c| c.model.is_some()),
            updates,
            shard: (0, 1),
            trace_clients: Vec::new(),
            trace_rows: Vec::new(),
            cal: super::calendar::CalFlags::of(s),
            bg: super::calendar::BgJobs::new(
                n,
                super::calendar::CalFlags::of(s).tracks_transfers(),
            ),
            precache_end: Vec::new(),
            site_wan_bytes: vec![0; s.sites.len()],
            peers,
        }
    }

    /// Schedules the first event of every client: receiving the policy.
    pub(crate) fn schedule_policies(&mut self) {
        let seed = self.s.simulation.seed;
        let (i, n) = self.shard;
        for c in (0..self.attrs.len() as u32).filter(|&c| c as u64 % n == i) {
            let mut r = rng::stream(seed, c as u64, rng::purpose(purpose::POLICY, 0));
            let t =
                crate::engine::time::from_secs_f64(self.s.client.policy_poll.sample(&mut r) / 1e6);
            // A machine that is off then polls when it is next on long enough.
            if let Some(t) = self.policy_arrival(c, t) {
                self.schedule(t, c, EvKind::Policy);
            }
        }
    }

    /// Schedules an event for a client at its current epoch.
    pub(crate) fn schedule(&mut self, t: SimTime, c: u32, kind: EvKind) {
        let epoch = self.st[c as usize].epoch;
        self.queue.push(t, Event::new(c, epoch, kind));
    }

    /// Hints the cache to load client `c`'s state, attributes, cached content and
    /// variables: the event loop calls it for the next event while it handles the
    /// current one, because these random accesses dominate a large run's time.
    #[inline]
    pub(crate) fn prefetch_client(&self, c: u32) {
        use crate::engine::prefetch::{prefetch, prefetch_all};
        if let Some(st) = self.st.get(c as usize) {
            prefetch_all(st);
        }
        if let Some(a) = self.attrs.get(c as usize) {
            prefetch(a);
        }
        self.cache.prefetch(c);
        self.vars.prefetch(c);
    }

    /// Handles one queued event.
    pub(crate) fn handle(&mut self, ev: Event) {
        let c = ev.client;
        if ev.kind() == EvKind::PeerOff {
            self.on_peer_off(c);
            return;
        }
        if self.st[c as usize].epoch != ev.epoch() {
            return;
        }
        match ev.kind() {
            EvKind::Policy => {
                self.trace(c, "policy", u32::MAX, String::new);
                self.st[c as usize].policy_at = self.now;
                let avail = self.s.deployment.available_at;
                if self.now < avail {
                    self.st[c as usize].activity = Activity::WaitingForAvailable;
                    self.schedule(avail, c, EvKind::Available);
                } else {
                    self.on_available(c);
                }
            }
            EvKind::Available => self.on_available(c),
            EvKind::Install => self.on_install(c, false),
            EvKind::Deadline => self.on_install(c, true),
            EvKind::StepTimer => self.on_step_timer(c),
            EvKind::Retry | EvKind::Fallback => self.request_download(c),
            EvKind::Timeout => {
                if self.st[c as usize].activity.running() {
                    self.abort(c, codes::TIMEOUT, FailPhase::Timeout);
                }
            }
            EvKind::Calendar => self.on_calendar(c),
            EvKind::PeerOff => {}
        }
    }

    /// The deployment is visible to the client: notification, pre-cache, timers.
    fn on_available(&mut self, c: u32) {
        let s = self.s;
        self.st[c as usize].activity = Activity::Notified;
        let mut r = rng::stream(
            s.simulation.seed,
            c as u64,
            rng::purpose(purpose::USER_START, 0),
        );
        let delay = s.deployment.user_start.sample(&mut r).round() as SimTime;
        // The user clicks after `delay` of the machine's on-time.
        let click = self.click_time(c, delay);
        match s.deployment.purpose {
            Purpose::Available => {
                if let Some(click) = click {
                    self.schedule(click, c, EvKind::Install);
                }
            }
            Purpose::Required => {
                let deadline = s.deployment.deadline.unwrap_or(self.now).max(self.now);
                if let Some(click) = click.filter(|&t| t < deadline) {
                    self.schedule(click, c, EvKind::Install);
                }
                self.schedule(deadline, c, EvKind::Deadline);
            }
        }
        if self.downloads_in_background_for(c) {
            if self.machine_on(c, self.now) {
                self.start_precache(c);
            } else if let Some(t) = self.first_on(c, self.now) {
                // Pre-cache starts when the machine is next on (`on_calendar`).
                self.schedule(t, c, EvKind::Calendar);
            }
        }
    }

    /// Install clicked (or deadline): start the task sequence unless already started,
    /// now or when the calendar lets it (a maintenance window long enough, the
    /// machine on).
    fn on_install(&mut self, c: u32, deadline: bool) {
        if !matches!(
            self.st[c as usize].activity,
            Activity::Notified | Activity::PreCaching(_)
        ) || self.st[c as usize].install_at != NEVER
        {
            return;
        }
        self.st[c as usize].install_at = self.now;
        self.trace(c, "install", u32::MAX, String::new);
        if !deadline {
            self.start_ts_now(c);
            return;
        }
        match self.required_start(c) {
            Some(t) if t <= self.now => self.start_ts_now(c),
            Some(t) => self.schedule(t, c, EvKind::Calendar),
            None => {}
        }
    }

    /// Starts the task sequence now (Install, the deadline, or the first moment
    /// after it that the calendar allows).
    pub(crate) fn start_ts_now(&mut self, c: u32) {
        let precaching = match self.st[c as usize].activity {
            Activity::Notified => false,
            Activity::PreCaching(_) => true,
            _ => return,
        };
        let st = &mut self.st[c as usize];
        st.ts_start = self.now;
        st.pc = 0;
        st.step_try = 0;
        if self.downloads_in_background_for(c) && self.precache_complete(c) {
            self.st[c as usize]
                .facts
                .insert(super::state::Facts::PRECACHED);
        }
        if let Some(t) = self.s.deployment.timeout {
            self.schedule(self.now.saturating_add(t), c, EvKind::Timeout);
        }
        // A pre-cache download in flight is not abandoned (it is the same BITS job the
        // task sequence would start); the task sequence starts when it ends. It is a
        // foreground job from now on: full speed, and the machine stays on.
        if precaching {
            let st = &mut self.st[c as usize];
            if let Activity::PreCaching(link) = st.activity {
                st.activity = Activity::FinishingPreCache(link);
            }
            self.make_foreground(c);
            return;
        }
        self.begin_ts(c);
    }

    /// Outcome of a client at the end of the run.
    pub(crate) fn outcome(&self, c: u32) -> Outcome {
        let st = &self.st[c as usize];
        match st.activity {
            Activity::Done => st.verdict.outcome(),
            a if a.running() => Outcome::InProgress,
            _ => Outcome::NotStarted,
        }
    }

    /// Clients of this run's shard (the whole fleet unless sharded).
    pub(crate) fn in_shard_count(&self) -> u64 {
        let (i, n) = self.shard;
        let len = self.st.len() as u64;
        len / n + u64::from(len % n > i)
    }

    /// Outcome counts of the shard's clients.
    pub(crate) fn outcomes(&self) -> Outcomes {
        let mut o = Outcomes::default();
        let (i, n) = self.shard;
        for c in (0..self.st.len() as u32).filter(|&c| c as u64 % n == i) {
            match self.outcome(c) {
                Outcome::Succeeded => o.succeeded += 1,
                Outcome::RolledBack => o.rolled_back += 1,
                Outcome::Failed => o.failed += 1,
                Outcome::InProgress => o.in_progress += 1,
                Outcome::NotStarted => o.not_started += 1,
            }
        }
        o
    }
}
