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
use super::{Completion, FlowId, FlowNetwork, LinkId, cap_f64, completion_time};
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
    classes: Vec<Class>,
    /// Class of each (cap, links) seen so far; classes are kept when they empty.
    /// Only looked up, never iterated, so its order cannot leak into results.
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
    bytes: u64,
    started: SimTime,
    seq: u64,
    tag: u64,
    /// The class's virtual time when the flow started.
    arrival: f64,
    /// Still being served (false once completed, even before it is reported).
    live: bool,
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

    fn alloc_flow(&mut self, slot: FlowSlot) -> FlowId {
        if let Some(id) = self.free.pop()
            && let Some(s) = self.flows.get_mut(id as usize)
        {
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
            while let Some(&q) = self.classes[c as usize].queue.peek() {
                let class = &self.classes[c as usize];
                let at = completion_time(class.fluid_finish(q.finish_v), self.clock);
                if !head && at.is_none_or(|at| at > t) {
                    break;
                }
                head = false;
                self.classes[c as usize].queue.pop();
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
        class.sizes -= u128::from(slot.bytes);
        class.floor = before
            .saturating_sub(slot.bytes)
            .min(u64::try_from(class.sizes).unwrap_or(u64::MAX));
        for &l in &class.links {
            let link = &mut self.links[l as usize];
            link.active -= 1;
            link.completed = link.completed.saturating_add(slot.bytes);
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
            let class = &mut self.classes[c as usize];
            class.next = class
                .queue
                .peek()
                .and_then(|q| completion_time(class.fluid_finish(q.finish_v), self.clock));
            self.due.set(c, class.next);
        }
        self.scratch.comp_classes = comp_classes;
        self.scratch.comp_links = comp_links;
        self.scratch.stack = stack;
    }

    fn class_for(&mut self, cap_bps: u64, links: &[LinkId]) -> u32 {
        let mut set: LinkSet = links
            .iter()
            .copied()
            .filter(|&l| (l as usize) < self.links.len())
            .collect();
        set.sort_unstable();
        set.dedup();
        let key = (cap_bps, set);
        if let Some(&c) = self.class_of.get(&key) {
            return c;
        }
        let c = self.classes.len() as u32;
        self.classes
            .push(Class::new(cap_f64(cap_bps), key.1.clone(), self.clock));
        self.class_of.insert(key, c);
        c
    }
}

impl FlowNetwork for FairShareNet {
    fn add_link(&mut self, capacity_bps: u64) -> LinkId {
        self.links.push(Link::new(capacity_bps));
        (self.links.len() - 1) as LinkId
    }

    fn start_flow(
        &mut self,
        now: SimTime,
        bytes: u64,
        cap_bps: u64,
        links: &[LinkId],
        tag: u64,
    ) -> FlowId {
        let now = now.max(self.clock);
        let mut held = mem::take(&mut self.held);
        self.run_until(now, &mut held);
        self.held = held;
        self.seq += 1;
        let mut slot = FlowSlot {
            class: u32::MAX,
            bytes,
            started: now,
            seq: self.seq,
            tag,
            arrival: 0.0,
            live: false,
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
        let class = &mut self.classes[c as usize];
        if class.n == 0 {
            for &l in &class.links {
                self.links[l as usize].classes.push(c);
            }
            class.v_base = 0.0;
            class.t_base = self.clock;
            class.rate = 0.0;
        }
        slot.class = c;
        slot.arrival = self.classes[c as usize].v_at(self.clock);
        slot.live = true;
        let flow = self.alloc_flow(slot);
        let class = &mut self.classes[c as usize];
        class.queue.push(Queued {
            finish_v: slot.arrival + bytes as f64,
            seq: slot.seq,
            flow,
        });
        class.n += 1;
        // The arrival adds exactly `to_fixed(V(now))` to both terms of the class's
        // progress, so the byte count cannot dip here.
        class.arrivals += i128::from(to_fixed(slot.arrival));
        class.sizes += u128::from(bytes);
        for &l in &class.links {
            self.links[l as usize].active += 1;
        }
        self.active += 1;
        self.refill(&[c]);
        flow
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
