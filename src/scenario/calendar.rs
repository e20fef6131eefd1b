//! The calendar keys: `simulation.start`, each site's `utc_offset`,
//! `[[power_schedules]]`, `fleet.power_schedule`, `[[maintenance_windows]]` and
//! `client.bits`, read into a [`Calendar`]. Schedule errors point at the character
//! of the string where the problem is.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::fields::{self, Section};
use super::value::{self, SourceCtx};
use crate::calendar::{self, Bits, Calendar, MaintenanceWindow, PowerSchedule, WeekSchedule};
use crate::diag::Diagnostic;
use crate::engine::time::{DAY, SECOND, SimTime};

/// BITS's default minimum retry delay after a transient error: 600 seconds
/// (`IBackgroundCopyJob::SetMinimumRetryDelay`,
/// <https://learn.microsoft.com/en-us/windows/win32/api/bits/nf-bits-ibackgroundcopyjob-setminimumretrydelay>).
pub const BITS_RETRY_DELAY: SimTime = 600 * SECOND;
/// BITS's smallest retry delay: shorter values are raised to 5 seconds (same page).
pub const BITS_MIN_RETRY_DELAY: SimTime = 5 * SECOND;
/// BITS's default no-progress timeout: 1,209,600 seconds, 14 days
/// (`IBackgroundCopyJob::SetNoProgressTimeout`,
/// <https://learn.microsoft.com/en-us/windows/win32/api/bits/nf-bits-ibackgroundcopyjob-setnoprogresstimeout>).
pub const BITS_NO_PROGRESS_TIMEOUT: SimTime = 14 * DAY;

const POWER_KEYS: &[&str] = &["name", "on", "jitter", "left_on"];
const WINDOW_KEYS: &[&str] = &["name", "schedule", "sites"];
const BITS_KEYS: &[&str] = &[
    "window",
    "inside",
    "outside",
    "retry_delay",
    "no_progress_timeout",
];
/// The longest jitter: half a day already moves a day shift to the night.
const MAX_JITTER: SimTime = DAY / 2;

/// BITS with its defaults and no throttling window.
pub fn default_bits() -> Bits {
    Bits {
        window: None,
        inside: u64::MAX,
        outside: u64::MAX,
        retry_delay: BITS_RETRY_DELAY,
        no_progress_timeout: BITS_NO_PROGRESS_TIMEOUT,
    }
}

/// A schedule string, its errors placed on the character they are about when the
/// string is written plainly (no escapes), else at the string.
pub(crate) fn schedule(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<WeekSchedule, Diagnostic> {
    let text = value::string(ctx, key, v)?;
    calendar::parse::schedule(&text).map_err(|e| {
        let span = v.span();
        let inner = span.start + 1;
        let plain = ctx.text.get(inner..inner + text.len()) == Some(text.as_str());
        let at = if plain { inner + e.at } else { span.start };
        ctx.diag(
            at..at + 1,
            key,
            format!("in schedule {text:?}: {}", e.message),
        )
    })
}

fn located(
    ctx: &SourceCtx<'_>,
    key: &str,
    span: Range<usize>,
    e: calendar::ParseError,
) -> Diagnostic {
    ctx.diag(span, key, e.message)
}

/// Reads `simulation.start` from the `[simulation]` table (its keys are checked
/// there).
pub(crate) fn read_start(
    ctx: &SourceCtx<'_>,
    sim: Option<&Spanned<DeValue<'_>>>,
    cal: &mut Calendar,
    errors: &mut Vec<Diagnostic>,
) {
    let Some(DeValue::Table(t)) = sim.map(Spanned::get_ref) else {
        return;
    };
    let Some(v) = value::get(t, "start") else {
        return;
    };
    let key = "simulation.start";
    match value::string(ctx, key, v) {
        Ok(s) => match calendar::parse::start(&s) {
            Ok(st) => cal.start = st,
            Err(e) => errors.push(located(ctx, key, v.span(), e)),
        },
        Err(d) => errors.push(d),
    }
}

/// Reads each `[[sites]]` entry's `utc_offset` (the rest of the site is read by
/// `topology`).
pub(crate) fn read_offsets(
    ctx: &SourceCtx<'_>,
    sites: Option<&Spanned<DeValue<'_>>>,
    cal: &mut Calendar,
    errors: &mut Vec<Diagnostic>,
) {
    let Some(DeValue::Array(items)) = sites.map(Spanned::get_ref) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let DeValue::Table(t) = item.get_ref() else {
            continue;
        };
        let Some(v) = value::get(t, "utc_offset") else {
            continue;
        };
        let key = format!("sites.{i}.utc_offset");
        let off = value::string(ctx, &key, v).and_then(|s| {
            calendar::parse::utc_offset(&s).map_err(|e| located(ctx, &key, v.span(), e))
        });
        match off {
            Ok(o) => {
                if let Some(slot) = cal.site_offsets.get_mut(i) {
                    *slot = o;
                }
            }
            Err(d) => errors.push(d),
        }
    }
}

