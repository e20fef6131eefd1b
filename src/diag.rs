//! Diagnostics for bad input: every error a user can cause by writing a scenario,
//! an XML export or a flag is one [`Diagnostic`], located in its file.
//!
//! Why a dedicated type rather than `anyhow`: `fleetsim validate` reports *all* errors
//! at once and the CLI maps them to exit code 2, so errors must be values that can be
//! collected, sorted and printed uniformly (`file:line:col: key: message`).

use std::fmt;
use std::path::PathBuf;

/// One problem found in user input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the input came from (`<--set>` for command-line overrides).
    pub file: PathBuf,
    /// 1-based line, 0 when unknown (a key that is missing has no line of its own:
    /// the line of the enclosing table is used instead).
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// Dotted path of the key or element, e.g. `distribution_points.0.bandwidth`.
    pub key: String,
    /// What was found and what was expected.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at a byte offset of `source`, converting the offset to line/column.
    pub fn at_offset(
        file: impl Into<PathBuf>,
        source: &str,
        offset: usize,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(source, offset);
        Diagnostic {
            file: file.into(),
            line,
            column,
            key: key.into(),
            message: message.into(),
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `source`.
/// Offsets past the end (or inside a multi-byte character) are clamped.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut off = offset.min(source.len());
    while off > 0 && !source.is_char_boundary(off) {
        off -= 1;
    }
    let before = &source[..off];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Where each line of a text starts, to locate many offsets in one text: [`line_col`]
/// scans from the top on every call, which made 50,000 diagnostics in a 500 KB file
/// take 9 seconds. [`LineIndex::line_col`] gives the same answer by a binary search,
/// plus a count of the characters before the offset on its line when that line is
/// not ASCII.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    /// Byte offset of the start of each line (the first is 0).
    starts: Vec<usize>,
    /// Whether each line is ASCII, so its columns are byte differences.
    ascii: Vec<bool>,
    /// Length of the text indexed, to notice a different text.
    len: usize,
}

impl LineIndex {
    /// Indexes `text` in one pass.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        let mut ascii = Vec::new();
        let mut line_ascii = true;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
                ascii.push(line_ascii);
                line_ascii = true;
            } else if !b.is_ascii() {
                line_ascii = false;
            }
        }
        ascii.push(line_ascii);
        LineIndex {
            starts,
            ascii,
            len: text.len(),
        }
    }

    /// Same as [`line_col`]`(text, offset)`; `text` is the text the index was built
    /// from (another text of a different length is located the slow way).
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        if text.len() != self.len {
            return line_col(text, offset);
        }
        let mut off = offset.min(text.len());
        while off > 0 && !text.is_char_boundary(off) {
            off -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= off).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = if self.ascii.get(line - 1).copied().unwrap_or(false) {
            off - start
        } else {
            text.get(start..off).map_or(0, |s| s.chars().count())
        };
        (line, column + 1)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A non-empty list of diagnostics; the error type of every input-reading function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError(pub Vec<Diagnostic>);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {d}")?;
        }
        Ok(())
    }
}

impl From<Diagnostic> for InputError {
    fn from(d: Diagnostic) -> Self {
        InputError(vec![d])
    }
}

/// The candidate closest to `word` by edit distance, when it is close enough to be
/// what was meant (a typo: at most a third of the word's length, at least 1, at
/// most 3 edits), for "did you mean" hints. Case is ignored; ties go to the first.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w: Vec<char> = word.to_lowercase().chars().collect();
    let limit = (w.len() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let d = edit_distance(&w, &c.to_lowercase().chars().collect::<Vec<_>>());
        if d <= limit && d > 0 && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance (insertions, deletions, substitutions), one row at a time.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = Vec::with_capacity(b.len() + 1);
        row.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let at = |k: usize| prev.get(k).copied().unwrap_or(usize::MAX);
            let sub = at(j).saturating_add(usize::from(ca != cb));
            let del = at(j + 1).saturating_add(1);
            let ins = row.last().copied().unwrap_or(usize::MAX).saturating_add(1);
            row.push(sub.min(del).min(ins));
        }
        prev = row;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let s = "a = 1\nbé = 2\n";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 6), (2, 1));
        // 'é' is two bytes; the '=' after "bé " is the 4th character.
        let eq = s.rfind('=').unwrap();
        assert_eq!(line_col(s, eq), (2, 4));
        assert_eq!(line_col(s, 10_000).0, 3);
    }

    /// The index agrees with the plain scan at every offset (mid-character and past
    /// the end included) of texts with empty, ASCII, non-ASCII and unterminated lines.
    #[test]
    fn line_index_agrees_with_line_col() {
        for s in [
            "",
            "\n",
            "a = 1\nbé = 2\n",
            "\n\nx\r\n\u{1F600}\u{1F600}z\né",
            "no newline at all",
        ] {
            let idx = LineIndex::new(s);
            for off in 0..s.len() + 3 {
                assert_eq!(idx.line_col(s, off), line_col(s, off), "{s:?} at {off}");
            }
            assert_eq!(idx.line_col("other text", 4), line_col("other text", 4));
        }
    }

    #[test]
    fn closest_finds_typos_only() {
        let keys = ["horizon", "seed", "bandwidth_interval"];
        assert_eq!(closest("horizn", keys), Some("horizon"));
        assert_eq!(closest("Seeds", keys), Some("seed"));
        assert_eq!(
            closest("bandwith_interval", keys),
            Some("bandwidth_interval")
        );
        assert_eq!(closest("clients", keys), None);
        assert_eq!(closest("seed", keys), None, "an exact match is no typo");
        assert_eq!(edit_distance(&['a', 'b'], &[]), 2);
    }

    proptest::proptest! {
        #[test]
        fn line_index_agrees_with_line_col_on_any_text(
            s in "(\\PC|\n|\r){0,60}",
            offs in proptest::collection::vec(0usize..300, 1..8),
        ) {
            let idx = LineIndex::new(&s);
            for off in offs {
                proptest::prop_assert_eq!(idx.line_col(&s, off), line_col(&s, off));
            }
        }
    }
}
