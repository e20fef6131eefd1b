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
    /// `downloaded`, `attempt_failed`, `rollback`, `finish`...).
    pub event: &'static str,
    /// Task sequence path of the node concerned (empty for client-level events).
    pub path: String,
    /// Details: exit code, content id, outcome.
    pub detail: String,
}

impl<T: Transport> World<'_, T> {
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
