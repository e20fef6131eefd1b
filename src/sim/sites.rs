//! Per-site figures: which site is late and which WAN link is full.
//!
//! Two things are collected while the run goes, the rest is read from the clients'
//! final states when the result is assembled:
//!
//! - **bytes over each WAN link**, counted when a transfer's bytes are counted (the
//!   same moment `bytes.total` counts them), so a site's `over_wan` never includes the
//!   fluid progress of a transfer the run did not finish and never exceeds its
//!   `bytes.total`;
//! - **time each WAN link ran full** (`busy`): the fluid network's rates are constant
//!   between two events of the loop (they change only when a flow starts or
//!   completes, both of which happen inside an event), so the loop hands every event
//!   time to [`WanBusy::reach`], which adds the interval since the previous event
//!   when the link's rate over it was at least [`BUSY_SHARE`] of its capacity. The
//!   sum is exact, not an estimate from bandwidth buckets. A real-time transport
//!   (`load`) knows no rates; there `busy` is the width of the buckets whose average
//!   was at that share or more ([`busy_from_buckets`]).
//!
//! Invariant (tested in `tests/it/sites.rs`): site clients, outcomes and bytes add up
//! to the fleet's.

use super::result::{BandwidthRow, Outcome, Outcomes, SiteResult, WanResult};
use super::state::NEVER;
use super::transport::Transport;
use super::world::World;
use crate::engine::time::SimTime;
use crate::net::LinkId;

/// A WAN link counts as full while it carries at least this share of its capacity.
pub const BUSY_SHARE: f64 = 0.99;

/// Busy-time integrator of the WAN links, fed every event time of the loop.
#[derive(Debug, Default)]
pub(crate) struct WanBusy {
    /// `(site, link, threshold bits/s, busy µs so far)` per site with a WAN link.
    links: Vec<(u16, LinkId, f64, SimTime)>,
    /// Time of the previous call.
    last: SimTime,
    /// Whether the transport reports rates (the fluid model does).
    exact: bool,
}

impl WanBusy {
    /// Tracks every site with a WAN link.
    pub(crate) fn new<T: Transport>(w: &World<'_, T>) -> Self {
        let links: Vec<(u16, LinkId, f64, SimTime)> = w
            .sites
            .iter()
            .enumerate()
            .filter_map(|(j, s)| {
                let cap = w.s.sites.get(j)?.wan? as f64;
                s.wan.map(|l| (j as u16, l, cap * BUSY_SHARE, 0))
            })
            .collect();
        let exact = links
            .first()
            .is_none_or(|&(_, l, _, _)| w.net.link_rate_bps(l).is_some());
        WanBusy {
            links,
            last: 0,
            exact,
        }
    }

    /// Time moves to `t`: the rates the network has now held since the previous call.
    #[inline]
    pub(crate) fn reach<T: Transport>(&mut self, net: &T, t: SimTime) {
        if self.links.is_empty() {
            return;
        }
        let dt = t.saturating_sub(self.last);
        self.last = self.last.max(t);
        if dt == 0 {
            return;
        }
        for (_, link, threshold, busy) in &mut self.links {
            if net.link_rate_bps(*link).is_some_and(|r| r >= *threshold) {
                *busy += dt;
            }
        }
    }

    /// Busy µs of a site's WAN link, `None` when the transport knows no rates.
    fn busy(&self, site: u16) -> Option<SimTime> {
        if !self.exact {
            return None;
        }
        self.links
            .iter()
            .find(|x| x.0 == site)
            .map(|x| x.3)
            .or(Some(0))
    }
}

/// The bytes peers saved each WAN link, bucket by bucket: the growth, between two
/// bucket ends, of what the site's clients had received from peers
/// ([`World::site_peer_bytes_at`]). Peer traffic never crosses a WAN link; without
/// peers, those bytes would have come from the clients' DPs, which for the sites
/// tracked here all stand in other sites, so `actual + saved` is what the WAN link
/// would have had to carry. A site whose own DP stands in the site is not tracked:
/// there peers spare that DP, not the WAN link.
#[derive(Debug, Default)]
pub(crate) struct PeerSaved {
    /// Per site: peer bytes at the previous bucket end, `None` for an untracked site
    /// (every site, in a run without peers).
    last: Vec<Option<u64>>,
}

