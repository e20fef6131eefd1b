//! Printing a task sequence: [`to_toml`], the scenario's inline form (what
//! `fleetsim ts import` prints, read back by [`super::inline::parse`]), and [`show`],
//! the indented tree of `fleetsim ts show`.
//!
//! `to_toml` is written so that parsing its output gives the same tree: durations are
//! printed in a unit that parses back to the identical `f64` (`"90s"`, `"15m"`, or
//! microseconds such as `"1.5us"`), numbers with Rust's shortest round-trip form, and
//! defaults are left out only where the reader supplies exactly that default.

use std::fmt::Write as _;

mod show;

pub use show::{describe_condition, human_duration, show};

use super::tree::{
    CheckReadiness, Condition, Node, RemoveWhat, StepKind, TaskSequence, UpgradeOs, VarOp,
};
use crate::domain::{Dist, UpdatesMode};

/// The inline TOML form of a whole task sequence, as a `[task_sequence]` table.
pub fn to_toml(ts: &TaskSequence) -> String {
    let mut out = String::from("[task_sequence]\n");
    kv(&mut out, "", "name", &quote(&ts.name));
    if !ts.variables.is_empty() {
        out.push_str("\n[task_sequence.variables]\n");
        for (k, v) in &ts.variables {
            kv(&mut out, "", &key(k), &quote(v));
        }
    }
    for n in &ts.steps {
        node_toml(&mut out, n, "task_sequence.steps", 0);
    }
    out
}

/// The TOML spelling of a step type.
pub fn type_name(kind: &StepKind) -> &'static str {
    match kind {
        StepKind::Group { .. } => "group",
        StepKind::Download { .. } => "download",
        StepKind::Run {
            powershell: true, ..
        } => "powershell",
        StepKind::Run { .. } => "run",
        StepKind::CheckReadiness(_) => "check_readiness",
        StepKind::SetVariable { .. } => "set_variable",
        StepKind::SetDynamicVariables { .. } => "set_dynamic_variables",
        StepKind::UpgradeOs(_) => "upgrade_os",
        StepKind::InstallApplications { .. } => "install_applications",
        StepKind::InstallPackage { .. } => "install_package",
        StepKind::InstallUpdates { .. } => "install_updates",
        StepKind::Restart { .. } => "restart",
        StepKind::Remove { .. } => "remove",
        StepKind::SubTaskSequence { .. } => "sub_task_sequence",
        StepKind::Timed { .. } => "timed",
    }
}

fn kv(out: &mut String, indent: &str, k: &str, v: &str) {
    let _ = writeln!(out, "{indent}{k} = {v}");
}

/// A TOML basic string.
pub(crate) fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(q, "\\u{:04X}", u32::from(c));
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// A key, bare when TOML allows it.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_string()
    } else {
        quote(k)
    }
}

fn list(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", parts.join(", "))
}

fn inline_table(items: &[(String, String)]) -> String {
    if items.is_empty() {
        return "{}".into();
    }
    let parts: Vec<String> = items
        .iter()
        .map(|(k, v)| format!("{} = {}", key(k), quote(v)))
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

/// A plain number: TOML float syntax for finite values, a string for the rest
/// (which the scenario's number reader parses back).
fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        quote(&x.to_string())
    }
}

/// A duration (microseconds) in the largest unit that holds it exactly.
pub fn duration(us: f64) -> String {
    if us == 0.0 {
        return "\"0s\"".into();
    }
    for (unit, scale) in [
        ("d", 86_400e6),
        ("h", 3_600e6),
        ("m", 60e6),
        ("s", 1e6),
        ("ms", 1e3),
    ] {
        let n = us / scale;
        if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15 && n * scale == us {
            return format!("\"{n}{unit}\"");
        }
    }
    // Debug is the shortest text that parses back to the same f64, with an exponent
    // for very large or small values.
    format!("\"{us:?}us\"")
}

fn dist(d: &Dist) -> String {
    match d {
        Dist::Fixed(x) => duration(*x),
        Dist::Uniform { min, max } => format!(
            "{{ dist = \"uniform\", min = {}, max = {} }}",
            duration(*min),
            duration(*max)
        ),
        Dist::Exponential { mean } => {
            format!("{{ dist = \"exponential\", mean = {} }}", duration(*mean))
        }
        Dist::Normal { mean, sd, min, max } => {
            let mut s = format!(
                "{{ dist = \"normal\", mean = {}, sd = {}",
                duration(*mean),
                duration(*sd)
            );
            if let Some(lo) = min {
                let _ = write!(s, ", min = {}", duration(*lo));
            }
            if let Some(hi) = max {
                let _ = write!(s, ", max = {}", duration(*hi));
            }
            s + " }"
        }
        Dist::LogNormal { median, sigma } => format!(
            "{{ dist = \"lognormal\", median = {}, sigma = {} }}",
            duration(*median),
            number(*sigma)
        ),
        Dist::Empirical { values } => {
            let v: Vec<String> = values.iter().map(|x| duration(*x)).collect();
            format!("{{ dist = \"empirical\", values = [{}] }}", v.join(", "))
        }
    }
}