/// Reads `[[power_schedules]]` and `fleet.power_schedule`.
pub(crate) fn read_power(
    ctx: &SourceCtx<'_>,
    schedules: Option<&Spanned<DeValue<'_>>>,
    fleet: Option<&Spanned<DeValue<'_>>>,
    cal: &mut Calendar,
    errors: &mut Vec<Diagnostic>,
) {
    if let Some(v) = schedules {
        for t in fields::table_array(ctx, "power_schedules", v, errors) {
            t.check_keys(POWER_KEYS, errors);
            let Some(name) = t.required("name", &value::string, errors) else {
                continue;
            };
            if name == "always" || cal.power.iter().any(|p| p.name == name) {
                let at = t.get("name").map_or(t.span.clone(), |n| n.span());
                let why = if name == "always" {
                    "\"always\" is the built-in schedule of machines never switched off"
                } else {
                    "another power schedule has this name"
                };
                errors.push(ctx.diag(at, &t.key("name"), format!("{why}, expected a new name")));
                continue;
            }
            let on = t.required("on", &schedule, errors);
            let jitter = t.or(
                "jitter",
                0,
                &|c, k, v| {
                    let j = fields::duration(c, k, v)?;
                    if j > MAX_JITTER {
                        Err(c.diag(
                            v.span(),
                            k,
                            "found more than 12h, expected a jitter of at most \"12h\"",
                        ))
                    } else {
                        Ok(j)
                    }
                },
                errors,
            );
            let left_on = t.or("left_on", 0.0, &value::probability, errors);
            // A schedule in error is kept under its name (its error is reported), so
            // `fleet.power_schedule` naming it does not add a second, false error.
            cal.power.push(PowerSchedule {
                name,
                on: on.unwrap_or_else(WeekSchedule::never),
                jitter,
                left_on,
            });
        }
    }
    let Some(DeValue::Table(f)) = fleet.map(Spanned::get_ref) else {
        return;
    };
    let Some(fv) = fleet else { return };
    let s = Section {
        ctx,
        path: "fleet".into(),
        table: f,
        span: fv.span(),
    };
    if s.get("power_schedule").is_none() {
        return;
    }
    let names: Vec<String> = cal.power.iter().map(|p| p.name.clone()).collect();
    let mut listed = names.clone();
    listed.push("always".into());
    let expected = format!(
        "a [[power_schedules]] name or \"always\" (one of: {})",
        listed.join(", ")
    );
    let label = |l: &str| listed.iter().position(|n| n == l);
    let Some(w) = super::fleet::weights(&s, "power_schedule", &expected, &label, errors) else {
        return;
    };
    // "always" is a schedule of its own, appended once, so clients.csv can name it.
    let always = names.len();
    if w.items.iter().any(|&(i, _)| i == always) {
        cal.power.push(PowerSchedule {
            name: "always".into(),
            on: WeekSchedule::always(),
            jitter: 0,
            left_on: 0.0,
        });
    }
    cal.mix = w.items;
}

