//! Network load over time: the DPs' bandwidth stacked under their total capacity,
//! each site's WAN link on its own panel and scale under its own capacity (a 20 Mbps
//! link is not a flat line under a 20 Gbps DP), and concurrent downloads and queue
//! length per DP. These are the pictures that size DPs and WAN links: a flat top at
//! the capacity line means the link was the bottleneck. The WAN link of a site with
//! peer content also shows what it would have carried without peers (its rate plus
//! the rate at which peers served the site), which is what BranchCache or peer cache
//! sources are bought to avoid.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{LinkKind, ResultData};
use super::style::{self, Drawn, Groups, TimeUnit};
use super::{Chart, PlotError};

/// Which capacity line a panel of link rates draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CapLine {
    /// One line at the sum of the stacked links' capacities: the stack's top can
    /// never pass it, and a flat top at it means every link was full.
    Total,
    /// The capacity of the panel's only link.
    Own,
}

/// Height of the DP panel when WAN panels follow it, pixels.
const DP_PANEL_H: u32 = 400;
/// Height of one row of WAN panels, pixels.
const WAN_PANEL_H: u32 = 230;
/// Height of the page caption above the panels, pixels.
const CAPTION_H: u32 = 40;

/// Columns and rows of the WAN panels: one column for one or two links, then two
/// or three side by side, so a 20-site run stays readable.
fn wan_grid(n: usize) -> (usize, usize) {
    let cols = match n {
        0..=2 => 1,
        3..=8 => 2,
        _ => 3,
    };
    (cols, n.div_ceil(cols).max(1))
}

