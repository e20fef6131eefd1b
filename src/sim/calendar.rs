//! The calendar in the rollout: machines that sleep, clicks in working hours,
//! maintenance windows, wake-up packets, BITS throttling and BITS retries.
//!
//! The arithmetic lives in [`crate::calendar`]; this module decides which events a
//! client needs, and only those: a client with nothing to do has no event when its
//! machine switches on or off. What does get an event:
//!
//! - the first policy poll that can succeed (computed, `policy_arrival`);
//! - the Install click, after `user_start` of on-time (computed, `click_time`);
//! - the start of a required task sequence held back by a maintenance window or a
//!   sleeping machine (computed, `required_start`);
//! - while a background (BITS) job transfers, is queued or is paused: the next power
//!   switch or BITS window edge, to pause, resume or re-cap the transfer;
//! - pre-cache that became due while the machine was off: its next power-on.
//!
//! A running task sequence keeps its machine on, so nothing here touches a client
//! once its task sequence has started (chains of fixed steps included).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use smallvec::SmallVec;

use super::state::{Activity, Link, NEVER};
use super::transport::Transport;
use super::world::{EvKind, World, purpose};
use crate::calendar::{ClientPower, Clock, first_common};
use crate::engine::rng;
use crate::engine::time::SimTime;
use crate::scenario::model::{DpOption, Purpose, Scenario};

/// What the calendar changes in a run, decided once.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CalFlags {
    /// Some machines sleep.
    pub(crate) power: bool,
    /// A BITS throttling window changes transfer rates.
    pub(crate) throttle: bool,
    /// Maintenance windows restrict required deployments.
    pub(crate) windows: bool,
}

impl CalFlags {
    pub(crate) fn of(s: &Scenario) -> CalFlags {
        let c = &s.calendar;
        CalFlags {
            power: c.has_power(),
            throttle: c.has_throttle(),
            windows: c.has_windows() && !s.deployment.ignore_maintenance_windows,
        }
    }

    /// Whether background transfers may be paused or re-capped.
    pub(crate) fn tracks_transfers(self) -> bool {
        self.power || self.throttle
    }
}

/// A background BITS job's state beyond the client's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BgJob {
    /// The transport's handle of the transfer (`u32::MAX`: none in flight).
    pub(crate) flow: u32,
    /// The transfer in flight ends in a transient error.
    pub(crate) fails: bool,
    /// The transfer is paused (the machine is off, or the rate is 0).
    pub(crate) paused: bool,
    /// A request waits for the machine to be on (or the rate above 0).
    pub(crate) deferred: bool,
    /// Time of the calendar event queued for this job (NEVER: none).
    pub(crate) cal_at: SimTime,
    /// Bytes of the current item received so far (BITS resumes, it does not
    /// restart).
    pub(crate) received: u64,
    /// Start of the no-progress period: the first transient error, or the last
    /// byte received since.
    pub(crate) mark: SimTime,
}

impl Default for BgJob {
    fn default() -> Self {
        BgJob {
            flow: u32::MAX,
            fails: false,
            paused: false,
            deferred: false,
            cal_at: NEVER,
            received: 0,
            mark: NEVER,
        }
    }
}

/// A multiply-shift hasher for client ids: looked up at every background
/// transfer event, never iterated (its order cannot reach a result).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Background jobs by client. A missing job and a `BgJob::default()` mean the
/// same to every reader (no flow, not paused, not deferred, no calendar event, no
/// bytes kept), so ending a job resets it.
///
/// Two layouts, chosen once per run by how many clients will have a job at once:
/// - when the calendar pauses or re-caps background transfers, nearly every
///   pre-caching client has a job on the first morning (a million queue for the
///   DPs' connections), and a map of them grew to 2^21 buckets of 41 bytes (86 MB
///   at 1M clients, more during its last resize): then one slot per client (32
///   bytes), made at the run's first job and found without hashing;
/// - otherwise only a background transfer's transient error makes a job (BITS
///   keeps its bytes), for a few percent of the clients: a map.
#[derive(Debug, Default)]
pub(crate) struct BgJobs {
    /// One per client once the first job is made (dense layout only).
    slots: Vec<BgJob>,
    /// The jobs of the sparse layout.
    map: HashMap<u32, BgJob, BuildHasherDefault<IdHasher>>,
    /// Clients in the run when the layout is dense; 0: sparse.
    dense: usize,
}

