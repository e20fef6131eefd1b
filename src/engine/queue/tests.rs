//! The queue against a plain reference: a `BTreeMap<(time, push sequence), item>`
//! is FIFO among equal times by construction, so agreeing with it on every
//! `pop` and `peek_time` of long random workloads checks order, tie-break,
//! clamping and the bookkeeping in one go.

use std::collections::BTreeMap;

use super::*;
use crate::engine::rng::stream;
use rand::{Rng, RngExt};

/// The reference model.
#[derive(Default)]
struct Shadow {
    map: BTreeMap<(SimTime, u64), u64>,
    seq: u64,
    now: SimTime,
}

impl Shadow {
    fn push(&mut self, time: SimTime, item: u64) {
        self.map.insert((time.max(self.now), self.seq), item);
        self.seq += 1;
    }
    fn pop(&mut self) -> Option<(SimTime, u64)> {
        let ((t, _), v) = self.map.pop_first()?;
        self.now = t;
        Some((t, v))
    }
    fn peek_time(&self) -> Option<SimTime> {
        self.map.first_key_value().map(|(&(t, _), _)| t)
    }
}

/// A delay drawn from a mix that stresses every path: exactly now, ties a few
/// microseconds out, every level of the radix structure, and the top of the
/// key range.
fn delay(r: &mut impl Rng) -> u64 {
    match r.random_range(0..100u32) {
        0..20 => 0,
        20..40 => r.random_range(0..4),
        40..55 => r.random_range(0..300),
        55..75 => r.random_range(0..1_000_000_000),
        75..90 => 1u64 << r.random_range(0..48u32),
        90..98 => r.random_range(0..1u64 << 40),
        _ => u64::MAX - r.random_range(0..1000),
    }
}

/// Runs `ops` random operations on both queues, asserting agreement.
fn shadow_run(seed: u64, ops: u64) {
    let mut r = stream(seed, 0, 0);
    let mut q = EventQueue::new();
    let mut s = Shadow::default();
    let mut next_item = 0u64;
    for _ in 0..ops {
        match r.random_range(0..100u32) {
            // Push-heavy so the queue grows into the tens of thousands.
            0..52 => {
                let t = if r.random_range(0..50u32) == 0 {
                    // Occasionally try to schedule in the past.
                    q.now().saturating_sub(r.random_range(1..1000))
                } else {
                    q.now().saturating_add(delay(&mut r))
                };
                q.push(t, next_item);
                s.push(t, next_item);
                next_item += 1;
            }
            52..92 => assert_eq!(q.pop(), s.pop()),
            92..99 => assert_eq!(q.peek_time(), s.peek_time()),
            _ => {
                // Peek, then push before the peeked time but not before now.
                let peeked = q.peek_time();
                assert_eq!(peeked, s.peek_time());
                if let Some(p) = peeked
                    && p > q.now()
                {
                    let t = r.random_range(q.now()..p);
                    q.push(t, next_item);
                    s.push(t, next_item);
                    next_item += 1;
                }
            }
        }
        assert_eq!(q.len(), s.map.len());
        assert_eq!(q.now(), s.now);
        if let Some(&next) = q.peek_next() {
            assert_eq!(Some(next), s.map.first_key_value().map(|(_, &v)| v));
        }
    }
    while let Some(expected) = s.pop() {
        assert_eq!(q.pop(), Some(expected));
    }
    assert_eq!(q.pop(), None);
    assert!(q.is_empty());
}

#[test]
fn agrees_with_btreemap_shadow_100k_ops() {
    for seed in 0..4 {
        shadow_run(seed, 25_000);
    }
}

#[test]
fn agrees_with_btreemap_shadow_1m_ops() {
    shadow_run(1_000, 1_000_000);
}

#[test]
#[ignore = "10M ops: run with --release -- --ignored"]
fn agrees_with_btreemap_shadow_10m_ops() {
    shadow_run(10_000, 10_000_000);
}

