//! Targets: a condition on one figure of `summary.json`, the verdict a planner hands
//! to a manager ("Lyon 95% compliant within 72 h").
//!
//! Written `METRIC OP VALUE` (`--target` on `run` and `plan`, or a string in
//! `[[targets]]`), or as a table `{ metric = "...", op = "<=", value = "72h" }`.
//! METRIC is a dotted path of `summary.json` (`latency.time_to_compliance.p95`,
//! `compliance.p95_s`, `sites.Lyon.wan.busy_s`, `outcomes.succeeded`); OP is `<=`,
//! `<`, `>=` or `>`; VALUE is written in the metric's own kind of unit: durations for
//! latencies and times (`72h`, `400s`; bare numbers are seconds), sizes for bytes
//! (`5TB`), rates for `bps` figures (`8Gbps`), plain numbers for counts and shares.
//! A metric that is `null` (a compliance share never reached) meets no target.

use toml::Spanned;
use toml::de::DeValue;

use super::units::{self, Quantity};
use super::value::{SourceCtx, type_name};
use crate::diag::Diagnostic;

/// The comparison of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

impl Op {
    /// How it is written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Gt => ">",
        }
    }

    fn parse(s: &str) -> Option<Op> {
        Some(match s.trim() {
            "<=" => Op::Le,
            "<" => Op::Lt,
            ">=" => Op::Ge,
            ">" => Op::Gt,
            _ => return None,
        })
    }
}

/// A parsed target.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The dotted path of the figure.
    pub metric: String,
    /// The comparison.
    pub op: Op,
    /// The threshold in the units `summary.json` uses (seconds, bytes, bits/s).
    pub value: f64,
    /// The threshold as written.
    pub written: String,
    /// Where it was written (a `[[targets]]` entry), for a located error when its
    /// metric turns out not to be a figure of the summary; `None` for `--target`.
    pub origin: Option<Diagnostic>,
}

/// The kind of quantity a `summary.json` figure is, which selects the units its
/// threshold is written in.
pub fn quantity_of(metric: &str) -> Quantity {
    // A site's figures read like the fleet's: `sites.NAME.` then the same keys.
    let local = match metric.strip_prefix("sites.") {
        Some(rest) => site_local(rest),
        None => metric,
    };
    let last = local.rsplit('.').next().unwrap_or("");
    if last == "count" || last == "final_share" {
        Quantity::Number
    } else if local.starts_with("latency.")
        || local.starts_with("compliance.")
        || local == "sim_end_s"
        || last == "busy_s"
    {
        Quantity::Duration
    } else if local.starts_with("bytes.") {
        Quantity::Size
    } else if last == "bps" || last.ends_with("_bps") {
        Quantity::Rate
    } else {
        Quantity::Number
    }
}

/// The part of a site metric after the site's name (`Lyon.wan.busy_s` ->
/// `wan.busy_s`); names may hold dots, so the known keys are looked for instead.
fn site_local(rest: &str) -> &str {
    for head in ["clients", "outcomes.", "compliance.", "bytes.", "wan."] {
        if let Some(i) = rest.find(&format!(".{head}")) {
            return &rest[i + 1..];
        }
    }
    rest
}

/// Unit of a figure as `summary.json` holds it, for printing.
pub fn unit_suffix(metric: &str) -> &'static str {
    match quantity_of(metric) {
        Quantity::Duration => "s",
        Quantity::Size => "B",
        Quantity::Rate => "bps",
        Quantity::Number => "",
    }
}

/// Reads a threshold written in the metric's units into `summary.json`'s units.
pub fn threshold(metric: &str, written: &str) -> Result<f64, String> {
    let q = quantity_of(metric);
    let base = units::parse_str(q, written)?;
    Ok(match q {
        Quantity::Duration => base / 1e6,
        _ => base,
    })
}

