//! Streaming readers for the two large files of a result folder, `bandwidth.csv` and
//! `timeline.csv`. A run with 1-second buckets over 21 days and five links writes
//! 9 million bandwidth rows; charts show at most a few hundred points, so rows are
//! folded into at most [`MAX_FINE`] equal groups as they are read (rates averaged over
//! time, peaks and counts kept), and memory stays small whatever the file size.

use std::collections::HashMap;
use std::path::Path;

use csv::ByteRecord;

use super::data::{DataError, Link, LinkKind, LinkSample, TimelineRow};

/// Most groups kept per link (each chart then coarsens further).
pub const MAX_FINE: usize = 4096;

/// Groups beyond which a row's time is taken as corrupt rather than grown into.
const HARD_CAP: usize = 4 * MAX_FINE;

fn err(path: &Path, message: impl ToString) -> DataError {
    DataError::File {
        file: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// How buckets of width `bucket_s` fold into groups.
#[derive(Debug, Clone, Copy)]
pub struct Fold {
    /// Width of a file bucket, seconds.
    pub bucket_s: f64,
    /// Width of a kept group (a whole number of buckets), seconds.
    pub width_s: f64,
}

impl Fold {
    /// Enough groups to cover `span_s`, at most [`MAX_FINE`]: the buckets themselves,
    /// or the narrowest round width holding whole buckets that leaves few enough.
    pub fn new(bucket_s: f64, span_s: f64) -> Self {
        let b = if bucket_s.is_finite() && bucket_s > 0.0 {
            bucket_s
        } else {
            1.0
        };
        let buckets = (span_s.max(b) / b).ceil();
        let k = (buckets / MAX_FINE as f64).ceil().max(1.0);
        // A fold as wide as a round group width (when one of at most twice the width
        // needed holds whole buckets), so the groups charts make of it hold whole
        // folds; otherwise whole buckets, and charts share folds between groups.
        let width_s = if k > 1.0 {
            super::groups::LADDER
                .iter()
                .map(|(w, _)| *w)
                .take_while(|w| *w <= 2.0 * b * k)
                .find(|w| *w >= b * k && ((w / b) - (w / b).round()).abs() < 1e-9)
                .unwrap_or(b * k)
        } else {
            b
        };
        Fold {
            bucket_s: b,
            width_s,
        }
    }

    fn index(&self, t: f64, path: &Path, line: u64) -> Result<usize, DataError> {
        let i = (t / self.width_s).floor();
        if !(0.0..HARD_CAP as f64).contains(&i) {
            return Err(err(
                path,
                format!("line {line}: time_s {t} is outside the run"),
            ));
        }
        Ok(i as usize)
    }
}

struct Columns<'a> {
    path: &'a Path,
    idx: Vec<usize>,
}

impl<'a> Columns<'a> {
    fn new(path: &'a Path, headers: &ByteRecord, names: &[&str]) -> Result<Self, DataError> {
        let idx = names
            .iter()
            .map(|n| {
                headers
                    .iter()
                    .position(|h| h == n.as_bytes())
                    .ok_or_else(|| err(path, format!("no `{n}` column")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Columns { path, idx })
    }

    fn text<'r>(&self, rec: &'r ByteRecord, col: usize) -> Result<&'r str, DataError> {
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        self.idx
            .get(col)
            .and_then(|&i| rec.get(i))
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| {
                err(
                    self.path,
                    format!("line {line}: missing or non-UTF-8 field"),
                )
            })
    }

    fn num(&self, rec: &ByteRecord, col: usize) -> Result<f64, DataError> {
        let t = self.text(rec, col)?;
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                err(self.path, format!("line {line}: `{t}` is not a number"))
            })
    }
}

fn reader(path: &Path) -> Result<Option<csv::Reader<std::fs::File>>, DataError> {
    if !path.exists() {
        return Ok(None);
    }
    csv::Reader::from_path(path)
        .map(Some)
        .map_err(|e| err(path, e))
}

