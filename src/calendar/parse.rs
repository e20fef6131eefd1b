//! The schedule grammar, UTC offsets and the start date-time, with errors located
//! by byte offset inside the text (the scenario reader turns them into
//! file:line:column).
//!
//! ```text
//! schedule := "always" | "never" | item (";" item)*
//! item     := days " " time "-" time
//! days     := "daily" | "weekdays" | "weekends" | day-set ("," day-set)*
//! day-set  := day | day "-" day            (a range may wrap: Fri-Mon)
//! day      := Mon | Tue | Wed | Thu | Fri | Sat | Sun   (any case)
//! time     := HH:MM  (00:00 to 23:59; 24:00 as an end only)
//! ```
//!
//! An item whose end is before its start runs past midnight into the next day
//! (`Sat 22:00-06:00` ends Sunday 06:00). An item whose end equals its start is an
//! empty interval and an error (a whole day is `00:00-24:00`).

use super::week::WeekSchedule;
use crate::engine::time::{DAY, HOUR, MINUTE, SECOND, SimTime};

/// A problem in a schedule, offset or date-time text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Byte offset in the text where the problem starts.
    pub at: usize,
    /// What was found and what was expected.
    pub message: String,
}

fn err(at: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        at,
        message: message.into(),
    }
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const EXPECTED_DAYS: &str = "expected daily, weekdays, weekends, a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun), a range (Mon-Fri) or a list (Mon,Wed,Fri)";

/// Parses a schedule (grammar in the module docs).
pub fn schedule(text: &str) -> Result<WeekSchedule, ParseError> {
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("always") {
        return Ok(WeekSchedule::always());
    }
    if trimmed.eq_ignore_ascii_case("never") {
        return Ok(WeekSchedule::never());
    }
    let mut intervals = Vec::new();
    let mut offset = 0;
    for item in text.split(';') {
        let lead = item.len() - item.trim_start().len();
        let body = item.trim();
        let at = offset + lead;
        if body.is_empty() {
            return Err(err(
                at,
                "empty interval, expected DAYS HH:MM-HH:MM (e.g. \"Mon-Fri 07:30-18:30\"), \"always\" or \"never\"",
            ));
        }
        read_item(body, at, &mut intervals)?;
        offset += item.len() + 1;
    }
    Ok(WeekSchedule::from_intervals(&intervals))
}

/// One `DAYS HH:MM-HH:MM` item starting at byte `at` of the whole text.
fn read_item(body: &str, at: usize, out: &mut Vec<(SimTime, SimTime)>) -> Result<(), ParseError> {
    let Some(space) = body.find(char::is_whitespace) else {
        return Err(err(
            at,
            format!(
                "{body:?} has no time range, expected DAYS HH:MM-HH:MM (e.g. \"Mon-Fri 07:30-18:30\")"
            ),
        ));
    };
    let days_text = &body[..space];
    let rest = body[space..].trim_start();
    let rest_at = at + (body.len() - rest.len());
    let days = read_days(days_text, at)?;
    let rest = rest.trim_end();
    let Some(dash) = rest.find('-') else {
        return Err(err(
            rest_at,
            format!("{rest:?} is not a time range, expected HH:MM-HH:MM (e.g. 07:30-18:30)"),
        ));
    };
    let start = read_time(rest[..dash].trim(), rest_at, false)?;
    let end_text = &rest[dash + 1..];
    let end_at = rest_at + dash + 1 + (end_text.len() - end_text.trim_start().len());
    let end = read_time(end_text.trim(), end_at, true)?;
    if start == end {
        return Err(err(
            rest_at,
            format!(
                "empty interval {rest:?}: its end equals its start, expected a later end, an \
                 earlier one to run past midnight, or 00:00-24:00 for a whole day"
            ),
        ));
    }
    let len = if end > start {
        end - start
    } else {
        end + DAY - start
    };
    for d in days {
        let s = d as SimTime * DAY + start;
        out.push((s, s + len));
    }
    Ok(())
}

