//! The calendar: wall-clock time, when machines are on, maintenance windows and
//! BITS throttling windows, as arithmetic on weekly schedules. It knows nothing of
//! the simulation: the rollout asks it questions about instants.
//!
//! # Time
//!
//! Simulated time `t` counts µs from `simulation.start`, a local date-time of the
//! first site (default: a Monday, 00:00). A site's local time is UTC plus its
//! `utc_offset`; there is no daylight saving time, so every local time is a fixed
//! shift of `t`, and a weekly schedule read in a site's local time repeats every
//! week of `t`. A machine's power schedule is moreover shifted by the client's own
//! jitter (one uniform draw in `[-jitter, +jitter]`, fixed for the client): it
//! switches on and off that much earlier or later than the schedule says.
//!
//! # Questions
//!
//! A [`Clock`] is a [`WeekSchedule`] seen from one client or site (its shift).
//! Every question is answered directly, in O(log n) for n intervals a week (see
//! [`week`]): is it on at `t`, when does it next switch, how much on-time lies
//! between two instants, when will `d` of on-time have elapsed, when does the next
//! window with at least `d` left start. [`Calendar::clock_of`] gives the power
//! clock of client `c` from the seed alone (its schedule, `left_on` and jitter are
//! drawn from its own random stream), so any layer that knows a client's id and
//! site can ask whether it is on (peer content needs that of its peers).
//!
//! ```
//! use fleetsim::calendar::{Clock, parse};
//! use fleetsim::engine::time::HOUR;
//!
//! let office = parse::schedule("Mon-Fri 09:00-17:00").unwrap();
//! let clock = Clock::new(&office, 0); // t = 0 is Monday 00:00
//! let monday_9 = 9 * HOUR;
//! assert!(clock.is_on(monday_9));
//! // 10 hours of work from Monday 09:00: 8 on Monday, 2 on Tuesday.
//! assert_eq!(clock.after_on_time(monday_9, 10 * HOUR), Some(24 * HOUR + 11 * HOUR));
//! ```

pub mod parse;
pub mod week;

#[cfg(test)]
mod tests;

pub use parse::{ParseError, Start};
pub use week::{WEEK, WeekSchedule};

use crate::engine::rng;
use crate::engine::time::{DAY, SimTime};

/// Random-stream kind of a client's power draws (schedule, `left_on`, jitter);
/// fleet generation uses kinds 1..=9 and the rollout 10..=29.
pub const POWER_STREAM: u32 = 30;

/// A schedule seen from one client or site: `t` maps to the schedule position
/// `t + shift`, with `shift` in `[WEEK, 2 WEEK)` so that the arithmetic never goes
/// below the first week.
#[derive(Debug, Clone, Copy)]
pub struct Clock<'a> {
    sched: &'a WeekSchedule,
    shift: SimTime,
}

impl<'a> Clock<'a> {
    /// The schedule as seen by something whose local week position at `t = 0` is
    /// `pos0` µs after Monday 00:00 (negative or beyond a week is taken modulo).
    pub fn new(sched: &'a WeekSchedule, pos0: i64) -> Clock<'a> {
        let shift = WEEK + pos0.rem_euclid(WEEK as i64) as SimTime;
        Clock { sched, shift }
    }

    /// The schedule this clock reads.
    pub fn schedule(&self) -> &'a WeekSchedule {
        self.sched
    }

    fn back(&self, u: SimTime) -> SimTime {
        u - self.shift
    }

    /// Whether it is on at `t`.
    pub fn is_on(&self, t: SimTime) -> bool {
        self.sched.on_at(t.saturating_add(self.shift))
    }

    /// The first instant after `t` at which it switches; `None` if it never does.
    pub fn next_switch(&self, t: SimTime) -> Option<SimTime> {
        self.sched
            .next_change(t.saturating_add(self.shift))
            .map(|u| self.back(u))
    }

    /// On-time within `[a, b)`.
    pub fn on_time(&self, a: SimTime, b: SimTime) -> SimTime {
        if b <= a {
            return 0;
        }
        let s = self.shift;
        self.sched.on_time_until(b.saturating_add(s)) - self.sched.on_time_until(a + s)
    }

