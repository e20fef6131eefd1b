//! The future-event list: a monotone priority queue over [`SimTime`] in which
//! items with equal times come out in the order they were pushed (FIFO).
//!
//! ```
//! use fleetsim::engine::queue::EventQueue;
//! use fleetsim::engine::time::SECOND;
//!
//! let mut q = EventQueue::new();
//! q.push(5 * SECOND, "reboot");
//! q.push(2 * SECOND, "download done");
//! q.push(5 * SECOND, "report status"); // same time: after "reboot"
//! assert_eq!(q.pop(), Some((2 * SECOND, "download done")));
//! assert_eq!(q.now(), 2 * SECOND);
//! assert_eq!(q.pop(), Some((5 * SECOND, "reboot")));
//! assert_eq!(q.pop(), Some((5 * SECOND, "report status")));
//! assert_eq!(q.pop(), None);
//! ```
//!
//! # Why not a binary heap
//!
//! A simulation of a large fleet keeps millions of events pending and does
//! nothing else but pop the earliest and push a few later ones, so the queue is
//! the inner loop. A binary heap costs O(log n) cache misses per operation and
//! needs a sequence number to be FIFO. Simulated time never goes backwards,
//! which a *monotone* queue exploits: keys only need to be ordered relative to
//! the last popped key.
//!
//! # Algorithm: a radix heap with 256-way digits
//!
//! Keys are read as eight base-256 digits. Relative to the *anchor* `a` (the
//! last popped time, [`EventQueue::now`]), a key `k >= a` lives in the slot
//! `(level, digit)` where `level` is the most significant base-256 digit in
//! which `k` differs from `a` (level 0 if they differ in the lowest digit only,
//! or not at all) and `digit` is `k`'s digit at that level.
//!
//! Invariants:
//!
//! 1. Every pending key `k` satisfies `k >= a` and sits in its slot relative to
//!    `a`. Hence a level-0 slot holds a single key value, and at every level the
//!    occupied digits are `>=` the anchor's digit there.
//! 2. Any occupied slot at level `l` holds only keys smaller than every key in
//!    any slot at a higher level, or at a higher digit of level `l`. So the
//!    minimum is in the first occupied level-0 slot or, if level 0 is empty, in
//!    the first occupied slot of the lowest occupied level.
//! 3. Each slot is a FIFO sequence, and all pending items with a given key sit
//!    in the same slot in push order.
//! 4. Each slot records the smallest key it holds (maintained on append; the
//!    only removals are whole-slot redistribution and front pops from level-0
//!    slots, whose keys are all equal). So the minimum, for `peek_time` or for
//!    re-anchoring, is found without a pass over the items.
//!
//! `pop` takes the front of the first occupied level-0 slot. If level 0 is
//! empty it first moves the anchor to the minimum `m` of the first occupied
//! slot at the lowest occupied level `l` and (unless that slot holds a single
//! item, which is simply returned) redistributes the slot, in stored order,
//! relative to `m`: those keys share every digit at or above `l` with `m`,
//! so they all drop to levels below `l` and `m` itself to level 0. The other
//! slots stay valid, because `m` shares all digits above `l` with the old anchor
//! and every other occupied slot differs from it at level `l` or above. An item
//! therefore moves at most seven times in its life (levels only decrease), in
//! practice two or three, against about ten for a binary radix heap.
//!
//! FIFO holds because appends go to the back, redistribution walks a slot front
//! to back and sends all items of one key to the same (previously key-free)
//! slot, and level 0 is drained from the front: invariant 3 is preserved.
//!
//! # Storage
//!
//! Items live as `(key, item)` pairs in one arena cut into chunks of 256
//! entries; a slot is a linked list of chunks. Chunks freed while a slot is
//! redistributed are reused at once (last in, first out) by the slots being
//! filled, so memory stays proportional to the number of pending items (unlike
//! one growable vector per slot, which would keep every slot's high-water
//! mark), and after warm-up no push allocates. Walking a chain costs a cache
//! miss per chunk for the link and another for the data, so chunks are large
//! enough to amortise them: with 32 entries the hold benchmark at 10 million
//! pending ran about a third slower. The price is at most one partly filled
//! chunk per occupied slot (2,048 slots).
#![allow(
    clippy::indexing_slicing,
    reason = "per-event hot path: bucket indices are computed from the bit width of the \
              key difference and are below the bucket count by construction"
)]

use super::time::SimTime;

