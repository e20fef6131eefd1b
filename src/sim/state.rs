//! Per-client mutable state, packed: what the client is doing ([`Activity`]), the
//! interpreter cursor, timestamps, the download in progress and what its history
//! decided ([`Facts`], [`Verdict`], [`FailPhase`]). 104 bytes per client.

use super::result::Outcome;
use crate::engine::time::SimTime;
use crate::setup::model::SetupPhase;

/// "Never happened" timestamp.
pub(crate) const NEVER: SimTime = SimTime::MAX;

/// What a client is doing now: the one state of its lifecycle (the diagram is in
/// `sim/mod.rs`). Every handler reads it to decide what an event means and sets it
/// when the client moves on; nothing else says where a client is. Two bytes: a
/// variant and, for those that download, the state of the download ([`Link`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Activity {
    /// Has not received the deployment policy yet.
    WaitingForPolicy,
    /// Has the policy; the deployment is not available yet.
    WaitingForAvailable,
    /// Notified; waiting for Install (or the deadline), nothing being downloaded.
    Notified,
    /// Notified and pre-caching item `item` of its pre-cache list.
    PreCaching(Link),
    /// Install was clicked during a pre-cache download: the task sequence has
    /// started and runs once this download ends (it is the same BITS job the step
    /// would start).
    FinishingPreCache(Link),
    /// The task sequence runs and the interpreter is moving the cursor: a state held
    /// only inside one event's handling, until the next step starts or waits.
    Stepping,
    /// The task sequence started with download-all-first: downloading referenced
    /// item `item` before the first step.
    DownloadingAllFirst(Link),
    /// Downloading item `item` of the content of the step at the cursor, before it
    /// runs.
    FetchingStep(Link),
    /// The step at the cursor runs until its timer fires.
    RunningStep,
    /// The step at the cursor runs until its timer fires, and streams item `item` of
    /// its content from a DP meanwhile (access content directly from a DP).
    Streaming(Link),
    /// The step's timer fired while it was still streaming: it ends with the stream.
    StreamingAfterTimer(Link),
    /// Running the chain of fixed steps that starts at the cursor, as one event
    /// (`sim::chain`); it began at `since`.
    RunningChain,
    /// The task sequence ended; the [`Verdict`] says how.
    Done,
}

/// Where the current download attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// No attempt in flight: before the first request, or waiting for a retry or
    /// for boundary-group fallback.
    Idle,
    /// Waiting in the DP's queue for a connection.
    Queued,
    /// Transferring; `fails`: the attempt will fail part-way (a transient failure
    /// drawn when it started).
    Transferring {
        /// The attempt ends in a transient failure.
        fails: bool,
    },
}

impl Activity {
    /// Whether the task sequence has started and not ended (outcome in progress).
    pub(crate) fn running(self) -> bool {
        !matches!(
            self,
            Activity::WaitingForPolicy
                | Activity::WaitingForAvailable
                | Activity::Notified
                | Activity::PreCaching(_)
                | Activity::Done
        )
    }

    /// The download in progress, if this activity downloads.
    pub(crate) fn link(self) -> Option<Link> {
        match self {
            Activity::PreCaching(link)
            | Activity::FinishingPreCache(link)
            | Activity::DownloadingAllFirst(link)
            | Activity::FetchingStep(link)
            | Activity::Streaming(link)
            | Activity::StreamingAfterTimer(link) => Some(link),
            _ => None,
        }
    }

    /// Sets the state of the download in progress (no effect when none is).
    pub(crate) fn set_link(&mut self, new: Link) {
        match self {
            Activity::PreCaching(link)
            | Activity::FinishingPreCache(link)
            | Activity::DownloadingAllFirst(link)
            | Activity::FetchingStep(link)
            | Activity::Streaming(link)
            | Activity::StreamingAfterTimer(link) => *link = new,
            _ => {}
        }
    }