    /// The instant at which `d` of on-time has elapsed after `t` (`t` for `d = 0`);
    /// `None` if it is never on.
    pub fn after_on_time(&self, t: SimTime, d: SimTime) -> Option<SimTime> {
        self.sched
            .after_on_time(t.saturating_add(self.shift), d)
            .map(|u| self.back(u))
    }

    /// The first instant at or after `t` at which it is on.
    pub fn first_on(&self, t: SimTime) -> Option<SimTime> {
        self.sched
            .first_on(t.saturating_add(self.shift))
            .map(|u| self.back(u))
    }

    /// The first instant at or after `t` at which it is on with at least `d` left
    /// before it switches off; `None` if no interval is ever that long.
    pub fn next_fit(&self, t: SimTime, d: SimTime) -> Option<SimTime> {
        self.sched
            .next_fit(t.saturating_add(self.shift), d)
            .map(|u| self.back(u))
    }
}

/// The first instant at or after `t` at which `a` is on and `b` is on with at
/// least `d` left (a machine that is on, inside a maintenance window long enough
/// for the task sequence); `None` if that never happens.
///
/// Both clocks repeat every week, so if no such instant lies within a week of `t`
/// none ever does; each step moves to the next interval start of one of them, so
/// this takes at most as many steps as the two schedules have intervals in a week.
pub fn first_common(a: &Clock<'_>, b: &Clock<'_>, t: SimTime, d: SimTime) -> Option<SimTime> {
    let limit = t.saturating_add(2 * WEEK);
    let mut x = t;
    while x <= limit {
        let on = a.first_on(x)?;
        let fit = b.next_fit(on, d)?;
        if a.is_on(fit) {
            return Some(fit);
        }
        x = fit.max(on).max(x + 1);
    }
    None
}

/// The spans within `[0, end)` during which `c` is on.
fn on_spans(c: &Clock<'_>, end: SimTime) -> Vec<(SimTime, SimTime)> {
    let mut out = Vec::new();
    let mut x = match c.first_on(0) {
        Some(x) => x,
        None => return out,
    };
    while x < end {
        let off = c.next_switch(x).unwrap_or(end).min(end);
        out.push((x, off));
        if off >= end {
            break;
        }
        match c.first_on(off) {
            Some(n) if n > x => x = n,
            _ => break,
        }
    }
    out
}

/// The schedule that is on exactly when `w` is off.
fn complement(w: &WeekSchedule) -> WeekSchedule {
    let iv: Vec<(SimTime, SimTime)> = w.intervals().collect();
    let Some(&(first, _)) = iv.first() else {
        return WeekSchedule::always();
    };
    let mut out = Vec::new();
    for (i, &(_, end)) in iv.iter().enumerate() {
        let next = iv.get(i + 1).map_or(first + WEEK, |n| n.0);
        if next > end {
            out.push((end, next));
        }
    }
    WeekSchedule::from_intervals(&out)
}

/// `[[power_schedules]]`: when a kind of machine is on.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerSchedule {
    /// Unique name, as `fleet.power_schedule` and `clients.csv` spell it.
    pub name: String,
    /// When the machines are on, in their site's local time.
    pub on: WeekSchedule,
    /// Each client's shift is a fixed uniform draw in `[-jitter, +jitter]`, µs.
    pub jitter: SimTime,
    /// Share of these clients that are never switched off.
    pub left_on: f64,
}

/// `[[maintenance_windows]]`: when required deployments may start.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceWindow {
    /// Name, for messages and `marks.csv`.
    pub name: String,
    /// When the window is open, in the site's local time.
    pub schedule: WeekSchedule,
    /// Indices of the sites it applies to.
    pub sites: Vec<usize>,
}

