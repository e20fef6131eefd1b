//! Chains of fixed steps, run as one event.
//!
//! A task sequence often holds runs of steps whose outcome is known before they
//! start: no condition, a fixed duration, a fixed exit code that counts as success,
//! no content, no output variable. Nothing another client does can change how such a
//! run ends, and nothing another client sees depends on where inside the run this
//! client is. So instead of one timer event per step, the client schedules one event
//! at the end of the whole run and applies every step's effects there (counters in
//! `steps.csv`, `_SMSTSLastActionRetCode`), in step order. A run of 20 one-minute
//! steps is 1 event instead of 20; that is most of the difference between fleetsim
//! and a hand-written model of the same workload (`scripts/simpy/`).
//!
//! The shortcut is taken only when it cannot be observed: never for a traced client
//! (the trace has one line per step, in time order), never when the run would cross
//! the horizon or the task-sequence timeout (the steps must end as they would one by
//! one), and a run stopped by Ctrl-C settles each client's chain up to the stop time
//! ([`World::settle_chains`]). One thing differs from stepping: among events at the
//! very same microsecond, the chain's end event was queued when the chain began, not
//! when its last step began, so it may be handled before another client's event at
//! that instant rather than after. Equal-time order is first-queued-first-handled in
//! both cases; only the queuing moment differs.

use super::program::{NONE, Op, OpKind};
use super::state::Activity;
use super::transport::Transport;
use super::vars::builtin;
use super::world::{EvKind, World};
use crate::engine::time::SimTime;
use crate::scenario::model::{Dist, Scenario};
use crate::tasksequence::expand;

/// Fewest steps (not counting groups) that make a chain worth an event of its own.
const MIN_STEPS: u32 = 2;

/// The chains of a compiled task sequence, indexed by op.
#[derive(Debug, Default)]
pub(crate) struct Chains {
    /// One past the last op of the chain starting here, or [`NONE`] when no chain
    /// worth taking starts here.
    pub(crate) end: Vec<u32>,
    /// Time from here to the end of the chain.
    pub(crate) total: Vec<SimTime>,
    /// The op's own duration (0 for groups) when it can be in a chain.
    dur: Vec<SimTime>,
    /// The op's exit code when it can be in a chain and is a step.
    code: Vec<Option<i64>>,
}

/// How an op behaves when its outcome is fixed: `Some((duration, exit code))` for a
/// step (exit code `None` for a group), `None` when it depends on the client.
fn fixed_op(s: &Scenario, op: &Op) -> Option<(SimTime, Option<i64>)> {
    if op.cond != NONE || op.disabled {
        return None;
    }
    let fixed = |d: &Dist| super::kinds::fixed_duration(d);
    // The exit code drawn from cumulative weights, when a single code has them all.
    let drawn = |w: &[(i64, f64)]| match w.first() {
        None => Some(0),
        Some(&(code, p)) if p >= 1.0 => Some(code),
        Some(_) => None,
    };
    let (dur, code) = match &op.kind {
        OpKind::Group => return Some((0, None)),
        OpKind::Run {
            command,
            package: None,
            duration,
            exit_codes,
            output_slot: None,
        } if op.exit_override.is_empty() => {
            let code = match command.as_deref() {
                Some(c) if c.contains('%') => return None,
                Some(c) => match expand::cmd_exit_code(c) {
                    Some(n) => n,
                    None => drawn(exit_codes)?,
                },
                None => drawn(exit_codes)?,
            };
            (
                fixed(op.duration_override.as_ref().unwrap_or(duration))?,
                code,
            )
        }
        OpKind::Timed { duration } => (
            fixed(op.duration_override.as_ref().unwrap_or(duration))?,
            drawn(&op.exit_override)?,
        ),
        OpKind::Restart { duration } => (
            fixed(
                op.duration_override
                    .as_ref()
                    .or(duration.as_ref())
                    .unwrap_or(&s.setup.restart),
            )?,
            drawn(&op.exit_override)?,
        ),
        _ => return None,
    };
    op.success_codes
        .contains(&code)
        .then_some((dur, Some(code)))
}

