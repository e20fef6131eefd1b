//! Peer content in branch offices: which clients stand in which subnet, which are
//! ConfigMgr peer cache sources, what a peer holds, and what BranchCache costs on
//! top of the content.
//!
//! This module knows nothing of time or of the network: it keeps the registries the
//! simulation asks ("who in my boundary group holds this item whole?", "who in my
//! subnet holds which blocks?") and answers from what it was told. The simulation
//! (`sim::peers`) moves the bytes.
//!
//! # The two mechanisms
//!
//! - **Peer cache** (ConfigMgr): designated clients of a boundary group serve the
//!   content they hold whole in their client cache to the other clients of that
//!   boundary group, when they are online and on AC power; a busy source rejects
//!   the request and the client goes on down its list of locations
//!   (<https://learn.microsoft.com/en-us/mem/configmgr/core/plan-design/hierarchy/client-peer-cache>).
//!   [`SourceIndex`] lists, per (site, item), the sources holding the item.
//! - **BranchCache** (distributed cache mode): a client that downloads from a
//!   BranchCache-enabled server first fetches the content information (hashes) from
//!   it, then asks the peers of its subnet for each segment and fetches from the
//!   server only what no peer has
//!   (<https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-pccrc/d07e0d4b-d223-4ce1-b079-d780ed5b0244>).
//!   [`SubnetBlocks`] keeps, per (subnet, item), who holds it whole and who is
//!   downloading it from a DP now.
//!
//! # The BranchCache approximation, as an invariant
//!
//! Every client fetches an item's bytes in order, so what a peer holds of an item
//! is a prefix of it: all of it once its download finished, or the part its
//! download in progress has received. A subnet therefore holds the longest of
//! those prefixes, and a client at offset `pos` takes `[pos, held)` from the peer
//! that holds it, in one transfer, when that is at least one BranchCache segment
//! ([`SEGMENT`], 32 MiB) or the rest of the item; otherwise it fetches the rest
//! from its DP. Hence, for every item and subnet: **the DP sends a client the
//! bytes from `pos` on only when no peer that was on held the segment at `pos` at
//! the moment it asked.** The cost is bounded: a client makes at most one peer
//! transfer per segment of the item, and in practice one or two, because it
//! catches up with a download in progress far faster than that download moves.
//! What the model leaves out: blocks spread over several peers (one peer serves
//! each transfer) and peers' BranchCache cache limits (a peer keeps what it
//! downloaded).

use std::collections::HashMap;

use crate::domain::{PeerSources, Site};

/// BranchCache content information version 1.0 divides content into segments of
/// 32 MiB ("a binary string of a standard size (32 megabytes)"),
/// <https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-pccrc/d07e0d4b-d223-4ce1-b079-d780ed5b0244>:
/// the granularity at which fleetsim lets a client take bytes from a peer.
pub const SEGMENT: u64 = 32 * 1024 * 1024;

/// Blocks of 64 KiB within a segment (same page): one hash each in the content
/// information.
pub const BLOCK: u64 = 64 * 1024;

/// How many holders of an item a client tries, round robin, before it fetches the
/// rest from its DP (holders that are off are skipped): bounds the cost of a
/// request when a subnet's machines sleep.
pub const MAX_HOLDER_TRIES: usize = 64;

/// Size of the BranchCache content information (version 1.0, SHA-256) of content of
/// `size` bytes: what a client fetches from the DP before it asks its peers.
///
/// [MS-PCCRC] 2.3 "Content Information Data Structure Version 1.0"
/// (<https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-pccrc/36171657-7f15-419e-973b-6612b1799117>):
/// an 18-byte header (version 2, dwHashAlgo 4, dwOffsetInFirstSegment 4,
/// dwReadBytesInLastSegment 4, cSegments 4); per segment a SegmentDescription of 80
/// bytes (ullOffsetInContent 8, cbSegment 4, cbBlockSize 4, SegmentHashOfData 32,
/// SegmentSecret 32) and a SegmentContentBlocks of 4 bytes plus 32 per block. About
/// 0.05% of the content: 2.9 MB for a 6 GB package.
pub fn content_info_bytes(size: u64) -> u64 {
    let segments = size.div_ceil(SEGMENT).max(1);
    let blocks = size.div_ceil(BLOCK).max(1);
    18 + segments * (80 + 4) + blocks * 32
}

