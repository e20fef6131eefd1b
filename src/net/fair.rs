//! The fast max-min fair model: flows grouped into classes with virtual times,
//! water-filling over the connected component an event touches. See the README
//! for the invariants.
#![allow(
    clippy::indexing_slicing,
    reason = "per-event hot path: flow, class and link ids are slots this module allocated \
              itself; no user value is used as an index"
)]

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::mem;

use super::fill::{Class, FillScratch, Link, LinkSet, Queued, to_fixed, water_fill};
use super::heap::DueHeap;
use super::{Completion, FlowId, FlowNetwork, LinkId, completion_time};
use crate::engine::time::SimTime;

/// The fast max-min fair network the simulator uses.
///
/// A flow start or end costs O(log n) in the flows of its class plus water-filling
/// over the classes of its connected component (classes and links reachable
/// through shared links), instead of O(all flows). Flow ids are reused once
/// [`advance`](FlowNetwork::advance) has reported their completion.
#[derive(Debug, Clone, Default)]
pub struct FairShareNet {
    clock: SimTime,
    links: Vec<Link>,
    /// Removed link ids, reused last-freed first.
    free_links: Vec<LinkId>,
    classes: Vec<Class>,
    /// Class ids freed with a removed link, reused last-freed first.
    free_classes: Vec<u32>,
    /// Class of each (cap, links) seen so far; classes are kept when they empty
    /// (DP classes empty and refill all the time) and freed with any of their
    /// links, so the table is bounded by the links alive. Only looked up, never
    /// iterated, so its order cannot leak into results.
    class_of: HashMap<(u64, LinkSet), u32, BuildHasherDefault<KeyHasher>>,
    flows: Vec<FlowSlot>,
    /// Reported flow ids, reused last-freed first.
    free: Vec<FlowId>,
    /// Classes by next completion.
    due: DueHeap,
    /// Start counter: the tie-break of completions at the same µs.
    seq: u64,
    active: usize,
    /// Completions passed while moving the clock in `start_flow`, plus zero-byte
    /// flows: reported by the next `advance`.
    held: Vec<Completion>,
    /// Component-search epoch (marks in links and classes compare against it).
    epoch: u64,
    scratch: Scratch,
}

/// A multiply-rotate hasher for class keys (a few integers): the key lookup runs at
/// every flow start, and SipHash's resistance to chosen keys buys nothing here.
#[derive(Debug, Clone, Copy, Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Integer slices (the link ids) arrive here as one byte string.
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(word));
        }
        let mut word = [0u8; 8];
        let rest = chunks.remainder();
        word[..rest.len()].copy_from_slice(rest);
        self.write_u64(u64::from_le_bytes(word));
    }

    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A flow's bookkeeping while its id is taken.
#[derive(Debug, Clone, Copy)]
struct FlowSlot {
    class: u32,
    /// The flow's whole size (what its completion reports).
    bytes: u64,
    /// Whole bytes of the current segment: the size, or what the links had not
    /// been credited with at the last pause or cap change.
    seg: u64,
    /// Exact bytes left when the current segment started (its finish tag is the
    /// arrival plus this): pauses keep fractions of a byte, so that a slow flow
    /// does not lose microseconds to rounding at each pause.
    left: f64,
    started: SimTime,
    seq: u64,
    tag: u64,
    /// The class's virtual time when the current segment started.
    arrival: f64,
    /// Still being served (false once completed or paused, even before a
    /// completion is reported).
    live: bool,
    /// Paused: keeps its id and its bytes until resumed.
    paused: bool,
    /// Generation of the slot's queue entry: a pause, cap change or reuse leaves
    /// the old entry in its class's heap, where it is recognised as stale and
    /// skipped (removing from the middle of a binary heap is not possible).
    generation: u32,
    /// Bytes the links were credited at the flow's stops beyond the whole bytes
    /// it received (a stop must not make a class's count dip, and that count may
    /// run a hair ahead of the exact progress: see `Class::floor`). The flow has
    /// received `bytes - seg - over`, which `cancel_flow` and `flow_received`
    /// report. A few bytes per stop at most (one µs of service), so a u32, which
    /// fits in the slot's padding, saturating.
    over: u32,
}

