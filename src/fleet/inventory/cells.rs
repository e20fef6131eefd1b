//! Reading the cells of an inventory line and the values in them: CSV splitting,
//! sizes in the views' units, OS versions, TPM versions, booleans, subnets. Each
//! returns what was expected when a value is wrong; the reader adds the location.

use std::hash::{Hash, Hasher};

use crate::domain::{OsVersion, Tpm};
use crate::input::units::{self, Quantity};

/// One cell of a line: its text and the byte offset of its first character. The
/// text borrows the line unless the cell is quoted (an unquoted cell, the usual
/// one, costs no allocation).
pub(super) struct Cell<'l> {
    pub(super) start: usize,
    pub(super) text: std::borrow::Cow<'l, str>,
}

/// `v` in ASCII lower case, in `buf` (no allocation per cell); `""` when `v` is
/// longer than the buffer, which no keyword is, so it matches none and the error
/// quotes `v` itself.
pub(super) fn ascii_lower<'b>(v: &str, buf: &'b mut [u8; 40]) -> &'b str {
    let Some(dst) = buf.get_mut(..v.len()) else {
        return "";
    };
    dst.copy_from_slice(v.as_bytes());
    dst.make_ascii_lowercase();
    std::str::from_utf8(dst).unwrap_or("")
}

/// A hash of `name` ignoring case, without building its lower-case copy.
pub(super) fn name_hash(name: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        c.hash(&mut h);
    }
    h.finish()
}

pub(super) fn text_or_empty(buf: &[u8]) -> &str {
    std::str::from_utf8(buf).unwrap_or("")
}

pub(super) fn expected(v: &str, what: &str) -> String {
    format!("found {v:?}, expected {what}")
}

/// The cells of a CSV line (RFC 4180: `,` separates, `"` quotes, `""` is a quote).
/// `Err((byte, message))` for a quote left open or text after a closing quote.
pub(super) fn split(line: &str) -> Result<Vec<Cell<'_>>, (usize, String)> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        let mut text = String::new();
        if b.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match b.get(i) {
                    None => {
                        return Err((
                            start,
                            "a quoted cell is not closed on its line, expected a closing \" \
                             (a cell cannot span lines)"
                                .into(),
                        ));
                    }
                    Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                        text.push('"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(_) => {
                        let end = line[i..].find('"').map_or(line.len(), |k| i + k);
                        text.push_str(&line[i..end]);
                        i = end;
                    }
                }
            }
            match b.get(i) {
                None | Some(b',') => {}
                Some(_) => {
                    return Err((
                        i,
                        "text after a closing quote, expected , or the end of the line".into(),
                    ));
                }
            }
        } else {
            let end = line[i..].find(',').map_or(line.len(), |k| i + k);
            out.push(Cell {
                start,
                text: std::borrow::Cow::Borrowed(&line[i..end]),
            });
            i = end;
            if i >= b.len() {
                return Ok(out);
            }
            i += 1; // the comma
            continue;
        }
        out.push(Cell {
            start,
            text: std::borrow::Cow::Owned(text),
        });
        if i >= b.len() {
            return Ok(out);
        }
        i += 1; // the comma
    }
}

/// A size: with a unit (`120GB`, `8GiB`) as written, a bare number in `bare`-byte
/// units (the view's unit).
pub(super) fn size(v: &str, bare: f64, bare_unit: &str) -> Result<u64, String> {
    let t = v.trim();
    let is_bare = t.bytes().all(|c| c.is_ascii_digit() || c == b'.') && !t.is_empty();
    let bytes = if is_bare {
        t.parse::<f64>().map_err(|_| expected(v, "a number"))? * bare
    } else {
        if !t.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return Err(format!(
                "found {v:?}, expected a size: a number of {bare_unit} (the inventory's unit) \
                 or a number with a unit such as \"120GB\""
            ));
        }
        units::parse_str(Quantity::Size, t)?
    };
    units::to_u64(bytes).map_err(|m| format!("{v:?} {m}"))
}

/// The OS before the upgrade: a keyword or `Win32_OperatingSystem.Version`.
pub(super) fn os(v: &str) -> Result<OsVersion, String> {
    let mut buf = [0u8; 40];
    let l = ascii_lower(v, &mut buf);
    let k = match l {
        "win7" => Some(OsVersion::Win7),
        "win81" => Some(OsVersion::Win81),
        "win10" => Some(OsVersion::Win10),
        "server2012" => Some(OsVersion::Server2012),
        "server2012r2" => Some(OsVersion::Server2012R2),
        _ => None,
    };
    if let Some(k) = k {
        return Ok(k);
    }
    let mut parts = l.split('.').map(|p| p.parse::<u32>());
    let bad = || {
        expected(
            v,
            "win7, win81, win10, server2012, server2012r2, or a version such as 10.0.19045",
        )
    };
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(6)), Some(Ok(1)), _) => Ok(OsVersion::Win7),
        (Some(Ok(6)), Some(Ok(2)), _) => Ok(OsVersion::Server2012),
        (Some(Ok(6)), Some(Ok(3)), _) => Ok(OsVersion::Win81),
        (Some(Ok(10)), Some(Ok(0)), Some(Ok(b))) if b >= 22000 => Err(format!(
            "found {v:?}: build {b} is Windows 11 already, expected a device to upgrade"
        )),
        (Some(Ok(10)), Some(Ok(0)), _) => Ok(OsVersion::Win10),
        _ => Err(bad()),
    }
}

/// `2.0`, `1.2`, `none`, or `Win32_Tpm.SpecVersion` (`"2.0, 0, 1.38"`: the first
/// item is the highest version the TPM supports).
pub(super) fn tpm(v: &str) -> Result<Tpm, String> {
    let mut buf = [0u8; 40];
    let first = ascii_lower(v.split(',').next().unwrap_or("").trim(), &mut buf);
    match first {
        "2.0" | "2" => Ok(Tpm::V20),
        "1.2" => Ok(Tpm::V12),
        "none" | "0" => Ok(Tpm::None),
        _ => Err(expected(
            v,
            "2.0, 1.2 or none (or a SpecVersion such as \"2.0, 0, 1.38\")",
        )),
    }
}

pub(super) fn boolean(v: &str) -> Result<bool, String> {
    let mut buf = [0u8; 40];
    match ascii_lower(v, &mut buf) {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(expected(v, "true or false (or 1 / 0)")),
    }
}

/// An IPv4 subnet (`10.1.2.0/24`) or address: checked; devices with the same text
/// stand in the same subnet (BranchCache shares within it), while placement in a
/// site uses `site`, the boundary group the query resolves.
pub(super) fn subnet(v: &str) -> Result<(), String> {
    let (addr, bits) = match v.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (v, None),
    };
    let ok_addr = addr.parse::<std::net::Ipv4Addr>().is_ok();
    let ok_bits = bits.is_none_or(|b| b.parse::<u8>().is_ok_and(|n| n <= 32));
    if ok_addr && ok_bits {
        Ok(())
    } else {
        Err(expected(v, "an IPv4 subnet such as 10.1.2.0/24"))
    }
}