/// Parses `METRIC OP VALUE` without checking that METRIC exists (see
/// [`check_metric`]).
pub fn parse_expr(raw: &str) -> Result<Target, String> {
    let ops = [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)];
    let Some((at, len, op)) = ops
        .iter()
        .filter_map(|(s, op)| raw.find(s).map(|i| (i, s.len(), *op)))
        .min_by_key(|(i, len, _)| (*i, usize::MAX - len))
    else {
        return Err(
            "expected METRIC <= VALUE (or <, >=, >), e.g. 'latency.time_to_compliance.p95 <= 72h'"
                .into(),
        );
    };
    let metric = raw[..at].trim().to_string();
    let written = raw[at + len..].trim().to_string();
    if metric.is_empty() || written.is_empty() {
        return Err("expected METRIC <= VALUE with both sides given".into());
    }
    let value = threshold(&metric, &written)?;
    Ok(Target {
        metric,
        op,
        value,
        written,
        origin: None,
    })
}

/// Checks that a target's metric is one of `known` (the numeric figures a summary of
/// the scenario has); the error names the closest ones.
pub fn check_metric(metric: &str, known: &[String]) -> Result<(), String> {
    if known.iter().any(|k| k == metric) || metric.starts_with("failures_by_code.0x") {
        return Ok(());
    }
    // A site that does not exist: name the sites (and the closest), not its figures.
    if let Some(rest) = metric.strip_prefix("sites.") {
        let mut sites: Vec<&str> = known
            .iter()
            .filter_map(|k| k.strip_prefix("sites."))
            .filter_map(|k| k.split_once(".clients").filter(|(_, t)| t.is_empty()))
            .map(|(name, _)| name)
            .collect();
        sites.dedup();
        let named = sites.iter().any(|n| rest.starts_with(&format!("{n}.")));
        if !named && !sites.is_empty() {
            let guess = rest.split('.').next().unwrap_or(rest);
            let hint = match crate::diag::closest(guess, sites.iter().copied()) {
                Some(c) => format!("did you mean {c:?}? "),
                None => String::new(),
            };
            return Err(format!(
                "{metric:?} names no site of this scenario; {hint}its sites are {}",
                sites.join(", ")
            ));
        }
    }
    // The closest figure first, then the figures beside it (same parent).
    let closest = crate::diag::closest(metric, known.iter().map(String::as_str));
    let parent = closest
        .unwrap_or(metric)
        .rsplit_once('.')
        .map(|(p, _)| p)
        .unwrap_or("");
    let head = metric.split('.').next().unwrap_or("");
    let beside: Vec<&str> = known
        .iter()
        .filter(|k| k.rsplit_once('.').map(|(p, _)| p) == Some(parent))
        .take(12)
        .map(String::as_str)
        .collect();
    let near: Vec<&str> = if beside.is_empty() {
        known
            .iter()
            .filter(|k| k.starts_with(head))
            .take(12)
            .map(String::as_str)
            .collect()
    } else {
        beside
    };
    let hint = match (closest, near.is_empty()) {
        (Some(c), true) => format!("did you mean {c}?"),
        (Some(c), false) => format!("did you mean {c}? (figures there: {})", near.join(", ")),
        (None, false) => format!("did you mean one of: {}", near.join(", ")),
        (None, true) => "metrics are dotted paths of summary.json, e.g. latency.download.max, compliance.p95_s, sites.NAME.compliance.p95_s, outcomes.succeeded".to_string(),
    };
    Err(format!(
        "{metric:?} is not a numeric figure of summary.json; {hint}"
    ))
}

impl Target {
    /// Whether a figure meets the target (`None`, never reached, does not).
    pub fn met(&self, v: Option<f64>) -> bool {
        let Some(v) = v else { return false };
        match self.op {
            Op::Le => v <= self.value,
            Op::Lt => v < self.value,
            Op::Ge => v >= self.value,
            Op::Gt => v > self.value,
        }
    }

    /// How the target reads.
    pub fn describe(&self) -> String {
        format!("{} {} {}", self.metric, self.op.as_str(), self.written)
    }
}

