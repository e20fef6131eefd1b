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
//!        | (already available)                                   v
//!        +-----------------------------------------------------> Notified
//!                                        pre-cache on:  |   ^  last item (or no
//!                                                       v   |  OS package matches)
//!                                                   PreCaching
//!                    Install/Deadline during a download |
//!                                                       v
//!                                             FinishingPreCache --its download ends--+
//!                                                                                    |
//!  Notified --Install/Deadline--> Stepping <-----------------------------------------+
//!    (download_all_first: DownloadingAllFirst --last item--> Stepping)
//!
//!  Stepping (the interpreter, inside one event): skip, enter groups, then the step
//!  at the cursor:
//!    - its content is missing ....... FetchingStep --item downloaded--> Stepping
//!    - a run of fixed steps ......... RunningChain --StepTimer--> Stepping
//!    - a timed step ................. RunningStep  --StepTimer--> StepEnd, Stepping
//!    - streamed (access_from_dp) .... Streaming --StepTimer--> StreamingAfterTimer
//!                                     Streaming --last item--> RunningStep
//!                                     StreamingAfterTimer --last item--> StepEnd
//!    - an instant step .............. StepEnd applied at once, next step
//!    - past the last step ........... Done (verdict: succeeded, failed, rolled back)
//!
//!  any running activity --Timeout--> Done (failed in phase `timeout`)
//!  a download that fails for good --> StepEnd (the step fails), or Done when it was
//!  download-all-first; pre-cache just skips the item
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
//!   `vars`: task sequence variables for millions of clients; [`sites`]: per-site
//!   figures (bytes over WAN, the time a WAN link ran full).
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
pub mod sites;
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
