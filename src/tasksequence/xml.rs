//! Import of exported ConfigMgr task sequences: the bare `<sequence>` document (the
//! `Sequence` property, as `Get-CMTaskSequence | Export` scripts write it) and the
//! console export's `object.xml` (a CIM `<INSTANCE CLASSNAME="SMS_TaskSequencePackage">`
//! whose `Sequence` property holds the sequence XML as CDATA or escaped text).
//!
//! Every group and step is kept: the types the simulator models map to their
//! [`StepKind`] (see `xml/steps.rs`), every other type becomes [`StepKind::Timed`]
//! with its properties. Errors carry the file's line and column (for an escaped
//! embedded sequence: the line and column of the property, plus the position inside
//! it) and the element's path, e.g. `sequence/group[Prepare]/step[Check Readiness]`.
//! Nothing is recursive without a depth cap ([`MAX_DEPTH`], [`MAX_CONDITION_DEPTH`]),
//! so hostile input cannot overflow the stack.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use roxmltree::{Document, Node as XNode, ParsingOptions};

use super::tree::{MAX_RETRY_COUNT, Node, StepKind, TaskSequence};
use crate::diag::{Diagnostic, InputError, LineIndex, line_col};

mod conditions;
mod steps;

use conditions::condition;

/// Deepest nesting of groups accepted. Real task sequences nest a handful of levels;
/// the cap keeps recursion shallow on any thread's stack, and at 64 every import can
/// be printed as TOML, whose reader refuses key paths of 80 parts.
pub const MAX_DEPTH: usize = 64;

/// Deepest nesting of condition operators accepted (each level is an inline table and
/// an array in the TOML form, which allows 80 levels of nesting in all).
pub const MAX_CONDITION_DEPTH: usize = 32;

/// Upper bound on XML nodes, to bound memory on hostile input (real exports have a
/// few thousand).
const NODES_LIMIT: u32 = 2_000_000;

/// Reads an export from a file: UTF-8 (with or without a byte order mark) or UTF-16
/// with a byte order mark, as PowerShell's `Out-File` writes by default.
pub fn import_file(path: &Path) -> Result<TaskSequence, InputError> {
    let bytes = crate::input::file::read_limited(path).map_err(|e| Diagnostic {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        key: String::new(),
        message: format!("cannot read the file: {e}"),
    })?;
    let text = decode(&bytes, path)?;
    import_str(&text, path)
}

/// Reads an export from text; `file` names it in diagnostics and gives the task
/// sequence its name when the export has none (a bare `<sequence>`).
pub fn import_str(text: &str, file: &Path) -> Result<TaskSequence, InputError> {
    let doc = parse_doc(text).map_err(|(offset, msg)| {
        InputError(vec![Diagnostic::at_offset(file, text, offset, "", msg)])
    })?;
    let lines = LineIndex::new(text);
    let loc = Loc {
        file,
        outer: text,
        outer_lines: &lines,
        map: Map::Exact(0),
    };
    let src = Src {
        loc,
        text,
        lines: &lines,
    };
    let mut errors = Vec::new();
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let root = doc.root_element();
    let ts = if root.has_tag_name("sequence") {
        Some(sequence(src, root, stem, &mut errors))
    } else if let Some(inst) = root.descendants().find(|n| {
        n.has_tag_name("INSTANCE") && n.attribute("CLASSNAME") == Some("SMS_TaskSequencePackage")
    }) {
        wrapper(src, inst, stem, &mut errors)
    } else if let Some(seq) = root.descendants().find(|n| n.has_tag_name("sequence")) {
        Some(sequence(src, seq, stem, &mut errors))
    } else {
        errors.push(src.diag(
            root,
            root.tag_name().name(),
            format!(
                "found <{}>, expected a <sequence> document or an SMS_TaskSequencePackage export (object.xml)",
                root.tag_name().name()
            ),
        ));
        None
    };
    match ts {
        Some(ts) if errors.is_empty() => Ok(ts),
        _ => Err(InputError(errors)),
    }
}