/// Reads `[[maintenance_windows]]`; `site_names` resolves their `sites`.
pub(crate) fn read_windows(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    site_names: &[String],
    cal: &mut Calendar,
    errors: &mut Vec<Diagnostic>,
) {
    let Some(v) = v else { return };
    for t in fields::table_array(ctx, "maintenance_windows", v, errors) {
        t.check_keys(WINDOW_KEYS, errors);
        let name = t.required("name", &value::string, errors);
        let sched = t.required("schedule", &schedule, errors);
        let mut sites: Vec<usize> = (0..site_names.len()).collect();
        if let Some(sv) = t.get("sites") {
            match fields::string_list(ctx, &t.key("sites"), sv) {
                Ok(list) => {
                    sites.clear();
                    for (n, span) in list {
                        match site_names.iter().position(|s| *s == n) {
                            Some(i) => sites.push(i),
                            None => errors.push(ctx.diag(
                                span,
                                &t.key("sites"),
                                format!(
                                    "unknown site {n:?}, expected one of the [[sites]] names: {}",
                                    site_names.join(", ")
                                ),
                            )),
                        }
                    }
                }
                Err(mut es) => errors.append(&mut es),
            }
        }
        if let (Some(name), Some(schedule)) = (name, sched) {
            cal.windows.push(MaintenanceWindow {
                name,
                schedule,
                sites,
            });
        }
    }
    // Overlapping windows of a site act as one (ConfigMgr's rule for a client in
    // several collections with windows).
    for (site, slot) in cal.site_windows.iter_mut().enumerate() {
        let raw: Vec<(SimTime, SimTime)> = cal
            .windows
            .iter()
            .filter(|w| w.sites.contains(&site))
            .flat_map(|w| w.schedule.intervals().collect::<Vec<_>>())
            .collect();
        let applies = cal.windows.iter().any(|w| w.sites.contains(&site));
        *slot = applies.then(|| WeekSchedule::from_intervals(&raw));
    }
}

/// A BITS rate: a rate, or `"unlimited"`; 0 means no transfer.
fn bits_rate(ctx: &SourceCtx<'_>, key: &str, v: &Spanned<DeValue<'_>>) -> Result<u64, Diagnostic> {
    if let DeValue::String(s) = v.get_ref()
        && s.trim().eq_ignore_ascii_case("unlimited")
    {
        return Ok(u64::MAX);
    }
    value::quantity_u64(ctx, key, v, super::units::Quantity::Rate).map_err(|d| Diagnostic {
        message: format!("{} (or \"unlimited\")", d.message),
        ..d
    })
}

/// Reads `client.bits` from the `[client]` table (its keys are checked there).
pub(crate) fn read_bits(
    ctx: &SourceCtx<'_>,
    client: Option<&DeTable<'_>>,
    cal: &mut Calendar,
    errors: &mut Vec<Diagnostic>,
) {
    let Some(v) = client.and_then(|c| value::get(c, "bits")) else {
        return;
    };
    let t = match Section::new(ctx, "client.bits", v) {
        Ok(t) => t,
        Err(d) => {
            errors.push(d);
            return;
        }
    };
    t.check_keys(BITS_KEYS, errors);
    let b = &mut cal.bits;
    b.window = t.opt("window", &schedule, errors);
    b.inside = t.or("inside", b.inside, &bits_rate, errors);
    b.outside = t.or("outside", b.outside, &bits_rate, errors);
    if b.window.is_none() {
        for k in ["inside", "outside"] {
            if let Some(x) = t.get(k) {
                errors.push(ctx.diag(
                    x.span(),
                    &t.key(k),
                    "a rate for the throttling window needs `window` (e.g. window = \"Mon-Fri 08:00-17:00\")",
                ));
            }
        }
    }
    b.retry_delay = t.or(
        "retry_delay",
        b.retry_delay,
        &|c, k, v| fields::duration(c, k, v).map(|d| d.max(BITS_MIN_RETRY_DELAY)),
        errors,
    );
    b.no_progress_timeout = t.or(
        "no_progress_timeout",
        b.no_progress_timeout,
        &fields::duration,
        errors,
    );
}
