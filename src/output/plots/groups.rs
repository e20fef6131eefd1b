//! The time buckets a chart draws: a run's samples (one per `bandwidth_interval`, or
//! per fold of a long file) summed into groups of a round width taken from
//! [`LADDER`], so an axis reads "ended per hour" or "per 10 min", never "per 35m".
//!
//! A group is at least one sample wide and there are at most about [`MAX_GROUPS`] of
//! them (a chart is 1,200 pixels wide). When the sample width does not divide the
//! group width (a 7-minute interval shown per 10 min), each sample is shared between
//! the groups it overlaps in proportion to the overlap, so totals and mean rates are
//! kept exactly and no group shows a double sample.

use super::data::{LinkSample, ResultData};

/// Most groups a time series is coarsened to (fewer when the ladder's next width
/// above `span / MAX_GROUPS` is wider).
pub const MAX_GROUPS: usize = 600;

/// Round group widths, seconds, and how an axis names them after "per".
pub const LADDER: [(f64, &str); 17] = [
    (1.0, "second"),
    (5.0, "5 s"),
    (10.0, "10 s"),
    (30.0, "30 s"),
    (60.0, "minute"),
    (300.0, "5 min"),
    (600.0, "10 min"),
    (900.0, "15 min"),
    (1800.0, "30 min"),
    (3600.0, "hour"),
    (7200.0, "2 h"),
    (10800.0, "3 h"),
    (21600.0, "6 h"),
    (43200.0, "12 h"),
    (86400.0, "day"),
    (172_800.0, "2 days"),
    (604_800.0, "week"),
];

/// The widest group, for spans of more than 600 weeks.
const WIDEST: (f64, &str) = (604_800.0, "week");

/// A time axis cut into equal groups of a [`LADDER`] width.
#[derive(Debug, Clone, Copy)]
pub struct Groups {
    /// Group width, seconds (a [`LADDER`] width).
    pub width_s: f64,
    /// Number of groups.
    pub n: usize,
    /// The width's name after "per" (`hour`, `10 min`).
    pub name: &'static str,
}

impl Groups {
    /// Groups covering `span_s` with samples of `bucket_s`: the narrowest ladder width
    /// that is at least one sample and leaves at most [`MAX_GROUPS`] groups (the
    /// widest, a week, beyond that).
    pub fn new(bucket_s: f64, span_s: f64) -> Self {
        let b = if bucket_s.is_finite() && bucket_s > 0.0 {
            bucket_s
        } else {
            1.0
        };
        let span = if span_s.is_finite() && span_s > 0.0 {
            span_s
        } else {
            b
        };
        let least = (span / MAX_GROUPS as f64).max(b);
        let (width_s, name) = LADDER
            .iter()
            .copied()
            .find(|(w, _)| *w >= least * (1.0 - 1e-9))
            .unwrap_or(WIDEST);
        let n = (span / width_s - 1e-9).ceil().max(1.0) as usize;
        Groups { width_s, n, name }
    }

    /// The groups of one run's whole span.
    pub fn of(d: &ResultData) -> Self {
        Self::new(d.bucket_s, d.span_s())
    }

    /// The groups of the span in which one run's network was busy.
    pub fn of_network(d: &ResultData) -> Self {
        Self::new(d.bucket_s, d.active_span_s())
    }

    /// "per hour", "per 10 min": what one group is, for axis and legend text.
    pub fn per(&self) -> String {
        format!("per {}", self.name)
    }

    /// Group holding an instant (clamped to the first and last).
    pub fn index(&self, t: f64) -> usize {
        let i = (t / self.width_s).floor();
        if i.is_finite() && i > 0.0 {
            (i as usize).min(self.n.saturating_sub(1))
        } else {
            0
        }
    }

    /// The groups a sample `[t, t + len)` overlaps, with the share of the sample in
    /// each (the shares sum to 1; one group with share 1 when the sample fits in it,
    /// which is always the case when `len` divides the group width).
    pub fn spread(&self, t: f64, len: f64) -> Spread {
        let first = self.index(t);
        let last = if len > 0.0 {
            self.index(t + len * (1.0 - 1e-9))
        } else {
            first
        };
        Spread {
            g: *self,
            t,
            len,
            next: first,
            last,
            given: 0.0,
        }
    }

    /// Start of group `i`, seconds.
    pub fn start(&self, i: usize) -> f64 {
        i as f64 * self.width_s
    }

    /// A per-group series drawn as steps: `(x, value)` pairs in axis units.
    pub fn steps(&self, v: &[f64], unit: super::style::TimeUnit) -> Vec<(f64, f64)> {
        let mut pts = Vec::with_capacity(v.len() * 2);
        for (i, &y) in v.iter().enumerate() {
            pts.push((self.start(i) / unit.secs, y));
            pts.push((self.start(i + 1) / unit.secs, y));
        }
        pts
    }
}

/// Iterator of [`Groups::spread`]: `(group, share)`.
#[derive(Debug, Clone)]
pub struct Spread {
    g: Groups,
    t: f64,
    len: f64,
    next: usize,
    last: usize,
    given: f64,
}

