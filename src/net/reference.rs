//! The plain max-min fair model: per-flow remaining bytes, and at every event all
//! flows are advanced and all rates recomputed from scratch by progressive filling.
//!
//! O(flows × links) per event. It exists to be obviously right, so that the fast
//! model can be checked against it in lockstep; it shares only the completion-time
//! rule with the fast model.
#![allow(
    clippy::indexing_slicing,
    reason = "per-event hot path: flow, class and link ids are slots this module allocated \
              itself; no user value is used as an index"
)]

use std::mem;

use super::{BIT_US, Completion, FlowId, FlowNetwork, LinkId, cap_f64, completion_time};
use crate::engine::time::SimTime;

/// The reference max-min fair network: slow, simple, and the oracle of the tests.
/// Same contract as [`FairShareNet`](super::FairShareNet), including the reuse of
/// flow ids once their completion is reported.
#[derive(Debug, Clone, Default)]
pub struct ReferenceNet {
    clock: SimTime,
    links: Vec<RefLink>,
    /// Removed link ids, reused last-freed first (as the fast model does).
    free_links: Vec<LinkId>,
    flows: Vec<Flow>,
    free: Vec<FlowId>,
    seq: u64,
    held: Vec<Completion>,
}

/// A link: capacity and exact completed bytes.
#[derive(Debug, Clone, Copy)]
struct RefLink {
    /// Bits/s (0 once removed).
    capacity: f64,
    /// Exact sum of the bytes credited by completed, paused or moved flows.
    completed: u64,
    /// False once removed, until `add_link` reuses the id.
    alive: bool,
}

#[derive(Debug, Clone)]
struct Flow {
    live: bool,
    /// Paused: keeps its id and bytes until resumed.
    paused: bool,
    bytes: u64,
    /// Whole bytes of the current segment (the size, or what the links had not been
    /// credited with at the last pause or cap change).
    seg: u64,
    /// Exact bytes left when the current segment started.
    seg_left: f64,
    cap: f64,
    links: Vec<LinkId>,
    /// Exact bytes left as of the clock (kept across pauses).
    remaining: f64,
    rate: f64,
    /// Completion µs under the current rates.
    finish: Option<SimTime>,
    started: SimTime,
    seq: u64,
    tag: u64,
}

impl ReferenceNet {
    /// An empty network at time 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves every live flow at its rate from the clock to `t`.
    fn move_to(&mut self, t: SimTime) {
        if t <= self.clock {
            return;
        }
        let dt = (t - self.clock) as f64;
        for f in self.flows.iter_mut().filter(|f| f.live) {
            if f.rate.is_infinite() {
                f.remaining = 0.0;
            } else {
                f.remaining = (f.remaining - f.rate * dt / BIT_US).max(0.0);
            }
        }
        self.clock = t;
    }

    fn next_due(&self) -> Option<SimTime> {
        self.flows
            .iter()
            .filter(|f| f.live)
            .filter_map(|f| f.finish)
            .min()
    }

    /// Completes flows in time order up to `now`, recomputing after each batch.
    fn run_until(&mut self, now: SimTime, out: &mut Vec<Completion>) {
        while let Some(t) = self.next_due() {
            if t > now {
                break;
            }
            self.move_to(t);
            for (id, f) in self.flows.iter_mut().enumerate() {
                if f.live && f.finish.is_some_and(|x| x <= t) {
                    f.live = false;
                    for &l in &f.links {
                        let link = &mut self.links[l as usize];
                        link.completed = link.completed.saturating_add(f.seg);
                    }
                    out.push(Completion {
                        flow: id as FlowId,
                        tag: f.tag,
                        bytes: f.bytes,
                        started: f.started,
                        finished: t,
                    });
                }
            }
            self.recompute();
        }
        self.move_to(now);
    }

