//! Condition tables: `{ variable = ..., op = ..., value = ... }`, `{ wql = ... }`,
//! `{ all = [...] }` and the other kinds of [`super::CONDITION_KINDS`].

use toml::de::{DeTable, DeValue};

use super::{CONDITION_KINDS, MAX_CONDITION_DEPTH, Reader, Val};
use crate::input::value::{self, join, type_name};
use crate::tasksequence::tree::{Condition, VarOp};

impl Reader<'_> {
    pub(super) fn condition(&mut self, path: &str, v: &Val<'_>, depth: usize) -> Option<Condition> {
        let r = value::table(&self.ctx, path, v);
        let t = self.ok(r)?;
        if depth > MAX_CONDITION_DEPTH {
            self.err(
                v,
                path,
                format!("condition nested deeper than {MAX_CONDITION_DEPTH} levels"),
            );
            return None;
        }
        let kinds: Vec<&str> = CONDITION_KINDS
            .iter()
            .copied()
            .filter(|k| value::get(t, k).is_some())
            .collect();
        let kind = match kinds.as_slice() {
            [k] => *k,
            [] => {
                let m = format!("a condition needs one of: {}", CONDITION_KINDS.join(", "));
                self.err(v, path, m);
                return None;
            }
            [a, b, ..] => {
                let m = format!(
                    "a condition has either `{a}` or `{b}`, not both; combine conditions with all, any or none"
                );
                self.err(v, path, m);
                return None;
            }
        };
        let allowed: &[&str] = match kind {
            "variable" => &["variable", "op", "value"],
            "wql" => &["wql", "namespace"],
            "os_version" => &["os_version", "op"],
            "registry" => &["registry", "value_name", "op", "data"],
            "expression" => &["expression", "properties"],
            other => std::slice::from_ref(CONDITION_KINDS.iter().find(|k| **k == other)?),
        };
        value::check_keys(&self.ctx, path, t, allowed, &mut self.errors);
        let s = |r: &mut Self, name: &str| r.opt_string(t, path, name).unwrap_or_default();
        Some(match kind {
            "variable" => Condition::Variable {
                variable: s(self, "variable"),
                op: self.op(t, v, path)?,
                value: s(self, "value"),
            },
            "wql" => Condition::Wql {
                query: s(self, "wql"),
                namespace: self.opt_string(t, path, "namespace"),
            },
            "all" | "any" | "none" => {
                let lv = value::get(t, kind)?;
                let key = join(path, kind);
                let list = match lv.get_ref() {
                    DeValue::Array(a) => a
                        .iter()
                        .enumerate()
                        .filter_map(|(i, c)| self.condition(&format!("{key}.{i}"), c, depth + 1))
                        .collect(),
                    other => {
                        let m = format!(
                            "found {}, expected an array of conditions",
                            type_name(other)
                        );
                        self.err(lv, &key, m);
                        return None;
                    }
                };
                match kind {
                    "all" => Condition::All(list),
                    "any" => Condition::Any(list),
                    _ => Condition::None(list),
                }
            }
            "os_version" => Condition::OsVersion {
                op: self.op(t, v, path)?,
                version: s(self, "os_version"),
            },
            "file" => Condition::File {
                path: s(self, "file"),
            },
            "folder" => Condition::Folder {
                path: s(self, "folder"),
            },
            "registry" => Condition::Registry {
                key: s(self, "registry"),
                value_name: s(self, "value_name"),
                op: self.op(t, v, path)?,
                data: s(self, "data"),
            },
            "software" => Condition::Software {
                product: s(self, "software"),
            },
            _ => Condition::Expression {
                expr_type: s(self, "expression"),
                properties: match value::get(t, "properties") {
                    Some(pv) => self.text_table(&join(path, "properties"), pv),
                    None => Vec::new(),
                },
            },
        })
    }

    fn op(&mut self, t: &DeTable<'_>, tv: &Val<'_>, path: &str) -> Option<VarOp> {
        let key = join(path, "op");
        let Some(v) = value::get(t, "op") else {
            self.err(tv, &key, "missing key `op`");
            return None;
        };
        let s = self.string(&key, v)?;
        let op = VarOp::parse(&s);
        if op.is_none() {
            let names: Vec<&str> = VarOp::ALL.iter().map(|o| o.as_str()).collect();
            let m = format!(
                "unknown operator {s:?}, expected one of: {} (any case)",
                names.join(", ")
            );
            self.err(v, &key, m);
        }
        op
    }
}
