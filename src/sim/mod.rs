//! The rollout simulation: a fleet receiving a deployment and running its task
//! sequence, downloading content over a fairly shared network.
//!
//! - [`program`]: the task sequence compiled for execution.
//! - [`world`]: state and event handlers; [`steps`]: what each step does;
//!   [`downloads`]: DPs, queues, retries, pre-cache.
//! - [`result`]: the record every output is written from.

pub mod chain;
pub mod downloads;
pub mod program;
pub mod result;
pub mod state;
pub mod steps;
pub mod trace;
pub mod transport;
pub mod vars;
pub mod world;

mod run;

pub use run::{
    Progress, RunOptions, SimError, available_memory, bytes_per_client, peak_rss, run, run_with,
};
