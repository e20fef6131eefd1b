//! Typed readers over spanned TOML values: each turns one `DeValue` into a Rust value
//! or a [`Diagnostic`] that points at the value's line and column and names its key.
//!
//! Every section parser (the scenario's and the inline task sequence's) is written with
//! these, so error messages have one shape everywhere.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::units::{self, Quantity};
use crate::diag::{Diagnostic, LineIndex};

/// Where values come from: the file's name and text (spans index into `text`) and the
/// folder that relative paths resolve against.
#[derive(Debug, Clone, Copy)]
pub struct SourceCtx<'a> {
    /// File name shown in diagnostics.
    pub file: &'a Path,
    /// The text the spans index into.
    pub text: &'a str,
    /// Folder for relative paths (`csv = ...`, `xml = ...`).
    pub base_dir: &'a Path,
    /// Line index of `text`, so that a file with thousands of errors is located in
    /// linear time (`None`: each diagnostic scans the text, fine for a few).
    pub lines: Option<&'a LineIndex>,
}

impl SourceCtx<'_> {
    /// A diagnostic at the start of `span`.
    pub fn diag(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> Diagnostic {
        match self.lines {
            Some(idx) => {
                let (line, column) = idx.line_col(self.text, span.start);
                Diagnostic {
                    file: self.file.to_path_buf(),
                    line,
                    column,
                    key: key.to_string(),
                    message: message.into(),
                }
            }
            None => Diagnostic::at_offset(self.file, self.text, span.start, key, message),
        }
    }
}

/// Joins a dotted key path.
pub fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// TOML type name for messages.
pub fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The numeric value of a TOML integer or float.
pub fn as_f64(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Integer(i) => {
            let s: String = i.as_str().chars().filter(|&c| c != '_').collect();
            let (neg, digits) = match s.strip_prefix('-') {
                Some(rest) => (true, rest.to_string()),
                None => (false, s.trim_start_matches('+').to_string()),
            };
            let digits = digits
                .trim_start_matches("0x")
                .trim_start_matches("0o")
                .trim_start_matches("0b")
                .to_string();
            let mag = u128::from_str_radix(&digits, i.radix()).ok()? as f64;
            Some(if neg { -mag } else { mag })
        }
        DeValue::Float(f) => {
            let s: String = f.as_str().chars().filter(|&c| c != '_').collect();
            match s.as_str() {
                "inf" | "+inf" => Some(f64::INFINITY),
                "-inf" => Some(f64::NEG_INFINITY),
                "nan" | "+nan" | "-nan" => Some(f64::NAN),
                _ => s.parse().ok(),
            }
        }
        _ => None,
    }
}

/// A string value.
pub fn string(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<String, Diagnostic> {
    match v.get_ref() {
        DeValue::String(s) => Ok(s.to_string()),
        other => Err(ctx.diag(
            v.span(),
            key,
            format!("found {}, expected a string", type_name(other)),
        )),
    }
}

/// A boolean value.
pub fn boolean(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<bool, Diagnostic> {
    match v.get_ref() {
        DeValue::Boolean(b) => Ok(*b),
        other => Err(ctx.diag(
            v.span(),
            key,
            format!("found {}, expected true or false", type_name(other)),
        )),
    }
}

/// A quantity in base units (see [`units`]); strings carry units, numbers are bare.
pub fn quantity(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    q: Quantity,
) -> Result<f64, Diagnostic> {
    let r = match v.get_ref() {
        DeValue::String(s) if q != Quantity::Number => units::parse_str(q, s),
        DeValue::String(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("found {s:?}, expected {}", q.expected())),
        other => match as_f64(other) {
            Some(x) if x.is_finite() => units::from_number(q, x),
            Some(_) => Err(format!(
                "found a non-finite number, expected {}",
                q.expected()
            )),
            None => Err(format!(
                "found {}, expected {}",
                type_name(other),
                q.expected()
            )),
        },
    };
    r.map_err(|m| ctx.diag(v.span(), key, m))
}

/// A non-negative integer quantity (bytes, bits/s, microseconds, counts).
pub fn quantity_u64(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    q: Quantity,
) -> Result<u64, Diagnostic> {
    let x = quantity(ctx, key, v, q)?;
    units::to_u64(x).map_err(|m| ctx.diag(v.span(), key, m))
}

/// A probability in `[0, 1]`.
pub fn probability(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<f64, Diagnostic> {
    let x = quantity(ctx, key, v, Quantity::Number)?;
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(ctx.diag(
            v.span(),
            key,
            format!("found {x}, expected a probability between 0 and 1"),
        ))
    }
}

/// The table inside a value, or a diagnostic.
pub fn table<'a, 'i>(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &'a Spanned<DeValue<'i>>,
) -> Result<&'a DeTable<'i>, Diagnostic> {
    match v.get_ref() {
        DeValue::Table(t) => Ok(t),
        other => Err(ctx.diag(
            v.span(),
            key,
            format!("found {}, expected a table", type_name(other)),
        )),
    }
}

/// Reports every key of `t` not in `allowed` (all of them, not just the first).
pub fn check_keys(
    ctx: &SourceCtx<'_>,
    path: &str,
    t: &DeTable<'_>,
    allowed: &[&str],
    errors: &mut Vec<Diagnostic>,
) {
    for (k, _) in t.iter() {
        if !allowed.contains(&k.get_ref().as_ref()) {
            let hint = crate::diag::closest(k.get_ref(), allowed.iter().copied())
                .map(|c| format!(" (did you mean {c:?}?)"))
                .unwrap_or_default();
            errors.push(ctx.diag(
                k.span(),
                &join(path, k.get_ref()),
                format!("unknown key, expected one of: {}{hint}", allowed.join(", ")),
            ));
        }
    }
}

/// Looks a key up in a table.
pub fn get<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    t.iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}