/// The smallest positive gap between the first distinct times of a CSV's `time_s`
/// column (reads only a few rows): the bucket width of a folder without `marks.csv`.
pub fn probe_bucket(path: &Path) -> Result<Option<f64>, DataError> {
    let Some(mut r) = reader(path)? else {
        return Ok(None);
    };
    let headers = r.byte_headers().map_err(|e| err(path, e))?.clone();
    let cols = Columns::new(path, &headers, &["time_s"])?;
    let mut rec = ByteRecord::new();
    let mut first: Option<f64> = None;
    while r.read_byte_record(&mut rec).map_err(|e| err(path, e))? {
        let t = cols.num(&rec, 0)?;
        match first {
            None => first = Some(t),
            Some(f) if t > f => return Ok(Some(t - f)),
            Some(_) => {}
        }
    }
    Ok(None)
}

/// Reads `bandwidth.csv` into per-link groups; links missing from `links` (a folder
/// without `links.csv`) are added in first-seen order, without a capacity. The
/// `saved_bps` column of runs with peers is optional; a link with a value in it is
/// marked [`Link::saved`].
pub fn read_bandwidth(
    path: &Path,
    fold: Fold,
    links: &mut Vec<Link>,
) -> Result<Vec<Vec<LinkSample>>, DataError> {
    let mut samples: Vec<Vec<LinkSample>> = vec![Vec::new(); links.len()];
    let Some(mut r) = reader(path)? else {
        return Ok(samples);
    };
    let headers = r.byte_headers().map_err(|e| err(path, e))?.clone();
    let cols = Columns::new(
        path,
        &headers,
        &["time_s", "dp", "bps", "active_downloads", "queued"],
    )?;
    let saved_col = headers.iter().position(|h| h == b"saved_bps");
    let mut index: HashMap<String, usize> = links
        .iter()
        .enumerate()
        .map(|(i, l)| (l.name.clone(), i))
        .collect();
    let mut rec = ByteRecord::new();
    while r.read_byte_record(&mut rec).map_err(|e| err(path, e))? {
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let name = cols.text(&rec, 1)?;
        let li = match index.get(name) {
            Some(&i) => i,
            None => {
                links.push(Link {
                    kind: if name.starts_with("wan:") {
                        LinkKind::Wan
                    } else {
                        LinkKind::Dp
                    },
                    name: name.to_string(),
                    capacity_bps: None,
                    saved: false,
                });
                samples.push(Vec::new());
                index.insert(name.to_string(), links.len() - 1);
                links.len() - 1
            }
        };
        let t = cols.num(&rec, 0)?;
        let gi = fold.index(t, path, line)?;
        let (bps, active, queued) = (cols.num(&rec, 2)?, cols.num(&rec, 3)?, cols.num(&rec, 4)?);
        let saved = match saved_col.and_then(|i| rec.get(i)).filter(|b| !b.is_empty()) {
            Some(b) => Some(
                std::str::from_utf8(b)
                    .ok()
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| err(path, format!("line {line}: bad saved_bps")))?,
            ),
            None => None,
        };
        if let (Some(_), Some(l)) = (saved, links.get_mut(li)) {
            l.saved = true;
        }
        let Some(s) = samples.get_mut(li) else {
            continue;
        };
        if s.len() <= gi {
            let from = s.len();
            s.extend((from..=gi).map(|i| LinkSample {
                time_s: i as f64 * fold.width_s,
                ..LinkSample::default()
            }));
        }
        if let Some(g) = s.get_mut(gi) {
            // Summed bit-seconds now, divided into a mean rate below.
            g.bps += bps * fold.bucket_s;
            g.saved_bps += saved.unwrap_or(0.0) * fold.bucket_s;
            g.peak_bps = g.peak_bps.max(bps);
            g.active = g.active.max(active);
            g.queued = g.queued.max(queued);
        }
    }
    for g in samples.iter_mut().flatten() {
        g.bps /= fold.width_s;
        g.saved_bps /= fold.width_s;
    }
    Ok(samples)
}