    /// Whether the download is pre-cache's (its bytes count as pre-cache bytes).
    pub(crate) fn precaching(self) -> bool {
        matches!(
            self,
            Activity::PreCaching(_) | Activity::FinishingPreCache(_)
        )
    }

    /// Whether the running step streams its content (no local copy is kept).
    pub(crate) fn streaming(self) -> bool {
        matches!(
            self,
            Activity::Streaming(_) | Activity::StreamingAfterTimer(_)
        )
    }

    /// What the download is for, as the random-stream key of its attempts has
    /// always spelled it: 1 for pre-cache, 2 for the task sequence, 0 for none.
    pub(crate) fn owner_key(self) -> u32 {
        match self {
            a if a.precaching() => 1,
            a if a.link().is_some() => 2,
            _ => 0,
        }
    }
}

/// What the client's history decided, in one byte: changes a step made to the
/// machine, and whether Install found everything pre-cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Facts(u8);

impl Facts {
    /// `remove incompatible_apps` ran.
    pub(crate) const REMOVED_APPS: Facts = Facts(1);
    /// `remove incompatible_drivers` ran.
    pub(crate) const REMOVED_DRIVERS: Facts = Facts(2);
    /// `remove third_party_security` ran.
    pub(crate) const SUSPENDED_SECURITY: Facts = Facts(4);
    /// Everything needed was cached when Install was clicked.
    pub(crate) const PRECACHED: Facts = Facts(8);

    /// Whether `f` holds.
    pub(crate) fn has(self, f: Facts) -> bool {
        self.0 & f.0 != 0
    }

    /// Records `f`.
    pub(crate) fn insert(&mut self, f: Facts) {
        self.0 |= f.0;
    }
}

/// How the task sequence is going to end, decided as it runs: a rollback outranks
/// a later failure (the outcome is `rolled_back`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Verdict {
    /// Nothing failed so far.
    #[default]
    Succeeding,
    /// The task sequence failed.
    Failed,
    /// Windows Setup rolled back (whatever happened after).
    RolledBack,
}

impl Verdict {
    /// The outcome of a task sequence that ended with this verdict.
    pub(crate) fn outcome(self) -> Outcome {
        match self {
            Verdict::Succeeding => Outcome::Succeeded,
            Verdict::Failed => Outcome::Failed,
            Verdict::RolledBack => Outcome::RolledBack,
        }
    }

    /// Records a task sequence failure (a rollback stays a rollback).
    pub(crate) fn fail(&mut self) {
        if *self != Verdict::RolledBack {
            *self = Verdict::Failed;
        }
    }
}

/// Where a failure happened, for `failures.csv` (and the order of its rows at equal
/// exit codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) enum FailPhase {
    /// Not attributed to a step.
    #[default]
    TaskSequence,
    /// Downloading content.
    Download,
    /// A Run Command Line or PowerShell step.
    Run,
    /// Check Readiness.
    CheckReadiness,
    /// A phase of Windows Setup.
    Setup(SetupPhase),
    /// A step without a model of its own (install steps, timed steps).
    Install,
    /// The deployment's timeout.
    Timeout,
    /// No distribution point can serve the client.
    ContentLocation,
}

impl FailPhase {
    /// The name in `failures.csv`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FailPhase::TaskSequence => "task_sequence",
            FailPhase::Download => "download",
            FailPhase::Run => "run",
            FailPhase::CheckReadiness => "check_readiness",
            FailPhase::Setup(p) => p.as_str(),
            FailPhase::Install => "install",
            FailPhase::Timeout => "timeout",
            FailPhase::ContentLocation => "content_location",
        }
    }
}