    /// Progressive filling over every live flow, then completion times.
    fn recompute(&mut self) {
        let mut spare: Vec<f64> = self.links.iter().map(|l| l.capacity).collect();
        let mut unfrozen = vec![0u64; self.links.len()];
        let mut frozen: Vec<bool> = self.flows.iter().map(|f| !f.live).collect();
        for f in self.flows.iter().filter(|f| f.live) {
            for &l in &f.links {
                unfrozen[l as usize] += 1;
            }
        }
        while frozen.iter().any(|x| !x) {
            let share_of = |l: usize| spare[l].max(0.0) / unfrozen[l] as f64;
            let share = (0..spare.len())
                .filter(|&l| unfrozen[l] > 0)
                .map(share_of)
                .fold(f64::INFINITY, f64::min);
            let lowest_cap = (0..self.flows.len())
                .filter(|&i| !frozen[i])
                .map(|i| self.flows[i].cap)
                .fold(f64::INFINITY, f64::min);
            let saturated: Vec<bool> = (0..spare.len())
                .map(|l| unfrozen[l] > 0 && share_of(l) <= share)
                .collect();
            for (i, f) in self.flows.iter_mut().enumerate() {
                if frozen[i] {
                    continue;
                }
                let rate = if lowest_cap <= share {
                    // Every flow capped at or below the lowest share stops at its cap.
                    (f.cap <= share).then_some(f.cap)
                } else {
                    // Flows on a saturated link stop at the share.
                    f.links
                        .iter()
                        .any(|&l| saturated[l as usize])
                        .then_some(share)
                };
                if let Some(rate) = rate {
                    frozen[i] = true;
                    f.rate = rate;
                    for &l in &f.links {
                        spare[l as usize] -= rate;
                        unfrozen[l as usize] -= 1;
                    }
                }
            }
        }
        for f in self.flows.iter_mut().filter(|f| f.live) {
            let fluid = if f.remaining <= 0.0 {
                self.clock as f64
            } else {
                self.clock as f64 + f.remaining * BIT_US / f.rate
            };
            f.finish = completion_time(fluid, self.clock);
        }
    }
}

impl ReferenceNet {
    /// Moves the clock to `now` (never back), holding completions on the way.
    fn move_clock(&mut self, now: SimTime) -> SimTime {
        let now = now.max(self.clock);
        let mut held = mem::take(&mut self.held);
        self.run_until(now, &mut held);
        self.held = held;
        now
    }

    /// Known links, sorted and distinct.
    fn link_set(&self, links: &[LinkId]) -> Vec<LinkId> {
        let mut ls: Vec<LinkId> = links
            .iter()
            .copied()
            .filter(|&l| self.links.get(l as usize).is_some_and(|k| k.alive))
            .collect();
        ls.sort_unstable();
        ls.dedup();
        ls
    }

    /// Stops serving an active flow: its links are credited with the whole bytes
    /// it received, and its segment becomes what is left.
    fn stop(&mut self, flow: FlowId) -> bool {
        let Some(f) = self.flows.get_mut(flow as usize).filter(|f| f.live) else {
            return false;
        };
        let served = ((f.seg_left - f.remaining).max(0.0) as u64).min(f.seg);
        for &l in &f.links {
            let link = &mut self.links[l as usize];
            link.completed = link.completed.saturating_add(served);
        }
        f.seg -= served;
        f.seg_left = f.remaining;
        f.live = false;
        true
    }

    /// Serves a stopped flow's segment again with a cap and links.
    fn restart(&mut self, flow: FlowId, cap_bps: u64, links: Vec<LinkId>) {
        if let Some(f) = self.flows.get_mut(flow as usize) {
            f.cap = cap_f64(cap_bps);
            f.links = links;
            f.live = true;
            f.paused = false;
        }
    }
}

impl FlowNetwork for ReferenceNet {
    fn pause_flow(&mut self, now: SimTime, flow: FlowId) -> bool {
        self.move_clock(now);
        if !self.stop(flow) {
            return false;
        }
        self.flows[flow as usize].paused = true;
        self.recompute();
        true
    }

    fn resume_flow(&mut self, now: SimTime, flow: FlowId, cap_bps: u64, links: &[LinkId]) -> bool {
        self.move_clock(now);
        if !self.is_paused(flow) {
            return false;
        }
        let ls = self.link_set(links);
        self.restart(flow, cap_bps, ls);
        self.recompute();
        true
    }

    fn set_flow_cap(&mut self, now: SimTime, flow: FlowId, cap_bps: u64) -> bool {
        self.move_clock(now);
        if !self.stop(flow) {
            return false;
        }
        let ls = self.flows[flow as usize].links.clone();
        self.restart(flow, cap_bps, ls);
        self.recompute();
        true
    }

    fn is_paused(&self, flow: FlowId) -> bool {
        self.flows.get(flow as usize).is_some_and(|f| f.paused)
    }

