//! `[[sites]]` (boundary groups) and `[[distribution_points]]`: names are resolved to
//! indices here, once, so the simulator never looks anything up by name.
//!
//! Sites and DPs refer to each other (a DP stands in a site, a site lists DPs), so the
//! names of both are collected first and the tables are read second.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;
use toml::de::DeValue;

use super::defaults::{
    DEFAULT_SITE, FALLBACK_AFTER, MAX_CONNECTIONS, MAX_SUBNETS, PEER_CACHE_MAX_CONNECTIONS,
};
use super::fields::{self, Section, table_array};
use super::model::{DistributionPoint, Fallback, PeerCache, PeerSources, Site};
use super::value::{self, SourceCtx};
use crate::diag::Diagnostic;

const SITE_KEYS: &[&str] = &[
    "name",
    "share",
    "wan",
    "distribution_points",
    "fallback",
    "utc_offset",
    "subnets",
    "branchcache",
    "peer_cache",
    "delivery_optimization",
    "connected_cache",
];
const DP_KEYS: &[&str] = &["name", "site", "bandwidth", "max_connections", "url"];
const FALLBACK_KEYS: &[&str] = &["after", "distribution_points"];
const PEER_CACHE_KEYS: &[&str] = &["sources", "max_connections", "precache"];

/// Sites and distribution points, resolved.
pub(crate) struct Topology {
    /// At least one when there were no errors.
    pub sites: Vec<Site>,
    /// At least one when there were no errors.
    pub distribution_points: Vec<DistributionPoint>,
}

/// Reads the `name` of every table, reporting missing and duplicate names. The
/// result keeps one entry per table (an empty name for a missing one) so that
/// positions stay aligned with the tables.
fn names(tables: &[Section<'_, '_>], what: &str, errors: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tables.len());
    let mut seen = HashSet::new();
    for t in tables {
        let name = t
            .required("name", &value::string, errors)
            .unwrap_or_default();
        if let Some(v) = t.get("name")
            && !name.is_empty()
            && !seen.insert(name.clone())
        {
            errors.push(t.ctx.diag(
                v.span(),
                &t.key("name"),
                format!("duplicate {what} name {name:?}: names must be unique"),
            ));
        }
        out.push(name);
    }
    out
}

/// Reads `[[sites]]` and `[[distribution_points]]` (either may be absent; no DP at
/// all is an error).
pub(crate) fn read_topology(
    ctx: &SourceCtx<'_>,
    sites_v: Option<&Spanned<DeValue<'_>>>,
    dps_v: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) -> Topology {
    let site_tables = sites_v
        .map(|v| table_array(ctx, "sites", v, errors))
        .unwrap_or_default();
    let dp_tables = dps_v
        .map(|v| table_array(ctx, "distribution_points", v, errors))
        .unwrap_or_default();
    for t in &site_tables {
        t.check_keys(SITE_KEYS, errors);
    }
    for t in &dp_tables {
        t.check_keys(DP_KEYS, errors);
    }
    // Clients and downloads store a site and a DP in 16 bits, u16::MAX meaning none.
    let max = usize::from(u16::MAX) - 1;
    for (v, n, key) in [
        (sites_v, site_tables.len(), "sites"),
        (dps_v, dp_tables.len(), "distribution_points"),
    ] {
        if let Some(v) = v.filter(|_| n > max) {
            let m = format!("{n} tables, expected at most {max}");
            errors.push(ctx.diag(v.span(), key, m));
        }
    }
    let implicit_site = site_tables.is_empty();
    let site_names = if implicit_site {
        vec![DEFAULT_SITE.to_string()]
    } else {
        names(&site_tables, "site", errors)
    };
    let dp_names = names(&dp_tables, "distribution point", errors);
    if dp_tables.is_empty() {
        let span = dps_v.map(|v| v.span()).unwrap_or(0..0);
        errors.push(ctx.diag(
            span,
            "distribution_points",
            "at least one [[distribution_points]] table is required",
        ));
    }

    let site_index = Names::new(&site_names);
    let distribution_points: Vec<DistributionPoint> = dp_tables
        .iter()
        .zip(&dp_names)
        .map(|(t, name)| read_dp(t, name, &site_index, errors))
        .collect();

    let sites = if implicit_site {
        vec![Site {
            name: DEFAULT_SITE.to_string(),
            share: 1.0,
            wan: None,
            distribution_points: (0..distribution_points.len()).collect(),
            fallback: None,
            subnets: 1,
            branchcache: false,
            peer_cache: None,
        }]
    } else {
        read_sites(
            &site_tables,
            &site_names,
            &Names::new(&dp_names),
            &distribution_points,
            errors,
        )
    };
    Topology {
        sites,
        distribution_points,
    }
}

