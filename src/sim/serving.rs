//! Serving peers: a peer's link while it serves, its own download moved onto it,
//! and the switch-off event that ends its uploads (their requesters keep what they
//! received and locate the rest). The download side (legs, location, accounting)
//! is `sim::peers`.

use smallvec::SmallVec;

use super::peers::{Leg, NONE};
use super::state::Link;
use super::transport::Transport;
use super::world::{EvKind, World};
use crate::engine::time::SimTime;

impl<T: Transport> World<'_, T> {
    /// The links client `c`'s own transfer crosses, without its own serving link.
    fn base_links(&self, c: u32) -> SmallVec<[u32; 2]> {
        let mut links = SmallVec::new();
        let Some(p) = self.pcl(c) else { return links };
        match p.leg {
            Leg::Idle => {}
            Leg::PeerCache | Leg::BranchCache => {
                if let Some(l) = self.own_link(p.server) {
                    links.push(l);
                }
            }
            Leg::Dp | Leg::ContentInfo => {
                let a = self.attrs[c as usize];
                let d = &self.dps[self.st[c as usize].dp as usize];
                if d.site != a.site
                    && let Some(w) = self.sites[a.site as usize].wan
                {
                    links.push(w);
                }
                links.push(d.link);
            }
        }
        links
    }

    /// Moves client `c`'s own transfer onto its links now (its serving link
    /// added or gone); nothing when it has none running.
    fn relink_own(&mut self, c: u32) {
        let Some(p) = self.pcl(c).copied() else {
            return;
        };
        if p.leg == Leg::Idle || p.flow == NONE {
            return;
        }
        let mut links = self.base_links(c);
        if p.link != NONE {
            links.push(p.link);
        }
        let cap = if self.tracked(c) {
            self.background_cap(c)
        } else {
            self.s.network.cap(self.attrs[c as usize].network)
        };
        self.net.relink(self.now, p.flow, cap, &links);
    }

    /// Peer `s` takes requester `r`: its link (created with its first upload, at its
    /// own network cap, its own download moved onto it), and its switch-off event.
    pub(crate) fn serve(&mut self, s: u32, r: u32) -> u32 {
        let mut link = self.pcl(s).map_or(NONE, |p| p.link);
        if link == NONE {
            let cap = self.s.network.cap(self.attrs[s as usize].network);
            link = self.net.add_link(cap);
            if let Some(p) = self.pcl_mut(s) {
                p.link = link;
            }
            self.relink_own(s);
            self.schedule_peer_off(s);
        }
        if let Some(x) = self.peers.as_mut() {
            x.serving.entry(s).or_default().push(r);
        }
        link
    }

    /// Queues the event at which serving peer `s` next switches off, if it does.
    fn schedule_peer_off(&mut self, s: u32) {
        if !self.cal.power {
            return;
        }
        let Some(t) = self.next_off(s, self.now) else {
            return;
        };
        if let Some(p) = self.pcl_mut(s) {
            p.off_at = t;
        }
        self.schedule(t, s, EvKind::PeerOff);
    }

    /// Requester `r` no longer uses peer `s`: the link goes with the last upload.
    pub(crate) fn unserve(&mut self, s: u32, r: u32) {
        let Some(x) = self.peers.as_mut() else { return };
        let Some(list) = x.serving.get_mut(&s) else {
            return;
        };
        if let Some(i) = list.iter().position(|&q| q == r) {
            list.remove(i);
        }
        if list.is_empty() {
            x.serving.remove(&s);
            self.drop_link(s);
        }
    }

    /// Peer `s` serves nobody: its own download leaves its link, which goes.
    fn drop_link(&mut self, s: u32) {
        let Some(link) = self.own_link(s) else {
            return;
        };
        if let Some(p) = self.pcl_mut(s) {
            p.link = NONE;
            p.off_at = SimTime::MAX;
        }
        self.relink_own(s);
        if !self.net.remove_link(link)
            && let Some(p) = self.pcl_mut(s)
        {
            // A paused transfer still crosses it: keep it for the next uploads.
            p.link = link;
        }
    }

    /// The switch-off event of a serving peer: unless a running task sequence keeps
    /// it on (then the next switch-off), it stops serving, and each requester keeps
    /// what it received and locates the rest again.
    pub(crate) fn on_peer_off(&mut self, s: u32) {
        if self.pcl(s).is_none_or(|p| p.off_at != self.now) {
            return;
        }
        if self.st[s as usize].activity.running() {
            self.schedule_peer_off(s);
            return;
        }
        self.stop_serving(s);
    }

    /// Cuts every upload of peer `s`; their requesters locate the rest again.
    pub(crate) fn stop_serving(&mut self, s: u32) {
        let Some(list) = self.peers.as_mut().and_then(|x| x.serving.remove(&s)) else {
            return;
        };
        for r in list {
            self.cut_leg(r);
        }
        self.drop_link(s);
    }

    /// Ends client `r`'s peer leg now: the bytes it received count, and it locates
    /// the rest again (at once, or when its machine is back on).
    pub(crate) fn cut_leg(&mut self, r: u32) {
        let Some(p) = self.pcl(r).copied().filter(|p| p.leg.by_peer()) else {
            return;
        };
        let Some(got) = self.net.cancel(self.now, p.flow) else {
            // It completed at this µs: its completion is on its way.
            return;
        };
        self.count_peer_bytes(r, got);
        if let Some(q) = self.pcl_mut(r) {
            q.pos += got;
            q.leg = Leg::Idle;
            q.flow = NONE;
            q.server = NONE;
        }
        if let Some(x) = self.peers.as_mut()
            && let Some(l) = x.serving.get_mut(&p.server)
        {
            l.retain(|q| *q != r);
        }
        self.st[r as usize].activity.set_link(Link::Idle);
        if let Some(j) = self.bg.get_mut(r) {
            j.flow = NONE;
        }
        if self.tracked(r) && !self.background_allowed(r) {
            self.bg.job(r).deferred = true;
            self.schedule_edge(r);
        } else {
            self.request_download(r);
        }
    }

    /// Pauses client `c`'s own transfer `flow` (its machine switches off): a
    /// serving machine stops serving first, so that the paused transfer does not
    /// hold its serving link. False when the transfer is not running.
    pub(crate) fn pause_own(&mut self, c: u32, flow: u32) -> bool {
        if self.peers.is_some() {
            self.stop_serving(c);
        }
        self.net.pause(self.now, flow)
    }

    /// The first time after `t` at which client `c`'s schedule switches it off.
    fn next_off(&self, c: u32, t: SimTime) -> Option<SimTime> {
        let p = self.power(c);
        if p.always_on {
            return None;
        }
        let k = self.s.calendar.clock_of(&p)?;
        let n = k.next_switch(t)?;
        if k.is_on(t) {
            Some(n)
        } else {
            k.next_switch(n)
        }
    }
}
