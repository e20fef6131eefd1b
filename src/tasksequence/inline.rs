//! Inline task sequences in scenario TOML (`[[task_sequence.steps]]`): reading them into
//! a [`TaskSequence`] and printing a tree back in the same form (`fleetsim ts import`).
//! DEVELOPMENT PLACEHOLDER: replaced by the task-sequence worker before landing.

use toml::de::DeTable;

use super::tree::TaskSequence;
use crate::diag::Diagnostic;
use crate::scenario::value::SourceCtx;

/// Reads the `[task_sequence]` table's inline form (`name`, `variables`, `steps`).
pub fn parse(
    ctx: &SourceCtx<'_>,
    key: &str,
    table: &DeTable<'_>,
) -> Result<TaskSequence, Vec<Diagnostic>> {
    let _ = table;
    Err(vec![ctx.diag(
        0..0,
        key,
        "inline task sequences are not implemented yet",
    )])
}
