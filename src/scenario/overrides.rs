//! `--set KEY=VALUE` overrides, applied to the parsed TOML tree before it is read, so
//! an overridden value goes through exactly the checks a value in the file does.
//!
//! KEY is a dotted path (`distribution_points.0.bandwidth`): numbers index arrays,
//! anything else names a table key (a segment may be quoted, `fleet.model."HP 800"`).
//! VALUE is a TOML value, or a plain string when it does not parse as one (`20Gbps`).
//! Missing table keys (and missing tables on the way) are created; an index out of
//! range or a path through a value that is not a table or array is an error.
//!
//! Override values are parsed out of the same text buffer as the file (see
//! `source.rs`), after its end; their spans therefore point past the file and are
//! mapped back to the override when diagnostics are reported.

use std::borrow::Cow;
use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::value::type_name;
use crate::diag::Diagnostic;

/// One `--set` argument, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Override {
    /// The argument as given, for messages.
    pub raw: String,
    /// The key as written (before `=`), trimmed.
    pub key: String,
    /// Path segments (quotes removed).
    pub path: Vec<String>,
    /// The text after the first `=`.
    pub value: String,
}

/// The pseudo file name diagnostics about an override carry.
pub(crate) fn override_file(raw: &str) -> PathBuf {
    PathBuf::from(format!("<--set {raw}>"))
}

/// A diagnostic about an override (line 0: it has no place in the file).
pub(crate) fn override_diag(raw: &str, key: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        file: override_file(raw),
        line: 0,
        column: 0,
        key: key.to_string(),
        message: message.into(),
    }
}

/// Where the value of `key` (a dotted path) came from, as a diagnostic carrying
/// `message`: for problems found after the scenario was read (a fleet too large for
/// memory, a task sequence that does not compile), which name a key but no place.
///
/// A value set on the command line is blamed on that `--set`, the last one of that key
/// or of a table holding it, never on the file it replaced; otherwise the key's line
/// and column in the file, or those of the nearest enclosing table that is written
/// there; otherwise the file alone.
pub fn blame(
    file: &std::path::Path,
    overrides: &[String],
    key: &str,
    message: impl Into<String>,
) -> Diagnostic {
    let message = message.into();
    let covers = |o: &Override| {
        key == o.key
            || key
                .strip_prefix(o.key.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
    };
    if let Some(o) = overrides
        .iter()
        .rev()
        .filter_map(|raw| parse(raw).ok())
        .find(|o| covers(o))
    {
        return override_diag(&o.raw, key, message);
    }
    let mut d = Diagnostic {
        file: file.to_path_buf(),
        line: 0,
        column: 0,
        key: key.to_string(),
        message,
    };
    let text = super::source::read_limited(file)
        .ok()
        .and_then(|b| super::source::decode(file, &b).ok());
    let (Some(text), Ok(path)) = (text, split_key(key)) else {
        return d;
    };
    let Ok(root) = DeTable::parse(&text) else {
        return d;
    };
    let mut table = Some(root.get_ref());
    let mut value: Option<&DeValue<'_>> = None;
    for seg in &path {
        let found = match (table, value) {
            (Some(t), _) => t
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == seg.as_str())
                .map(|(k, v)| (k.span(), v.get_ref())),
            (None, Some(DeValue::Array(a))) => seg
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i))
                .map(|v| (v.span(), v.get_ref())),
            _ => None,
        };
        let Some((span, v)) = found else { break };
        let (line, column) = crate::diag::line_col(&text, span.start);
        (d.line, d.column) = (line, column);
        table = match v {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
        value = Some(v);
    }
    d
}

/// Splits `KEY=VALUE`.
pub(crate) fn parse(raw: &str) -> Result<Override, Diagnostic> {
    let Some((key, value)) = raw.split_once('=') else {
        return Err(override_diag(
            raw,
            "",
            "expected KEY=VALUE, e.g. fleet.clients=1000 (no `=` found)",
        ));
    };
    let key = key.trim();
    let path = split_key(key).map_err(|m| override_diag(raw, key, m))?;
    Ok(Override {
        raw: raw.to_string(),
        key: key.to_string(),
        path,
        value: value.to_string(),
    })
}