impl PeerSaved {
    /// Tracks, in a run with peers, the sites with peer content and a WAN link whose
    /// clients reach every DP they use (their own, or without one the fallback DPs)
    /// over that link.
    pub(crate) fn new<T: Transport>(w: &World<'_, T>) -> Self {
        let s = w.s;
        let on = w.peers.is_some();
        let over_wan = |j: usize, x: &crate::domain::Site| {
            let dps = match &x.fallback {
                Some(f) if x.distribution_points.is_empty() => &f.distribution_points,
                _ => &x.distribution_points,
            };
            x.wan.is_some()
                && dps
                    .iter()
                    .all(|&d| s.distribution_points.get(d).is_none_or(|p| p.site != j))
        };
        PeerSaved {
            last: s
                .sites
                .iter()
                .enumerate()
                .map(|(j, x)| {
                    let peers = x.branchcache || x.peer_cache.is_some();
                    (on && peers && over_wan(j, x)).then_some(0)
                })
                .collect(),
        }
    }

    /// Peer bytes of every site at `t`, when some site is tracked (else empty, and
    /// nothing is read).
    pub(crate) fn read<T: Transport>(&self, w: &World<'_, T>, t: SimTime) -> Vec<u64> {
        if self.last.iter().any(Option::is_some) {
            w.site_peer_bytes_at(t)
        } else {
            Vec::new()
        }
    }

    /// Bytes peers gave site `j` since the previous call, from `now` (what
    /// [`read`](Self::read) returned at this bucket's end); `None` for an untracked site.
    pub(crate) fn step(&mut self, j: usize, now: &[u64]) -> Option<u64> {
        let last = self.last.get_mut(j)?.as_mut()?;
        let b = now.get(j).copied().unwrap_or(*last);
        let delta = b.saturating_sub(*last);
        *last = b.max(*last);
        Some(delta)
    }
}

/// Seconds of the buckets whose average rate was at least [`BUSY_SHARE`] of the
/// link's capacity (real-time transports, which know no instantaneous rates).
pub fn busy_from_buckets(rows: &[BandwidthRow], link: u32, cap: u64, interval: SimTime) -> SimTime {
    let threshold = cap as f64 * BUSY_SHARE;
    rows.iter()
        .filter(|r| r.link == link && r.bps >= threshold && cap > 0)
        .map(|_| interval)
        .sum()
}

/// The per-site records of the run, from the clients' final states. `wan_ix[j]` is the
/// index in `links`/`bandwidth` of site `j`'s WAN link (`u32::MAX` without one).
pub(crate) fn assemble<T: Transport>(
    w: &World<'_, T>,
    busy: &WanBusy,
    bandwidth: &[BandwidthRow],
    wan_ix: &[u32],
) -> Vec<SiteResult> {
    let s = w.s;
    let mut out: Vec<SiteResult> = s
        .sites
        .iter()
        .enumerate()
        .map(|(j, site)| SiteResult {
            name: site.name.clone(),
            clients: 0,
            outcomes: Outcomes::default(),
            bytes: 0,
            over_wan: w.site_wan_bytes.get(j).copied().unwrap_or(0),
            from_peers: w
                .peers
                .as_ref()
                .and_then(|x| x.site_from_peers.get(j).copied())
                .unwrap_or(0),
            successes: Vec::new(),
            wan: None,
            peers: w.peers.is_some() && (site.branchcache || site.peer_cache.is_some()),
        })
        .collect();
    let (i, n) = w.shard;
    for c in (0..w.st.len() as u32).filter(|&c| c as u64 % n == i) {
        let a = &w.attrs[c as usize];
        let st = &w.st[c as usize];
        let Some(r) = out.get_mut(a.site as usize) else {
            continue;
        };
        r.clients += 1;
        r.bytes += st.bytes;
        let o = w.outcome(c);
        match o {
            Outcome::Succeeded => {
                r.outcomes.succeeded += 1;
                if st.end_at != NEVER {
                    r.successes.push(st.end_at);
                }
            }
            Outcome::RolledBack => r.outcomes.rolled_back += 1,
            Outcome::Failed => r.outcomes.failed += 1,
            Outcome::InProgress => r.outcomes.in_progress += 1,
            Outcome::NotStarted => r.outcomes.not_started += 1,
        }
    }
    let interval = s.simulation.bandwidth_interval;
    for (j, r) in out.iter_mut().enumerate() {
        r.successes.sort_unstable();
        let Some(cap) = s.sites.get(j).and_then(|x| x.wan) else {
            continue;
        };
        let ix = wan_ix.get(j).copied().unwrap_or(u32::MAX);
        let peak = bandwidth
            .iter()
            .filter(|b| b.link == ix)
            .map(|b| b.bps)
            .fold(0.0, f64::max);
        let busy = busy
            .busy(j as u16)
            .unwrap_or_else(|| busy_from_buckets(bandwidth, ix, cap, interval));
        r.wan = Some(WanResult {
            capacity_bps: cap,
            peak_bps: peak,
            busy,
        });
    }
    out
}