/// The names of the tables in file order, indexed: resolving a reference is a
/// lookup rather than a scan, which made a scenario of 100,000 sites or DPs take
/// minutes to read.
struct Names<'a> {
    list: &'a [String],
    index: HashMap<&'a str, usize>,
}

impl<'a> Names<'a> {
    fn new(list: &'a [String]) -> Self {
        let mut index = HashMap::with_capacity(list.len());
        for (i, n) in list.iter().enumerate() {
            index.entry(n.as_str()).or_insert(i);
        }
        Names { list, index }
    }

    /// Position of the first table with this name.
    fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
}

fn read_dp(
    t: &Section<'_, '_>,
    name: &str,
    site_names: &Names<'_>,
    errors: &mut Vec<Diagnostic>,
) -> DistributionPoint {
    let site = match t.opt("site", &value::string, errors) {
        None => 0,
        Some(s) => match site_names.position(&s) {
            Some(i) => i,
            None => {
                if let Some(v) = t.get("site") {
                    errors.push(t.ctx.diag(
                        v.span(),
                        &t.key("site"),
                        format!(
                            "unknown site {s:?}, expected one of the [[sites]] names: {}",
                            quoted(site_names.list)
                        ),
                    ));
                }
                0
            }
        },
    };
    let bandwidth = t
        .required("bandwidth", &fields::positive_rate, errors)
        .unwrap_or(1);
    let max = i128::from(u32::MAX);
    let max_connections = t.or(
        "max_connections",
        MAX_CONNECTIONS,
        &|c, k, v| fields::int_in(c, k, v, 1, max),
        errors,
    );
    let url = t.opt("url", &value::string, errors);
    DistributionPoint {
        name: name.to_string(),
        site,
        bandwidth,
        max_connections,
        url,
    }
}

fn read_sites(
    tables: &[Section<'_, '_>],
    site_names: &[String],
    dp_names: &Names<'_>,
    dps: &[DistributionPoint],
    errors: &mut Vec<Diagnostic>,
) -> Vec<Site> {
    let mut sites: Vec<Site> = Vec::with_capacity(tables.len());
    for (i, (t, name)) in tables.iter().zip(site_names).enumerate() {
        let share = t.or("share", 1.0, &fields::non_negative, errors);
        let wan = t.opt("wan", &fields::positive_rate, errors);
        let distribution_points = match t.get("distribution_points") {
            Some(v) => dp_list(t.ctx, &t.key("distribution_points"), v, dp_names, errors),
            None => (0..dps.len())
                .filter(|&d| dps.get(d).is_some_and(|x| x.site == i))
                .collect(),
        };
        let fallback = t
            .get("fallback")
            .and_then(|v| read_fallback(t.ctx, &t.key("fallback"), v, dp_names, errors));
        let max_subnets = i128::from(MAX_SUBNETS);
        let subnets = t.or(
            "subnets",
            1,
            &|c, k, v| fields::int_in(c, k, v, 1, max_subnets),
            errors,
        );
        let branchcache = t.or("branchcache", false, &value::boolean, errors);
        let peer_cache = t
            .get("peer_cache")
            .and_then(|v| read_peer_cache(t.ctx, &t.key("peer_cache"), v, errors));
        sites.push(Site {
            name: name.clone(),
            share,
            wan,
            distribution_points,
            fallback,
            subnets,
            branchcache,
            peer_cache,
        });
    }
    let total: f64 = sites.iter().map(|s| s.share).sum();
    if total > 0.0 && total.is_finite() {
        for s in &mut sites {
            s.share /= total;
        }
    } else if let Some(first) = tables.first() {
        errors.push(first.diag_here(
            "sites",
            format!("site shares sum to {total}, expected a positive total"),
        ));
    }
    sites
}

