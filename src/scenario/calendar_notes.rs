//! What `validate` says about the calendar: the calendar it understood, and the
//! warning that a required deployment can never start because no maintenance
//! window is long enough for its maximum run time.

use std::fmt::Write;

use super::model::{Purpose, Scenario};
use crate::calendar::WeekSchedule;
use crate::calendar::parse::{fmt_offset, fmt_week_pos};
use crate::engine::time::{DAY, HOUR, MINUTE, SECOND, SimTime};

/// A duration as `3h`, `90m`, `45s`, `2d`.
fn dur(t: SimTime) -> String {
    if t == SimTime::MAX {
        return "unlimited".into();
    }
    for (unit, name) in [(DAY, "d"), (HOUR, "h"), (MINUTE, "m"), (SECOND, "s")] {
        if t >= unit && t.is_multiple_of(unit) {
            return format!("{}{name}", t / unit);
        }
    }
    format!("{:.3}s", t as f64 / 1e6)
}

/// A BITS rate for people.
fn rate(bps: u64) -> String {
    match bps {
        u64::MAX => "unlimited".into(),
        0 => "no transfer".into(),
        b if b >= 1_000_000 => format!("{} Mbps", b as f64 / 1e6),
        b => format!("{} kbps", b as f64 / 1e3),
    }
}

/// A weekly schedule as its merged intervals: `Mon 09:00-17:00, Tue 09:00-17:00`,
/// `Sat 22:00-Sun 06:00`, `always`, `never`.
pub fn fmt_schedule(w: &WeekSchedule) -> String {
    if w.is_always() {
        return "always".into();
    }
    if w.is_never() {
        return "never".into();
    }
    let parts: Vec<String> = w
        .intervals()
        .map(|(a, b)| {
            let (sa, sb) = (fmt_week_pos(a), fmt_week_pos(b));
            if b - a < DAY && a / DAY == (b - 1) / DAY && b % DAY != 0 {
                format!("{sa}-{}", &sb[4..])
            } else {
                format!("{sa}-{sb}")
            }
        })
        .collect();
    format!(
        "{} ({} a week)",
        parts.join(", "),
        dur(w.on_per_week() / MINUTE * MINUTE)
    )
}

/// The calendar as `validate` prints it (nothing for a scenario without one).
pub fn describe(s: &Scenario) -> String {
    let c = &s.calendar;
    let mut o = String::new();
    let uses = c.start != Default::default()
        || c.site_offsets.iter().any(|&x| x != 0)
        || !c.mix.is_empty()
        || !c.windows.is_empty()
        || c.bits.window.is_some();
    if !uses {
        return o;
    }
    let first = s
        .sites
        .first()
        .map_or("the first site", |x| x.name.as_str());
    let _ = writeln!(
        o,
        "  calendar: t = 0 is {} in {first} (local times, no daylight saving)",
        c.start
    );
    for (site, off) in s.sites.iter().zip(&c.site_offsets) {
        let _ = writeln!(o, "    site {}: UTC{}", site.name, fmt_offset(*off));
    }
    for &(i, share) in &c.mix {
        if let Some(p) = c.power.get(i) {
            let _ = writeln!(
                o,
                "    power schedule {} ({:.0}% of clients): on {}, jitter +-{}, {:.0}% left on",
                p.name,
                share * 100.0,
                fmt_schedule(&p.on),
                dur(p.jitter),
                p.left_on * 100.0
            );
        }
    }
    for w in &c.windows {
        let sites: Vec<&str> = w
            .sites
            .iter()
            .filter_map(|&i| s.sites.get(i).map(|x| x.name.as_str()))
            .collect();
        let _ = writeln!(
            o,
            "    maintenance window {} [{}]: {}, longest {}",
            w.name,
            sites.join(", "),
            fmt_schedule(&w.schedule),
            dur(w.schedule.longest())
        );
    }
    let b = &c.bits;
    if let Some(w) = &b.window {
        let _ = writeln!(
            o,
            "    BITS throttling window {}: {} inside, {} outside",
            fmt_schedule(w),
            rate(b.inside),
            rate(b.outside)
        );
    }
    let d = &s.deployment;
    let _ = writeln!(
        o,
        "    policy every {}, max run time {}{}, wake-up {:.0}%; BITS retries after {}, gives up after {} without progress",
        dur(s.client.policy_interval),
        dur(d.max_run_time),
        if d.ignore_maintenance_windows {
            " (maintenance windows ignored)"
        } else {
            ""
        },
        d.wake_up * 100.0,
        dur(b.retry_delay),
        dur(b.no_progress_timeout)
    );
    o
}

/// Warnings about the calendar: a site whose maintenance windows are never open
/// for `max_run_time`, so the required deployment never starts there.
pub fn notes(s: &Scenario, out: &mut Vec<String>) {
    let d = &s.deployment;
    if d.purpose != Purpose::Required || d.ignore_maintenance_windows {
        return;
    }
    for (site, w) in s.sites.iter().zip(&s.calendar.site_windows) {
        let Some(w) = w else { continue };
        if w.longest() < d.max_run_time {
            out.push(format!(
                "no maintenance window of site {} is ever long enough for \
                 deployment.max_run_time ({}): the longest lasts {}, so its required \
                 deployment never starts there (a client runs a deployment only in a \
                 window with at least the maximum run time left)",
                site.name,
                dur(d.max_run_time),
                dur(w.longest())
            ));
        }
    }
}