impl FlowSlot {
    /// Whole bytes received in the segments before the current one.
    fn received(&self) -> u64 {
        self.bytes - self.seg - u64::from(self.over)
    }
}

/// Reused per-event buffers.
#[derive(Debug, Clone, Default)]
struct Scratch {
    touched: Vec<u32>,
    comp_classes: Vec<u32>,
    comp_links: Vec<u32>,
    stack: Vec<u32>,
    fill: FillScratch,
}

impl FairShareNet {
    /// An empty network at time 0.
    pub fn new() -> Self {
        Self::default()
    }

    fn alloc_flow(&mut self, mut slot: FlowSlot) -> FlowId {
        if let Some(id) = self.free.pop()
            && let Some(s) = self.flows.get_mut(id as usize)
        {
            // A queue entry of the slot's previous life may still sit in a heap.
            slot.generation = s.generation.wrapping_add(1);
            *s = slot;
            return id;
        }
        self.flows.push(slot);
        (self.flows.len() - 1) as FlowId
    }

    /// Processes every completion due at or before `now`, in time order, then moves
    /// the clock to `now`.
    fn run_until(&mut self, now: SimTime, out: &mut Vec<Completion>) {
        while let Some((t, _)) = self.due.peek() {
            if t > now {
                break;
            }
            self.complete_at(t, out);
        }
        self.clock = self.clock.max(now);
    }

    /// Completes every flow due at `t` (the due heap's minimum) and refills the
    /// components that lost flows.
    fn complete_at(&mut self, t: SimTime, out: &mut Vec<Completion>) {
        self.clock = self.clock.max(t);
        let mut touched = mem::take(&mut self.scratch.touched);
        touched.clear();
        while let Some((due, c)) = self.due.peek() {
            if due > t {
                break;
            }
            self.due.pop();
            self.classes[c as usize].next = None;
            // The head is due by the heap's key; the others if their own time is.
            let mut head = true;
            while let Some(q) = self.live_head(c) {
                let class = &self.classes[c as usize];
                let at = completion_time(class.fluid_finish(q.finish_v), self.clock);
                if !head && at.is_none_or(|at| at > t) {
                    break;
                }
                head = false;
                let class = &mut self.classes[c as usize];
                class.queue.pop();
                class.head_live = false;
                self.finish_flow(c, q, t, out);
            }
            touched.push(c);
        }
        self.refill(&touched);
        self.scratch.touched = touched;
    }

    fn finish_flow(&mut self, c: u32, q: Queued, t: SimTime, out: &mut Vec<Completion>) {
        let Some(slot) = self.flows.get_mut(q.flow as usize) else {
            return;
        };
        slot.live = false;
        let slot = *slot;
        let class = &mut self.classes[c as usize];
        // The class's progress may lose a hair more than the flow's size (see
        // `Class::floor`); the links' totals gain exactly its size.
        let before = class.progress(t);
        class.n -= 1;
        class.arrivals -= i128::from(to_fixed(slot.arrival));
        class.sizes -= u128::from(slot.seg);
        class.floor = before
            .saturating_sub(slot.seg)
            .min(u64::try_from(class.sizes).unwrap_or(u64::MAX));
        for &l in &class.links {
            let link = &mut self.links[l as usize];
            link.active -= 1;
            link.completed = link.completed.saturating_add(slot.seg);
        }
        self.active -= 1;
        out.push(Completion {
            flow: q.flow,
            tag: slot.tag,
            bytes: slot.bytes,
            started: slot.started,
            finished: t,
        });
        if class.n == 0 {
            // An empty class restarts its virtual time from 0 when it next fills,
            // which keeps the floats small and exact-ish.
            for &l in &class.links {
                self.links[l as usize].classes.retain(|&x| x != c);
            }
            class.v_base = 0.0;
            class.t_base = self.clock;
            class.rate = 0.0;
            class.arrivals = 0;
            class.sizes = 0;
        }
    }

