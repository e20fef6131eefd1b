//! [`ResultData`]: everything the charts draw, read back from a result folder.
//!
//! Plots are always drawn from a folder (the `run` exporter draws from the files it
//! has just written), so a chart redrawn later by `compare` or `report` from the same
//! folder is the same chart, byte for byte. `summary.json` is required; the other
//! files are optional (a folder written before `timeline.csv` existed still plots what
//! it has), but a file that exists and cannot be read is an error, never skipped.

use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use serde::de::DeserializeOwned;

use super::load;
use crate::output::hdr;
use crate::output::summary::Summary;
use crate::sim::result::METRICS;

/// Why a result folder could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file is missing, unreadable or malformed.
    #[error("{}: {message}", file.display())]
    File {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        message: String,
    },
}

fn file_err(file: &Path, message: impl ToString) -> DataError {
    DataError::File {
        file: file.to_path_buf(),
        message: message.to_string(),
    }
}

/// What a link of `bandwidth.csv` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A distribution point's uplink.
    Dp,
    /// A site's WAN link (`wan:<site>`).
    Wan,
}

/// A DP or WAN link.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Name as in `bandwidth.csv`.
    pub name: String,
    /// DP or WAN.
    pub kind: LinkKind,
    /// Capacity, bits/s (`None` when the folder has no `links.csv`).
    pub capacity_bps: Option<f64>,
    /// `bandwidth.csv` gives the bytes peers saved it (`saved_bps`): the WAN link of
    /// a site with peer content.
    pub saved: bool,
}

/// One group of buckets of one link (one bucket unless the file is long).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkSample {
    /// Bucket start, seconds.
    pub time_s: f64,
    /// Average rate, bits/s.
    pub bps: f64,
    /// Highest bucket average within the group, bits/s.
    pub peak_bps: f64,
    /// Most downloads at once.
    pub active: f64,
    /// Longest queue.
    pub queued: f64,
    /// Average rate of the bytes peers saved the link, bits/s (0 without).
    pub saved_bps: f64,
}

/// Task sequences that ended in one group of buckets.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TimelineRow {
    /// Bucket start, seconds.
    pub time_s: f64,
    /// Succeeded.
    pub succeeded: u64,
    /// Rolled back.
    pub rolled_back: u64,
    /// Failed.
    pub failed: u64,
}

/// A row of `failures.csv`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct FailureEntry {
    /// Exit code (decimal).
    pub code: u64,
    /// `0xC1900208` form.
    pub code_hex: String,
    /// What the code means.
    pub name: String,
    /// Where it happened.
    pub phase: String,
    /// Clients.
    pub count: u64,
}

/// Everything charts and reports need from one result folder.
#[derive(Debug, Clone)]
pub struct ResultData {
    /// The folder it was read from.
    pub dir: PathBuf,
    /// `summary.json`.
    pub summary: Summary,
    /// Links in `links.csv` order (or first-seen order in `bandwidth.csv`).
    pub links: Vec<Link>,
    /// Samples per link, same index as `links`, in time order.
    pub samples: Vec<Vec<LinkSample>>,
    /// `timeline.csv` rows (empty when absent).
    pub timeline: Vec<TimelineRow>,
    /// Width of a sample or timeline group, seconds (the file's bucket width, or a
    /// whole multiple of it for long files).
    pub bucket_s: f64,
    /// `failures.csv` rows.
    pub failures: Vec<FailureEntry>,
    /// Latency histograms (µs) present in `histograms/`, in `METRICS` order.
    pub latency: Vec<(String, Histogram<u64>)>,
    /// Deployment deadline, seconds (from `marks.csv`).
    pub deadline_s: Option<f64>,
    /// The scenario as run (`scenario.toml`), when the folder has it.
    pub scenario_text: Option<String>,
    /// Nights, weekends and maintenance windows of the first site, `(kind, from_s,
    /// to_s)` (from `marks.csv`; empty without a calendar).
    pub calendar: Vec<(String, f64, f64)>,
}

fn read_csv<T: DeserializeOwned>(path: &Path) -> Result<Option<Vec<T>>, DataError> {
    if !path.exists() {
        return Ok(None);
    }
    let mut r = csv::Reader::from_path(path).map_err(|e| file_err(path, e))?;
    let mut rows = Vec::new();
    for rec in r.deserialize() {
        rows.push(rec.map_err(|e| file_err(path, e))?);
    }
    Ok(Some(rows))
}