/// Where each client stands: its subnet (numbered over the whole fleet) and whether
/// it is a peer cache source of its site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Global subnet of each client: the subnets of site 0 first, then site 1's.
    pub subnet: Vec<u32>,
    /// Whether each client is a peer cache source.
    pub source: Vec<bool>,
    /// First global subnet of each site.
    pub first_subnet: Vec<u32>,
}

impl Layout {
    /// Places the clients, given the site of each (in client order; the client id
    /// is its position). A client whose inventory row names a subnet
    /// (`inventory_subnet(c)`, an index into the inventory's distinct subnets)
    /// stands in that subnet, numbered after every site's counted ones; otherwise
    /// the `k`-th client of a site (in client order) stands in subnet
    /// `k mod subnets` of the site; with `peer_cache.sources = share`, the
    /// site's `round(share * n)` sources are the clients at positions
    /// `floor(j * n / m)`, `j = 0..m` (evenly spread over the site, hence over its
    /// subnets); with a list of ids, those ids that belong to the site.
    pub fn new(
        site_of: &[u16],
        sites: &[Site],
        inventory_subnet: impl Fn(usize) -> Option<u32>,
    ) -> Layout {
        let mut first_subnet = Vec::with_capacity(sites.len());
        let mut next = 0u32;
        for s in sites {
            first_subnet.push(next);
            next = next.saturating_add(s.subnets.max(1));
        }
        let mut count = vec![0u64; sites.len()];
        for &j in site_of {
            if let Some(n) = count.get_mut(j as usize) {
                *n += 1;
            }
        }
        let quota: Vec<u64> = sites
            .iter()
            .zip(&count)
            .map(|(s, &n)| match s.peer_cache.as_ref().map(|p| &p.sources) {
                Some(PeerSources::Share(f)) => ((f * n as f64).round() as u64).min(n),
                _ => 0,
            })
            .collect();
        let mut rank = vec![0u64; sites.len()];
        let mut subnet = Vec::with_capacity(site_of.len());
        let mut source = Vec::with_capacity(site_of.len());
        for (c, &j) in site_of.iter().enumerate() {
            let j = j as usize;
            let (Some(s), Some(k)) = (sites.get(j), rank.get_mut(j)) else {
                subnet.push(u32::MAX);
                source.push(false);
                continue;
            };
            let n = count.get(j).copied().unwrap_or(0);
            let m = quota.get(j).copied().unwrap_or(0);
            let base = first_subnet.get(j).copied().unwrap_or(0);
            subnet.push(match inventory_subnet(c) {
                Some(i) => next.saturating_add(i),
                None => base + (*k % u64::from(s.subnets.max(1))) as u32,
            });
            source.push(match s.peer_cache.as_ref().map(|p| &p.sources) {
                Some(PeerSources::Share(_)) => on_grid(*k, n, m),
                Some(PeerSources::Clients(ids)) => ids.contains(&(c as u64)),
                None => false,
            });
            *k += 1;
        }
        Layout {
            subnet,
            source,
            first_subnet,
        }
    }
}

/// Whether position `k` of `n` is one of the `m` evenly spaced positions
/// `floor(j * n / m)`.
fn on_grid(k: u64, n: u64, m: u64) -> bool {
    if m == 0 || k >= n {
        return false;
    }
    // The smallest j with floor(j * n / m) >= k is ceil(k * m / n).
    let j = (u128::from(k) * u128::from(m)).div_ceil(u128::from(n));
    j < u128::from(m) && (j * u128::from(n) / u128::from(m)) as u64 == k
}

/// Peer cache: per (site, item), the sources that hold the item whole, in the
/// order they got it, and where the next request starts looking (round robin, so
/// that requests spread over the sources as the management point's list does).
#[derive(Debug, Default)]
pub struct SourceIndex {
    by_item: HashMap<(u16, u32), (Vec<u32>, usize)>,
}

impl SourceIndex {
    /// Source `c` of site `site` now holds `item` whole.
    pub fn add(&mut self, site: u16, item: u32, c: u32) {
        let e = self.by_item.entry((site, item)).or_default();
        if !e.0.contains(&c) {
            e.0.push(c);
        }
    }

