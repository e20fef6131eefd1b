//! Distributions: parsing `{ dist = "...", ... }` tables (or bare values) into
//! [`Dist`] (sampling is `Dist::sample`, in `crate::domain`).
//!
//! Sampling never returns a negative or non-finite value for the quantities of this
//! product (durations, sizes): a draw below zero is clamped to 0, which is what a
//! truncated normal of a duration means in practice.

use toml::Spanned;
use toml::de::DeValue;

use super::units::Quantity;
use super::value::{self, SourceCtx, join};
use crate::diag::Diagnostic;
use crate::domain::Dist;

/// Reads a distribution of quantity `q`. A bare value is `Fixed`.
pub fn parse_dist(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    q: Quantity,
) -> Result<Dist, Vec<Diagnostic>> {
    let t = match v.get_ref() {
        DeValue::Table(t) => t,
        _ => {
            let x = value::quantity(ctx, key, v, q).map_err(|d| vec![d])?;
            return non_negative(ctx, key, v, x)
                .map(Dist::Fixed)
                .map_err(|d| vec![d]);
        }
    };
    let mut errors = Vec::new();
    let kind = match value::get(t, "dist") {
        Some(k) => match value::string(ctx, &join(key, "dist"), k) {
            Ok(s) => s,
            Err(d) => return Err(vec![d]),
        },
        None => {
            return Err(vec![ctx.diag(
                v.span(),
                key,
                "distribution table has no `dist` key, expected dist = \"fixed\" | \"uniform\" | \"exponential\" | \"normal\" | \"lognormal\" | \"empirical\"",
            )]);
        }
    };
    let allowed: &[&str] = match kind.as_str() {
        "fixed" => &["dist", "value"],
        "uniform" => &["dist", "min", "max"],
        "exponential" => &["dist", "mean"],
        "normal" => &["dist", "mean", "sd", "min", "max"],
        "lognormal" => &["dist", "median", "sigma"],
        "empirical" => &["dist", "values", "csv"],
        other => {
            let k = value::get(t, "dist").map(|k| k.span()).unwrap_or(v.span());
            return Err(vec![ctx.diag(
                k,
                &join(key, "dist"),
                format!("unknown distribution {other:?}, expected fixed, uniform, exponential, normal, lognormal or empirical"),
            )]);
        }
    };
    value::check_keys(ctx, key, t, allowed, &mut errors);
    let field =
        |name: &str, qq: Quantity, required: bool, errors: &mut Vec<Diagnostic>| -> Option<f64> {
            match value::get(t, name) {
                Some(fv) => match value::quantity(ctx, &join(key, name), fv, qq) {
                    Ok(x) => Some(x),
                    Err(d) => {
                        errors.push(d);
                        None
                    }
                },
                None => {
                    if required {
                        errors.push(ctx.diag(
                            v.span(),
                            &join(key, name),
                            format!("missing key `{name}` for dist = {kind:?}"),
                        ));
                    }
                    None
                }
            }
        };
    let d = match kind.as_str() {
        "fixed" => field("value", q, true, &mut errors).map(Dist::Fixed),
        "uniform" => {
            let (min, max) = (
                field("min", q, true, &mut errors),
                field("max", q, true, &mut errors),
            );
            match (min, max) {
                (Some(a), Some(b)) if a > b => {
                    errors.push(ctx.diag(
                        v.span(),
                        key,
                        format!("uniform min ({a}) is greater than max ({b})"),
                    ));
                    None
                }
                (Some(min), Some(max)) => Some(Dist::Uniform { min, max }),
                _ => None,
            }
        }
        "exponential" => field("mean", q, true, &mut errors).map(|mean| Dist::Exponential { mean }),
        "normal" => {
            let mean = field("mean", q, true, &mut errors);
            let sd = field("sd", q, true, &mut errors);
            let min = field("min", q, false, &mut errors);
            let max = field("max", q, false, &mut errors);
            match (mean, sd) {
                (Some(mean), Some(sd)) => Some(Dist::Normal { mean, sd, min, max }),
                _ => None,
            }
        }
        "lognormal" => {
            let median = field("median", q, true, &mut errors);
            let sigma = field("sigma", Quantity::Number, true, &mut errors);
            match (median, sigma) {
                (Some(m), _) if m <= 0.0 => {
                    errors.push(ctx.diag(
                        v.span(),
                        &join(key, "median"),
                        "lognormal median must be positive",
                    ));
                    None
                }
                (Some(median), Some(sigma)) => Some(Dist::LogNormal { median, sigma }),
                _ => None,
            }
        }
        _ => parse_empirical(ctx, key, t, v, q, &mut errors),
    };
    if let Some(d) = &d {
        check_params(ctx, key, v, d, &mut errors);
    }
    match d {
        Some(d) if errors.is_empty() => Ok(d),
        _ => Err(errors),
    }
}

