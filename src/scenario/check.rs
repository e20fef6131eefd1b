//! Notes for `fleetsim validate` about scenarios that are valid but probably not what
//! was meant: settings the model ignores, clients that can never get content, content
//! nobody downloads. None of these stops a run.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::defaults::MAX_CONNECTIONS;
use super::model::{Arch, Content, ContentKind, Purpose, Scenario};
use super::tasksequence::referenced_content;
use super::value::{self, SourceCtx};
use crate::diag::Diagnostic;
use crate::engine::time::fmt_secs;
use crate::tasksequence::tree::{Node, StepKind};

/// Everything worth a second look, in a stable order (located notes found while
/// reading first, then by section).
pub fn warnings(s: &Scenario) -> Vec<String> {
    let mut out = s.notes.clone();
    deployment_notes(s, &mut out);
    topology_notes(s, &mut out);
    content_notes(s, &mut out);
    super::calendar_notes::notes(s, &mut out);
    peer_notes(s, &mut out);
    out
}

/// A peer cache source serves only content it holds whole in its client cache, so
/// content larger than `client.cache_size` is never served by one
/// (<https://learn.microsoft.com/en-us/mem/configmgr/core/plan-design/hierarchy/client-peer-cache>:
/// sources serve content from their Configuration Manager client cache).
fn peer_notes(s: &Scenario, out: &mut Vec<String>) {
    let sites: Vec<&str> = s
        .sites
        .iter()
        .filter(|x| x.peer_cache.is_some() && x.share > 0.0)
        .map(|x| x.name.as_str())
        .collect();
    if sites.is_empty() && !s.sites.iter().any(|x| x.branchcache) {
        return;
    }
    let mib = s.client.cache_size / (1024 * 1024);
    for c in s.content.iter().filter(|c| c.size > s.client.cache_size) {
        out.push(format!(
            "content {:?} ({}) does not fit a {mib} MB client cache (client.cache_size): \
             peer cache sources of {} cannot hold it, so it always comes from a \
             distribution point",
            c.id,
            human_size(c.size),
            sites
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

/// `6 GB`, `800 MB`: decimal units, as content sizes are usually quoted.
fn human_size(b: u64) -> String {
    if b >= 1_000_000_000 {
        format!("{} GB", (b as f64 / 1e9 * 10.0).round() / 10.0)
    } else {
        format!("{} MB", (b as f64 / 1e6 * 10.0).round() / 10.0)
    }
}

fn deployment_notes(s: &Scenario, out: &mut Vec<String>) {
    let d = &s.deployment;
    let horizon = s.simulation.horizon;
    if d.precache && d.purpose == Purpose::Required {
        out.push(
            "deployment.precache is ignored: ConfigMgr pre-caches only for available \
             deployments, and this one is required"
                .to_string(),
        );
    }
    if d.available_at >= horizon {
        out.push(format!(
            "deployment.available_at ({}s) is not before the horizon ({}s): nothing will happen",
            fmt_secs(d.available_at),
            fmt_secs(horizon)
        ));
    }
    if let Some(deadline) = d.deadline.filter(|&t| t >= horizon)
        && d.purpose == Purpose::Required
    {
        out.push(format!(
            "deployment.deadline ({}s) is not before the horizon ({}s): the deadline \
             never arrives in this run",
            fmt_secs(deadline),
            fmt_secs(horizon)
        ));
    }
}

fn topology_notes(s: &Scenario, out: &mut Vec<String>) {
    for site in &s.sites {
        let fallback = site
            .fallback
            .as_ref()
            .map(|f| f.distribution_points.len())
            .unwrap_or(0);
        if site.share > 0.0 && site.distribution_points.is_empty() && fallback == 0 {
            out.push(format!(
                "site {:?} has no distribution points and no fallback distribution points: \
                 its clients can never download content",
                site.name
            ));
        }
        if site.share == 0.0 {
            out.push(format!(
                "site {:?} has share 0: it gets no clients",
                site.name
            ));
        }
    }
    // DPs listed by a site with clients, directly or as a fallback (one pass, not a
    // scan of every site per DP).
    let mut used = vec![false; s.distribution_points.len()];
    for site in s.sites.iter().filter(|site| site.share > 0.0) {
        let fallback = site.fallback.iter().flat_map(|f| &f.distribution_points);
        for &d in site.distribution_points.iter().chain(fallback) {
            if let Some(u) = used.get_mut(d) {
                *u = true;
            }
        }
    }
    for (dp, used) in s.distribution_points.iter().zip(used) {
        if !used {
            out.push(format!(
                "distribution point {:?} serves no site (not listed by any site with clients, \
                 nor as a fallback)",
                dp.name
            ));
        }
        if dp.max_connections > MAX_CONNECTIONS {
            out.push(format!(
                "distribution point {:?} has max_connections = {}, above the 4,000 client \
                 connections a ConfigMgr distribution point supports",
                dp.name, dp.max_connections
            ));
        }
    }
}

/// Whether an Upgrade Operating System step lists no package (and, with `full`, is
/// not a scan): it then takes the `os_upgrade` content matching each client, and a
/// full upgrade also stages every `driver` package, so those count as referenced
/// (the rule of `sim::program`).
fn picks_from_content(steps: &[Node], full: bool) -> bool {
    steps.iter().any(|n| match &n.kind {
        StepKind::UpgradeOs(u) => {
            u.content.is_empty() && (!full || (!u.scan_only && u.driver_content.is_empty()))
        }
        StepKind::Group { steps } | StepKind::SubTaskSequence { steps, .. } => {
            picks_from_content(steps, full)
        }
        _ => false,
    })
}

fn content_notes(s: &Scenario, out: &mut Vec<String>) {
    let refs = referenced_content(&s.task_sequence);
    let refs: std::collections::HashSet<&str> = refs.iter().map(|(id, _)| id.as_str()).collect();
    let any_os = picks_from_content(&s.task_sequence.steps, false);
    let all_drivers = picks_from_content(&s.task_sequence.steps, true);
    let referenced = |c: &Content| {
        (any_os && c.kind == ContentKind::OsUpgrade)
            || (all_drivers && c.kind == ContentKind::Driver)
            || refs.contains(c.id.as_str())
    };
    for c in &s.content {
        if !referenced(c) {
            out.push(format!(
                "content {:?} is never referenced by the task sequence (it is still \
                 pre-cached only if referenced)",
                c.id
            ));
        }
    }
    let largest = s
        .content
        .iter()
        .filter(|c| referenced(c))
        .max_by_key(|c| c.size);
    if let Some(c) = largest.filter(|c| c.size > s.client.cache_size) {
        out.push(format!(
            "content {:?} ({} bytes) is larger than client.cache_size ({} bytes)",
            c.id, c.size, s.client.cache_size
        ));
    }
    let os: Vec<_> = s
        .content
        .iter()
        .filter(|c| c.kind == ContentKind::OsUpgrade)
        .collect();
    if os.is_empty() {
        return;
    }
    for (arch, w) in &s.fleet.architecture.items {
        let covered = os.iter().any(|c| c.architecture.is_none_or(|a| a == *arch));
        if *w > 0.0 && !covered {
            let name = match arch {
                Arch::X64 => "x64",
                Arch::X86 => "x86",
            };
            out.push(format!(
                "{:.1}% of the fleet is {name} but no os_upgrade content has architecture = {name:?}",
                w * 100.0
            ));
        }
    }
    for (lang, w) in &s.fleet.language.items {
        let covered = os.iter().any(|c| c.language.is_none_or(|l| l == *lang));
        if *w > 0.0 && !covered {
            out.push(format!(
                "{:.1}% of the fleet has language {lang} but no os_upgrade content has language = {lang}",
                w * 100.0
            ));
        }
    }
}

/// A bare number below this many bit/s on a link is almost surely a rate written in
/// Mbps without its unit (`bandwidth = 1000` is 1000 bit/s, not 1 Gbps).
const BARE_RATE_FLOOR: f64 = 1e6;

/// Why `delivery_optimization` / `connected_cache` change nothing: Connected Cache
/// (and the Delivery Optimization it serves) caches cloud-managed content, and
/// "Connected Cache doesn't support content that Configuration Manager manages"
/// (<https://learn.microsoft.com/en-us/mem/configmgr/core/plan-design/hierarchy/microsoft-connected-cache>,
/// "Supported content types"); a task sequence's packages come from peer cache
/// sources and distribution points only
/// (<https://learn.microsoft.com/en-us/mem/configmgr/core/servers/deploy/configure/boundary-groups-distribution-points>,
/// "Location priority").
fn do_note(what: &str) -> String {
    format!(
        "{what} does not serve the packages of a ConfigMgr task sequence (it serves \
         cloud-managed content such as Windows Update for Business and Intune Win32 apps; \
         a task sequence gets content from peer cache sources and distribution points): \
         this key is ignored; use branchcache or peer_cache for peer content"
    )
}

/// Checks on the file as written, where the value read loses what was meant: a bare
/// number for a link rate under 1 Mbps is an error (with the rate it probably
/// meant); site shares that do not add up to 1 (they are used as weights) and a
/// deadline on an available deployment (which has none in ConfigMgr) are located
/// warnings, returned as text.
///
/// An available deployment only makes the software visible in Software Center; the
/// installation deadline belongs to required deployments:
/// <https://learn.microsoft.com/en-us/mem/configmgr/osd/deploy-use/deploy-a-task-sequence>
pub(crate) fn raw_notes(
    ctx: &SourceCtx<'_>,
    root: &DeTable<'_>,
    errors: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut notes = Vec::new();
    let tables = |name: &str| -> Vec<&DeTable<'_>> {
        match value::get(root, name).map(Spanned::get_ref) {
            Some(DeValue::Array(a)) => a
                .iter()
                .filter_map(|x| match x.get_ref() {
                    DeValue::Table(t) => Some(t),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut bare_rate = |section: &str, i: usize, t: &DeTable<'_>, key: &str| {
        let Some(v) = value::get(t, key) else { return };
        let x = match v.get_ref() {
            DeValue::Integer(_) | DeValue::Float(_) => value::as_f64(v.get_ref()),
            _ => None,
        };
        if let Some(x) = x.filter(|x| *x > 0.0 && *x < BARE_RATE_FLOOR) {
            errors.push(ctx.diag(
                v.span(),
                &format!("{section}.{i}.{key}"),
                format!(
                    "found the bare number {x}, which is {x} bit/s; did you mean \"{x}Mbps\"? \
                     (write the unit, e.g. \"{x}bps\" or \"{x}Kbps\", for a link this slow)"
                ),
            ));
        }
    };
    for (i, t) in tables("distribution_points").into_iter().enumerate() {
        bare_rate("distribution_points", i, t, "bandwidth");
    }
    let sites = tables("sites");
    for (i, t) in sites.iter().enumerate() {
        bare_rate("sites", i, t, "wan");
        for (key, what) in [
            ("delivery_optimization", "Delivery Optimization"),
            ("connected_cache", "Microsoft Connected Cache"),
        ] {
            if let Some(v) = value::get(t, key) {
                notes.push(
                    ctx.diag(v.span(), &format!("sites.{i}.{key}"), do_note(what))
                        .to_string(),
                );
            }
        }
    }
    let shares: Vec<f64> = sites
        .iter()
        .map(|t| {
            value::get(t, "share")
                .and_then(|v| value::as_f64(v.get_ref()))
                .unwrap_or(1.0)
        })
        .collect();
    let total: f64 = shares.iter().sum();
    if sites.len() > 1 && total.is_finite() && total > 0.0 && (total - 1.0).abs() > 1e-6 {
        let at = value::get(root, "sites").map(|v| v.span()).unwrap_or(0..0);
        notes.push(
            ctx.diag(
                at,
                "sites",
                format!(
                    "site shares add up to {}, not 1: they are used as weights, so the sites get {}",
                    (total * 1e6).round() / 1e6,
                    shares
                        .iter()
                        .map(|x| format!("{:.1}%", 100.0 * x / total))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .to_string(),
        );
    }
    if let Some(DeValue::Table(d)) = value::get(root, "deployment").map(Spanned::get_ref) {
        let available = value::get(d, "purpose")
            .is_none_or(|p| matches!(p.get_ref(), DeValue::String(s) if s.as_ref() == "available"));
        if let (true, Some(v)) = (available, value::get(d, "deadline")) {
            notes.push(
                ctx.diag(
                    v.span(),
                    "deployment.deadline",
                    "an available deployment has no deadline in ConfigMgr (users install when \
                     they choose): this deadline only marks the plots; set purpose = \"required\" \
                     to make clients start by it",
                )
                .to_string(),
            );
        }
    }
    notes
}
