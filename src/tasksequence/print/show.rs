//! The tree display of `fleetsim ts show`: one line per group or step, indented by
//! depth, with its type, name, options, condition and the properties that drive the
//! simulation, so that an admin can check what the simulator will run.

use std::fmt::Write as _;

use super::{mode_name, remove_name, type_name};
use crate::domain::Dist;
use crate::tasksequence::tree::{
    CheckReadiness, Condition, Node, StepKind, TaskSequence, UpgradeOs, VarOp,
};

/// The indented tree, one line per group or step in execution order.
///
/// ```text
/// Task sequence "Upgrade OS"
///   group "Post-Processing"  if _SMSTSSetupRollback equals "false"
///     run "Collect logs" [continue on error]  : command "cmd /c exit 0"
/// ```
pub fn show(ts: &TaskSequence) -> String {
    let mut out = format!("Task sequence \"{}\"\n", ts.name);
    if !ts.variables.is_empty() {
        let vars: Vec<String> = ts
            .variables
            .iter()
            .map(|(k, v)| format!("{k} = \"{v}\""))
            .collect();
        let _ = writeln!(out, "  variables: {}", vars.join(", "));
    }
    for n in &ts.steps {
        line(&mut out, n, 1);
    }
    out
}

fn line(out: &mut String, n: &Node, depth: usize) {
    let _ = write!(
        out,
        "{}{} \"{}\"",
        "  ".repeat(depth),
        type_name(&n.kind),
        n.name
    );
    let mut opts = Vec::new();
    if n.disabled {
        opts.push("disabled".to_string());
    }
    if n.continue_on_error {
        opts.push("continue on error".into());
    }
    if n.retry_count > 0 {
        opts.push(format!("{} retries", n.retry_count));
    }
    if n.success_codes != [0, 3010] && !matches!(n.kind, StepKind::Group { .. }) {
        let codes: Vec<String> = n.success_codes.iter().map(i64::to_string).collect();
        opts.push(format!("success codes {}", codes.join(" ")));
    }
    if !opts.is_empty() {
        let _ = write!(out, " [{}]", opts.join(", "));
    }
    if let Some(c) = &n.condition {
        let _ = write!(out, "  if {}", describe_condition(c));
    }
    let props = properties(&n.kind);
    if !props.is_empty() {
        let _ = write!(out, "  : {}", props.join("; "));
    }
    out.push('\n');
    match &n.kind {
        StepKind::Group { steps } | StepKind::SubTaskSequence { steps, .. } => {
            for c in steps {
                line(out, c, depth + 1);
            }
        }
        _ => {}
    }
}

/// A duration (microseconds) as people write it: `90s`, `15m`, `1.5us`.
pub fn human_duration(us: f64) -> String {
    super::duration(us).trim_matches('"').to_string()
}

fn dist(d: &Dist) -> String {
    match d {
        Dist::Fixed(x) => human_duration(*x),
        Dist::Uniform { min, max } => {
            format!("uniform {}..{}", human_duration(*min), human_duration(*max))
        }
        Dist::Exponential { mean } => format!("exponential mean {}", human_duration(*mean)),
        Dist::Normal { mean, sd, .. } => format!(
            "normal mean {} sd {}",
            human_duration(*mean),
            human_duration(*sd)
        ),
        Dist::LogNormal { median, sigma } => {
            format!("lognormal median {} sigma {sigma}", human_duration(*median))
        }
        Dist::Empirical { values } => format!("empirical ({} values)", values.len()),
    }
}

fn properties(kind: &StepKind) -> Vec<String> {
    let mut p = Vec::new();
    match kind {
        StepKind::Group { steps } => {
            if steps.is_empty() {
                p.push("empty".into());
            }
        }
        StepKind::Download { content, variable } => {
            p.push(ids("content", content));
            if let Some(v) = variable {
                p.push(format!("paths in {v}01, {v}02..."));
            }
        }
        StepKind::Run {
            command,
            package,
            duration,
            exit_codes,
            output_variable,
            ..
        } => {
            if let Some(c) = command {
                p.push(format!("command \"{c}\""));
            }
            if let Some(x) = package {
                p.push(format!("package {x}"));
            }
            if let Some(d) = duration {
                p.push(format!("duration {}", dist(d)));
            }
            if !exit_codes.is_empty() {
                let codes: Vec<String> = exit_codes
                    .iter()
                    .map(|(c, w)| format!("{c}: {w}"))
                    .collect();
                p.push(format!("exit codes {}", codes.join(", ")));
            }
            if let Some(v) = output_variable {
                p.push(format!("output to {v}"));
            }
        }
        StepKind::CheckReadiness(c) => check_readiness(&mut p, c),
        StepKind::SetVariable { variable, value } => p.push(format!("{variable} = \"{value}\"")),
        StepKind::SetDynamicVariables { rules } => {
            for (c, vars) in rules {
                let vs: Vec<String> = vars.iter().map(|(k, v)| format!("{k} = \"{v}\"")).collect();
                match c {
                    Some(c) => p.push(format!(
                        "if {} then {}",
                        describe_condition(c),
                        vs.join(", ")
                    )),
                    None => p.push(format!("always {}", vs.join(", "))),
                }
            }
        }
        StepKind::UpgradeOs(u) => upgrade(&mut p, u),
        StepKind::InstallApplications {
            applications,
            continue_on_error_per_app,
        } => {
            p.push(ids("applications", applications));
            if *continue_on_error_per_app {
                p.push("continue if an application fails".into());
            }
        }
        StepKind::InstallPackage { package, program } => {
            if package.is_empty() {
                p.push("no package listed".into());
            } else {
                p.push(format!("package {package} program \"{program}\""));
            }
        }
        StepKind::InstallUpdates { mode } => p.push(format!("{} updates", mode_name(*mode))),
        StepKind::Restart { duration } => {
            if let Some(d) = duration {
                p.push(format!("duration {}", dist(d)));
            }
        }
        StepKind::Remove { what } => p.push(remove_name(*what).replace('_', " ")),
        StepKind::SubTaskSequence { package, .. } => p.push(format!("package {package}")),
        StepKind::Timed {
            step_type,
            duration,
            ..
        } => {
            p.push(format!("{step_type} (timed only)"));
            if let Some(d) = duration {
                p.push(format!("duration {}", dist(d)));
            }
        }
    }
    p
}

