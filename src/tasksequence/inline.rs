//! Inline task sequences in scenario TOML (`[[task_sequence.steps]]`): reading them into
//! a [`TaskSequence`] ([`parse`]) and printing a tree back in the same form
//! ([`to_toml`], what `fleetsim ts import` prints).
//!
//! The form mirrors the tree one to one, so that `parse(to_toml(t)) == t` for every
//! tree `parse` can produce and an imported export can be edited as TOML without
//! losing anything. Every problem is collected (not just the first) with the line
//! and column of the offending value, for `fleetsim validate`.
//!
//! ```toml
//! [task_sequence]
//! name = "Upgrade"
//! variables = { OSDSetupAdditionalUpgradeOptions = "/ReflectDrivers" }
//!
//! [[task_sequence.steps]]
//! type = "upgrade_os"
//! name = "Upgrade Operating System"
//! content = ["OSUPG-X64-1033"]
//! condition = { variable = "_SMSTSSetupRollback", op = "notEquals", value = "true" }
//! ```

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::tree::{MAX_RETRY_COUNT, Node, StepKind, TaskSequence};
use crate::diag::Diagnostic;
use crate::domain::Dist;
use crate::input::dist::parse_dist;
use crate::input::units::Quantity;
use crate::input::value::{self, SourceCtx, join, type_name};

mod condition;
mod steps;

/// Deepest nesting of groups accepted (as for XML import, [`super::xml::MAX_DEPTH`]).
pub const MAX_DEPTH: usize = super::xml::MAX_DEPTH;

/// Deepest nesting of conditions accepted.
pub const MAX_CONDITION_DEPTH: usize = super::xml::MAX_CONDITION_DEPTH;

/// The `type` of every step, as written in TOML.
pub const STEP_TYPES: &[&str] = &[
    "group",
    "download",
    "run",
    "powershell",
    "check_readiness",
    "set_variable",
    "set_dynamic_variables",
    "upgrade_os",
    "install_applications",
    "install_package",
    "install_updates",
    "restart",
    "remove",
    "sub_task_sequence",
    "timed",
];

const COMMON_KEYS: &[&str] = &[
    "type",
    "name",
    "description",
    "condition",
    "continue_on_error",
    "disabled",
    "retry_count",
    "success_codes",
];

/// The condition kinds: each condition table has exactly one of these keys.
const CONDITION_KINDS: &[&str] = &[
    "variable",
    "wql",
    "all",
    "any",
    "none",
    "os_version",
    "file",
    "folder",
    "registry",
    "software",
    "expression",
];

fn type_keys(t: &str) -> Option<&'static [&'static str]> {
    Some(match t {
        "group" => &["steps"],
        "download" => &["content", "variable"],
        "run" | "powershell" => &[
            "command",
            "package",
            "duration",
            "exit_codes",
            "output_variable",
        ],
        "check_readiness" => &[
            "free_disk",
            "memory",
            "processor_mhz",
            "require_ac",
            "require_wired",
            "require_network",
            "os_type",
            "os_architecture",
            "os_language",
            "uefi",
            "tpm_enabled",
            "tpm_activated",
        ],
        "set_variable" => &["variable", "value"],
        "set_dynamic_variables" => &["rules"],
        "upgrade_os" => &[
            "content",
            "scan_only",
            "ignore_dismissable",
            "additional_options",
            "edition_index",
            "product_key",
            "dynamic_update",
            "driver_content",
        ],
        "install_applications" => &["applications", "continue_on_error_per_app"],
        "install_package" => &["package", "program"],
        "install_updates" => &["mode"],
        "restart" => &["duration"],
        "remove" => &["what"],
        "sub_task_sequence" => &["package", "steps"],
        "timed" => &["step_type", "duration", "properties"],
        _ => return None,
    })
}

/// Reads the `[task_sequence]` table's inline form (`name`, `variables`, `steps`);
/// `template` and `xml` are the caller's. `key` is the table's dotted path, used to
/// name keys in diagnostics.
pub fn parse(
    ctx: &SourceCtx<'_>,
    key: &str,
    table: &DeTable<'_>,
) -> Result<TaskSequence, Vec<Diagnostic>> {
    let mut p = Reader {
        ctx: *ctx,
        errors: Vec::new(),
    };
    value::check_keys(
        ctx,
        key,
        table,
        &["template", "xml", "name", "variables", "steps", "overrides"],
        &mut p.errors,
    );
    let mut ts = TaskSequence {
        name: p.opt_string(table, key, "name").unwrap_or_default(),
        ..TaskSequence::default()
    };
    if let Some(v) = value::get(table, "variables") {
        ts.variables = p.text_table(&join(key, "variables"), v);
    }
    if let Some(v) = value::get(table, "steps") {
        ts.steps = p.steps(&join(key, "steps"), v, 0);
    }
    if p.errors.is_empty() {
        Ok(ts)
    } else {
        Err(p.errors)
    }
}

