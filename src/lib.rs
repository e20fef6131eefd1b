//! fleetsim: a discrete-event simulator of ConfigMgr in-place upgrade rollouts and a
//! load tester for distribution points.
//!
//! The layers, bottom up (arrows point down; no module imports one above it):
//!
//! - [`engine`]: simulated time, the event queue, seeded random streams. Knows nothing
//!   of Windows.
//! - [`net`]: max-min fair sharing of links by fluid flows.
//! - the domain: [`fleet`] (clients), [`tasksequence`] (the step tree and its
//!   interpreter), [`deployment`] and [`setup`] (Windows Setup),
//!   tied together by [`sim`].
//! - I/O: [`scenario`] (reading), [`output`] (summary, CSV, histograms, plots),
//!   [`report`] (HTML report, comparisons).
//! - [`load`]: live load tests of real distribution points over HTTP.
//! - [`study`]: sweeps, replications, plans and merges over many runs.
//! - [`cli`]: the `fleetsim` commands.
#![warn(missing_docs)]
// No panics on input: data read from users is accessed with `get` and typed errors.
// The per-event modules that index by ids they assigned themselves say so in an
// `allow` with its reason; tests may unwrap and index (clippy.toml).
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod cli;
pub mod diag;
pub mod engine;
pub mod fleet;
pub mod load;
pub mod net;
pub mod output;
pub mod report;
pub mod scenario;
pub mod setup;
pub mod sim;
pub mod study;
pub mod tasksequence;
