//! What the fleet's hardware and the client cache mean before any download: the
//! Windows 11 readiness and the pre-cache shortfall (content a client's cache
//! cannot hold, so pre-cache skips it and the task sequence downloads it on
//! demand). Pure functions of the scenario and the fleet, so `validate` tells them
//! without running and a run reports the same figures.

/// What `fleetsim validate` says of the fleet before any run: its Windows 11
/// readiness (when the task sequence references a Windows 11 package) and the
/// content pre-cache could not take, from the generated (or inventory) fleet.
pub fn fleet_checks(
    s: &crate::scenario::model::Scenario,
) -> Result<
    (
        Option<crate::setup::readiness::Readiness>,
        Vec<super::result::PrecacheShortfall>,
    ),
    super::program::CompileError,
> {
    let prog = super::program::compile(s)?;
    let attrs = crate::fleet::generate(&s.population());
    Ok((
        super::kinds::readiness(s, &prog.referenced, &attrs, |_| true),
        precache_shortfall(s, &prog.referenced, &attrs, |_| true),
    ))
}

/// Who cannot pre-cache what, and why, without running: pre-cache walks the same
/// list for each client (its OS package, then the other referenced content, a driver
/// package only for its model) into a cache that starts empty and skips an item
/// that would overflow `client.cache_size` (`continue_precache`). Only clients with
/// `keep(id)` count (a shard's). Empty when the deployment does not pre-cache.
pub(crate) fn precache_shortfall(
    s: &crate::scenario::model::Scenario,
    referenced: &[u32],
    attrs: &[crate::fleet::ClientAttrs],
    keep: impl Fn(u64) -> bool,
) -> Vec<super::result::PrecacheShortfall> {
    use crate::scenario::model::{ContentKind, Purpose};
    if !s.deployment.precache || s.deployment.purpose != Purpose::Available {
        return Vec::new();
    }
    let is_os = |i: u32| s.content[i as usize].kind == ContentKind::OsUpgrade;
    let (os, common): (Vec<u32>, Vec<u32>) = referenced.iter().copied().partition(|&i| is_os(i));
    let mut out: Vec<(u64, u64)> = vec![(0, 0); s.content.len()];
    for (c, a) in attrs.iter().enumerate() {
        if !keep(c as u64) {
            continue;
        }
        let lang = s
            .fleet
            .language
            .items
            .get(a.language as usize)
            .map_or(0, |x| x.0);
        let model = s
            .fleet
            .model
            .items
            .get(a.model as usize)
            .map_or("", |x| x.0.as_str());
        let first = if os.is_empty() {
            None
        } else {
            match os.iter().copied().find(|&i| {
                let ct = &s.content[i as usize];
                ct.architecture.is_none_or(|x| x == a.arch) && ct.language.is_none_or(|l| l == lang)
            }) {
                Some(i) => Some(i),
                None => continue, // nothing is pre-cached without a matching OS package
            }
        };
        let mut used = 0u64;
        for i in first.into_iter().chain(common.iter().copied()) {
            let ct = &s.content[i as usize];
            if !ct.fits_model(model) {
                continue;
            }
            let after = used.saturating_add(ct.size);
            if after > s.client.cache_size {
                let o = &mut out[i as usize];
                o.0 += 1;
                o.1 = o.1.max(after);
            } else {
                used = after;
            }
        }
    }
    out.iter()
        .enumerate()
        .filter(|(_, o)| o.0 > 0)
        .map(
            |(i, &(clients, cache_needed))| super::result::PrecacheShortfall {
                content: s.content[i].id.clone(),
                size: s.content[i].size,
                clients,
                cache_needed,
            },
        )
        .collect()
}
