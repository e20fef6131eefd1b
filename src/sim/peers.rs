//! Peer content in the rollout: a download first looks for a peer cache source of
//! the client's boundary group, then goes to its DP, where BranchCache takes the
//! segments the client's subnet already holds from a peer (`crate::peer` keeps the
//! registries and states the approximation).
//!
//! Location order. ConfigMgr tries peer cache sources before distribution points
//! ("the client [...] tries to download content from a peer cache source first",
//! and a source that rejects the request sends the client on down its list of
//! locations: <https://learn.microsoft.com/en-us/mem/configmgr/core/plan-design/hierarchy/client-peer-cache>),
//! then the DPs of its boundary group, then those of the fallback groups
//! (`downloads::request_download`). BranchCache works under the DP download: the
//! client fetches the content information from the DP, asks its subnet for each
//! segment, and takes from the DP only what no peer holds.
//!
//! A download is thus a sequence of *legs*, each one transfer from one source:
//! a peer cache leg (the rest of the item from a source), a content-information leg
//! and a DP leg (from the DP, through its connection limit, queue and WAN link, as
//! before), and BranchCache legs (`[pos, end)` from the subnet peer that holds it).
//! `pos`, the bytes of the item the client has, moves at the end of each leg.
//!
//! Serving. A peer that serves gets a link of its own network cap, created with its
//! first upload and removed after its last; its uploads and its own download (moved
//! onto that link while it serves) share it max-min fairly, and no peer leg crosses
//! a WAN or DP link. A peer serves only while it is on: a serving peer gets one
//! event, at the next time its schedule switches it off, which cuts its uploads
//! (their requesters locate the rest again); a peer that serves nothing has no
//! event, so the cost of an event does not depend on the idle peers.
//!
//! Peer legs do not fail (transient failures are drawn for DP transfers only) and
//! are not paused: a requester whose machine switches off during one keeps the bytes
//! it has and locates the rest when it is back on.

use std::collections::HashMap;

use smallvec::SmallVec;

use super::state::Link;
use super::transport::{FlowDone, FlowReq, Transport};
use super::world::World;
use crate::domain::Power;
use crate::engine::time::SimTime;
use crate::peer::{Layout, SourceIndex, SubnetBlocks, Want, content_info_bytes};
use crate::scenario::model::Scenario;

/// No flow, link or server.
pub(crate) const NONE: u32 = u32::MAX;

/// What the client's current transfer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Leg {
    /// None in flight (or a plain DP download of a client without peers).
    #[default]
    Idle,
    /// The rest of the item from a DP.
    Dp,
    /// BranchCache content information from the DP, before the segments.
    ContentInfo,
    /// The rest of the item from a peer cache source.
    PeerCache,
    /// `[pos, end)` of the item from a BranchCache peer of the subnet.
    BranchCache,
}

impl Leg {
    /// Whether a peer serves the leg.
    pub(crate) fn by_peer(self) -> bool {
        matches!(self, Leg::PeerCache | Leg::BranchCache)
    }
}

/// A client's peer state (only kept in runs with peer content).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerClient {
    /// Global subnet (`peer::Layout`).
    pub(crate) subnet: u32,
    /// Transport handle of the current leg's flow.
    pub(crate) flow: u32,
    /// The peer serving the current leg.
    pub(crate) server: u32,
    /// Its own link while it serves.
    pub(crate) link: u32,
    /// Bytes of the current item it has.
    pub(crate) pos: u64,
    /// End offset of the current leg.
    pub(crate) end: u64,
    /// Bytes received from peers over the run.
    pub(crate) from_peers: u64,
    /// Time of its queued switch-off event while it serves.
    pub(crate) off_at: SimTime,
    /// The current leg.
    pub(crate) leg: Leg,
    /// A peer cache source.
    pub(crate) source: bool,
    /// Has the content information of the current item.
    pub(crate) info: bool,
}

