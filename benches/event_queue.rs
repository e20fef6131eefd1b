//! Hold-model benchmark of the future-event list.
//!
//! The hold model is the classic priority-queue benchmark for simulators: keep
//! `n` events pending; each step pops the earliest and pushes it back at
//! `now + U[0, 1000 s]` (in microseconds). Throughput is hold steps (one pop
//! plus one push) per second. Three queues run the same workload with the same
//! delays:
//!
//! - `fleetsim`: [`fleetsim::engine::queue::EventQueue`];
//! - `binary_heap`: `std::collections::BinaryHeap<Reverse<(time, seq)>>`, the
//!   reference line (the sequence number gives it the same FIFO tie-break and
//!   stands for the item, as hold-model items are interchangeable);
//! - `radix2`: a plain binary radix heap (one bucket per highest differing
//!   bit), the baseline the engine's queue has to beat.
//!
//! Run: `cargo bench --bench event_queue`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fleetsim::engine::queue::EventQueue;
use fleetsim::engine::rng::{StreamRng, stream};
use rand::Rng;

/// Hold steps per timed iteration.
const BATCH: u64 = 10_000;
/// Largest delay: 1,000 s in microseconds.
const MAX_DELAY: u64 = 1_000_000_000;

/// A uniform delay in `[0, MAX_DELAY]` by widening multiply (no division, so
/// the workload generator stays cheap next to the queues being measured).
#[inline(always)]
fn delay(r: &mut StreamRng) -> u64 {
    ((u128::from(r.next_u64()) * u128::from(MAX_DELAY + 1)) >> 64) as u64
}

/// What the hold loop needs from a queue.
trait Hold {
    fn push(&mut self, time: u64, item: u64);
    fn pop(&mut self) -> Option<(u64, u64)>;
}

impl Hold for EventQueue<u64> {
    #[inline(always)]
    fn push(&mut self, time: u64, item: u64) {
        EventQueue::push(self, time, item);
    }
    #[inline(always)]
    fn pop(&mut self) -> Option<(u64, u64)> {
        EventQueue::pop(self)
    }
}

/// `BinaryHeap` keyed by `(time, push sequence number)` for FIFO ties.
#[derive(Default)]
struct Heap {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    seq: u64,
}

impl Hold for Heap {
    #[inline(always)]
    fn push(&mut self, time: u64, _item: u64) {
        self.heap.push(Reverse((time, self.seq)));
        self.seq += 1;
    }
    #[inline(always)]
    fn pop(&mut self) -> Option<(u64, u64)> {
        self.heap.pop().map(|Reverse(e)| e)
    }
}

/// A textbook monotone radix heap: bucket `b` holds keys whose highest bit
/// differing from the last popped key is `b - 1` (bucket 0: equal keys, drained
/// from the front for FIFO).
struct Radix2 {
    buckets: Vec<Vec<(u64, u64)>>,
    head0: usize,
    last: u64,
    len: usize,
}

impl Radix2 {
    fn new() -> Self {
        Radix2 {
            buckets: (0..65).map(|_| Vec::new()).collect(),
            head0: 0,
            last: 0,
            len: 0,
        }
    }
    #[inline(always)]
    fn bucket(&self, key: u64) -> usize {
        (64 - (key ^ self.last).leading_zeros()) as usize
    }
}

impl Hold for Radix2 {
    #[inline(always)]
    fn push(&mut self, time: u64, item: u64) {
        let b = self.bucket(time);
        self.buckets[b].push((time, item));
        self.len += 1;
    }
    #[inline]
    fn pop(&mut self) -> Option<(u64, u64)> {
        if self.len == 0 {
            return None;
        }
        if self.head0 == self.buckets[0].len() {
            self.buckets[0].clear();
            self.head0 = 0;
            let i = self.buckets.iter().position(|b| !b.is_empty())?;
            let moving = std::mem::take(&mut self.buckets[i]);
            self.last = moving.iter().map(|e| e.0).min()?;
            for &(k, v) in &moving {
                let b = self.bucket(k);
                self.buckets[b].push((k, v));
            }
            // Hand the emptied buffer back so its capacity is reused.
            let mut moving = moving;
            moving.clear();
            self.buckets[i] = moving;
        }
        let e = self.buckets[0][self.head0];
        self.head0 += 1;
        self.len -= 1;
        Some(e)
    }
}

/// `n` events spread over the first 1,000 s.
fn fill<Q: Hold>(q: &mut Q, n: u64) {
    let mut r = stream(1, 0, 0);
    for i in 0..n {
        q.push(delay(&mut r), i);
    }
}

/// `BATCH` hold steps.
#[inline(never)]
fn hold<Q: Hold>(q: &mut Q, r: &mut StreamRng) -> u64 {
    let mut acc = 0u64;
    for _ in 0..BATCH {
        if let Some((t, x)) = q.pop() {
            acc = acc.wrapping_add(x);
            q.push(t + delay(r), x);
        }
    }
    acc
}

fn bench_one<Q: Hold>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    n: u64,
    mut q: Q,
) {
    fill(&mut q, n);
    let mut r = stream(2, 0, 0);
    c.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
        b.iter(|| black_box(hold(&mut q, &mut r)))
    });
}

fn hold_model(c: &mut Criterion) {
    let mut g = c.benchmark_group("hold");
    g.throughput(Throughput::Elements(BATCH));
    g.sample_size(30);
    g.warm_up_time(Duration::from_secs(3));
    g.measurement_time(Duration::from_secs(6));
    for n in [1_000_000u64, 10_000_000] {
        bench_one(
            &mut g,
            "fleetsim",
            n,
            EventQueue::<u64>::with_capacity(n as usize),
        );
        bench_one(&mut g, "radix2", n, Radix2::new());
        bench_one(&mut g, "binary_heap", n, Heap::default());
    }
    g.finish();
}

criterion_group!(benches, hold_model);
criterion_main!(benches);
