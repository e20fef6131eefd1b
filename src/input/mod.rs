//! Reading what users write: files (size-limited, UTF-8), TOML values with their
//! spans, quantities with units, distributions. Every problem becomes a located
//! [`crate::diag::Diagnostic`].
//!
//! A leaf of the input side: it imports only [`crate::diag`], [`crate::domain`] and
//! [`crate::engine`], so the task-sequence readers (`tasksequence::inline`, `::xml`)
//! and the scenario reader both build on it without importing each other.

pub mod dist;
pub mod file;
pub mod units;
pub mod value;
