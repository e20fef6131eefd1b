//! Charts of a result, as SVG and PNG files or as SVG text for the HTML report.
//!
//! Every chart is drawn from a [`ResultData`] read back from a result folder, through
//! one [`Chart`] implementation per chart, whatever the backend: `run` draws from the
//! folder it has just written, `compare` and `report` from folders written earlier, so
//! the same folder always gives the same pictures.
//!
//! - [`completions`]: task sequences ended over time (and runs overlaid);
//! - [`bandwidth`]: bandwidth per DP and WAN link, downloads and queues per DP;
//! - [`latency`]: percentile curves from the HDR histograms;
//! - [`failures`]: failures by code and phase.
//!
//! Text is drawn with a bundled font through plotters' `ab_glyph` path
//! ([`style::ensure_font`]): no system fonts or font libraries are used, so a PNG
//! made on a bare machine has its labels.

use std::io;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Exporter;
use crate::sim::result::RunResult;

pub mod bandwidth;
pub mod calendar;
pub mod completions;
pub mod data;
pub mod failures;
pub mod latency;
pub mod load;
pub mod style;

pub use bandwidth::{Bandwidth, CompareBandwidth, Connections};
pub use completions::{CompareCompletions, Completions};
pub use data::{DataError, ResultData};
pub use failures::Failures;
pub use latency::{CompareLatency, Latency};

use style::Drawn;

/// Why a chart could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The bundled font was rejected (a corrupt build).
    #[error("the bundled font could not be loaded")]
    Font,
    /// The plotting library failed.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// A chart file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The result folder could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
}

/// One chart: drawn the same way onto SVG and PNG backends.
pub trait Chart {
    /// File stem under `plots/` (also the figure's id in the report).
    fn name(&self) -> &'static str;
    /// What it shows, for a report caption.
    fn title(&self) -> String;
    /// Size in pixels.
    fn size(&self) -> (u32, u32) {
        style::SIZE
    }
    /// The heading drawn on the image (names the scenario or the runs compared).
    fn caption(&self) -> String;
    /// Draws the chart into the area under its caption ([`svg`] and [`png`] clear the
    /// image and draw the caption, the same way for every chart).
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// A chart rendered as SVG text (what the report inlines).
#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem.
    pub name: &'static str,
    /// Caption.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// Renders a chart as an SVG document.
pub fn svg<C: Chart>(c: &C) -> Result<String, PlotError> {
    style::ensure_font()?;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, c.size()).into_drawing_area();
        c.draw(&style::page(&root, &c.caption())?)?;
        root.present().drawn()?;
    }
    Ok(s)
}

/// Renders a chart as a PNG file.
pub fn png<C: Chart>(c: &C, path: &Path) -> Result<(), PlotError> {
    style::ensure_font()?;
    let root = BitMapBackend::new(path, c.size()).into_drawing_area();
    c.draw(&style::page(&root, &c.caption())?)?;
    root.present().drawn()
}

/// Collects figures, and writes `<name>.svg` and `<name>.png` when given a folder.
struct Out<'a> {
    dir: Option<&'a Path>,
    figures: Vec<Figure>,
}

impl Out<'_> {
    fn emit<C: Chart>(&mut self, c: &C) -> Result<(), PlotError> {
        let text = svg(c)?;
        if let Some(dir) = self.dir {
            let p = dir.join(format!("{}.svg", c.name()));
            std::fs::write(&p, &text).map_err(|source| PlotError::Io { path: p, source })?;
            png(c, &dir.join(format!("{}.png", c.name())))?;
        }
        self.figures.push(Figure {
            name: c.name(),
            title: c.title(),
            svg: text,
        });
        Ok(())
    }
}

fn run_charts(d: &ResultData, out: &mut Out<'_>) -> Result<(), PlotError> {
    out.emit(&Completions { data: d })?;
    out.emit(&Bandwidth { data: d })?;
    out.emit(&Connections { data: d })?;
    out.emit(&Latency { data: d })?;
    out.emit(&Failures { data: d })
}

fn compare_charts(runs: &[(String, &ResultData)], out: &mut Out<'_>) -> Result<(), PlotError> {
    out.emit(&CompareCompletions { runs })?;
    out.emit(&CompareBandwidth { runs })?;
    out.emit(&CompareLatency { runs })
}

fn make_dir(dir: &Path) -> Result<(), PlotError> {
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// The charts of one run, as SVG text.
pub fn run_figures(d: &ResultData) -> Result<Vec<Figure>, PlotError> {
    let mut out = Out {
        dir: None,
        figures: Vec::new(),
    };
    run_charts(d, &mut out)?;
    Ok(out.figures)
}

/// Writes the charts of one run into `plots_dir` (SVG and PNG).
pub fn write_run_plots(d: &ResultData, plots_dir: &Path) -> Result<Vec<Figure>, PlotError> {
    make_dir(plots_dir)?;
    let mut out = Out {
        dir: Some(plots_dir),
        figures: Vec::new(),
    };
    run_charts(d, &mut out)?;
    Ok(out.figures)
}

/// The overlay charts of several runs (labels first), as SVG text.
pub fn compare_figures(runs: &[(String, &ResultData)]) -> Result<Vec<Figure>, PlotError> {
    let mut out = Out {
        dir: None,
        figures: Vec::new(),
    };
    compare_charts(runs, &mut out)?;
    Ok(out.figures)
}

/// Writes the overlay charts of several runs into `plots_dir` (SVG and PNG).
pub fn write_compare_plots(
    runs: &[(String, &ResultData)],
    plots_dir: &Path,
) -> Result<Vec<Figure>, PlotError> {
    make_dir(plots_dir)?;
    let mut out = Out {
        dir: Some(plots_dir),
        figures: Vec::new(),
    };
    compare_charts(runs, &mut out)?;
    Ok(out.figures)
}

/// The `plots/` exporter. It runs after the CSV, summary and histogram exporters and
/// draws from the files they wrote, so a folder's plots can always be redrawn from it.
pub struct Plots;

impl Exporter for Plots {
    fn name(&self) -> &'static str {
        "plots/"
    }

    fn write(&self, _r: &RunResult, dir: &Path) -> io::Result<()> {
        let d = ResultData::load(dir).map_err(io::Error::other)?;
        write_run_plots(&d, &dir.join("plots"))
            .map(|_| ())
            .map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text drawn into a PNG buffer with the bundled font leaves ink: a build where the
    /// font path is broken draws labels as nothing, which this catches.
    #[test]
    fn bundled_font_draws_ink_on_a_bitmap() {
        style::ensure_font().unwrap();
        let (w, h) = (200u32, 60u32);
        let mut buf = vec![255u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            root.draw(&Text::new("Compliance 95%", (5, 10), style::label()))
                .unwrap();
            root.present().unwrap();
        }
        let dark = buf.chunks(3).filter(|p| p[0] < 128).count();
        assert!(dark > 100, "only {dark} dark pixels: text did not render");
    }
}