    fn cancel_flow(&mut self, now: SimTime, flow: FlowId) -> Option<u64> {
        self.move_clock(now);
        if !self.is_paused(flow) {
            if !self.stop(flow) {
                return None;
            }
            self.recompute();
        }
        let f = self.flows.get_mut(flow as usize)?;
        f.paused = false;
        f.live = false;
        f.finish = None;
        let got = f.bytes - f.seg;
        self.free.push(flow);
        Some(got)
    }

    fn flow_received(&self, now: SimTime, flow: FlowId) -> Option<u64> {
        let f = self.flows.get(flow as usize)?;
        if f.paused {
            return Some(f.bytes - f.seg);
        }
        if !f.live {
            return None;
        }
        let dt = now.saturating_sub(self.clock) as f64;
        let remaining = if f.rate.is_infinite() {
            0.0
        } else {
            (f.remaining - f.rate * dt / BIT_US).max(0.0)
        };
        let got = (f.seg_left - remaining).clamp(0.0, f.seg as f64) as u64;
        Some(f.bytes - f.seg + got)
    }

    fn add_link(&mut self, capacity_bps: u64) -> LinkId {
        let link = RefLink {
            capacity: capacity_bps as f64,
            completed: 0,
            alive: true,
        };
        if let Some(l) = self.free_links.pop() {
            self.links[l as usize] = link;
            return l;
        }
        self.links.push(link);
        (self.links.len() - 1) as LinkId
    }

    fn remove_link(&mut self, link: LinkId) -> bool {
        if !self.links.get(link as usize).is_some_and(|l| l.alive) {
            return false;
        }
        let crossed = self
            .flows
            .iter()
            .any(|f| (f.live || f.paused) && f.links.contains(&link));
        if crossed {
            return false;
        }
        self.links[link as usize] = RefLink {
            capacity: 0.0,
            completed: 0,
            alive: false,
        };
        self.free_links.push(link);
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
        if !self.stop(flow) {
            return false;
        }
        let ls = self.link_set(links);
        self.restart(flow, cap_bps, ls);
        self.recompute();
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
        let ls = self.link_set(links);
        let flow = Flow {
            live: bytes > 0,
            paused: false,
            bytes,
            seg: bytes,
            seg_left: bytes as f64,
            cap: cap_f64(cap_bps),
            links: ls,
            remaining: bytes as f64,
            rate: 0.0,
            finish: None,
            started: now,
            seq: self.seq,
            tag,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.flows[id as usize] = flow;
                id
            }
            None => {
                self.flows.push(flow);
                (self.flows.len() - 1) as FlowId
            }
        };
        if bytes == 0 {
            self.held.push(Completion {
                flow: id,
                tag,
                bytes,
                started: now,
                finished: now,
            });
        } else {
            self.recompute();
        }
        id
    }

    fn next_completion(&self) -> Option<SimTime> {
        let held = self.held.iter().map(|c| c.finished).min();
        match (held, self.next_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn advance(&mut self, now: SimTime, out: &mut Vec<Completion>) {
        let start = out.len();
        out.append(&mut self.held);
        self.run_until(now, out);
        let done = &mut out[start..];
        let flows = &self.flows;
        done.sort_by_key(|c| (c.finished, flows[c.flow as usize].seq));
        self.free.extend(done.iter().map(|c| c.flow));
    }

    fn link_bytes(&self, link: LinkId) -> u64 {
        let Some(&RefLink { completed, .. }) = self.links.get(link as usize) else {
            return 0;
        };
        self.flows
            .iter()
            .filter(|f| f.live && f.links.contains(&link))
            .map(|f| (f.seg_left - f.remaining).clamp(0.0, f.seg as f64) as u64)
            .fold(completed, u64::saturating_add)
    }

    fn link_active(&self, link: LinkId) -> u32 {
        self.flows
            .iter()
            .filter(|f| f.live && f.links.contains(&link))
            .count() as u32
    }

    fn link_rate_bps(&self, link: LinkId) -> f64 {
        self.flows
            .iter()
            .filter(|f| f.live && f.links.contains(&link))
            .map(|f| f.rate)
            .sum()
    }

    fn flow_rate_bps(&self, flow: FlowId) -> f64 {
        match self.flows.get(flow as usize) {
            Some(f) if f.live => f.rate,
            _ => 0.0,
        }
    }

    fn active_flows(&self) -> usize {
        self.flows.iter().filter(|f| f.live).count()
    }

    fn now(&self) -> SimTime {
        self.clock
    }
}
