//! fleetsim: a discrete-event simulator of ConfigMgr in-place upgrade rollouts and a
//! load tester for distribution points.
//!
//! The layers, bottom up. A module imports only modules of lower layers, never one
//! beside or above it; `tests/it/layering.rs` reads every `crate::` path and fails
//! on an arrow that points up.
//!
//! 1. [`engine`] (simulated time, the event queue, seeded random streams; knows
//!    nothing of Windows) and [`diag`] (located input errors).
//! 2. [`net`] (max-min fair sharing of links by fluid flows), [`domain`] (the
//!    vocabulary the domain shares: distributions, machine attributes, the fleet and
//!    site descriptions, Windows Setup's parameters) and [`calendar`] (wall-clock
//!    time, power schedules, maintenance and BITS windows as weekly arithmetic).
//! 3. [`input`]: reading files, TOML values, units and distributions.
//! 4. The domain models: [`fleet`] (clients), [`setup`] (Windows Setup) and
//!    [`tasksequence`] (the step tree, its readers and conditions).
//! 5. [`scenario`]: the scenario reader, which composes the models' inputs.
//! 6. [`sim`]: the rollout simulation that ties the models together.
//! 7. [`output`]: summary, CSV, histograms, plots.
//! 8. [`report`] (HTML report, comparisons), [`load`] (live load tests of real
//!    distribution points over HTTP) and [`study`] (sweeps, replications, plans and
//!    merges over many runs).
//! 9. [`cli`]: the `fleetsim` commands.
#![warn(missing_docs)]
// No panics on input: data read from users is accessed with `get` and typed errors.
// The per-event modules that index by ids they assigned themselves say so in an
// `allow` with its reason; tests may unwrap and index (clippy.toml).
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod calendar;
pub mod cli;
pub mod diag;
pub mod domain;
pub mod engine;
pub mod fleet;
pub mod input;
pub mod load;
pub mod net;
pub mod output;
pub mod peer;
pub mod report;
pub mod scenario;
pub mod setup;
pub mod sim;
pub mod study;
pub mod tasksequence;