fn read_fallback(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    dp_names: &Names<'_>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Fallback> {
    let t = match Section::new(ctx, key, v) {
        Ok(t) => t,
        Err(d) => {
            errors.push(d);
            return None;
        }
    };
    t.check_keys(FALLBACK_KEYS, errors);
    let after = t.or("after", FALLBACK_AFTER, &fields::duration, errors);
    let distribution_points = t
        .get("distribution_points")
        .map(|v| dp_list(ctx, &t.key("distribution_points"), v, dp_names, errors))
        .unwrap_or_default();
    Some(Fallback {
        after,
        distribution_points,
    })
}

/// `peer_cache = { sources = 0.05 | [client ids], max_connections = N, precache = B }`.
fn read_peer_cache(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    errors: &mut Vec<Diagnostic>,
) -> Option<PeerCache> {
    let t = match Section::new(ctx, key, v) {
        Ok(t) => t,
        Err(d) => {
            errors.push(d);
            return None;
        }
    };
    t.check_keys(PEER_CACHE_KEYS, errors);
    let max = i128::from(u16::MAX);
    let max_connections = t.or(
        "max_connections",
        PEER_CACHE_MAX_CONNECTIONS,
        &|c, k, v| fields::int_in(c, k, v, 1, max),
        errors,
    );
    let precache = t.or("precache", false, &value::boolean, errors);
    let sources = t.required("sources", &peer_sources, errors)?;
    Some(PeerCache {
        sources,
        max_connections,
        precache,
    })
}