/// One panel of link rates (stacked when there are several) with its capacity line.
fn rate_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &ResultData,
    g: Groups,
    links: &[usize],
    title: &str,
    x_label: bool,
    cap_line: CapLine,
) -> Result<(), PlotError> {
    let unit = TimeUnit::for_span(g.start(g.n));
    let x_max = g.start(g.n) / unit.secs;
    let series: Vec<Vec<f64>> = links
        .iter()
        .map(|&i| {
            let s = d.samples.get(i).map(Vec::as_slice).unwrap_or(&[]);
            let [bps, _, _] = style::link_groups(s, g, d.bucket_s);
            bps
        })
        .collect();
    // Running sums: layer k is the top of the stack up to link k.
    let mut stacked: Vec<Vec<f64>> = Vec::with_capacity(series.len());
    for (k, s) in series.iter().enumerate() {
        let below = if k == 0 { None } else { stacked.get(k - 1) };
        let layer = s
            .iter()
            .enumerate()
            .map(|(i, v)| v + below.and_then(|b| b.get(i)).copied().unwrap_or(0.0))
            .collect();
        stacked.push(layer);
    }
    // A single link with the bytes peers saved it: what it would have carried.
    let without: Option<Vec<f64>> = match (cap_line, links) {
        (CapLine::Own, &[i]) if d.links.get(i).is_some_and(|l| l.saved) => {
            let s = d.samples.get(i).map(Vec::as_slice).unwrap_or(&[]);
            let saved = style::saved_groups(s, g, d.bucket_s);
            let actual = stacked.first().map(Vec::as_slice).unwrap_or(&[]);
            Some(actual.iter().zip(&saved).map(|(a, b)| a + b).collect())
        }
        _ => None,
    };
    let top = stacked
        .last()
        .into_iter()
        .chain(&without)
        .flat_map(|l| l.iter().copied())
        .fold(0.0, f64::max);
    let caps: Option<Vec<f64>> = links
        .iter()
        .map(|&i| d.links.get(i).and_then(|l| l.capacity_bps))
        .collect();
    // The panel's capacity: every link's summed, or none when a link has none (a
    // folder without `links.csv`), since a partial sum would be a wrong line.
    let cap = caps
        .filter(|c| !c.is_empty())
        .map(|c| c.iter().sum::<f64>());
    let max = cap.map_or(top, |c| c.max(top));
    let (div, unit_name) = style::rate_unit(max);
    let y_max = style::headroom(max) / div;
    let mut c = style::time_chart(
        area,
        style::TimeFrame {
            caption: Some(title),
            x_max,
            y_max,
            x_area: if x_label { 44 } else { 30 },
            y_area: 70,
            x_desc: x_label.then(|| unit.desc()),
            y_desc: unit_name.to_string(),
            y_ticks: style::Ticks::Value,
        },
    )?;
    super::calendar::shade(&mut c, &d.calendar, unit, y_max)?;
    let name_of = |k: usize| {
        links
            .get(k)
            .and_then(|&i| d.links.get(i))
            .map_or("", |l| l.name.as_str())
    };
    for (k, series) in stacked.iter().enumerate().rev() {
        let col = style::color(k);
        let pts: Vec<(f64, f64)> = g
            .steps(series, unit)
            .into_iter()
            .map(|(x, y)| (x, y / div))
            .collect();
        c.draw_series(AreaSeries::new(pts, 0.0, col.mix(0.8).filled()).border_style(col))
            .drawn()?
            .label(name_of(k).to_string())
            .legend(style::legend_box(col.mix(0.8)));
    }
    if let Some(w) = &without {
        let col = style::color(3);
        let pts: Vec<(f64, f64)> = g
            .steps(w, unit)
            .into_iter()
            .map(|(x, y)| (x, y / div))
            .collect();
        c.draw_series(LineSeries::new(pts, col.stroke_width(2)))
            .drawn()?
            .label(format!("{} without peers", name_of(0)))
            .legend(style::legend_line(col.to_rgba(), 2));
    }
    if let Some(cap) = cap {
        let y = cap / div;
        let label = match cap_line {
            CapLine::Total => format!("capacity (total) {} {unit_name}", trim(y)),
            CapLine::Own => format!("{} capacity {} {unit_name}", name_of(0), trim(y)),
        };
        c.draw_series(DashedLineSeries::new(
            [(0.0, y), (x_max, y)],
            10,
            6,
            BLACK.mix(0.75).stroke_width(2),
        ))
        .drawn()?
        .label(label)
        .legend(style::legend_dashed(BLACK.mix(0.75), 2));
    }
    style::legend(&mut c, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Bandwidth of the DPs (stacked) and of each WAN link (one panel each).
pub struct Bandwidth<'a> {
    /// The run.
    pub data: &'a ResultData,
}

impl Chart for Bandwidth<'_> {
    fn name(&self) -> &'static str {
        "bandwidth"
    }

    fn title(&self) -> String {
        "Bandwidth of the DPs (stacked) and of each WAN link".into()
    }

    /// Taller with each row of WAN panels, so each keeps a readable height.
    fn size(&self) -> (u32, u32) {
        let wans = self.data.links_of(LinkKind::Wan).len();
        if wans == 0 {
            return style::SIZE;
        }
        let (_, rows) = wan_grid(wans);
        (
            style::SIZE.0,
            CAPTION_H + DP_PANEL_H + WAN_PANEL_H * rows as u32,
        )
    }

    fn caption(&self) -> String {
        format!("{}: bandwidth over time", self.data.summary.scenario)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let d = self.data;
        let g = Groups::of_network(d);
        let dps = d.links_of(LinkKind::Dp);
        let wans = d.links_of(LinkKind::Wan);
        let dp_title = format!("distribution points, stacked (mean rate {})", g.per());
        if wans.is_empty() {
            return rate_panel(root, d, g, &dps, &dp_title, true, CapLine::Total);
        }
        let (top, rest) = root.split_vertically(DP_PANEL_H);
        rate_panel(&top, d, g, &dps, &dp_title, false, CapLine::Total)?;
        let (cols, rows) = wan_grid(wans.len());
        let areas = rest.split_evenly((rows, cols));
        for (k, (&i, area)) in wans.iter().zip(&areas).enumerate() {
            let name = d.links.get(i).map_or("", |l| l.name.as_str());
            let title = format!("WAN link {name} (mean rate {})", g.per());
            let bottom = k + cols >= wans.len();
            rate_panel(area, d, g, &[i], &title, bottom, CapLine::Own)?;
        }
        Ok(())
    }
}

/// Concurrent downloads and queue length per DP.
pub struct Connections<'a> {
    /// The run.
    pub data: &'a ResultData,
}

impl Chart for Connections<'_> {
    fn name(&self) -> &'static str {
        "connections"
    }

    fn title(&self) -> String {
        "Concurrent downloads and queue length per DP".into()
    }

    fn caption(&self) -> String {
        format!(
            "{}: downloads at once and queued per DP",
            self.data.summary.scenario
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let d = self.data;
        let g = Groups::of_network(d);
        let unit = TimeUnit::for_span(g.start(g.n));
        let x_max = g.start(g.n) / unit.secs;
        let dps = d.links_of(LinkKind::Dp);
        let groups: Vec<[Vec<f64>; 3]> = dps
            .iter()
            .map(|&i| {
                let s = d.samples.get(i).map(Vec::as_slice).unwrap_or(&[]);
                style::link_groups(s, g, d.bucket_s)
            })
            .collect();
        let h = root.dim_in_pixel().1;
        let (a, b) = root.split_vertically(h / 2);
        for (panel, area, col_ix, desc) in [
            ("downloads in progress (most at once", &a, 1usize, false),
            (
                "downloads waiting for a connection (longest queue",
                &b,
                2usize,
                true,
            ),
        ] {
            let max = groups
                .iter()
                .flat_map(|gr| gr.get(col_ix).into_iter().flatten().copied())
                .fold(0.0, f64::max);
            let y_max = style::count_top(style::headroom(max));
            let caption = format!("{panel}, {})", g.per());
            let mut c = style::time_chart(
                area,
                style::TimeFrame {
                    caption: Some(&caption),
                    x_max,
                    y_max,
                    x_area: if desc { 44 } else { 30 },
                    y_area: 70,
                    x_desc: desc.then(|| unit.desc()),
                    y_desc: "downloads".to_string(),
                    y_ticks: style::Ticks::Count,
                },
            )?;
            super::calendar::shade(&mut c, &d.calendar, unit, y_max)?;
            for (k, gr) in groups.iter().enumerate() {
                let col = style::color(k);
                let name = dps
                    .get(k)
                    .and_then(|&i| d.links.get(i))
                    .map(|l| l.name.clone())
                    .unwrap_or_default();
                c.draw_series(LineSeries::new(
                    g.steps(gr.get(col_ix).map_or(&[][..], Vec::as_slice), unit),
                    col.stroke_width(2),
                ))
                .drawn()?
                .label(name)
                .legend(style::legend_line(col.to_rgba(), 2));
            }
            style::legend(&mut c, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}

/// Total DP (and WAN) bandwidth of several runs overlaid.
pub struct CompareBandwidth<'a> {
    /// Label and run.
    pub runs: &'a [(String, &'a ResultData)],
}

