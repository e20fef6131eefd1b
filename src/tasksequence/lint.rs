//! Checks of a task sequence for `fleetsim validate`: what would make the simulation
//! wrong (errors) and what it simplifies (notes), each naming the step.
//!
//! Errors: a product key that is not five dash-separated groups of five characters
//! (the form Upgrade Operating System requires for non-encoded keys), a package id
//! referenced by a step but not listed in the scenario's `[[content]]`, a condition
//! that does not compile (a WQL syntax error, a malformed OS version). Notes: steps
//! that the simulator only times (`Timed`, and sub task sequences whose steps are
//! unknown), disabled steps, and conditions that can never be true on a simulated
//! client (unknown WMI class or property, identity rules of Set Dynamic Variables).

use std::fmt;

use super::cond::CompiledCondition;
use super::tree::{Condition, Node, StepKind, TaskSequence};
use super::wql::Query;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The scenario is wrong; `validate` fails.
    Error,
    /// Worth knowing; the scenario is still valid.
    Note,
}

/// One finding, located by the step's path in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintItem {
    /// Names of the enclosing groups and the step, joined with ` / `.
    pub path: String,
    /// The step's name.
    pub name: String,
    /// Error or note.
    pub severity: Severity,
    /// What is wrong or simplified.
    pub message: String,
}

impl fmt::Display for LintItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Note => "note",
        };
        write!(f, "{sev}: step \"{}\": {}", self.path, self.message)
    }
}

/// Checks a task sequence against the ids of the scenario's `[[content]]`. Findings
/// come in tree order.
pub fn lint(ts: &TaskSequence, content_ids: &[&str]) -> Vec<LintItem> {
    let mut l = Linter {
        content_ids: content_ids.iter().copied().collect(),
        items: Vec::new(),
    };
    for n in &ts.steps {
        l.node(n, "");
    }
    l.items
}

/// Whether a product key has the non-encoded form `XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`.
pub fn is_product_key(key: &str) -> bool {
    let groups: Vec<&str> = key.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_alphanumeric()))
}

struct Linter<'a> {
    /// A set: a step can list thousands of ids, and a scan of the scenario's ids for
    /// each made 100,000 references take seconds.
    content_ids: std::collections::HashSet<&'a str>,
    items: Vec<LintItem>,
}

impl Linter<'_> {
    fn push(&mut self, path: &str, n: &Node, severity: Severity, message: String) {
        self.items.push(LintItem {
            path: path.to_string(),
            name: n.name.clone(),
            severity,
            message,
        });
    }

    fn node(&mut self, n: &Node, parent: &str) {
        let path = if parent.is_empty() {
            n.name.clone()
        } else {
            format!("{parent} / {}", n.name)
        };
        if n.disabled {
            self.push(
                &path,
                n,
                Severity::Note,
                "disabled: skipped with everything in it".into(),
            );
        }
        if let Some(c) = &n.condition {
            self.condition(&path, n, c, "condition");
        }
        self.content(&path, n);
        match &n.kind {
            StepKind::Group { steps } => {
                for c in steps {
                    self.node(c, &path);
                }
            }
            StepKind::SubTaskSequence { package, steps } => {
                if steps.is_empty() {
                    self.push(
                        &path,
                        n,
                        Severity::Note,
                        format!("timed only: sub task sequence {package} has no known steps, so it runs for [setup] default_step and succeeds"),
                    );
                }
                for c in steps {
                    self.node(c, &path);
                }
            }
            StepKind::Timed { step_type, .. } => self.push(
                &path,
                n,
                Severity::Note,
                format!("timed only: {step_type} is not modelled; it runs for its duration (or [setup] default_step) and succeeds"),
            ),
            StepKind::UpgradeOs(u) => {
                if let Some(k) = u.product_key.as_deref().filter(|k| !k.is_empty())
                    && !is_product_key(k)
                {
                    self.push(
                        &path,
                        n,
                        Severity::Error,
                        format!("product key {k:?} is not five groups of five characters separated by dashes (XXXXX-XXXXX-XXXXX-XXXXX-XXXXX)"),
                    );
                }
            }
            StepKind::SetDynamicVariables { rules } => {
                for (i, (c, _)) in rules.iter().enumerate() {
                    if let Some(c) = c {
                        self.condition(&path, n, c, &format!("rule {}", i + 1));
                    }
                }
            }
            _ => {}
        }
    }

    fn condition(&mut self, path: &str, n: &Node, c: &Condition, what: &str) {
        if let Err(e) = CompiledCondition::compile(c) {
            self.push(path, n, Severity::Error, format!("{what}: {e}"));
            return;
        }
        let mut notes = Vec::new();
        never_true(c, &mut notes);
        for note in notes {
            self.push(path, n, Severity::Note, format!("{what}: {note}"));
        }
    }

    fn content(&mut self, path: &str, n: &Node) {
        let mut ids: Vec<&str> = Vec::new();
        match &n.kind {
            StepKind::Download { content, .. } => ids.extend(content.iter().map(String::as_str)),
            StepKind::Run {
                package: Some(p), ..
            } => ids.push(p),
            StepKind::UpgradeOs(u) => {
                ids.extend(u.content.iter().map(String::as_str));
                ids.extend(u.driver_content.iter().map(String::as_str));
            }
            StepKind::InstallApplications { applications, .. } => {
                ids.extend(applications.iter().map(String::as_str))
            }
            StepKind::InstallPackage { package, .. } => ids.push(package),
            _ => {}
        }
        for id in ids {
            if id.is_empty() || self.content_ids.contains(id) {
                continue;
            }
            if id.contains('%') {
                self.push(
                    path,
                    n,
                    Severity::Note,
                    format!("content {id:?} is chosen by a variable when the step runs; it cannot be checked here"),
                );
            } else {
                self.push(
                    path,
                    n,
                    Severity::Error,
                    format!("references content {id:?}, which is not in [[content]]"),
                );
            }
        }
    }
}

/// Parts of a condition that no simulated client can satisfy.
fn never_true(c: &Condition, notes: &mut Vec<String>) {
    match c {
        Condition::All(cs) | Condition::Any(cs) | Condition::None(cs) => {
            for c in cs {
                never_true(c, notes);
            }
        }
        Condition::Wql { query, .. } => {
            if let Ok(q) = Query::parse(query) {
                if !q.class_known() {
                    notes.push(format!(
                        "WMI class {} is not simulated: the query returns nothing",
                        q.class_name()
                    ));
                } else if let Some(p) = q.unknown_property() {
                    notes.push(format!(
                        "{} has no property {p} in the simulation: the query returns nothing",
                        q.class_name()
                    ));
                }
            }
        }
        Condition::File { path } => notes.push(format!(
            "file {path:?}: the simulator knows no files, so this is false"
        )),
        Condition::Expression {
            expr_type,
            properties,
        } => {
            let by_model = properties.iter().any(|(k, v)| {
                !v.is_empty()
                    && ["Model", "Make", "Manufacturer"]
                        .iter()
                        .any(|n| k.eq_ignore_ascii_case(n))
            });
            if !by_model {
                notes.push(format!(
                    "{expr_type} is not simulated: it is false on every client"
                ));
            }
        }
        _ => {}
    }
}
