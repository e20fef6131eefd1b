//! Executing one step: what each step type does to the client and how long it takes.
//! Conditions are evaluated against the client's simulated machine and variables.
#![allow(
    clippy::indexing_slicing,
    reason = "per-event hot path: every index is an id the world builder and program compiler \
              assigned (client < fleet size, op < program length, content < catalogue, slot < \
              variable table, link < links), in range by construction; user input reaches here \
              only after scenario::check turned it into those ids"
)]

use super::program::{NONE, OpKind};
use super::state::{DlOwner, Phase, flag};
use super::transport::Transport;
use super::vars::{VarStore, VarTable, builtin};
use super::world::{EvKind, World, purpose};
use crate::engine::rng;
use crate::engine::time::SimTime;
use crate::fleet::flags as cflags;
use crate::scenario::model::{Arch, DpOption, NetType, OsVersion, Power, UpdatesMode};
use crate::setup::{codes, model as setup};
use crate::tasksequence::cond::{Machine, Vars};
use crate::tasksequence::expand;
use crate::tasksequence::tree::RemoveWhat;

/// A client's variables as the condition evaluator sees them.
pub struct ClientVars<'a> {
    table: &'a VarTable,
    store: &'a VarStore,
    client: u32,
}

impl Vars for ClientVars<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        let slot = self.table.find(name)?;
        let raw = self.store.raw(self.client, slot);
        let id = if raw == 0 {
            self.table.initial(slot)
        } else {
            raw
        };
        self.table.strings.get(id)
    }
}

