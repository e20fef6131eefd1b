//! A task sequence compiled for execution: the tree flattened in pre-order, content
//! ids resolved to indices, conditions compiled, variable names resolved to slots.
//!
//! Pre-order makes the interpreter's cursor a single integer per client: a node's
//! subtree is `ops[i..ops[i].end]`, so "skip this group" is `pc = end`, "enter" is
//! `pc + 1`, and leaving a group needs no stack. Failure handling walks `parent`
//! links, which only happens on the (rare) failure path.

use std::collections::HashMap;

use super::vars::VarTable;
use crate::scenario::model::{Dist, Scenario, UpdatesMode};
use crate::tasksequence::cond::CompiledCondition;
use crate::tasksequence::tree::{
    CheckReadiness, MAX_RETRY_COUNT, Node, RemoveWhat, StepKind, TaskSequence,
};

/// Index of "no node" / "no condition".
pub(crate) const NONE: u32 = u32::MAX;

/// One compiled node.
#[derive(Debug)]
pub(crate) struct Op {
    /// Names of the enclosing groups and this node, joined with ` / `.
    pub(crate) path: String,
    /// Step type as the inline form spells it (`group`, `run`, `upgrade_os`...).
    pub(crate) type_name: &'static str,
    /// `[[task_sequence.overrides]]`: duration replacing the step's own.
    pub(crate) duration_override: Option<Dist>,
    /// `[[task_sequence.overrides]]`: cumulative exit-code weights (empty: none).
    pub(crate) exit_override: Vec<(i64, f64)>,
    /// `[[task_sequence.overrides]]`: PowerShell output value.
    pub(crate) output_override: Option<String>,
    /// One past the last node of this subtree.
    pub(crate) end: u32,
    /// Enclosing group, or [`NONE`].
    pub(crate) parent: u32,
    /// Index into [`Program::conds`], or [`NONE`].
    pub(crate) cond: u32,
    /// Continue on error.
    pub(crate) continue_on_error: bool,
    /// Skipped.
    pub(crate) disabled: bool,
    /// Extra attempts after a failure (at most `MAX_RETRY_COUNT`).
    pub(crate) retry_count: u16,
    /// Exit codes meaning success.
    pub(crate) success_codes: Vec<i64>,
    /// What it does.
    pub(crate) kind: OpKind,
}

/// Compiled step kinds (content ids are indices into `Scenario::content`).
#[derive(Debug)]
pub(crate) enum OpKind {
    /// A group.
    Group,
    /// Download Package Content; `slots[i]` receives the path of `content[i]`.
    Download {
        /// Content, in order.
        content: Vec<u32>,
        /// Output variable slots (`<var>01`...), parallel to `content`, if any.
        slots: Vec<u16>,
    },
    /// Run Command Line / PowerShell.
    Run {
        /// Command line, expanded at run time.
        command: Option<String>,
        /// Package the command runs from.
        package: Option<u32>,
        /// Duration.
        duration: Dist,
        /// Cumulative exit-code weights `(code, cumulative probability)`.
        exit_codes: Vec<(i64, f64)>,
        /// PowerShell output variable slot.
        output_slot: Option<u16>,
    },
    /// Check Readiness.
    CheckReadiness(CheckReadiness),
    /// Set Task Sequence Variable.
    SetVariable {
        /// Slot.
        slot: u16,
        /// Value (expanded at run time).
        value: String,
    },
    /// Set Dynamic Variables.
    SetDynamic {
        /// `(condition index or NONE, [(slot, value)])`.
        rules: Vec<(u32, Vec<(u16, String)>)>,
    },
    /// Upgrade Operating System.
    UpgradeOs {
        /// Candidate OS upgrade packages.
        content: Vec<u32>,
        /// Staged driver packages.
        drivers: Vec<u32>,
        /// Scan only.
        scan_only: bool,
        /// Ignore dismissable messages.
        ignore_dismissable: bool,
        /// Extra setup options (may hold `/ReflectDrivers`).
        additional_options: Option<String>,
    },
    /// Install Application.
    InstallApplications {
        /// Applications.
        apps: Vec<u32>,
    },
    /// Install Package.
    InstallPackage {
        /// Package (`None`: chosen through a variable in the export; nothing to fetch).
        package: Option<u32>,
    },
    /// Install Software Updates.
    InstallUpdates {
        /// Which.
        mode: UpdatesMode,
    },
    /// Restart Computer.
    Restart {
        /// Duration (None: Windows Setup's restart phase).
        duration: Option<Dist>,
    },
    /// Remove something before the upgrade.
    Remove {
        /// What.
        what: RemoveWhat,
    },
    /// A step with no model beyond its duration.
    Timed {
        /// Duration.
        duration: Dist,
    },
}