impl Default for PeerClient {
    fn default() -> Self {
        PeerClient {
            subnet: NONE,
            flow: NONE,
            server: NONE,
            link: NONE,
            pos: 0,
            end: 0,
            from_peers: 0,
            off_at: SimTime::MAX,
            leg: Leg::Idle,
            source: false,
            info: false,
        }
    }
}

/// Bytes by source, as `summary.json` `bytes.by_source` has them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BySource {
    /// From distribution points (content information included).
    pub dp: u64,
    /// From peer cache sources.
    pub peer_cache: u64,
    /// From BranchCache peers.
    pub branchcache: u64,
}

/// The peer content of a run.
pub(crate) struct Peers {
    /// Per client.
    pub(crate) pc: Vec<PeerClient>,
    /// Peer cache sources holding each item, per site.
    pub(crate) sources: SourceIndex,
    /// BranchCache holders, per subnet.
    pub(crate) blocks: SubnetBlocks,
    /// The requesters each serving peer serves now. Looked up, and iterated only
    /// to sum bytes (`site_peer_bytes_at`), so its order cannot leak into results.
    pub(crate) serving: HashMap<u32, SmallVec<[u32; 4]>>,
    /// Peer bytes received by each site's clients.
    pub(crate) site_from_peers: Vec<u64>,
    /// Peer bytes by mechanism: peer cache, BranchCache.
    pub(crate) peer_cache: u64,
    /// See `peer_cache`.
    pub(crate) branchcache: u64,
}

/// The subnet client `c`'s inventory row names, if any (an index into
/// `Inventory::subnets`).
pub(crate) fn inventory_subnet(s: &Scenario, c: usize) -> Option<u32> {
    s.fleet.inventory.as_ref()?.rows.get(c)?.subnet
}

/// Whether a scenario has peer content at all.
pub fn used(s: &Scenario) -> bool {
    s.sites
        .iter()
        .any(|x| x.branchcache || x.peer_cache.is_some())
}

impl Peers {
    /// The peers of a fleet whose client `c` stands in site `site_of[c]`.
    pub(crate) fn new(s: &Scenario, site_of: &[u16]) -> Peers {
        let layout = Layout::new(site_of, &s.sites, |c| inventory_subnet(s, c));
        let pc = layout
            .subnet
            .iter()
            .zip(&layout.source)
            .map(|(&subnet, &source)| PeerClient {
                subnet,
                source,
                ..PeerClient::default()
            })
            .collect();
        Peers {
            pc,
            sources: SourceIndex::default(),
            blocks: SubnetBlocks::default(),
            serving: HashMap::new(),
            site_from_peers: vec![0; s.sites.len()],
            peer_cache: 0,
            branchcache: 0,
        }
    }
}

