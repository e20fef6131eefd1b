//! Quantities with units, as the contract writes them: durations (`90s`, `15m`, `8h`,
//! `3d`, `250ms`, bare seconds), sizes (`3.1GB` = 10^9, `3GiB` = 2^30, bare bytes) and
//! rates (`1Gbps`, `100Mbps`, bare bits/s).
//!
//! Parsers return the value in base units (microseconds, bytes, bits/s) as `f64` so that
//! distributions can hold fractional values; [`to_u64`] turns a value into an integer
//! quantity and refuses negatives, NaN and overflow instead of wrapping.

/// What a number means, which selects its units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Microseconds; written with `us`, `ms`, `s`, `m`, `h`, `d`, `w`, bare = seconds.
    Duration,
    /// Bytes; written with `B`, `KB`, `MB`, `GB`, `TB` (powers of 1000) or `KiB`...`TiB`.
    Size,
    /// Bits per second; written with `bps`, `Kbps`, `Mbps`, `Gbps`, `Tbps`.
    Rate,
    /// A plain number (probabilities, counts, MHz).
    Number,
}

impl Quantity {
    /// Human description of the accepted forms, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            Quantity::Duration => {
                "a duration such as \"90s\", \"15m\", \"8h\", \"3d\", \"250ms\" or a number of seconds"
            }
            Quantity::Size => {
                "a size such as \"3.1GB\", \"3GiB\", \"500MB\", \"800MiB\" or a number of bytes"
            }
            Quantity::Rate => {
                "a rate such as \"1Gbps\", \"100Mbps\", \"512Kbps\" or a number of bits/s"
            }
            Quantity::Number => "a number",
        }
    }

    /// Multiplier applied to a bare number (seconds -> microseconds for durations).
    pub fn bare_scale(self) -> f64 {
        match self {
            Quantity::Duration => 1e6,
            _ => 1.0,
        }
    }
}

/// Splits `"3.5GB"` into `(3.5, "GB")`; the number may be signed and use an exponent.
fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let bytes = s.as_bytes();
    let mut end = 0;
    let mut seen_digit = false;
    let mut seen_e = false;
    let mut prev: Option<u8> = None;
    while let Some(&c) = bytes.get(end) {
        let next = bytes.get(end + 1).copied();
        let ok = c.is_ascii_digit()
            || c == b'.'
            || c == b'_'
            || ((c == b'+' || c == b'-') && matches!(prev, None | Some(b'e' | b'E')))
            || ((c == b'e' || c == b'E')
                && seen_digit
                && !seen_e
                && next.is_some_and(|n| n.is_ascii_digit() || matches!(n, b'+' | b'-')));
        if !ok {
            break;
        }
        if c.is_ascii_digit() {
            seen_digit = true;
        }
        if c == b'e' || c == b'E' {
            seen_e = true;
        }
        prev = Some(c);
        end += 1;
    }
    if !seen_digit {
        return None;
    }
    // `end` stops at an ASCII byte or the end, so both halves are valid str slices.
    let (head, tail) = s.split_at_checked(end)?;
    let num: String = head.chars().filter(|&c| c != '_').collect();
    let v: f64 = num.parse().ok()?;
    Some((v, tail.trim()))
}

fn unit_scale(q: Quantity, unit: &str) -> Option<f64> {
    if unit.is_empty() {
        return Some(q.bare_scale());
    }
    match q {
        Quantity::Duration => Some(match unit {
            "us" | "µs" => 1.0,
            "ms" => 1e3,
            "s" | "sec" => 1e6,
            "m" | "min" => 60e6,
            "h" => 3600e6,
            "d" => 86400e6,
            "w" => 7.0 * 86400e6,
            _ => return None,
        }),
        Quantity::Size => Some(match unit.to_ascii_lowercase().as_str() {
            "b" => 1.0,
            "kb" => 1e3,
            "mb" => 1e6,
            "gb" => 1e9,
            "tb" => 1e12,
            "kib" => 1024.0,
            "mib" => 1024.0 * 1024.0,
            "gib" => 1024.0 * 1024.0 * 1024.0,
            "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
            _ => return None,
        }),
        Quantity::Rate => Some(match unit.to_ascii_lowercase().as_str() {
            "bps" => 1.0,
            "kbps" => 1e3,
            "mbps" => 1e6,
            "gbps" => 1e9,
            "tbps" => 1e12,
            _ => return None,
        }),
        Quantity::Number => None,
    }
}