/// A condition as an inline TOML table.
pub fn condition_toml(c: &Condition) -> String {
    let op = |o: &VarOp| quote(o.as_str());
    let many = |name: &str, cs: &[Condition]| {
        let parts: Vec<String> = cs.iter().map(condition_toml).collect();
        format!("{{ {name} = [{}] }}", parts.join(", "))
    };
    match c {
        Condition::Variable {
            variable,
            op: o,
            value,
        } => format!(
            "{{ variable = {}, op = {}, value = {} }}",
            quote(variable),
            op(o),
            quote(value)
        ),
        Condition::Wql { query, namespace } => match namespace {
            Some(ns) => format!("{{ wql = {}, namespace = {} }}", quote(query), quote(ns)),
            None => format!("{{ wql = {} }}", quote(query)),
        },
        Condition::All(cs) => many("all", cs),
        Condition::Any(cs) => many("any", cs),
        Condition::None(cs) => many("none", cs),
        Condition::OsVersion { op: o, version } => {
            format!("{{ os_version = {}, op = {} }}", quote(version), op(o))
        }
        Condition::File { path } => format!("{{ file = {} }}", quote(path)),
        Condition::Folder { path } => format!("{{ folder = {} }}", quote(path)),
        Condition::Registry {
            key: k,
            value_name,
            op: o,
            data,
        } => format!(
            "{{ registry = {}, value_name = {}, op = {}, data = {} }}",
            quote(k),
            quote(value_name),
            op(o),
            quote(data)
        ),
        Condition::Software { product } => format!("{{ software = {} }}", quote(product)),
        Condition::Expression {
            expr_type,
            properties,
        } => format!(
            "{{ expression = {}, properties = {} }}",
            quote(expr_type),
            inline_table(properties)
        ),
    }
}

fn node_toml(out: &mut String, n: &Node, table: &str, depth: usize) {
    let ind = "  ".repeat(depth);
    let i = ind.as_str();
    let _ = writeln!(out, "\n{i}[[{table}]]");
    kv(out, i, "type", &quote(type_name(&n.kind)));
    kv(out, i, "name", &quote(&n.name));
    if !n.description.is_empty() {
        kv(out, i, "description", &quote(&n.description));
    }
    if let Some(c) = &n.condition {
        kv(out, i, "condition", &condition_toml(c));
    }
    if n.continue_on_error {
        kv(out, i, "continue_on_error", "true");
    }
    if n.disabled {
        kv(out, i, "disabled", "true");
    }
    if n.retry_count != 0 {
        kv(out, i, "retry_count", &n.retry_count.to_string());
    }
    if n.success_codes != [0, 3010] {
        let c: Vec<String> = n.success_codes.iter().map(i64::to_string).collect();
        kv(out, i, "success_codes", &format!("[{}]", c.join(", ")));
    }
    let opt = |out: &mut String, k: &str, v: &Option<String>| {
        if let Some(v) = v {
            kv(out, i, k, &quote(v));
        }
    };
    let flag = |out: &mut String, k: &str, v: bool| {
        if v {
            kv(out, i, k, "true");
        }
    };
    let children = |out: &mut String, steps: &[Node]| {
        let sub = format!("{table}.steps");
        for c in steps {
            node_toml(out, c, &sub, depth + 1);
        }
    };
    match &n.kind {
        StepKind::Group { steps } => children(out, steps),
        StepKind::Download { content, variable } => {
            kv(out, i, "content", &list(content));
            opt(out, "variable", variable);
        }
        StepKind::Run {
            command,
            powershell: _,
            package,
            duration: d,
            exit_codes,
            output_variable,
        } => {
            opt(out, "command", command);
            opt(out, "package", package);
            if let Some(d) = d {
                kv(out, i, "duration", &dist(d));
            }
            if !exit_codes.is_empty() {
                let parts: Vec<String> = exit_codes
                    .iter()
                    .map(|(c, w)| format!("\"{c}\" = {}", number(*w)))
                    .collect();
                kv(out, i, "exit_codes", &format!("{{ {} }}", parts.join(", ")));
            }
            opt(out, "output_variable", output_variable);
        }
        StepKind::CheckReadiness(c) => check_readiness_toml(out, i, c),
        StepKind::SetVariable { variable, value } => {
            kv(out, i, "variable", &quote(variable));
            kv(out, i, "value", &quote(value));
        }
        StepKind::SetDynamicVariables { rules } => {
            let _ = writeln!(out, "{i}rules = [");
            for (c, vars) in rules {
                let mut parts = Vec::new();
                if let Some(c) = c {
                    parts.push(format!("condition = {}", condition_toml(c)));
                }
                parts.push(format!("variables = {}", inline_table(vars)));
                let _ = writeln!(out, "{i}  {{ {} }},", parts.join(", "));
            }
            let _ = writeln!(out, "{i}]");
        }
        StepKind::UpgradeOs(u) => upgrade_toml(out, i, u),
        StepKind::InstallApplications {
            applications,
            continue_on_error_per_app,
        } => {
            kv(out, i, "applications", &list(applications));
            flag(out, "continue_on_error_per_app", *continue_on_error_per_app);
        }
        StepKind::InstallPackage { package, program } => {
            kv(out, i, "package", &quote(package));
            kv(out, i, "program", &quote(program));
        }
        StepKind::InstallUpdates { mode } => kv(out, i, "mode", &quote(mode_name(*mode))),
        StepKind::Restart { duration: d } => {
            if let Some(d) = d {
                kv(out, i, "duration", &dist(d));
            }
        }
        StepKind::Remove { what } => kv(out, i, "what", &quote(remove_name(*what))),
        StepKind::SubTaskSequence { package, steps } => {
            kv(out, i, "package", &quote(package));
            children(out, steps);
        }
        StepKind::Timed {
            step_type,
            duration: d,
            properties,
        } => {
            kv(out, i, "step_type", &quote(step_type));
            if let Some(d) = d {
                kv(out, i, "duration", &dist(d));
            }
            for (k, v) in properties {
                kv(out, i, &format!("properties.{}", key(k)), &quote(v));
            }
        }
    }
}

