//! The CSV outputs: `bandwidth.csv`, `failures.csv`, `clients.csv`.

use std::io;
use std::path::Path;

use super::Exporter;
use crate::engine::time::fmt_secs;
use crate::setup::codes;
use crate::sim::result::RunResult;

fn writer(dir: &Path, name: &str) -> io::Result<csv::Writer<std::io::BufWriter<std::fs::File>>> {
    let f = std::fs::File::create(dir.join(name))?;
    Ok(csv::Writer::from_writer(std::io::BufWriter::with_capacity(
        1 << 16,
        f,
    )))
}

fn csv_err(e: csv::Error) -> io::Error {
    io::Error::other(e)
}

/// `bandwidth.csv`: `time_s,dp,bps,active_downloads,queued` per bucket and link. `bps`
/// is the bucket average; the counts are the most seen at once during the bucket.
///
/// A run with peer content adds `saved_bps`: on the WAN link of a site with peers,
/// the bucket's average rate of the bytes peers gave the site's clients, which the
/// link would otherwise have carried (empty on the other rows). It is written in full
/// (the shortest decimal that reads back as the same number, not rounded like `bps`),
/// so that `saved_bps * interval / 8` summed over a link's rows gives back the site's
/// `bytes.from_peers`. Runs without peers keep the five columns.
pub struct BandwidthCsv;

impl Exporter for BandwidthCsv {
    fn name(&self) -> &'static str {
        "bandwidth.csv"
    }

    fn write(&self, r: &RunResult, dir: &Path) -> io::Result<()> {
        let mut w = writer(dir, "bandwidth.csv")?;
        let saved = r.bandwidth.iter().any(|x| x.saved_bps.is_some());
        let mut head = vec!["time_s", "dp", "bps", "active_downloads", "queued"];
        if saved {
            head.push("saved_bps");
        }
        w.write_record(&head).map_err(csv_err)?;
        for row in &r.bandwidth {
            let (time, bps) = (fmt_secs(row.time), format!("{:.0}", row.bps));
            let (active, queued) = (row.active.to_string(), row.queued.to_string());
            let link = r.links.get(row.link as usize).map_or("", |s| s.as_str());
            let rec = [time.as_str(), link, &bps, &active, &queued];
            if saved {
                let v = row.saved_bps.map_or(String::new(), |v| v.to_string());
                w.write_record(rec.iter().copied().chain([v.as_str()]))
            } else {
                w.write_record(rec)
            }
            .map_err(csv_err)?;
        }
        w.flush()
    }
}

/// `failures.csv`: `code,code_hex,name,phase,count`, one row per code and phase.
pub struct FailuresCsv;

impl Exporter for FailuresCsv {
    fn name(&self) -> &'static str {
        "failures.csv"
    }

    fn write(&self, r: &RunResult, dir: &Path) -> io::Result<()> {
        let mut w = writer(dir, "failures.csv")?;
        w.write_record(["code", "code_hex", "name", "phase", "count"])
            .map_err(csv_err)?;
        for f in &r.failures {
            w.write_record([
                f.code.to_string().as_str(),
                codes::hex(f.code).as_str(),
                codes::name(f.code),
                f.phase.as_str(),
                f.count.to_string().as_str(),
            ])
            .map_err(csv_err)?;
        }
        w.flush()
    }
}

/// `steps.csv`: `index,path,type,ran,skipped,succeeded,failed`, one row per group and
/// step of the task sequence, over the whole fleet: which checks fire, which groups run.
pub struct StepsCsv;

impl Exporter for StepsCsv {
    fn name(&self) -> &'static str {
        "steps.csv"
    }

    fn write(&self, r: &RunResult, dir: &Path) -> io::Result<()> {
        let mut w = writer(dir, "steps.csv")?;
        w.write_record([
            "index",
            "path",
            "type",
            "ran",
            "skipped",
            "succeeded",
            "failed",
        ])
        .map_err(csv_err)?;
        for (i, s) in r.steps.iter().enumerate() {
            w.write_record([
                i.to_string().as_str(),
                s.path.as_str(),
                s.kind,
                s.ran.to_string().as_str(),
                s.skipped.to_string().as_str(),
                s.succeeded.to_string().as_str(),
                s.failed.to_string().as_str(),
            ])
            .map_err(csv_err)?;
        }
        w.flush()
    }
}

/// `trace.csv` (with `--trace`): `client,time_s,event,path,detail,exit_code_hex`.
/// `exit_code_hex` is the exit code a row's `detail` carries in decimal (`end`,
/// `rollback`, `finish` rows) written as Windows writes it (`0x80070070`), so a trace
/// can be searched by the code an administrator sees in smsts.log; empty otherwise.
pub struct TraceCsv;

/// The decimal exit code in a trace row's `detail`: the whole detail of an `end` row
/// (`-2147024784`), the first word of a `rollback` row (`3247440129 second_boot`), the
/// second of a `finish` row (`failed 2147942512`). These are the formats `sim::trace`
/// rows are written in; `tests/it/exit_codes.rs` checks them on real traces.
fn trace_code(event: &str, detail: &str) -> Option<i64> {
    let mut words = detail.split(' ');
    let word = match event {
        "end" => Some(detail),
        "rollback" => words.next(),
        "finish" => words.nth(1),
        _ => None,
    }?;
    word.parse().ok()
}

