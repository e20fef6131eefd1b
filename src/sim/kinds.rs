//! What each kind of step does: one small function to start it (it ends at once, or
//! runs for a duration) and, for timed steps, one to decide how it ended
//! ([`StepEnd`]). [`World::execute`] and [`World::end_of_timed_step`] only dispatch.

use super::interp::StepEnd;
use super::program::{NONE, OpKind};
use super::result::Metric;
use super::state::{Activity, Facts, FailPhase, Link};
use super::transport::Transport;
use super::vars::builtin;
use super::world::{EvKind, World, purpose};
use crate::engine::rng;
use crate::engine::time::SimTime;
use crate::fleet::ClientAttrs;
use crate::fleet::flags as cflags;
use crate::scenario::model::{Arch, Dist, DpOption, NetType, OsVersion, UpdatesMode};
use crate::scenario::model::{Firmware, Tpm, WindowsRelease};
use crate::setup::{codes, model as setup, readiness};
use crate::tasksequence::expand;
use crate::tasksequence::tree::{CheckReadiness, RemoveWhat};

/// What starting a step led to.
enum Started {
    /// It ended at once.
    Ended(StepEnd),
    /// It runs for this long (`None`: it never ends, like a Setup stuck on a
    /// dismissable message).
    Runs(Option<SimTime>),
}

