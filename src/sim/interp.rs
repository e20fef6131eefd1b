//! The task-sequence interpreter: it walks the step tree from the client's cursor,
//! starts each step ([`World::execute`]), and applies how a step ended
//! ([`StepEnd`]) in one place, [`World::end_step`]: success, retries, continue on
//! error, failure upwards, and Windows Setup's rollback.

use super::downloads::Fetch;
use super::program::{NONE, OpKind};
use super::result::{Metric, Outcome};
use super::state::{Activity, FailPhase, Verdict};
use super::transport::Transport;
use super::vars::builtin;
use super::world::World;
use crate::setup::model::SetupPhase;

/// How a step ended: the one value [`World::end_step`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepEnd {
    /// The step exited with `code`. `blame`, when the code is a failure the step
    /// reports, is the phase `failures.csv` gives it; the code then becomes the
    /// client's exit code. Success codes, retries and continue-on-error decide the
    /// rest.
    Exit {
        /// Exit code.
        code: i64,
        /// Phase of the failure, if the step reports one.
        blame: Option<FailPhase>,
    },
    /// Windows Setup rolled back to the previous OS in `phase` with `code`. The step
    /// counts as failed but does not stop the sequence: the Rollback group runs
    /// next (article, "Optional task sequence steps for rollback").
    RolledBack {
        /// Setup's return code.
        code: u32,
        /// Where it failed.
        phase: SetupPhase,
    },
}

impl StepEnd {
    /// A plain exit that blames nothing.
    pub(crate) fn code(code: i64) -> StepEnd {
        StepEnd::Exit { code, blame: None }
    }
}