impl BgJobs {
    /// No job yet, for `clients` clients, dense (one slot per client) or sparse.
    pub(crate) fn new(clients: usize, dense: bool) -> Self {
        BgJobs {
            slots: Vec::new(),
            map: HashMap::default(),
            dense: if dense { clients } else { 0 },
        }
    }

    /// Whether no client may have a job (then lookups can be skipped).
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.map.is_empty()
    }

    /// Client `c`'s job (`None` or a default job: none).
    pub(crate) fn get(&self, c: u32) -> Option<&BgJob> {
        if self.dense > 0 {
            self.slots.get(c as usize)
        } else {
            self.map.get(&c)
        }
    }

    /// Client `c`'s job to change in place, if it may have one.
    pub(crate) fn get_mut(&mut self, c: u32) -> Option<&mut BgJob> {
        if self.dense > 0 {
            self.slots.get_mut(c as usize)
        } else {
            self.map.get_mut(&c)
        }
    }

    /// Client `c`'s job, made (default) if it has none.
    pub(crate) fn job(&mut self, c: u32) -> &mut BgJob {
        if self.dense == 0 {
            return self.map.entry(c).or_default();
        }
        if self.slots.is_empty() {
            self.slots = vec![BgJob::default(); self.dense];
        }
        &mut self.slots[c as usize]
    }

    /// Ends client `c`'s job.
    pub(crate) fn remove(&mut self, c: u32) {
        if self.dense == 0 {
            self.map.remove(&c);
        } else if let Some(j) = self.slots.get_mut(c as usize) {
            *j = BgJob::default();
        }
    }
}