/// Prints a tree in the inline form, as a `[task_sequence]` table that [`parse`] reads
/// back to the same tree (see [`super::print`]).
pub fn to_toml(ts: &TaskSequence) -> String {
    super::print::to_toml(ts)
}

struct Reader<'c> {
    ctx: SourceCtx<'c>,
    errors: Vec<Diagnostic>,
}

type Val<'i> = Spanned<DeValue<'i>>;

impl Reader<'_> {
    fn err(&mut self, v: &Val<'_>, key: &str, msg: impl Into<String>) {
        let d = self.ctx.diag(v.span(), key, msg);
        self.errors.push(d);
    }

    fn ok<T>(&mut self, r: Result<T, Diagnostic>) -> Option<T> {
        r.map_err(|d| self.errors.push(d)).ok()
    }

    fn string(&mut self, key: &str, v: &Val<'_>) -> Option<String> {
        let r = value::string(&self.ctx, key, v);
        self.ok(r)
    }

    fn opt_string(&mut self, t: &DeTable<'_>, path: &str, name: &str) -> Option<String> {
        let v = value::get(t, name)?;
        self.string(&join(path, name), v)
    }

    fn opt_bool(&mut self, t: &DeTable<'_>, path: &str, name: &str) -> bool {
        let Some(v) = value::get(t, name) else {
            return false;
        };
        let r = value::boolean(&self.ctx, &join(path, name), v);
        self.ok(r).unwrap_or(false)
    }

    fn required_string(&mut self, t: &DeTable<'_>, tv: &Val<'_>, path: &str, name: &str) -> String {
        if value::get(t, name).is_none() {
            self.err(tv, &join(path, name), format!("missing key `{name}`"));
        }
        self.opt_string(t, path, name).unwrap_or_default()
    }

    fn integer(&mut self, key: &str, v: &Val<'_>) -> Option<i128> {
        match v.get_ref() {
            DeValue::Integer(i) => {
                let r = i128::from_str_radix(i.as_str(), i.radix()).ok();
                if r.is_none() {
                    self.err(v, key, "integer out of range");
                }
                r
            }
            other => {
                let m = format!("found {}, expected an integer", type_name(other));
                self.err(v, key, m);
                None
            }
        }
    }

    fn bounded<T: TryFrom<i128>>(&mut self, t: &DeTable<'_>, path: &str, name: &str) -> Option<T> {
        let v = value::get(t, name)?;
        let key = join(path, name);
        let n = self.integer(&key, v)?;
        let r = T::try_from(n).ok();
        if r.is_none() {
            self.err(v, &key, format!("{n} is out of range"));
        }
        r
    }

    fn strings(&mut self, key: &str, v: &Val<'_>) -> Vec<String> {
        match v.get_ref() {
            DeValue::String(s) => vec![s.to_string()],
            DeValue::Array(a) => a
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.string(&format!("{key}.{i}"), item))
                .collect(),
            other => {
                let m = format!("found {}, expected a list of strings", type_name(other));
                self.err(v, key, m);
                Vec::new()
            }
        }
    }

    fn opt_strings(&mut self, t: &DeTable<'_>, path: &str, name: &str) -> Vec<String> {
        match value::get(t, name) {
            Some(v) => self.strings(&join(path, name), v),
            None => Vec::new(),
        }
    }

    /// A table of `name = "text"`; integers and booleans are taken as their text.
    fn text_table(&mut self, key: &str, v: &Val<'_>) -> Vec<(String, String)> {
        let r = value::table(&self.ctx, key, v);
        let Some(t) = self.ok(r) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, item) in t.iter() {
            let name = k.get_ref().to_string();
            let text = match item.get_ref() {
                DeValue::String(s) => s.to_string(),
                DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
                    Ok(n) => n.to_string(),
                    Err(_) => {
                        self.err(item, &join(key, &name), "integer out of range");
                        continue;
                    }
                },
                DeValue::Boolean(b) => b.to_string(),
                other => {
                    let m = format!("found {}, expected a string", type_name(other));
                    self.err(item, &join(key, &name), m);
                    continue;
                }
            };
            out.push((name, text));
        }
        out
    }

    fn duration(&mut self, t: &DeTable<'_>, path: &str) -> Option<Dist> {
        let v = value::get(t, "duration")?;
        match parse_dist(&self.ctx, &join(path, "duration"), v, Quantity::Duration) {
            Ok(d) => Some(d),
            Err(ds) => {
                self.errors.extend(ds);
                None
            }
        }
    }

    /// A size in whole MB (ConfigMgr's unit for Check Readiness).
    fn megabytes(&mut self, key: &str, v: &Val<'_>) -> Option<u64> {
        let r = value::quantity(&self.ctx, key, v, Quantity::Size);
        let bytes = self.ok(r)?;
        let mb = (bytes / 1e6).round();
        // Up to 100 EB: beyond that "NMB" would not read back to the same N.
        if !(1.0..1.0e11).contains(&mb) {
            self.err(
                v,
                key,
                format!("found {bytes} bytes, expected at least 1MB (sizes such as \"20480MB\"; a bare number is bytes)"),
            );
            return None;
        }
        Some(mb as u64)
    }

    fn steps(&mut self, key: &str, v: &Val<'_>, depth: usize) -> Vec<Node> {
        match v.get_ref() {
            DeValue::Array(a) => a
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.node(&format!("{key}.{i}"), item, depth))
                .collect(),
            other => {
                let m = format!(
                    "found {}, expected an array of step tables",
                    type_name(other)
                );
                self.err(v, key, m);
                Vec::new()
            }
        }
    }

    fn node(&mut self, path: &str, v: &Val<'_>, depth: usize) -> Option<Node> {
        let r = value::table(&self.ctx, path, v);
        let t = self.ok(r)?;
        if depth >= MAX_DEPTH {
            self.err(
                v,
                path,
                format!("groups nested deeper than {MAX_DEPTH} levels"),
            );
            return None;
        }
        let Some(tv) = value::get(t, "type") else {
            let m = format!(
                "missing key `type`, expected one of: {}",
                STEP_TYPES.join(", ")
            );
            self.err(v, path, m);
            return None;
        };
        let ty = self.string(&join(path, "type"), tv)?;
        let Some(extra) = type_keys(&ty) else {
            let m = format!(
                "unknown step type {ty:?}, expected one of: {}",
                STEP_TYPES.join(", ")
            );
            self.err(tv, &join(path, "type"), m);
            return None;
        };
        let allowed: Vec<&str> = COMMON_KEYS.iter().chain(extra).copied().collect();
        value::check_keys(&self.ctx, path, t, &allowed, &mut self.errors);

        let mut node = Node::new(ty.clone(), StepKind::Group { steps: Vec::new() });
        if let Some(n) = self.opt_string(t, path, "name") {
            node.name = n;
        }
        node.description = self.opt_string(t, path, "description").unwrap_or_default();
        if let Some(c) = value::get(t, "condition") {
            node.condition = self.condition(&join(path, "condition"), c, 0);
        }
        node.continue_on_error = self.opt_bool(t, path, "continue_on_error");
        node.disabled = self.opt_bool(t, path, "disabled");
        node.retry_count = self.bounded(t, path, "retry_count").unwrap_or(0);
        if node.retry_count > MAX_RETRY_COUNT
            && let Some(v) = value::get(t, "retry_count")
        {
            let m = format!(
                "found {}, expected at most {MAX_RETRY_COUNT} retries",
                node.retry_count
            );
            self.err(v, &join(path, "retry_count"), m);
            node.retry_count = 0;
        }
        if let Some(sv) = value::get(t, "success_codes") {
            node.success_codes = self.codes(&join(path, "success_codes"), sv);
        }
        node.kind = self.kind(&ty, t, v, path, depth)?;
        Some(node)
    }

    fn codes(&mut self, key: &str, v: &Val<'_>) -> Vec<i64> {
        let DeValue::Array(a) = v.get_ref() else {
            let m = format!(
                "found {}, expected an array of integers",
                type_name(v.get_ref())
            );
            self.err(v, key, m);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in a.iter().enumerate() {
            let k = format!("{key}.{i}");
            if let Some(n) = self.integer(&k, item) {
                match i64::try_from(n) {
                    Ok(n) => out.push(n),
                    Err(_) => self.err(item, &k, format!("{n} is out of range")),
                }
            }
        }
        out
    }
}

/// An exit code written as decimal (possibly negative) or `0x` hex up to `u32::MAX`.
pub fn parse_code(s: &str) -> Option<i64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok().map(i64::from),
        None => s.parse::<i64>().ok(),
    }
}