/// Bits per digit: 256 slots per level.
const DIGIT_BITS: u32 = 8;
/// Slots per level.
const FANOUT: usize = 1 << DIGIT_BITS;
/// Levels needed to cover a `u64` key.
const LEVELS: usize = (u64::BITS / DIGIT_BITS) as usize;
/// Total number of slots.
const SLOTS: usize = LEVELS * FANOUT;
/// Entries per storage chunk (see "Storage" in the module docs).
const CHUNK: usize = 256;
/// "No chunk".
const NIL: usize = usize::MAX;

/// A slot: a chain of chunks from `head` to `tail`. Entries are
/// `head_pos..` in the head chunk, whole middle chunks, and `..tail_len` in
/// the tail chunk (when `head == tail`, `head_pos..tail_len`). `min` is the
/// smallest key appended since the slot was last empty, kept on every append so
/// that finding the new anchor never needs a pass over the slot.
#[derive(Clone, Copy, Debug)]
struct Slot {
    head: usize,
    tail: usize,
    head_pos: usize,
    tail_len: usize,
    min: SimTime,
}

impl Slot {
    const EMPTY: Slot = Slot {
        head: NIL,
        tail: NIL,
        head_pos: 0,
        tail_len: 0,
        min: SimTime::MAX,
    };

    /// Whether the slot holds exactly one entry.
    #[inline(always)]
    fn is_single(&self) -> bool {
        self.head == self.tail && self.tail_len == self.head_pos + 1
    }
}

/// The slot index of `key` relative to `anchor` (`key >= anchor`).
#[inline(always)]
fn slot_of(key: SimTime, anchor: SimTime) -> usize {
    let diff = key ^ anchor;
    // Highest differing bit (0 when equal), turned into a level.
    let level = (63 - (diff | 1).leading_zeros()) / DIGIT_BITS;
    let digit = (key >> (level * DIGIT_BITS)) as usize & (FANOUT - 1);
    ((level as usize) << DIGIT_BITS) | digit
}

/// The first set bit of a 256-bit occupancy map.
#[inline(always)]
fn first_set(words: &[u64; FANOUT / 64]) -> Option<usize> {
    words
        .iter()
        .position(|&w| w != 0)
        .map(|i| i * 64 + words[i].trailing_zeros() as usize)
}

/// The simulator's future-event list. See the [module docs](self) for the
/// algorithm; the contract is:
///
/// - [`pop`](Self::pop) returns the pending item with the smallest time; among
///   equal times, the one pushed first (FIFO). This is deterministic: the same
///   sequence of calls gives the same results on every platform.
/// - Time is monotone: [`push`](Self::push) at a time earlier than
///   [`now`](Self::now) is clamped to `now()` (and counted by
///   [`clamped_pushes`](Self::clamped_pushes)) instead of corrupting the order.
/// - No operation allocates once the queue has reached its working size.
#[derive(Clone)]
pub struct EventQueue<T> {
    /// `(time, item)` storage; chunk `c` is `entries[c * CHUNK..(c + 1) * CHUNK]`.
    entries: Vec<(SimTime, T)>,
    /// Successor of each chunk in its slot's chain.
    next: Vec<usize>,
    /// Free chunks, reused last in first out so they are still in cache.
    free: Vec<usize>,
    /// `slots[level * FANOUT + digit]`.
    slots: Box<[Slot; SLOTS]>,
    /// Occupancy bitmap of each level.
    occupied: [[u64; FANOUT / 64]; LEVELS],
    /// Bit `l` is set iff some slot at level `l` is occupied.
    levels: u32,
    /// The anchor: the time of the last popped item.
    now: SimTime,
    len: usize,
    clamped: u64,
}

/// A summary rather than the contents: a queue may hold millions of items.
impl<T> std::fmt::Debug for EventQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("now", &self.now)
            .field("len", &self.len)
            .field("chunks", &self.next.len())
            .field("clamped", &self.clamped)
            .finish_non_exhaustive()
    }
}

impl<T: Copy> Default for EventQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> EventQueue<T> {
    /// An empty queue at time 0.
    pub fn new() -> Self {
        EventQueue {
            entries: Vec::new(),
            next: Vec::new(),
            free: Vec::new(),
            slots: Box::new([Slot::EMPTY; SLOTS]),
            occupied: [[0; FANOUT / 64]; LEVELS],
            levels: 0,
            now: 0,
            len: 0,
            clamped: 0,
        }
    }

