//! The result folder of a load test: the same files as `run` (so `merge`, `compare`
//! and `report` read it unchanged), with what only a real transfer has:
//! - `summary.json` says `"mode": "load"` and adds `latency.ttfb`;
//! - `histograms/ttfb.hdr`, time to first byte in simulated microseconds;
//! - `failures.csv` adds one row per transfer error class, phase `transfer`
//!   (`connect`, `timeout`, `reset`, `http_<status>`, `short_body`, `protocol`);
//! - `load.json`: how the test was run (target, scales, requests sent), whether it
//!   was stopped (`partial`), and the transfers still running when it ended, whose
//!   bytes count in `bytes` like the others (`unfinished`).
//!
//! `steps.csv`, `timeline.csv`, `links.csv`, `marks.csv` and `plots/` are those of a
//! run, from the same world; only `trace.csv` is absent (`load` has no `--trace`, and
//! a run without it has none either).

use std::io;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::errors::ErrorClass;
use crate::output::summary::{Stat, Summary};
use crate::output::{Exporter, atomic, csv_out, hdr};
use crate::setup::codes;
use crate::sim::result::RunResult;

/// How a load test was run, written as `load.json`.
#[derive(Debug, Clone, Serialize)]
pub struct LoadInfo {
    /// `--target` as given (DPs with their own `url` use that).
    pub target: Option<String>,
    /// URL template of each DP, by name.
    pub urls: std::collections::BTreeMap<String, String>,
    /// Simulated seconds per wall second.
    pub time_scale: f64,
    /// Factor applied to content sizes.
    pub size_scale: f64,
    /// Bytes per Range request, if chunked.
    pub chunk_size: Option<u64>,
    /// Cap on concurrent connections.
    pub max_connections: usize,
    /// `I/N` when sharded.
    pub shard: Option<String>,
    /// HTTP requests sent (chunks, resumes, retries and redirects included).
    pub requests: u64,
    /// Failed attempts by class name.
    pub errors: std::collections::BTreeMap<String, u64>,
    /// Stopped by a signal (Ctrl-C, SIGTERM, SIGHUP) before the horizon or the end.
    pub partial: bool,
    /// Transfers still running when the test ended (at the horizon or a stop): cut
    /// off, with the bytes they had received (counted in `summary.json`'s `bytes`).
    pub unfinished: Unfinished,
}

/// Transfers cut off by the end of a load test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Unfinished {
    /// How many.
    pub transfers: u64,
    /// Bytes they had received.
    pub bytes: u64,
}

/// The summary of a load test.
pub fn summary(r: &RunResult, ttfb: &Histogram<u64>) -> Summary {
    let mut s = Summary::of(r);
    s.mode = "load".into();
    s.latency.ttfb = Some(Stat::from_hist(ttfb));
    s
}

struct LoadSummary<'a>(&'a Histogram<u64>);

impl Exporter for LoadSummary<'_> {
    fn name(&self) -> &'static str {
        "summary.json"
    }

    fn write(&self, r: &RunResult, dir: &Path) -> io::Result<()> {
        let mut text =
            serde_json::to_string_pretty(&summary(r, self.0)).map_err(io::Error::other)?;
        text.push('\n');
        std::fs::write(dir.join("summary.json"), text)
    }
}

struct TtfbHdr<'a>(&'a Histogram<u64>);

impl Exporter for TtfbHdr<'_> {
    fn name(&self) -> &'static str {
        "histograms/ttfb.hdr"
    }

    fn write(&self, _r: &RunResult, dir: &Path) -> io::Result<()> {
        let hdir = dir.join("histograms");
        std::fs::create_dir_all(&hdir)?;
        crate::output::hdr::write(self.0, &hdir.join("ttfb.hdr"))
    }
}

/// `failures.csv` of `run`, then the transfer error classes.
struct LoadFailures;

impl Exporter for LoadFailures {
    fn name(&self) -> &'static str {
        "failures.csv"
    }

    fn write(&self, r: &RunResult, dir: &Path) -> io::Result<()> {
        csv_out::FailuresCsv.write(r, dir)?;
        let path = dir.join("failures.csv");
        let f = std::fs::OpenOptions::new().append(true).open(&path)?;
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(io::BufWriter::new(f));
        for (&code, &count) in &r.transfer_errors {
            let name =
                ErrorClass::from_code(code).map_or_else(|| format!("error_{code}"), |c| c.name());
            w.write_record([
                code.to_string().as_str(),
                codes::hex(code).as_str(),
                name.as_str(),
                "transfer",
                count.to_string().as_str(),
            ])
            .map_err(io::Error::other)?;
        }
        w.flush()
    }
}

/// Failed attempts by class name.
pub fn errors_by_name(r: &RunResult) -> std::collections::BTreeMap<String, u64> {
    r.transfer_errors
        .iter()
        .map(|(&code, &n)| {
            let name =
                ErrorClass::from_code(code).map_or_else(|| format!("error_{code}"), |c| c.name());
            (name, n)
        })
        .collect()
}

/// Writes the whole folder atomically (as `run` does); `extra` adds files such as
/// the scenario copy.
pub fn write(
    r: &RunResult,
    ttfb: &Histogram<u64>,
    info: &LoadInfo,
    out: &Path,
    per_client: bool,
    extra: &dyn Fn(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let mut exporters: Vec<Box<dyn Exporter + '_>> = vec![
        Box::new(LoadSummary(ttfb)),
        Box::new(csv_out::BandwidthCsv),
        Box::new(LoadFailures),
        Box::new(csv_out::StepsCsv),
        Box::new(hdr::Histograms),
        Box::new(TtfbHdr(ttfb)),
        Box::new(crate::output::timeline::TimelineCsv),
    ];
    if per_client {
        exporters.push(Box::new(csv_out::ClientsCsv));
    }
    // Last, as in `run`: drawn from the files above.
    exporters.push(Box::new(crate::output::plots::Plots));
    atomic::write_dir(out, |dir| {
        for e in &exporters {
            e.write(r, dir).map_err(|err| {
                io::Error::new(err.kind(), format!("writing {}: {err}", e.name()))
            })?;
        }
        let mut text = serde_json::to_string_pretty(info).map_err(io::Error::other)?;
        text.push('\n');
        std::fs::write(dir.join("load.json"), text)?;
        extra(dir)
    })
}
