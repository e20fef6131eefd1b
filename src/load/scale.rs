//! The scenario copy a load test runs: same schedule, real faults only.
//!
//! Simulated time stays in scenario units (the transport maps it to wall time by the
//! time scale), so durations need no rewriting. What changes:
//! - content sizes (and the client cache size, so the same items fit) are multiplied
//!   by the size scale: a 3 GB package at `--size-scale 0.001` is 3 MB on the wire;
//! - no simulated transient failures: every failed attempt is a real one;
//! - the DP connection limit is lifted on the client side: the real server's limit is
//!   what is being measured (the load tester's own cap is `--max-connections`).

use super::errors::LoadError;
use crate::scenario::model::Scenario;

/// Multiplies a size, rounding to the nearest byte; a non-empty item stays non-empty.
pub fn scale_size(size: u64, factor: f64) -> u64 {
    let v = (size as f64 * factor).round();
    let v = if v >= u64::MAX as f64 {
        u64::MAX
    } else {
        v as u64
    };
    if size > 0 { v.max(1) } else { 0 }
}

/// Checks a scale factor (positive and finite).
pub fn check_factor(flag: &'static str, v: f64) -> Result<f64, LoadError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(LoadError::BadOption {
            flag,
            reason: format!("{v} is not a positive number"),
        })
    }
}

/// The load-test copy of a scenario.
pub fn for_load(s: &Scenario, size_scale: f64) -> Scenario {
    let mut l = s.clone();
    for c in &mut l.content {
        c.size = scale_size(c.size, size_scale);
    }
    l.client.cache_size = scale_size(l.client.cache_size, size_scale);
    l.client.transient_failure.wired = 0.0;
    l.client.transient_failure.wireless = 0.0;
    l.client.transient_failure.vpn = 0.0;
    for d in &mut l.distribution_points {
        d.max_connections = u32::MAX;
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_and_stay_non_empty() {
        assert_eq!(scale_size(3_200_000_000, 0.001), 3_200_000);
        assert_eq!(scale_size(10, 0.001), 1);
        assert_eq!(scale_size(0, 5.0), 0);
        assert_eq!(scale_size(u64::MAX, 2.0), u64::MAX);
    }

    #[test]
    fn factors_must_be_positive() {
        assert!(check_factor("--size-scale", 0.5).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(check_factor("--size-scale", bad).is_err());
        }
    }
}
