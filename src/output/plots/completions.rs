//! Completions over time: when task sequences ended and how, the deadline marked. The
//! top panel answers "when is the fleet compliant", the bottom one "how hard does
//! the rollout hit the help desk each day".

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::ResultData;
use super::style::{self, Drawn, Groups, TimeUnit};
use super::{Chart, PlotError};

/// Ended task sequences per group: `[succeeded, rolled_back, failed]`.
fn per_group(d: &ResultData, g: Groups) -> [Vec<f64>; 3] {
    let mut out = [vec![0.0; g.n], vec![0.0; g.n], vec![0.0; g.n]];
    for row in &d.timeline {
        for (i, share) in g.spread(row.time_s, d.bucket_s) {
            for (col, v) in out
                .iter_mut()
                .zip([row.succeeded, row.rolled_back, row.failed])
            {
                if let Some(x) = col.get_mut(i) {
                    *x += v as f64 * share;
                }
            }
        }
    }
    out
}

/// Running totals at each group's end, as `(x, total)` points starting at `(0, 0)`.
fn cumulative(v: &[f64], g: Groups, unit: TimeUnit, scale: f64) -> Vec<(f64, f64)> {
    let mut pts = Vec::with_capacity(v.len() + 1);
    pts.push((0.0, 0.0));
    let mut total = 0.0;
    for (i, x) in v.iter().enumerate() {
        total += x;
        pts.push((g.start(i + 1) / unit.secs, total * scale));
    }
    pts
}

fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, what: &str) -> Result<(), PlotError> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        what.to_string(),
        (w as i32 / 2 - 200, h as i32 / 2),
        style::label(),
    ))
    .drawn()
}

/// Draws a vertical dashed mark with a label at the top.
/// The share a compliance metric names (`sites.Lyon.compliance.p95_s` -> 95).
fn compliance_share(metric: &str) -> Option<&str> {
    let tail = metric.rsplit_once("compliance.p")?.1;
    tail.strip_suffix("_s")
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
}

fn vmark<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    x: f64,
    y_top: f64,
    color: RGBColor,
    text: &str,
) -> Result<(), PlotError>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(DashedLineSeries::new(
            [(x, 0.0), (x, y_top)],
            8,
            5,
            color.stroke_width(2),
        ))
        .drawn()?;
    chart
        .draw_series(std::iter::once(Text::new(
            text.to_string(),
            (x, y_top),
            style::label().color(&color),
        )))
        .drawn()?;
    Ok(())
}

/// Completions of one run.
pub struct Completions<'a> {
    /// The run.
    pub data: &'a ResultData,
}

impl Chart for Completions<'_> {
    fn name(&self) -> &'static str {
        "completions"
    }

    fn title(&self) -> String {
        "Task sequences ended over time".into()
    }

    fn caption(&self) -> String {
        format!(
            "{}: task sequences ended over time",
            self.data.summary.scenario
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let d = self.data;
        if d.timeline.is_empty() {
            return no_data(root, "no timeline.csv in this result folder");
        }
        let g = Groups::of(d);
        let unit = TimeUnit::for_span(d.span_s());
        let x_max = g.start(g.n) / unit.secs;
        let counts = per_group(d, g);
        let h = root.dim_in_pixel().1;
        let (top, bottom) = root.split_vertically((h as f64 * 0.58) as u32);

        // Top: cumulative counts against the fleet size.
        let fleet = d.summary.clients.max(1) as f64;
        let mut c = style::time_chart(
            &top,
            style::TimeFrame {
                caption: None,
                x_max,
                y_max: fleet * 1.04,
                x_area: 36,
                y_area: 80,
                x_desc: None,
                y_desc: "task sequences ended (cumulative)".to_string(),
                y_ticks: style::Ticks::Count,
            },
        )?;
        super::calendar::shade(&mut c, &d.calendar, unit, fleet * 1.04)?;
        let target = 0.95 * fleet;
        c.draw_series(DashedLineSeries::new(
            [(0.0, target), (x_max, target)],
            4,
            4,
            style::MARK.mix(0.7).stroke_width(1),
        ))
        .drawn()?
        .label("95% of the fleet")
        .legend(style::legend_dashed(style::MARK.mix(0.7), 2));
        let names = ["succeeded", "rolled back", "failed"];
        let colors = [style::SUCCEEDED, style::ROLLED_BACK, style::FAILED];
        for ((name, col), count) in names.iter().zip(colors).zip(&counts) {
            let total: f64 = count.iter().sum();
            c.draw_series(LineSeries::new(
                cumulative(count, g, unit, 1.0),
                col.stroke_width(3),
            ))
            .drawn()?
            .label(format!("{name} ({})", style::fmt_count(total)))
            .legend(style::legend_line(col.to_rgba(), 3));
        }
        if let Some(dl) = d.deadline_s {
            vmark(
                &mut c,
                dl / unit.secs,
                fleet * 1.02,
                style::MARK,
                "deadline",
            )?;
        }
        // Compliance targets (`[[targets]]`, `--target`): a line at the time the
        // share had to be reached, green when met, red when missed.
        for t in &d.summary.targets {
            let Some(share) = compliance_share(&t.metric) else {
                continue;
            };
            let x = t.threshold / unit.secs;
            if !(0.0..=x_max).contains(&x) {
                continue;
            }
            let who = t
                .metric
                .strip_prefix("sites.")
                .and_then(|r| r.rsplit_once(".compliance."))
                .map_or("fleet", |(site, _)| site);
            let (col, verdict) = if t.met {
                (style::SUCCEEDED, "met")
            } else {
                (style::FAILED, "missed")
            };
            vmark(
                &mut c,
                x,
                fleet * 0.97,
                col,
                &format!("target {who} {share}% by {}: {verdict}", t.written),
            )?;
        }
        style::legend(&mut c, SeriesLabelPosition::LowerRight)?;

        // Bottom: ended per group, stacked.
        let mut running = vec![0.0; g.n];
        let stacked: Vec<Vec<f64>> = counts
            .iter()
            .map(|v| {
                for (r, x) in running.iter_mut().zip(v) {
                    *r += x;
                }
                running.clone()
            })
            .collect();
        let y_max = style::count_top(style::headroom(running.iter().copied().fold(0.0, f64::max)));
        let mut c = style::time_chart(
            &bottom,
            style::TimeFrame {
                caption: None,
                x_max,
                y_max,
                x_area: 44,
                y_area: 80,
                x_desc: Some(unit.desc()),
                y_desc: format!("ended {}", g.per()),
                y_ticks: style::Ticks::Count,
            },
        )?;
        super::calendar::shade(&mut c, &d.calendar, unit, y_max)?;
        for (col, s) in colors.iter().zip(&stacked).rev() {
            c.draw_series(
                AreaSeries::new(g.steps(s, unit), 0.0, col.mix(0.85).filled())
                    .border_style(col.stroke_width(1)),
            )
            .drawn()?;
        }
        if let Some(dl) = d.deadline_s {
            vmark(&mut c, dl / unit.secs, y_max, style::MARK, "")?;
        }
        Ok(())
    }
}