#[test]
fn equal_times_come_out_in_push_order() {
    let mut q = EventQueue::new();
    // Interleave two times and push some at a third, larger time first.
    q.push(900, 100);
    for i in 0..10u32 {
        q.push(500, i);
        q.push(700, 50 + i);
    }
    let out: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
    let mut expected: Vec<_> = (0..10).map(|i| (500, i)).collect();
    expected.extend((0..10).map(|i| (700, 50 + i)));
    expected.push((900, 100));
    assert_eq!(out, expected);
}

#[test]
fn fifo_survives_redistribution_and_pushes_at_now() {
    let mut q = EventQueue::new();
    let far = 3 * (1 << 40) + 12_345;
    // Items at `far` start in a high-level slot; more arrive as the clock
    // approaches it (landing in ever lower slots) and once it is reached.
    q.push(far, 0);
    q.push(1, 99);
    q.push(far, 1);
    assert_eq!(q.pop(), Some((1, 99)));
    q.push(far, 2);
    q.push(far - 5, 98);
    assert_eq!(q.pop(), Some((far - 5, 98)));
    q.push(far, 3);
    assert_eq!(q.pop(), Some((far, 0)));
    q.push(far, 4); // exactly now
    let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
    assert_eq!(rest, [(far, 1), (far, 2), (far, 3), (far, 4)]);
}

#[test]
fn fifo_holds_across_chunk_boundaries() {
    let mut q = EventQueue::new();
    let n = 5 * CHUNK as u32 + 3;
    for i in 0..n {
        q.push(1 << 30, i);
    }
    for i in 0..n {
        assert_eq!(q.pop(), Some((1 << 30, i)));
        // Keep appending at now while draining the same slot.
        if i % 2 == 0 {
            q.push(1 << 30, n + i);
        }
    }
    for i in (0..n).step_by(2) {
        assert_eq!(q.pop(), Some((1 << 30, n + i)));
    }
    assert!(q.is_empty());
}

#[test]
fn past_pushes_are_clamped_to_now_and_counted() {
    let mut q = EventQueue::new();
    q.push(1_000, 'a');
    assert_eq!(q.pop(), Some((1_000, 'a')));
    q.push(10, 'b');
    q.push(1_000, 'c');
    assert_eq!(q.clamped_pushes(), 1);
    assert_eq!(q.pop(), Some((1_000, 'b')));
    assert_eq!(q.pop(), Some((1_000, 'c')));
    assert_eq!(q.now(), 1_000);
}

#[test]
fn peek_does_not_advance_the_clock() {
    let mut q = EventQueue::new();
    q.push(5_000_000, 1);
    q.push(7_000_000, 2);
    assert_eq!(q.peek_time(), Some(5_000_000));
    assert_eq!(q.now(), 0);
    // Still allowed to schedule between now and the peeked time.
    q.push(3, 0);
    assert_eq!(q.clamped_pushes(), 0);
    assert_eq!(q.peek_time(), Some(3));
    assert_eq!(q.pop(), Some((3, 0)));
    assert_eq!(q.pop(), Some((5_000_000, 1)));
    assert_eq!(q.peek_time(), Some(7_000_000));
    assert_eq!(q.len(), 1);
}

#[test]
fn handles_the_ends_of_the_time_range() {
    let mut q = EventQueue::new();
    q.push(u64::MAX, 3);
    q.push(0, 0);
    q.push(u64::MAX - 1, 2);
    q.push(u64::MAX, 4);
    q.push(1 << 63, 1);
    let out: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
    assert_eq!(
        out,
        [
            (0, 0),
            (1 << 63, 1),
            (u64::MAX - 1, 2),
            (u64::MAX, 3),
            (u64::MAX, 4)
        ]
    );
    q.push(0, 5); // clamped to the end of time, not wrapped
    assert_eq!(q.pop(), Some((u64::MAX, 5)));
}

