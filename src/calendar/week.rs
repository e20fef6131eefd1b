//! A weekly schedule as sorted intervals with prefix sums of on-time, and the
//! arithmetic on it: every question is a binary search, never a walk over time.
//!
//! # Representation
//!
//! A schedule is a set of half-open intervals `[start, end)` of week positions
//! (µs from Monday 00:00). The intervals are merged (no two overlap or touch),
//! sorted by start, every start lies in `[0, WEEK)`, and the last one may run past
//! the end of the week (`Sun 22:00-06:00` ends at `WEEK + 6h`); the one that would
//! start at Monday 00:00 is then merged into it. Repeating the week gives the
//! infinite sorted sequence of intervals `k = w·n + i` (week `w`, interval `i`):
//!
//! ```text
//! start(k) = w·WEEK + starts[i]      end(k) = w·WEEK + ends[i]
//! cum(k)   = w·ON + prefix[i]        (on-time of every interval before k)
//! ```
//!
//! where `ON` is the on-time of one week. The queries take an absolute position
//! `u >= WEEK` (the callers add a week, [`super::Clock`] does it), so the interval
//! at or before `u` always exists:
//!
//! - the interval `k(u)` is the last one starting at or before `u`: one binary
//!   search of `u mod WEEK` in `starts`;
//! - on at `u` iff `u < end(k(u))`; the next change is `end(k)` (on) or
//!   `start(k + 1)` (off);
//! - on-time up to `u` is `F(u) = cum(k) + min(u, end(k)) - start(k)`, so on-time
//!   between two instants is a difference of two `F`;
//! - the instant at which `d` of on-time has elapsed after `u` inverts `F`: the
//!   target `F(u) + d` splits into whole weeks and a remainder found by binary
//!   search in `prefix`;
//! - the first instant at or after `u` that is on with at least `d` left before
//!   the next off: either `u` itself, or the start of the first later interval of
//!   length `>= d`, found by descending a max-tree of interval lengths over two
//!   weeks (if none of a week's intervals is that long, none ever is).

#![allow(
    clippy::indexing_slicing,
    reason = "per-event arithmetic: every index is an interval number taken modulo the \
              interval count, or a tree node below the tree's size, in range by construction; \
              no user value is used as an index"
)]

use crate::engine::time::{DAY, SimTime};

/// Length of a week, µs.
pub const WEEK: SimTime = 7 * DAY;

/// A weekly schedule: when something is on (a machine, a maintenance window, a
/// BITS throttling window), in local week positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekSchedule {
    /// Interval starts, sorted, each in `[0, WEEK)`.
    starts: Vec<SimTime>,
    /// Interval ends; `ends[i] < starts[i + 1]`, and the last end is before
    /// `starts[0] + WEEK`.
    ends: Vec<SimTime>,
    /// `prefix[i]`: on-time of intervals `0..i`; `prefix[n]` is a week's on-time.
    prefix: Vec<SimTime>,
    /// Max-tree of interval lengths over two repeats of the week (leaves
    /// `size..size + 2n`), for the first interval at least a given length long.
    tree: Vec<SimTime>,
    /// Leaves of `tree` (a power of two at least `2n`).
    size: usize,
    /// On the whole week (no interval can express it: it has no start).
    always: bool,
}

impl WeekSchedule {
    /// Never on.
    pub fn never() -> WeekSchedule {
        WeekSchedule::from_intervals(&[])
    }

    /// Always on.
    pub fn always() -> WeekSchedule {
        WeekSchedule::from_intervals(&[(0, WEEK)])
    }

    /// The union of intervals `[start, end)` of week positions (µs from Monday
    /// 00:00); a start may be anywhere in `[0, WEEK)` and an end up to a week after
    /// its start (an interval past Sunday midnight continues on Monday). Empty
    /// intervals are ignored.
    pub fn from_intervals(raw: &[(SimTime, SimTime)]) -> WeekSchedule {
        let mut iv: Vec<(SimTime, SimTime)> = raw
            .iter()
            .filter(|(s, e)| e > s)
            .map(|&(s, e)| {
                let s2 = s % WEEK;
                (s2, s2 + (e - s).min(WEEK))
            })
            .collect();
        iv.sort_unstable();
        let mut merged: Vec<(SimTime, SimTime)> = Vec::with_capacity(iv.len());
        for (s, e) in iv {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        // The last interval may reach into the next week and swallow the first ones.
        while merged.len() > 1 {
            let first = merged[0];
            let last = merged.len() - 1;
            if merged[last].1 >= first.0 + WEEK {
                merged[last].1 = merged[last].1.max(first.1 + WEEK);
                merged.remove(0);
            } else {
                break;
            }
        }
        let always = merged.first().is_some_and(|&(s, e)| e - s >= WEEK);
        if always {
            merged.clear();
        }
        let starts: Vec<SimTime> = merged.iter().map(|x| x.0).collect();
        let ends: Vec<SimTime> = merged.iter().map(|x| x.1).collect();
        let mut prefix = Vec::with_capacity(merged.len() + 1);
        let mut acc = 0;
        prefix.push(0);
        for (s, e) in &merged {
            acc += e - s;
            prefix.push(acc);
        }
        let n = merged.len();
        let size = (2 * n).next_power_of_two().max(1);
        let mut tree = vec![0; 2 * size];
        for j in 0..2 * n {
            tree[size + j] = ends[j % n] - starts[j % n];
        }
        for j in (1..size).rev() {
            tree[j] = tree[2 * j].max(tree[2 * j + 1]);
        }
        WeekSchedule {
            starts,
            ends,
            prefix,
            tree,
            size,
            always,
        }
    }

    /// Whether it is on the whole week.
    pub fn is_always(&self) -> bool {
        self.always
    }

    /// Whether it is never on.
    pub fn is_never(&self) -> bool {
        !self.always && self.starts.is_empty()
    }

    /// On-time in one week, µs.
    pub fn on_per_week(&self) -> SimTime {
        if self.always {
            WEEK
        } else {
            self.prefix.last().copied().unwrap_or(0)
        }
    }

    /// The longest interval, µs (a week when always on).
    pub fn longest(&self) -> SimTime {
        if self.always {
            SimTime::MAX
        } else {
            self.tree.get(1).copied().unwrap_or(0)
        }
    }

    /// The merged intervals, starts in `[0, WEEK)`, for printing and plots.
    pub fn intervals(&self) -> impl Iterator<Item = (SimTime, SimTime)> + '_ {
        let full = self.always.then_some((0, WEEK));
        full.into_iter()
            .chain(self.starts.iter().copied().zip(self.ends.iter().copied()))
    }

