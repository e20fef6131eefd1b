//! The parts of a run's report that answer a planner first: the verdict on each
//! target, one row per site (which site is late, which WAN link is full), and for a
//! merged folder of replications the mean and 95% confidence interval of the
//! headline figures.

use std::fmt::Write;

use super::html::{self, bytes, count, dur, esc, rate};
use super::verdict;
use crate::output::summary::{SiteJson, Summary};

/// The verdict, first thing on the page: one line per target, met or missed.
pub fn verdict_section(s: &Summary) -> String {
    if s.targets.is_empty() {
        return String::new();
    }
    let met = s.targets.iter().filter(|t| t.met).count();
    let mut o = format!(
        "<section class=\"verdict\" id=\"verdict\">\n<h2>Verdict: {} of {} target{} met</h2>\n<ul>\n",
        met,
        s.targets.len(),
        if s.targets.len() == 1 { "" } else { "s" }
    );
    for (t, line) in s.targets.iter().zip(verdict::sentences(s)) {
        let _ = writeln!(
            o,
            "<li class=\"{}\">{}</li>",
            if t.met { "met" } else { "missed" },
            esc(&line)
        );
    }
    o.push_str("</ul>\n</section>\n");
    o
}

/// The share of a site's bytes its clients received from peers (`95.0%`), "-" for a
/// site without peer content (the terminal table shows it too).
pub fn peer_share(x: &SiteJson) -> String {
    if !x.peers {
        return "-".into();
    }
    format!(
        "{:.1}%",
        100.0 * x.bytes.from_peers as f64 / x.bytes.total.max(1) as f64
    )
}

fn never(x: Option<f64>) -> String {
    x.map(dur).unwrap_or_else(|| "never".into())
}

/// One row per site: clients, how far and how fast they got, the WAN link; in a
/// scenario with peers, the share of the site's bytes that came from peers.
pub fn sites_table(s: &Summary) -> String {
    let peers = s.sites.values().any(|x| x.peers);
    let rows: Vec<Vec<String>> = s
        .sites
        .iter()
        .map(|(name, x)| {
            let (cap, peak, busy) = match &x.wan {
                Some(w) => (rate(w.capacity_bps as f64), rate(w.peak_bps), dur(w.busy_s)),
                None => ("-".into(), "-".into(), "-".into()),
            };
            let mut row = vec![
                format!("<b>{}</b>", esc(name)),
                count(x.clients),
                count(x.outcomes.succeeded),
                format!("{:.1}%", 100.0 * x.compliance.final_share),
                never(x.compliance.p50_s),
                never(x.compliance.p95_s),
                bytes(x.bytes.total as f64),
                bytes(x.bytes.over_wan as f64),
            ];
            if peers {
                row.push(peer_share(x));
            }
            row.extend([cap, peak, busy]);
            row
        })
        .collect();
    let mut o = String::from(
        "<p>Compliance columns: when that share of <em>the site's</em> clients had succeeded, from the start of the run (\"never\" when it was not reached). WAN link full: time it carried 99% of its capacity or more.",
    );
    let mut head = vec![
        "site",
        "clients",
        "succeeded",
        "share",
        "50% at",
        "95% at",
        "bytes",
        "over WAN",
    ];
    if peers {
        o.push_str(" From peers: share of the site's bytes its clients received from peers (BranchCache, peer cache sources), bytes its WAN link or DP did not carry.");
        head.push("from peers");
    }
    o.push_str("</p>\n");
    head.extend(["WAN link", "WAN peak", "WAN link full"]);
    o.push_str(&html::table(&head, &rows));
    o
}

/// Mean ± 95% half-width of the headline figures of a merged folder of replications
/// (nothing for a single run).
pub fn replications_table(s: &Summary) -> String {
    let Some(r) = &s.replications else {
        return String::new();
    };
    let mut keys: Vec<(String, &str)> = vec![
        ("outcomes.succeeded".into(), "clients succeeded"),
        ("outcomes.failed".into(), "clients failed"),
        ("outcomes.rolled_back".into(), "clients rolled back"),
        ("compliance.p50_s".into(), "50% of the fleet compliant at"),
        ("compliance.p95_s".into(), "95% of the fleet compliant at"),
        ("bytes.total".into(), "bytes moved"),
    ];
    for name in s.sites.keys() {
        keys.push((
            format!("sites.{name}.compliance.p95_s"),
            "95% of the site compliant at",
        ));
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .filter_map(|(k, what)| {
            let m = *r.mean.get(k)?;
            let h = r.ci95.get(k).copied().unwrap_or(0.0);
            let v = |x: f64| verdict::human_value(k, x);
            Some(vec![
                format!("<b>{}</b><br><small>{}</small>", esc(what), esc(k)),
                v(m),
                format!("± {}", v(h)),
                format!("{} to {}", v(m - h), v(m + h)),
            ])
        })
        .collect();
    format!(
        "<p>These figures describe <em>one</em> rollout: means over {} replications (different seeds) with their 95% confidence intervals. A figure missing here was not reached in some replication. Sums over all runs are under <code>replications.sums</code> in summary.json.</p>\n{}",
        r.runs,
        html::table(&["figure", "mean", "95% half-width", "95% interval"], &rows)
    )
}
