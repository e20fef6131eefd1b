//! `fleetsim validate`: check a scenario and describe it, or list every error.

use std::fmt::Write;

use super::ScenarioArgs;
use super::table::{human_bytes, human_secs};
use crate::diag::{Diagnostic, InputError};
use crate::scenario::model::{Purpose, Scenario};
use crate::tasksequence::lint::{self, Severity};
use crate::tasksequence::tree::{Node, StepKind};

/// Arguments of `fleetsim validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Scenario and overrides.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

fn count(nodes: &[Node], groups: &mut usize, steps: &mut usize) {
    for n in nodes {
        match &n.kind {
            StepKind::Group { steps: s } => {
                *groups += 1;
                count(s, groups, steps);
            }
            _ => *steps += 1,
        }
    }
}

/// Lint findings of the task sequence: errors become diagnostics, notes are returned.
pub fn lint_scenario(s: &Scenario, file: &std::path::Path) -> Result<Vec<String>, InputError> {
    let ids: Vec<&str> = s.content.iter().map(|c| c.id.as_str()).collect();
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    for item in lint::lint(&s.task_sequence, &ids) {
        match item.severity {
            Severity::Error => errors.push(Diagnostic {
                file: file.to_path_buf(),
                line: 0,
                column: 0,
                key: format!("task_sequence: {}", item.path),
                message: item.message,
            }),
            Severity::Note => notes.push(format!("{}: {}", item.path, item.message)),
        }
    }
    if let Err(e) = crate::sim::program::compile(s) {
        errors.push(Diagnostic {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            key: "task_sequence".into(),
            message: e.to_string(),
        });
    }
    if errors.is_empty() {
        Ok(notes)
    } else {
        Err(InputError(errors))
    }
}