/// `client.bits`: BITS settings for background transfers.
#[derive(Debug, Clone, PartialEq)]
pub struct Bits {
    /// The throttling window, in the site's local time (`None`: no throttling).
    pub window: Option<WeekSchedule>,
    /// Rate inside the window, bits/s (`u64::MAX`: unlimited; 0: no transfer).
    pub inside: u64,
    /// Rate outside the window, bits/s (`u64::MAX`: unlimited; 0: no transfer).
    pub outside: u64,
    /// BITS's minimum retry delay after a transient error, µs.
    pub retry_delay: SimTime,
    /// BITS's no-progress timeout, µs: a job without a byte received for this long
    /// after a transient error fails.
    pub no_progress_timeout: SimTime,
}

/// The whole calendar of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    /// Local date-time of `t = 0` in the first site.
    pub start: Start,
    /// Each site's UTC offset, µs (indexed like the sites).
    pub site_offsets: Vec<i64>,
    /// `[[power_schedules]]`.
    pub power: Vec<PowerSchedule>,
    /// `fleet.power_schedule`: weights over `power` (index, probability); empty:
    /// every machine is always on.
    pub mix: Vec<(usize, f64)>,
    /// `[[maintenance_windows]]`.
    pub windows: Vec<MaintenanceWindow>,
    /// Maintenance windows merged per site (`None`: no window applies there, the
    /// site's required deployments are not restricted).
    pub site_windows: Vec<Option<WeekSchedule>>,
    /// `client.bits`.
    pub bits: Bits,
}

/// How one client's machine is powered: its schedule (`None`: never switched off)
/// and the local week position of its clock at `t = 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientPower {
    /// Index into [`Calendar::power`] of the client's schedule, even if it is left
    /// on (for `clients.csv`); `None` when the fleet has no power schedules.
    pub schedule: Option<usize>,
    /// The machine is never switched off (no schedule, or drawn `left_on`).
    pub always_on: bool,
    /// Week position of its power clock at `t = 0`, µs (site shift minus jitter).
    pub pos0: i64,
}

impl Calendar {
    /// A calendar that changes nothing: machines always on, no windows, no BITS
    /// throttling, BITS's default retries, starting on a Monday at 00:00 UTC.
    pub fn new(sites: usize, bits: Bits) -> Calendar {
        Calendar {
            start: Start::default(),
            site_offsets: vec![0; sites],
            power: Vec::new(),
            mix: Vec::new(),
            windows: Vec::new(),
            site_windows: vec![None; sites],
            bits,
        }
    }

    /// Whether some machines sleep.
    pub fn has_power(&self) -> bool {
        self.mix.iter().any(|&(i, p)| {
            p > 0.0
                && self
                    .power
                    .get(i)
                    .is_some_and(|s| !s.on.is_always() && s.left_on < 1.0)
        })
    }

    /// Whether the BITS throttling window changes anything.
    pub fn has_throttle(&self) -> bool {
        self.bits.window.is_some()
            && (self.bits.inside != u64::MAX || self.bits.outside != u64::MAX)
    }

    /// Whether any maintenance window applies.
    pub fn has_windows(&self) -> bool {
        self.site_windows.iter().any(Option::is_some)
    }

    /// Local week position of site `site` at `t = 0`, µs.
    pub fn site_pos0(&self, site: usize) -> i64 {
        let first = self.site_offsets.first().copied().unwrap_or(0);
        let own = self.site_offsets.get(site).copied().unwrap_or(first);
        self.start.week_pos as i64 + own - first
    }

    /// Client `c`'s power: its schedule, whether it is left on and its jitter, drawn
    /// from its own random stream (`seed`, `c`, [`POWER_STREAM`]).
    pub fn power_of(&self, seed: u64, c: u64, site: usize) -> ClientPower {
        let pos = self.site_pos0(site);
        if self.mix.is_empty() {
            return ClientPower {
                schedule: None,
                always_on: true,
                pos0: pos,
            };
        }
        let mut r = rng::stream(seed, c, rng::purpose(POWER_STREAM, 0));
        let u = r.next_f64();
        let mut acc = 0.0;
        let mut pick = self.mix.iter().rposition(|&(_, p)| p > 0.0).unwrap_or(0);
        for (j, &(_, p)) in self.mix.iter().enumerate() {
            acc += p;
            if u < acc {
                pick = j;
                break;
            }
        }
        let idx = self.mix.get(pick).map_or(0, |m| m.0);
        let Some(s) = self.power.get(idx) else {
            return ClientPower {
                schedule: None,
                always_on: true,
                pos0: pos,
            };
        };
        let left_on = r.next_f64() < s.left_on;
        let jitter = ((2.0 * r.next_f64() - 1.0) * s.jitter as f64).round() as i64;
        ClientPower {
            schedule: Some(idx),
            always_on: left_on || s.on.is_always(),
            pos0: pos - jitter,
        }
    }

