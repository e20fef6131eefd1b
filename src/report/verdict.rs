//! The verdict a report and the terminal open with: each target, met or missed, in
//! a sentence a manager reads ("Lyon: 95% of its clients compliant within 72h:
//! missed, 5.2d; its WAN link was full for 101.0h").

use crate::output::summary::{Summary, TargetJson};
use crate::scenario::targets::quantity_of;
use crate::scenario::units::Quantity;

use super::html::{bytes, human_secs, rate};

/// A figure of `summary.json` in human units, by its kind.
pub fn human_value(metric: &str, v: f64) -> String {
    match quantity_of(metric) {
        Quantity::Duration => human_secs(v),
        Quantity::Size => bytes(v),
        Quantity::Rate => rate(v),
        Quantity::Number if metric.ends_with("final_share") => format!("{:.1}%", 100.0 * v),
        Quantity::Number => format!("{}", (v * 1000.0).round() / 1000.0),
    }
}

/// The site a metric is about (`sites.Lyon.…`), when the summary has it.
fn site_of<'a>(s: &'a Summary, metric: &str) -> Option<&'a str> {
    let rest = metric.strip_prefix("sites.")?;
    s.sites
        .keys()
        .filter(|name| rest.starts_with(&format!("{name}.")))
        .max_by_key(|name| name.len())
        .map(String::as_str)
}

/// What a metric means, in words where it is a compliance share.
fn describe(s: &Summary, metric: &str) -> String {
    let share = |tail: &str| {
        tail.strip_prefix("compliance.p")
            .and_then(|x| x.strip_suffix("_s"))
            .map(str::to_string)
    };
    if let Some(site) = site_of(s, metric) {
        let tail = &metric[6 + site.len() + 1..];
        return match share(tail) {
            Some(p) => format!("{site}: {p}% of its clients compliant within"),
            None => format!("{site}: {tail}"),
        };
    }
    match share(metric) {
        Some(p) => format!("fleet: {p}% of all clients compliant within"),
        None => metric.to_string(),
    }
}

/// One target's verdict as a sentence.
pub fn sentence(s: &Summary, t: &TargetJson) -> String {
    let value = match t.value {
        None => "never reached".to_string(),
        Some(v) => human_value(&t.metric, v),
    };
    let what = describe(s, &t.metric);
    let mut out = format!(
        "{what} {}: {}, {value}",
        if what.ends_with("within") && t.op.starts_with('<') {
            t.written.clone()
        } else {
            format!("{} {}", t.op, t.written)
        },
        if t.met { "met" } else { "MISSED" },
    );
    if !t.met
        && let Some(site) = site_of(s, &t.metric)
        && let Some(w) = s.sites.get(site).and_then(|x| x.wan.as_ref())
        && w.busy_s > 0.0
    {
        out.push_str(&format!(
            "; its {} WAN link was full for {}",
            rate(w.capacity_bps as f64),
            human_secs(w.busy_s)
        ));
    }
    out
}

/// Every target's sentence, in order.
pub fn sentences(s: &Summary) -> Vec<String> {
    s.targets.iter().map(|t| sentence(s, t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::summary::{SiteJson, WanJson};

    #[test]
    fn a_missed_site_target_names_its_full_wan_link() {
        let mut s = Summary::default();
        let wan = WanJson {
            capacity_bps: 20_000_000,
            peak_bps: 20e6,
            busy_s: 101.0 * 3600.0,
        };
        s.sites.insert(
            "Lyon".into(),
            SiteJson {
                wan: Some(wan),
                ..SiteJson::default()
            },
        );
        s.sites.insert("HQ".into(), SiteJson::default());
        let t = |metric: &str, value: f64, met: bool| TargetJson {
            target: format!("{metric} <= 72h"),
            metric: metric.into(),
            op: "<=".into(),
            written: "72h".into(),
            threshold: 72.0 * 3600.0,
            value: Some(value),
            met,
        };
        let hq = sentence(&s, &t("sites.HQ.compliance.p95_s", 61.0 * 3600.0, true));
        assert_eq!(hq, "HQ: 95% of its clients compliant within 72h: met, 2.5d");
        let lyon = sentence(&s, &t("sites.Lyon.compliance.p95_s", 5.2 * 86400.0, false));
        assert_eq!(
            lyon,
            "Lyon: 95% of its clients compliant within 72h: MISSED, 5.2d; its 20.0 Mbps WAN link was full for 4.2d"
        );
        let fleet = sentence(&s, &t("latency.download.max", 10.0, true));
        assert_eq!(fleet, "latency.download.max <= 72h: met, 10.0s");
    }
}
