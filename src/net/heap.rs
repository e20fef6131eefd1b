//! An indexed binary min-heap of items (class indices) keyed by time.
//!
//! The fast model keeps one entry per flow class with its next completion time.
//! Every event changes the keys of the few classes it touched, so the heap needs
//! "change this item's key" in O(log n) without leaving stale entries behind (a lazy
//! heap would grow with every rate change). Ties break on the item index, so the
//! order is fully deterministic.
#![allow(
    clippy::indexing_slicing,
    reason = "per-event hot path: flow, class and link ids are slots this module allocated \
              itself; no user value is used as an index"
)]

use crate::engine::time::SimTime;

/// Position marker for an item not in the heap.
const ABSENT: u32 = u32::MAX;

/// Min-heap of `(time, item)` with at most one entry per item.
#[derive(Debug, Default, Clone)]
pub(crate) struct DueHeap {
    heap: Vec<(SimTime, u32)>,
    /// `pos[item]` is the item's index in `heap`, or `ABSENT`.
    pos: Vec<u32>,
}

impl DueHeap {
    /// The smallest `(time, item)`.
    pub(crate) fn peek(&self) -> Option<(SimTime, u32)> {
        self.heap.first().copied()
    }

    /// Sets (`Some`) or removes (`None`) the key of `item`.
    pub(crate) fn set(&mut self, item: u32, key: Option<SimTime>) {
        let slot = item as usize;
        if self.pos.len() <= slot {
            self.pos.resize(slot + 1, ABSENT);
        }
        let at = self.pos[slot];
        match (at == ABSENT, key) {
            (true, None) => {}
            (true, Some(t)) => {
                let i = self.heap.len();
                self.heap.push((t, item));
                self.pos[slot] = i as u32;
                self.up(i);
            }
            (false, None) => self.remove_at(at as usize),
            (false, Some(t)) => {
                let i = at as usize;
                let old = self.heap[i].0;
                self.heap[i].0 = t;
                if t < old {
                    self.up(i);
                } else {
                    self.down(i);
                }
            }
        }
    }

    /// Removes and returns the smallest entry.
    pub(crate) fn pop(&mut self) -> Option<(SimTime, u32)> {
        let top = self.peek()?;
        self.remove_at(0);
        Some(top)
    }

    fn remove_at(&mut self, i: usize) {
        let last = self.heap.len() - 1;
        self.heap.swap(i, last);
        let (_, gone) = self.heap[last];
        self.heap.pop();
        self.pos[gone as usize] = ABSENT;
        if i < self.heap.len() {
            self.pos[self.heap[i].1 as usize] = i as u32;
            self.down(i);
            self.up(i);
        }
    }

    fn up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.heap[i] < self.heap[parent] {
                self.swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
    }

    fn down(&mut self, mut i: usize) {
        loop {
            let left = 2 * i + 1;
            if left >= self.heap.len() {
                break;
            }
            let right = left + 1;
            let child = if right < self.heap.len() && self.heap[right] < self.heap[left] {
                right
            } else {
                left
            };
            if self.heap[child] < self.heap[i] {
                self.swap(i, child);
                i = child;
            } else {
                break;
            }
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.pos[self.heap[a].1 as usize] = a as u32;
        self.pos[self.heap[b].1 as usize] = b as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        /// The heap agrees with a `BTreeSet` shadow under random sets and removals.
        #[test]
        fn matches_btreeset_shadow(ops in proptest::collection::vec((0u32..16, proptest::option::of(0u64..50), any::<bool>()), 0..400)) {
            let mut heap = DueHeap::default();
            let mut keys: Vec<Option<SimTime>> = vec![None; 16];
            let mut shadow = BTreeSet::new();
            for (item, key, pop) in ops {
                if pop {
                    let got = heap.pop();
                    let want = shadow.pop_first();
                    prop_assert_eq!(got, want);
                    if let Some((_, i)) = want {
                        keys[i as usize] = None;
                    }
                } else {
                    if let Some(old) = keys[item as usize] {
                        shadow.remove(&(old, item));
                    }
                    if let Some(t) = key {
                        shadow.insert((t, item));
                    }
                    keys[item as usize] = key;
                    heap.set(item, key);
                }
                prop_assert_eq!(heap.peek(), shadow.first().copied());
            }
        }
    }
}
