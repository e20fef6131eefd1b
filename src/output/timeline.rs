//! The small files that let plots be redrawn from a result folder alone (by `compare`
//! and `report` on folders written earlier, or merged from shards):
//!
//! - `timeline.csv`: `time_s,succeeded,rolled_back,failed`, one row per
//!   `bandwidth_interval` bucket, counting the task sequences that *ended* in it;
//! - `links.csv`: `link,kind,capacity_bps`, the DPs and WAN links of `bandwidth.csv`
//!   with their capacities (`kind` is `dp` or `wan`);
//! - `marks.csv`: `mark,time_s`, instants worth drawing on a time axis (`deadline`
//!   when the deployment has one, `end` of the simulation), and `interval`, the
//!   bucket width of `bandwidth.csv` and `timeline.csv` (a duration, not an instant);
//!   with a calendar, `night_start`/`night_end`, `weekend_start`/`weekend_end` and
//!   `window_start`/`window_end` pairs: the nights, weekends and maintenance
//!   windows of the first site (`Calendar::axis_marks`), which the plots shade.
//!
//! Buckets follow `bandwidth.csv`: a bucket is named by its start, and an event exactly
//! on a boundary belongs to the bucket that ends there, so the two files line up.

use std::io;
use std::path::Path;

use super::Exporter;
use crate::engine::time::{SimTime, fmt_secs};
use crate::sim::result::{Outcome, RunResult};

/// Index of the bucket an instant belongs to (boundaries close the earlier bucket).
pub fn bucket_of(t: SimTime, interval: SimTime) -> u64 {
    let w = interval.max(1);
    if t == 0 { 0 } else { (t - 1) / w }
}

/// Counts of ended task sequences per bucket: `(succeeded, rolled_back, failed)`,
/// covering every bucket up to the end of the run (so empty buckets are rows too).
pub fn timeline(r: &RunResult) -> Vec<[u64; 3]> {
    let w = r.bandwidth_interval.max(1);
    let mut n = r.sim_end.div_ceil(w);
    if let Some((t, _)) = r.completions.last() {
        n = n.max(bucket_of(*t, w) + 1);
    }
    // Bounded by the simulated span over the interval, as bandwidth.csv is.
    let mut rows = vec![[0u64; 3]; n as usize];
    for (t, o) in &r.completions {
        let col = match o {
            Outcome::Succeeded => 0,
            Outcome::RolledBack => 1,
            Outcome::Failed => 2,
            Outcome::InProgress | Outcome::NotStarted => continue,
        };
        if let Some(x) = rows
            .get_mut(bucket_of(*t, w) as usize)
            .and_then(|row| row.get_mut(col))
        {
            *x += 1;
        }
    }
    rows
}

fn csv_err(e: csv::Error) -> io::Error {
    io::Error::other(e)
}

fn writer(dir: &Path, name: &str) -> io::Result<csv::Writer<io::BufWriter<std::fs::File>>> {
    let f = std::fs::File::create(dir.join(name))?;
    Ok(csv::Writer::from_writer(io::BufWriter::new(f)))
}

/// Writes `timeline.csv`, `links.csv` and `marks.csv`.
pub struct TimelineCsv;

impl Exporter for TimelineCsv {
    fn name(&self) -> &'static str {
        "timeline.csv, links.csv, marks.csv"
    }

    fn write(&self, r: &RunResult, dir: &Path) -> io::Result<()> {
        let w = r.bandwidth_interval.max(1);
        let mut t = writer(dir, "timeline.csv")?;
        t.write_record(["time_s", "succeeded", "rolled_back", "failed"])
            .map_err(csv_err)?;
        for (i, row) in timeline(r).iter().enumerate() {
            t.write_record([
                fmt_secs((i as u64).saturating_mul(w)).as_str(),
                row[0].to_string().as_str(),
                row[1].to_string().as_str(),
                row[2].to_string().as_str(),
            ])
            .map_err(csv_err)?;
        }
        t.flush()?;

        let mut l = writer(dir, "links.csv")?;
        l.write_record(["link", "kind", "capacity_bps"])
            .map_err(csv_err)?;
        for (i, name) in r.links.iter().enumerate() {
            let kind = if i < r.dp_names.len() { "dp" } else { "wan" };
            let cap = r.link_capacity.get(i).copied().unwrap_or(0);
            l.write_record([name.as_str(), kind, cap.to_string().as_str()])
                .map_err(csv_err)?;
        }
        l.flush()?;

        let mut m = writer(dir, "marks.csv")?;
        m.write_record(["mark", "time_s"]).map_err(csv_err)?;
        if let Some(d) = r.deadline {
            m.write_record(["deadline", fmt_secs(d).as_str()])
                .map_err(csv_err)?;
        }
        m.write_record(["end", fmt_secs(r.sim_end).as_str()])
            .map_err(csv_err)?;
        m.write_record(["interval", fmt_secs(w).as_str()])
            .map_err(csv_err)?;
        for &(kind, from, to) in &r.calendar_marks {
            m.write_record([format!("{kind}_start").as_str(), fmt_secs(from).as_str()])
                .map_err(csv_err)?;
            m.write_record([format!("{kind}_end").as_str(), fmt_secs(to).as_str()])
                .map_err(csv_err)?;
        }
        m.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_close_the_earlier_bucket() {
        assert_eq!(bucket_of(0, 10), 0);
        assert_eq!(bucket_of(1, 10), 0);
        assert_eq!(bucket_of(10, 10), 0);
        assert_eq!(bucket_of(11, 10), 1);
        assert_eq!(bucket_of(20, 10), 1);
        assert_eq!(bucket_of(5, 0), 4);
    }
}