/// Most segments a `--set` key may have. The deepest real key is a condition inside
/// nested groups of an inline task sequence (64 groups, 32 condition levels: under
/// 200 segments); a longer path can only create keys nothing reads, and would build
/// a tree so deep that walking or dropping it overflows the stack (fuzz regression
/// `scenario/set-key-30000-parts`).
const MAX_KEY_PARTS: usize = 256;

/// Splits a dotted key; `"..."` quotes a segment that contains dots or spaces.
fn split_key(key: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if cur.is_empty() && !quoted => {
                let mut s = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '"' {
                        closed = true;
                        break;
                    }
                    s.push(c);
                }
                if !closed {
                    return Err(format!("unterminated quote in key {key:?}"));
                }
                cur = s;
                quoted = true;
                if chars.peek().is_some_and(|&n| n != '.') {
                    return Err(format!(
                        "expected `.` after a quoted segment in key {key:?}"
                    ));
                }
            }
            '.' => {
                if cur.is_empty() && !quoted {
                    return Err(format!("empty segment in key {key:?}"));
                }
                if out.len() + 1 >= MAX_KEY_PARTS {
                    return Err(format!(
                        "key has more than {MAX_KEY_PARTS} dotted parts, expected a path \
                         such as fleet.clients"
                    ));
                }
                out.push(std::mem::take(&mut cur));
                quoted = false;
            }
            c => cur.push(c),
        }
    }
    if cur.is_empty() && !quoted {
        return Err(format!(
            "empty segment in key {key:?}, expected a dotted path such as fleet.clients"
        ));
    }
    out.push(cur.trim().to_string());
    Ok(out)
}

/// The value of an override, parsed from `text[range]` (the shared buffer) with its
/// spans shifted to point into that buffer. A value that is not valid TOML is a string.
pub(crate) fn value_at<'i>(text: &'i str, range: Range<usize>) -> Spanned<DeValue<'i>> {
    let slice = text.get(range.clone()).unwrap_or("");
    match DeValue::parse(slice) {
        Ok(v) => shift(v, range.start),
        Err(_) => Spanned::new(range, DeValue::String(Cow::Borrowed(slice))),
    }
}

fn shift_span(r: Range<usize>, by: usize) -> Range<usize> {
    r.start.saturating_add(by)..r.end.saturating_add(by)
}

/// Moves every span of a value by `by` bytes.
fn shift(v: Spanned<DeValue<'_>>, by: usize) -> Spanned<DeValue<'_>> {
    let span = shift_span(v.span(), by);
    let inner = match v.into_inner() {
        DeValue::Table(t) => {
            let mut out = DeTable::new();
            for (k, x) in t {
                let ks = shift_span(k.span(), by);
                out.insert(Spanned::new(ks, k.into_inner()), shift(x, by));
            }
            DeValue::Table(out)
        }
        DeValue::Array(a) => DeValue::Array(a.into_iter().map(|x| shift(x, by)).collect()),
        other => other,
    };
    Spanned::new(span, inner)
}

/// Sets `path` to `value` inside `root`. Keys created along the way get `span` (the
/// override's place in the buffer) so that diagnostics about them map to the override.
pub(crate) fn apply<'i>(
    root: &mut DeValue<'i>,
    path: &[String],
    value: Spanned<DeValue<'i>>,
    span: Range<usize>,
) -> Result<(), String> {
    set_in(root, path, value, span, String::new())
}