/// Reads `[[targets]]`: each entry a `'METRIC OP VALUE'` string or a table with
/// `metric`, `op` and `value` (a string with units, or a bare number).
pub(crate) fn read_targets(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Target> {
    let Some(v) = v else { return Vec::new() };
    let DeValue::Array(items) = v.get_ref() else {
        errors.push(ctx.diag(
            v.span(),
            "targets",
            format!(
                "found {}, expected an array of targets ([[targets]] tables or 'METRIC <= VALUE' strings)",
                type_name(v.get_ref())
            ),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let key = format!("targets.{i}");
        match read_one(ctx, &key, item) {
            Ok(mut t) => {
                t.origin = Some(ctx.diag(item.span(), &key, ""));
                out.push(t);
            }
            Err(d) => errors.push(d),
        }
    }
    out
}

fn read_one(
    ctx: &SourceCtx<'_>,
    key: &str,
    item: &Spanned<DeValue<'_>>,
) -> Result<Target, Diagnostic> {
    let table = match item.get_ref() {
        DeValue::String(s) => return parse_expr(s).map_err(|m| ctx.diag(item.span(), key, m)),
        DeValue::Table(t) => t,
        other => {
            return Err(ctx.diag(
                item.span(),
                key,
                format!(
                    "found {}, expected {{ metric = \"...\", op = \"<=\", value = \"72h\" }} or 'METRIC <= VALUE'",
                    type_name(other)
                ),
            ));
        }
    };
    let mut errors = Vec::new();
    super::value::check_keys(ctx, key, table, &["metric", "op", "value"], &mut errors);
    if let Some(d) = errors.into_iter().next() {
        return Err(d);
    }
    let get = |k: &str| super::value::get(table, k);
    let sub = |k: &str| format!("{key}.{k}");
    let metric = match get("metric") {
        Some(m) => super::value::string(ctx, &sub("metric"), m)?,
        None => {
            return Err(ctx.diag(
                item.span(),
                &sub("metric"),
                "missing: the summary.json figure to test, e.g. \"sites.HQ.compliance.p95_s\"",
            ));
        }
    };
    let op = match get("op") {
        Some(o) => {
            let s = super::value::string(ctx, &sub("op"), o)?;
            Op::parse(&s).ok_or_else(|| {
                ctx.diag(
                    o.span(),
                    &sub("op"),
                    format!("found {s:?}, expected one of <=, <, >=, >"),
                )
            })?
        }
        None => return Err(ctx.diag(item.span(), &sub("op"), "missing: one of <=, <, >=, >")),
    };
    let (written, span) = match get("value") {
        Some(x) => match x.get_ref() {
            DeValue::String(s) => (s.to_string(), x.span()),
            n @ (DeValue::Integer(_) | DeValue::Float(_)) => (
                super::value::as_f64(n)
                    .map(|f| f.to_string())
                    .unwrap_or_default(),
                x.span(),
            ),
            other => {
                return Err(ctx.diag(
                    x.span(),
                    &sub("value"),
                    format!(
                        "found {}, expected a value in the metric's units, e.g. \"72h\"",
                        type_name(other)
                    ),
                ));
            }
        },
        None => {
            return Err(ctx.diag(
                item.span(),
                &sub("value"),
                "missing: the threshold in the metric's units, e.g. \"72h\"",
            ));
        }
    };
    let value = threshold(&metric, &written).map_err(|m| ctx.diag(span, &sub("value"), m))?;
    Ok(Target {
        metric,
        op,
        value,
        written,
        origin: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_metrics_take_the_units_of_the_fleet_figures() {
        assert_eq!(
            quantity_of("sites.Lyon.compliance.p95_s"),
            Quantity::Duration
        );
        assert_eq!(
            quantity_of("sites.Lyon.compliance.final_share"),
            Quantity::Number
        );
        assert_eq!(quantity_of("sites.Lyon.wan.busy_s"), Quantity::Duration);
        assert_eq!(quantity_of("sites.Lyon.wan.peak_bps"), Quantity::Rate);
        assert_eq!(quantity_of("sites.Lyon.bytes.over_wan"), Quantity::Size);
        assert_eq!(quantity_of("sites.St. Denis.bytes.total"), Quantity::Size);
        assert_eq!(quantity_of("sites.Lyon.outcomes.failed"), Quantity::Number);
        assert_eq!(quantity_of("sites.Lyon.clients"), Quantity::Number);
        let t = parse_expr("sites.Lyon.compliance.p95_s <= 72h").expect("ok");
        assert_eq!(t.value, 72.0 * 3600.0);
    }
}
