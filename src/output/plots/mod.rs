//! Charts of a result, as SVG and PNG files or as SVG text for the HTML report.
//!
//! Every chart is drawn from a [`ResultData`] read back from a result folder, through
//! one [`Chart`] implementation per chart, whatever the backend: `run` draws from the
//! folder it has just written, `compare` and `report` from folders written earlier, so
//! the same folder always gives the same pictures.
//!
//! - [`completions`]: task sequences ended over time (and runs overlaid);
//! - [`bandwidth`]: DP bandwidth stacked under the DPs' total capacity, each WAN link
//!   on its own panel, downloads and queues per DP;
//! - [`latency`]: percentile curves from the HDR histograms;
//! - [`failures`]: failures by code and phase.
//!
//! Time series are summed into groups of a round width ([`groups`]: "per hour", "per
//! 10 min"); count axes tick on whole numbers ([`style::Ticks`]). The charts of one
//! folder are drawn on one thread each ([`draw_all`]): each depends only on the
//! folder, so the files are the same whatever the number of cores.
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
pub mod groups;
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
    let (w, h) = c.size();
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        c.draw(&style::page(&root, &c.caption())?)?;
        root.present().drawn()?;
    }
    encode_png(&rgb, (w, h), path)
}

/// Writes an RGB buffer as a PNG with one fixed filter (`Sub`, good for the flat
/// runs of colour a chart is made of) and fast deflate: plotters' encoder tries all
/// five filters on every row at the default level, which made PNG encoding a quarter
/// of the plotting time, for files about a third smaller.
fn encode_png(rgb: &[u8], (w, h): (u32, u32), path: &Path) -> Result<(), PlotError> {
    let io_err = |source: io::Error| PlotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io_err)?;
    let mut enc = ::png::Encoder::new(io::BufWriter::new(file), w, h);
    enc.set_color(::png::ColorType::Rgb);
    enc.set_depth(::png::BitDepth::Eight);
    enc.set_compression(::png::Compression::Fast);
    enc.set_filter(::png::FilterType::Sub);
    enc.set_adaptive_filter(::png::AdaptiveFilterType::NonAdaptive);
    let png_err = |e: ::png::EncodingError| match e {
        ::png::EncodingError::IoError(source) => io_err(source),
        other => PlotError::Draw(format!("{}: {other}", path.display())),
    };
    let mut writer = enc.write_header().map_err(png_err)?;
    writer.write_image_data(rgb).map_err(png_err)?;
    // Writes the end chunk and flushes the buffer, reporting a full disk.
    writer.finish().map_err(png_err)
}

/// One chart's outputs: its SVG text, and its files when given a folder.
fn emit<C: Chart>(c: &C, dir: Option<&Path>) -> Result<Figure, PlotError> {
    let text = svg(c)?;
    if let Some(dir) = dir {
        let p = dir.join(format!("{}.svg", c.name()));
        std::fs::write(&p, &text).map_err(|source| PlotError::Io { path: p, source })?;
        png(c, &dir.join(format!("{}.png", c.name())))?;
    }
    Ok(Figure {
        name: c.name(),
        title: c.title(),
        svg: text,
    })
}

/// A chart's drawing, ready to run on any thread.
type Job<'s> = Box<dyn FnOnce() -> Result<Figure, PlotError> + Send + 's>;

/// Draws independent charts side by side, one thread each (they share nothing but
/// the read-only data and font), and returns their figures in `jobs` order, so the
/// files and the report are the same whatever the number of cores; the first error
/// in that order wins. One job, or a machine with one core, runs on this thread.
fn draw_all(jobs: Vec<Job<'_>>) -> Result<Vec<Figure>, PlotError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if jobs.len() < 2 || cores < 2 {
        return jobs.into_iter().map(|j| j()).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs.into_iter().map(|j| s.spawn(j)).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(PlotError::Draw("a chart thread panicked".into())))
            })
            .collect()
    })
}

fn run_charts(d: &ResultData, dir: Option<&Path>) -> Result<Vec<Figure>, PlotError> {
    draw_all(vec![
        Box::new(move || emit(&Completions { data: d }, dir)),
        Box::new(move || emit(&Bandwidth { data: d }, dir)),
        Box::new(move || emit(&Connections { data: d }, dir)),
        Box::new(move || emit(&Latency { data: d }, dir)),
        Box::new(move || emit(&Failures { data: d }, dir)),
    ])
}

fn compare_charts(
    runs: &[(String, &ResultData)],
    dir: Option<&Path>,
) -> Result<Vec<Figure>, PlotError> {
    draw_all(vec![
        Box::new(move || emit(&CompareCompletions { runs }, dir)),
        Box::new(move || emit(&CompareBandwidth { runs }, dir)),
        Box::new(move || emit(&CompareLatency { runs }, dir)),
    ])
}

fn make_dir(dir: &Path) -> Result<(), PlotError> {
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// The charts of one run, as SVG text.
pub fn run_figures(d: &ResultData) -> Result<Vec<Figure>, PlotError> {
    run_charts(d, None)
}

/// Writes the charts of one run into `plots_dir` (SVG and PNG).
pub fn write_run_plots(d: &ResultData, plots_dir: &Path) -> Result<Vec<Figure>, PlotError> {
    make_dir(plots_dir)?;
    run_charts(d, Some(plots_dir))
}

/// The overlay charts of several runs (labels first), as SVG text.
pub fn compare_figures(runs: &[(String, &ResultData)]) -> Result<Vec<Figure>, PlotError> {
    compare_charts(runs, None)
}

/// Writes the overlay charts of several runs into `plots_dir` (SVG and PNG).
pub fn write_compare_plots(
    runs: &[(String, &ResultData)],
    plots_dir: &Path,
) -> Result<Vec<Figure>, PlotError> {
    make_dir(plots_dir)?;
    compare_charts(runs, Some(plots_dir))
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
