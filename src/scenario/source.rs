//! The text a scenario is read from, and where its diagnostics end up.
//!
//! The file (UTF-8, BOM stripped) and the `--set` values share one buffer: the file
//! first, then each override value on its own line(s). Spans from either index into
//! that buffer, so every reader and every diagnostic works unchanged; at the end,
//! diagnostics on lines past the file are moved to the override they came from
//! (`<--set KEY=VALUE>`, line 0), which is the "side marker" the overrides need.

use std::ops::Range;
use std::path::Path;

pub(crate) use crate::input::file::{decode, read_limited, strip_bom};

use super::overrides::{self, Override};
use crate::diag::{Diagnostic, InputError, LineIndex, line_col};

/// One override placed in the buffer.
pub(crate) struct Slot {
    /// The override.
    pub ov: Override,
    /// Byte range of its value in the buffer.
    pub range: Range<usize>,
    /// 1-based lines of the buffer it occupies.
    lines: Range<usize>,
}

/// The shared buffer: the file's text followed by the override values.
pub(crate) struct Buffer {
    /// File text, a newline, then one override value per line.
    pub text: String,
    /// Length of the file's part.
    pub file_len: usize,
    /// Last line of the file's part.
    file_lines: usize,
    /// The overrides that could be split into KEY and VALUE, in order.
    pub slots: Vec<Slot>,
    /// Every override as given, for ordering their diagnostics.
    raw: Vec<String>,
}

impl Buffer {
    /// Builds the buffer; overrides that are not `KEY=VALUE` come back as errors.
    pub fn new(file_text: &str, overrides: &[String]) -> (Self, Vec<Diagnostic>) {
        let mut text = String::with_capacity(file_text.len() + 64);
        text.push_str(file_text);
        let file_len = text.len();
        let file_lines = line_col(&text, file_len).0;
        text.push('\n');
        let mut slots = Vec::new();
        let mut errors = Vec::new();
        for raw in overrides {
            match overrides::parse(raw) {
                Ok(ov) => {
                    let start = text.len();
                    text.push_str(&ov.value);
                    let range = start..text.len();
                    text.push('\n');
                    let first = line_col(&text, start).0;
                    let last = line_col(&text, range.end).0;
                    slots.push(Slot {
                        ov,
                        range,
                        lines: first..last + 1,
                    });
                }
                Err(d) => errors.push(d),
            }
        }
        (
            Buffer {
                text,
                file_len,
                file_lines,
                slots,
                raw: overrides.to_vec(),
            },
            errors,
        )
    }

    /// The file's part of the buffer.
    pub fn file_text(&self) -> &str {
        self.text.get(..self.file_len).unwrap_or_default()
    }

    /// Moves diagnostics located in an override's value to that override (and names
    /// the `--set` of a neighbouring key in those left in the file), then sorts and
    /// de-duplicates them (see [`finish`]).
    pub fn finish(&self, file: &Path, mut errors: Vec<Diagnostic>) -> InputError {
        for d in &mut errors {
            if d.file == file && d.line <= self.file_lines {
                overrides::name_sibling_sets(d, self.slots.iter().map(|s| &s.ov));
                continue;
            }
            if d.file != file {
                continue;
            }
            if let Some(s) = self.slots.iter().find(|s| s.lines.contains(&d.line)) {
                d.file = overrides::override_file(&s.ov.raw);
                d.line = 0;
                d.column = 0;
                if d.key.is_empty() {
                    d.key = s.ov.key.clone();
                }
            }
        }
        finish(file, &self.raw, errors)
    }
}

/// Orders diagnostics for reading: overrides first, in command-line order (they have
/// no line), then the scenario file by line and column, then other files (CSV, XML)
/// by name, line and column. Exact duplicates are dropped.
pub(crate) fn finish(file: &Path, overrides: &[String], mut errors: Vec<Diagnostic>) -> InputError {
    let override_files: Vec<_> = overrides
        .iter()
        .map(|r| overrides::override_file(r))
        .collect();
    let rank = |d: &Diagnostic| -> (u8, usize) {
        if let Some(i) = override_files.iter().position(|f| *f == d.file) {
            (0, i)
        } else if d.file == file {
            (1, 0)
        } else {
            (2, 0)
        }
    };
    errors.sort_by(|a, b| {
        let (ra, rb) = (rank(a), rank(b));
        ra.cmp(&rb)
            .then_with(|| {
                if ra.0 == 2 {
                    a.file.cmp(&b.file)
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .then(a.line.cmp(&b.line))
            .then(a.column.cmp(&b.column))
    });
    errors.dedup();
    InputError(errors)
}

/// A TOML syntax error, located by its span (the end of the text when it has none);
/// `lines` indexes `text`.
pub(crate) fn syntax_error(
    file: &Path,
    text: &str,
    lines: &LineIndex,
    e: &toml::de::Error,
) -> Diagnostic {
    let at = e.span().map(|s| s.start).unwrap_or(text.len());
    let msg = e.message().trim();
    let (line, column) = lines.line_col(text, at);
    Diagnostic {
        file: file.to_path_buf(),
        line,
        column,
        key: String::new(),
        message: format!("TOML syntax error: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_lines_map_back_to_the_override() {
        let overrides = vec![
            "fleet.clients=-3".to_string(),
            "nonsense".to_string(),
            "a.b=\"x\"".to_string(),
        ];
        let (buf, errs) = Buffer::new("[fleet]\nclients = 1", &overrides);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].file, Path::new("<--set nonsense>"));
        assert_eq!(buf.file_text(), "[fleet]\nclients = 1");
        assert_eq!(buf.text.get(buf.slots[0].range.clone()), Some("-3"));
        let f = Path::new("s.toml");
        let at = |off: usize| Diagnostic::at_offset(f, &buf.text, off, "", "m");
        let e = buf.finish(
            f,
            vec![
                at(buf.slots[1].range.start),
                at(3),
                at(buf.slots[0].range.start),
            ],
        );
        let files: Vec<String> = e.0.iter().map(|d| d.file.display().to_string()).collect();
        assert_eq!(
            files,
            ["<--set fleet.clients=-3>", "<--set a.b=\"x\">", "s.toml"]
        );
        assert_eq!(e.0[0].key, "fleet.clients");
        assert_eq!((e.0[2].line, e.0[2].column), (1, 4));
    }

    #[test]
    fn sorts_by_line_and_column_and_drops_duplicates() {
        let f = Path::new("s.toml");
        let d = |file: &str, line, column| Diagnostic {
            file: file.into(),
            line,
            column,
            key: String::new(),
            message: "m".into(),
        };
        let e = finish(
            f,
            &[],
            vec![
                d("s.toml", 3, 1),
                d("ts.xml", 1, 1),
                d("s.toml", 1, 9),
                d("s.toml", 3, 1),
            ],
        );
        let got: Vec<(String, usize, usize)> =
            e.0.iter()
                .map(|d| (d.file.display().to_string(), d.line, d.column))
                .collect();
        assert_eq!(
            got,
            [
                ("s.toml".to_string(), 1, 9),
                ("s.toml".to_string(), 3, 1),
                ("ts.xml".to_string(), 1, 1)
            ]
        );
    }
}