impl Chart for CompareBandwidth<'_> {
    fn name(&self) -> &'static str {
        "compare_bandwidth"
    }

    fn title(&self) -> String {
        "Bandwidth of all DPs and WAN links, runs overlaid".into()
    }

    fn caption(&self) -> String {
        "Bandwidth over time, runs overlaid".into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let span = self
            .runs
            .iter()
            .map(|(_, d)| d.active_span_s())
            .fold(1.0, f64::max);
        let unit = TimeUnit::for_span(span);
        let any_wan = self
            .runs
            .iter()
            .any(|(_, d)| !d.links_of(LinkKind::Wan).is_empty());
        let h = root.dim_in_pixel().1;
        let panels: Vec<(DrawingArea<DB, Shift>, LinkKind, &str)> = if any_wan {
            let (a, b) = root.split_vertically((h as f64 * 0.55) as u32);
            vec![
                (a, LinkKind::Dp, "all distribution points"),
                (b, LinkKind::Wan, "all WAN links"),
            ]
        } else {
            vec![(root.clone(), LinkKind::Dp, "all distribution points")]
        };
        let last = panels.len() - 1;
        for (p, (area, kind, title)) in panels.iter().enumerate() {
            // Total rate per group for each run, plus the summed capacity.
            let mut lines = Vec::new();
            let mut max: f64 = 0.0;
            for (_, d) in self.runs {
                let g = Groups::new(d.bucket_s, span);
                let mut total = vec![0.0; g.n];
                let mut cap = 0.0;
                for i in d.links_of(*kind) {
                    let s = d.samples.get(i).map(Vec::as_slice).unwrap_or(&[]);
                    let [bps, _, _] = style::link_groups(s, g, d.bucket_s);
                    for (t, v) in total.iter_mut().zip(bps) {
                        *t += v;
                    }
                    cap += d.links.get(i).and_then(|l| l.capacity_bps).unwrap_or(0.0);
                }
                max = total.iter().copied().fold(max, f64::max).max(cap);
                lines.push((g, total, cap));
            }
            let (div, unit_name) = style::rate_unit(max);
            let mut c = style::time_chart(
                area,
                style::TimeFrame {
                    caption: Some(title),
                    x_max: span / unit.secs,
                    y_max: style::headroom(max) / div,
                    x_area: if p == last { 44 } else { 30 },
                    y_area: 70,
                    x_desc: (p == last).then(|| unit.desc()),
                    y_desc: unit_name.to_string(),
                    y_ticks: style::Ticks::Value,
                },
            )?;
            for (i, ((label, _), (g, total, cap))) in self.runs.iter().zip(&lines).enumerate() {
                let col = style::color(i);
                let pts: Vec<(f64, f64)> = g
                    .steps(total, unit)
                    .into_iter()
                    .map(|(x, y)| (x, y / div))
                    .collect();
                c.draw_series(LineSeries::new(pts, col.stroke_width(2)))
                    .drawn()?
                    .label(label.clone())
                    .legend(style::legend_line(col.to_rgba(), 2));
                if *cap > 0.0 {
                    c.draw_series(DashedLineSeries::new(
                        [(0.0, cap / div), (span / unit.secs, cap / div)],
                        10,
                        6,
                        col.mix(0.6).stroke_width(1),
                    ))
                    .drawn()?
                    .label(format!("{label}: capacity {} {unit_name}", trim(cap / div)))
                    .legend(style::legend_dashed(col.mix(0.6), 2));
                }
            }
            style::legend(&mut c, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}
