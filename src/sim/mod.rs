//! The rollout simulation: a fleet receiving a deployment and running its task
//! sequence, downloading content over a fairly shared network.
//!
//! # One client's lifecycle
//!
//! Each client is in exactly one `state::Activity`; events move it on. `Retry` and
//! `Fallback` events and network completions only move the download inside an
//! activity (`state::Link`: idle, queued for a connection, transferring).
//!
//! ```text
//!  WaitingForPolicy --Policy--> WaitingForAvailable --Available--+
//!         |  (already available)                                 |
//!         +---------------------------------------------------> Notified
//!                                                  pre-cache on |   ^ last item
//!                                                               v   | (or no OS match)
//!                                                          PreCaching
//!                           Install/Deadline while downloading: install_clicked,
//!                           the task sequence starts when this download ends
//!
//!  Notified --Install/Deadline--> Stepping (the interpreter, within one event)
//!       download_all_first: DownloadingAllFirst --each item's completion--+
//!                                                                       |
//!  Stepping: skip / enter groups / start the step at the cursor <--------+
//!     - content missing ............. FetchingStep --completion--> Stepping
//!     - a run of fixed steps ........ RunningChain --StepTimer--> Stepping
//!     - a timed step ................ RunningStep  --StepTimer (and the stream, when
//!                                       access_from_dp streams its content)
//!                                       --> StepEnd applied --> Stepping
//!     - an instant step ............. StepEnd applied, next step
//!     - past the last step .......... Done (verdict: succeeded, failed, rolled back)
//!
//!  any running activity --Timeout--> Done (failed, phase timeout)
//! ```
//!
//! Windows Setup (Upgrade OS) is one timed step: its plan (`setup::model::plan`)
//! decides at the start how long it takes and in which phase it ends, so a client
//! "in Setup phase X" is in `RunningStep` on that step; a rollback is the
//! `interp::StepEnd::RolledBack` applied at its end.
//!
//! # Where the code is
//!
//! - [`program`]: the task sequence compiled for execution; `chain`: runs of fixed
//!   steps as one event.
//! - `world`: the world's state, the event dispatch and the entry of a client
//!   (policy, notification, Install); `state`: one client's state; `interp`: the
//!   interpreter and `StepEnd`; `kinds`: what each step kind does; `steps`: the
//!   machine and variables steps see; `downloads`: DPs, queues, retries, pre-cache;
//!   `vars`: task sequence variables for millions of clients.
//! - [`result`]: the record every output is written from; [`trace`]: per-client
//!   traces; [`transport`]: the seam between the model and how bytes move.
//!
//! Only what other layers use is public (the run, its options and result, the
//! transport seam, the compiler's entry); the rest is crate-private, so the compiler
//! reports what nothing reads.
#![allow(
    clippy::indexing_slicing,
    reason = "per-event hot path: every index is an id the world builder and program compiler \
              assigned (client < fleet size, op < program length, content < catalogue, slot < \
              variable table, link < links), in range by construction; user input reaches here \
              only after scenario::check turned it into those ids"
)]

mod chain;
mod downloads;
mod interp;
mod kinds;
pub mod program;
pub mod result;
mod state;
mod steps;
pub mod trace;
pub mod transport;
mod vars;
mod world;

mod run;

pub use run::{
    Progress, RunOptions, SimError, available_memory, bytes_per_client, peak_rss, run, run_with,
};