/// Decodes file bytes; invalid UTF-8 is an error at the line and column where it starts.
fn decode(bytes: &[u8], file: &Path) -> Result<String, InputError> {
    let err = |prefix: &str, msg: String| {
        let (line, column) = line_col(prefix, prefix.len());
        InputError(vec![Diagnostic {
            file: file.to_path_buf(),
            line,
            column,
            key: String::new(),
            message: msg,
        }])
    };
    let utf16 = |body: &[u8], le: bool| -> Result<String, InputError> {
        let units = body.chunks(2).map(|c| match (c, le) {
            ([a, b], true) => u16::from_le_bytes([*a, *b]),
            ([a, b], false) => u16::from_be_bytes([*a, *b]),
            // An odd trailing byte: not a whole code unit; decoded as an error below.
            _ => 0xDC00,
        });
        let mut out = String::with_capacity(body.len() / 2);
        for c in char::decode_utf16(units) {
            match c {
                Ok(c) => out.push(c),
                Err(_) => {
                    return Err(err(
                        &out,
                        "invalid UTF-16 (the file starts with a UTF-16 byte order mark)".into(),
                    ));
                }
            }
        }
        Ok(out)
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        _ => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => {
                let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
                let prefix = std::str::from_utf8(good).unwrap_or_default();
                Err(err(
                    prefix,
                    format!(
                        "invalid UTF-8 at byte {}: an export must be UTF-8, or UTF-16 with a byte order mark",
                        e.valid_up_to()
                    ),
                ))
            }
        },
    }
}

/// Parses a document, or gives the byte offset and message of the first error.
fn parse_doc(text: &str) -> Result<Document<'_>, (usize, String)> {
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: NODES_LIMIT,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, opts).map_err(|e| {
        let pos = e.pos();
        (
            offset_of(text, pos.row as usize, pos.col as usize),
            format!("malformed XML: {e}"),
        )
    })
}

/// Byte offset of a 1-based line and character column.
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text.get(start..).and_then(|r| r.find('\n')) {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = text.get(start..).unwrap_or_default();
    start
        + rest
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

/// How positions in the document being read map to the file.
#[derive(Debug, Clone, Copy)]
enum Map {
    /// The document's text is the file's text from this byte on.
    Exact(usize),
    /// The document was escaped inside the file: report this line and column, and
    /// the position inside the embedded text in the message.
    At(usize, usize),
}

#[derive(Debug, Clone, Copy)]
struct Loc<'a> {
    file: &'a Path,
    outer: &'a str,
    /// Index of `outer`: an export with thousands of errors is located in linear time.
    outer_lines: &'a LineIndex,
    map: Map,
}

/// The document being read and where it sits in the file.
#[derive(Debug, Clone, Copy)]
struct Src<'a> {
    loc: Loc<'a>,
    text: &'a str,
    /// Index of `text`.
    lines: &'a LineIndex,
}

impl<'a> Src<'a> {
    fn at(&self, offset: usize, key: &str, msg: impl Into<String>) -> Diagnostic {
        let msg = msg.into();
        let key = &short_key(key);
        match self.loc.map {
            Map::Exact(base) => {
                let (line, column) = self.loc.outer_lines.line_col(self.loc.outer, base + offset);
                Diagnostic {
                    file: self.loc.file.to_path_buf(),
                    line,
                    column,
                    key: key.to_string(),
                    message: msg,
                }
            }
            Map::At(line, column) => {
                let (il, ic) = self.lines.line_col(self.text, offset);
                Diagnostic {
                    file: self.loc.file.to_path_buf(),
                    line,
                    column,
                    key: key.to_string(),
                    message: format!("{msg} (at line {il}, column {ic} of the embedded XML)"),
                }
            }
        }
    }

    fn diag(&self, node: XNode<'_, '_>, key: &str, msg: impl Into<String>) -> Diagnostic {
        self.at(node.range().start, key, msg)
    }

