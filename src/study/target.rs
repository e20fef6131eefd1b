//! `--target 'METRIC OP VALUE'`: a condition on one figure of `summary.json`.
//!
//! The target itself, its units and `[[targets]]` live in
//! [`crate::scenario::targets`] (a scenario carries its own); this module checks a
//! target against the figures a summary of the scenario has.

use crate::diag::Diagnostic;
pub use crate::scenario::targets::{Op, Target, quantity_of, unit_suffix};
use crate::scenario::targets::{check_metric, parse_expr};

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
/// (a metric outside it is an error that names the closest ones).
pub fn parse(raw: &str, known: &[String]) -> Result<Target, Diagnostic> {
    let t = parse_expr(raw).map_err(|m| diag(raw, m))?;
    check_metric(&t.metric, known).map_err(|m| diag(raw, m))?;
    Ok(t)
}

/// Checks a scenario's `[[targets]]` entry against `known`, located at the entry.
pub fn check(t: &Target, known: &[String]) -> Result<(), Diagnostic> {
    check_metric(&t.metric, known).map_err(|m| match &t.origin {
        Some(at) => Diagnostic {
            message: m,
            ..at.clone()
        },
        None => diag(&t.describe(), m),
    })
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
        let e = parse("latency.download.mxa <= 4s", &known()).expect_err("typo");
        assert!(
            e.message.contains("did you mean latency.download.max?"),
            "{}",
            e.message
        );
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