impl Chains {
    /// Finds the chains of `ops`: maximal runs of fixed ops in pre-order. After a
    /// fixed step the cursor moves to `end` (its next op in pre-order, since a step
    /// has no children); entering a fixed group moves it to the group's first child;
    /// so a chain is a contiguous range of ops.
    pub(crate) fn find(s: &Scenario, ops: &[Op]) -> Chains {
        let n = ops.len();
        let mut ch = Chains {
            end: vec![NONE; n],
            total: vec![0; n],
            dur: vec![0; n],
            code: vec![None; n],
        };
        let fixed: Vec<Option<(SimTime, Option<i64>)>> =
            ops.iter().map(|op| fixed_op(s, op)).collect();
        // From the back: the chain from i is op i followed by the chain from i + 1.
        let mut next_end = n as u32;
        let mut next_total: SimTime = 0;
        let mut next_steps = 0u32;
        for (i, f) in fixed.iter().enumerate().rev() {
            match *f {
                // A step has no children, so its successor is the next op; a group's
                // successor is its first child, also the next op.
                Some((dur, code)) if code.is_none() || ops[i].end as usize == i + 1 => {
                    next_total = next_total.saturating_add(dur);
                    next_steps += u32::from(code.is_some());
                    ch.dur[i] = dur;
                    ch.code[i] = code;
                    ch.total[i] = next_total;
                    if next_steps >= MIN_STEPS {
                        ch.end[i] = next_end;
                    }
                }
                _ => {
                    next_end = i as u32;
                    next_total = 0;
                    next_steps = 0;
                }
            }
        }
        ch
    }
}