#[derive(serde::Deserialize)]
struct LinkCsv {
    link: String,
    kind: String,
    capacity_bps: f64,
}

#[derive(serde::Deserialize)]
struct MarkCsv {
    mark: String,
    time_s: f64,
}

impl ResultData {
    /// Reads a result folder.
    pub fn load(dir: &Path) -> Result<Self, DataError> {
        let sp = dir.join("summary.json");
        let text = std::fs::read_to_string(&sp).map_err(|e| file_err(&sp, e))?;
        let summary: Summary = serde_json::from_str(&text).map_err(|e| file_err(&sp, e))?;

        let mut links: Vec<Link> = read_csv::<LinkCsv>(&dir.join("links.csv"))?
            .unwrap_or_default()
            .into_iter()
            .map(|l| Link {
                kind: if l.kind == "wan" || l.link.starts_with("wan:") {
                    LinkKind::Wan
                } else {
                    LinkKind::Dp
                },
                name: l.link,
                capacity_bps: (l.capacity_bps > 0.0 && l.capacity_bps.is_finite())
                    .then_some(l.capacity_bps),
                saved: false,
            })
            .collect();
        let marks = read_csv::<MarkCsv>(&dir.join("marks.csv"))?.unwrap_or_default();
        let mark = |name: &str| marks.iter().find(|m| m.mark == name).map(|m| m.time_s);
        let deadline_s = mark("deadline");
        let calendar = super::calendar::spans(marks.iter().map(|m| (m.mark.as_str(), m.time_s)));
        let (bw_path, tl_path) = (dir.join("bandwidth.csv"), dir.join("timeline.csv"));
        let bucket = match mark("interval") {
            Some(b) => Some(b),
            None => match load::probe_bucket(&tl_path)? {
                Some(b) => Some(b),
                None => load::probe_bucket(&bw_path)?,
            },
        };
        let span = summary.sim_end_s.max(1.0);
        let fold = load::Fold::new(bucket.unwrap_or(span), span);
        let samples = load::read_bandwidth(&bw_path, fold, &mut links)?;
        let timeline = load::read_timeline(&tl_path, fold)?;
        let bucket_s = fold.width_s;

        let failures = read_csv::<FailureEntry>(&dir.join("failures.csv"))?.unwrap_or_default();

        let mut latency = Vec::new();
        for m in METRICS {
            let p = dir.join("histograms").join(format!("{m}.hdr"));
            if p.exists() {
                let h = hdr::read(&p).map_err(|e| file_err(&p, e))?;
                latency.push((m.to_string(), h));
            }
        }
        let scenario_text = std::fs::read_to_string(dir.join("scenario.toml")).ok();
        Ok(ResultData {
            dir: dir.to_path_buf(),
            summary,
            links,
            samples,
            timeline,
            bucket_s,
            failures,
            latency,
            deadline_s,
            scenario_text,
            calendar,
        })
    }

    /// Indices of the links of one kind.
    pub fn links_of(&self, kind: LinkKind) -> Vec<usize> {
        (0..self.links.len())
            .filter(|&i| self.links.get(i).is_some_and(|l| l.kind == kind))
            .collect()
    }

    /// End of the last bucket in which any link carried traffic, had downloads or a
    /// queue, seconds (one bucket when idle): network charts stop there instead of
    /// showing days of nothing after a pre-cache burst.
    pub fn active_span_s(&self) -> f64 {
        self.samples
            .iter()
            .flat_map(|s| s.iter())
            .filter(|s| s.bps > 0.0 || s.active > 0.0 || s.queued > 0.0 || s.saved_bps > 0.0)
            .map(|s| s.time_s + self.bucket_s)
            .fold(self.bucket_s, f64::max)
    }

    /// Last instant worth showing on a time axis, seconds (at least one bucket).
    pub fn span_s(&self) -> f64 {
        let last_sample = self
            .samples
            .iter()
            .filter_map(|s| s.last())
            .map(|s| s.time_s + self.bucket_s)
            .fold(0.0, f64::max);
        let last_tl = self
            .timeline
            .last()
            .map(|t| t.time_s + self.bucket_s)
            .unwrap_or(0.0);
        self.summary
            .sim_end_s
            .max(last_sample)
            .max(last_tl)
            .max(self.bucket_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_without_summary_is_an_error_naming_the_file() {
        let d = tempfile::tempdir().unwrap();
        let e = ResultData::load(d.path()).unwrap_err().to_string();
        assert!(e.contains("summary.json"), "{e}");
    }
}