fn check_readiness_toml(out: &mut String, i: &str, c: &CheckReadiness) {
    match c.free_disk_mb {
        Some(0) => kv(out, i, "free_disk", "true"),
        Some(mb) => kv(out, i, "free_disk", &format!("\"{mb}MB\"")),
        None => {}
    }
    if let Some(mb) = c.memory_mb {
        kv(out, i, "memory", &format!("\"{mb}MB\""));
    }
    if let Some(mhz) = c.processor_mhz {
        kv(out, i, "processor_mhz", &mhz.to_string());
    }
    for (k, v) in [
        ("require_ac", c.require_ac),
        ("require_wired", c.require_wired),
        ("require_network", c.require_network),
        ("uefi", c.uefi),
        ("tpm_enabled", c.tpm_enabled),
        ("tpm_activated", c.tpm_activated),
    ] {
        if v {
            kv(out, i, k, "true");
        }
    }
    if let Some(s) = &c.os_type {
        kv(out, i, "os_type", &quote(s));
    }
    if let Some(s) = &c.os_architecture {
        kv(out, i, "os_architecture", &quote(s));
    }
    if let Some(l) = c.os_language {
        kv(out, i, "os_language", &l.to_string());
    }
}

fn upgrade_toml(out: &mut String, i: &str, u: &UpgradeOs) {
    kv(out, i, "content", &list(&u.content));
    if u.scan_only {
        kv(out, i, "scan_only", "true");
    }
    if u.ignore_dismissable {
        kv(out, i, "ignore_dismissable", "true");
    }
    if let Some(s) = &u.additional_options {
        kv(out, i, "additional_options", &quote(s));
    }
    if u.edition_index != 1 {
        kv(out, i, "edition_index", &u.edition_index.to_string());
    }
    if let Some(s) = &u.product_key {
        kv(out, i, "product_key", &quote(s));
    }
    if let Some(s) = &u.dynamic_update {
        kv(out, i, "dynamic_update", &quote(s));
    }
    if !u.driver_content.is_empty() {
        kv(out, i, "driver_content", &list(&u.driver_content));
    }
}

/// The scenario spelling of an updates mode.
pub fn mode_name(m: UpdatesMode) -> &'static str {
    match m {
        UpdatesMode::Required => "required",
        UpdatesMode::All => "all",
        UpdatesMode::None => "none",
    }
}

/// The scenario spelling of a `remove` target.
pub fn remove_name(w: RemoveWhat) -> &'static str {
    match w {
        RemoveWhat::IncompatibleApps => "incompatible_apps",
        RemoveWhat::IncompatibleDrivers => "incompatible_drivers",
        RemoveWhat::ThirdPartySecurity => "third_party_security",
    }
}