/// One client's state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientState {
    /// Policy received.
    pub(crate) policy_at: SimTime,
    /// Install clicked / deadline.
    pub(crate) install_at: SimTime,
    /// Task sequence started.
    pub(crate) ts_start: SimTime,
    /// Task sequence ended.
    pub(crate) end_at: SimTime,
    /// When the current unit of work began: the first request of the content being
    /// downloaded (download latency includes retries), or the start of the chain in
    /// [`Activity::RunningChain`].
    pub(crate) since: SimTime,
    /// Boundary-group fallback allowed from (NEVER: not yet needed).
    pub(crate) fallback_at: SimTime,
    /// Pre-cache started.
    pub(crate) precache_at: SimTime,
    /// Bytes downloaded.
    pub(crate) bytes: u64,
    /// Bytes in the cache.
    pub(crate) cache_used: u64,
    /// Exit code of the failure (or of the last step).
    pub(crate) exit_code: u32,
    /// Interpreter cursor (node index).
    pub(crate) pc: u32,
    /// Content index being downloaded.
    pub(crate) dl_content: u32,
    /// Position in the list the activity walks: the pre-cache list, the referenced
    /// content (download-all-first), or the step's content (fetched or streamed). 32
    /// bits: a step may list more than 65,535 items (issue 13).
    pub(crate) item: u32,
    /// Step attempt (retryCount): at most the op's `retry_count`, which the compiler
    /// holds to `MAX_RETRY_COUNT` (65,535), so it cannot wrap (issue 13).
    pub(crate) step_try: u16,
    /// Download attempt (0 = first); at most `MAX_DOWNLOAD_RETRIES`.
    pub(crate) attempt: u16,
    /// DP used for the current / last download.
    pub(crate) dp: u16,
    /// Guards stale events and flows after an abort or a failed stream. Up to 28
    /// bits (`world::MAX_EPOCH`; the compiler bounds how far it can move): a step
    /// retried 65,535 times whose stream fails each time moves it on once per try,
    /// and a 16-bit epoch wrapped and revived a stale timer (issue 13).
    pub(crate) epoch: u32,
    /// What the client is doing.
    pub(crate) activity: Activity,
    /// How the task sequence is going to end.
    pub(crate) verdict: Verdict,
    /// Phase of the failure.
    pub(crate) fail_phase: FailPhase,
    /// What the history decided.
    pub(crate) facts: Facts,
}

// Millions of clients: the state must not grow unnoticed (it was 112 bytes before
// the lifecycle became one enum).
const _: () = assert!(std::mem::size_of::<ClientState>() <= 104);

impl Default for ClientState {
    fn default() -> Self {
        ClientState {
            policy_at: NEVER,
            install_at: NEVER,
            ts_start: NEVER,
            end_at: NEVER,
            since: NEVER,
            fallback_at: NEVER,
            precache_at: NEVER,
            bytes: 0,
            cache_used: 0,
            exit_code: 0,
            pc: 0,
            dl_content: u32::MAX,
            item: 0,
            step_try: 0,
            attempt: 0,
            dp: u16::MAX,
            epoch: 0,
            activity: Activity::WaitingForPolicy,
            verdict: Verdict::Succeeding,
            fail_phase: FailPhase::TaskSequence,
            facts: Facts::default(),
        }
    }
}

/// Cached-content bitsets for all clients, `words` u64 per client.
#[derive(Debug)]
pub(crate) struct CacheBits {
    words: usize,
    bits: Vec<u64>,
}

impl CacheBits {
    /// Room for `clients` clients and `content` items.
    pub(crate) fn new(clients: usize, content: usize) -> Self {
        let words = content.div_ceil(64).max(1);
        CacheBits {
            words,
            bits: vec![0; clients * words],
        }
    }
    /// Whether client `c` has content `i`.
    pub(crate) fn has(&self, c: u32, i: u32) -> bool {
        self.bits[c as usize * self.words + (i / 64) as usize] & (1 << (i % 64)) != 0
    }
    /// Prefetch hint for client `c`'s bits.
    pub(crate) fn prefetch(&self, c: u32) {
        if let Some(w) = self.bits.get(c as usize * self.words) {
            crate::engine::prefetch::prefetch(w);
        }
    }
    /// Marks content `i` cached for `c`.
    pub(crate) fn insert(&mut self, c: u32, i: u32) {
        self.bits[c as usize * self.words + (i / 64) as usize] |= 1 << (i % 64);
    }
}