    /// Parses XML embedded as the text of `el`, keeping exact positions when the text
    /// is a CDATA section or unescaped, and the element's position otherwise. `lines`
    /// indexes `embedded.trim()`.
    fn nested<'t>(
        &self,
        el: XNode<'_, '_>,
        embedded: &'t str,
        lines: &'t LineIndex,
    ) -> Result<(Src<'t>, Document<'t>), Diagnostic>
    where
        'a: 't,
    {
        let trimmed = embedded.trim();
        let exact = el.children().find(|n| n.is_text()).and_then(|t| {
            let r = t.range();
            let raw = self.text.get(r.clone())?;
            let lead = raw.len() - raw.trim_start().len();
            let core = raw.trim();
            let (inner_start, body) = match core
                .strip_prefix("<![CDATA[")
                .and_then(|b| b.strip_suffix("]]>"))
            {
                Some(body) => (lead + 9, body),
                None => (lead, core),
            };
            let body_lead = body.len() - body.trim_start().len();
            (body.trim() == trimmed).then_some(r.start + inner_start + body_lead)
        });
        let map = match (self.loc.map, exact) {
            (Map::Exact(base), Some(start)) => Map::Exact(base + start),
            (Map::Exact(base), None) => {
                let (l, c) = line_col(self.loc.outer, base + el.range().start);
                Map::At(l, c)
            }
            (at, _) => at,
        };
        let src = Src {
            loc: Loc { map, ..self.loc },
            text: trimmed,
            lines,
        };
        match parse_doc(trimmed) {
            Ok(doc) => Ok((src, doc)),
            Err((off, msg)) => {
                Err(src.at(off, el.tag_name().name(), format!("embedded XML: {msg}")))
            }
        }
    }
}

/// An element path, with the middle left out when it is deep: the first two and last
/// four elements say where it is.
fn short_key(key: &str) -> String {
    let parts: Vec<&str> = key.split('/').collect();
    match parts.as_slice() {
        [a, b, .., w, x, y, z] if parts.len() > 8 => format!("{a}/{b}/.../{w}/{x}/{y}/{z}"),
        _ => key.to_string(),
    }
}

/// The console export: name from the `Name` property, steps from `Sequence`.
fn wrapper(
    src: Src<'_>,
    inst: XNode<'_, '_>,
    stem: String,
    errors: &mut Vec<Diagnostic>,
) -> Option<TaskSequence> {
    let prop = |name: &str| {
        inst.children()
            .find(|n| n.has_tag_name("PROPERTY") && n.attribute("NAME") == Some(name))
            .and_then(|p| p.children().find(|n| n.has_tag_name("VALUE")))
    };
    let name = prop("Name")
        .and_then(|v| v.text())
        .map(str::to_string)
        .unwrap_or(stem);
    let Some(value) = prop("Sequence") else {
        errors.push(src.diag(
            inst,
            "INSTANCE",
            "the SMS_TaskSequencePackage has no Sequence property",
        ));
        return None;
    };
    let embedded = value.text().unwrap_or_default();
    let lines = LineIndex::new(embedded.trim());
    let (inner, doc) = match src.nested(value, embedded, &lines) {
        Ok(x) => x,
        Err(d) => {
            errors.push(d);
            return None;
        }
    };
    let root = doc.root_element();
    if !root.has_tag_name("sequence") {
        errors.push(inner.diag(
            root,
            "Sequence",
            format!("found <{}>, expected <sequence>", root.tag_name().name()),
        ));
        return None;
    }
    Some(sequence(inner, root, name, errors))
}

fn sequence(
    src: Src<'_>,
    el: XNode<'_, '_>,
    name: String,
    errors: &mut Vec<Diagnostic>,
) -> TaskSequence {
    let mut ts = TaskSequence {
        name,
        ..TaskSequence::default()
    };
    let mut variables = Assignments::default();
    for child in el.children().filter(XNode::is_element) {
        match child.tag_name().name() {
            "referenceList" => {}
            "globalVarList" => {
                for v in child.children().filter(|n| n.has_tag_name("variable")) {
                    match v.attribute("name") {
                        Some(n) => variables.assign(n, v.text().unwrap_or_default()),
                        None => errors.push(src.diag(
                            v,
                            "sequence/globalVarList/variable",
                            "missing attribute `name`",
                        )),
                    }
                }
            }
            _ => {
                if let Some(n) = child_node(src, child, "sequence", 0, errors) {
                    ts.steps.push(n);
                }
            }
        }
    }
    ts.variables = variables.list;
    ts
}