impl<T: Transport> World<'_, T> {
    /// Client `c`'s power: schedule, `left_on`, jitter (its own random stream).
    pub(crate) fn power(&self, c: u32) -> ClientPower {
        let site = self.attrs[c as usize].site as usize;
        self.s
            .calendar
            .power_of(self.s.simulation.seed, u64::from(c), site)
    }

    fn power_clock(&self, c: u32) -> Option<(ClientPower, SimTime)> {
        if !self.cal.power {
            return None;
        }
        let p = self.power(c);
        (!p.always_on).then_some((p, 0))
    }

    /// Whether client `c`'s machine is on at `t` (by its schedule).
    pub(crate) fn machine_on(&self, c: u32, t: SimTime) -> bool {
        match self.power_clock(c) {
            None => true,
            Some((p, _)) => self.s.calendar.clock_of(&p).is_none_or(|k| k.is_on(t)),
        }
    }

    /// The first instant at or after `t` at which client `c`'s machine is on.
    pub(crate) fn first_on(&self, c: u32, t: SimTime) -> Option<SimTime> {
        match self.power_clock(c) {
            None => Some(t),
            Some((p, _)) => self
                .s
                .calendar
                .clock_of(&p)
                .map_or(Some(t), |k| k.first_on(t)),
        }
    }

    /// When the policy polled `d` after the deployment arrives: at `d` if the
    /// machine is on from the deployment until then, else `d` after the first
    /// power-on that lasts longer than `d` (the poll after power-on); `None` if no
    /// on-period is ever that long.
    pub(crate) fn policy_arrival(&self, c: u32, d: SimTime) -> Option<SimTime> {
        let Some((p, _)) = self.power_clock(c) else {
            return Some(d);
        };
        let Some(k) = self.s.calendar.clock_of(&p) else {
            return Some(d);
        };
        k.next_fit(0, d.saturating_add(1))
            .map(|s| s.saturating_add(d))
    }

    /// When a user with `delay` of on-time to go clicks Install, counted from now;
    /// a click that would fall on the instant the machine switches off comes when
    /// it is next on.
    pub(crate) fn click_time(&self, c: u32, delay: SimTime) -> Option<SimTime> {
        let Some((p, _)) = self.power_clock(c) else {
            return Some(self.now.saturating_add(delay));
        };
        let Some(k) = self.s.calendar.clock_of(&p) else {
            return Some(self.now.saturating_add(delay));
        };
        let t = k.after_on_time(self.now, delay)?;
        k.first_on(t)
    }

    /// Whether client `c`'s content downloads in the background before the task
    /// sequence: the deployment's rule below, or `c` is a peer cache source of a
    /// site whose sources pre-cache (`peer_cache.precache`).
    ///
    /// The deployment's rule: whether content downloads in the background before
    /// the task sequence:
    /// pre-cache of an available deployment, or a required deployment that
    /// downloads all content first and is available before its deadline ("If the
    /// start time is earlier than the required time, the client downloads the task
    /// sequence content at the start time",
    /// <https://learn.microsoft.com/en-us/mem/configmgr/osd/deploy-use/deploy-a-task-sequence>).
    pub(crate) fn downloads_in_background_for(&self, c: u32) -> bool {
        self.downloads_in_background() || self.seeds_peer_cache(c)
    }

    /// See [`downloads_in_background_for`](Self::downloads_in_background_for): the
    /// deployment's own rule, the same for every client.
    pub(crate) fn downloads_in_background(&self) -> bool {
        let d = &self.s.deployment;
        match d.purpose {
            Purpose::Available => d.precache,
            Purpose::Required => {
                d.dp_option == DpOption::DownloadAllFirst
                    && d.deadline.is_some_and(|dl| d.available_at < dl)
            }
        }
    }

    /// When the required task sequence of client `c` may start, at or after now
    /// (the deadline): its machine on (or woken by a wake-up packet now), inside a
    /// maintenance window of its site with at least `max_run_time` left, unless no
    /// window applies or the deployment ignores them. `None`: never.
    ///
    /// A client runs a deployment only if the window's time left is at least the
    /// maximum allowed run time, else it waits for the next window with enough time
    /// (<https://learn.microsoft.com/en-us/mem/configmgr/core/clients/manage/collections/use-maintenance-windows>).
    pub(crate) fn required_start(&self, c: u32) -> Option<SimTime> {
        let now = self.now;
        let site = self.attrs[c as usize].site as usize;
        let cal = &self.s.calendar;
        let windows = if self.cal.windows {
            cal.windows_of(site)
        } else {
            None
        };
        let run = self.s.deployment.max_run_time;
        let power = self.power_clock(c).and_then(|(p, _)| cal.clock_of(&p));
        // Wake-up packets at the deadline: the share they wake is on now.
        let woken = power.as_ref().is_some_and(|k| !k.is_on(now))
            && self.s.deployment.wake_up > 0.0
            && rng::uniform01(
                self.s.simulation.seed,
                u64::from(c),
                rng::purpose(purpose::WAKE_UP, 0),
            ) < self.s.deployment.wake_up;
        let fits_now = windows
            .as_ref()
            .is_none_or(|w| w.next_fit(now, run) == Some(now));
        if woken && fits_now {
            return Some(now);
        }
        match (power, windows) {
            (None, None) => Some(now),
            (None, Some(w)) => w.next_fit(now, run),
            (Some(k), None) => k.first_on(now),
            (Some(k), Some(w)) => first_common(&k, &w, now, run),
        }
    }

    /// A calendar event: start what was waiting for the calendar, or pause, resume
    /// or re-cap a background transfer. Idempotent: it looks at the state now.
    pub(crate) fn on_calendar(&mut self, c: u32) {
        let now = self.now;
        if let Some(job) = self.bg.get_mut(c)
            && job.cal_at == now
        {
            job.cal_at = NEVER;
        }
        let st = self.st[c as usize];
        let waiting = matches!(st.activity, Activity::Notified | Activity::PreCaching(_));
        if waiting && st.install_at != NEVER && st.ts_start == NEVER {
            // The deadline passed: start if the calendar allows it now.
            if self.required_start(c) == Some(now) {
                self.start_ts_now(c);
                return;
            }
        }
        if st.activity == Activity::Notified
            && st.precache_at == NEVER
            && st.install_at == NEVER
            && self.downloads_in_background_for(c)
            && self.machine_on(c, now)
        {
            self.start_precache(c);
            return;
        }
        if let Activity::PreCaching(link) = st.activity {
            self.background_edge(c, link);
        }
    }

    /// The cap of a background transfer of client `c` now: its link, within the
    /// BITS rate of the moment.
    pub(crate) fn background_cap(&self, c: u32) -> u64 {
        let a = &self.attrs[c as usize];
        let cap = self.s.network.cap(a.network);
        if !self.cal.throttle {
            return cap;
        }
        cap.min(self.s.calendar.bits_rate(a.site as usize, self.now))
    }

    /// Whether a background transfer of client `c` may move bytes now.
    pub(crate) fn background_allowed(&self, c: u32) -> bool {
        self.machine_on(c, self.now) && self.background_cap(c) > 0
    }

    /// The next instant after now at which a background transfer of client `c` may
    /// change: its machine switches, or the BITS window opens or closes.
    fn next_edge(&self, c: u32) -> Option<SimTime> {
        let now = self.now;
        let mut next: Option<SimTime> = None;
        let mut take = |t: Option<SimTime>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        if let Some((p, _)) = self.power_clock(c)
            && let Some(k) = self.s.calendar.clock_of(&p)
        {
            take(k.next_switch(now));
        }
        if self.cal.throttle {
            let site = self.attrs[c as usize].site as usize;
            take(
                self.s
                    .calendar
                    .bits_window_of(site)
                    .and_then(|w: Clock<'_>| w.next_switch(now)),
            );
        }
        next
    }

    /// Queues the calendar event of client `c`'s background job at its next edge,
    /// unless one at or before it is queued already.
    pub(crate) fn schedule_edge(&mut self, c: u32) {
        let Some(t) = self.next_edge(c) else { return };
        let now = self.now;
        let job = self.bg.job(c);
        if job.cal_at != NEVER && job.cal_at >= now && job.cal_at <= t {
            return;
        }
        job.cal_at = t;
        self.schedule(t, c, EvKind::Calendar);
    }

    /// A power switch or BITS window edge while client `c` pre-caches.
    fn background_edge(&mut self, c: u32, link: Link) {
        let allowed = self.background_allowed(c);
        match link {
            Link::Transferring { .. } => {
                let Some(job) = self.bg.get(c).copied().filter(|j| j.flow != u32::MAX) else {
                    return;
                };
                if allowed {
                    let cap = self.background_cap(c);
                    self.net.set_cap(self.now, job.flow, cap);
                } else if self.peers.is_some() && self.leg(c).by_peer() {
                    // A peer transfer is not paused: the client keeps what it
                    // has and locates the rest when it is back on.
                    self.stop_serving(c);
                    self.cut_leg(c);
                } else if self.pause_own(c, job.flow) {
                    if let Some(j) = self.bg.get_mut(c) {
                        j.paused = true;
                    }
                    self.st[c as usize].activity.set_link(Link::Idle);
                    self.release_slot(c);
                }
            }
            // A queued job stays in the DP's queue while its machine sleeps: it is
            // looked at when its turn comes (`start_flow`), which costs nothing
            // now (taking it out of the queue would cost the queue's length).
            Link::Queued => return,
            Link::Idle if allowed => {
                if let Some(j) = self.bg.get_mut(c)
                    && (j.paused || j.deferred)
                {
                    // Resume where it stopped, or make the request that waited: ask
                    // the DP for a slot again.
                    j.deferred = false;
                    self.request_download(c);
                }
            }
            _ => {}
        }
        // A queued job needs no edge (see above).
        if let Activity::PreCaching(l) = self.st[c as usize].activity
            && l != Link::Queued
        {
            self.schedule_edge(c);
        }
    }

    /// Frees the DP connection (and WAN share) a paused transfer held, admitting
    /// the next client waiting for that DP.
    fn release_slot(&mut self, c: u32) {
        let dp = self.st[c as usize].dp as usize;
        let site = self.attrs[c as usize].site as usize;
        self.dps[dp].active -= 1;
        if self.dps[dp].site as usize != site && self.sites[site].wan.is_some() {
            self.sites[site].wan_active -= 1;
        }
        self.admit_next(dp);
    }

    /// Resumes client `c`'s paused background transfer on its DP (a slot is held);
    /// false when it has none.
    pub(crate) fn resume_paused(&mut self, c: u32, links: &SmallVec<[u32; 2]>) -> bool {
        let Some(job) = self
            .bg
            .get(c)
            .copied()
            .filter(|j| j.paused && j.flow != u32::MAX)
        else {
            return false;
        };
        let cap = if matches!(self.st[c as usize].activity, Activity::PreCaching(_)) {
            self.background_cap(c)
        } else {
            self.s.network.cap(self.attrs[c as usize].network)
        };
        if !self.net.resume(self.now, job.flow, cap, links) {
            return false;
        }
        if let Some(j) = self.bg.get_mut(c) {
            j.paused = false;
        }
        self.st[c as usize]
            .activity
            .set_link(Link::Transferring { fails: job.fails });
        if matches!(self.st[c as usize].activity, Activity::PreCaching(_)) {
            self.schedule_edge(c);
        }
        true
    }

    /// The task sequence started while a background job was under way: it runs at
    /// full speed from now on, and a paused transfer resumes (the machine is on).
    pub(crate) fn make_foreground(&mut self, c: u32) {
        let Some(job) = self.bg.get(c).copied() else {
            return;
        };
        if job.paused || job.deferred {
            // Its request waited for the machine (it is on: the task sequence
            // started) or its transfer is paused: ask the DP now.
            if let Some(j) = self.bg.get_mut(c) {
                j.deferred = false;
            }
            self.request_download(c);
        } else if job.flow != u32::MAX && !job.paused {
            let cap = self.s.network.cap(self.attrs[c as usize].network);
            self.net.set_cap(self.now, job.flow, cap);
        }
    }

    /// Whether transfers of the client's current activity are tracked for pauses
    /// and cap changes.
    pub(crate) fn tracked(&self, c: u32) -> bool {
        self.cal.tracks_transfers()
            && matches!(self.st[c as usize].activity, Activity::PreCaching(_))
    }

    /// Client `c`'s power schedule for `clients.csv`.
    pub(crate) fn power_schedule_label(&self, c: u32) -> String {
        let p = self.power(c);
        match p.schedule.and_then(|i| self.s.calendar.power.get(i)) {
            None => "always".to_string(),
            Some(s) if p.always_on && !s.on.is_always() => format!("{} (left on)", s.name),
            Some(s) => s.name.clone(),
        }
    }

    /// Seconds the machine was on within `[0, end)`: its schedule's on-time, plus
    /// the time its running task sequence kept it on outside the schedule.
    pub(crate) fn on_time(&self, c: u32, end: SimTime) -> SimTime {
        let Some((p, _)) = self.power_clock(c) else {
            return end;
        };
        let Some(k) = self.s.calendar.clock_of(&p) else {
            return end;
        };
        let st = &self.st[c as usize];
        let scheduled = k.on_time(0, end);
        if st.ts_start == NEVER || st.ts_start >= end {
            return scheduled;
        }
        let ts_end = st.end_at.min(end);
        let kept = ts_end - st.ts_start;
        scheduled + (kept - k.on_time(st.ts_start, ts_end))
    }
}
