//! Simulated time: an integer count of microseconds since the start of the run.
//!
//! Integer time makes runs reproducible bit for bit (no float drift in the clock)
//! and lets the event queue be a radix heap. A `u64` of microseconds spans
//! 584,000 years, so overflow is a matter of refusing absurd inputs up front.

/// Simulated time in microseconds since the start of the simulation.
pub type SimTime = u64;

/// Microseconds per second.
pub const SECOND: SimTime = 1_000_000;
/// Microseconds per minute.
pub const MINUTE: SimTime = 60 * SECOND;
/// Microseconds per hour.
pub const HOUR: SimTime = 60 * MINUTE;
/// Microseconds per day.
pub const DAY: SimTime = 24 * HOUR;

/// Seconds as a float, for reports.
pub fn as_secs_f64(t: SimTime) -> f64 {
    t as f64 / SECOND as f64
}

/// Converts seconds (float) to simulated time, rounding to the nearest microsecond
/// and saturating at the representable range (negative and NaN become 0).
pub fn from_secs_f64(s: f64) -> SimTime {
    if s.is_nan() || s <= 0.0 {
        return 0;
    }
    let us = (s * SECOND as f64).round();
    if us >= u64::MAX as f64 {
        u64::MAX
    } else {
        us as u64
    }
}

/// Exact decimal rendering of a time in seconds (`12.5`, `800`, `0.000001`):
/// no float rounding, trailing zeros trimmed, so outputs are byte-stable.
pub fn fmt_secs(t: SimTime) -> String {
    let whole = t / SECOND;
    let frac = t % SECOND;
    if frac == 0 {
        whole.to_string()
    } else {
        let s = format!("{whole}.{frac:06}");
        s.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_exactly() {
        assert_eq!(fmt_secs(800 * SECOND), "800");
        assert_eq!(fmt_secs(12 * SECOND + 500_000), "12.5");
        assert_eq!(fmt_secs(1), "0.000001");
        assert_eq!(fmt_secs(0), "0");
    }

    #[test]
    fn converts_and_saturates() {
        assert_eq!(from_secs_f64(1.5), 1_500_000);
        assert_eq!(from_secs_f64(-3.0), 0);
        assert_eq!(from_secs_f64(f64::NAN), 0);
        assert_eq!(from_secs_f64(1e300), u64::MAX);
        assert_eq!(as_secs_f64(2 * SECOND), 2.0);
    }
}