    /// Client `c`'s power clock; `None` when it is never switched off.
    pub fn clock_of(&self, p: &ClientPower) -> Option<Clock<'_>> {
        if p.always_on {
            return None;
        }
        let s = self.power.get(p.schedule?)?;
        Some(Clock::new(&s.on, p.pos0))
    }

    /// The maintenance windows of `site` as a clock; `None` when none applies.
    pub fn windows_of(&self, site: usize) -> Option<Clock<'_>> {
        let w = self.site_windows.get(site)?.as_ref()?;
        Some(Clock::new(w, self.site_pos0(site)))
    }

    /// The BITS throttling window of `site` as a clock; `None` without one.
    pub fn bits_window_of(&self, site: usize) -> Option<Clock<'_>> {
        let w = self.bits.window.as_ref()?;
        Some(Clock::new(w, self.site_pos0(site)))
    }

    /// Whether the scenario uses any calendar key (a start, offsets, power
    /// schedules, maintenance windows or a BITS window).
    pub fn is_used(&self) -> bool {
        self.start != Start::default()
            || self.site_offsets.iter().any(|&x| x != 0)
            || !self.mix.is_empty()
            || !self.windows.is_empty()
            || self.bits.window.is_some()
    }

    /// What a time axis shades for the first site within `[0, end)`, as
    /// `(kind, from, to)` sorted by kind then time: `weekend` (Saturday 00:00 to
    /// Monday 00:00 local), `night` (when the fleet's most common power schedule,
    /// without jitter, is off, outside weekends) and `window` (its maintenance
    /// windows). A few rows a week.
    pub fn axis_marks(&self, end: SimTime) -> Vec<(&'static str, SimTime, SimTime)> {
        let pos0 = self.site_pos0(0);
        let weekend_sched = WeekSchedule::from_intervals(&[(5 * DAY, 7 * DAY)]);
        let weekend = Clock::new(&weekend_sched, pos0);
        let mut out = Vec::new();
        for (a, b) in on_spans(&weekend, end) {
            out.push(("weekend", a, b));
        }
        let main = self
            .mix
            .iter()
            .filter(|m| m.1 > 0.0)
            .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
            .and_then(|m| self.power.get(m.0))
            .filter(|p| !p.on.is_always());
        if let Some(p) = main {
            let off_sched = complement(&p.on);
            let off = Clock::new(&off_sched, pos0);
            for (a, b) in on_spans(&off, end) {
                // The parts of the off-period outside weekends.
                let mut x = a;
                while x < b {
                    if weekend.is_on(x) {
                        x = weekend.next_switch(x).unwrap_or(b).min(b);
                        continue;
                    }
                    let y = weekend.next_switch(x).unwrap_or(b).min(b);
                    out.push(("night", x, y));
                    x = y;
                }
            }
        }
        if let Some(w) = self.windows_of(0) {
            for (a, b) in on_spans(&w, end) {
                out.push(("window", a, b));
            }
        }
        out
    }

    /// The BITS rate cap of a background transfer of `site` at `t`, bits/s
    /// (`u64::MAX`: none).
    pub fn bits_rate(&self, site: usize, t: SimTime) -> u64 {
        match self.bits_window_of(site) {
            Some(w) if w.is_on(t) => self.bits.inside,
            Some(_) => self.bits.outside,
            None => u64::MAX,
        }
    }
}
