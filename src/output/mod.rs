//! Writing results: one module per output file, all behind [`Exporter`] and all fed
//! from the same [`RunResult`], written into a temporary folder that is renamed into
//! place only when every file is complete.

use std::io;
use std::path::Path;

use crate::sim::result::RunResult;

pub mod atomic;
pub mod csv_out;
pub mod hdr;
pub mod outdir;
pub mod plots;
pub mod readiness;
pub mod summary;
pub mod timeline;

/// One output file (or folder) of a result.
pub trait Exporter {
    /// What it writes, for messages.
    fn name(&self) -> &'static str;
    /// Writes into `dir` (a fresh temporary folder).
    fn write(&self, r: &RunResult, dir: &Path) -> io::Result<()>;
}

/// The exporters of a `run`, in writing order.
///
/// `plots` draws `plots/` (about 0.1 s a run): replications inside a sweep skip it,
/// their merged point folders draw it once.
pub fn exporters(per_client: bool, plots: bool) -> Vec<Box<dyn Exporter>> {
    let mut v: Vec<Box<dyn Exporter>> = vec![
        Box::new(summary::SummaryJson),
        Box::new(csv_out::BandwidthCsv),
        Box::new(csv_out::FailuresCsv),
        Box::new(csv_out::StepsCsv),
        Box::new(csv_out::TraceCsv),
        Box::new(hdr::Histograms),
        Box::new(timeline::TimelineCsv),
    ];
    if per_client {
        v.push(Box::new(csv_out::ClientsCsv));
    }
    // Last: plots are drawn from the files written above.
    if plots {
        v.push(Box::new(plots::Plots));
    }
    v
}

/// Writes every output of `r` into `out`, atomically: into a temporary sibling folder
/// first, then renamed over `out`. `extra` may add files (e.g. the scenario copy).
pub fn write_all(
    r: &RunResult,
    out: &Path,
    per_client: bool,
    plots: bool,
    extra: &dyn Fn(&Path) -> io::Result<()>,
) -> io::Result<()> {
    atomic::write_dir(out, |dir| {
        for e in exporters(per_client, plots) {
            e.write(r, dir).map_err(|err| {
                io::Error::new(err.kind(), format!("writing {}: {err}", e.name()))
            })?;
        }
        extra(dir)
    })
}