impl<T: Transport> World<'_, T> {
    /// The client's machine facts.
    pub fn machine(&self, c: u32) -> Machine<'_> {
        let a = &self.attrs[c as usize];
        Machine {
            arch: a.arch,
            language: self.s.fleet.language.items[a.language as usize].0,
            os: a.os,
            on_battery: a.power == Power::Battery,
            has_battery: a.has(cflags::HAS_BATTERY),
            network: a.network,
            model: &self.s.fleet.model.items[a.model as usize].0,
            memory_bytes: a.memory_mb as u64 * 1_048_576,
            free_disk_bytes: a.free_disk,
            cpu_mhz: a.cpu_mhz as u32,
            incompatible_app: a.has(cflags::INCOMPATIBLE_APP)
                && !self.st[c as usize].has(flag::REMOVED_APPS),
            incompatible_driver: a.has(cflags::INCOMPATIBLE_DRIVER)
                && !self.st[c as usize].has(flag::REMOVED_DRIVERS),
            third_party_encryption: a.has(cflags::ENCRYPTION),
        }
    }

    /// Evaluates condition `i` for client `c`.
    pub fn eval_cond(&self, c: u32, i: u32) -> bool {
        let vars = ClientVars {
            table: &self.prog.vars,
            store: &self.vars,
            client: c,
        };
        self.prog.conds[i as usize].eval(&self.machine(c), &vars)
    }

    /// Sets a variable of the client.
    pub fn set_var(&mut self, c: u32, slot: u16, value: &str) {
        let id = self.prog.vars.strings.intern(value);
        self.vars.set(c, slot, id);
    }

    fn set_named(&mut self, c: u32, name: &str, value: &str) {
        if let Some(slot) = self.prog.vars.find(name) {
            self.set_var(c, slot, value);
        }
    }

    /// `%VAR%` expansion with the client's variables.
    pub fn expand(&self, c: u32, s: &str) -> String {
        let vars = ClientVars {
            table: &self.prog.vars,
            store: &self.vars,
            client: c,
        };
        expand::expand(s, &vars)
    }

    fn draw_duration(&self, c: u32, d: &crate::scenario::model::Dist) -> SimTime {
        if let Some(t) = fixed_duration(d) {
            return t; // no draw, so no stream to key
        }
        let st = &self.st[c as usize];
        let key = st.pc.wrapping_mul(64).wrapping_add(st.step_try);
        let mut r = rng::stream(
            self.s.simulation.seed,
            c as u64,
            rng::purpose(purpose::STEP_DURATION, key),
        );
        d.sample(&mut r).round() as SimTime
    }

    /// Runs the step at the cursor (its content is local). Returns true when it ended
    /// at once (the cursor has moved), false when a timer will end it.
    pub fn execute(&mut self, c: u32) -> bool {
        let pc = self.st[c as usize].pc as usize;
        let s = self.s;
        // Streaming (access content directly from a DP): the step's content flows while
        // its timer runs; it ends when both are done.
        let streams = s.deployment.dp_option == DpOption::AccessFromDp
            && !matches!(self.prog.ops[pc].kind, OpKind::Download { .. })
            && self.needed_item(c, 0).is_ok_and(|i| i.is_some());
        let overridden = self.prog.ops[pc].duration_override.clone();
        let duration: Option<SimTime> = match &self.prog.ops[pc].kind {
            OpKind::UpgradeOs { .. }
            | OpKind::Download { .. }
            | OpKind::SetVariable { .. }
            | OpKind::SetDynamic { .. }
            | OpKind::Group => None,
            _ => overridden.as_ref().map(|d| self.draw_duration(c, d)),
        };
        let duration: Option<SimTime> = if duration.is_some() {
            duration
        } else {
            match &self.prog.ops[pc].kind {
                OpKind::Group => Some(0),
                OpKind::Download { content, slots } => {
                    let pairs: Vec<(u16, String)> = slots
                        .iter()
                        .zip(content)
                        .map(|(&slot, &i)| {
                            (
                                slot,
                                format!(
                                    "C:\\_SMSTaskSequence\\Packages\\{}",
                                    s.content[i as usize].id
                                ),
                            )
                        })
                        .collect();
                    for (slot, path) in pairs {
                        self.set_var(c, slot, &path);
                    }
                    self.complete_step(c, 0);
                    return true;
                }
                OpKind::SetVariable { slot, value } => {
                    let (slot, v) = (*slot, self.expand(c, value));
                    self.set_var(c, slot, &v);
                    self.complete_step(c, 0);
                    return true;
                }
                OpKind::SetDynamic { rules } => {
                    let mut sets = Vec::new();
                    for (cond, vs) in rules {
                        if *cond == NONE || self.eval_cond(c, *cond) {
                            for (slot, v) in vs {
                                sets.push((*slot, self.expand(c, v)));
                            }
                        }
                    }
                    for (slot, v) in sets {
                        self.set_var(c, slot, &v);
                    }
                    self.complete_step(c, 0);
                    return true;
                }
                OpKind::Run { duration, .. } | OpKind::Timed { duration } => {
                    Some(self.draw_duration(c, duration))
                }
                OpKind::Restart { duration } => {
                    Some(self.draw_duration(c, duration.as_ref().unwrap_or(&s.setup.restart)))
                }
                OpKind::Remove { .. }
                | OpKind::CheckReadiness(_)
                | OpKind::InstallPackage { .. } => {
                    Some(self.draw_duration(c, &s.setup.default_step))
                }
                OpKind::InstallApplications { apps, .. } => {
                    let one = self.draw_duration(c, &s.setup.default_step);
                    // An empty list means the export picks applications through a
                    // variable: it still takes one application's time.
                    Some(one.saturating_mul(apps.len().max(1) as u64))
                }
                OpKind::InstallUpdates { mode } => {
                    let n = if *mode == UpdatesMode::None {
                        0
                    } else {
                        self.updates.len() as u64
                    };
                    Some(
                        self.draw_duration(c, &s.setup.default_step)
                            .saturating_mul(n.max(1)),
                    )
                }
                OpKind::UpgradeOs { scan_only, .. } => {
                    let p = self.setup_plan(c);
                    if !*scan_only {
                        let st = &self.st[c as usize];
                        let wait = self.now.saturating_sub(st.install_at);
                        self.stats.latency.record(1, wait);
                    }
                    p.duration
                }
            }
        };
        if streams {
            let st = &mut self.st[c as usize];
            st.set(flag::STREAMING);
            st.sub = 0;
        }
        if let Some(d) = duration {
            self.schedule(self.now.saturating_add(d), c, EvKind::StepTimer);
        }
        if streams {
            self.continue_stream(c);
        }
        false
    }

    /// Streams the next content item of the running step, or marks streaming done.
    pub fn continue_stream(&mut self, c: u32) {
        let sub = self.st[c as usize].sub;
        if let Ok(Some(i)) = self.needed_item(c, sub) {
            self.st[c as usize].owner = DlOwner::Step;
            self.begin_download(c, i);
            return;
        }
        let st = &mut self.st[c as usize];
        st.clear(flag::STREAMING);
        st.owner = DlOwner::None;
        if st.has(flag::STEP_TIMER_DONE) {
            self.finish_timed_step(c);
        }
    }

    /// The running step's timer fired.
    pub fn on_step_timer(&mut self, c: u32) {
        if self.st[c as usize].phase != Phase::Running {
            return;
        }
        if self.st[c as usize].has(flag::CHAIN) {
            self.finish_chain(c);
            return;
        }
        if self.st[c as usize].has(flag::STREAMING) {
            self.st[c as usize].set(flag::STEP_TIMER_DONE);
            return;
        }
        self.finish_timed_step(c);
    }

    /// Decides how a timed step ended and moves on.
    fn finish_timed_step(&mut self, c: u32) {
        let pc = self.st[c as usize].pc as usize;
        let code: i64 = match &self.prog.ops[pc].kind {
            OpKind::Run {
                command,
                exit_codes,
                output_slot,
                ..
            } => {
                let expanded = command.as_ref().map(|cmd| self.expand(c, cmd));
                let out_slot = *output_slot;
                let op = &self.prog.ops[pc];
                let weights = if op.exit_override.is_empty() {
                    exit_codes
                } else {
                    &op.exit_override
                };
                let code = match expanded.as_deref().and_then(expand::cmd_exit_code) {
                    Some(n) => n,
                    None => self.draw_exit_code(c, weights),
                };
                if let Some(slot) = out_slot {
                    // A PowerShell output variable receives the script's output: the
                    // override's value, or nothing.
                    let value = self.prog.ops[pc]
                        .output_override
                        .clone()
                        .unwrap_or_default();
                    self.set_var(c, slot, &value);
                }
                if !self.prog.ops[pc].success_codes.contains(&code) {
                    self.set_fail_phase(c, "run");
                    self.st[c as usize].exit_code = code as u32;
                }
                code
            }
            OpKind::Remove { what } => {
                let f = match what {
                    RemoveWhat::IncompatibleApps => flag::REMOVED_APPS,
                    RemoveWhat::IncompatibleDrivers => flag::REMOVED_DRIVERS,
                    RemoveWhat::ThirdPartySecurity => flag::SUSPENDED_SECURITY,
                };
                self.st[c as usize].set(f);
                0
            }
            OpKind::CheckReadiness(cr) => {
                let m = self.machine(c);
                let a = &self.attrs[c as usize];
                let disk_mb = cr.free_disk_mb.map(|mb| {
                    if mb == 0 {
                        setup::disk_needed(a.arch) / 1_048_576
                    } else {
                        mb
                    }
                });
                let ok = disk_mb.is_none_or(|mb| m.free_disk_bytes / 1_048_576 >= mb)
                    && cr
                        .memory_mb
                        .is_none_or(|mb| m.memory_bytes / 1_048_576 >= mb)
                    && cr.processor_mhz.is_none_or(|mhz| m.cpu_mhz as u64 >= mhz)
                    && (!cr.require_ac || !m.on_battery)
                    && (!cr.require_wired || m.network == NetType::Wired)
                    && cr.os_type.as_deref().is_none_or(|t| {
                        let server =
                            matches!(m.os, OsVersion::Server2012 | OsVersion::Server2012R2);
                        t.eq_ignore_ascii_case(if server { "SERVER" } else { "CLIENT" })
                    })
                    && cr
                        .os_architecture
                        .as_deref()
                        .is_none_or(|x| x.trim() == if m.arch == Arch::X64 { "64" } else { "32" })
                    && cr.os_language.is_none_or(|l| l == m.language);
                if ok {
                    0
                } else {
                    self.set_fail_phase(c, "check_readiness");
                    self.st[c as usize].exit_code = codes::E_FAIL;
                    codes::E_FAIL as i64
                }
            }
            OpKind::UpgradeOs { .. } => {
                let p = self.setup_plan(c);
                let code_s = p.code.to_string();
                self.set_named(c, builtin::UPGRADE_RET, &code_s);
                self.set_named(
                    c,
                    builtin::ROLLBACK,
                    if p.rollback { "true" } else { "false" },
                );
                if p.rollback {
                    // Setup restored the old OS and the task sequence resumes (article,
                    // "Optional task sequence steps for rollback"): the step itself does
                    // not stop the sequence, the Rollback group runs next.
                    let st = &mut self.st[c as usize];
                    st.set(flag::ROLLED_BACK);
                    st.exit_code = p.code;
                    self.set_fail_phase(c, p.phase);
                    let id = self.prog.vars.strings.intern(&code_s);
                    if let Some(last) = self.prog.vars.find(builtin::LAST_RET) {
                        self.vars.set(c, last, id);
                    }
                    let end = self.prog.ops[pc].end;
                    self.stats.steps[pc][super::world::count::FAILED] += 1;
                    self.trace(c, "rollback", pc as u32, || {
                        format!("{} {}", p.code, p.phase)
                    });
                    self.st[c as usize].pc = end;
                    self.run_ts(c);
                    return;
                }
                if p.code != 0 && p.code != codes::COMPAT_SCANONLY {
                    self.set_fail_phase(c, p.phase);
                    self.st[c as usize].exit_code = p.code;
                }
                p.code as i64
            }
            _ => {
                // Steps without a model of their own end with the override's exit
                // codes, or succeed.
                let weights = &self.prog.ops[pc].exit_override;
                let code = self.draw_exit_code(c, weights);
                if !self.prog.ops[pc].success_codes.contains(&code) {
                    self.set_fail_phase(c, "install");
                    self.st[c as usize].exit_code = code as u32;
                }
                code
            }
        };
        self.complete_step(c, code);
        self.run_ts(c);
    }

    fn draw_exit_code(&self, c: u32, cumulative: &[(i64, f64)]) -> i64 {
        if cumulative.is_empty() {
            return 0;
        }
        let st = &self.st[c as usize];
        let key = st.pc.wrapping_mul(64).wrapping_add(st.step_try);
        let u = rng::uniform01(
            self.s.simulation.seed,
            c as u64,
            rng::purpose(purpose::EXIT_CODE, key),
        );
        cumulative
            .iter()
            .find(|(_, p)| u < *p)
            .or(cumulative.last())
            .map(|(code, _)| *code)
            .unwrap_or(0)
    }

    /// The Windows Setup plan of the Upgrade OS step at the cursor.
    fn setup_plan(&self, c: u32) -> setup::SetupPlan {
        let st = &self.st[c as usize];
        let a = &self.attrs[c as usize];
        let OpKind::UpgradeOs {
            scan_only,
            ignore_dismissable,
            additional_options,
            ..
        } = &self.prog.ops[st.pc as usize].kind
        else {
            unreachable!("setup_plan is only called on Upgrade OS steps")
        };
        // Case-insensitive search without lower-casing a copy: this runs twice per
        // Upgrade OS step of every client.
        let reflect = |s: &str| {
            const NEEDLE: &[u8] = b"/reflectdriver";
            s.as_bytes()
                .windows(NEEDLE.len())
                .any(|w| w.eq_ignore_ascii_case(NEEDLE))
        };
        let options = self
            .var_str_slot(c, builtin::SETUP_OPTIONS_SLOT)
            .map(reflect)
            .unwrap_or(false)
            || additional_options.as_deref().map(reflect).unwrap_or(false);
        let input = setup::SetupInput {
            arch: a.arch,
            os: a.os,
            free_disk: a.free_disk,
            blocking_app: a.has(cflags::INCOMPATIBLE_APP) && !st.has(flag::REMOVED_APPS),
            bad_driver: a.has(cflags::INCOMPATIBLE_DRIVER) && !st.has(flag::REMOVED_DRIVERS),
            unreflected_encryption: a.has(cflags::ENCRYPTION) && !options,
            ignore_dismissable: *ignore_dismissable,
            scan_only: *scan_only,
        };
        let key = st.pc.wrapping_mul(64).wrapping_add(st.step_try);
        let mut r = rng::stream(
            self.s.simulation.seed,
            c as u64,
            rng::purpose(purpose::SETUP, key),
        );
        setup::plan(&self.s.setup, &input, &mut r)
    }

    /// A string variable of the client by slot (no name lookup).
    pub fn var_str_slot(&self, c: u32, slot: u16) -> Option<&str> {
        let raw = self.vars.raw(c, slot);
        let id = if raw == 0 {
            self.prog.vars.initial(slot)
        } else {
            raw
        };
        self.prog.vars.strings.get(id)
    }

    /// A string variable of the client.
    pub fn var_str(&self, c: u32, name: &str) -> Option<&str> {
        let vars = ClientVars {
            table: &self.prog.vars,
            store: &self.vars,
            client: c,
        };
        let slot = self.prog.vars.find(name)?;
        let _ = &vars;
        let raw = self.vars.raw(c, slot);
        let id = if raw == 0 {
            self.prog.vars.initial(slot)
        } else {
            raw
        };
        self.prog.vars.strings.get(id)
    }
}

/// The duration of a fixed distribution without a random stream: `Dist::sample` of
/// `Fixed` draws nothing, and keying a stream per step was 8% of a run of fixed
/// steps. Same value as `d.sample(..).round()` (non-finite or negative values are
/// 0, as there).
pub(super) fn fixed_duration(d: &crate::scenario::model::Dist) -> Option<SimTime> {
    match d {
        crate::scenario::model::Dist::Fixed(v) => Some(if v.is_finite() && *v > 0.0 {
            v.round() as SimTime
        } else {
            0
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::Dist;

    #[test]
    fn fixed_duration_equals_sampling_the_fixed_distribution() {
        for v in [
            0.0,
            0.4,
            0.5,
            1.5,
            30e6,
            -3.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e30,
        ] {
            let d = Dist::Fixed(v);
            let mut r = rng::stream(1, 2, 3);
            let sampled = d.sample(&mut r).round() as SimTime;
            assert_eq!(fixed_duration(&d), Some(sampled), "value {v}");
        }
        assert_eq!(fixed_duration(&Dist::Uniform { min: 1.0, max: 2.0 }), None);
    }
}
