//! The tokenizer and recursive-descent parser of the WQL subset (grammar in the
//! parent module); nesting is capped at [`MAX_DEPTH`].

use super::text::{LikePattern, parse_int};
use super::wmi::{Class, Prop, class_by_name, prop_by_name};
use super::{CmpOp, Expr, Lit, MAX_DEPTH, Query, WqlError};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i128),
    Star,
    Comma,
    LParen,
    RParen,
    Op(CmpOp),
    Eof,
}

/// Parses a whole query.
pub(super) fn parse(text: &str) -> Result<Query, WqlError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        text,
        tokens,
        i: 0,
        class: None,
        unknown: None,
    };
    p.query()
}

fn char_pos(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |s| s.chars().count()) + 1
}

fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, WqlError> {
    let err = |byte: usize, message: String| WqlError {
        position: char_pos(text, byte),
        message,
    };
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            continue;
        }
        let single = match c {
            '*' => Some(Tok::Star),
            ',' => Some(Tok::Comma),
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '=' => Some(Tok::Op(CmpOp::Eq)),
            _ => None,
        };
        if let Some(t) = single {
            it.next();
            out.push((t, i));
            continue;
        }
        match c {
            '<' | '>' | '!' => {
                it.next();
                let next = it.peek().map(|&(_, n)| n);
                let op = match (c, next) {
                    ('<', Some('>')) | ('!', Some('=')) => Some(CmpOp::Ne),
                    ('<', Some('=')) => Some(CmpOp::Le),
                    ('>', Some('=')) => Some(CmpOp::Ge),
                    _ => None,
                };
                let op = match op {
                    Some(op) => {
                        it.next();
                        op
                    }
                    None if c == '<' => CmpOp::Lt,
                    None if c == '>' => CmpOp::Gt,
                    None => return Err(err(i, "found `!`, expected `!=`".into())),
                };
                out.push((Tok::Op(op), i));
            }
            '\'' | '"' => {
                it.next();
                let mut s = String::new();
                let mut closed = false;
                while let Some((_, ch)) = it.next() {
                    if ch == c {
                        closed = true;
                        break;
                    }
                    if ch == '\\' {
                        match it.peek().map(|&(_, n)| n) {
                            Some(n) if n == '\\' || n == '\'' || n == '"' => {
                                it.next();
                                s.push(n);
                                continue;
                            }
                            _ => {}
                        }
                    }
                    s.push(ch);
                }
                if !closed {
                    return Err(err(i, "unterminated string".into()));
                }
                out.push((Tok::Str(s), i));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let mut s = String::new();
                s.push(c);
                it.next();
                while let Some(&(_, d)) = it.peek() {
                    if d.is_ascii_alphanumeric() || d == '.' || d == '_' {
                        s.push(d);
                        it.next();
                    } else {
                        break;
                    }
                }
                match parse_int(&s) {
                    Some(n) => out.push((Tok::Int(n), i)),
                    None => {
                        return Err(err(
                            i,
                            format!("found {s:?}, expected an integer (reals are not supported)"),
                        ));
                    }
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut s = String::new();
                while let Some(&(_, d)) = it.peek() {
                    if d.is_alphanumeric() || d == '_' {
                        s.push(d);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push((Tok::Ident(s), i));
            }
            other => return Err(err(i, format!("unexpected character {other:?}"))),
        }
    }
    out.push((Tok::Eof, text.len()));
    Ok(out)
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<(Tok, usize)>,
    i: usize,
    class: Option<Class>,
    unknown: Option<String>,
}

enum Operand {
    Prop(Option<Prop>),
    Lit(Lit),
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        self.tokens.get(self.i).map_or(&Tok::Eof, |(t, _)| t)
    }

    fn pos(&self) -> usize {
        self.tokens.get(self.i).map_or(self.text.len(), |&(_, p)| p)
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.i < self.tokens.len() {
            self.i += 1;
        }
        t
    }

    fn error(&self, message: impl Into<String>) -> WqlError {
        WqlError {
            position: char_pos(self.text, self.pos()),
            message: message.into(),
        }
    }

    fn error_at(&self, byte: usize, message: &str) -> WqlError {
        WqlError {
            position: char_pos(self.text, byte),
            message: message.into(),
        }
    }

    fn describe(t: &Tok) -> String {
        match t {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(s) => format!("the string {s:?}"),
            Tok::Int(n) => format!("the number {n}"),
            Tok::Star => "`*`".into(),
            Tok::Comma => "`,`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Op(_) => "an operator".into(),
            Tok::Eof => "the end of the query".into(),
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), WqlError> {
        if self.is_kw(kw) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(format!(
                "found {}, expected {kw}",
                Self::describe(self.peek())
            )))
        }
    }

    fn ident(&mut self, what: &str) -> Result<String, WqlError> {
        match self.peek() {
            Tok::Ident(s) if !is_keyword(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            t => Err(self.error(format!("found {}, expected {what}", Self::describe(t)))),
        }
    }

    fn resolve(&mut self, name: &str) -> Option<Prop> {
        let class = self.class?;
        let p = prop_by_name(class, name);
        if p.is_none() && self.unknown.is_none() {
            self.unknown = Some(name.to_string());
        }
        p
    }

    fn query(&mut self) -> Result<Query, WqlError> {
        self.expect_kw("SELECT")?;
        let mut selected = Vec::new();
        if self.peek() == &Tok::Star {
            self.bump();
        } else {
            loop {
                selected.push(self.ident("a property name or `*`")?);
                if self.peek() == &Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        self.expect_kw("FROM")?;
        let class_name = self.ident("a class name")?;
        self.class = class_by_name(&class_name);
        for s in &selected {
            self.resolve(s);
        }
        let filter = if self.is_kw("WHERE") {
            self.bump();
            Some(self.or(0)?)
        } else {
            None
        };
        if self.peek() != &Tok::Eof {
            return Err(self.error(format!(
                "found {}, expected the end of the query",
                Self::describe(self.peek())
            )));
        }
        Ok(Query {
            class_name,
            class: self.class,
            unknown_property: self.unknown.take(),
            filter,
        })
    }

    fn or(&mut self, depth: usize) -> Result<Expr, WqlError> {
        let mut terms = vec![self.and(depth)?];
        while self.is_kw("OR") {
            self.bump();
            terms.push(self.and(depth)?);
        }
        Ok(flat(terms, Expr::Or))
    }

    fn and(&mut self, depth: usize) -> Result<Expr, WqlError> {
        let mut terms = vec![self.not(depth)?];
        while self.is_kw("AND") {
            self.bump();
            terms.push(self.not(depth)?);
        }
        Ok(flat(terms, Expr::And))
    }

    fn not(&mut self, depth: usize) -> Result<Expr, WqlError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        if self.is_kw("NOT") {
            self.bump();
            return Ok(Expr::Not(Box::new(self.not(depth + 1)?)));
        }
        if self.peek() == &Tok::LParen {
            self.bump();
            let e = self.or(depth + 1)?;
            if self.peek() != &Tok::RParen {
                return Err(self.error(format!(
                    "found {}, expected `)`",
                    Self::describe(self.peek())
                )));
            }
            self.bump();
            return Ok(e);
        }
        self.comparison()
    }

    fn operand(&mut self) -> Result<Operand, WqlError> {
        let t = self.peek().clone();
        let o = match t {
            Tok::Ident(s) if s.eq_ignore_ascii_case("TRUE") => Operand::Lit(Lit::Bool(true)),
            Tok::Ident(s) if s.eq_ignore_ascii_case("FALSE") => Operand::Lit(Lit::Bool(false)),
            Tok::Ident(s) if !is_keyword(&s) => Operand::Prop(self.resolve(&s)),
            Tok::Str(s) => Operand::Lit(Lit::Str {
                int: parse_int(&s),
                text: s.into_boxed_str(),
            }),
            Tok::Int(n) => Operand::Lit(Lit::Int(n)),
            other => {
                return Err(self.error(format!(
                    "found {}, expected a property name or a value",
                    Self::describe(&other)
                )));
            }
        };
        self.bump();
        Ok(o)
    }

    fn comparison(&mut self) -> Result<Expr, WqlError> {
        let start = self.pos();
        let left = self.operand()?;
        if self.is_kw("IS") {
            self.bump();
            let negated = if self.is_kw("NOT") {
                self.bump();
                true
            } else {
                false
            };
            self.expect_kw("NULL")?;
            return Ok(match left {
                Operand::Prop(Some(_)) => Expr::IsNull { negated },
                Operand::Prop(None) => Expr::Const(false),
                Operand::Lit(_) => Expr::Const(negated),
            });
        }
        let negated_like = if self.is_kw("NOT") {
            self.bump();
            if !self.is_kw("LIKE") {
                return Err(self.error(format!(
                    "found {}, expected LIKE after NOT",
                    Self::describe(self.peek())
                )));
            }
            true
        } else {
            false
        };
        if self.is_kw("LIKE") {
            self.bump();
            let pos = self.pos();
            let right = self.operand()?;
            let pattern = match right {
                Operand::Lit(Lit::Str { text, .. }) => LikePattern::new(&text),
                Operand::Lit(Lit::Int(n)) => LikePattern::new(&n.to_string()),
                _ => {
                    return Err(self.error_at(pos, "LIKE needs a string pattern"));
                }
            };
            let e = match left {
                Operand::Prop(Some(prop)) => Expr::Like { prop, pattern },
                Operand::Prop(None) => Expr::Const(false),
                Operand::Lit(_) => {
                    return Err(self.error_at(start, "LIKE needs a property on its left"));
                }
            };
            return Ok(if negated_like {
                Expr::Not(Box::new(e))
            } else {
                e
            });
        }
        let op = match self.peek() {
            Tok::Op(op) => *op,
            t => {
                return Err(self.error(format!(
                    "found {}, expected a comparison (=, <>, !=, <, >, <=, >=, LIKE, IS)",
                    Self::describe(t)
                )));
            }
        };
        self.bump();
        let right = self.operand()?;
        Ok(match (left, right) {
            (Operand::Prop(Some(prop)), Operand::Lit(lit)) => Expr::Cmp { prop, op, lit },
            (Operand::Lit(lit), Operand::Prop(Some(prop))) => Expr::Cmp {
                prop,
                op: op.flip(),
                lit,
            },
            (Operand::Prop(None), Operand::Lit(_)) | (Operand::Lit(_), Operand::Prop(None)) => {
                Expr::Const(false)
            }
            (Operand::Prop(_), Operand::Prop(_)) => {
                return Err(self.error_at(start, "comparing two properties is not supported"));
            }
            (Operand::Lit(_), Operand::Lit(_)) => {
                return Err(self.error_at(start, "a comparison needs a property on one side"));
            }
        })
    }
}

fn is_keyword(s: &str) -> bool {
    [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "LIKE", "IS", "NULL",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(s))
}

/// One term as itself, several as the list operator `op` (flat, so evaluating and
/// dropping take no stack per term).
fn flat(mut terms: Vec<Expr>, op: fn(Vec<Expr>) -> Expr) -> Expr {
    match terms.len() {
        1 => terms.pop().unwrap_or_else(|| op(Vec::new())),
        _ => op(terms),
    }
}