/// Parses a string quantity into base units. Negative values parse (the caller decides
/// whether they are allowed); unknown units and garbage are errors that say what was
/// expected.
pub fn parse_str(q: Quantity, s: &str) -> Result<f64, String> {
    let (v, unit) =
        split_number(s).ok_or_else(|| format!("found {s:?}, expected {}", q.expected()))?;
    let scale = unit_scale(q, unit)
        .ok_or_else(|| format!("unknown unit {unit:?} in {s:?}, expected {}", q.expected()))?;
    let out = v * scale;
    if !out.is_finite() {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(out)
}

/// Parses a bare number (TOML integer or float) into base units.
pub fn from_number(q: Quantity, v: f64) -> Result<f64, String> {
    let out = v * q.bare_scale();
    if !out.is_finite() {
        return Err(format!("{v} is out of range"));
    }
    Ok(out)
}

/// Converts a base-unit value to an integer quantity, refusing negatives, NaN and values
/// that do not fit (rather than wrapping or saturating silently).
pub fn to_u64(v: f64) -> Result<u64, String> {
    if v.is_nan() {
        return Err("is not a number".into());
    }
    if v < 0.0 {
        return Err(format!("must not be negative (found {v})"));
    }
    // 2^63 keeps sums of a few such values representable.
    if v >= 9.2e18 {
        return Err(format!("is too large ({v:e})"));
    }
    Ok(v.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_str(Quantity::Duration, "90s").unwrap(), 90e6);
        assert_eq!(parse_str(Quantity::Duration, "15m").unwrap(), 900e6);
        assert_eq!(parse_str(Quantity::Duration, "8h").unwrap(), 8.0 * 3600e6);
        assert_eq!(parse_str(Quantity::Duration, "3d").unwrap(), 3.0 * 86400e6);
        assert_eq!(parse_str(Quantity::Duration, "250ms").unwrap(), 250e3);
        assert_eq!(parse_str(Quantity::Duration, "12").unwrap(), 12e6);
        assert_eq!(from_number(Quantity::Duration, 1.5).unwrap(), 1.5e6);
        assert!(parse_str(Quantity::Duration, "5 parsecs").is_err());
        assert!(parse_str(Quantity::Duration, "s").is_err());
    }

    #[test]
    fn sizes_and_rates() {
        assert_eq!(parse_str(Quantity::Size, "3.1GB").unwrap(), 3.1e9);
        assert_eq!(
            parse_str(Quantity::Size, "3GiB").unwrap(),
            3.0 * 1073741824.0
        );
        assert_eq!(
            parse_str(Quantity::Size, "800MiB").unwrap(),
            800.0 * 1048576.0
        );
        assert_eq!(parse_str(Quantity::Size, "1_000").unwrap(), 1000.0);
        assert_eq!(parse_str(Quantity::Rate, "1Gbps").unwrap(), 1e9);
        assert_eq!(parse_str(Quantity::Rate, "512Kbps").unwrap(), 512e3);
        assert!(parse_str(Quantity::Rate, "1GB").is_err());
        assert_eq!(parse_str(Quantity::Size, "-1GB").unwrap(), -1e9);
        assert!(to_u64(-1e9).is_err());
        assert!(to_u64(1e30).is_err());
        assert!(to_u64(f64::NAN).is_err());
        assert_eq!(parse_str(Quantity::Size, "1e3MB").unwrap(), 1e9);
    }
}