/// A decimal exit code as the 32-bit value Windows reports, in [`codes::hex`] form. A
/// negative code is the signed reading of the same DWORD (`-2147024784` is
/// `0x80070070`); a value that fits in no DWORD has no hex form.
fn code_hex(code: i64) -> String {
    if (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(&code) {
        codes::hex(code as u32)
    } else {
        String::new()
    }
}

impl Exporter for TraceCsv {
    fn name(&self) -> &'static str {
        "trace.csv"
    }

    fn write(&self, r: &RunResult, dir: &Path) -> io::Result<()> {
        if r.trace.is_empty() {
            return Ok(());
        }
        let mut w = writer(dir, "trace.csv")?;
        w.write_record([
            "client",
            "time_s",
            "event",
            "path",
            "detail",
            "exit_code_hex",
        ])
        .map_err(csv_err)?;
        for t in &r.trace {
            let hex = trace_code(t.event, &t.detail)
                .map(code_hex)
                .unwrap_or_default();
            w.write_record([
                t.client.to_string().as_str(),
                fmt_secs(t.time).as_str(),
                t.event,
                t.path.as_str(),
                t.detail.as_str(),
                hex.as_str(),
            ])
            .map_err(csv_err)?;
        }
        w.flush()
    }
}

/// `clients.csv` (with `--per-client`); `exit_code_hex` beside the decimal
/// `exit_code` is the same code as `failures.csv` and `summary.json` write it.
pub struct ClientsCsv;

impl Exporter for ClientsCsv {
    fn name(&self) -> &'static str {
        "clients.csv"
    }

    fn write(&self, r: &RunResult, dir: &Path) -> io::Result<()> {
        let Some(rows) = &r.clients_rows else {
            return Ok(());
        };
        let mut w = writer(dir, "clients.csv")?;
        w.write_record([
            "client",
            "site",
            "dp",
            "architecture",
            "language",
            "power",
            "network",
            "free_disk_bytes",
            "outcome",
            "exit_code",
            "exit_code_hex",
            "precached",
            "bytes_downloaded",
            "policy_s",
            "install_s",
            "end_s",
            "name",
            "model",
            "tpm",
            "firmware",
            "cpu_supported",
            "memory_bytes",
            "system_drive_bytes",
            "power_schedule",
            "on_s",
            "utc_offset",
            "ts_start_s",
            "precache_end_s",
            "subnet",
            "peer_cache_source",
            "bytes_from_peers",
        ])
        .map_err(csv_err)?;
        let t = |x: Option<u64>| x.map(fmt_secs).unwrap_or_default();
        for c in rows {
            let dp = r
                .dp_names
                .get(c.dp as usize)
                .map(|s| s.as_str())
                .unwrap_or("");
            w.write_record([
                c.client.to_string().as_str(),
                r.site_names.get(c.site as usize).map_or("", |s| s.as_str()),
                dp,
                c.architecture,
                c.language.to_string().as_str(),
                c.power,
                c.network,
                c.free_disk.to_string().as_str(),
                c.outcome.as_str(),
                c.exit_code.to_string().as_str(),
                codes::hex(c.exit_code).as_str(),
                if c.precached { "true" } else { "false" },
                c.bytes.to_string().as_str(),
                t(c.policy).as_str(),
                t(c.install).as_str(),
                t(c.end).as_str(),
                c.name.as_str(),
                c.model.as_str(),
                c.tpm,
                c.firmware,
                if c.cpu_supported { "true" } else { "false" },
                c.memory.to_string().as_str(),
                c.system_drive.to_string().as_str(),
                c.power_schedule.as_str(),
                fmt_secs(c.on).as_str(),
                crate::calendar::parse::fmt_offset(c.utc_offset).as_str(),
                t(c.ts_start).as_str(),
                t(c.precache_end).as_str(),
                c.subnet.as_str(),
                if c.peer_cache_source { "true" } else { "false" },
                c.bytes_from_peers.to_string().as_str(),
            ])
            .map_err(csv_err)?;
        }
        w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_codes_are_read_from_the_rows_that_carry_one() {
        assert_eq!(trace_code("end", "-2147024784"), Some(-2147024784));
        assert_eq!(trace_code("end", "0"), Some(0));
        assert_eq!(
            trace_code("rollback", "3247440129 second_boot"),
            Some(3247440129)
        );
        assert_eq!(trace_code("finish", "failed 2147942512"), Some(2147942512));
        assert_eq!(trace_code("download", "OSUPG-X64-1033"), None);
        assert_eq!(trace_code("start", ""), None);
    }

    #[test]
    fn a_signed_code_is_the_same_dword() {
        assert_eq!(code_hex(-2147024784), "0x80070070");
        assert_eq!(code_hex(2147942512), "0x80070070");
        assert_eq!(code_hex(3010), "0x00000BC2");
        assert_eq!(code_hex(1 << 40), "");
        assert_eq!(code_hex(i64::from(i32::MIN) - 1), "");
    }
}