fn set_in<'i>(
    cur: &mut DeValue<'i>,
    path: &[String],
    value: Spanned<DeValue<'i>>,
    span: Range<usize>,
    walked: String,
) -> Result<(), String> {
    let Some((seg, rest)) = path.split_first() else {
        return Err("empty key".to_string());
    };
    let here = super::value::join(&walked, seg);
    let slot: &mut Spanned<DeValue<'i>> = match cur {
        DeValue::Table(t) => {
            if t.get(seg.as_str()).is_none() {
                let key = Spanned::new(span.clone(), Cow::Owned(seg.clone()));
                if rest.is_empty() {
                    t.insert(key, value);
                    return Ok(());
                }
                let table = Spanned::new(span.clone(), DeValue::Table(DeTable::new()));
                t.insert(key, table);
            }
            t.get_mut(seg.as_str())
                .ok_or_else(|| format!("cannot create `{here}`"))?
        }
        DeValue::Array(a) => {
            let len = a.len();
            let i: usize = seg.parse().map_err(|_| {
                format!("`{walked}` is an array, expected a numeric index, found {seg:?}")
            })?;
            a.get_mut(i).ok_or_else(|| {
                format!("index {i} is out of range: `{walked}` has {len} element(s)")
            })?
        }
        other => {
            return Err(format!(
                "`{walked}` is {}, not a table or an array, so it has no key {seg:?}",
                type_name(other)
            ));
        }
    };
    if rest.is_empty() {
        *slot = value;
        Ok(())
    } else {
        set_in(slot.get_mut(), rest, value, span, here)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> DeValue<'_> {
        DeValue::Table(DeTable::parse(text).expect("valid").into_inner())
    }

    fn set<'i>(root: &mut DeValue<'i>, buf: &'i str, key: &str) -> Result<(), String> {
        let o = parse(&format!("{key}=x")).map_err(|d| d.message)?;
        apply(root, &o.path, value_at(buf, 0..buf.len()), 0..buf.len())
    }

    fn at<'a, 'i>(v: &'a DeValue<'i>, path: &[&str]) -> Option<&'a DeValue<'i>> {
        let mut cur = v;
        for p in path {
            cur = match cur {
                DeValue::Table(t) => t.get(*p)?.get_ref(),
                DeValue::Array(a) => a.get(p.parse::<usize>().ok()?)?.get_ref(),
                _ => return None,
            };
        }
        Some(cur)
    }

    #[test]
    fn splits_keys_and_values() {
        let o = parse("fleet.model.\"HP 800.G1\"=2").expect("ok");
        assert_eq!(o.path, ["fleet", "model", "HP 800.G1"]);
        assert_eq!(o.value, "2");
        let o = parse("a.b= x=y").expect("ok");
        assert_eq!((o.path.len(), o.value.as_str()), (2, " x=y"));
        assert!(parse("fleet.clients").is_err());
        assert!(parse("fleet..clients=1").is_err());
        assert!(parse("=1").is_err());
        assert!(parse("fleet.=1").is_err());
        assert!(parse("\"open=1").is_err());
    }

    #[test]
    fn values_are_toml_or_strings() {
        let buf = "{ dist = \"fixed\", value = \"1h\" }|20Gbps|[1, 2]|false";
        let bars: Vec<usize> = buf.match_indices('|').map(|(i, _)| i).collect();
        assert_eq!(bars, [32, 39, 46]);
        let v = value_at(buf, 0..32);
        assert!(matches!(v.get_ref(), DeValue::Table(_)));
        // Spans are shifted into the buffer: `"fixed"` starts at byte 9.
        if let DeValue::Table(t) = v.get_ref() {
            assert_eq!(t.get("dist").map(|x| x.span().start), Some(9));
        }
        let s = value_at(buf, 33..39);
        assert_eq!(s.get_ref().as_str(), Some("20Gbps"));
        assert_eq!(s.span(), 33..39);
        assert!(matches!(value_at(buf, 40..46).get_ref(), DeValue::Array(a) if a.len() == 2));
        assert_eq!(value_at(buf, 47..52).get_ref().as_bool(), Some(false));
    }

    #[test]
    fn sets_scalars_nested_indexed_and_new_keys() {
        let text = "[fleet]\nclients = 1\n[[sites]]\nname = \"A\"\n[[sites]]\nname = \"B\"\n";
        let mut root = doc(text);
        set(&mut root, "7", "fleet.clients").expect("scalar");
        assert_eq!(
            at(&root, &["fleet", "clients"])
                .and_then(|v| v.as_integer())
                .map(|i| i.as_str().to_string()),
            Some("7".into())
        );
        set(&mut root, "\"C\"", "sites.1.name").expect("indexed");
        assert_eq!(
            at(&root, &["sites", "1", "name"]).and_then(|v| v.as_str()),
            Some("C")
        );
        set(&mut root, "\"2h\"", "sites.0.fallback.after").expect("created");
        assert_eq!(
            at(&root, &["sites", "0", "fallback", "after"]).and_then(|v| v.as_str()),
            Some("2h")
        );
        set(&mut root, "0.5", "fleet.language.1033").expect("numeric table key");
        assert!(at(&root, &["fleet", "language", "1033"]).is_some());
        set(&mut root, "true", "deployment.precache").expect("new table");
        assert_eq!(
            at(&root, &["deployment", "precache"]).and_then(|v| v.as_bool()),
            Some(true)
        );
    }

    #[test]
    fn bad_paths_are_errors() {
        let text = "[fleet]\nclients = 1\n[[sites]]\nname = \"A\"\n";
        let mut root = doc(text);
        let e = set(&mut root, "1", "sites.3.name").expect_err("range");
        assert!(
            e.contains("index 3 is out of range: `sites` has 1 element"),
            "{e}"
        );
        let e = set(&mut root, "1", "sites.first.name").expect_err("not an index");
        assert!(e.contains("expected a numeric index"), "{e}");
        let e = set(&mut root, "1", "fleet.clients.max").expect_err("through a scalar");
        assert!(e.contains("`fleet.clients` is an integer"), "{e}");
    }

    #[test]
    fn blame_goes_to_the_set_else_the_line_in_the_file() {
        let d = tempfile::tempdir().expect("tempdir");
        let f = d.path().join("s.toml");
        std::fs::write(
            &f,
            "name = \"x\"\n[fleet]\nclients = 5\n[[sites]]\nname = \"A\"\n[task_sequence]\ntemplate = \"t\"\n",
        )
        .expect("write");
        let at = |set: &[&str], key: &str| {
            let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
            let b = blame(&f, &set, key, "m");
            (b.file.to_string_lossy().into_owned(), b.line, b.column)
        };
        let file = f.to_string_lossy().into_owned();
        assert_eq!(at(&[], "fleet.clients"), (file.clone(), 3, 1));
        assert_eq!(at(&[], "task_sequence"), (file.clone(), 6, 2));
        assert_eq!(at(&[], "sites.0.name"), (file.clone(), 5, 1));
        // Missing keys take the nearest table that is there.
        assert_eq!(at(&[], "fleet.model"), (file.clone(), 2, 2));
        assert_eq!(
            at(&["fleet.clients=9", "seed=1"], "fleet.clients"),
            ("<--set fleet.clients=9>".into(), 0, 0)
        );
        assert_eq!(
            at(&["fleet={ clients = 9 }"], "fleet.clients").0,
            "<--set fleet={ clients = 9 }>"
        );
        assert_eq!(at(&["fleet.clientsx=9"], "fleet.clients"), (file, 3, 1));
    }

    #[test]
    fn keys_have_at_most_256_parts() {
        let long = |n: usize| vec!["a"; n].join(".");
        let mut root = doc("");
        set(&mut root, "1", &long(256)).expect("256 parts are accepted");
        let e = set(&mut root, "1", &long(257)).expect_err("257 parts");
        assert!(e.contains("more than 256 dotted parts"), "{e}");
        let e = split_key(&long(100_000)).expect_err("100000 parts");
        assert!(e.contains("more than 256"), "{e}");
    }
}
