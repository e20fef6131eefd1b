//! Failures by exit code and phase as horizontal bars, largest first: which fix (free
//! disk, compatibility scan, drivers, content distribution) buys the most machines.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::ResultData;
use super::style::{self, Drawn};
use super::{Chart, PlotError};

/// Most bars drawn; the rest are summed into one "other" bar.
const MAX_BARS: usize = 16;
/// Longest code description shown beside a bar.
const MAX_NAME: usize = 44;

/// Bars of one run: `(label, phase, count)`, largest first.
fn bars(d: &ResultData) -> Vec<(String, String, u64)> {
    let mut rows: Vec<&super::data::FailureEntry> =
        d.failures.iter().filter(|f| f.count > 0).collect();
    rows.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.code_hex.cmp(&b.code_hex))
            .then_with(|| a.phase.cmp(&b.phase))
    });
    let mut out: Vec<(String, String, u64)> = rows
        .iter()
        .take(MAX_BARS)
        .map(|f| {
            let mut name: String = f.name.chars().take(MAX_NAME).collect();
            if f.name.chars().count() > MAX_NAME {
                name.push('…');
            }
            (
                format!("{} {name} [{}]", f.code_hex, f.phase),
                f.phase.clone(),
                f.count,
            )
        })
        .collect();
    if rows.len() > MAX_BARS {
        let rest: u64 = rows.iter().skip(MAX_BARS).map(|f| f.count).sum();
        out.push((
            format!("{} other code and phase pairs", rows.len() - MAX_BARS),
            "other".into(),
            rest,
        ));
    }
    out
}

/// Failures by code and phase of one run.
pub struct Failures<'a> {
    /// The run.
    pub data: &'a ResultData,
}

impl Chart for Failures<'_> {
    fn name(&self) -> &'static str {
        "failures"
    }

    fn title(&self) -> String {
        "Failures by exit code and phase".into()
    }

    /// Tall enough for its bars and no taller.
    fn size(&self) -> (u32, u32) {
        let n = bars(self.data).len() as u32;
        (style::SIZE.0, (170 + 44 * n).clamp(320, 1000))
    }

    fn caption(&self) -> String {
        format!(
            "{}: failed and rolled-back task sequences by code and phase",
            self.data.summary.scenario
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let d = self.data;
        let bars = bars(d);
        if bars.is_empty() {
            let (w, h) = root.dim_in_pixel();
            return root
                .draw(&Text::new(
                    "no task sequence failed or rolled back".to_string(),
                    (w as i32 / 2 - 160, h as i32 / 2),
                    style::label(),
                ))
                .drawn();
        }
        let mut phases: Vec<&str> = Vec::new();
        for (_, p, _) in &bars {
            if !phases.contains(&p.as_str()) {
                phases.push(p);
            }
        }
        let n = bars.len();
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(10);
        let max = bars.iter().map(|b| b.2).max().unwrap_or(1).max(1) as f64;
        let mut c = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size((longest as u32 * 8 + 24).min(560))
            .build_cartesian_2d(0.0..max * 1.15, (0..n as i32 - 1).into_segmented())
            .drawn()?;
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => usize::try_from(n as i32 - 1 - *i)
                .ok()
                .and_then(|k| labels.get(k))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        };
        c.configure_mesh()
            .disable_y_mesh()
            .x_desc("clients")
            .x_labels(style::count_labels(max * 1.15))
            .x_label_formatter(&|v| style::fmt_whole(*v))
            .y_label_formatter(&label_of)
            .y_labels(n)
            .label_style(style::label())
            .axis_desc_style(style::label())
            .draw()
            .drawn()?;
        for (k, (_, phase, count)) in bars.iter().enumerate() {
            let y = n as i32 - 1 - k as i32;
            let col = style::color(phases.iter().position(|p| p == phase).unwrap_or(0));
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(y)),
                    (*count as f64, SegmentValue::Exact(y + 1)),
                ],
                col.filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            c.draw_series(std::iter::once(bar)).drawn()?;
            c.draw_series(std::iter::once(Text::new(
                format!(" {}", style::fmt_count(*count as f64)),
                (*count as f64, SegmentValue::CenterOf(y)),
                style::label().pos(Pos::new(HPos::Left, VPos::Center)),
            )))
            .drawn()?;
        }
        Ok(())
    }
}
