//! The human summary printed on stdout after a run: sizes, rates and durations in
//! human units, the two compliance measures named for what they are, one row per
//! site (which site is late, which WAN link is full) and each target's verdict.

use std::fmt::Write;

use crate::output::summary::{Stat, Summary};
pub use crate::report::html::human_secs;
use crate::report::html::{bytes, rate};
use crate::report::sites::peer_share;
use crate::setup::codes;

/// Bytes in decimal units (`3.2 GB`, `15.44 TB`, `800.0 MB`).
pub fn human_bytes(b: u64) -> String {
    bytes(b as f64)
}

fn stat_row(out: &mut String, name: &str, s: &Stat) {
    let _ = writeln!(
        out,
        "  {name:<34} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        s.count,
        human_secs(s.mean),
        human_secs(s.p50),
        human_secs(s.p95),
        human_secs(s.p99),
        human_secs(s.max)
    );
}

fn never(x: Option<f64>) -> String {
    x.map(human_secs).unwrap_or_else(|| "never".into())
}

/// One row per site; a scenario with peers adds the share of each site's bytes that
/// came from peers.
fn sites_table(o: &mut String, s: &Summary) {
    let peers = s.sites.values().any(|x| x.peers);
    if !peers && s.sites.len() < 2 && s.sites.values().all(|x| x.wan.is_none()) {
        return;
    }
    let _ = write!(
        o,
        "  {:<18} {:>9} {:>9} {:>6} {:>14} {:>10}",
        "site", "clients", "succeeded", "share", "95% of site at", "over WAN"
    );
    if peers {
        let _ = write!(o, " {:>7}", "peers");
    }
    let _ = writeln!(o, "   WAN link full (at 99%+ of capacity)");
    for (name, x) in &s.sites {
        let wan = match &x.wan {
            None => "no WAN link".to_string(),
            Some(w) => format!(
                "{} of {} (peak {})",
                human_secs(w.busy_s),
                rate(w.capacity_bps as f64),
                rate(w.peak_bps)
            ),
        };
        let _ = write!(
            o,
            "  {name:<18} {:>9} {:>9} {:>5.1}% {:>14} {:>10}",
            x.clients,
            x.outcomes.succeeded,
            100.0 * x.compliance.final_share,
            never(x.compliance.p95_s),
            bytes(x.bytes.over_wan as f64),
        );
        if peers {
            let _ = write!(o, " {:>7}", peer_share(x));
        }
        let _ = writeln!(o, "   {wan}");
    }
}

/// The table.
pub fn summary_table(s: &Summary) -> String {
    let mut o = String::new();
    let runs = s.replications.as_ref().map(|r| r.runs).unwrap_or(1);
    let _ = writeln!(
        o,
        "scenario {}  seed {}  clients {}{}{}",
        s.scenario,
        s.seed,
        s.clients,
        if runs > 1 {
            format!("  (one rollout: means over {runs} replications)")
        } else {
            String::new()
        },
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
    if let Some(r) = s.replications.as_ref().filter(|r| r.runs > 1) {
        let h = |k: &str| r.ci95.get(k).copied();
        let mut parts = Vec::new();
        for (k, what) in [
            ("outcomes.succeeded", "succeeded"),
            ("outcomes.failed", "failed"),
        ] {
            if let Some(x) = h(k) {
                parts.push(format!("{what} ±{x:.1}"));
            }
        }
        if let Some(x) = h("compliance.p95_s") {
            parts.push(format!("95% compliant at ±{}", human_secs(x)));
        }
        let _ = writeln!(
            o,
            "95% confidence half-widths over the replications: {}",
            parts.join("  ")
        );
    }
    let c = &s.compliance;
    let _ = writeln!(
        o,
        "fleet compliant (share of ALL clients succeeded, from the start): 50% at {}  90% at {}  95% at {}  final {:.1}%",
        never(c.p50_s),
        never(c.p90_s),
        never(c.p95_s),
        100.0 * c.final_share
    );
    sites_table(&mut o, s);
    let _ = writeln!(
        o,
        "{:<36} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "latency (over the clients measured)", "count", "mean", "p50", "p95", "p99", "max"
    );
    let l = &s.latency;
    if l.precache.count > 0 || s.bytes.precache > 0 {
        stat_row(&mut o, "precache", &l.precache);
    }
    stat_row(&mut o, "install_wait", &l.install_wait);
    stat_row(&mut o, "download", &l.download);
    stat_row(&mut o, "task_sequence", &l.task_sequence);
    stat_row(
        &mut o,
        "time_to_compliance (upgraded only)",
        &l.time_to_compliance,
    );
    let mut bytes_line = format!("bytes: total {}", human_bytes(s.bytes.total));
    if s.bytes.precache > 0 {
        let _ = write!(bytes_line, "  precache {}", human_bytes(s.bytes.precache));
    }
    let _ = writeln!(
        o,
        "{bytes_line}  on demand {}",
        human_bytes(s.bytes.on_demand)
    );
    for (dp, p) in &s.peak.by_dp {
        let _ = writeln!(
            o,
            "  {dp}: {}  peak {}  peak active {}  peak queued {}",
            human_bytes(s.bytes.by_dp.get(dp).copied().unwrap_or(0)),
            rate(p.bps),
            p.active_downloads,
            p.queued
        );
    }
    let fails: Vec<String> = s
        .failures_by_code
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| {
            let name = codes::name_of_hex(k).unwrap_or("");
            format!("{k} {name} x{n}")
        })
        .collect();
    if !fails.is_empty() {
        let _ = writeln!(o, "failures: {}", fails.join(", "));
    }
    let _ = writeln!(
        o,
        "simulated {} in {:.2}s wall, {} events ({:.1} M events/s), peak RSS {}",
        human_secs(s.sim_end_s),
        s.run.wall_s,
        s.events,
        s.run.events_per_s / 1e6,
        bytes(s.run.peak_rss_bytes as f64)
    );
    for line in crate::report::verdict::sentences(s) {
        let _ = writeln!(o, "target {line}");
    }
    o
}