impl<T: Transport> World<'_, T> {
    /// Starts the chain at the client's cursor as one event, if one starts there and
    /// taking it cannot be observed. Returns false to step normally.
    pub(crate) fn start_chain(&mut self, c: u32) -> bool {
        let pc = self.st[c as usize].pc as usize;
        let Some(&end) = self.prog.chains.end.get(pc) else {
            return false;
        };
        if end == NONE || self.traced(c) {
            return false;
        }
        let at = self.now.saturating_add(self.prog.chains.total[pc]);
        if at > self.s.simulation.horizon {
            return false;
        }
        if let Some(t) = self.s.deployment.timeout {
            // The timeout event was queued when the task sequence started, before
            // this chain's end: at an equal time it would win, so the chain must end
            // strictly before it.
            if at >= self.st[c as usize].ts_start.saturating_add(t) {
                return false;
            }
        }
        let st = &mut self.st[c as usize];
        st.activity = Activity::RunningChain;
        st.since = self.now;
        st.item = 0;
        st.attempt = 0;
        self.schedule(at, c, EvKind::StepTimer);
        true
    }

    /// Applies the effects of the client's chain for every op that has ended by
    /// `limit` (all of them when called at the chain's end event), moving the cursor
    /// past them. Returns whether the whole chain ended.
    fn apply_chain(&mut self, c: u32, limit: SimTime) -> bool {
        let st = &self.st[c as usize];
        let start = st.pc as usize;
        let end = self.prog.chains.end[start] as usize;
        let mut t = st.since;
        let mut last = None;
        let mut pc = start;
        while pc < end {
            let steps = &mut self.stats.steps[pc];
            steps.ran += 1;
            if let Some(code) = self.prog.chains.code[pc] {
                t = t.saturating_add(self.prog.chains.dur[pc]);
                if t > limit {
                    break; // started, not ended
                }
                steps.succeeded += 1;
                last = Some(code);
            }
            pc += 1;
        }
        if let Some(code) = last {
            let id = self.prog.vars.strings.intern_int(code);
            self.vars.set(c, builtin::LAST_RET_SLOT, id);
        }
        let st = &mut self.st[c as usize];
        st.pc = pc as u32;
        st.step_try = 0;
        // Left in the step running at `limit` (or between steps, at the chain's end
        // event, until the interpreter moves on).
        st.activity = Activity::RunningStep;
        pc == end
    }

    /// The chain's end event: every step of it ended; the interpreter goes on.
    pub(crate) fn finish_chain(&mut self, c: u32) {
        self.apply_chain(c, SimTime::MAX);
        self.run_ts(c);
    }

    /// A run stopped early (Ctrl-C) at `now`: every client inside a chain gets the
    /// steps that ended by then, and is left in the step running at that time, as if
    /// it had stepped.
    pub(crate) fn settle_chains(&mut self, now: SimTime) {
        for c in 0..self.st.len() as u32 {
            if self.st[c as usize].activity == Activity::RunningChain {
                self.apply_chain(c, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::program;
    use std::path::Path;

    fn scenario(steps: &str) -> Scenario {
        let text = format!(
            "name = \"t\"\n[fleet]\nclients = 1\n[[distribution_points]]\nname = \"DP\"\n\
             bandwidth = \"1Gbps\"\n[task_sequence]\n{steps}"
        );
        crate::scenario::load_str(&text, Path::new("t.toml"), Path::new("."), &[]).unwrap()
    }

    fn chains(steps: &str) -> (Vec<u32>, Vec<SimTime>) {
        let s = scenario(steps);
        let p = program::compile(&s).unwrap();
        (p.chains.end.clone(), p.chains.total.clone())
    }

    const RUN60: &str =
        "[[task_sequence.steps]]\ntype = \"run\"\nname = \"a\"\nduration = \"60s\"\n";

    #[test]
    fn fixed_steps_form_one_chain_from_each_start() {
        let (end, total) = chains(&RUN60.repeat(3));
        assert_eq!(end, vec![3, 3, NONE]); // the last step alone is not worth a chain
        assert_eq!(total, vec![180_000_000, 120_000_000, 60_000_000]);
    }

    #[test]
    fn a_condition_a_random_duration_or_a_failing_code_breaks_the_chain() {
        let cond = "[[task_sequence.steps]]\ntype = \"run\"\nname = \"c\"\nduration = \"60s\"\n\
                    condition = { variable = \"X\", op = \"exists\" }\n";
        let (end, _) = chains(&format!("{RUN60}{RUN60}{cond}{RUN60}{RUN60}"));
        assert_eq!(end, vec![2, NONE, NONE, 5, NONE]);
        let random = "[[task_sequence.steps]]\ntype = \"run\"\nname = \"r\"\n\
                      duration = { dist = \"uniform\", min = \"1s\", max = \"2s\" }\n";
        let (end, _) = chains(&format!("{RUN60}{random}{RUN60}"));
        assert_eq!(end, vec![NONE, NONE, NONE]);
        let fails = "[[task_sequence.steps]]\ntype = \"run\"\nname = \"f\"\nduration = \"60s\"\n\
                     command = \"cmd /c exit 5\"\n";
        let (end, _) = chains(&format!("{RUN60}{fails}{RUN60}"));
        assert_eq!(end, vec![NONE, NONE, NONE]);
        let ok = "[[task_sequence.steps]]\ntype = \"run\"\nname = \"o\"\nduration = \"60s\"\n\
                  command = \"cmd /c exit 0\"\n";
        let (end, _) = chains(&format!("{RUN60}{ok}{RUN60}"));
        assert_eq!(end, vec![3, 3, NONE]);
    }

    #[test]
    fn unconditional_groups_are_entered_inside_a_chain() {
        let g = "[[task_sequence.steps]]\ntype = \"group\"\nname = \"g\"\n\
                 [[task_sequence.steps.steps]]\ntype = \"run\"\nname = \"x\"\nduration = \"60s\"\n\
                 [[task_sequence.steps.steps]]\ntype = \"run\"\nname = \"y\"\nduration = \"60s\"\n";
        let (end, total) = chains(&format!("{RUN60}{g}{RUN60}"));
        // a, g, x, y, a: one chain from the first step through the group.
        assert_eq!(end, vec![5, 5, 5, 5, NONE]);
        assert_eq!(total[0], 240_000_000);
    }

    #[test]
    fn a_stop_inside_a_chain_keeps_the_steps_that_ended_by_then() {
        let s = {
            let text = format!(
                "name = \"t\"\n[fleet]\nclients = 1\n[client]\npolicy_poll = \"0s\"\n\
                 [deployment]\nuser_start = \"0s\"\n[[distribution_points]]\nname = \"DP\"\n\
                 bandwidth = \"1Gbps\"\n[task_sequence]\n{}",
                RUN60.repeat(5)
            );
            crate::scenario::load_str(&text, Path::new("t.toml"), Path::new("."), &[]).unwrap()
        };
        let prog = program::compile(&s).unwrap();
        let attrs = crate::fleet::generate(&s.population());
        let mut w = World::new(&s, prog, attrs, crate::net::FairShareNet::new());
        w.schedule_policies();
        let stop = 150_000_000; // 2.5 steps in
        while let Some(t) = w.queue.peek_time().filter(|&t| t <= stop) {
            let (_, ev) = w.queue.pop().unwrap();
            w.now = t;
            w.handle(ev);
        }
        assert_eq!(
            w.st[0].activity,
            Activity::RunningChain,
            "the client is inside its chain"
        );
        w.settle_chains(stop);
        let counts: Vec<[u64; 4]> = w
            .stats
            .steps
            .iter()
            .map(|n| [n.ran, n.skipped, n.succeeded, n.failed])
            .collect();
        assert_eq!(
            counts,
            vec![[1, 0, 1, 0], [1, 0, 1, 0], [1, 0, 0, 0], [0; 4], [0; 4]]
        );
        assert_eq!(w.st[0].pc, 2, "left in the step running at the stop");
        assert_ne!(w.st[0].activity, Activity::RunningChain);
        assert!(w.st[0].activity.running(), "still in progress");
        assert_eq!(w.var_str(0, "_SMSTSLastActionRetCode"), Some("0"));
    }
}