impl<T: Transport> World<'_, T> {
    /// Runs the interpreter from the client's cursor until it has to wait.
    pub(crate) fn run_ts(&mut self, c: u32) {
        loop {
            let pc = self.st[c as usize].pc;
            if pc as usize >= self.prog.ops.len() {
                self.finish_ts(c);
                return;
            }
            if self.start_chain(c) {
                return; // one event at the chain's end
            }
            let op = &self.prog.ops[pc as usize];
            let skip = op.disabled || (op.cond != NONE && !self.eval_cond(c, op.cond));
            if skip {
                let why = if op.disabled {
                    "disabled"
                } else {
                    "condition false"
                };
                self.st[c as usize].pc = op.end;
                self.stats.steps[pc as usize].skipped += 1;
                self.trace(c, "skip", pc, || why.to_string());
                continue;
            }
            self.stats.steps[pc as usize].ran += 1;
            if matches!(op.kind, OpKind::Group) {
                self.st[c as usize].pc = pc + 1;
                self.trace(c, "enter", pc, String::new);
                continue;
            }
            self.trace(c, "start", pc, String::new);
            let st = &mut self.st[c as usize];
            st.item = 0;
            st.attempt = 0;
            match self.fetch_step_content(c) {
                Fetch::Ready => {}
                Fetch::Wait => return,
                Fetch::Moved => continue,
            }
            if !self.execute(c) {
                return; // waiting for a timer
            }
        }
    }

    /// Ends the task sequence: outcome from the verdict, statistics.
    fn finish_ts(&mut self, c: u32) {
        let st = &mut self.st[c as usize];
        st.activity = Activity::Done;
        st.end_at = self.now;
        let outcome = st.verdict.outcome();
        let (ts_start, fail_phase, code) = (st.ts_start, st.fail_phase, st.exit_code);
        if outcome == Outcome::Succeeded {
            st.exit_code = 0;
            let ttc = self.now.saturating_sub(self.s.deployment.available_at);
            self.stats.latency.record(Metric::TimeToCompliance, ttc);
        } else {
            *self.stats.failures.entry((code, fail_phase)).or_insert(0) += 1;
        }
        self.stats
            .latency
            .record(Metric::TaskSequence, self.now - ts_start);
        self.stats.completions.push((self.now, outcome));
        let shown = if outcome == Outcome::Succeeded {
            0
        } else {
            code
        };
        self.trace(c, "finish", u32::MAX, || {
            format!("{} {shown}", outcome.as_str())
        });
    }

    /// Applies how the step at the cursor ended. The caller goes on with the
    /// interpreter ([`World::run_ts`]).
    pub(crate) fn end_step(&mut self, c: u32, end: StepEnd) {
        match end {
            StepEnd::Exit { code, blame } => {
                if let Some(phase) = blame {
                    let st = &mut self.st[c as usize];
                    st.fail_phase = phase;
                    st.exit_code = code as u32;
                }
                self.complete_step(c, code);
            }
            StepEnd::RolledBack { code, phase } => {
                let pc = self.st[c as usize].pc as usize;
                let st = &mut self.st[c as usize];
                st.verdict = Verdict::RolledBack;
                st.exit_code = code;
                st.fail_phase = FailPhase::Setup(phase);
                let id = self.prog.vars.strings.intern(&code.to_string());
                if let Some(last) = self.prog.vars.find(builtin::LAST_RET) {
                    self.vars.set(c, last, id);
                }
                self.stats.steps[pc].failed += 1;
                self.trace(c, "rollback", pc as u32, || {
                    format!("{code} {}", phase.as_str())
                });
                self.st[c as usize].pc = self.prog.ops[pc].end;
            }
        }
    }

    /// A step ended with `code`: success, retry, continue on error or fail upwards.
    fn complete_step(&mut self, c: u32, code: i64) {
        let pc = self.st[c as usize].pc as usize;
        let id = self.prog.vars.strings.intern_int(code);
        self.vars.set(c, builtin::LAST_RET_SLOT, id);
        self.trace(c, "end", pc as u32, || code.to_string());
        let op = &self.prog.ops[pc];
        if op.success_codes.contains(&code) {
            self.st[c as usize].pc = op.end;
            self.st[c as usize].step_try = 0;
            self.stats.steps[pc].succeeded += 1;
            return;
        }
        let st = &mut self.st[c as usize];
        if st.step_try < op.retry_count {
            st.step_try += 1;
            return; // pc unchanged: the interpreter runs the step again
        }
        st.step_try = 0;
        self.stats.steps[pc].failed += 1;
        if op.continue_on_error {
            st.pc = op.end;
            return;
        }
        self.fail_upwards(c, code as u32);
    }

    /// A failure not absorbed by the step: the innermost enclosing group with continue
    /// on error absorbs it; otherwise the task sequence fails.
    fn fail_upwards(&mut self, c: u32, code: u32) {
        let mut g = self.prog.ops[self.st[c as usize].pc as usize].parent;
        while g != NONE {
            let op = &self.prog.ops[g as usize];
            if op.continue_on_error {
                self.st[c as usize].pc = op.end;
                return;
            }
            g = op.parent;
        }
        self.fail_ts(c, code);
    }

    /// The task sequence fails with `code`: the cursor moves past the end.
    pub(crate) fn fail_ts(&mut self, c: u32, code: u32) {
        let st = &mut self.st[c as usize];
        st.verdict.fail();
        st.exit_code = code;
        st.pc = self.prog.ops.len() as u32;
    }

    /// Stops a running task sequence now with `code` (timeout).
    pub(crate) fn abort(&mut self, c: u32, code: u32, phase: FailPhase) {
        self.release_queue_slot(c);
        let st = &mut self.st[c as usize];
        st.epoch = st.epoch.wrapping_add(1);
        st.verdict.fail();
        st.exit_code = code;
        st.fail_phase = phase;
        self.finish_ts(c);
    }

    /// The running step's timer fired.
    pub(crate) fn on_step_timer(&mut self, c: u32) {
        match self.st[c as usize].activity {
            Activity::RunningChain => self.finish_chain(c),
            // The step ends with its stream.
            Activity::Streaming(link) => {
                self.st[c as usize].activity = Activity::StreamingAfterTimer(link);
            }
            Activity::RunningStep => self.finish_timed_step(c),
            // A step timer is live only while its step or chain runs (an abort or a
            // failed stream moves the epoch on, which drops the event).
            _ => {}
        }
    }

    /// The timed part of the step at the cursor is over (and its stream, if any):
    /// decide how it ended, apply it, and go on.
    pub(crate) fn finish_timed_step(&mut self, c: u32) {
        let end = self.end_of_timed_step(c);
        self.end_step(c, end);
        self.run_ts(c);
    }
}
