//! `--target 'METRIC OP VALUE'`: a condition on one figure of `summary.json`.
//!
//! METRIC is a dotted path of `summary.json` (`latency.time_to_compliance.p95`,
//! `compliance.p95_s`, `outcomes.succeeded`, `peak.by_dp.DP1.bps`); OP is `<=`, `<`,
//! `>=` or `>`; VALUE is written in the metric's own kind of unit: durations for
//! latencies and times (`72h`, `400s`; bare numbers are seconds), sizes for `bytes.*`
//! (`5TB`), rates for `peak.*.bps` (`8Gbps`), plain numbers for counts and shares.
//! A metric that is `null` (a compliance share never reached) meets no target.

use crate::diag::Diagnostic;
use crate::scenario::units::{self, Quantity};

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
}

/// The kind of quantity a `summary.json` figure is, which selects the units its
/// threshold is written in.
pub fn quantity_of(metric: &str) -> Quantity {
    let last = metric.rsplit('.').next().unwrap_or("");
    if last == "count" || metric == "compliance.final_share" {
        Quantity::Number
    } else if metric.starts_with("latency.")
        || metric.starts_with("compliance.")
        || metric == "sim_end_s"
    {
        Quantity::Duration
    } else if metric.starts_with("bytes.") {
        Quantity::Size
    } else if metric.starts_with("peak.") && last == "bps" {
        Quantity::Rate
    } else {
        Quantity::Number
    }
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

fn diag(raw: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        file: format!("<--target {raw}>").into(),
        line: 0,
        column: 0,
        key: String::new(),
        message: message.into(),
    }
}

/// Parses `METRIC OP VALUE`; `known` lists the metrics a summary of this scenario has
/// (a metric outside it is an error that lists close alternatives).
pub fn parse(raw: &str, known: &[String]) -> Result<Target, Diagnostic> {
    let ops = [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)];
    let Some((at, len, op)) = ops
        .iter()
        .filter_map(|(s, op)| raw.find(s).map(|i| (i, s.len(), *op)))
        .min_by_key(|(i, len, _)| (*i, usize::MAX - len))
    else {
        return Err(diag(
            raw,
            "expected METRIC <= VALUE (or <, >=, >), e.g. 'latency.time_to_compliance.p95 <= 72h'",
        ));
    };
    let metric = raw[..at].trim().to_string();
    let written = raw[at + len..].trim().to_string();
    if metric.is_empty() || written.is_empty() {
        return Err(diag(raw, "expected METRIC <= VALUE with both sides given"));
    }
    let is_code = metric.starts_with("failures_by_code.0x");
    if !known.contains(&metric) && !is_code {
        let head = metric.split('.').next().unwrap_or("");
        let near: Vec<&str> = known
            .iter()
            .filter(|k| k.starts_with(head))
            .take(12)
            .map(String::as_str)
            .collect();
        let hint = if near.is_empty() {
            "metrics are dotted paths of summary.json, e.g. latency.download.max, compliance.p95_s, outcomes.succeeded".to_string()
        } else {
            format!("did you mean one of: {}", near.join(", "))
        };
        return Err(diag(
            raw,
            format!("{metric:?} is not a numeric figure of summary.json; {hint}"),
        ));
    }
    let q = quantity_of(&metric);
    let base = units::parse_str(q, &written).map_err(|m| diag(raw, m))?;
    let value = match q {
        Quantity::Duration => base / 1e6,
        _ => base,
    };
    Ok(Target {
        metric,
        op,
        value,
        written,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        [
            "latency.download.max",
            "latency.download.count",
            "compliance.p95_s",
            "compliance.final_share",
            "outcomes.succeeded",
            "bytes.total",
            "peak.by_dp.DP1.bps",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn values_take_the_metric_units() {
        let t = parse("latency.download.max <= 400s", &known()).expect("ok");
        assert_eq!((t.op, t.value), (Op::Le, 400.0));
        let t = parse("compliance.p95_s<72h", &known()).expect("ok");
        assert_eq!((t.op, t.value), (Op::Lt, 72.0 * 3600.0));
        let t = parse("bytes.total >= 5TB", &known()).expect("ok");
        assert_eq!(t.value, 5e12);
        let t = parse("peak.by_dp.DP1.bps > 8Gbps", &known()).expect("ok");
        assert_eq!((t.op, t.value), (Op::Gt, 8e9));
        let t = parse("compliance.final_share >= 0.95", &known()).expect("ok");
        assert_eq!(t.value, 0.95);
        let t = parse("latency.download.count >= 10", &known()).expect("ok");
        assert_eq!(t.value, 10.0);
        assert!(parse("failures_by_code.0xC1900208 <= 3", &known()).is_ok());
    }

    #[test]
    fn bad_targets_say_why() {
        let e = parse("latency.download.p42 <= 4s", &known()).expect_err("unknown");
        assert!(e.message.contains("latency.download.max"), "{}", e.message);
        assert!(parse("latency.download.max == 4s", &known()).is_err());
        assert!(parse("latency.download.max <= 4Gbps", &known()).is_err());
        assert!(parse("<= 4s", &known()).is_err());
        assert!(parse("latency.download.max <=", &known()).is_err());
    }

    #[test]
    fn null_meets_nothing() {
        let t = parse("compliance.p95_s <= 72h", &known()).expect("ok");
        assert!(!t.met(None));
        assert!(t.met(Some(3600.0)));
        assert!(!t.met(Some(80.0 * 3600.0)));
    }
}
