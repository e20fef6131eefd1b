//! Latency distributions as percentile curves read from the HDR histograms: x is the
//! percentile on a "nines" scale (0%, 90%, 99%, 99.9%...), y the latency on a log
//! scale, so the tail a help desk hears about is as visible as the median.

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::ResultData;
use super::style::{self, Drawn};
use super::{Chart, PlotError};

/// Colour of a metric, the same in every chart.
fn metric_color(name: &str) -> RGBColor {
    let i = crate::sim::result::METRICS
        .iter()
        .position(|m| *m == name)
        .unwrap_or(9);
    style::color(i)
}

/// How many nines a histogram supports: one per decade of observations (at most 5).
fn nines(h: &Histogram<u64>) -> f64 {
    (h.len().max(1) as f64).log10().floor().clamp(1.0, 5.0)
}

/// `(nines, seconds)` points of a percentile curve. The quantiles rise with x, so
/// one pass over the histogram's buckets finds them all (a lookup per point walked
/// the buckets 300 times per curve: 4% of a 100,000-client run's instructions).
fn curve(h: &Histogram<u64>, max_nines: f64) -> Vec<(f64, f64)> {
    let steps = (max_nines * 60.0) as usize;
    let xs = (0..=steps).map(|i| i as f64 / 60.0);
    let qs = xs.clone().map(|x| 1.0 - 10f64.powf(-x));
    xs.zip(h.value_at_quantiles(qs))
        .map(|(x, v)| (x, v as f64 / 1e6))
        .collect()
}

fn percentile_label(x: f64) -> String {
    let pct = 100.0 * (1.0 - 10f64.powf(-x));
    if pct < 0.5 {
        return "0%".into();
    }
    let digits = (x.round() as i64 - 2).max(0) as usize;
    format!("{pct:.digits$}%")
}

/// Round durations for the latency axis.
const KEYS: [f64; 14] = [
    0.001, 0.01, 0.1, 1.0, 10.0, 60.0, 600.0, 3600.0, 21600.0, 86400.0, 259200.0, 604800.0,
    2592000.0, 31536000.0,
];

/// The curves of several (label, run) pairs; `solo` says whether labels name runs.
fn draw_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[(String, &ResultData)],
) -> Result<(), PlotError> {
    let mut curves = Vec::new();
    let mut max_x: f64 = 1.0;
    for (r, (label, d)) in runs.iter().enumerate() {
        for (name, h) in &d.latency {
            if h.is_empty() {
                continue;
            }
            let n = nines(h);
            max_x = max_x.max(n);
            let series = if runs.len() == 1 {
                name.clone()
            } else {
                format!("{name} ({label})")
            };
            curves.push((r, name.clone(), series, curve(h, n)));
        }
    }
    if curves.is_empty() {
        let (w, h) = root.dim_in_pixel();
        return root
            .draw(&Text::new(
                "no latency was recorded".to_string(),
                (w as i32 / 2 - 120, h as i32 / 2),
                style::label(),
            ))
            .drawn();
    }
    let ys = curves.iter().flat_map(|c| c.3.iter().map(|p| p.1));
    let lo = ys
        .clone()
        .filter(|&y| y > 0.0)
        .fold(f64::INFINITY, f64::min);
    let lo = if lo.is_finite() { lo } else { 1.0 };
    let hi = ys.fold(1.0, f64::max);
    let (lo, hi) = (lo / 1.5, hi * 1.5);
    let keys: Vec<f64> = KEYS
        .iter()
        .copied()
        .filter(|k| *k >= lo && *k <= hi)
        .collect();
    let mut c = ChartBuilder::on(root)
        .margin(14)
        .margin_right(48)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..max_x, (lo..hi).log_scale().with_key_points(keys))
        .drawn()?;
    c.configure_mesh()
        .x_desc("percentile")
        .x_labels(max_x as usize + 1)
        .y_desc("latency (log scale)")
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| style::fmt_duration(*y))
        .label_style(style::label())
        .axis_desc_style(style::label())
        .draw()
        .drawn()?;
    for (r, metric, series, pts) in curves {
        let col = metric_color(&metric);
        let pts: Vec<(f64, f64)> = pts.into_iter().map(|(x, y)| (x, y.max(lo))).collect();
        if r == 0 {
            c.draw_series(LineSeries::new(pts, col.stroke_width(3)))
                .drawn()?
                .label(series)
                .legend(style::legend_line(col.to_rgba(), 3));
        } else {
            let dash = 4 + 4 * r as u32;
            c.draw_series(DashedLineSeries::new(pts, dash, 5, col.stroke_width(2)))
                .drawn()?
                .label(series)
                .legend(style::legend_dashed(col.to_rgba(), 2));
        }
    }
    style::legend(&mut c, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

/// Latency percentile curves of one run.
pub struct Latency<'a> {
    /// The run.
    pub data: &'a ResultData,
}

impl Chart for Latency<'_> {
    fn name(&self) -> &'static str {
        "latency"
    }

    fn title(&self) -> String {
        "Latency percentiles".into()
    }

    fn caption(&self) -> String {
        format!("{}: latency percentiles", self.data.summary.scenario)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let runs = [(self.data.summary.scenario.clone(), self.data)];
        draw_curves(root, &runs)
    }
}

/// Latency percentile curves of several runs (first solid, others dashed).
pub struct CompareLatency<'a> {
    /// Label and run.
    pub runs: &'a [(String, &'a ResultData)],
}

impl Chart for CompareLatency<'_> {
    fn name(&self) -> &'static str {
        "compare_latency"
    }

    fn title(&self) -> String {
        "Latency percentiles, runs overlaid".into()
    }

    fn caption(&self) -> String {
        let names: Vec<&str> = self.runs.iter().map(|(l, _)| l.as_str()).collect();
        format!(
            "Latency percentiles: {} (solid) vs {} (dashed)",
            names.first().copied().unwrap_or(""),
            names.get(1..).map(|n| n.join(", ")).unwrap_or_default()
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        draw_curves(root, self.runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis_reads_as_percentiles() {
        assert_eq!(percentile_label(0.0), "0%");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(2.0), "99%");
        assert_eq!(percentile_label(3.0), "99.9%");
        assert_eq!(percentile_label(4.0), "99.99%");
    }

    #[test]
    fn curve_rises_with_the_percentile() {
        let mut h = crate::sim::result::new_histogram();
        for v in 1..=10_000u64 {
            h.record(v * 1000).unwrap();
        }
        let c = curve(&h, nines(&h));
        assert!(c.windows(2).all(|w| w[1].1 >= w[0].1));
        assert!((c[0].1 - 0.001).abs() < 1e-4);
        assert!(c.last().unwrap().1 > 9.9);
    }

    /// The one-pass curve is the curve of one lookup per point (the plain reference).
    #[test]
    fn one_pass_curve_matches_a_lookup_per_point() {
        let mut h = crate::sim::result::new_histogram();
        for v in 1..=5_000u64 {
            h.record_n(v * v * 37 % 9_000_000 + 1, v % 7 + 1).unwrap();
        }
        let n = nines(&h);
        let fast = curve(&h, n);
        assert_eq!(fast.len(), (n * 60.0) as usize + 1);
        for (x, y) in fast {
            let q = 1.0 - 10f64.powf(-x);
            assert_eq!(y, h.value_at_quantile(q) as f64 / 1e6, "at {x} nines");
        }
    }
}
