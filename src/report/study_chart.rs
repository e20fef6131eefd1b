//! Charts of a study: one headline figure against the varied value, a point per value
//! with its 95% confidence interval as an error bar, drawn as inline SVG for the
//! report page.
//!
//! A numeric varied value (`1Gbps`, `500MB`, `8h`, `4`) gets a numeric x axis in its
//! units, so unevenly spaced values are seen as such; any other value (`true`,
//! `download_on_demand`) gets evenly spaced labelled points. Every point carries its
//! label (the values that name it), mean and half-width as `data-` attributes and in
//! its tooltip, so what the chart was drawn from can be read back from the page.
//!
//! The run charts are drawn by `output::plots` (plotters) as files; these are drawn
//! here because they exist only in the report and are a few dozen elements each. They
//! use the same palette (`output::plots::style::PALETTE`) and sans-serif text.

use std::fmt::Write;

use super::html::{bytes, esc, human_secs, rate};
use crate::input::units::{self, Quantity};

/// Colour of series `i`, as `#rrggbb`: the plots' palette
/// ([`PALETTE`](crate::output::plots::style::PALETTE)), so a series has the same
/// colour in the report's charts as in the PNGs.
fn color(i: usize) -> String {
    let c = crate::output::plots::style::color(i);
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// How a figure is shown: what it measures decides its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds.
    Seconds,
    /// Bytes.
    Bytes,
    /// Bits per second.
    Rate,
    /// A share in [0, 1], shown as a percentage.
    Share,
    /// A plain number (counts).
    Number,
}

impl Unit {
    /// The unit of a `summary.json` figure, from its dotted path.
    pub fn of_metric(path: &str) -> Unit {
        let last = path.rsplit('.').next().unwrap_or(path);
        if path.ends_with("final_share") {
            Unit::Share
        } else if path.contains("bps") {
            Unit::Rate
        } else if path.starts_with("bytes.") || path.contains(".bytes.") {
            Unit::Bytes
        } else if last.ends_with("_s") || (path.starts_with("latency.") && last != "count") {
            Unit::Seconds
        } else {
            Unit::Number
        }
    }

    /// A value in this unit, for people.
    pub fn show(self, v: f64) -> String {
        match self {
            Unit::Seconds if v.is_finite() => human_secs(v),
            Unit::Bytes => bytes(v),
            Unit::Rate => rate(v),
            Unit::Share => format!("{:.1}%", 100.0 * v),
            _ => number(v),
        }
    }

    /// Base of the tick ladder: durations step in clock units, the rest in 1-2-5.
    fn ladder(self, span: f64) -> f64 {
        if self == Unit::Seconds && span > 0.0 {
            const CLOCK: [f64; 18] = [
                1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
                7200.0, 10800.0, 21600.0, 43200.0, 86400.0,
            ];
            if let Some(s) = CLOCK.iter().find(|&&s| span / s <= 6.0) {
                return *s;
            }
            return 86400.0 * nice(span / 86400.0 / 5.0);
        }
        nice(span / 5.0)
    }
}

/// A plain number without float noise (`4`, `0.25`, `1,200`).
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        crate::output::plots::style::fmt_count(v)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The 1-2-5 step at or above `raw`.
fn nice(raw: f64) -> f64 {
    if !(raw > 0.0 && raw.is_finite()) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * p)
}

/// The values of a varied key as numbers in base units (seconds, bytes, bits/s), with
/// their unit; `None` when one of them is not a number of the same quantity.
pub fn numeric_values(values: &[String]) -> Option<(Vec<f64>, Unit)> {
    let plain: Option<Vec<f64>> = values
        .iter()
        .map(|v| v.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect();
    if let Some(p) = plain {
        return Some((p, Unit::Number));
    }
    [
        (Quantity::Rate, Unit::Rate, 1.0),
        (Quantity::Size, Unit::Bytes, 1.0),
        (Quantity::Duration, Unit::Seconds, 1e-6),
    ]
    .into_iter()
    .find_map(|(q, unit, to_base)| {
        let xs: Option<Vec<f64>> = values
            .iter()
            .map(|v| units::parse_str(q, v).ok().map(|x| x * to_base))
            .collect();
        xs.map(|xs| (xs, unit))
    })
}

/// The x axis: the varied key's values.
#[derive(Debug, Clone)]
pub enum XAxis {
    /// Numeric values in base units; point `x` is `values[x]`.
    Numeric {
        /// Axis title (the key).
        title: String,
        /// The values.
        values: Vec<f64>,
        /// Their unit.
        unit: Unit,
    },
    /// Labels, evenly spaced; point `x` is `labels[x]`.
    Categorical {
        /// Axis title (the key).
        title: String,
        /// The values as written.
        labels: Vec<String>,
    },
}

impl XAxis {
    /// The axis of a key and its values as written: numeric when they all are.
    pub fn of(title: &str, values: &[String]) -> XAxis {
        match numeric_values(values) {
            Some((values, unit)) => XAxis::Numeric {
                title: title.to_string(),
                values,
                unit,
            },
            None => XAxis::Categorical {
                title: title.to_string(),
                labels: values.to_vec(),
            },
        }
    }
}

/// One point: the mean of the replications and its 95% confidence half-width.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Index of its value on the x axis.
    pub x: usize,
    /// The values that name it (`dp.bandwidth=10Gbps`).
    pub label: String,
    /// Mean.
    pub mean: f64,
    /// Half-width of the 95% interval (0 with one replication).
    pub half: f64,
}