/// The days of a `DAYS` field, Monday = 0.
fn read_days(text: &str, at: usize) -> Result<Vec<u8>, ParseError> {
    match text.to_ascii_lowercase().as_str() {
        "daily" => return Ok((0..7).collect()),
        "weekdays" => return Ok((0..5).collect()),
        "weekends" => return Ok(vec![5, 6]),
        _ => {}
    }
    let mut days = Vec::new();
    let mut offset = at;
    for part in text.split(',') {
        if part.is_empty() {
            return Err(err(
                offset,
                format!("empty day in {text:?}, {EXPECTED_DAYS}"),
            ));
        }
        match part.split_once('-') {
            Some((a, b)) => {
                let first = day(a, offset)?;
                let last = day(b, offset + a.len() + 1)?;
                let mut d = first;
                loop {
                    days.push(d);
                    if d == last {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days.push(day(part, offset)?),
        }
        offset += part.len() + 1;
    }
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

fn day(text: &str, at: usize) -> Result<u8, ParseError> {
    DAYS.iter()
        .position(|d| d.eq_ignore_ascii_case(text))
        .map(|i| i as u8)
        .ok_or_else(|| err(at, format!("unknown day {text:?}, {EXPECTED_DAYS}")))
}

/// `HH:MM` as µs from midnight; `24:00` only when `end`.
fn read_time(text: &str, at: usize, end: bool) -> Result<SimTime, ParseError> {
    let bad = || {
        err(
            at,
            format!(
                "{text:?} is not a time of day, expected HH:MM from 00:00 to 23:59 (24:00 as an end)"
            ),
        )
    };
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || m.len() != 2 || !digits(m) {
        return Err(bad());
    }
    let (h, m): (u64, u64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && (m != 0 || !end)) {
        return Err(bad());
    }
    Ok(h * HOUR + m * MINUTE)
}

/// Largest UTC offset a site may have, as in the time zones in use (UTC-12:00 to
/// UTC+14:00; ±14:00 is accepted both ways).
pub const MAX_OFFSET: i64 = 14 * HOUR as i64;

/// A UTC offset `+HH:MM` / `-HH:MM` (or `Z`), as signed µs.
pub fn utc_offset(text: &str) -> Result<i64, ParseError> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let bad = || {
        err(
            0,
            format!(
                "{text:?} is not a UTC offset, expected +HH:MM or -HH:MM (e.g. \"+01:00\", \"-05:30\")"
            ),
        )
    };
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "00"));
    let ok = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !ok(h) || !ok(m) {
        return Err(bad());
    }
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 {
        return Err(bad());
    }
    let us = sign * (h * HOUR as i64 + m * MINUTE as i64);
    if us.abs() > MAX_OFFSET {
        return Err(err(
            0,
            format!("{text:?} is beyond ±14:00, expected an offset from -14:00 to +14:00"),
        ));
    }
    Ok(us)
}

/// Renders a UTC offset as `+HH:MM`.
pub fn fmt_offset(us: i64) -> String {
    let sign = if us < 0 { '-' } else { '+' };
    let m = us.unsigned_abs() / MINUTE;
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// A local date and time: the instant `t = 0` in the first site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    /// Year, month (1-12), day (1-31); `None` for the default (a Monday, no date).
    pub date: Option<(i32, u32, u32)>,
    /// Position in the week of `t = 0`, µs from Monday 00:00.
    pub week_pos: SimTime,
}

impl Default for Start {
    /// A Monday, 00:00.
    fn default() -> Self {
        Start {
            date: None,
            week_pos: 0,
        }
    }
}

impl std::fmt::Display for Start {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let day = DAYS
            .get((self.week_pos / DAY) as usize % 7)
            .unwrap_or(&"Mon");
        let in_day = self.week_pos % DAY;
        let (h, m, s) = (
            in_day / HOUR,
            in_day % HOUR / MINUTE,
            in_day % MINUTE / SECOND,
        );
        if let Some((y, mo, d)) = self.date {
            write!(f, "{day} {y:04}-{mo:02}-{d:02} {h:02}:{m:02}")?;
        } else {
            write!(f, "{day} {h:02}:{m:02}")?;
        }
        if s != 0 {
            write!(f, ":{s:02}")?;
        }
        Ok(())
    }
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian; H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A local date-time `YYYY-MM-DDTHH:MM[:SS]` (a space may replace `T`).
pub fn start(text: &str) -> Result<Start, ParseError> {
    let t = text.trim();
    let bad = || {
        err(
            0,
            format!(
                "{text:?} is not a local date-time, expected YYYY-MM-DDTHH:MM (e.g. \"2026-03-02T08:00\")"
            ),
        )
    };
    let (date, time) = t.split_once(['T', 't', ' ']).unwrap_or((t, "00:00"));
    let mut parts = date.split('-');
    let (Some(y), Some(mo), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (Some(y), Some(mo), Some(d)) = (num(y, 4), num(mo, 2), num(d, 2)) else {
        return Err(bad());
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let days_in_month = month_days
        .get((mo as usize).wrapping_sub(1))
        .copied()
        .unwrap_or(0);
    if d == 0 || d > days_in_month {
        return Err(err(0, format!("{text:?} is not a date of the calendar")));
    }
    let mut tp = time.split(':');
    let (Some(h), Some(mi), sec) = (tp.next(), tp.next(), tp.next()) else {
        return Err(bad());
    };
    if tp.next().is_some() {
        return Err(bad());
    }
    let (Some(h), Some(mi)) = (num(h, 2), num(mi, 2)) else {
        return Err(bad());
    };
    let s = match sec {
        None => 0,
        Some(s) => num(s, 2).ok_or_else(bad)?,
    };
    if h > 23 || mi > 59 || s > 59 {
        return Err(bad());
    }
    // 1970-01-01 was a Thursday (Monday = 0 gives 3).
    let weekday = (days_from_civil(i64::from(y), mo, d) + 3).rem_euclid(7) as u64;
    let in_day = u64::from(h) * HOUR + u64::from(mi) * MINUTE + u64::from(s) * SECOND;
    Ok(Start {
        date: Some((y as i32, mo, d)),
        week_pos: weekday * DAY + in_day,
    })
}

/// Renders a week position as `Mon 07:30`.
pub fn fmt_week_pos(pos: SimTime) -> String {
    let pos = pos % super::week::WEEK;
    let in_day = pos % DAY;
    format!(
        "{} {:02}:{:02}",
        DAYS.get((pos / DAY) as usize).unwrap_or(&"Mon"),
        in_day / HOUR,
        in_day % HOUR / MINUTE
    )
}