    /// Recomputes rates in the connected components of the `seeds` classes (their
    /// links, for classes that emptied), re-basing virtual times first.
    fn refill(&mut self, seeds: &[u32]) {
        self.epoch += 1;
        let epoch = self.epoch;
        let mut comp_classes = mem::take(&mut self.scratch.comp_classes);
        let mut comp_links = mem::take(&mut self.scratch.comp_links);
        let mut stack = mem::take(&mut self.scratch.stack);
        comp_classes.clear();
        comp_links.clear();
        stack.clear();
        for &c in seeds {
            let class = &mut self.classes[c as usize];
            if class.mark == epoch {
                continue;
            }
            class.mark = epoch;
            if class.n > 0 {
                comp_classes.push(c);
            } else {
                class.next = None;
                self.due.set(c, None);
            }
            for &l in &class.links {
                let link = &mut self.links[l as usize];
                if link.mark != epoch {
                    link.mark = epoch;
                    comp_links.push(l);
                    stack.push(l);
                }
            }
        }
        while let Some(l) = stack.pop() {
            for i in 0..self.links[l as usize].classes.len() {
                let c = self.links[l as usize].classes[i];
                let class = &mut self.classes[c as usize];
                if class.mark == epoch {
                    continue;
                }
                class.mark = epoch;
                comp_classes.push(c);
                for &l2 in &class.links {
                    let link = &mut self.links[l2 as usize];
                    if link.mark != epoch {
                        link.mark = epoch;
                        comp_links.push(l2);
                        stack.push(l2);
                    }
                }
            }
        }
        for &c in &comp_classes {
            self.classes[c as usize].rebase(self.clock);
        }
        water_fill(
            &mut self.classes,
            &mut self.links,
            &comp_classes,
            &comp_links,
            &mut self.scratch.fill,
        );
        for &c in &comp_classes {
            let head = self.live_head(c);
            let class = &mut self.classes[c as usize];
            class.next =
                head.and_then(|q| completion_time(class.fluid_finish(q.finish_v), self.clock));
            self.due.set(c, class.next);
        }
        self.scratch.comp_classes = comp_classes;
        self.scratch.comp_links = comp_links;
        self.scratch.stack = stack;
    }

    /// Moves the clock to `now` (never back), holding the completions on the way
    /// for the next `advance`; returns the clock.
    fn move_clock(&mut self, now: SimTime) -> SimTime {
        let now = now.max(self.clock);
        let mut held = mem::take(&mut self.held);
        self.run_until(now, &mut held);
        self.held = held;
        now
    }

    /// The first queue entry of class `c` that is a live flow's current entry,
    /// dropping stale ones (left by pauses and cap changes) from the top.
    fn live_head(&mut self, c: u32) -> Option<Queued> {
        let flows = &self.flows;
        let class = &mut self.classes[c as usize];
        if class.head_live
            && let Some(&q) = class.queue.peek()
        {
            return Some(q);
        }
        while let Some(&q) = class.queue.peek() {
            let f = &flows[q.flow as usize];
            if f.live && f.class == c && f.generation == q.generation {
                class.head_live = true;
                return Some(q);
            }
            class.queue.pop();
        }
        class.head_live = false;
        None
    }

    /// Puts flow `flow` (its current segment) into class `c` at the clock.
    fn enqueue(&mut self, flow: FlowId, c: u32) {
        let class = &mut self.classes[c as usize];
        if class.n == 0 {
            for &l in &class.links {
                self.links[l as usize].classes.push(c);
            }
            class.v_base = 0.0;
            class.t_base = self.clock;
            class.rate = 0.0;
        }
        let arrival = self.classes[c as usize].v_at(self.clock);
        let slot = &mut self.flows[flow as usize];
        slot.class = c;
        slot.arrival = arrival;
        slot.live = true;
        let (seg, left, seq, generation) = (slot.seg, slot.left, slot.seq, slot.generation);
        let class = &mut self.classes[c as usize];
        class.queue.push(Queued {
            finish_v: arrival + left,
            seq,
            flow,
            generation,
        });
        class.n += 1;
        // The arrival adds exactly `to_fixed(V(now))` to both terms of the class's
        // progress, so the byte count cannot dip here.
        class.arrivals += i128::from(to_fixed(arrival));
        class.sizes += u128::from(seg);
        for &l in &class.links {
            self.links[l as usize].active += 1;
        }
        self.active += 1;
    }