/// A line of points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend name (empty: the chart's only series).
    pub name: String,
    /// Its points.
    pub points: Vec<Point>,
}

/// One chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Element id in the page.
    pub id: String,
    /// Caption.
    pub title: String,
    /// Unit of the figure.
    pub unit: Unit,
    /// The x axis.
    pub x: XAxis,
    /// The series.
    pub series: Vec<Series>,
    /// A horizontal line (a target), with its label.
    pub line: Option<(f64, String)>,
}

const W: f64 = 900.0;
const H: f64 = 400.0;
const LEFT: f64 = 96.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 64.0;

/// Ticks covering `[lo, hi]` and the rounded domain they span.
fn ticks(lo: f64, hi: f64, unit: Unit) -> (Vec<f64>, f64, f64) {
    let step = unit.ladder(hi - lo);
    let a = (lo / step).floor() * step;
    let b = (hi / step).ceil() * step;
    let n = ((b - a) / step).round() as usize;
    let t = (0..=n.min(50)).map(|k| a + k as f64 * step).collect();
    (t, a, b.max(a + step))
}

/// The chart as an inline `<svg>` element.
pub fn svg(c: &Chart) -> String {
    let (px0, px1, py0, py1) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
    let all = c.series.iter().flat_map(|s| &s.points);
    let lo = all.clone().map(|p| p.mean - p.half).fold(0.0f64, f64::min);
    let hi = all.map(|p| p.mean + p.half).fold(lo, f64::max);
    let hi = match &c.line {
        Some((v, _)) => hi.max(*v),
        None => hi,
    };
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let (yticks, ya, yb) = ticks(lo, hi, c.unit);
    let y = |v: f64| py1 - (v - ya) / (yb - ya) * (py1 - py0);
    let mut o = format!(
        "<svg class=\"study-chart\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"13\" role=\"img\" aria-label=\"{}\">\n",
        esc(&c.title)
    );
    for t in &yticks {
        let _ = writeln!(
            o,
            "<g class=\"ytick\" data-v=\"{t}\"><line x1=\"{px0}\" x2=\"{px1}\" y1=\"{yy:.3}\" y2=\"{yy:.3}\" stroke=\"#e6e8ee\"/><text x=\"{:.1}\" y=\"{:.3}\" text-anchor=\"end\">{}</text></g>",
            px0 - 6.0,
            y(*t) + 4.0,
            esc(&c.unit.show(*t)),
            yy = y(*t),
        );
    }
    // x positions of the axis values, and the axis itself.
    let (xs, title): (Vec<f64>, &str) = match &c.x {
        XAxis::Numeric {
            title,
            values,
            unit,
        } => {
            let (mut lo, mut hi) = values
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(*v), b.max(*v))
                });
            if !lo.is_finite() || !hi.is_finite() {
                (lo, hi) = (0.0, 1.0);
            }
            if hi <= lo {
                let pad = if lo.abs() > 0.0 { lo.abs() / 2.0 } else { 1.0 };
                (lo, hi) = (lo - pad, hi + pad);
            }
            let pad = (hi - lo) * 0.05;
            let (lo, hi) = (lo - pad, hi + pad);
            let x = |v: f64| px0 + (v - lo) / (hi - lo) * (px1 - px0);
            let (xt, _, _) = ticks(lo, hi, *unit);
            for t in xt.iter().filter(|t| **t >= lo && **t <= hi) {
                let _ = writeln!(
                    o,
                    "<g class=\"xtick\" data-v=\"{t}\"><line x1=\"{xx:.3}\" x2=\"{xx:.3}\" y1=\"{py1}\" y2=\"{:.1}\" stroke=\"#5a6375\"/><text x=\"{xx:.3}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
                    py1 + 5.0,
                    py1 + 20.0,
                    esc(&unit.show(*t)),
                    xx = x(*t),
                );
            }
            (values.iter().map(|v| x(*v)).collect(), title)
        }
        XAxis::Categorical { title, labels } => {
            let step = (px1 - px0) / labels.len().max(1) as f64;
            let xs: Vec<f64> = (0..labels.len())
                .map(|i| px0 + (i as f64 + 0.5) * step)
                .collect();
            for (l, xx) in labels.iter().zip(&xs) {
                let _ = writeln!(
                    o,
                    "<g class=\"xtick\"><line x1=\"{xx:.3}\" x2=\"{xx:.3}\" y1=\"{py1}\" y2=\"{:.1}\" stroke=\"#5a6375\"/><text x=\"{xx:.3}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
                    py1 + 5.0,
                    py1 + 20.0,
                    esc(l),
                );
            }
            (xs, title)
        }
    };
    let _ = writeln!(
        o,
        "<line x1=\"{px0}\" x2=\"{px1}\" y1=\"{py1}\" y2=\"{py1}\" stroke=\"#5a6375\"/><line x1=\"{px0}\" x2=\"{px0}\" y1=\"{py0}\" y2=\"{py1}\" stroke=\"#5a6375\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        (px0 + px1) / 2.0,
        H - 14.0,
        esc(title)
    );
    if let Some((v, label)) = &c.line {
        let _ = writeln!(
            o,
            "<g class=\"target\" data-v=\"{v}\"><line x1=\"{px0}\" x2=\"{px1}\" y1=\"{yy:.3}\" y2=\"{yy:.3}\" stroke=\"#555\" stroke-dasharray=\"6 4\"/><text x=\"{:.1}\" y=\"{:.3}\" text-anchor=\"end\">{}</text></g>",
            px1 - 4.0,
            y(*v) - 5.0,
            esc(label),
            yy = y(*v),
        );
    }
    let n = c.series.len();
    for (si, s) in c.series.iter().enumerate() {
        let color = color(si);
        // Series side by side at one value, so their error bars do not hide each other.
        let dodge = (si as f64 - (n as f64 - 1.0) / 2.0) * 7.0;
        let mut pts: Vec<(f64, &Point)> = s
            .points
            .iter()
            .filter_map(|p| xs.get(p.x).map(|x| (x + dodge, p)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let _ = writeln!(
            o,
            "<g class=\"series\" data-series=\"{}\" stroke=\"{color}\" fill=\"{color}\">",
            esc(&s.name)
        );
        if pts.len() > 1 {
            let path: Vec<String> = pts
                .iter()
                .map(|(x, p)| format!("{x:.3},{:.3}", y(p.mean)))
                .collect();
            let _ = writeln!(
                o,
                "<polyline points=\"{}\" fill=\"none\" stroke-width=\"1.5\" stroke-opacity=\"0.6\"/>",
                path.join(" ")
            );
        }
        for (x, p) in pts {
            let name = if s.name.is_empty() {
                String::new()
            } else {
                format!("{}, ", s.name)
            };
            let _ = writeln!(
                o,
                "<g class=\"point\" data-label=\"{}\" data-mean=\"{}\" data-ci95=\"{}\"><title>{}{}: {} ± {}</title><line class=\"ci\" x1=\"{x:.3}\" x2=\"{x:.3}\" y1=\"{:.3}\" y2=\"{:.3}\" stroke-width=\"2\"/><line x1=\"{:.3}\" x2=\"{:.3}\" y1=\"{lo:.3}\" y2=\"{lo:.3}\" stroke-width=\"2\"/><line x1=\"{:.3}\" x2=\"{:.3}\" y1=\"{up:.3}\" y2=\"{up:.3}\" stroke-width=\"2\"/><circle cx=\"{x:.3}\" cy=\"{:.3}\" r=\"4\"/></g>",
                esc(&p.label),
                p.mean,
                p.half,
                esc(&name),
                esc(&p.label),
                esc(&c.unit.show(p.mean)),
                esc(&c.unit.show(p.half)),
                y(p.mean + p.half),
                y(p.mean - p.half),
                x - 5.0,
                x + 5.0,
                x - 5.0,
                x + 5.0,
                y(p.mean),
                lo = y(p.mean - p.half),
                up = y(p.mean + p.half),
            );
        }
        o.push_str("</g>\n");
    }
    // Legend: only when there is more than one series.
    if n > 1 {
        for (si, s) in c.series.iter().enumerate() {
            let (lx, ly) = (
                px0 + 12.0 + (si % 4) as f64 * 190.0,
                py0 + 4.0 + (si / 4) as f64 * 18.0,
            );
            let _ = writeln!(
                o,
                "<g class=\"legend\"><rect x=\"{lx:.1}\" y=\"{ly:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
                color(si),
                lx + 17.0,
                ly + 11.0,
                esc(&s.name)
            );
        }
    }
    o.push_str("</svg>");
    o
}

/// The chart in a `<figure>` with its caption, as the page's other charts are.
pub fn figure(c: &Chart) -> String {
    format!(
        "<figure id=\"{}\">\n<figcaption>{}</figcaption>\n{}\n</figure>\n",
        esc(&c.id),
        esc(&c.title),
        svg(c)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_with_units_are_numbers_in_base_units_and_others_are_labels() {
        let (x, u) = numeric_values(&vals(&["1Gbps", "500Mbps"])).expect("rates");
        assert_eq!((x, u), (vec![1e9, 5e8], Unit::Rate));
        let (x, u) = numeric_values(&vals(&["2h", "30m"])).expect("durations");
        assert_eq!((x, u), (vec![7200.0, 1800.0], Unit::Seconds));
        let (x, u) = numeric_values(&vals(&["500MB", "1GiB"])).expect("sizes");
        assert_eq!((x, u), (vec![5e8, 1073741824.0], Unit::Bytes));
        assert_eq!(
            numeric_values(&vals(&["2", "0.5"])),
            Some((vec![2.0, 0.5], Unit::Number))
        );
        assert_eq!(numeric_values(&vals(&["true", "false"])), None);
        assert_eq!(numeric_values(&vals(&["1Gbps", "2h"])), None);
    }

    #[test]
    fn units_of_metrics() {
        assert_eq!(Unit::of_metric("compliance.p95_s"), Unit::Seconds);
        assert_eq!(Unit::of_metric("compliance.final_share"), Unit::Share);
        assert_eq!(Unit::of_metric("peak.by_dp.DP1.bps"), Unit::Rate);
        assert_eq!(Unit::of_metric("sites.Lyon.bytes.over_wan"), Unit::Bytes);
        assert_eq!(Unit::of_metric("latency.download.p95"), Unit::Seconds);
        assert_eq!(Unit::of_metric("latency.download.count"), Unit::Number);
        assert_eq!(Unit::of_metric("outcomes.failed"), Unit::Number);
    }

    #[test]
    fn ticks_cover_the_range_on_round_steps() {
        let (t, a, b) = ticks(0.0, 9.3, Unit::Number);
        assert_eq!((a, b), (0.0, 10.0));
        assert_eq!(t, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let (t, _, _) = ticks(0.0, 5.0 * 3600.0, Unit::Seconds);
        assert_eq!(t[1], 3600.0);
    }

    #[test]
    fn error_bars_span_the_half_width_on_the_axis_scale() {
        let c = Chart {
            id: "c".into(),
            title: "t".into(),
            unit: Unit::Number,
            x: XAxis::of("k", &vals(&["a", "b"])),
            series: vec![Series {
                name: String::new(),
                points: vec![
                    Point {
                        x: 0,
                        label: "k=a".into(),
                        mean: 10.0,
                        half: 2.0,
                    },
                    Point {
                        x: 1,
                        label: "k=b".into(),
                        mean: 5.0,
                        half: 0.0,
                    },
                ],
            }],
            line: None,
        };
        let s = svg(&c);
        assert!(
            s.contains("data-label=\"k=a\" data-mean=\"10\" data-ci95=\"2\""),
            "{s}"
        );
        // The bar spans mean - half to mean + half on the y scale of the axis ticks.
        let ci = s.split("class=\"ci\"").nth(1).expect("an error bar");
        let num = |k: &str| -> f64 {
            let at = ci.find(&format!(" {k}=\"")).expect(k) + k.len() + 3;
            ci[at..]
                .split('"')
                .next()
                .expect("value")
                .parse()
                .expect("number")
        };
        let (_, a, b) = ticks(0.0, 12.0, Unit::Number);
        let px_per_unit = (H - BOTTOM - TOP) / (b - a);
        assert!(((num("y2") - num("y1")) - 4.0 * px_per_unit).abs() < 1e-2);
    }
}