impl Iterator for Spread {
    type Item = (usize, f64);

    fn next(&mut self) -> Option<(usize, f64)> {
        if self.next > self.last {
            return None;
        }
        let i = self.next;
        self.next += 1;
        if i == self.last {
            // The last group takes what is left, so shares always sum to 1.
            return Some((i, 1.0 - self.given));
        }
        let from = self.t.max(self.g.start(i));
        let to = (self.t + self.len).min(self.g.start(i + 1));
        let share = ((to - from) / self.len).clamp(0.0, 1.0 - self.given);
        self.given += share;
        Some((i, share))
    }
}

/// One link's samples per group: mean rate, most active, longest queue.
///
/// One pass over the samples: this runs for every link of every run's plots, and
/// a second pass for the rate doubled its cost.
pub fn link_groups(samples: &[LinkSample], g: Groups, bucket_s: f64) -> [Vec<f64>; 3] {
    let mut sum = vec![0.0; g.n];
    let mut active = vec![0.0f64; g.n];
    let mut queued = vec![0.0f64; g.n];
    for s in samples {
        for (i, share) in g.spread(s.time_s, bucket_s) {
            if let (Some(a), Some(b), Some(c)) =
                (sum.get_mut(i), active.get_mut(i), queued.get_mut(i))
            {
                // Bit-seconds, divided by the group width below into a mean rate.
                *a += s.bps * bucket_s * share;
                *b = b.max(s.active);
                *c = c.max(s.queued);
            }
        }
    }
    for v in &mut sum {
        *v /= g.width_s;
    }
    [sum, active, queued]
}

/// One link's mean rate per group of the bytes peers saved it, bits/s: each
/// sample's bit-seconds shared between the groups it overlaps, divided by the
/// group width (as [`link_groups`] does for the link's own rate).
pub fn saved_groups(samples: &[LinkSample], g: Groups, bucket_s: f64) -> Vec<f64> {
    let mut sum = vec![0.0; g.n];
    for s in samples {
        for (i, share) in g.spread(s.time_s, bucket_s) {
            if let Some(a) = sum.get_mut(i) {
                *a += s.saved_bps * bucket_s * share;
            }
        }
    }
    for v in &mut sum {
        *v /= g.width_s;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_widths_come_from_the_ladder() {
        // 14 days of 5-minute samples: 35-minute groups would fit 600, the ladder
        // gives hours.
        let g = Groups::new(300.0, 14.0 * 86400.0);
        assert_eq!(
            (g.width_s, g.per().as_str(), g.n),
            (3600.0, "per hour", 336)
        );
        let g = Groups::new(10.0, 21.0 * 86400.0);
        assert!(g.n <= MAX_GROUPS, "{}", g.n);
        assert_eq!(g.per(), "per hour");
        assert_eq!(Groups::new(300.0, 3600.0).per(), "per 5 min");
        assert_eq!(Groups::new(420.0, 3600.0).per(), "per 10 min");
        assert_eq!(Groups::new(1.0, 60.0).per(), "per second");
        assert_eq!(Groups::new(60.0, 400.0 * 86400.0).per(), "per day");
        for span in [1.0, 59.0, 3599.0, 86400.0 * 3.3, 86400.0 * 700.0] {
            for b in [0.5, 1.0, 7.0, 300.0, 443.0, 3600.0] {
                let g = Groups::new(b, span);
                assert!(LADDER.iter().any(|(w, _)| *w == g.width_s), "{g:?}");
                assert!(g.start(g.n) >= span - 1e-6, "{g:?} {span}");
            }
        }
    }

    #[test]
    fn samples_that_straddle_groups_are_shared_and_rates_kept() {
        // 7-minute samples at a constant 1 Gbps, shown per 10 min: every whole
        // group still reads 1 Gbps (no group holds two samples and another one).
        let bucket = 420.0;
        let samples: Vec<LinkSample> = (0..100)
            .map(|i| LinkSample {
                time_s: i as f64 * bucket,
                bps: 1e9,
                peak_bps: 1e9,
                active: 1.0,
                queued: 0.0,
                saved_bps: 0.0,
            })
            .collect();
        let g = Groups::new(bucket, 42_000.0);
        assert_eq!(g.width_s, 600.0);
        let [bps, active, _] = link_groups(&samples, g, bucket);
        assert!(bps.iter().all(|&b| (b - 1e9).abs() < 1.0), "{bps:?}");
        assert!(active.iter().all(|&a| a == 1.0));
        let shares: Vec<(usize, f64)> = g.spread(420.0, 420.0).collect();
        assert_eq!(shares.len(), 2);
        assert!((shares[0].1 - 180.0 / 420.0).abs() < 1e-12, "{shares:?}");
        assert!((shares[0].1 + shares[1].1 - 1.0).abs() < 1e-12);
        assert_eq!(g.spread(600.0, 300.0).collect::<Vec<_>>(), vec![(1, 1.0)]);
    }
}