    /// Takes an active flow out of its class at the clock: its links are credited
    /// with the whole bytes it received, and its segment shrinks to what is left.
    /// Returns its class, or `None` when the flow is not active.
    fn dequeue(&mut self, flow: FlowId) -> Option<u32> {
        let slot = *self.flows.get(flow as usize).filter(|f| f.live)?;
        let c = slot.class;
        let class = &mut self.classes[c as usize];
        // Its entry stays in the queue, stale from now on: it may be the top.
        class.head_live = false;
        let got = (class.v_at(self.clock) - slot.arrival).max(0.0);
        let exact = got as u64;
        let before = class.progress(self.clock);
        class.n -= 1;
        class.arrivals -= i128::from(to_fixed(slot.arrival));
        class.sizes -= u128::from(slot.seg);
        // The links must not lose bytes they have counted: the flow is credited at
        // least what the class's count drops by (a hair more than its exact bytes
        // when the floor of an earlier completion was holding the count up), and
        // the class keeps a floor for the rest, as at a completion.
        let after = class.raw_progress(self.clock);
        let served = exact.max(before.saturating_sub(after)).min(slot.seg);
        class.floor = before
            .saturating_sub(served)
            .min(u64::try_from(class.sizes).unwrap_or(u64::MAX));
        for &l in &class.links {
            let link = &mut self.links[l as usize];
            link.active -= 1;
            link.completed = link.completed.saturating_add(served);
        }
        if class.n == 0 {
            for &l in &class.links {
                self.links[l as usize].classes.retain(|&x| x != c);
            }
            class.v_base = 0.0;
            class.t_base = self.clock;
            class.rate = 0.0;
            class.arrivals = 0;
            class.sizes = 0;
            class.floor = 0;
        }
        self.active -= 1;
        let s = &mut self.flows[flow as usize];
        // The flow's own whole bytes grow by `exact`, within what it lacked.
        let lacked = s.seg + u64::from(s.over);
        let own = exact.min(lacked);
        s.over = u32::try_from((lacked - own) - (s.seg - served)).unwrap_or(u32::MAX);
        s.live = false;
        s.seg -= served;
        s.left = (s.left - got).max(0.0);
        s.generation = s.generation.wrapping_add(1);
        Some(c)
    }

    fn class_for(&mut self, cap_bps: u64, links: &[LinkId]) -> u32 {
        let mut set: LinkSet = links
            .iter()
            .copied()
            .filter(|&l| self.links.get(l as usize).is_some_and(|k| k.alive))
            .collect();
        set.sort_unstable();
        set.dedup();
        let key = (cap_bps, set);
        if let Some(&c) = self.class_of.get(&key) {
            return c;
        }
        let mut class = Class::new(cap_bps, key.1.clone(), self.clock);
        let reused = self.free_classes.pop();
        let c = reused.unwrap_or(self.classes.len() as u32);
        for &l in &key.1 {
            let members = &mut self.links[l as usize].members;
            class.slots.push(members.len() as u32);
            members.push(c);
        }
        if reused.is_some() {
            // Keep the freed class's heap allocation (emptied when it was freed).
            class.queue = mem::take(&mut self.classes[c as usize].queue);
            self.classes[c as usize] = class;
        } else {
            self.classes.push(class);
        }
        self.class_of.insert(key, c);
        c
    }

    /// Frees class `c` (empty, with no paused flow) as its link `gone` is removed:
    /// it leaves the member lists of its other links and the key table.
    fn free_class(&mut self, c: u32, gone: LinkId) {
        let class = &mut self.classes[c as usize];
        let links = mem::take(&mut class.links);
        let slots = mem::take(&mut class.slots);
        let cap_bps = class.cap_bps;
        class.queue.clear();
        class.head_live = false;
        class.next = None;
        self.due.set(c, None);
        for (&l, &at) in links.iter().zip(&slots) {
            if l == gone {
                continue;
            }
            let members = &mut self.links[l as usize].members;
            members.swap_remove(at as usize);
            if let Some(&moved) = members.get(at as usize) {
                // The class that took the freed place records its new index.
                let m = &mut self.classes[moved as usize];
                if let Some(i) = m.links.iter().position(|&x| x == l) {
                    m.slots[i] = at;
                }
            }
        }
        self.class_of.remove(&(cap_bps, links));
        self.free_classes.push(c);
    }