impl<T: Transport> World<'_, T> {
    /// Starts the step at the cursor (its content is local, or streams). Returns true
    /// when it ended at once (the end is applied and the cursor has moved), false
    /// when a timer will end it.
    pub(crate) fn execute(&mut self, c: u32) -> bool {
        let pc = self.st[c as usize].pc as usize;
        // Streaming (access content directly from a DP): the step's content flows while
        // its timer runs; it ends when both are done.
        let streams = self.s.deployment.dp_option == DpOption::AccessFromDp
            && !matches!(self.prog.ops[pc].kind, OpKind::Download { .. })
            && self.needed_item(c, 0).is_ok_and(|i| i.is_some());
        let duration = match self.start_step(c, pc) {
            Started::Ended(end) => {
                self.end_step(c, end);
                return true;
            }
            Started::Runs(d) => d,
        };
        let st = &mut self.st[c as usize];
        st.activity = if streams {
            st.item = 0;
            Activity::Streaming(Link::Idle)
        } else {
            Activity::RunningStep
        };
        if let Some(d) = duration {
            self.schedule(self.now.saturating_add(d), c, EvKind::StepTimer);
        }
        if streams {
            self.continue_stream(c);
        }
        false
    }

    /// The per-kind start. A duration override replaces the duration of every kind
    /// that has one of its own (not Upgrade OS, whose time is Setup's).
    fn start_step(&mut self, c: u32, pc: usize) -> Started {
        let kind = &self.prog.ops[pc].kind;
        let own_time = matches!(
            kind,
            OpKind::UpgradeOs { .. }
                | OpKind::Download { .. }
                | OpKind::SetVariable { .. }
                | OpKind::SetDynamic { .. }
                | OpKind::Group
        );
        if !own_time && let Some(d) = &self.prog.ops[pc].duration_override {
            return Started::Runs(Some(self.draw_duration(c, d)));
        }
        let s = self.s;
        let default = &s.setup.default_step;
        match kind {
            OpKind::Group => Started::Runs(Some(0)),
            OpKind::Download { .. } => self.start_download_step(c, pc),
            OpKind::SetVariable { slot, value } => {
                let (slot, v) = (*slot, self.expand(c, value));
                self.set_var(c, slot, &v);
                Started::Ended(StepEnd::code(0))
            }
            OpKind::SetDynamic { .. } => self.start_set_dynamic(c, pc),
            OpKind::Run { duration, .. } | OpKind::Timed { duration } => {
                Started::Runs(Some(self.draw_duration(c, duration)))
            }
            OpKind::Restart { duration } => Started::Runs(Some(
                self.draw_duration(c, duration.as_ref().unwrap_or(&s.setup.restart)),
            )),
            OpKind::Remove { .. } | OpKind::CheckReadiness(_) | OpKind::InstallPackage { .. } => {
                Started::Runs(Some(self.draw_duration(c, default)))
            }
            OpKind::InstallApplications { apps, .. } => {
                // An empty list means the export picks applications through a
                // variable: it still takes one application's time.
                let n = apps.len().max(1) as u64;
                Started::Runs(Some(self.draw_duration(c, default).saturating_mul(n)))
            }
            OpKind::InstallUpdates { mode } => {
                let n = if *mode == UpdatesMode::None {
                    0
                } else {
                    self.updates.len() as u64
                };
                Started::Runs(Some(
                    self.draw_duration(c, default).saturating_mul(n.max(1)),
                ))
            }
            OpKind::UpgradeOs { scan_only, .. } => {
                let scan_only = *scan_only;
                let p = self.setup_plan(c);
                self.trace_setup_phases(c, &p);
                if !scan_only {
                    let wait = self.now.saturating_sub(self.st[c as usize].install_at);
                    self.stats.latency.record(Metric::InstallWait, wait);
                }
                Started::Runs(p.duration)
            }
        }
    }

    /// Download Package Content: the content is local now; its output variables
    /// (`<var>01`...) receive the package paths.
    fn start_download_step(&mut self, c: u32, pc: usize) -> Started {
        let OpKind::Download { content, slots } = &self.prog.ops[pc].kind else {
            unreachable!("called on Download steps only")
        };
        let pairs: Vec<(u16, String)> = slots
            .iter()
            .zip(content)
            .map(|(&slot, &i)| {
                let id = &self.s.content[i as usize].id;
                (slot, format!("C:\\_SMSTaskSequence\\Packages\\{id}"))
            })
            .collect();
        for (slot, path) in pairs {
            self.set_var(c, slot, &path);
        }
        Started::Ended(StepEnd::code(0))
    }

    /// Set Dynamic Variables: every rule whose condition holds sets its variables,
    /// all evaluated before any is set.
    fn start_set_dynamic(&mut self, c: u32, pc: usize) -> Started {
        let OpKind::SetDynamic { rules } = &self.prog.ops[pc].kind else {
            unreachable!("called on Set Dynamic Variables steps only")
        };
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
        Started::Ended(StepEnd::code(0))
    }

    /// How the timed step at the cursor ended (the per-kind end).
    pub(crate) fn end_of_timed_step(&mut self, c: u32) -> StepEnd {
        let pc = self.st[c as usize].pc as usize;
        match &self.prog.ops[pc].kind {
            OpKind::Run { .. } => self.end_run(c, pc),
            OpKind::Remove { what } => {
                self.st[c as usize].facts.insert(match what {
                    RemoveWhat::IncompatibleApps => Facts::REMOVED_APPS,
                    RemoveWhat::IncompatibleDrivers => Facts::REMOVED_DRIVERS,
                    RemoveWhat::ThirdPartySecurity => Facts::SUSPENDED_SECURITY,
                });
                StepEnd::code(0)
            }
            OpKind::CheckReadiness(cr) => self.end_check_readiness(c, cr),
            OpKind::UpgradeOs { .. } => self.end_upgrade_os(c),
            _ => {
                // Steps without a model of their own end with the override's exit
                // codes, or succeed.
                let code = self.draw_exit_code(c, &self.prog.ops[pc].exit_override);
                self.exit_blaming(pc, code, FailPhase::Install)
            }
        }
    }

    /// `code`, blamed on `phase` when it is not one of the step's success codes.
    fn exit_blaming(&self, pc: usize, code: i64, phase: FailPhase) -> StepEnd {
        let failed = !self.prog.ops[pc].success_codes.contains(&code);
        StepEnd::Exit {
            code,
            blame: failed.then_some(phase),
        }
    }

    /// Run Command Line / PowerShell: the exit code of a `cmd /c exit N` command line,
    /// else drawn from the step's (or its override's) weights; a PowerShell output
    /// variable receives the override's output.
    fn end_run(&mut self, c: u32, pc: usize) -> StepEnd {
        let op = &self.prog.ops[pc];
        let OpKind::Run {
            command,
            exit_codes,
            output_slot,
            ..
        } = &op.kind
        else {
            unreachable!("called on Run steps only")
        };
        let expanded = command.as_ref().map(|cmd| self.expand(c, cmd));
        let weights = if op.exit_override.is_empty() {
            exit_codes
        } else {
            &op.exit_override
        };
        let code = match expanded.as_deref().and_then(expand::cmd_exit_code) {
            Some(n) => n,
            None => self.draw_exit_code(c, weights),
        };
        if let Some(slot) = *output_slot {
            // A PowerShell output variable receives the script's output: the
            // override's value, or nothing.
            let value = op.output_override.clone().unwrap_or_default();
            self.set_var(c, slot, &value);
        }
        self.exit_blaming(pc, code, FailPhase::Run)
    }

    /// Check Readiness: every check the step enables must pass (article, "Check
    /// Readiness"); a free-disk check of 0 MB means Setup's own requirement.
    fn end_check_readiness(&self, c: u32, cr: &CheckReadiness) -> StepEnd {
        let m = self.machine(c);
        let a = &self.attrs[c as usize];
        let disk_mb = cr.free_disk_mb.map(|mb| {
            if mb == 0 {
                setup::disk_needed(a.arch) / 1_048_576
            } else {
                mb
            }
        });
        let server = matches!(m.os, OsVersion::Server2012 | OsVersion::Server2012R2);
        let ok = disk_mb.is_none_or(|mb| m.free_disk_bytes / 1_048_576 >= mb)
            && cr
                .memory_mb
                .is_none_or(|mb| m.memory_bytes / 1_048_576 >= mb)
            && cr.processor_mhz.is_none_or(|mhz| m.cpu_mhz as u64 >= mhz)
            && (!cr.require_ac || !m.on_battery)
            && (!cr.require_wired || m.network == NetType::Wired)
            && cr
                .os_type
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case(if server { "SERVER" } else { "CLIENT" }))
            && cr
                .os_architecture
                .as_deref()
                .is_none_or(|x| x.trim() == if m.arch == Arch::X64 { "64" } else { "32" })
            && cr.os_language.is_none_or(|l| l == m.language);
        // The 2010 and 2111 checks. The model has no TPM 2.0 that is present but
        // disabled or not activated: `tpm = "none"` stands for those, so both TPM
        // checks pass exactly on a TPM 2.0.
        let hw = a.hw;
        let new_ok = (!cr.uefi || hw.firmware() != Firmware::Bios)
            && (!cr.tpm_enabled || hw.tpm() == Tpm::V20)
            && (!cr.tpm_activated || hw.tpm() == Tpm::V20);
        let code = if !new_ok {
            codes::READINESS_CHECK_FAILED
        } else if !ok {
            codes::E_FAIL
        } else {
            return StepEnd::code(0);
        };
        StepEnd::Exit {
            code: code as i64,
            blame: Some(FailPhase::CheckReadiness),
        }
    }

    /// Upgrade Operating System: Setup's plan decides; its return code and rollback
    /// land in the built-in variables the Rollback group's conditions read.
    fn end_upgrade_os(&mut self, c: u32) -> StepEnd {
        let p = self.setup_plan(c);
        let code_s = p.code.to_string();
        self.set_named(c, builtin::UPGRADE_RET, &code_s);
        let rolled = if p.rollback { "true" } else { "false" };
        self.set_named(c, builtin::ROLLBACK, rolled);
        if p.rollback {
            return StepEnd::RolledBack {
                code: p.code,
                phase: p.phase,
            };
        }
        let failed = p.code != 0 && p.code != codes::COMPAT_SCANONLY;
        StepEnd::Exit {
            code: p.code as i64,
            blame: failed.then_some(FailPhase::Setup(p.phase)),
        }
    }

    fn draw_duration(&self, c: u32, d: &Dist) -> SimTime {
        if let Some(t) = fixed_duration(d) {
            return t; // no draw, so no stream to key
        }
        let mut r = rng::stream(
            self.s.simulation.seed,
            c as u64,
            rng::purpose(purpose::STEP_DURATION, self.step_key(c)),
        );
        d.sample(&mut r).round() as SimTime
    }

    fn draw_exit_code(&self, c: u32, cumulative: &[(i64, f64)]) -> i64 {
        if cumulative.is_empty() {
            return 0;
        }
        let u = rng::uniform01(
            self.s.simulation.seed,
            c as u64,
            rng::purpose(purpose::EXIT_CODE, self.step_key(c)),
        );
        cumulative
            .iter()
            .find(|(_, p)| u < *p)
            .or(cumulative.last())
            .map(|(code, _)| *code)
            .unwrap_or(0)
    }

    /// The random-stream key of the step at the cursor and its try.
    fn step_key(&self, c: u32) -> u32 {
        let st = &self.st[c as usize];
        st.pc.wrapping_mul(64).wrapping_add(u32::from(st.step_try))
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
            blocking_app: a.has(cflags::INCOMPATIBLE_APP) && !st.facts.has(Facts::REMOVED_APPS),
            bad_driver: a.has(cflags::INCOMPATIBLE_DRIVER) && !st.facts.has(Facts::REMOVED_DRIVERS),
            unreflected_encryption: a.has(cflags::ENCRYPTION) && !options,
            ignore_dismissable: *ignore_dismissable,
            scan_only: *scan_only,
            win11: self.installs_win11(c).then(|| win11_hardware(a)),
        };
        let mut r = rng::stream(
            self.s.simulation.seed,
            c as u64,
            rng::purpose(purpose::SETUP, self.step_key(c)),
        );
        setup::plan(&self.s.setup, &input, &mut r)
    }
}