    fn n(&self) -> u64 {
        self.starts.len() as u64
    }

    fn start_of(&self, k: u64) -> SimTime {
        let n = self.n();
        (k / n) * WEEK + self.starts[(k % n) as usize]
    }

    fn end_of(&self, k: u64) -> SimTime {
        let n = self.n();
        (k / n) * WEEK + self.ends[(k % n) as usize]
    }

    fn cum_of(&self, k: u64) -> SimTime {
        let n = self.n();
        (k / n) * self.on_per_week() + self.prefix[(k % n) as usize]
    }

    /// The last interval starting at or before `u` (`u >= WEEK`, intervals exist).
    fn interval_at(&self, u: SimTime) -> u64 {
        let (w, p) = (u / WEEK, u % WEEK);
        let i = self.starts.partition_point(|&s| s <= p) as u64;
        // i == 0: the last interval of the previous week (w >= 1).
        w * self.n() + i - 1
    }

    /// Whether on at `u` (`u >= WEEK`).
    pub(crate) fn on_at(&self, u: SimTime) -> bool {
        if self.always {
            return true;
        }
        if self.starts.is_empty() {
            return false;
        }
        u < self.end_of(self.interval_at(u))
    }

    /// The first instant after `u` at which the state changes; `None` when it never
    /// does (always or never on).
    pub(crate) fn next_change(&self, u: SimTime) -> Option<SimTime> {
        if self.always || self.starts.is_empty() {
            return None;
        }
        let k = self.interval_at(u);
        let end = self.end_of(k);
        Some(if u < end { end } else { self.start_of(k + 1) })
    }

    /// On-time in `[WEEK·0, u)` counted from the origin of the repeated sequence.
    pub(crate) fn on_time_until(&self, u: SimTime) -> SimTime {
        if self.always {
            return u;
        }
        if self.starts.is_empty() {
            return 0;
        }
        let k = self.interval_at(u);
        let (s, e) = (self.start_of(k), self.end_of(k));
        self.cum_of(k) + u.min(e) - s
    }

    /// The instant at which `d` of on-time has elapsed after `u`: the smallest `v`
    /// with `on_time(u, v) >= d` (`u` itself for `d = 0`); `None` when never on.
    pub(crate) fn after_on_time(&self, u: SimTime, d: SimTime) -> Option<SimTime> {
        if d == 0 {
            return Some(u);
        }
        if self.always {
            return u.checked_add(d);
        }
        let on = self.on_per_week();
        if on == 0 {
            return None;
        }
        let target = self.on_time_until(u).checked_add(d)?;
        let w = (target - 1) / on;
        let r = target - w * on; // in 1..=on
        // The interval in which the cumulative on-time reaches r.
        let i = self.prefix[1..].partition_point(|&p| p < r);
        Some(w * WEEK + self.starts[i] + (r - self.prefix[i]))
    }

    /// The first instant at or after `u` that is on.
    pub(crate) fn first_on(&self, u: SimTime) -> Option<SimTime> {
        if self.always {
            return Some(u);
        }
        if self.starts.is_empty() {
            return None;
        }
        let k = self.interval_at(u);
        Some(if u < self.end_of(k) {
            u
        } else {
            self.start_of(k + 1)
        })
    }

    /// The first instant at or after `u` that is on with at least `d` left before
    /// the next off (`d = 0`: [`first_on`](Self::first_on)); `None` when no
    /// interval is ever that long.
    pub(crate) fn next_fit(&self, u: SimTime, d: SimTime) -> Option<SimTime> {
        if self.always {
            return Some(u);
        }
        if self.starts.is_empty() {
            return None;
        }
        let k = self.interval_at(u);
        let end = self.end_of(k);
        if u < end && end - u >= d {
            return Some(u);
        }
        let n = self.n();
        let from = (k + 1) % n;
        let j = self.first_at_least(from as usize, d)? as u64;
        // j in from..from + n: the interval k + 1 + (j - from).
        Some(self.start_of(k + 1 + (j - from)))
    }

    /// The first leaf index `j >= from` of the doubled lengths with length `>= d`,
    /// within one week of `from`.
    fn first_at_least(&self, from: usize, d: SimTime) -> Option<usize> {
        let n = self.starts.len();
        if self.tree.get(1).is_none_or(|&m| m < d) {
            return None;
        }
        // Walk up from the leaf, then down: the classic first-at-or-after search.
        let mut j = self.size + from;
        loop {
            if self.tree[j] >= d {
                break;
            }
            // Move to the next subtree to the right.
            while j & 1 == 1 {
                j >>= 1;
                if j <= 1 {
                    return None;
                }
            }
            j += 1;
        }
        while j < self.size {
            j = if self.tree[2 * j] >= d {
                2 * j
            } else {
                2 * j + 1
            };
        }
        let leaf = j - self.size;
        (leaf < from + n).then_some(leaf)
    }
}