fn non_negative(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    x: f64,
) -> Result<f64, Diagnostic> {
    if x < 0.0 {
        Err(ctx.diag(v.span(), key, format!("must not be negative (found {x})")))
    } else {
        Ok(x)
    }
}

fn check_params(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    d: &Dist,
    errors: &mut Vec<Diagnostic>,
) {
    let bad = match d {
        Dist::Fixed(x) => *x < 0.0,
        Dist::Uniform { min, .. } => *min < 0.0,
        Dist::Exponential { mean } => *mean <= 0.0,
        Dist::Normal { sd, .. } => *sd < 0.0,
        Dist::LogNormal { sigma, .. } => *sigma < 0.0,
        Dist::Empirical { values } => values.iter().any(|x| *x < 0.0),
    };
    if bad {
        errors.push(ctx.diag(
            v.span(),
            key,
            "distribution parameters out of range (negative values, zero mean or negative spread)",
        ));
    }
}

fn parse_empirical(
    ctx: &SourceCtx<'_>,
    key: &str,
    t: &toml::de::DeTable<'_>,
    v: &Spanned<DeValue<'_>>,
    q: Quantity,
    errors: &mut Vec<Diagnostic>,
) -> Option<Dist> {
    let mut values = Vec::new();
    if let Some(arr) = value::get(t, "values") {
        match arr.get_ref() {
            DeValue::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    match value::quantity(ctx, &format!("{}.{i}", join(key, "values")), item, q) {
                        Ok(x) => values.push(x),
                        Err(d) => errors.push(d),
                    }
                }
            }
            other => errors.push(ctx.diag(
                arr.span(),
                &join(key, "values"),
                format!(
                    "found {}, expected an array of values",
                    value::type_name(other)
                ),
            )),
        }
    } else if let Some(p) = value::get(t, "csv") {
        let rel = match value::string(ctx, &join(key, "csv"), p) {
            Ok(s) => s,
            Err(d) => {
                errors.push(d);
                return None;
            }
        };
        let path = ctx.base_dir.join(&rel);
        match super::file::read_text_limited(&path) {
            Ok(text) => {
                for (n, line) in text.lines().enumerate() {
                    let cell = line.split(',').next().unwrap_or("").trim();
                    if cell.is_empty() || cell.starts_with('#') {
                        continue;
                    }
                    match super::units::parse_str(q, cell) {
                        Ok(x) => values.push(x),
                        // A header line is allowed as the first line only.
                        Err(_) if n == 0 => {}
                        Err(m) => errors.push(Diagnostic {
                            file: path.clone(),
                            line: n + 1,
                            column: 1,
                            key: join(key, "csv"),
                            message: m,
                        }),
                    }
                }
            }
            Err(e) => errors.push(ctx.diag(
                p.span(),
                &join(key, "csv"),
                format!("cannot read {}: {e}", path.display()),
            )),
        }
    } else {
        errors.push(ctx.diag(
            v.span(),
            key,
            "empirical distribution needs `values` or `csv`",
        ));
    }
    if values.is_empty() && errors.is_empty() {
        errors.push(ctx.diag(v.span(), key, "empirical distribution has no values"));
    }
    (!values.is_empty()).then_some(Dist::Empirical { values })
}
