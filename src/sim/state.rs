//! Per-client mutable state, packed: the interpreter cursor, timestamps and the
//! download in progress. About 96 bytes per client.
#![allow(
    clippy::indexing_slicing,
    reason = "per-event hot path: every index is an id the world builder and program compiler \
              assigned (client < fleet size, op < program length, content < catalogue, slot < \
              variable table, link < links), in range by construction; user input reaches here \
              only after scenario::check turned it into those ids"
)]

use crate::engine::time::SimTime;

/// "Never happened" timestamp.
pub const NEVER: SimTime = SimTime::MAX;

/// Where a client is in the rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Has not received the policy yet.
    Idle,
    /// Has the policy, waiting for the available time.
    WaitAvailable,
    /// Notified; waiting for Install (possibly pre-caching meanwhile).
    WaitUser,
    /// Running the task sequence.
    Running,
    /// Finished (outcome decided).
    Done,
}

/// What a client's current download is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum DlOwner {
    /// No download.
    None,
    /// Pre-cache before Install.
    Precache,
    /// A step's content (on demand or all-first).
    Step,
}

/// Flag bits of [`ClientState::flags`].
pub mod flag {
    /// The current download attempt will fail part-way.
    pub const ATTEMPT_FAILS: u16 = 1;
    /// `remove incompatible_apps` ran.
    pub const REMOVED_APPS: u16 = 2;
    /// `remove incompatible_drivers` ran.
    pub const REMOVED_DRIVERS: u16 = 4;
    /// `remove third_party_security` ran.
    pub const SUSPENDED_SECURITY: u16 = 8;
    /// Everything needed was cached when Install was clicked.
    pub const PRECACHED: u16 = 16;
    /// Windows Setup rolled back.
    pub const ROLLED_BACK: u16 = 32;
    /// The task sequence failed (outcome failed unless rolled back).
    pub const TS_FAILED: u16 = 64;
    /// Waiting in a DP queue.
    pub const QUEUED: u16 = 128;
    /// The running step streams its content from the DP (access_from_dp).
    pub const STREAMING: u16 = 256;
    /// The step's timed part has ended (access_from_dp: waiting for the stream).
    pub const STEP_TIMER_DONE: u16 = 512;
    /// Install was clicked while a pre-cache download was in flight: the task sequence
    /// starts when that download ends.
    pub const TS_PENDING: u16 = 1024;
    /// Downloading everything before the first step (download_all_first).
    pub const ALL_FIRST: u16 = 2048;
    /// Running a chain of fixed steps as one event (`sim::chain`); `dl_req_at` holds
    /// the chain's start meanwhile.
    pub const CHAIN: u16 = 4096;
}

/// One client's state.
#[derive(Debug, Clone, Copy)]
pub struct ClientState {
    /// Policy received.
    pub policy_at: SimTime,
    /// Install clicked / deadline.
    pub install_at: SimTime,
    /// Task sequence started.
    pub ts_start: SimTime,
    /// Task sequence ended.
    pub end_at: SimTime,
    /// First request of the current content (download latency includes retries);
    /// the start of the chain while [`flag::CHAIN`] is set (no download runs then).
    pub dl_req_at: SimTime,
    /// Boundary-group fallback allowed from (NEVER: not yet needed).
    pub fallback_at: SimTime,
    /// Pre-cache started.
    pub precache_at: SimTime,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Bytes in the cache.
    pub cache_used: u64,
    /// Exit code of the failure (or of the last step).
    pub exit_code: u32,
    /// Interpreter cursor (node index).
    pub pc: u32,
    /// Content index being downloaded.
    pub dl_content: u32,
    /// Bytes of the current attempt.
    pub dl_bytes: u64,
    /// Position in the current step's content list / precache list (32 bits: a
    /// step may list more than 65,535 items).
    pub sub: u32,
    /// Download attempt (0 = first).
    pub attempt: u16,
    /// Step attempt (retryCount; 32 bits like `Node::retry_count`, so it cannot
    /// wrap before reaching it).
    pub step_try: u32,
    /// DP used for the current / last download.
    pub dp: u16,
    /// Guards stale events and flows after an abort.
    pub epoch: u16,
    /// [`flag`] bits.
    pub flags: u16,
    /// Rollout phase.
    pub phase: Phase,
    /// Download owner.
    pub owner: DlOwner,
    /// Phase of the failure, index into `world::PHASES`.
    pub fail_phase: u8,
}

impl Default for ClientState {
    fn default() -> Self {
        ClientState {
            policy_at: NEVER,
            install_at: NEVER,
            ts_start: NEVER,
            end_at: NEVER,
            dl_req_at: NEVER,
            fallback_at: NEVER,
            precache_at: NEVER,
            bytes: 0,
            cache_used: 0,
            exit_code: 0,
            pc: 0,
            dl_content: u32::MAX,
            dl_bytes: 0,
            sub: 0,
            attempt: 0,
            step_try: 0,
            dp: u16::MAX,
            epoch: 0,
            flags: 0,
            phase: Phase::Idle,
            owner: DlOwner::None,
            fail_phase: 0,
        }
    }
}

impl ClientState {
    /// Whether a flag is set.
    pub fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }
    /// Sets a flag.
    pub fn set(&mut self, f: u16) {
        self.flags |= f;
    }
    /// Clears a flag.
    pub fn clear(&mut self, f: u16) {
        self.flags &= !f;
    }
}

/// Cached-content bitsets for all clients, `words` u64 per client.
#[derive(Debug)]
pub struct CacheBits {
    words: usize,
    bits: Vec<u64>,
}

impl CacheBits {
    /// Room for `clients` clients and `content` items.
    pub fn new(clients: usize, content: usize) -> Self {
        let words = content.div_ceil(64).max(1);
        CacheBits {
            words,
            bits: vec![0; clients * words],
        }
    }
    /// Whether client `c` has content `i`.
    pub fn has(&self, c: u32, i: u32) -> bool {
        self.bits[c as usize * self.words + (i / 64) as usize] & (1 << (i % 64)) != 0
    }
    /// Prefetch hint for client `c`'s bits.
    pub fn prefetch(&self, c: u32) {
        if let Some(w) = self.bits.get(c as usize * self.words) {
            crate::engine::prefetch::prefetch(w);
        }
    }
    /// Marks content `i` cached for `c`.
    pub fn insert(&mut self, c: u32, i: u32) {
        self.bits[c as usize * self.words + (i / 64) as usize] |= 1 << (i % 64);
    }
}