    /// An empty queue with storage reserved for `n` pending items, so a run
    /// that knows its population does not reallocate while warming up.
    pub fn with_capacity(n: usize) -> Self {
        let mut q = Self::new();
        // On top of the full chunks, each occupied slot may hold a partly
        // consumed head chunk and a partly filled tail chunk. Reserving only
        // claims address space; pages are touched as they fill.
        let chunks = n.div_ceil(CHUNK).saturating_add(2 * n.min(SLOTS));
        q.entries.reserve(chunks.saturating_mul(CHUNK));
        q.next.reserve(chunks);
        q.free.reserve(chunks);
        q
    }

    /// Schedules `item` at `time`. A `time` before [`now`](Self::now) is
    /// clamped to `now()`: the past cannot be scheduled, and a model that tries
    /// has a bug that [`clamped_pushes`](Self::clamped_pushes) reveals.
    #[inline]
    pub fn push(&mut self, time: SimTime, item: T) {
        let key = if time < self.now {
            self.clamped += 1;
            self.now
        } else {
            time
        };
        self.len += 1;
        self.append(slot_of(key, self.now), key, item);
    }

    /// Removes and returns the earliest item (FIFO among equal times) and
    /// advances [`now`](Self::now) to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, T)> {
        if self.len == 0 {
            return None;
        }
        if self.levels & 1 == 0 {
            let (slot, level, digit) = self.lowest_slot()?;
            if slot.is_single() {
                // Popping it directly saves a trip through level 0.
                let (key, item) = *self
                    .entries
                    .get(slot.head.wrapping_mul(CHUNK) + slot.head_pos)?;
                self.free.push(slot.head);
                self.slots[((level << DIGIT_BITS) | digit) & (SLOTS - 1)] = Slot::EMPTY;
                self.vacate(level, digit);
                self.now = key;
                self.len -= 1;
                return Some((key, item));
            }
            self.redistribute(slot, level, digit);
        }
        let digit = first_set(&self.occupied[0])?;
        let item = self.pop_front(digit)?;
        let key = (self.now & !(FANOUT as u64 - 1)) | digit as u64;
        self.now = key;
        self.len -= 1;
        Some((key, item))
    }

    /// The time of the earliest pending item, without removing it or moving
    /// [`now`](Self::now), so a caller can compare it with other deadlines
    /// (a network flow finishing) and still schedule events before it. O(1):
    /// every slot knows its minimum.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        if let Some(digit) = first_set(&self.occupied[0]) {
            return Some((self.now & !(FANOUT as u64 - 1)) | digit as u64);
        }
        self.lowest_slot().map(|(slot, _, _)| slot.min)
    }

    /// The item [`pop`](Self::pop) will return next, unless an earlier one is
    /// pushed first, when it is known without work: the front of level 0, or
    /// the only item of the lowest occupied slot; `None` when the queue is
    /// empty or the next pop has to redistribute a slot. Meant for prefetching
    /// (the simulator hints the next event's client while it handles the
    /// current one), so it never moves anything.
    #[inline]
    pub fn peek_next(&self) -> Option<&T> {
        let slot = match first_set(&self.occupied[0]) {
            Some(digit) => self.slots[digit & (FANOUT - 1)],
            None => {
                let (slot, _, _) = self.lowest_slot()?;
                if !slot.is_single() {
                    return None;
                }
                slot
            }
        };
        self.entries
            .get(slot.head.wrapping_mul(CHUNK) + slot.head_pos)
            .map(|e| &e.1)
    }

    /// The time of the last popped item (0 before the first pop): the
    /// simulation clock.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of pending items.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is pending: the simulation has run out of events.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many pushes asked for a time before `now()` and were clamped. A
    /// correct model keeps this at zero; it is exposed so tests can say so.
    pub fn clamped_pushes(&self) -> u64 {
        self.clamped
    }

    /// Drops every pending item and rewinds the clock to 0, keeping the
    /// storage, so one queue can serve many replications without reallocating.
    pub fn clear(&mut self) {
        self.slots.fill(Slot::EMPTY);
        self.occupied = [[0; FANOUT / 64]; LEVELS];
        self.levels = 0;
        self.free.clear();
        // Reversed so that chunk 0 is reused first: the arena fills in order.
        self.free.extend((0..self.next.len()).rev());
        self.now = 0;
        self.len = 0;
        self.clamped = 0;
    }

    /// Takes a chunk from the free list, or grows the arena by one chunk
    /// (filled with `fill`, since `T` has no default value).
    #[inline]
    fn alloc_chunk(&mut self, fill: (SimTime, T)) -> usize {
        if let Some(c) = self.free.pop() {
            if let Some(n) = self.next.get_mut(c) {
                *n = NIL;
            }
            c
        } else {
            let c = self.next.len();
            self.entries.resize(self.entries.len() + CHUNK, fill);
            self.next.push(NIL);
            c
        }
    }

    /// Appends at the back of a slot (invariant 3).
    #[inline(always)]
    fn append(&mut self, slot_id: usize, key: SimTime, item: T) {
        let slot_id = slot_id & (SLOTS - 1);
        let slot = self.slots[slot_id];
        if slot.head == NIL {
            let c = self.alloc_chunk((key, item));
            self.write(c * CHUNK, key, item);
            self.slots[slot_id] = Slot {
                head: c,
                tail: c,
                head_pos: 0,
                tail_len: 1,
                min: key,
            };
            let level = slot_id >> DIGIT_BITS;
            let digit = slot_id & (FANOUT - 1);
            self.occupied[level][digit >> 6] |= 1 << (digit & 63);
            self.levels |= 1 << level;
        } else if slot.tail_len == CHUNK {
            let c = self.alloc_chunk((key, item));
            if let Some(n) = self.next.get_mut(slot.tail) {
                *n = c;
            }
            self.write(c * CHUNK, key, item);
            let s = &mut self.slots[slot_id];
            s.tail = c;
            s.tail_len = 1;
            s.min = s.min.min(key);
        } else {
            self.write(slot.tail * CHUNK + slot.tail_len, key, item);
            let s = &mut self.slots[slot_id];
            s.tail_len += 1;
            s.min = s.min.min(key);
        }
    }

    #[inline(always)]
    fn write(&mut self, at: usize, key: SimTime, item: T) {
        if let Some(e) = self.entries.get_mut(at) {
            *e = (key, item);
        }
    }

    /// Marks a slot empty in the occupancy maps.
    #[inline(always)]
    fn vacate(&mut self, level: usize, digit: usize) {
        let level = level & (LEVELS - 1);
        let words = &mut self.occupied[level];
        words[(digit >> 6) & 3] &= !(1 << (digit & 63));
        if words.iter().all(|&w| w == 0) {
            self.levels &= !(1 << level);
        }
    }

    /// Removes the front item of level-0 slot `digit`.
    #[inline]
    fn pop_front(&mut self, digit: usize) -> Option<T> {
        let id = digit & (FANOUT - 1);
        let slot = self.slots[id];
        let (_, item) = *self
            .entries
            .get(slot.head.wrapping_mul(CHUNK) + slot.head_pos)?;
        let pos = slot.head_pos + 1;
        if slot.head == slot.tail && pos == slot.tail_len {
            self.free.push(slot.head);
            self.slots[id] = Slot::EMPTY;
            self.vacate(0, id);
        } else if pos == CHUNK {
            self.free.push(slot.head);
            let s = &mut self.slots[id];
            s.head = self.next.get(slot.head).copied().unwrap_or(NIL);
            s.head_pos = 0;
        } else {
            self.slots[id].head_pos = pos;
        }
        Some(item)
    }

    /// The first occupied slot of the lowest occupied level: where the
    /// minimum is when level 0 is empty (invariant 2).
    #[inline]
    fn lowest_slot(&self) -> Option<(Slot, usize, usize)> {
        let level = self.levels.trailing_zeros() as usize;
        let digit = first_set(self.occupied.get(level)?)?;
        Some((
            self.slots[((level << DIGIT_BITS) | digit) & (SLOTS - 1)],
            level,
            digit,
        ))
    }

    /// Level 0 is empty and `slot` is the first occupied slot of the lowest
    /// occupied level: re-anchor on its minimum and spread it, front to back,
    /// over the levels below (see module docs). Each chunk is freed as soon as
    /// it has been read, so the appends reuse it while it is still in cache.
    #[inline(never)]
    fn redistribute(&mut self, slot: Slot, level: usize, digit: usize) {
        self.slots[((level << DIGIT_BITS) | digit) & (SLOTS - 1)] = Slot::EMPTY;
        self.vacate(level, digit);
        let anchor = slot.min;
        self.now = anchor;
        let mut c = slot.head;
        let mut start = slot.head_pos;
        while c != NIL {
            // Load the successor first so its cache miss overlaps the loop.
            let following = self.next.get(c).copied().unwrap_or(NIL);
            let end = if c == slot.tail { slot.tail_len } else { CHUNK };
            let base = c * CHUNK;
            for i in base + start..base + end {
                if let Some(&(k, v)) = self.entries.get(i) {
                    self.append(slot_of(k, anchor), k, v);
                }
            }
            self.free.push(c);
            c = if c == slot.tail { NIL } else { following };
            start = 0;
        }
    }
}

#[cfg(test)]
mod tests;
