//! Per-client execution traces (`fleetsim run --trace 17`): every policy arrival,
//! Install click, group entered or skipped, step started and ended with its exit code,
//! and download, for the chosen clients. This is how an administrator asks "why did
//! client 17 fail?", and how the tests check step-by-step behaviour against the
//! domain reference. Tracing costs nothing when no client is traced.

use super::transport::Transport;
use super::world::World;
use crate::engine::time::SimTime;

/// One line of `trace.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRow {
    /// Client id.
    pub client: u32,
    /// When.
    pub time: SimTime,
    /// What (`policy`, `install`, `enter`, `skip`, `start`, `end`, `download`,
    /// `downloaded`, `attempt_failed`, `rollback`, `finish`, `setup_phase`...).
    pub event: &'static str,
    /// Task sequence path of the node concerned (empty for client-level events).
    pub path: String,
    /// Details: exit code, content id, outcome.
    pub detail: String,
}

/// The rows in time order. Rows are recorded in event order, which is time order,
/// except the Setup phases (`setup_phase`), recorded from the plan when the Upgrade
/// OS step starts at the times they will be entered; a stable sort puts them in
/// place and keeps every other row where it was.
pub(crate) fn in_time_order(mut rows: Vec<TraceRow>) -> Vec<TraceRow> {
    rows.sort_by_key(|r| r.time);
    rows
}

impl<T: Transport> World<'_, T> {
    /// Records the Windows Setup phases of client `c`'s Upgrade OS step (at the
    /// cursor, starting now): one `setup_phase` row per phase at the time it is
    /// entered, with its duration. From the plan, so no event is added per phase;
    /// a deployment timeout that stops the step earlier shows as its `finish` row.
    pub(crate) fn trace_setup_phases(&mut self, c: u32, plan: &crate::setup::model::SetupPlan) {
        if !self.traced(c) {
            return;
        }
        let pc = self.st[c as usize].pc as usize;
        let path = self
            .prog
            .ops
            .get(pc)
            .map(|o| o.path.clone())
            .unwrap_or_default();
        let mut t = self.now;
        for (phase, d) in plan.phases.iter() {
            self.trace_rows.push(TraceRow {
                client: c,
                time: t,
                event: "setup_phase",
                path: path.clone(),
                detail: format!("{} {}s", phase.as_str(), crate::engine::time::fmt_secs(d)),
            });
            t = t.saturating_add(d);
        }
    }

    /// Whether client `c` is traced.
    pub(crate) fn traced(&self, c: u32) -> bool {
        !self.trace_clients.is_empty() && self.trace_clients.binary_search(&c).is_ok()
    }

    /// Records a trace line for `c` if it is traced; `path` is the node at `pc`
    /// (`u32::MAX`: none).
    pub(crate) fn trace(
        &mut self,
        c: u32,
        event: &'static str,
        pc: u32,
        detail: impl FnOnce() -> String,
    ) {
        if !self.traced(c) {
            return;
        }
        let path = self
            .prog
            .ops
            .get(pc as usize)
            .map(|o| o.path.clone())
            .unwrap_or_default();
        self.trace_rows.push(TraceRow {
            client: c,
            time: self.now,
            event,
            path,
            detail: detail(),
        });
    }
}