    /// Sizes of the tables that grow with links and classes, for the tests that
    /// check memory is bounded by what is alive: (link slots, class slots, class
    /// keys, entries in the links' member lists).
    #[cfg(test)]
    pub(crate) fn table_sizes(&self) -> (usize, usize, usize, usize) {
        (
            self.links.len(),
            self.classes.len(),
            self.class_of.len(),
            self.links.iter().map(|l| l.members.len()).sum(),
        )
    }
}

impl FlowNetwork for FairShareNet {
    fn add_link(&mut self, capacity_bps: u64) -> LinkId {
        if let Some(l) = self.free_links.pop() {
            self.links[l as usize] = Link::new(capacity_bps);
            return l;
        }
        self.links.push(Link::new(capacity_bps));
        (self.links.len() - 1) as LinkId
    }

    fn remove_link(&mut self, link: LinkId) -> bool {
        match self.links.get(link as usize) {
            Some(l) if l.alive && l.active == 0 && l.paused == 0 => {}
            _ => return false,
        }
        // No flow crosses the link, so every class that includes it is empty.
        let members = mem::take(&mut self.links[link as usize].members);
        for &c in &members {
            self.free_class(c, link);
        }
        self.links[link as usize] = Link::removed();
        self.free_links.push(link);
        true
    }

    fn start_flow(
        &mut self,
        now: SimTime,
        bytes: u64,
        cap_bps: u64,
        links: &[LinkId],
        tag: u64,
    ) -> FlowId {
        let now = self.move_clock(now);
        self.seq += 1;
        let slot = FlowSlot {
            class: u32::MAX,
            bytes,
            seg: bytes,
            left: bytes as f64,
            started: now,
            seq: self.seq,
            tag,
            arrival: 0.0,
            live: false,
            paused: false,
            generation: 0,
            over: 0,
        };
        if bytes == 0 {
            let flow = self.alloc_flow(slot);
            self.held.push(Completion {
                flow,
                tag,
                bytes,
                started: now,
                finished: now,
            });
            return flow;
        }
        let c = self.class_for(cap_bps, links);
        let flow = self.alloc_flow(slot);
        self.enqueue(flow, c);
        self.refill(&[c]);
        flow
    }

    fn pause_flow(&mut self, now: SimTime, flow: FlowId) -> bool {
        self.move_clock(now);
        let Some(c) = self.dequeue(flow) else {
            return false;
        };
        self.flows[flow as usize].paused = true;
        // The flow keeps its class (its last links) while paused: they may not be
        // removed under it.
        for &l in &self.classes[c as usize].links {
            self.links[l as usize].paused += 1;
        }
        self.refill(&[c]);
        true
    }

    fn resume_flow(&mut self, now: SimTime, flow: FlowId, cap_bps: u64, links: &[LinkId]) -> bool {
        self.move_clock(now);
        if !self.flows.get(flow as usize).is_some_and(|f| f.paused) {
            return false;
        }
        self.flows[flow as usize].paused = false;
        let old = self.flows[flow as usize].class;
        for &l in &self.classes[old as usize].links {
            self.links[l as usize].paused -= 1;
        }
        let c = self.class_for(cap_bps, links);
        self.enqueue(flow, c);
        self.refill(&[c]);
        true
    }

    fn set_flow_cap(&mut self, now: SimTime, flow: FlowId, cap_bps: u64) -> bool {
        self.move_clock(now);
        let Some(old) = self.dequeue(flow) else {
            return false;
        };
        let links = self.classes[old as usize].links.clone();
        let c = self.class_for(cap_bps, &links);
        self.enqueue(flow, c);
        self.refill(&[old, c]);
        true
    }

