//! Windows Setup: its exit codes and the phase model of an in-place upgrade.

pub mod codes;
pub mod model;
pub mod readiness;
