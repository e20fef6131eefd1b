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
}