impl<T: Transport> World<'_, T> {
    /// Client `c`'s peer state, if the run has peers.
    pub(crate) fn pcl(&self, c: u32) -> Option<&PeerClient> {
        self.peers.as_ref()?.pc.get(c as usize)
    }

    pub(crate) fn pcl_mut(&mut self, c: u32) -> Option<&mut PeerClient> {
        self.peers.as_mut()?.pc.get_mut(c as usize)
    }

    /// The current leg of client `c` (`Idle` without peers).
    pub(crate) fn leg(&self, c: u32) -> Leg {
        self.pcl(c).map_or(Leg::Idle, |p| p.leg)
    }

    /// A new item starts: nothing of it yet, no content information.
    pub(crate) fn peer_new_item(&mut self, c: u32) {
        if let Some(p) = self.pcl_mut(c) {
            p.pos = 0;
            p.info = false;
            p.leg = Leg::Idle;
        }
    }

    /// Whether peer `s` is on now: its schedule says so, or a running task sequence
    /// keeps it on.
    fn peer_on(&self, s: u32) -> bool {
        self.machine_on(s, self.now) || self.st[s as usize].activity.running()
    }

    /// Looks for the client's next bytes among its peers. True when a peer leg
    /// started; false when the DP path goes on, with the leg it is for set
    /// (content information, or the rest from the DP).
    pub(crate) fn peer_locate(&mut self, c: u32) -> bool {
        let Some(p) = self.pcl(c).copied() else {
            return false;
        };
        // A paused background transfer resumes on its DP (BITS resumes its job).
        if self.bg.get(c).is_some_and(|j| j.paused && j.flow != NONE) {
            return false;
        }
        let a = self.attrs[c as usize];
        let site = &self.s.sites[a.site as usize];
        let item = self.st[c as usize].dl_content;
        let size = self.s.content[item as usize].size;
        let pos = p.pos.max(self.bg.get(c).map_or(0, |j| j.received));
        // The registries are taken out while the world is read to judge peers.
        let Some(mut x) = self.peers.take() else {
            return false;
        };
        let now = self.now;
        let on = |w: &Self, s: u32| w.peer_on(s);
        let mut found: Option<(u32, Leg, u64)> = None;
        if let Some(pcache) = &site.peer_cache {
            let max = pcache.max_connections as usize;
            let serving = &x.serving;
            let usable = |s: u32| {
                s != c
                    && serving.get(&s).is_none_or(|l| l.len() < max)
                    && self.attrs[s as usize].power == Power::Ac
                    && on(self, s)
            };
            if let Some(s) = x.sources.pick(a.site, item, usable) {
                found = Some((s, Leg::PeerCache, size));
            }
        }
        if found.is_none() && site.branchcache && p.info {
            let pc = &x.pc;
            let net = &self.net;
            let prefix = |d: u32| {
                let q = pc.get(d as usize)?;
                if q.flow == NONE || q.leg != Leg::Dp || !on(self, d) {
                    return None;
                }
                net.received(now, q.flow).map(|r| q.pos + r)
            };
            let want = Want {
                subnet: p.subnet,
                item,
                client: c,
                pos,
                size,
            };
            if let Some(f) = x.blocks.find(want, |s| on(self, s), prefix) {
                found = Some((f.peer, Leg::BranchCache, f.end));
            }
        }
        self.peers = Some(x);
        if let Some((server, leg, end)) = found {
            self.start_peer_leg(c, server, leg, pos, end);
            return true;
        }
        if site.branchcache && !p.info {
            self.set_leg(c, Leg::ContentInfo, pos);
            return false;
        }
        self.set_leg(c, Leg::Dp, pos);
        false
    }

    fn set_leg(&mut self, c: u32, leg: Leg, pos: u64) {
        if let Some(p) = self.pcl_mut(c) {
            p.leg = leg;
            p.pos = pos;
        }
    }

    /// Starts the leg `[pos, end)` of client `c`'s item from peer `server`.
    fn start_peer_leg(&mut self, c: u32, server: u32, leg: Leg, pos: u64, end: u64) {
        let link = self.serve(server, c);
        let mut links: SmallVec<[u32; 2]> = SmallVec::new();
        links.push(link);
        if let Some(own) = self.own_link(c) {
            links.push(own);
        }
        let tracked = self.tracked(c);
        let cap = if tracked {
            self.background_cap(c)
        } else {
            self.s.network.cap(self.attrs[c as usize].network)
        };
        let st = &mut self.st[c as usize];
        st.activity.set_link(Link::Transferring { fails: false });
        let tag = (c as u64) | ((st.epoch as u64) << 32);
        let item = st.dl_content;
        let req = FlowReq {
            client: c,
            content: item,
            dp: u16::MAX,
            attempt: st.attempt,
            bytes: end - pos,
            size: self.s.content[item as usize].size,
            cap_bps: cap,
            links: &links,
            tag,
        };
        let flow = self.net.start_pausable(self.now, &req).unwrap_or(NONE);
        if tracked {
            let job = self.bg.job(c);
            job.flow = flow;
            job.fails = false;
            job.paused = false;
            self.schedule_edge(c);
        }
        if let Some(p) = self.pcl_mut(c) {
            p.leg = leg;
            p.pos = pos;
            p.end = end;
            p.server = server;
            p.flow = flow;
        }
    }

    /// Counts `bytes` client `c` received from a peer on its current leg.
    pub(crate) fn count_peer_bytes(&mut self, c: u32, bytes: u64) {
        self.count_received(c, bytes);
        let site = self.attrs[c as usize].site as usize;
        let leg = self.leg(c);
        if let Some(x) = self.peers.as_mut() {
            if let Some(p) = x.pc.get_mut(c as usize) {
                p.from_peers += bytes;
            }
            if let Some(v) = x.site_from_peers.get_mut(site) {
                *v += bytes;
            }
            match leg {
                Leg::PeerCache => x.peer_cache += bytes,
                _ => x.branchcache += bytes,
            }
        }
    }

    /// A peer leg of client `c` completed: count it, free its server, and go on
    /// with the rest of the item (or finish it). True when handled (the flow was a
    /// peer leg).
    pub(crate) fn peer_leg_done(&mut self, done: &FlowDone) -> bool {
        let c = (done.tag & 0xFFFF_FFFF) as u32;
        let Some(p) = self.pcl(c).copied().filter(|p| p.leg.by_peer()) else {
            return false;
        };
        self.count_peer_bytes(c, done.bytes);
        if let Some(q) = self.pcl_mut(c) {
            q.pos = p.end;
            q.leg = Leg::Idle;
            q.flow = NONE;
            q.server = NONE;
        }
        self.unserve(p.server, c);
        let epoch = (done.tag >> 32) as u32;
        if epoch != self.st[c as usize].epoch {
            return true; // the client gave up on this download (timeout)
        }
        self.st[c as usize].activity.set_link(Link::Idle);
        if let Some(j) = self.bg.get_mut(c) {
            j.flow = NONE;
            j.received = j.received.max(p.end);
        }
        let size = self.s.content[self.st[c as usize].dl_content as usize].size;
        if p.end >= size {
            self.download_succeeded(c);
        } else {
            self.request_download(c);
        }
        true
    }

    /// The content information came (a DP leg of its own): locate the segments.
    pub(crate) fn content_info_done(&mut self, c: u32) {
        if let Some(p) = self.pcl_mut(c) {
            p.info = true;
            p.leg = Leg::Idle;
            p.flow = NONE;
        }
        if let Some(j) = self.bg.get_mut(c) {
            j.flow = NONE;
        }
        self.st[c as usize].activity.set_link(Link::Idle);
        self.request_download(c);
    }

    /// The DP path starts client `c`'s transfer: the bytes it moves (the content
    /// information, or the item from `start`), and whether it registers as a
    /// BranchCache holder in progress. Returns `(start, bytes)`; `None` without
    /// peers (the caller's own rule applies).
    pub(crate) fn peer_dp_bytes(&mut self, c: u32, received: u64) -> Option<(u64, u64)> {
        let p = *self.pcl(c)?;
        let item = self.st[c as usize].dl_content;
        let size = self.s.content[item as usize].size;
        if p.leg == Leg::ContentInfo {
            return Some((p.pos, content_info_bytes(size)));
        }
        let start = p.pos.max(received).min(size);
        let site = self.attrs[c as usize].site as usize;
        if let Some(q) = self.pcl_mut(c) {
            q.leg = Leg::Dp;
            q.pos = start;
        }
        if self.s.sites[site].branchcache
            && let Some(x) = self.peers.as_mut()
        {
            x.blocks.start_download(p.subnet, item, c);
        }
        Some((start, size - start))
    }

    /// Client `c`'s own serving link, to add to a DP transfer's links.
    pub(crate) fn own_link(&self, c: u32) -> Option<u32> {
        self.pcl(c).map(|p| p.link).filter(|&l| l != NONE)
    }

    /// Records the handle of client `c`'s DP transfer.
    pub(crate) fn set_flow(&mut self, c: u32, flow: u32) {
        if let Some(p) = self.pcl_mut(c) {
            p.flow = flow;
        }
    }

    /// Client `c`'s DP transfer ended (done, failed, or given up): it no longer
    /// holds a growing prefix. `failed_ts`: a task-sequence attempt failed, and its
    /// retry starts the item again.
    pub(crate) fn peer_dp_done(&mut self, c: u32, failed_ts: bool) {
        let Some(p) = self.pcl(c).copied() else {
            return;
        };
        let item = self.st[c as usize].dl_content;
        let site = self.attrs[c as usize].site as usize;
        if p.leg == Leg::Dp
            && self.s.sites[site].branchcache
            && let Some(x) = self.peers.as_mut()
        {
            x.blocks.end_download(p.subnet, item, c);
        }
        if let Some(q) = self.pcl_mut(c) {
            q.leg = Leg::Idle;
            q.flow = NONE;
            if failed_ts {
                q.pos = 0;
            }
        }
    }

    /// Client `c` holds item `item` whole now: a BranchCache holder of its subnet,
    /// and, for a peer cache source whose cache holds it, a source of its site.
    pub(crate) fn peer_item_done(&mut self, c: u32, item: u32, cached: bool) {
        let Some(p) = self.pcl(c).copied() else {
            return;
        };
        let site = self.attrs[c as usize].site;
        let s = &self.s.sites[site as usize];
        let fits = self.s.content[item as usize].size <= self.s.client.cache_size;
        let (bc, source) = (s.branchcache, p.source && cached && fits);
        if let Some(x) = self.peers.as_mut() {
            if bc {
                x.blocks.add_whole(p.subnet, item, c);
            }
            if source {
                x.sources.add(site, item, c);
            }
        }
        if let Some(q) = self.pcl_mut(c) {
            q.pos = 0;
            q.leg = Leg::Idle;
            q.flow = NONE;
        }
    }

    /// Whether client `c` is a peer cache source of a site whose sources
    /// pre-cache the deployment's content (`peer_cache.precache`).
    pub(crate) fn seeds_peer_cache(&self, c: u32) -> bool {
        self.pcl(c).is_some_and(|p| p.source)
            && self.s.sites[self.attrs[c as usize].site as usize]
                .peer_cache
                .as_ref()
                .is_some_and(|p| p.precache)
    }

    /// Bytes client `c` received from peers.
    pub(crate) fn bytes_from_peers(&self, c: u32) -> u64 {
        self.pcl(c).map_or(0, |p| p.from_peers)
    }

    /// Bytes by source for `summary.json`.
    pub(crate) fn by_source(&self) -> BySource {
        let dp = self.stats.by_dp.iter().sum();
        match self.peers.as_ref() {
            Some(x) => BySource {
                dp,
                peer_cache: x.peer_cache,
                branchcache: x.branchcache,
            },
            None => BySource {
                dp,
                ..BySource::default()
            },
        }
    }

    /// Bytes each site's clients have received from peers by `t` (empty without
    /// peers): the finished and cut legs (`site_from_peers`), plus what every upload
    /// in flight has delivered so far, so that the difference between two bandwidth
    /// buckets is what peers carried in between, the bytes the site's WAN link did
    /// not have to (`bandwidth.csv` `saved_bps`). The in-flight part is read from the
    /// network at `t` without moving its clock. The uploads are visited in the map's
    /// order, but each adds into a `u64`, so the result does not depend on it.
    pub(crate) fn site_peer_bytes_at(&self, t: SimTime) -> Vec<u64> {
        let Some(x) = self.peers.as_ref() else {
            return Vec::new();
        };
        let mut out = x.site_from_peers.clone();
        for &r in x.serving.values().flatten() {
            let Some(p) = x.pc.get(r as usize).filter(|p| p.flow != NONE) else {
                continue;
            };
            let site = self.attrs[r as usize].site as usize;
            if let (Some(got), Some(v)) = (self.net.received(t, p.flow), out.get_mut(site)) {
                *v += got;
            }
        }
        out
    }
}
