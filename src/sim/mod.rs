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
//!
//!  With a calendar (`calendar`): the policy arrives at the first poll while the
//!  machine is on; Install comes after `user_start` of on-time; pre-cache (and a
//!  required download-all-first deployment's download before its deadline) is a
//!  BITS job:
//!    PreCaching(transferring) --machine off / rate 0 (Calendar)--> PreCaching(idle,
//!      paused with its bytes) --machine on (Calendar)--> PreCaching(queued or
//!      transferring, resumed)
//!    PreCaching(transferring) --BITS window edge (Calendar)--> same, new cap
//!    PreCaching(transferring) --transient error--> PreCaching(idle) --Retry after
//!      BITS's minimum retry delay--> PreCaching(...), until its no-progress timeout
//!  Deadline --> Notified/PreCaching held (install_at set) --Calendar: machine on
//!    (or woken) inside a maintenance window with max_run_time left--> Stepping
//!  Once the task sequence started nothing here touches the client: it keeps its
//!  machine on until it ends (chains of fixed steps included).
//! ```
//!
//! Windows Setup (Upgrade OS) is one timed step: its plan (`setup::model::plan`)
//! decides at the start how long it takes, the phases it passes through and in
//! which phase it ends, so a client "in Setup phase X" is in `RunningStep` on that
//! step, in the phase whose span covers the clock. The phases, in Setup's order
//! (`--trace` prints one `setup_phase` row per phase at the time it is entered,
//! from the plan, without an event per phase):
//!
//! ```text
//!  RunningStep (Upgrade OS), one StepTimer for the whole plan:
//!    compat_scan --(Windows 11 hardware or an app blocks: 0xC1900200 / 0xC1900208)--> StepEnd
//!      | (scan only: StepEnd with 0xC1900210, or 0xC190020E when the disk is short)
//!      v
//!    downlevel --(not enough disk: 0xC190020E)--> StepEnd
//!      v
//!    restart --> safeos --> first_boot --> second_boot --> StepEnd (code 0)
//!                  |            |               |
//!       encryption |     driver |     migration | (0xC1900101)
//!                  +------------+---------------+--> rollback --> StepEnd (RolledBack)
//! ```
//!
//! A rollback is the `interp::StepEnd::RolledBack` applied at the step's end.
//!
//! # Where the code is
//!
//! - [`program`]: the task sequence compiled for execution; `chain`: runs of fixed
//!   steps as one event.
//! - `world`: the world's state, the event dispatch and the entry of a client
//!   (policy, notification, Install); `state`: one client's state; `interp`: the
//!   interpreter and `StepEnd`; `kinds`: what each step kind does; `steps`: the
//!   machine and variables steps see; `downloads`: DPs, queues, retries, pre-cache;
//!   `precache`: the Windows 11 readiness and pre-cache shortfall known before a
//!   run; `calendar`: power, clicks in on-time, maintenance windows, wake-up,
//!   BITS; `vars`: task sequence variables for millions of clients; [`sites`]: per-site
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

mod calendar;
mod chain;
mod downloads;
mod interp;
mod kinds;
pub mod peers;
mod precache;
pub mod program;
pub mod result;
mod serving;
pub mod sites;
mod state;
mod steps;
pub mod trace;
pub mod transport;
mod vars;
mod world;

mod run;

pub use precache::fleet_checks;
pub use run::{
    Progress, RunOptions, SimError, available_memory, bytes_per_client, peak_rss, run, run_with,
};