/// A compiled task sequence.
pub struct Program {
    /// Nodes in pre-order.
    pub(crate) ops: Vec<Op>,
    /// Compiled conditions.
    pub(crate) conds: Vec<CompiledCondition>,
    /// Variable names and initial values.
    pub(crate) vars: VarTable,
    /// Every content index referenced anywhere (for pre-cache and download-all-first),
    /// in first-reference order.
    pub(crate) referenced: Vec<u32>,
    /// Runs of fixed steps that run as one event.
    pub(crate) chains: super::chain::Chains,
}

impl Program {
    /// Distinct task sequence variables, built-ins included: each costs every
    /// client a slot ([`crate::sim::bytes_per_client`]).
    pub fn variables(&self) -> usize {
        self.vars.len()
    }
}

/// A problem that makes a task sequence impossible to run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("task sequence step {step:?}: {message}")]
pub struct CompileError {
    /// Step name.
    pub step: String,
    /// What is wrong.
    pub message: String,
}

struct Compiler<'a> {
    content_ix: HashMap<&'a str, u32>,
    ops: Vec<Op>,
    conds: Vec<CompiledCondition>,
    vars: VarTable,
    referenced: Vec<u32>,
    is_referenced: Vec<bool>,
    default_step: Dist,
    os_ids: Vec<String>,
    drivers: Vec<String>,
    overrides: &'a [crate::scenario::model::StepOverride],
    prefix: Vec<String>,
}

/// Cumulative weights from `(code, weight)` pairs (empty when they sum to nothing).
fn cumulative(codes: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let total: f64 = codes.iter().map(|(_, w)| w.max(0.0)).sum();
    let mut acc = 0.0;
    if total <= 0.0 {
        return Vec::new();
    }
    codes
        .iter()
        .map(|(c, w)| {
            acc += w.max(0.0) / total;
            (*c, acc)
        })
        .collect()
}

impl<'a> Compiler<'a> {
    fn content(&mut self, step: &str, id: &str) -> Result<u32, CompileError> {
        let ix = *self.content_ix.get(id).ok_or_else(|| CompileError {
            step: step.to_string(),
            message: format!("references content {id:?}, which is not in [[content]]"),
        })?;
        self.reference(ix);
        Ok(ix)
    }

    /// Adds content `ix` to the referenced list once, in first-reference order
    /// (a flag per content item: exports may reference thousands).
    fn reference(&mut self, ix: u32) {
        if let Some(seen) = self.is_referenced.get_mut(ix as usize)
            && !*seen
        {
            *seen = true;
            self.referenced.push(ix);
        }
    }

    fn contents(&mut self, step: &str, ids: &[String]) -> Result<Vec<u32>, CompileError> {
        ids.iter().map(|id| self.content(step, id)).collect()
    }

    fn cond(&mut self, n: &Node) -> Result<u32, CompileError> {
        match &n.condition {
            None => Ok(NONE),
            Some(c) => {
                self.vars.register_condition(c);
                let cc = CompiledCondition::compile(c).map_err(|m| CompileError {
                    step: n.name.clone(),
                    message: format!("condition: {m}"),
                })?;
                self.conds.push(cc);
                Ok((self.conds.len() - 1) as u32)
            }
        }
    }