impl<T: Transport> World<'_, T> {
    /// Whether the Upgrade OS step at the cursor installs Windows 11 on client `c`
    /// (the package matching the client is a Windows 11 one).
    fn installs_win11(&self, c: u32) -> bool {
        let OpKind::UpgradeOs { content, .. } =
            &self.prog.ops[self.st[c as usize].pc as usize].kind
        else {
            return false;
        };
        self.matching_os(c, content)
            .is_some_and(|i| self.s.content[i as usize].os == WindowsRelease::Win11)
    }
}

/// The Windows 11 readiness table of the clients with `keep(id)`, when the task
/// sequence references a Windows 11 package (`None` otherwise: nothing checks).
pub(crate) fn readiness(
    s: &crate::scenario::model::Scenario,
    referenced: &[u32],
    attrs: &[ClientAttrs],
    keep: impl Fn(u64) -> bool,
) -> Option<readiness::Readiness> {
    let win11 = referenced
        .iter()
        .any(|&i| s.content[i as usize].os == WindowsRelease::Win11);
    if !win11 {
        return None;
    }
    let mut r = readiness::Readiness::default();
    for (c, a) in attrs.iter().enumerate() {
        if keep(c as u64) {
            r.add(&win11_hardware(a));
        }
    }
    Some(r)
}

/// The facts Windows 11's compatibility check reads from a client.
pub(crate) fn win11_hardware(a: &ClientAttrs) -> readiness::Hardware {
    readiness::Hardware {
        arch: a.arch,
        system_drive: u64::from(a.system_drive_mb) * 1_048_576,
        memory: u64::from(a.memory_mb) * 1_048_576,
        tpm: a.hw.tpm(),
        cpu_supported: a.hw.cpu_supported(),
        cpu_mhz: u32::from(a.cpu_mhz),
        firmware: a.hw.firmware(),
    }
}

/// The duration of a fixed distribution without a random stream: `Dist::sample` of
/// `Fixed` draws nothing, and keying a stream per step was 8% of a run of fixed
/// steps. Same value as `d.sample(..).round()` (non-finite or negative values are
/// 0, as there).
pub(super) fn fixed_duration(d: &Dist) -> Option<SimTime> {
    match d {
        Dist::Fixed(v) => Some(if v.is_finite() && *v > 0.0 {
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