fn ids(what: &str, list: &[String]) -> String {
    if list.is_empty() {
        format!("no {what} listed")
    } else {
        format!("{what} {}", list.join(", "))
    }
}

fn check_readiness(p: &mut Vec<String>, c: &CheckReadiness) {
    match c.free_disk_mb {
        Some(0) => p.push("free disk >= 20480 MB (x64) / 16384 MB (x86)".into()),
        Some(mb) => p.push(format!("free disk >= {mb} MB")),
        None => {}
    }
    if let Some(mb) = c.memory_mb {
        p.push(format!("memory >= {mb} MB"));
    }
    if let Some(mhz) = c.processor_mhz {
        p.push(format!("processor >= {mhz} MHz"));
    }
    if c.require_ac {
        p.push("on AC power".into());
    }
    if c.require_wired {
        p.push("wired network".into());
    }
    if c.require_network {
        p.push("network connected".into());
    }
    if let Some(t) = &c.os_type {
        p.push(format!("OS type {t}"));
    }
    if let Some(a) = &c.os_architecture {
        p.push(format!("OS architecture {a}"));
    }
    if let Some(l) = c.os_language {
        p.push(format!("OS language {l}"));
    }
    if c.uefi {
        p.push("UEFI mode".into());
    }
    if c.tpm_enabled {
        p.push("TPM 2.0 enabled".into());
    }
    if c.tpm_activated {
        p.push("TPM 2.0 activated".into());
    }
}

fn upgrade(p: &mut Vec<String>, u: &UpgradeOs) {
    p.push(ids("content", &u.content));
    if u.scan_only {
        p.push("compatibility scan only".into());
    }
    if u.ignore_dismissable {
        p.push("ignore dismissable messages".into());
    }
    p.push(format!("edition {}", u.edition_index));
    if let Some(k) = &u.product_key {
        p.push(format!("product key {k}"));
    }
    if let Some(d) = &u.dynamic_update {
        p.push(format!("dynamic update {d}"));
    }
    if let Some(o) = &u.additional_options {
        p.push(format!("options \"{o}\""));
    }
    if !u.driver_content.is_empty() {
        p.push(format!("drivers {}", u.driver_content.join(", ")));
    }
}

/// A condition in words: `_SMSTSSetupRollback equals "false"`,
/// `(A equals "3" or A equals "8")`, `WMI "SELECT ..."`.
pub fn describe_condition(c: &Condition) -> String {
    match c {
        Condition::All(cs) if cs.len() > 1 => joined(cs, " and ", false),
        Condition::Any(cs) if cs.len() > 1 => joined(cs, " or ", false),
        other => describe(other),
    }
}

fn joined(cs: &[Condition], sep: &str, parens: bool) -> String {
    let parts: Vec<String> = cs.iter().map(describe).collect();
    if parens {
        format!("({})", parts.join(sep))
    } else {
        parts.join(sep)
    }
}

fn op_value(op: VarOp, value: &str) -> String {
    match op {
        VarOp::Exists | VarOp::NotExists if value.is_empty() => op.as_str().to_string(),
        _ => format!("{} \"{value}\"", op.as_str()),
    }
}

fn describe(c: &Condition) -> String {
    match c {
        Condition::Variable {
            variable,
            op,
            value,
        } => format!("{variable} {}", op_value(*op, value)),
        Condition::Wql { query, namespace } => match namespace {
            Some(ns) => format!("WMI \"{query}\" in {ns}"),
            None => format!("WMI \"{query}\""),
        },
        Condition::All(cs) => match cs.as_slice() {
            [] => "true".into(),
            [one] => describe(one),
            _ => joined(cs, " and ", true),
        },
        Condition::Any(cs) => match cs.as_slice() {
            [] => "false".into(),
            [one] => describe(one),
            _ => joined(cs, " or ", true),
        },
        Condition::None(cs) => match cs.as_slice() {
            [] => "true".into(),
            [one] => format!("not {}", describe(one)),
            _ => format!("not {}", joined(cs, " or ", true)),
        },
        Condition::OsVersion { op, version } => format!("OS version {}", op_value(*op, version)),
        Condition::File { path } => format!("file \"{path}\" exists"),
        Condition::Folder { path } => format!("folder \"{path}\" exists"),
        Condition::Registry {
            key,
            value_name,
            op,
            data,
        } => format!("registry \"{key}\\{value_name}\" {}", op_value(*op, data)),
        Condition::Software { product } => format!("software \"{product}\" installed"),
        Condition::Expression {
            expr_type,
            properties,
        } => {
            let short = expr_type
                .strip_prefix("SMS_TaskSequence_")
                .unwrap_or(expr_type);
            let props: Vec<String> = properties
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| format!("{k} = \"{v}\""))
                .collect();
            format!("{short} ({})", props.join(", "))
        }
    }
}