    fn node(&mut self, n: &Node, parent: u32) -> Result<(), CompileError> {
        let me = self.ops.len() as u32;
        let cond = self.cond(n)?;
        let kind = match &n.kind {
            StepKind::Group { steps } | StepKind::SubTaskSequence { steps, .. }
                if matches!(n.kind, StepKind::Group { .. }) || !steps.is_empty() =>
            {
                self.push(n, parent, cond, OpKind::Group);
                self.prefix.push(n.name.clone());
                for c in steps {
                    self.node(c, me)?;
                }
                self.prefix.pop();
                let end = self.ops.len() as u32;
                self.ops[me as usize].end = end;
                return Ok(());
            }
            StepKind::SubTaskSequence { .. } => OpKind::Timed {
                duration: self.default_step.clone(),
            },
            StepKind::Download { content, variable } => {
                let content = self.contents(&n.name, content)?;
                let slots = match variable {
                    Some(v) => (1..=content.len())
                        .map(|i| self.vars.slot(&format!("{v}{i:02}")))
                        .collect(),
                    None => Vec::new(),
                };
                OpKind::Download { content, slots }
            }
            StepKind::Run {
                command,
                package,
                duration,
                exit_codes,
                output_variable,
                ..
            } => {
                let package = match package {
                    Some(p) => Some(self.content(&n.name, p)?),
                    None => None,
                };
                let exit_codes = cumulative(exit_codes);
                OpKind::Run {
                    command: command.clone(),
                    package,
                    duration: duration
                        .clone()
                        .unwrap_or_else(|| self.default_step.clone()),
                    exit_codes,
                    output_slot: output_variable.as_deref().map(|v| self.vars.slot(v)),
                }
            }
            StepKind::CheckReadiness(c) => OpKind::CheckReadiness(c.clone()),
            StepKind::SetVariable { variable, value } => OpKind::SetVariable {
                slot: self.vars.slot(variable),
                value: value.clone(),
            },
            StepKind::SetDynamicVariables { rules } => {
                let mut out = Vec::new();
                for (c, vs) in rules {
                    let ci = match c {
                        Some(c) => {
                            self.vars.register_condition(c);
                            let cc = CompiledCondition::compile(c).map_err(|m| CompileError {
                                step: n.name.clone(),
                                message: format!("rule condition: {m}"),
                            })?;
                            self.conds.push(cc);
                            (self.conds.len() - 1) as u32
                        }
                        None => NONE,
                    };
                    out.push((
                        ci,
                        vs.iter()
                            .map(|(k, v)| (self.vars.slot(k), v.clone()))
                            .collect(),
                    ));
                }
                OpKind::SetDynamic { rules: out }
            }
            StepKind::UpgradeOs(u) => OpKind::UpgradeOs {
                // No package listed: any of the scenario's OS upgrade packages, the one
                // matching the client is used (the built-in templates work this way).
                content: if u.content.is_empty() {
                    let all: Vec<String> = self.os_ids.clone();
                    self.contents(&n.name, &all)?
                } else {
                    self.contents(&n.name, &u.content)?
                },
                // A full upgrade that lists no package also stages every driver package
                // of the scenario (the templates work this way); a scan does not.
                drivers: if u.content.is_empty() && u.driver_content.is_empty() && !u.scan_only {
                    let all = self.drivers.clone();
                    self.contents(&n.name, &all)?
                } else {
                    self.contents(&n.name, &u.driver_content)?
                },
                scan_only: u.scan_only,
                ignore_dismissable: u.ignore_dismissable,
                additional_options: u.additional_options.clone(),
            },
            // `continue_on_error_per_app` is not modelled: an application's failure
            // is not drawn on its own, so there is nothing to continue past.
            StepKind::InstallApplications { applications, .. } => OpKind::InstallApplications {
                apps: self.contents(&n.name, applications)?,
            },
            StepKind::InstallPackage { package, .. } => OpKind::InstallPackage {
                package: if package.is_empty() {
                    None
                } else {
                    Some(self.content(&n.name, package)?)
                },
            },
            StepKind::InstallUpdates { mode } => OpKind::InstallUpdates { mode: *mode },
            StepKind::Restart { duration } => OpKind::Restart {
                duration: duration.clone(),
            },
            StepKind::Remove { what } => OpKind::Remove { what: *what },
            StepKind::Timed { duration, .. } => OpKind::Timed {
                duration: duration
                    .clone()
                    .unwrap_or_else(|| self.default_step.clone()),
            },
            StepKind::Group { .. } => unreachable!("groups handled above"),
        };
        self.push(n, parent, cond, kind);
        Ok(())
    }

    fn push(&mut self, n: &Node, parent: u32, cond: u32, kind: OpKind) {
        let end = self.ops.len() as u32 + 1;
        let mut path = self.prefix.join(" / ");
        if !path.is_empty() {
            path.push_str(" / ");
        }
        path.push_str(&n.name);
        // Later overrides win; a path selects one node, a name every node of that name.
        let mut duration_override = None;
        let mut exit_override = Vec::new();
        let mut output_override = None;
        let mut success_override = None;
        for o in self.overrides {
            if o.step.eq_ignore_ascii_case(&n.name) || o.step.eq_ignore_ascii_case(&path) {
                if o.duration.is_some() {
                    duration_override = o.duration.clone();
                }
                if !o.exit_codes.is_empty() {
                    exit_override = cumulative(&o.exit_codes);
                }
                if o.output.is_some() {
                    output_override = o.output.clone();
                }
                if let Some(sc) = &o.success_codes {
                    success_override = Some(sc.clone());
                }
            }
        }
        self.ops.push(Op {
            path,
            type_name: crate::tasksequence::print::type_name(&n.kind),
            duration_override,
            exit_override,
            output_override,
            end,
            parent,
            cond,
            continue_on_error: n.continue_on_error,
            disabled: n.disabled,
            // The readers refuse more; a tree built in code is held to the bound
            // too, so the 16-bit try counter cannot wrap.
            retry_count: n.retry_count.min(MAX_RETRY_COUNT) as u16,
            success_codes: success_override.unwrap_or_else(|| n.success_codes.clone()),
            kind,
        });
    }
}

/// Compiles the scenario's task sequence.
pub fn compile(s: &Scenario) -> Result<Program, CompileError> {
    compile_ts(s, &s.task_sequence)
}