/// Compliance of several runs on one chart (percent of each fleet).
pub struct CompareCompletions<'a> {
    /// Label and run.
    pub runs: &'a [(String, &'a ResultData)],
}

impl Chart for CompareCompletions<'_> {
    fn name(&self) -> &'static str {
        "compare_completions"
    }

    fn title(&self) -> String {
        "Compliance over time, runs overlaid".into()
    }

    fn caption(&self) -> String {
        "Share of the fleet upgraded over time".into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let span = self
            .runs
            .iter()
            .map(|(_, d)| d.span_s())
            .fold(1.0, f64::max);
        let unit = TimeUnit::for_span(span);
        let mut c = style::time_chart(
            root,
            style::TimeFrame {
                caption: None,
                x_max: span / unit.secs,
                y_max: 104.0,
                x_area: 44,
                y_area: 70,
                x_desc: Some(unit.desc()),
                y_desc: "% of the fleet".to_string(),
                y_ticks: style::Ticks::Value,
            },
        )?;
        c.draw_series(DashedLineSeries::new(
            [(0.0, 95.0), (span / unit.secs, 95.0)],
            4,
            4,
            style::MARK.mix(0.7).stroke_width(1),
        ))
        .drawn()?
        .label("95%")
        .legend(style::legend_dashed(style::MARK.mix(0.7), 2));
        for (i, (label, d)) in self.runs.iter().enumerate() {
            let col = style::color(i);
            let g = Groups::of(d);
            let counts = per_group(d, g);
            let pct = 100.0 / d.summary.clients.max(1) as f64;
            c.draw_series(LineSeries::new(
                cumulative(&counts[0], g, unit, pct),
                col.stroke_width(3),
            ))
            .drawn()?
            .label(format!("{label}: succeeded"))
            .legend(style::legend_line(col.to_rgba(), 3));
            let bad: Vec<f64> = counts[1]
                .iter()
                .zip(&counts[2])
                .map(|(a, b)| a + b)
                .collect();
            c.draw_series(DashedLineSeries::new(
                cumulative(&bad, g, unit, pct),
                8,
                5,
                col.stroke_width(2),
            ))
            .drawn()?
            .label(format!("{label}: failed or rolled back"))
            .legend(style::legend_dashed(col.to_rgba(), 2));
            if let Some(dl) = d.deadline_s {
                vmark(
                    &mut c,
                    dl / unit.secs,
                    100.0,
                    col,
                    &format!("{label} deadline"),
                )?;
            }
        }
        style::legend(&mut c, SeriesLabelPosition::MiddleRight)?;
        Ok(())
    }
}