    /// The first source holding `item` in `site`, from the round-robin cursor on,
    /// that `usable` accepts (on, on AC power, a free connection, not the
    /// requester); the cursor moves past it.
    pub fn pick(
        &mut self,
        site: u16,
        item: u32,
        mut usable: impl FnMut(u32) -> bool,
    ) -> Option<u32> {
        let (list, cursor) = self.by_item.get_mut(&(site, item))?;
        let n = list.len();
        for step in 0..n {
            let i = (*cursor + step) % n;
            let s = list.get(i).copied()?;
            if usable(s) {
                *cursor = (i + 1) % n;
                return Some(s);
            }
        }
        None
    }

    /// Sources holding `item` in `site`.
    pub fn holders(&self, site: u16, item: u32) -> &[u32] {
        self.by_item
            .get(&(site, item))
            .map_or(&[][..], |(l, _)| l.as_slice())
    }
}

/// BranchCache: per (subnet, item), who holds the item whole and who is
/// downloading it from a DP now (the prefix each has is read from the network).
#[derive(Debug, Default)]
pub struct SubnetBlocks {
    by_item: HashMap<(u32, u32), Holders>,
}

#[derive(Debug, Default)]
struct Holders {
    whole: Vec<u32>,
    cursor: usize,
    downloading: Vec<u32>,
}

/// What a client asks its subnet for: the bytes of `item` (of `size` bytes) from
/// `pos` on, `[0, pos)` being what it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    /// Its subnet.
    pub subnet: u32,
    /// The content item.
    pub item: u32,
    /// The client (it never serves itself).
    pub client: u32,
    /// What it has of the item.
    pub pos: u64,
    /// The item's size.
    pub size: u64,
}

/// Where a client finds the next bytes of an item in its subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The peer that serves them.
    pub peer: u32,
    /// End offset of what that peer holds: the transfer is `[pos, end)`.
    pub end: u64,
}

impl SubnetBlocks {
    /// Client `c` of `subnet` now holds `item` whole.
    pub fn add_whole(&mut self, subnet: u32, item: u32, c: u32) {
        let e = self.by_item.entry((subnet, item)).or_default();
        e.downloading.retain(|&x| x != c);
        if !e.whole.contains(&c) {
            e.whole.push(c);
        }
    }

    /// Client `c` of `subnet` started downloading `item` from a DP.
    pub fn start_download(&mut self, subnet: u32, item: u32, c: u32) {
        let e = self.by_item.entry((subnet, item)).or_default();
        if !e.downloading.contains(&c) {
            e.downloading.push(c);
        }
    }

    /// Client `c`'s DP download of `item` ended (done, failed or given up).
    pub fn end_download(&mut self, subnet: u32, item: u32, c: u32) {
        if let Some(e) = self.by_item.get_mut(&(subnet, item))
            && let Some(i) = e.downloading.iter().position(|&x| x == c)
        {
            e.downloading.swap_remove(i);
        }
    }

    /// Where a client finds more of an item in its subnet (`want`): a holder of the whole item that `on` accepts (round
    /// robin, at most [`MAX_HOLDER_TRIES`] tried), else the download in progress
    /// that is furthest ahead (`prefix` gives its bytes; `None`: it cannot serve
    /// now). `None` when no peer holds at least a segment past `pos` (or the rest
    /// of the item): the rest then comes from the DP.
    pub fn find(
        &mut self,
        want: Want,
        mut on: impl FnMut(u32) -> bool,
        mut prefix: impl FnMut(u32) -> Option<u64>,
    ) -> Option<Found> {
        let Want {
            subnet,
            item,
            client: c,
            pos,
            size,
        } = want;
        let e = self.by_item.get_mut(&(subnet, item))?;
        let n = e.whole.len();
        for step in 0..n.min(MAX_HOLDER_TRIES) {
            let i = (e.cursor + step) % n;
            let Some(&h) = e.whole.get(i) else { break };
            if h != c && on(h) {
                e.cursor = (i + 1) % n;
                return (pos < size).then_some(Found { peer: h, end: size });
            }
        }
        let mut best: Option<Found> = None;
        for &d in &e.downloading {
            if d == c {
                continue;
            }
            if let Some(end) = prefix(d).map(|p| p.min(size))
                && best.is_none_or(|b| end > b.end)
            {
                best = Some(Found { peer: d, end });
            }
        }
        best.filter(|b| b.end > pos && (b.end - pos >= SEGMENT || b.end == size))
    }
}

#[cfg(test)]
mod tests;