#[test]
fn empty_queue_is_harmless() {
    let mut q: EventQueue<u8> = EventQueue::with_capacity(0);
    assert_eq!(q.pop(), None);
    assert_eq!(q.peek_time(), None);
    assert!(q.is_empty());
    q.clear();
    assert_eq!(q.len(), 0);
    assert_eq!(
        format!("{q:?}"),
        "EventQueue { now: 0, len: 0, chunks: 0, clamped: 0, .. }"
    );
}

#[test]
fn clear_rewinds_and_reuses_storage() {
    let mut q = EventQueue::with_capacity(1000);
    for i in 0..1000u64 {
        q.push(i * 7_919 % 1_000_003, i);
    }
    q.pop();
    let chunks = q.next.len();
    q.clear();
    assert!(q.is_empty());
    assert_eq!(q.now(), 0);
    assert_eq!(q.pop(), None);
    for i in 0..1000u64 {
        q.push(i * 7_919 % 1_000_003, i);
    }
    assert_eq!(q.next.len(), chunks, "clear must recycle chunks");
    let mut last = 0;
    while let Some((t, _)) = q.pop() {
        assert!(t >= last);
        last = t;
    }
}

#[test]
fn memory_stays_proportional_to_pending_items() {
    // Hold model with 20k pending for 2M steps, plus a stretch of zero-delay
    // pushes that keep one level-0 slot busy: the arena must not creep.
    let pending = 20_000u64;
    let mut r = stream(7, 0, 0);
    let mut q = EventQueue::new();
    for i in 0..pending {
        q.push(r.random_range(0..1_000_000_000), i);
    }
    for step in 0..2_000_000u64 {
        let Some((t, x)) = q.pop() else {
            panic!("queue emptied");
        };
        let d = if step % 1000 < 100 {
            0
        } else {
            r.random_range(0..=1_000_000_000)
        };
        q.push(t + d, x);
    }
    let bound = (pending as usize).div_ceil(CHUNK) + 2 * SLOTS;
    assert!(
        q.next.len() <= bound,
        "{} chunks for {pending} items",
        q.next.len()
    );
    assert_eq!(q.next.len(), q.free.len() + used_chunks(&q));
}

/// Chunks reachable from the slots, to check none leak.
fn used_chunks<T: Copy>(q: &EventQueue<T>) -> usize {
    let mut n = 0;
    for s in q.slots.iter().filter(|s| s.head != NIL) {
        let mut c = s.head;
        loop {
            n += 1;
            if c == s.tail {
                break;
            }
            c = q.next[c];
        }
    }
    n
}

#[test]
fn same_calls_give_same_results() {
    let run = || {
        let mut r = stream(11, 0, 0);
        let mut q = EventQueue::new();
        let mut out = Vec::new();
        for i in 0..10_000u64 {
            q.push(q.now() + r.random_range(0..50), i);
            if i % 3 == 0 {
                out.extend(q.pop());
            }
        }
        out.extend(std::iter::from_fn(|| q.pop()));
        out
    };
    assert_eq!(run(), run());
}

#[test]
fn peek_next_names_the_next_pop_when_it_is_cheap_to_know() {
    let mut q = EventQueue::new();
    assert_eq!(q.peek_next(), None);
    q.push(1_000_000, 7u64);
    assert_eq!(q.peek_next(), Some(&7)); // single item in its slot
    q.push(1_000_000, 8);
    q.push(5_000_000, 9);
    // Two items share the lowest slot: finding the first needs redistribution.
    assert_eq!(q.peek_next(), None);
    assert_eq!(q.pop(), Some((1_000_000, 7)));
    // Now at level 0: the FIFO front is known.
    assert_eq!(q.peek_next(), Some(&8));
    assert_eq!(q.pop(), Some((1_000_000, 8)));
    assert_eq!(q.peek_next(), Some(&9));
    assert_eq!(q.pop(), Some((5_000_000, 9)));
    assert_eq!(q.peek_next(), None);
}
