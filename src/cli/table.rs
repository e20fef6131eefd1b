//! The human summary printed on stdout after a run.

use std::fmt::Write;

use crate::output::summary::{Stat, Summary};

pub use crate::report::html::human_secs;

/// Bytes as GB with one decimal.
pub fn human_bytes(b: u64) -> String {
    if b >= 1_000_000_000_000 {
        format!("{:.2} TB", b as f64 / 1e12)
    } else {
        format!("{:.1} GB", b as f64 / 1e9)
    }
}

fn stat_row(out: &mut String, name: &str, s: &Stat) {
    let _ = writeln!(
        out,
        "  {name:<20} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        s.count,
        human_secs(s.mean),
        human_secs(s.p50),
        human_secs(s.p95),
        human_secs(s.p99),
        human_secs(s.max)
    );
}

/// The table.
pub fn summary_table(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "scenario {}  seed {}  clients {}{}",
        s.scenario,
        s.seed,
        s.clients,
        if s.partial { "  (PARTIAL)" } else { "" }
    );
    let oc = &s.outcomes;
    let pct = |n: u64| 100.0 * n as f64 / s.clients.max(1) as f64;
    let _ = writeln!(
        o,
        "outcomes: succeeded {} ({:.1}%)  rolled back {} ({:.1}%)  failed {} ({:.1}%)  in progress {}  not started {}",
        oc.succeeded,
        pct(oc.succeeded),
        oc.rolled_back,
        pct(oc.rolled_back),
        oc.failed,
        pct(oc.failed),
        oc.in_progress,
        oc.not_started
    );
    let c = &s.compliance;
    let f = |x: Option<f64>| x.map(human_secs).unwrap_or_else(|| "never".into());
    let _ = writeln!(
        o,
        "compliance: 50% at {}  90% at {}  95% at {}",
        f(c.p50_s),
        f(c.p90_s),
        f(c.p95_s)
    );
    let _ = writeln!(
        o,
        "latency                  count      mean       p50       p95       p99       max"
    );
    let l = &s.latency;
    stat_row(&mut o, "precache", &l.precache);
    stat_row(&mut o, "install_wait", &l.install_wait);
    stat_row(&mut o, "download", &l.download);
    stat_row(&mut o, "task_sequence", &l.task_sequence);
    stat_row(&mut o, "time_to_compliance", &l.time_to_compliance);
    let _ = writeln!(
        o,
        "bytes: total {}  precache {}  on demand {}",
        human_bytes(s.bytes.total),
        human_bytes(s.bytes.precache),
        human_bytes(s.bytes.on_demand)
    );
    for (dp, p) in &s.peak.by_dp {
        let _ = writeln!(
            o,
            "  {dp}: {}  peak {:.2} Gbps  peak active {}  peak queued {}",
            human_bytes(s.bytes.by_dp.get(dp).copied().unwrap_or(0)),
            p.bps / 1e9,
            p.active_downloads,
            p.queued
        );
    }
    let fails: Vec<String> = s
        .failures_by_code
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} x{n}"))
        .collect();
    if !fails.is_empty() {
        let _ = writeln!(o, "failures: {}", fails.join(", "));
    }
    let _ = writeln!(
        o,
        "simulated {} in {:.2}s wall, {} events ({:.1} M events/s), peak RSS {} MB",
        human_secs(s.sim_end_s),
        s.run.wall_s,
        s.events,
        s.run.events_per_s / 1e6,
        s.run.peak_rss_bytes / 1_000_000
    );
    o
}