/// A description of what the scenario simulates.
pub fn describe(s: &Scenario) -> String {
    let mut o = String::new();
    let f = &s.fleet;
    let _ = writeln!(
        o,
        "scenario {:?}: {} clients, seed {}, horizon {}",
        s.name,
        f.clients,
        s.simulation.seed,
        human_secs(s.simulation.horizon as f64 / 1e6)
    );
    if let Some(inv) = &f.inventory {
        let _ = writeln!(
            o,
            "  fleet from the inventory {} ({} devices; attributes it leaves out are drawn from [fleet])",
            inv.path.display(),
            inv.len()
        );
    }
    let mix = |items: Vec<(String, f64)>| {
        items
            .iter()
            .map(|(k, p)| format!("{k} {:.0}%", p * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        o,
        "  architecture: {}",
        mix(f
            .architecture
            .items
            .iter()
            .map(|(a, p)| (format!("{a:?}").to_lowercase(), *p))
            .collect())
    );
    let _ = writeln!(
        o,
        "  language: {}",
        mix(f
            .language
            .items
            .iter()
            .map(|(a, p)| (a.to_string(), *p))
            .collect())
    );
    let _ = writeln!(
        o,
        "  network: {}",
        mix(f
            .network
            .items
            .iter()
            .map(|(a, p)| (format!("{a:?}").to_lowercase(), *p))
            .collect())
    );
    let _ = writeln!(
        o,
        "  incompatible apps {:.1}%, incompatible drivers {:.1}%, third-party encryption {:.1}%",
        f.incompatible_app * 100.0,
        f.incompatible_driver * 100.0,
        f.third_party_encryption * 100.0
    );
    let total_share: f64 = s.sites.iter().map(|x| x.share).sum();
    for site in &s.sites {
        let dps: Vec<&str> = site
            .distribution_points
            .iter()
            .map(|&i| dp_name(s, i))
            .collect();
        let _ = writeln!(
            o,
            "  site {} ({}% of clients){}: DPs [{}]{}{}",
            site.name,
            percent(site.share / total_share * 100.0),
            site.wan
                .map(|w| format!(", WAN {:.0} Mbps", w as f64 / 1e6))
                .unwrap_or_default(),
            dps.join(", "),
            site.fallback
                .as_ref()
                .map(|fb| format!(
                    ", fallback after {} to [{}]",
                    human_secs(fb.after as f64 / 1e6),
                    fb.distribution_points
                        .iter()
                        .map(|&i| dp_name(s, i))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .unwrap_or_default(),
            peers(site)
        );
    }
    for d in &s.distribution_points {
        let _ = writeln!(
            o,
            "  DP {} in {}: {:.2} Gbps, {} connections",
            d.name,
            s.sites.get(d.site).map_or("?", |x| x.name.as_str()),
            d.bandwidth as f64 / 1e9,
            d.max_connections
        );
    }
    let total: u64 = s.content.iter().map(|c| c.size).sum();
    let _ = writeln!(
        o,
        "  content: {} items, {}",
        s.content.len(),
        human_bytes(total)
    );
    let d = &s.deployment;
    let _ = writeln!(
        o,
        "  deployment: {}, available at {}{}, pre-cache {}, {:?}",
        if d.purpose == Purpose::Available {
            "available"
        } else {
            "required"
        },
        human_secs(d.available_at as f64 / 1e6),
        d.deadline
            .map(|t| format!(", deadline {}", human_secs(t as f64 / 1e6)))
            .unwrap_or_default(),
        if d.precache { "on" } else { "off" },
        d.dp_option
    );
    let (mut groups, mut steps) = (0, 0);
    count(&s.task_sequence.steps, &mut groups, &mut steps);
    let _ = writeln!(
        o,
        "  task sequence {:?}: {} groups, {} steps",
        s.task_sequence.name, groups, steps
    );
    o.push_str(&crate::scenario::describe_calendar(s));
    o
}

/// Runs the command.
pub fn validate(a: &ValidateArgs) -> anyhow::Result<i32> {
    let s = a.scenario.load()?;
    let notes = lint_scenario(&s, &a.scenario.scenario)?;
    let mut text = describe(&s);
    for w in crate::scenario::warnings(&s) {
        text.push_str(&format!("warning: {w}\n"));
    }
    for n in notes {
        text.push_str(&format!("note: {n}\n"));
    }
    // Windows 11 readiness and pre-cache shortfall of the fleet (issue 16).
    if let Ok((readiness, shortfall)) = crate::sim::fleet_checks(&s) {
        let r = crate::output::readiness::sections(readiness.as_ref(), &shortfall);
        for l in crate::output::readiness::lines(r.0.as_ref(), &r.1) {
            text.push_str(&l);
            text.push('\n');
        }
    }
    text.push_str("ok\n");
    super::out(&text);
    Ok(0)
}

/// A distribution point's name for the topology listing.
fn dp_name(s: &Scenario, i: usize) -> &str {
    s.distribution_points
        .get(i)
        .map_or("?", |d| d.name.as_str())
}

/// The site's peer content settings, when it has any.
fn peers(site: &crate::scenario::model::Site) -> String {
    use crate::scenario::model::PeerSources;
    let mut out = String::new();
    if site.subnets > 1 {
        out.push_str(&format!(", {} subnets", site.subnets));
    }
    if site.branchcache {
        out.push_str(", BranchCache");
    }
    if let Some(pc) = &site.peer_cache {
        let who = match &pc.sources {
            PeerSources::Share(x) => format!("{:.1}% of clients", x * 100.0),
            PeerSources::Clients(ids) => format!("{} listed clients", ids.len()),
        };
        out.push_str(&format!(
            ", peer cache sources: {who}, {} connections each",
            pc.max_connections
        ));
        if pc.precache {
            out.push_str(", pre-caching the content");
        }
    }
    out
}

/// A percentage as a reader expects it: whole numbers plain (`55`), others to
/// one decimal (`1.5`, not a `2` that hides forty sites of 1.5% each).
fn percent(x: f64) -> String {
    let tenths = (x * 10.0).round();
    if tenths % 10.0 == 0.0 {
        format!("{:.0}", tenths / 10.0)
    } else {
        format!("{:.1}", tenths / 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn percentages_keep_a_decimal_only_when_they_have_one() {
        assert_eq!(percent(55.0), "55");
        assert_eq!(percent(1.5), "1.5");
        assert_eq!(percent(100.0 / 3.0), "33.3");
        assert_eq!(percent(99.96), "100");
        assert_eq!(percent(0.04), "0");
    }
}