/// An ordered list of variables being read: a name that repeats keeps its first place
/// and takes the last value, as successive assignments would (and the TOML form, whose
/// tables cannot repeat a key, can print it). Indexed by name: scanning the list for
/// each name made an export with 100,000 variables take 12 seconds.
#[derive(Default)]
struct Assignments {
    list: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl Assignments {
    fn assign(&mut self, name: &str, value: &str) {
        match self.index.get(name).and_then(|&i| self.list.get_mut(i)) {
            Some(slot) => slot.1 = value.to_string(),
            None => {
                self.index.insert(name.to_string(), self.list.len());
                self.list.push((name.to_string(), value.to_string()));
            }
        }
    }
}

/// Name/value pairs with each repeated name dropped after its first appearance (so the
/// TOML form, whose tables cannot repeat a key, can print them), in linear time.
fn first_of_each<'x>(pairs: impl IntoIterator<Item = (&'x str, &'x str)>) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    pairs
        .into_iter()
        .filter(|(k, _)| seen.insert(*k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A child of a sequence or group: a group, step or sub task sequence; `None` for the
/// group's own `<condition>` and for errors (which are pushed).
fn child_node(
    src: Src<'_>,
    el: XNode<'_, '_>,
    parent: &str,
    depth: usize,
    errors: &mut Vec<Diagnostic>,
) -> Option<Node> {
    match el.tag_name().name() {
        "group" | "step" | "subtasksequence" => node(src, el, parent, depth, errors),
        "condition" if parent != "sequence" => None,
        other => {
            errors.push(src.diag(
                el,
                &format!("{parent}/{other}"),
                format!(
                    "unexpected element <{other}>, expected <group>, <step> or <subtasksequence>"
                ),
            ));
            None
        }
    }
}

fn bool_attr(
    src: Src<'_>,
    el: XNode<'_, '_>,
    path: &str,
    name: &str,
    errors: &mut Vec<Diagnostic>,
) -> bool {
    match el.attribute(name) {
        None => false,
        Some(v) if v.trim().eq_ignore_ascii_case("true") => true,
        Some(v) if v.trim().eq_ignore_ascii_case("false") || v.trim().is_empty() => false,
        Some(v) => {
            errors.push(src.diag(
                el,
                path,
                format!("{name}={v:?}, expected \"true\" or \"false\""),
            ));
            false
        }
    }
}

fn node(
    src: Src<'_>,
    el: XNode<'_, '_>,
    parent: &str,
    depth: usize,
    errors: &mut Vec<Diagnostic>,
) -> Option<Node> {
    let tag = el.tag_name().name();
    let Some(name) = el.attribute("name") else {
        errors.push(src.diag(
            el,
            &format!("{parent}/{tag}"),
            format!("<{tag}> has no `name` attribute"),
        ));
        return None;
    };
    let path = format!("{parent}/{tag}[{name}]");
    if depth >= MAX_DEPTH {
        errors.push(src.diag(
            el,
            &path,
            format!("groups nested deeper than {MAX_DEPTH} levels"),
        ));
        return None;
    }
    let mut n = Node::new(name, StepKind::Group { steps: Vec::new() });
    n.description = el.attribute("description").unwrap_or_default().to_string();
    n.disabled = bool_attr(src, el, &path, "disable", errors);
    n.continue_on_error = bool_attr(src, el, &path, "continueOnError", errors);
    if let Some(r) = el.attribute("retryCount") {
        match r.trim().parse::<u32>() {
            Ok(r) if r <= MAX_RETRY_COUNT => n.retry_count = r,
            Ok(_) => errors.push(src.diag(
                el,
                &path,
                format!("retryCount={r:?}, expected at most {MAX_RETRY_COUNT} retries"),
            )),
            Err(_) => errors.push(src.diag(
                el,
                &path,
                format!("retryCount={r:?}, expected a whole number"),
            )),
        }
    }
    if let Some(list) = el.attribute("successCodeList") {
        let codes: Result<Vec<i64>, _> = list.split_whitespace().map(str::parse::<i64>).collect();
        match codes {
            Ok(c) => n.success_codes = c,
            Err(_) => errors.push(src.diag(
                el,
                &path,
                format!("successCodeList={list:?}, expected integers separated by spaces"),
            )),
        }
    }
    if let Some(c) = el.children().find(|c| c.has_tag_name("condition")) {
        n.condition = condition(src, c, &path, errors);
    }
    n.kind = if tag == "group" {
        let steps = el
            .children()
            .filter(XNode::is_element)
            .filter_map(|c| child_node(src, c, &path, depth + 1, errors))
            .collect();
        StepKind::Group { steps }
    } else {
        let Some(ty) = el.attribute("type") else {
            errors.push(src.diag(el, &path, format!("<{tag}> has no `type` attribute")));
            return None;
        };
        steps::kind(src, el, ty, &path, errors)?
    };
    Some(n)
}
