//! Text comparison as WMI and the task sequence engine do it: case-insensitive,
//! integers compared as numbers, SQL `LIKE` patterns; all without allocating.

use std::cmp::Ordering;

/// Folds a character for case-insensitive comparison without allocating.
pub(crate) fn fold(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// Case-insensitive lexicographic comparison.
pub(crate) fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.chars().map(fold).cmp(b.chars().map(fold))
}

/// An integer written in decimal, optionally signed, surrounded by optional blanks.
pub(crate) fn parse_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i128>().ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LikeTok {
    Any,
    One,
    Ch(char),
}

/// A compiled SQL `LIKE` pattern: `%` matches any run, `_` one character, everything
/// else itself, ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LikePattern(Vec<LikeTok>);

impl LikePattern {
    pub(crate) fn new(pattern: &str) -> Self {
        LikePattern(
            pattern
                .chars()
                .map(|c| match c {
                    '%' => LikeTok::Any,
                    '_' => LikeTok::One,
                    c => LikeTok::Ch(fold(c)),
                })
                .collect(),
        )
    }

    /// Greedy matching with one backtrack point (the last `%`): linear for most
    /// patterns, O(n*m) at worst, never recursive.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let pat = &self.0;
        let (mut si, mut pi) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        loop {
            if pat.get(pi) == Some(&LikeTok::Any) {
                pi += 1;
                star = Some((pi, si));
                continue;
            }
            let Some(c) = s.get(si..).and_then(|r| r.chars().next()) else {
                return pi == pat.len();
            };
            let ok = match pat.get(pi) {
                Some(LikeTok::One) => true,
                Some(LikeTok::Ch(p)) => *p == fold(c),
                _ => false,
            };
            if ok {
                si += c.len_utf8();
                pi += 1;
                continue;
            }
            match star {
                Some((sp, ss)) => {
                    let Some(skipped) = s.get(ss..).and_then(|r| r.chars().next()) else {
                        return false;
                    };
                    let next = ss + skipped.len_utf8();
                    star = Some((sp, next));
                    si = next;
                    pi = sp;
                }
                None => return false,
            }
        }
    }
}
