//! `histograms/*.hdr`: one HdrHistogram per latency metric in the V2 serialization,
//! values in microseconds, so that shards can be merged exactly (`fleetsim merge`).

use std::fs;
use std::io;
use std::path::Path;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};

use super::Exporter;
use crate::sim::result::{METRICS, RunResult};

/// The histogram exporter.
pub struct Histograms;

impl Exporter for Histograms {
    fn name(&self) -> &'static str {
        "histograms/*.hdr"
    }

    fn write(&self, r: &RunResult, dir: &Path) -> io::Result<()> {
        let hdir = dir.join("histograms");
        fs::create_dir_all(&hdir)?;
        for (name, h) in METRICS.iter().zip(&r.latency.hists) {
            write(h, &hdir.join(format!("{name}.hdr")))?;
        }
        Ok(())
    }
}

/// Writes one histogram in the V2 serialization (the format [`read`] reads).
pub fn write(h: &Histogram<u64>, path: &Path) -> io::Result<()> {
    let mut buf = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut buf)
        .map_err(|e| io::Error::other(format!("{e:?}")))?;
    fs::write(path, buf)
}

/// Reads a histogram written by [`Histograms`]. A file that is not one is an
/// [`io::ErrorKind::InvalidData`] error saying so in one sentence (the caller names
/// the file): a truncated copy, or something else under the name.
pub fn read(path: &Path) -> io::Result<Histogram<u64>> {
    let bytes = fs::read(path)?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| {
            use hdrhistogram::serialization::DeserializeError;
            let why = match e {
                DeserializeError::IoError(_) => {
                    "truncated: the file ends before the histogram does"
                }
                _ => "not an HdrHistogram (V2) as fleetsim writes them: the file is damaged",
            };
            io::Error::new(io::ErrorKind::InvalidData, why)
        })
}
