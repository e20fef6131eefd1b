//! What every chart shares: the bundled font, colours, axis units and the coarsening
//! of long series into at most a few hundred points (a 21-day run at 10 s buckets
//! has 180,000 buckets; a chart is 1,200 pixels wide).

use std::sync::OnceLock;

use plotters::element::ComposedElement;
use plotters::prelude::*;

use super::PlotError;
pub use super::groups::{Groups, LADDER, MAX_GROUPS, link_groups, saved_groups};

/// Family name the bundled font is registered under; every text element uses it.
pub const FONT: &str = "sans-serif";

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/DejaVuSans-LICENSE.txt`), compiled
/// in so PNG text renders on a machine with no fonts and no font libraries.
static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Registers the bundled font with plotters' `ab_glyph` text path (once per process).
pub fn ensure_font() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

/// Converts a drawing error (whatever the backend) into a [`PlotError`].
pub trait Drawn<T> {
    /// The result with the error rendered as text.
    fn drawn(self) -> Result<T, PlotError>;
}

impl<T, E: std::fmt::Display> Drawn<T> for Result<T, E> {
    fn drawn(self) -> Result<T, PlotError> {
        self.map_err(|e| PlotError::Draw(e.to_string()))
    }
}

/// Ten colours that stay distinct for the colour-blind (Tableau 10).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// Series colour `i` (cycling).
pub fn color(i: usize) -> RGBColor {
    PALETTE.get(i % PALETTE.len()).copied().unwrap_or(BLACK)
}

/// Succeeded.
pub const SUCCEEDED: RGBColor = RGBColor(0x59, 0xA1, 0x4F);
/// Rolled back.
pub const ROLLED_BACK: RGBColor = RGBColor(0xF2, 0x8E, 0x2B);
/// Failed.
pub const FAILED: RGBColor = RGBColor(0xE1, 0x57, 0x59);
/// Marks (deadline, targets).
pub const MARK: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// Standard chart size, pixels.
pub const SIZE: (u32, u32) = (1200, 700);

/// Caption font.
pub fn caption() -> TextStyle<'static> {
    TextStyle::from((FONT, 24).into_font()).color(&BLACK)
}

/// Axis label and legend font.
pub fn label() -> TextStyle<'static> {
    TextStyle::from((FONT, 15).into_font()).color(&BLACK)
}

/// The frame of a chart over time: where its axes start, how big its label areas
/// are, what its axes say. Every time chart shares the rest (margins, fonts, tick
/// formats), so the charts of one report line up.
pub struct TimeFrame<'t> {
    /// Title above the plot area, if any.
    pub caption: Option<&'t str>,
    /// Right end of the x axis (in the chart's time unit).
    pub x_max: f64,
    /// Top of the y axis.
    pub y_max: f64,
    /// Height of the x label area (room for a description or only the ticks).
    pub x_area: u32,
    /// Width of the y label area.
    pub y_area: u32,
    /// Description under the x axis (the lowest panel of a stack only).
    pub x_desc: Option<String>,
    /// Description along the y axis.
    pub y_desc: String,
    /// What the y axis measures: values or whole counts.
    pub y_ticks: Ticks,
}

/// What an axis measures, which decides where its ticks go and how they read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ticks {
    /// Rates, shares: any round value (`2.5`), written by [`fmt_tick`].
    Value,
    /// Clients, downloads, task sequences: ticks on whole numbers only (no "2.5
    /// clients"), written by [`fmt_count`].
    Count,
}

/// Most tick labels on an axis (plotters' default).
const MAX_LABELS: usize = 10;

/// How many labels a count axis from 0 to `max` asks for: at most one per whole
/// number, so plotters' steps (1, 2 or 5 times a power of ten) stay at 1 or more.
pub fn count_labels(max: f64) -> usize {
    if max.is_finite() && max >= 1.0 {
        (max.floor() as usize + 1).min(MAX_LABELS)
    } else {
        2
    }
}

/// A count axis tick: whole numbers with thousands separators, nothing for a tick
/// between two whole numbers (none is asked for; this keeps a label honest if one is).
pub fn fmt_whole(v: f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        fmt_count(v)
    } else {
        String::new()
    }
}

/// Top of a count axis: at least 1, so an axis of zeros still runs 0 to 1.
pub fn count_top(max: f64) -> f64 {
    if max.is_finite() { max.max(1.0) } else { 1.0 }
}

/// Clears `root` to white and draws `caption` at its top; returns the area below.
pub fn page<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
) -> Result<DrawingArea<DB, plotters::coord::Shift>, PlotError> {
    root.fill(&WHITE).drawn()?;
    root.titled(caption, self::caption()).drawn()
}

/// A chart with linear `f64` axes.
pub type TimeChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The chart in `area` with `f`'s axes and mesh drawn: both axes start at 0.
pub fn time_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, plotters::coord::Shift>,
    f: TimeFrame<'_>,
) -> Result<TimeChart<'a, DB>, PlotError> {
    let count = f.y_ticks == Ticks::Count;
    let y_max = if count { count_top(f.y_max) } else { f.y_max };
    let mut b = ChartBuilder::on(area);
    if let Some(t) = f.caption {
        b.caption(t, label());
    }
    let mut c = b
        .margin(12)
        .x_label_area_size(f.x_area)
        .y_label_area_size(f.y_area)
        .build_cartesian_2d(0.0..f.x_max, 0.0..y_max)
        .drawn()?;
    let x_fmt = |v: &f64| fmt_tick(*v);
    let y_fmt = |v: &f64| if count { fmt_whole(*v) } else { fmt_tick(*v) };
    let mut mesh = c.configure_mesh();
    if count {
        mesh.y_labels(count_labels(y_max));
    }
    mesh.y_desc(f.y_desc)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(label())
        .axis_desc_style(label());
    if let Some(d) = f.x_desc {
        mesh.x_desc(d);
    }
    mesh.draw().drawn()?;
    Ok(c)
}

/// Draws the chart's legend box, in one style for every chart, at `pos`.
pub fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    c: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
) -> Result<(), PlotError> {
    c.configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .label_font(label())
        .draw()
        .drawn()
}

/// Draws a line-styled legend entry.
pub fn legend_line(c: RGBAColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(width))
}

/// A legend mark of two dashes.
pub type DashedMark<DB> =
    ComposedElement<(i32, i32), DB, PathElement<(i32, i32)>, PathElement<(i32, i32)>>;

/// Draws a dashed-line legend entry (two dashes), for series drawn dashed.
pub fn legend_dashed<DB: DrawingBackend>(
    c: RGBAColor,
    width: u32,
) -> impl Fn((i32, i32)) -> DashedMark<DB> {
    move |p| {
        EmptyElement::at(p)
            + PathElement::new(vec![(0, 0), (9, 0)], c.stroke_width(width))
            + PathElement::new(vec![(14, 0), (23, 0)], c.stroke_width(width))
    }
}

/// Draws a filled legend entry.
pub fn legend_box(c: RGBAColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], c.filled())
}

/// A time axis unit chosen from the span shown.
#[derive(Debug, Clone, Copy)]
pub struct TimeUnit {
    /// Seconds per unit.
    pub secs: f64,
    /// Plural name.
    pub name: &'static str,
}

impl TimeUnit {
    /// Minutes up to 3 hours, hours up to 3 days, days beyond.
    pub fn for_span(span_s: f64) -> Self {
        if span_s <= 3.0 * 3600.0 {
            TimeUnit {
                secs: 60.0,
                name: "minutes",
            }
        } else if span_s <= 3.0 * 86400.0 {
            TimeUnit {
                secs: 3600.0,
                name: "hours",
            }
        } else {
            TimeUnit {
                secs: 86400.0,
                name: "days",
            }
        }
    }

    /// Axis description.
    pub fn desc(&self) -> String {
        format!("time since start ({})", self.name)
    }
}

/// A rate unit chosen from the largest value shown.
pub fn rate_unit(max_bps: f64) -> (f64, &'static str) {
    if max_bps >= 1e9 {
        (1e9, "Gbps")
    } else if max_bps >= 1e6 {
        (1e6, "Mbps")
    } else {
        (1e3, "kbps")
    }
}

/// Seconds as a short duration for axis labels (`250ms`, `42s`, `3.5m`, `7h`, `2.5d`).
pub fn fmt_duration(s: f64) -> String {
    let trim = |v: f64, unit: &str| {
        let t = if v >= 10.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        };
        format!("{}{unit}", t.trim_end_matches(".0"))
    };
    if s < 1.0 {
        trim(s * 1000.0, "ms")
    } else if s < 60.0 {
        trim(s, "s")
    } else if s < 3600.0 {
        trim(s / 60.0, "m")
    } else if s < 86400.0 {
        trim(s / 3600.0, "h")
    } else {
        trim(s / 86400.0, "d")
    }
}

/// An axis tick: integers without decimals, others with one (`2`, `2.5`).
pub fn fmt_tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else if v.abs() < 1.0 {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').to_string()
    } else {
        format!("{v:.1}")
    }
}

/// Large counts with thousands separators (`12,345`).
pub fn fmt_count(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Upper end of a value axis: a little headroom above `max` (1 when empty).
pub fn headroom(max: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * 1.08
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(fmt_duration(0.25), "250ms");
        assert_eq!(fmt_duration(42.0), "42s");
        assert_eq!(fmt_duration(90.0), "1.5m");
        assert_eq!(fmt_duration(7.0 * 3600.0), "7h");
        assert_eq!(fmt_duration(2.5 * 86400.0), "2.5d");
        assert_eq!(fmt_count(1234567.0), "1,234,567");
        assert_eq!(fmt_count(999.0), "999");
        assert_eq!(fmt_tick(2.0), "2");
        assert_eq!(fmt_tick(2.5), "2.5");
        assert_eq!(fmt_tick(0.25), "0.25");
        assert_eq!(fmt_whole(3.0), "3");
        assert_eq!(fmt_whole(2.5), "");
        assert_eq!(count_labels(2.16), 3);
        assert_eq!(count_labels(5000.0), 10);
    }
}
