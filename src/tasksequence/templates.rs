//! Built-in task sequence templates (`template = "..."`).
//! DEVELOPMENT PLACEHOLDER: filled by the rollout-semantics work before landing.

use super::tree::TaskSequence;

/// Names accepted by `template = "..."`.
pub const NAMES: &[&str] = &[];

/// The template of that name, if it exists.
pub fn by_name(name: &str) -> Option<TaskSequence> {
    let _ = name;
    None
}
