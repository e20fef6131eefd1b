//! Network load over time: bandwidth per DP and per WAN link (stacked, each link's
//! capacity drawn), and concurrent downloads and queue length per DP. These are the
//! pictures that size DPs and WAN links: a flat top at the capacity line means the
//! link was the bottleneck.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{LinkKind, ResultData};
use super::style::{self, Drawn, Groups, TimeUnit};
use super::{Chart, PlotError};

/// One panel of stacked link rates with capacity lines.
fn stacked_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &ResultData,
    links: &[usize],
    title: &str,
    x_label: bool,
) -> Result<(), PlotError> {
    let g = Groups::of_network(d);
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
    let top = stacked
        .last()
        .map(|l| l.iter().copied().fold(0.0, f64::max))
        .unwrap_or(0.0);
    let caps: Vec<Option<f64>> = links
        .iter()
        .map(|&i| d.links.get(i).and_then(|l| l.capacity_bps))
        .collect();
    let max = caps.iter().flatten().copied().fold(top, f64::max);
    let (div, unit_name) = style::rate_unit(max);
    let mut c = style::time_chart(
        area,
        style::TimeFrame {
            caption: Some(title),
            x_max,
            y_max: style::headroom(max) / div,
            x_area: if x_label { 44 } else { 30 },
            y_area: 70,
            x_desc: x_label.then(|| unit.desc()),
            y_desc: unit_name.to_string(),
            y_ticks: style::fmt_tick,
        },
    )?;
    super::calendar::shade(&mut c, &d.calendar, unit, style::headroom(max) / div)?;
    for (k, series) in stacked.iter().enumerate().rev() {
        let col = style::color(k);
        let name = links
            .get(k)
            .and_then(|&i| d.links.get(i))
            .map(|l| l.name.as_str())
            .unwrap_or("");
        let pts: Vec<(f64, f64)> = g
            .steps(series, unit)
            .into_iter()
            .map(|(x, y)| (x, y / div))
            .collect();
        c.draw_series(AreaSeries::new(pts, 0.0, col.mix(0.8).filled()).border_style(col))
            .drawn()?
            .label(name.to_string())
            .legend(style::legend_box(col.mix(0.8)));
    }
    for (k, cap) in caps.iter().enumerate() {
        let Some(cap) = cap else { continue };
        let col = style::color(k);
        let name = links
            .get(k)
            .and_then(|&i| d.links.get(i))
            .map(|l| l.name.as_str())
            .unwrap_or("");
        let y = cap / div;
        c.draw_series(DashedLineSeries::new(
            [(0.0, y), (x_max, y)],
            10,
            6,
            col.stroke_width(2),
        ))
        .drawn()?
        .label(format!("{name} capacity {} {unit_name}", trim(y)))
        .legend(style::legend_dashed(col.to_rgba(), 2));
    }
    style::legend(&mut c, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Bandwidth per DP and per WAN link.
pub struct Bandwidth<'a> {
    /// The run.
    pub data: &'a ResultData,
}

impl Chart for Bandwidth<'_> {
    fn name(&self) -> &'static str {
        "bandwidth"
    }

    fn title(&self) -> String {
        "Bandwidth per DP and per WAN link".into()
    }

    fn caption(&self) -> String {
        format!(
            "{}: bandwidth over time (stacked)",
            self.data.summary.scenario
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let d = self.data;
        let dps = d.links_of(LinkKind::Dp);
        let wans = d.links_of(LinkKind::Wan);
        if wans.is_empty() {
            return stacked_panel(root, d, &dps, "distribution points", true);
        }
        let h = root.dim_in_pixel().1;
        let (a, b) = root.split_vertically((h as f64 * 0.55) as u32);
        stacked_panel(&a, d, &dps, "distribution points", false)?;
        stacked_panel(&b, d, &wans, "WAN links", true)
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
            ("downloads in progress (most at once)", &a, 1usize, false),
            (
                "downloads waiting for a connection (longest queue)",
                &b,
                2usize,
                true,
            ),
        ] {
            let max = groups
                .iter()
                .flat_map(|gr| gr.get(col_ix).into_iter().flatten().copied())
                .fold(0.0, f64::max);
            let mut c = style::time_chart(
                area,
                style::TimeFrame {
                    caption: Some(panel),
                    x_max,
                    y_max: style::headroom(max),
                    x_area: if desc { 44 } else { 30 },
                    y_area: 70,
                    x_desc: desc.then(|| unit.desc()),
                    y_desc: "downloads".to_string(),
                    y_ticks: style::fmt_count,
                },
            )?;
            super::calendar::shade(&mut c, &d.calendar, unit, style::headroom(max))?;
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
                    y_ticks: style::fmt_tick,
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
