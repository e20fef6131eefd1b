//! A reader over one TOML table of the scenario: optional keys with defaults, required
//! keys, and the integer, duration, size, rate and keyword readers that the sections
//! share. Every failure is pushed onto an error list and reading carries on, so one
//! pass reports every problem in the file.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::dist::parse_dist;
use super::model::Dist;
use super::units::{self, Quantity};
use super::value::{self, SourceCtx, join, type_name};
use crate::diag::Diagnostic;

/// A typed reader of one value: the shape of the functions in `value.rs`.
pub(crate) type Reader<'r, T> =
    &'r dyn Fn(&SourceCtx<'_>, &str, &Spanned<DeValue<'_>>) -> Result<T, Diagnostic>;

/// One table being read, with the dotted path used in diagnostics.
pub(crate) struct Section<'a, 'i> {
    /// Where the spans point.
    pub ctx: &'a SourceCtx<'a>,
    /// Dotted path of the table (`""` for the document root).
    pub path: String,
    /// The table.
    pub table: &'a DeTable<'i>,
    /// The table's span, used for keys that are missing.
    pub span: Range<usize>,
}

impl<'a, 'i> Section<'a, 'i> {
    /// The table inside `v`, or a diagnostic saying it is not one.
    pub fn new(
        ctx: &'a SourceCtx<'a>,
        path: &str,
        v: &'a Spanned<DeValue<'i>>,
    ) -> Result<Self, Diagnostic> {
        Ok(Section {
            ctx,
            path: path.to_string(),
            table: value::table(ctx, path, v)?,
            span: v.span(),
        })
    }

    /// Dotted path of a key of this table.
    pub fn key(&self, name: &str) -> String {
        join(&self.path, name)
    }

    /// The value of a key, if present.
    pub fn get(&self, name: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        value::get(self.table, name)
    }

    /// A diagnostic at the table itself (for missing keys and whole-table problems).
    pub fn diag_here(&self, key: &str, message: impl Into<String>) -> Diagnostic {
        self.ctx.diag(self.span.clone(), key, message)
    }

    /// Reports keys not in `allowed`.
    pub fn check_keys(&self, allowed: &[&str], errors: &mut Vec<Diagnostic>) {
        value::check_keys(self.ctx, &self.path, self.table, allowed, errors);
    }

    /// An optional key: `Some` when present and valid, `None` when absent or invalid
    /// (the error is pushed).
    pub fn opt<T>(
        &self,
        name: &str,
        read: Reader<'_, T>,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<T> {
        let v = self.get(name)?;
        match read(self.ctx, &self.key(name), v) {
            Ok(x) => Some(x),
            Err(d) => {
                errors.push(d);
                None
            }
        }
    }

    /// An optional key with a default (also used after an error: the caller's result
    /// is discarded then anyway, since the error list is not empty).
    pub fn or<T>(
        &self,
        name: &str,
        default: T,
        read: Reader<'_, T>,
        errors: &mut Vec<Diagnostic>,
    ) -> T {
        self.opt(name, read, errors).unwrap_or(default)
    }

    /// A required key: a missing one is reported at the table.
    pub fn required<T>(
        &self,
        name: &str,
        read: Reader<'_, T>,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<T> {
        if self.get(name).is_none() {
            errors.push(self.diag_here(&self.key(name), format!("missing required key `{name}`")));
            return None;
        }
        self.opt(name, read, errors)
    }

    /// A distribution of quantity `q`, or `default` when absent.
    pub fn dist(
        &self,
        name: &str,
        q: Quantity,
        default: Dist,
        errors: &mut Vec<Diagnostic>,
    ) -> Dist {
        match self.get(name) {
            None => default,
            Some(v) => match parse_dist(self.ctx, &self.key(name), v, q) {
                Ok(d) if dist_fits(&d) => d,
                Ok(_) => {
                    errors.push(self.ctx.diag(
                        v.span(),
                        &self.key(name),
                        format!(
                            "distribution parameters are too large, expected {}",
                            q.expected()
                        ),
                    ));
                    default
                }
                Err(mut es) => {
                    errors.append(&mut es);
                    default
                }
            },
        }
    }
}

/// Whether every parameter of a distribution is a finite value that also fits the
/// integer quantities of the model (the same limit as [`units::to_u64`]), so that
/// samples can be turned into times and sizes without overflow.
fn dist_fits(d: &Dist) -> bool {
    let ok = |x: f64| units::to_u64(x.abs()).is_ok();
    match d {
        Dist::Fixed(x) | Dist::Exponential { mean: x } => ok(*x),
        Dist::Uniform { min, max } => ok(*min) && ok(*max),
        Dist::Normal { mean, sd, min, max } => {
            ok(*mean) && ok(*sd) && min.is_none_or(ok) && max.is_none_or(ok)
        }
        Dist::LogNormal { median, sigma } => ok(*median) && sigma.is_finite(),
        Dist::Empirical { values } => values.iter().all(|x| ok(*x)),
    }
}