/// A share of the site's clients (a number from 0 to 1) or a list of client ids.
fn peer_sources(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<PeerSources, Diagnostic> {
    let DeValue::Array(items) = v.get_ref() else {
        return match value::probability(ctx, key, v) {
            Ok(x) => Ok(PeerSources::Share(x)),
            Err(_) => Err(ctx.diag(
                v.span(),
                key,
                format!(
                    "found {}, expected a share of the site's clients from 0 to 1 \
                     (e.g. 0.05) or a list of client ids (e.g. [0, 17])",
                    fields::written(v)
                ),
            )),
        };
    };
    let mut ids = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    let max = i128::from(u32::MAX) - 1;
    for (i, item) in items.iter().enumerate() {
        let item_key = format!("{key}.{i}");
        let id: u64 = fields::int_in(ctx, &item_key, item, 0, max)?;
        if !seen.insert(id) {
            let m = format!("client {id} is listed twice");
            return Err(ctx.diag(item.span(), &item_key, m));
        }
        ids.push(id);
    }
    Ok(PeerSources::Clients(ids))
}

/// Refuses peer cache source ids that are not clients of the fleet (ids run from 0
/// to `fleet.clients - 1`), at the id itself.
pub(crate) fn check_source_ids(
    ctx: &SourceCtx<'_>,
    sites_v: Option<&Spanned<DeValue<'_>>>,
    clients: u64,
    errors: &mut Vec<Diagnostic>,
) {
    let Some(DeValue::Array(sites)) = sites_v.map(Spanned::get_ref) else {
        return;
    };
    for (i, site) in sites.iter().enumerate() {
        let DeValue::Table(t) = site.get_ref() else {
            continue;
        };
        let Some(DeValue::Table(pc)) = value::get(t, "peer_cache").map(Spanned::get_ref) else {
            continue;
        };
        let Some(DeValue::Array(ids)) = value::get(pc, "sources").map(Spanned::get_ref) else {
            continue;
        };
        for (j, id) in ids.iter().enumerate() {
            let key = format!("sites.{i}.peer_cache.sources.{j}");
            if let Ok(x) = fields::integer(ctx, &key, id)
                && x >= i128::from(clients)
                && x >= 0
            {
                let m = format!(
                    "client {x} does not exist, expected a client id from 0 to {} \
                     (fleet.clients = {clients})",
                    clients.saturating_sub(1)
                );
                errors.push(ctx.diag(id.span(), &key, m));
            }
        }
    }
}

/// Resolves a list of DP names to indices; unknown and repeated names are errors.
fn dp_list(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    dp_names: &Names<'_>,
    errors: &mut Vec<Diagnostic>,
) -> Vec<usize> {
    let items: Vec<(String, Range<usize>)> = match fields::string_list(ctx, key, v) {
        Ok(items) => items,
        Err(mut es) => {
            errors.append(&mut es);
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    let mut listed = HashSet::new();
    for (i, (name, span)) in items.into_iter().enumerate() {
        let item_key = format!("{key}.{i}");
        match dp_names.position(&name) {
            None => errors.push(ctx.diag(
                span,
                &item_key,
                format!(
                    "distribution point {name:?} is not defined, expected one of the \
                     [[distribution_points]] names: {}",
                    quoted(dp_names.list)
                ),
            )),
            Some(d) if !listed.insert(d) => errors.push(ctx.diag(
                span,
                &item_key,
                format!("distribution point {name:?} is listed twice"),
            )),
            Some(d) => out.push(d),
        }
    }
    out
}

/// The names an unknown one could have been, for a message: the first
/// [`LISTED_NAMES`] of them and how many more, so that thousands of wrong
/// references to thousands of names do not make messages of megabytes each.
fn quoted(names: &[String]) -> String {
    let named: Vec<&String> = names.iter().filter(|n| !n.is_empty()).collect();
    if named.is_empty() {
        return "(none defined)".to_string();
    }
    let shown: Vec<String> = named
        .iter()
        .take(LISTED_NAMES)
        .map(|n| format!("{n:?}"))
        .collect();
    match named.len().saturating_sub(LISTED_NAMES) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// How many names a message lists at most.
pub(crate) const LISTED_NAMES: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MINUTE;
    use crate::scenario::testutil::doc_errors;

    fn read(text: &str) -> (Option<Topology>, Vec<Diagnostic>) {
        let mut topo = None;
        let errors = doc_errors(text, |ctx, doc, errors| {
            topo = Some(read_topology(
                ctx,
                value::get(doc, "sites"),
                value::get(doc, "distribution_points"),
                errors,
            ));
        });
        (topo, errors)
    }

    #[test]
    fn resolves_names_defaults_and_shares() {
        let text = r#"
[[sites]]
name = "HQ"
share = 3
[[sites]]
name = "Branch"
wan = "100Mbps"
distribution_points = ["DP2", "DP1"]
fallback = { after = "30m", distribution_points = ["DP1"] }
[[distribution_points]]
name = "DP1"
bandwidth = "10Gbps"
[[distribution_points]]
name = "DP2"
site = "Branch"
bandwidth = "1Gbps"
max_connections = 500
url = "http://dp2/{content}"
"#;
        let (topo, errors) = read(text);
        assert!(errors.is_empty(), "{errors:?}");
        let t = topo.expect("read");
        assert_eq!(t.sites[0].share, 0.75);
        assert_eq!(t.sites[0].distribution_points, vec![0]);
        assert_eq!(t.sites[1].distribution_points, vec![1, 0]);
        assert_eq!(t.sites[1].wan, Some(100_000_000));
        let fb = t.sites[1].fallback.as_ref().expect("fallback");
        assert_eq!(
            (fb.after, fb.distribution_points.clone()),
            (30 * MINUTE, vec![0])
        );
        assert_eq!(t.distribution_points[0].site, 0);
        assert_eq!(t.distribution_points[0].max_connections, 4000);
        assert_eq!(t.distribution_points[1].site, 1);
        assert_eq!(t.distribution_points[1].bandwidth, 1_000_000_000);
        assert_eq!(
            t.distribution_points[1].url.as_deref(),
            Some("http://dp2/{content}")
        );
    }

    #[test]
    fn no_sites_means_one_default_site_with_every_dp() {
        let text = "[[distribution_points]]\nname = \"A\"\nbandwidth = 1e9\n\
                    [[distribution_points]]\nname = \"B\"\nsite = \"default\"\nbandwidth = 1e9\n";
        let (topo, errors) = read(text);
        assert!(errors.is_empty(), "{errors:?}");
        let t = topo.expect("read");
        assert_eq!(t.sites.len(), 1);
        assert_eq!(t.sites[0].name, "default");
        assert_eq!(t.sites[0].distribution_points, vec![0, 1]);
    }

    #[test]
    fn reference_errors_point_at_the_name() {
        let text = r#"[[sites]]
name = "HQ"
distribution_points = ["DP1", "DPX", "DP1"]
fallback = { distribution_points = ["NOPE"] }
[[distribution_points]]
name = "DP1"
site = "Elsewhere"
bandwidth = "1Gbps"
max_connections = 0
[[distribution_points]]
name = "DP1"
bandwidth = "-1Gbps"
"#;
        let (_, errors) = read(text);
        let got: Vec<(usize, &str)> = errors.iter().map(|d| (d.line, d.key.as_str())).collect();
        let mut got = got;
        got.sort();
        assert_eq!(
            got,
            [
                (3, "sites.0.distribution_points.1"),
                (3, "sites.0.distribution_points.2"),
                (4, "sites.0.fallback.distribution_points.0"),
                (7, "distribution_points.0.site"),
                (9, "distribution_points.0.max_connections"),
                (11, "distribution_points.1.name"),
                (12, "distribution_points.1.bandwidth"),
            ]
        );
    }

    #[test]
    fn peer_keys_are_read_with_their_defaults() {
        let text = r#"
[[sites]]
name = "Lyon"
subnets = 8
branchcache = true
peer_cache = { sources = 0.05 }
[[sites]]
name = "Nice"
peer_cache = { sources = [3, 1], max_connections = 4 }
[[sites]]
name = "HQ"
[[distribution_points]]
name = "DP1"
site = "HQ"
bandwidth = "1Gbps"
"#;
        let (topo, errors) = read(text);
        assert!(errors.is_empty(), "{errors:?}");
        let t = topo.expect("read");
        let lyon = &t.sites[0];
        assert_eq!((lyon.subnets, lyon.branchcache), (8, true));
        assert_eq!(
            lyon.peer_cache,
            Some(PeerCache {
                sources: PeerSources::Share(0.05),
                max_connections: PEER_CACHE_MAX_CONNECTIONS,
                precache: false,
            })
        );
        assert_eq!(
            t.sites[1].peer_cache,
            Some(PeerCache {
                sources: PeerSources::Clients(vec![3, 1]),
                max_connections: 4,
                precache: false,
            })
        );
        let hq = &t.sites[2];
        assert_eq!(
            (hq.subnets, hq.branchcache, &hq.peer_cache),
            (1, false, &None)
        );
    }

    #[test]
    fn bad_peer_values_are_located() {
        let text = r#"[[sites]]
name = "A"
subnets = 0
branchcache = "yes"
peer_cache = { sources = 1.5, max_connections = 0 }
[[sites]]
name = "B"
peer_cache = { sources = [1, 1] }
[[sites]]
name = "C"
peer_cache = { max_connections = 3, size = 2 }
[[distribution_points]]
name = "DP1"
bandwidth = "1Gbps"
"#;
        let (_, errors) = read(text);
        let mut got: Vec<(usize, &str)> = errors.iter().map(|d| (d.line, d.key.as_str())).collect();
        got.sort();
        assert_eq!(
            got,
            [
                (3, "sites.0.subnets"),
                (4, "sites.0.branchcache"),
                (5, "sites.0.peer_cache.max_connections"),
                (5, "sites.0.peer_cache.sources"),
                (8, "sites.1.peer_cache.sources.1"),
                (11, "sites.2.peer_cache.size"),
                (11, "sites.2.peer_cache.sources"),
            ]
        );
        let share = errors
            .iter()
            .find(|d| d.key == "sites.0.peer_cache.sources")
            .expect("share error");
        assert!(
            share.message.contains("found 1.5, expected a share"),
            "{share:?}"
        );
    }

    #[test]
    fn missing_dps_and_zero_shares_are_errors() {
        let (_, errors) = read("[[sites]]\nname = \"A\"\nshare = 0\n");
        let keys: Vec<&str> = errors.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["distribution_points", "sites"]);
        assert!(errors[1].message.contains("sum to 0"));
    }
}