/// Compiles a task sequence against a scenario's content and settings.
pub(crate) fn compile_ts(s: &Scenario, ts: &TaskSequence) -> Result<Program, CompileError> {
    let mut c = Compiler {
        content_ix: s
            .content
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i as u32))
            .collect(),
        ops: Vec::new(),
        conds: Vec::new(),
        vars: VarTable::new(s, ts),
        referenced: Vec::new(),
        is_referenced: vec![false; s.content.len()],
        default_step: s.setup.default_step.clone(),
        drivers: s
            .content
            .iter()
            .filter(|c| c.kind == crate::scenario::model::ContentKind::Driver)
            .map(|c| c.id.clone())
            .collect(),
        overrides: &s.step_overrides,
        prefix: Vec::new(),
        os_ids: s
            .content
            .iter()
            .filter(|c| c.kind == crate::scenario::model::ContentKind::OsUpgrade)
            .map(|c| c.id.clone())
            .collect(),
    };
    for n in &ts.steps {
        c.node(n, NONE)?;
    }
    // Software updates are referenced by Install Software Updates steps.
    if c.ops
        .iter()
        .any(|o| matches!(o.kind, OpKind::InstallUpdates { mode } if mode != UpdatesMode::None))
    {
        for (i, ct) in s.content.iter().enumerate() {
            if ct.kind == crate::scenario::model::ContentKind::SoftwareUpdate {
                c.reference(i as u32);
            }
        }
    }
    // A client's epoch moves once per try of a step whose stream fails for good, and
    // once at a timeout; the interpreter only moves forward, so each op runs at most
    // retry_count + 1 times. Bounding the sum keeps the epoch within what an event
    // carries, so a stale event can never pass for a live one.
    let moves = 1 + c
        .ops
        .iter()
        .map(|o| u64::from(o.retry_count) + 1)
        .sum::<u64>();
    if moves > u64::from(super::world::MAX_EPOCH) {
        return Err(CompileError {
            step: String::new(),
            message: format!(
                "the steps' tries (retry_count + 1 each) add up to {moves} per client, more \
                 than the {} a run can follow",
                super::world::MAX_EPOCH
            ),
        });
    }
    if c.vars.len() > u16::MAX as usize {
        return Err(CompileError {
            step: String::new(),
            message: "more than 65535 distinct variables".into(),
        });
    }
    let chains = super::chain::Chains::find(s, &c.ops);
    Ok(Program {
        chains,
        ops: c.ops,
        conds: c.conds,
        vars: c.vars,
        referenced: c.referenced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::world::{EvKind, Event, MAX_EPOCH};
    use std::path::Path;

    fn with_steps(n: usize, retries: u32) -> Scenario {
        let text = "name = \"t\"\n[fleet]\nclients = 1\n[[distribution_points]]\nname = \"DP\"\n\
                    bandwidth = \"1Gbps\"\n[task_sequence]\n[[task_sequence.steps]]\n\
                    type = \"run\"\nname = \"r\"\n";
        let mut s =
            crate::scenario::load_str(text, Path::new("t.toml"), Path::new("."), &[]).unwrap();
        let step = |i: usize| {
            let mut n = Node::new(
                format!("s{i}"),
                StepKind::Timed {
                    step_type: "T".into(),
                    duration: None,
                    properties: Vec::new(),
                },
            );
            n.retry_count = retries;
            n
        };
        s.task_sequence.steps = (0..n).map(step).collect();
        s
    }

    #[test]
    fn tries_that_could_wrap_the_epoch_are_refused() {
        // 4,095 steps of 65,536 tries each stay under 2^28 epoch moves; 4,097 do not.
        assert!(compile(&with_steps(4095, MAX_RETRY_COUNT)).is_ok());
        let e = compile(&with_steps(4097, MAX_RETRY_COUNT)).err().unwrap();
        assert!(e.message.contains("add up to 268500993"), "{e}");
    }

    #[test]
    fn a_tree_built_in_code_is_held_to_the_retry_bound() {
        let p = compile(&with_steps(1, u32::MAX)).unwrap();
        assert_eq!(u32::from(p.ops[0].retry_count), MAX_RETRY_COUNT);
    }

    #[test]
    fn an_event_carries_every_epoch_and_kind_it_can_hold() {
        for kind in [EvKind::Policy, EvKind::StepTimer, EvKind::Timeout] {
            for epoch in [0, 1, 65_535, 65_536, MAX_EPOCH] {
                let e = Event::new(7, epoch, kind);
                assert_eq!((e.client, e.epoch(), e.kind()), (7, epoch, kind));
            }
        }
        assert_eq!(std::mem::size_of::<Event>(), 8);
    }
}