    fn set_flow_links(
        &mut self,
        now: SimTime,
        flow: FlowId,
        cap_bps: u64,
        links: &[LinkId],
    ) -> bool {
        self.move_clock(now);
        let Some(old) = self.dequeue(flow) else {
            return false;
        };
        let c = self.class_for(cap_bps, links);
        self.enqueue(flow, c);
        self.refill(&[old, c]);
        true
    }

    fn is_paused(&self, flow: FlowId) -> bool {
        self.flows.get(flow as usize).is_some_and(|f| f.paused)
    }

    fn cancel_flow(&mut self, now: SimTime, flow: FlowId) -> Option<u64> {
        self.move_clock(now);
        let slot = *self.flows.get(flow as usize)?;
        if slot.paused {
            // A paused flow left its class at the pause; it only holds its links.
            for &l in &self.classes[slot.class as usize].links {
                self.links[l as usize].paused -= 1;
            }
        } else {
            let c = self.dequeue(flow)?;
            self.refill(&[c]);
        }
        let s = &mut self.flows[flow as usize];
        s.paused = false;
        s.live = false;
        s.generation = s.generation.wrapping_add(1);
        let got = s.received();
        self.free.push(flow);
        Some(got)
    }

    fn flow_received(&self, now: SimTime, flow: FlowId) -> Option<u64> {
        let s = self.flows.get(flow as usize)?;
        if s.paused {
            return Some(s.received());
        }
        if !s.live {
            return None;
        }
        let class = &self.classes[s.class as usize];
        let got = if class.rate.is_infinite() {
            // Due at the clock (an uncapped flow on no link), not yet reported:
            // `v_at` does not move at an infinite rate, but the flow has it all.
            s.left
        } else {
            // At most the segment's exact remainder, as in the reference: at the
            // completion µs, past the fluid end, `V` has run a fraction of a µs
            // further, which after a pause's dropped fraction reached the next byte.
            (class.v_at(now.max(self.clock)) - s.arrival).clamp(0.0, s.left)
        };
        let lacked = s.seg + u64::from(s.over);
        Some(s.received() + (got as u64).min(lacked))
    }

    fn next_tag(&self) -> Option<u64> {
        if let Some(h) = self.held.first() {
            return Some(h.tag);
        }
        let (_, c) = self.due.peek()?;
        let q = self.classes.get(c as usize)?.queue.peek()?;
        self.flows.get(q.flow as usize).map(|f| f.tag)
    }

    fn next_completion(&self) -> Option<SimTime> {
        let held = self.held.iter().map(|c| c.finished).min();
        let due = self.due.peek().map(|(t, _)| t);
        match (held, due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn advance(&mut self, now: SimTime, out: &mut Vec<Completion>) {
        let start = out.len();
        out.append(&mut self.held);
        self.run_until(now, out);
        let done = &mut out[start..];
        if done.len() > 1 {
            let flows = &self.flows;
            done.sort_by_key(|c| (c.finished, flows.get(c.flow as usize).map(|s| s.seq)));
        }
        self.free.extend(done.iter().map(|c| c.flow));
    }

    fn link_bytes(&self, link: LinkId) -> u64 {
        let Some(l) = self.links.get(link as usize) else {
            return 0;
        };
        let fluid = l.classes.iter().fold(0u64, |acc, &c| {
            acc.saturating_add(self.classes[c as usize].progress(self.clock))
        });
        l.completed.saturating_add(fluid)
    }

    fn link_active(&self, link: LinkId) -> u32 {
        self.links.get(link as usize).map_or(0, |l| l.active)
    }

    fn link_rate_bps(&self, link: LinkId) -> f64 {
        self.links.get(link as usize).map_or(0.0, |l| l.rate)
    }

    fn flow_rate_bps(&self, flow: FlowId) -> f64 {
        match self.flows.get(flow as usize) {
            Some(s) if s.live => self.classes.get(s.class as usize).map_or(0.0, |c| c.rate),
            _ => 0.0,
        }
    }

    fn active_flows(&self) -> usize {
        self.active
    }

    fn now(&self) -> SimTime {
        self.clock
    }
}