/// The tables of an array of tables (`[[sites]]`), each with its dotted path
/// (`sites.0`). Elements that are not tables are reported and skipped.
pub(crate) fn table_array<'a, 'i>(
    ctx: &'a SourceCtx<'a>,
    key: &str,
    v: &'a Spanned<DeValue<'i>>,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Section<'a, 'i>> {
    let DeValue::Array(items) = v.get_ref() else {
        errors.push(ctx.diag(
            v.span(),
            key,
            format!(
                "found {}, expected an array of tables ([[{key}]])",
                type_name(v.get_ref())
            ),
        ));
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(
            |(i, item)| match Section::new(ctx, &format!("{key}.{i}"), item) {
                Ok(s) => Some(s),
                Err(d) => {
                    errors.push(d);
                    None
                }
            },
        )
        .collect()
}

/// An exact integer (TOML integers only: a float such as `1e6` or a string is refused,
/// because counts and seeds must not be rounded silently).
pub(crate) fn integer(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<i128, Diagnostic> {
    match v.get_ref() {
        DeValue::Integer(i) => {
            let digits: String = i.as_str().chars().filter(|&c| c != '_').collect();
            i128::from_str_radix(&digits, i.radix())
                .map_err(|_| ctx.diag(v.span(), key, format!("integer {digits} is too large")))
        }
        other => Err(ctx.diag(
            v.span(),
            key,
            format!("found {}, expected an integer", type_name(other)),
        )),
    }
}

/// An integer in `[min, max]`, converted to the target type.
pub(crate) fn int_in<T: TryFrom<i128>>(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    min: i128,
    max: i128,
) -> Result<T, Diagnostic> {
    let x = integer(ctx, key, v)?;
    if x < min || x > max {
        return Err(ctx.diag(
            v.span(),
            key,
            format!("found {x}, expected an integer from {min} to {max}"),
        ));
    }
    T::try_from(x).map_err(|_| ctx.diag(v.span(), key, format!("{x} is out of range")))
}

/// The value as written, for messages (`"-15s"`, `-3`), so that users see their own
/// spelling rather than base units.
pub(crate) fn written(v: &Spanned<DeValue<'_>>) -> String {
    match v.get_ref() {
        DeValue::String(s) => format!("{s:?}"),
        DeValue::Integer(i) => i.to_string(),
        DeValue::Float(f) => f.to_string(),
        other => type_name(other).to_string(),
    }
}

/// A non-negative integer quantity in base units, with messages in the user's units.
fn whole(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    q: Quantity,
) -> Result<u64, Diagnostic> {
    let x = value::quantity(ctx, key, v, q)?;
    let what = match q {
        Quantity::Duration => "duration",
        Quantity::Size => "size",
        Quantity::Rate => "rate",
        Quantity::Number => "number",
    };
    if x < 0.0 {
        return Err(ctx.diag(
            v.span(),
            key,
            format!(
                "found {}, expected a {what} that is not negative",
                written(v)
            ),
        ));
    }
    units::to_u64(x).map_err(|_| {
        ctx.diag(
            v.span(),
            key,
            format!("found {}, which is too large for a {what}", written(v)),
        )
    })
}

/// A duration (microseconds), never negative.
pub(crate) fn duration(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<u64, Diagnostic> {
    whole(ctx, key, v, Quantity::Duration)
}

/// A duration that must be longer than zero (timeouts, intervals).
pub(crate) fn positive_duration(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<u64, Diagnostic> {
    positive(ctx, key, v, duration(ctx, key, v)?, "a duration")
}

/// A size (bytes), never negative.
pub(crate) fn size(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<u64, Diagnostic> {
    whole(ctx, key, v, Quantity::Size)
}

/// A size that must be more than zero (capacities).
pub(crate) fn positive_size(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<u64, Diagnostic> {
    positive(ctx, key, v, size(ctx, key, v)?, "a size")
}

/// A rate (bits/s) that must be more than zero: a link of 0 bit/s never finishes a
/// download.
pub(crate) fn positive_rate(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<u64, Diagnostic> {
    let x = whole(ctx, key, v, Quantity::Rate)?;
    positive(ctx, key, v, x, "a rate")
}

fn positive(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    x: u64,
    what: &str,
) -> Result<u64, Diagnostic> {
    if x == 0 {
        Err(ctx.diag(
            v.span(),
            key,
            format!("found 0, expected {what} greater than zero"),
        ))
    } else {
        Ok(x)
    }
}

/// A non-negative number (weights, shares).
pub(crate) fn non_negative(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<f64, Diagnostic> {
    let x = value::quantity(ctx, key, v, Quantity::Number)?;
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(ctx.diag(v.span(), key, format!("found {x}, expected a number >= 0")))
    }
}

/// One of a fixed set of keywords, mapped to its value; the message lists them all.
pub(crate) fn keyword<T: Copy>(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    options: &[(&str, T)],
) -> Result<T, Diagnostic> {
    let s = value::string(ctx, key, v)?;
    options
        .iter()
        .find(|(name, _)| *name == s)
        .map(|(_, x)| *x)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            ctx.diag(
                v.span(),
                key,
                format!("found {s:?}, expected one of: {}", names.join(", ")),
            )
        })
}

/// A list of strings (DP names, content ids), each with its span for later lookups.
pub(crate) fn string_list(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<Vec<(String, Range<usize>)>, Vec<Diagnostic>> {
    let DeValue::Array(items) = v.get_ref() else {
        return Err(vec![ctx.diag(
            v.span(),
            key,
            format!(
                "found {}, expected an array of strings",
                type_name(v.get_ref())
            ),
        )]);
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match value::string(ctx, &format!("{key}.{i}"), item) {
            Ok(s) => out.push((s, item.span())),
            Err(d) => errors.push(d),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