/// Reads `timeline.csv`, summing counts into groups (empty when the file is absent).
pub fn read_timeline(path: &Path, fold: Fold) -> Result<Vec<TimelineRow>, DataError> {
    let Some(mut r) = reader(path)? else {
        return Ok(Vec::new());
    };
    let headers = r.byte_headers().map_err(|e| err(path, e))?.clone();
    let cols = Columns::new(
        path,
        &headers,
        &["time_s", "succeeded", "rolled_back", "failed"],
    )?;
    let mut rows: Vec<TimelineRow> = Vec::new();
    let mut rec = ByteRecord::new();
    while r.read_byte_record(&mut rec).map_err(|e| err(path, e))? {
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let gi = fold.index(cols.num(&rec, 0)?, path, line)?;
        if rows.len() <= gi {
            let from = rows.len();
            rows.extend((from..=gi).map(|i| TimelineRow {
                time_s: i as f64 * fold.width_s,
                ..TimelineRow::default()
            }));
        }
        let count = |c: usize| cols.num(&rec, c).map(|v| v.max(0.0) as u64);
        let (s, rb, f) = (count(1)?, count(2)?, count(3)?);
        if let Some(row) = rows.get_mut(gi) {
            row.succeeded += s;
            row.rolled_back += rb;
            row.failed += f;
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_files_fold_into_at_most_max_fine_groups_keeping_means_and_peaks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bandwidth.csv");
        let mut text = String::from("time_s,dp,bps,active_downloads,queued\n");
        // 40,000 one-second buckets alternating 0 and 2 Gbps: groups of an even
        // number of buckets average 1 Gbps, and keep the 2 Gbps peak.
        for i in 0..40_000 {
            let bps = if i % 2 == 0 { 0 } else { 2_000_000_000u64 };
            text.push_str(&format!("{i},DP1,{bps},{},{}\n", i % 7, i % 5));
        }
        std::fs::write(&p, text).unwrap();
        let fold = Fold::new(1.0, 40_000.0);
        // 40,000 buckets need folds of 10 s (a ladder width) to fit 4,096.
        assert_eq!(fold.width_s, 10.0);
        assert_eq!(Fold::new(1.0, 21.0 * 86400.0).width_s, 600.0);
        assert_eq!(Fold::new(7.0, 21.0 * 86400.0).width_s, 7.0 * 64.0);
        let mut links = Vec::new();
        let s = read_bandwidth(&p, fold, &mut links).unwrap();
        assert_eq!(links.len(), 1);
        assert!(s[0].len() <= MAX_FINE);
        for g in &s[0][..s[0].len() - 1] {
            assert!((g.bps - 1e9).abs() < 1.0, "{g:?}");
            assert_eq!(g.peak_bps, 2e9);
        }
        assert_eq!(probe_bucket(&p).unwrap(), Some(1.0));
    }

    #[test]
    fn saved_bps_marks_its_links_and_folds_like_bps() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bandwidth.csv");
        std::fs::write(
            &p,
            "time_s,dp,bps,active_downloads,queued,saved_bps\n\
             0,DP1,8,1,0,\n0,wan:B,2,1,0,100.5\n10,DP1,0,0,0,\n10,wan:B,0,0,0,0\n",
        )
        .unwrap();
        let mut links = Vec::new();
        let s = read_bandwidth(&p, Fold::new(10.0, 20.0), &mut links).unwrap();
        let marks: Vec<(&str, bool)> = links.iter().map(|l| (l.name.as_str(), l.saved)).collect();
        assert_eq!(marks, [("DP1", false), ("wan:B", true)]);
        let saved: Vec<f64> = s[1].iter().map(|g| g.saved_bps).collect();
        assert_eq!(saved, [100.5, 0.0]);
        assert!(s[0].iter().all(|g| g.saved_bps == 0.0));
        std::fs::write(
            &p,
            "time_s,dp,bps,active_downloads,queued,saved_bps\n0,wan:B,2,1,0,x\n",
        )
        .unwrap();
        let e = read_bandwidth(&p, Fold::new(10.0, 20.0), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2: bad saved_bps"), "{e}");
    }

    #[test]
    fn bad_rows_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("timeline.csv");
        std::fs::write(
            &p,
            "time_s,succeeded,rolled_back,failed\n0,1,0,0\n60,x,0,0\n",
        )
        .unwrap();
        let e = read_timeline(&p, Fold::new(60.0, 120.0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("timeline.csv") && e.contains("line 3"), "{e}");
        std::fs::write(&p, "time_s,succeeded,rolled_back,failed\n1e300,1,0,0\n").unwrap();
        let e = read_timeline(&p, Fold::new(60.0, 120.0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("outside the run"), "{e}");
    }
}
