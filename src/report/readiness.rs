//! The Windows 11 section of a run's report: the readiness table (which requirement
//! blocks how many clients, each blocked client counted once under its first cause
//! in Setup's order, with a column per cause counting every client that misses it)
//! and the pre-cache shortfall (content the client cache could not hold, and the
//! cache size that would). Absent from runs neither concerns, so their reports are
//! unchanged.

use super::html::{self, count, esc, pct};
use crate::output::readiness::{ReadinessJson, ShortfallJson};

/// The section's HTML, or `None` when the run upgrades to no Windows 11 package and
/// every pre-cache item fitted the client cache.
pub fn section(
    readiness: Option<&ReadinessJson>,
    shortfall: &[ShortfallJson],
    level: u8,
) -> Option<String> {
    if readiness.is_none() && shortfall.is_empty() {
        return None;
    }
    let mut o = String::new();
    if let Some(r) = readiness {
        o.push_str(&format!(
            "<h{level}>Windows 11 readiness</h{level}>\n<p>{} of {} clients meet every \
             Windows 11 requirement ({}); Setup's compatibility scan blocks {} with \
             <code>0xC1900200</code> (below minimum requirements, no rollback).</p>\n",
            count(r.eligible),
            count(r.clients),
            pct(r.eligible, r.clients),
            count(r.blocked)
        ));
        o.push_str(&table(r));
    }
    if !shortfall.is_empty() {
        o.push_str(&format!("<h{level}>Pre-cache shortfall</h{level}>\n"));
        o.push_str(
            "<p>Content that did not fit the client cache of these clients: they \
             downloaded it on demand, when the task sequence ran, instead of \
             beforehand.</p>\n",
        );
        let rows: Vec<Vec<String>> = shortfall
            .iter()
            .map(|s| {
                vec![
                    esc(&s.content),
                    html::bytes(s.size_bytes as f64),
                    count(s.clients),
                    format!("{} MB", count(s.cache_needed_bytes.div_ceil(1 << 20))),
                ]
            })
            .collect();
        o.push_str(&html::table(
            &[
                "content",
                "size",
                "clients that could not pre-cache it",
                "client cache that would fit",
            ],
            &rows,
        ));
    }
    Some(o)
}

/// One row per requirement in Setup's order: the blocked clients whose first missing
/// requirement it is (the column that adds up to the blocked total), then every
/// client missing it, overlaps included.
fn table(r: &ReadinessJson) -> String {
    let mut rows: Vec<Vec<String>> = r
        .first_cause
        .iter()
        .zip(r.any_cause.iter())
        .map(|((cause, first), (_, any))| {
            vec![
                esc(cause.requirement()),
                count(first),
                pct(first, r.clients),
                count(any),
            ]
        })
        .collect();
    rows.push(vec![
        "<strong>blocked</strong>".into(),
        count(r.blocked),
        pct(r.blocked, r.clients),
        String::new(),
    ]);
    html::table(
        &[
            "requirement (Setup's order)",
            "blocked, first cause",
            "of the fleet",
            "missing it (overlaps counted under each)",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::readiness::ByCause;

    #[test]
    fn the_table_lists_every_requirement_in_setups_order_with_the_blocked_total() {
        let r = ReadinessJson {
            clients: 100,
            eligible: 80,
            blocked: 20,
            first_cause: ByCause {
                tpm: 12,
                firmware: 8,
                ..ByCause::default()
            },
            any_cause: ByCause {
                tpm: 12,
                firmware: 15,
                ..ByCause::default()
            },
        };
        let h = section(Some(&r), &[], 2).expect("a section");
        let at = |s: &str| h.find(s).unwrap_or_else(|| panic!("{s} in {h}"));
        assert!(at("64-bit OS") < at("system drive") && at("TPM 2.0") < at("UEFI with Secure"));
        assert!(h.contains("80 of 100 clients"), "{h}");
        assert!(h.contains("<td class=\"num\">15</td>"), "{h}");
        assert!(!h.contains("Pre-cache shortfall"));
        assert_eq!(section(None, &[], 2), None);
    }

    #[test]
    fn the_shortfall_names_the_content_and_the_cache_that_fits() {
        let s = ShortfallJson {
            content: "W11-24H2-X64-1033".into(),
            size_bytes: 6_200_000_000,
            clients: 42,
            cache_needed_bytes: 6_200_000_000,
        };
        let h = section(None, &[s], 2).expect("a section");
        assert!(
            h.contains("W11-24H2-X64-1033") && h.contains("5,913 MB"),
            "{h}"
        );
        assert!(!h.contains("Windows 11 readiness"));
    }
}
