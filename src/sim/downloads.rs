//! Content downloads: which content a step needs, choosing a DP (with boundary-group
//! fallback), the DP's connection limit and FIFO queue, transient failures and
//! retries, pre-cache and download-all-first.
//!
//! A client downloads one content item at a time (ConfigMgr transfers are
//! sequential), so the client's state holds the download in progress and the network
//! flow's tag is just the client id and epoch.

use smallvec::SmallVec;

use super::interp::StepEnd;
use super::program::OpKind;
use super::result::Metric;
use super::state::{Activity, FailPhase, Link, NEVER};
use super::transport::FlowDone;
use super::transport::FlowReq;
use super::transport::Transport;
use super::vars::builtin;
use super::world::{EvKind, World, purpose};
use crate::engine::rng;
use crate::engine::time::SECOND;
use crate::scenario::defaults::MAX_DOWNLOAD_RETRIES;
use crate::scenario::model::{DpOption, UpdatesMode};
use crate::setup::codes;

impl<T: Transport> World<'_, T> {
    /// The OS upgrade package among `candidates` that matches client `c`
    /// (architecture and language); a single untagged candidate matches everyone.
    pub(crate) fn matching_os(&self, c: u32, candidates: &[u32]) -> Option<u32> {
        let a = &self.attrs[c as usize];
        let lang = self.s.fleet.language.items[a.language as usize].0;
        candidates.iter().copied().find(|&i| {
            let ct = &self.s.content[i as usize];
            ct.architecture.is_none_or(|x| x == a.arch) && ct.language.is_none_or(|l| l == lang)
        })
    }

    /// Item number `item` of the content the step at the cursor needs before (or while) it
    /// runs, `None` past the end; `Err(code)` when the step cannot get its content
    /// (no OS package matches the client). Read item by item, never built as a
    /// list: a step may list tens of thousands of items, and rebuilding the list at
    /// each finished download was quadratic.
    pub(crate) fn needed_item(&self, c: u32, item: u32) -> Result<Option<u32>, u32> {
        let op = &self.prog.ops[self.st[c as usize].pc as usize];
        let item = item as usize;
        Ok(match &op.kind {
            OpKind::Download { content, .. } => content.get(item).copied(),
            OpKind::InstallApplications { apps, .. } => apps.get(item).copied(),
            OpKind::Run {
                package: Some(p), ..
            }
            | OpKind::InstallPackage { package: Some(p) } => (item == 0).then_some(*p),
            OpKind::UpgradeOs {
                content, drivers, ..
            } => {
                if content.is_empty() {
                    self.nth_driver(c, drivers, item)
                } else {
                    let os = self
                        .matching_os(c, content)
                        .ok_or(codes::NO_MATCHING_OS_PACKAGE)?;
                    match item.checked_sub(1) {
                        None => Some(os),
                        Some(d) => self.nth_driver(c, drivers, d),
                    }
                }
            }
            OpKind::InstallUpdates { mode } if *mode != UpdatesMode::None => {
                self.updates.get(item).copied()
            }
            _ => None,
        })
    }

    /// The `n`-th of the staged driver packages that fit client `c`'s hardware model
    /// (a driver package tagged with another model is not for this machine).
    /// Untagged lists, the usual case, are indexed directly.
    fn nth_driver(&self, c: u32, drivers: &[u32], n: usize) -> Option<u32> {
        if !self.model_drivers {
            return drivers.get(n).copied();
        }
        let model = self.client_model(c);
        drivers
            .iter()
            .copied()
            .filter(|&i| self.s.content[i as usize].fits_model(model))
            .nth(n)
    }

    /// Client `c`'s hardware model name.
    pub(crate) fn client_model(&self, c: u32) -> &str {
        let m = self.attrs[c as usize].model as usize;
        self.s.fleet.model.items.get(m).map_or("", |x| x.0.as_str())
    }

    /// Item number `item` of what pre-cache downloads for client `c`: its OS upgrade package
    /// (by architecture and language) first, then every other referenced content,
    /// whatever the step conditions (article, "Configure pre-cache content"), but a
    /// driver package only on clients of its model (ConfigMgr 1906 and later;
    /// `continue_precache` skips the others).
    /// `Err(code)` when the deployment references OS packages and none matches.
    pub(crate) fn precache_item(&self, c: u32, item: u32) -> Result<Option<u32>, u32> {
        let item = item as usize;
        if self.s.deployment.purpose == crate::scenario::model::Purpose::Required {
            // A required deployment's early download fetches what download-all-first
            // would: every referenced package.
            return Ok(self.prog.referenced.get(item).copied());
        }
        if self.referenced_os.is_empty() {
            return Ok(self.precache_common.get(item).copied());
        }
        let os = self
            .matching_os(c, &self.referenced_os)
            .ok_or(codes::NO_MATCHING_OS_PACKAGE)?;
        Ok(match item.checked_sub(1) {
            None => Some(os),
            Some(i) => self.precache_common.get(i).copied(),
        })
    }

    /// Whether everything pre-cache wanted is cached.
    pub(crate) fn precache_complete(&self, c: u32) -> bool {
        let mut item = 0;
        loop {
            match self.precache_item(c, item) {
                Ok(Some(i)) if self.cache.has(c, i) => item += 1,
                Ok(Some(_)) | Err(_) => return false,
                Ok(None) => return true,
            }
        }
    }

    /// Starts pre-caching (available deployments with pre-cache on).
    pub(crate) fn start_precache(&mut self, c: u32) {
        let st = &mut self.st[c as usize];
        st.precache_at = self.now;
        st.item = 0;
        st.activity = Activity::PreCaching(Link::Idle);
        self.continue_precache(c);
    }

    /// Downloads the next pre-cache item, or ends pre-cache.
    fn continue_precache(&mut self, c: u32) {
        let cache_size = self.s.client.cache_size;
        loop {
            let st = &self.st[c as usize];
            let i = match self.precache_item(c, st.item) {
                Ok(Some(i)) => i,
                Ok(None) => {
                    let st = &mut self.st[c as usize];
                    st.activity = Activity::Notified;
                    let t = self.now - st.precache_at;
                    self.stats.latency.record(Metric::Precache, t);
                    if let Some(end) = self.precache_end.get_mut(c as usize) {
                        *end = self.now;
                    }
                    return;
                }
                Err(_) => {
                    // No OS package matches: nothing sensible to pre-cache; the task
                    // sequence will fail with NO_MATCHING_OS_PACKAGE when it needs it.
                    self.st[c as usize].activity = Activity::Notified;
                    return;
                }
            };
            let ct = &self.s.content[i as usize];
            let size = ct.size;
            // Content that is cached, that is for another hardware model, or that
            // does not fit in the client cache, is skipped: the task sequence
            // downloads it when it needs it (`precache_shortfall` counts the last).
            if self.cache.has(c, i)
                || (ct.model.is_some() && !ct.fits_model(self.client_model(c)))
                || st.cache_used.saturating_add(size) > cache_size
            {
                self.st[c as usize].item += 1;
                continue;
            }
            self.begin_download(c, i);
            return;
        }
    }

    /// Starts the task sequence proper (after Install, and after a pre-cache download
    /// in flight ended): download-all-first or straight to the interpreter.
    pub(crate) fn begin_ts(&mut self, c: u32) {
        let st = &mut self.st[c as usize];
        st.activity = Activity::Stepping;
        if self.s.deployment.dp_option == DpOption::DownloadAllFirst {
            st.activity = Activity::DownloadingAllFirst(Link::Idle);
            st.item = 0;
            if !self.continue_all_first(c) {
                return;
            }
            self.st[c as usize].activity = Activity::Stepping;
        }
        self.run_ts(c);
    }

    /// Downloads the next referenced item before the first step; true when done.
    fn continue_all_first(&mut self, c: u32) -> bool {
        loop {
            let item = self.st[c as usize].item as usize;
            let Some(&i) = self.prog.referenced.get(item) else {
                return true;
            };
            if self.cache.has(c, i) {
                self.st[c as usize].item += 1;
                continue;
            }
            self.begin_download(c, i);
            return false;
        }
    }

    /// A download-all-first item is done: the next one, or the first step.
    fn next_all_first_item(&mut self, c: u32) {
        if self.continue_all_first(c) {
            self.st[c as usize].activity = Activity::Stepping;
            self.run_ts(c);
        }
    }

    /// Fetches what the step at the cursor needs.
    pub(crate) fn fetch_step_content(&mut self, c: u32) -> Fetch {
        let op = &self.prog.ops[self.st[c as usize].pc as usize];
        // With "access content directly from a DP", steps other than Download Package
        // Content keep no local copy: they stream while they run (see execute).
        if self.s.deployment.dp_option == DpOption::AccessFromDp
            && !matches!(op.kind, OpKind::Download { .. })
        {
            return Fetch::Ready;
        }
        loop {
            let i = match self.needed_item(c, self.st[c as usize].item) {
                Ok(Some(i)) => i,
                Ok(None) => return Fetch::Ready,
                Err(code) => {
                    let blame = Some(FailPhase::Download);
                    let end = StepEnd::Exit {
                        code: code as i64,
                        blame,
                    };
                    self.end_step(c, end);
                    return Fetch::Moved;
                }
            };
            if self.cache.has(c, i) {
                self.st[c as usize].item += 1;
                continue;
            }
            self.st[c as usize].activity = Activity::FetchingStep(Link::Idle);
            self.begin_download(c, i);
            return Fetch::Wait;
        }
    }

    /// First attempt of a content download, for the client's current activity.
    pub(crate) fn begin_download(&mut self, c: u32, content: u32) {
        let st = &self.st[c as usize];
        let pc = if st.activity.precaching() {
            u32::MAX
        } else {
            st.pc
        };
        self.trace(c, "download", pc, || {
            self.s.content[content as usize].id.clone()
        });
        let st = &mut self.st[c as usize];
        st.dl_content = content;
        st.since = self.now;
        st.attempt = 0;
        if self.peers.is_some() {
            self.peer_new_item(c);
        }
        self.request_download(c);
    }

    /// Whether the download in progress waits for the boundary group's fallback time
    /// (`fallback.after`) before it may use the fallback DPs.
    ///
    /// Only content the client downloads for itself does. "Due to the real-time nature
    /// of task sequence processing, it doesn't wait for the failover time on a neighbor
    /// boundary group [...] if the task sequence fails to acquire content from a
    /// distribution point in its current boundary group, it immediately tries a
    /// distribution point in a neighbor boundary group", while "for content like
    /// applications and software updates, which are downloaded by the client and not
    /// the task sequence engine, the client behaves as normal [...] it will wait for
    /// boundary group failover"
    /// (<https://learn.microsoft.com/en-us/mem/configmgr/core/servers/deploy/configure/boundary-groups-distribution-points>,
    /// "Task sequence support", "Location priority").
    ///
    /// So the client waits for: pre-cache and a required deployment's early download
    /// (the client agent downloads the deployment's content before any task sequence
    /// runs), download-all-first (the client agent fetches every package before it
    /// starts the task sequence), and the applications and software updates of the
    /// Install Application / Install Software Updates steps. The task sequence engine
    /// does not wait for its own downloads: Download Package Content, the Upgrade
    /// Operating System package and its drivers, a Run Command Line package, and
    /// content read from the DP with "access content directly".
    fn waits_for_fallback(&self, c: u32) -> bool {
        let st = &self.st[c as usize];
        match st.activity {
            Activity::PreCaching(_)
            | Activity::FinishingPreCache(_)
            | Activity::DownloadingAllFirst(_) => true,
            Activity::FetchingStep(_) => matches!(
                self.prog.ops.get(st.pc as usize).map(|o| &o.kind),
                Some(OpKind::InstallApplications { .. } | OpKind::InstallUpdates { .. })
            ),
            _ => false,
        }
    }

    /// Picks the DP (after boundary-group fallback if needed) and asks for a slot.
    pub(crate) fn request_download(&mut self, c: u32) {
        if self.cal.power || self.cal.throttle {
            // A background job waits while the machine is off (or BITS may not
            // transfer): the calendar asks again when that changes.
            if matches!(self.st[c as usize].activity, Activity::PreCaching(_))
                && !self.background_allowed(c)
            {
                self.bg.job(c).deferred = true;
                self.schedule_edge(c);
                return;
            }
        }
        // Peers first (peer cache sources, BranchCache segments), then DPs.
        if self.peers.is_some() && self.peer_locate(c) {
            return;
        }
        let a = self.attrs[c as usize];
        let dp = if a.dp != u16::MAX {
            a.dp
        } else {
            let site = &self.s.sites[a.site as usize];
            let Some(fb) = site
                .fallback
                .as_ref()
                .filter(|f| !f.distribution_points.is_empty())
            else {
                let phase = FailPhase::ContentLocation;
                self.download_failed_for_good(c, codes::NO_CONTENT_LOCATION, phase);
                return;
            };
            let waits = self.waits_for_fallback(c);
            let st = &mut self.st[c as usize];
            if waits && st.fallback_at == NEVER {
                st.fallback_at = self.now.saturating_add(fb.after);
            }
            if waits && self.now < st.fallback_at {
                let t = st.fallback_at;
                self.schedule(t, c, EvKind::Fallback);
                return;
            }
            let u = rng::uniform01(
                self.s.simulation.seed,
                c as u64,
                rng::purpose(purpose::FALLBACK_DP, 0),
            );
            let n = fb.distribution_points.len();
            fb.distribution_points[((u * n as f64) as usize).min(n - 1)] as u16
        };
        self.st[c as usize].dp = dp;
        let d = &mut self.dps[dp as usize];
        if d.active < d.max {
            self.start_flow(c);
        } else {
            d.queue.push_back(c);
            d.bucket_queued = d.bucket_queued.max(d.queue.len() as u32);
            self.st[c as usize].activity.set_link(Link::Queued);
        }
    }

    /// Starts the network flow of the client's current attempt on its DP (or
    /// resumes the paused transfer of its background job).
    ///
    /// False when the client's background job may not transfer now (its machine
    /// went to sleep, or BITS allows no transfer, while it waited in the DP's
    /// queue): it then asks again when that changes, and the slot goes to the next
    /// client in the queue. A queued background job therefore needs no event when
    /// its machine switches off: it is looked at when its turn comes.
    pub(crate) fn start_flow(&mut self, c: u32) -> bool {
        if self.cal.tracks_transfers()
            && matches!(self.st[c as usize].activity, Activity::PreCaching(_))
            && !self.background_allowed(c)
        {
            self.st[c as usize].activity.set_link(Link::Idle);
            self.bg.job(c).deferred = true;
            self.schedule_edge(c);
            return false;
        }
        let seed = self.s.simulation.seed;
        let a = self.attrs[c as usize];
        let dp = self.st[c as usize].dp as usize;
        let d = &mut self.dps[dp];
        d.active += 1;
        d.bucket_active = d.bucket_active.max(d.active);
        let mut links: SmallVec<[u32; 2]> = SmallVec::new();
        if d.site != a.site {
            let site = &mut self.sites[a.site as usize];
            if let Some(w) = site.wan {
                links.push(w);
                site.wan_active += 1;
                site.bucket_active = site.bucket_active.max(site.wan_active);
            }
        }
        links.push(d.link);
        // A serving peer's own download shares its link (`sim::peers`).
        links.extend(self.own_link(c));
        if !self.bg.is_empty() && self.resume_paused(c, &links) {
            return true;
        }
        let st = &mut self.st[c as usize];
        let size = self.s.content[st.dl_content as usize].size;
        // BITS resumes a background job where its last attempt stopped.
        let background = st.activity.precaching();
        let received = if background && !self.bg.is_empty() {
            self.bg.get(c).map_or(0, |j| j.received.min(size))
        } else {
            0
        };
        let mut left = size - received;
        // With peers: the content information, or the rest of what peers gave.
        let mut info = false;
        if self.peers.is_some()
            && let Some((start, bytes)) = self.peer_dp_bytes(c, received)
        {
            info = self.leg(c) == super::peers::Leg::ContentInfo;
            if !info && background && !self.bg.is_empty() {
                // BITS keeps what the peers gave: a later retry resumes from it.
                self.bg.job(c).received = start;
            }
            left = bytes;
        }
        let st = &mut self.st[c as usize];
        let key = (st.pc << 8)
            ^ (st.dl_content << 20)
            ^ (st.attempt as u32)
            ^ (st.activity.owner_key() << 30);
        let p_fail = self.s.client.transient_failure.for_net(a.network);
        let fails = p_fail > 0.0
            && !info
            && rng::uniform01(seed, c as u64, rng::purpose(purpose::DL_FAIL, key)) < p_fail;
        let bytes = if fails {
            let f = rng::uniform01(seed, c as u64, rng::purpose(purpose::DL_FAIL_AT, key));
            (left as f64 * f) as u64
        } else {
            left
        };
        st.activity.set_link(Link::Transferring { fails });
        let tag = (c as u64) | ((st.epoch as u64) << 32);
        let tracked = self.tracked(c);
        let cap = if tracked {
            self.background_cap(c)
        } else {
            self.s.network.cap(a.network)
        };
        let req = FlowReq {
            client: c,
            content: self.st[c as usize].dl_content,
            dp: dp as u16,
            attempt: self.st[c as usize].attempt,
            bytes,
            size,
            cap_bps: cap,
            links: &links,
            tag,
        };
        if tracked {
            let handle = self.net.start_pausable(self.now, &req);
            let job = self.bg.job(c);
            job.flow = handle.unwrap_or(u32::MAX);
            job.fails = fails;
            job.paused = false;
            self.schedule_edge(c);
            if self.peers.is_some() {
                self.set_flow(c, handle.unwrap_or(u32::MAX));
            }
        } else if self.peers.is_some() {
            let handle = self.net.start_pausable(self.now, &req);
            self.set_flow(c, handle.unwrap_or(u32::MAX));
        } else {
            self.net.start(self.now, &req);
        }
        true
    }

    /// Gives a free slot of DP `dp` to the first client in its queue that can use
    /// it now.
    pub(crate) fn admit_next(&mut self, dp: usize) {
        while let Some(next) = self.dps[dp].queue.pop_front() {
            if self.start_flow(next) {
                break;
            }
        }
    }

    /// Leaves a DP queue if the client is waiting in one (abort paths).
    pub(crate) fn release_queue_slot(&mut self, c: u32) {
        let st = &self.st[c as usize];
        if st.activity.link() == Some(Link::Queued) {
            let q = &mut self.dps[st.dp as usize].queue;
            q.retain(|&x| x != c);
        }
    }

    /// Counts the bytes of an attempt (finished, or cut off at the end of a load
    /// test) against its DP, content kind, pre-cache or on-demand, and its client.
    pub(crate) fn count_bytes(&mut self, done: &FlowDone) {
        let c = (done.tag & 0xFFFF_FFFF) as u32;
        let st = self.st[c as usize];
        self.stats.by_dp[st.dp as usize] += done.bytes;
        self.count_received(c, done.bytes);
        // Bytes of a transfer that crossed the client's site WAN link (`sim::sites`).
        let site = self.attrs[c as usize].site as usize;
        if self.dps[st.dp as usize].site as usize != site && self.sites[site].wan.is_some() {
            self.site_wan_bytes[site] += done.bytes;
        }
    }

    /// Counts `bytes` client `c` received for its current item, whatever their
    /// source: by content kind, pre-cache or on demand, and the client's total.
    pub(crate) fn count_received(&mut self, c: u32, bytes: u64) {
        let st = self.st[c as usize];
        let kind = self.s.content[st.dl_content as usize].kind;
        self.stats.by_kind[kind as usize] += bytes;
        if st.activity.precaching() {
            self.stats.precache += bytes;
        } else {
            self.stats.on_demand += bytes;
        }
        self.st[c as usize].bytes += bytes;
    }

    /// A flow ended: free the DP slot, account bytes, admit the next queued client,
    /// then continue the client.
    pub(crate) fn on_flow_done(&mut self, done: FlowDone) {
        if self.peers.is_some() && self.peer_leg_done(&done) {
            return;
        }
        let c = (done.tag & 0xFFFF_FFFF) as u32;
        let epoch = (done.tag >> 32) as u32;
        let st = self.st[c as usize];
        let dp = st.dp as usize;
        let a = self.attrs[c as usize];
        self.dps[dp].active -= 1;
        if self.dps[dp].site != a.site && self.sites[a.site as usize].wan.is_some() {
            self.sites[a.site as usize].wan_active -= 1;
        }
        self.count_bytes(&done);
        self.admit_next(dp);
        let info = self.peers.is_some() && self.leg(c) == super::peers::Leg::ContentInfo;
        if self.peers.is_some() {
            let failed = epoch == st.epoch
                && (st.activity.link() == Some(Link::Transferring { fails: true })
                    || done.error.is_some());
            if !info {
                self.peer_dp_done(c, failed && !st.activity.precaching());
            }
        }
        if epoch != st.epoch {
            if info {
                self.peer_dp_done(c, false);
            }
            return; // the client gave up on this download (timeout)
        }
        if info {
            self.content_info_done(c);
            return;
        }
        if let Some(class) = done.error {
            *self.stats.transfer_errors.entry(class).or_insert(0) += 1;
        }
        let fails = st.activity.link() == Some(Link::Transferring { fails: true });
        self.st[c as usize].activity.set_link(Link::Idle);
        // Once Install is clicked the job is the task sequence's, under its variables.
        if (fails || done.error.is_some()) && matches!(st.activity, Activity::PreCaching(_)) {
            self.bits_retry(c, done.bytes);
            return;
        }
        if fails || done.error.is_some() {
            // The variable is held to the bound the scenario reader enforces on
            // `download_retry_count`, so the 16-bit attempt counter cannot wrap.
            let retries = self
                .var_u64(c, builtin::RETRY_COUNT)
                .unwrap_or(self.s.client.download_retry_count as u64)
                .min(u64::from(MAX_DOWNLOAD_RETRIES));
            if (st.attempt as u64) < retries {
                self.st[c as usize].attempt += 1;
                let delay = self
                    .var_u64(c, builtin::RETRY_DELAY)
                    .map(|s| s.saturating_mul(SECOND))
                    .unwrap_or(self.s.client.download_retry_delay);
                self.schedule(self.now.saturating_add(delay), c, EvKind::Retry);
            } else {
                self.download_failed_for_good(c, codes::DOWNLOAD_FAILED, FailPhase::Download);
            }
            return;
        }
        self.download_succeeded(c);
    }

    /// The item in progress is complete: cache it (unless streamed), count the
    /// download's latency and go on with what the client downloads for.
    pub(crate) fn download_succeeded(&mut self, c: u32) {
        // Streamed content (access from DP) leaves no local copy.
        if !self.bg.is_empty() {
            self.bg.remove(c);
        }
        let st = self.st[c as usize];
        let size = self.s.content[st.dl_content as usize].size;
        let stm = &mut self.st[c as usize];
        if !st.activity.streaming() {
            stm.cache_used = stm.cache_used.saturating_add(size);
            self.cache.insert(c, st.dl_content);
        }
        if self.peers.is_some() {
            self.peer_item_done(c, st.dl_content, !st.activity.streaming());
        }
        let stm = &mut self.st[c as usize];
        stm.item += 1;
        let req = stm.since;
        self.stats.latency.record(Metric::Download, self.now - req);
        self.after_download(c);
    }

    /// Continues whatever the client was downloading for.
    fn after_download(&mut self, c: u32) {
        match self.st[c as usize].activity {
            Activity::PreCaching(_) | Activity::FinishingPreCache(_) => self.next_precache_item(c),
            Activity::DownloadingAllFirst(_) => self.next_all_first_item(c),
            Activity::Streaming(_) | Activity::StreamingAfterTimer(_) => self.continue_stream(c),
            Activity::FetchingStep(_) => match self.fetch_step_content(c) {
                Fetch::Ready => {
                    if self.execute(c) {
                        self.run_ts(c);
                    }
                }
                Fetch::Moved => self.run_ts(c),
                Fetch::Wait => {}
            },
            _ => {}
        }
    }

    /// A pre-cache item is done (or given up): go on with the next, unless Install was
    /// clicked meanwhile, in which case pre-cache stops and the task sequence starts
    /// (what is not cached follows the deployment's DP option).
    fn next_precache_item(&mut self, c: u32) {
        if let Activity::FinishingPreCache(_) = self.st[c as usize].activity {
            self.begin_ts(c);
        } else {
            self.continue_precache(c);
        }
    }

    /// A background (BITS) transfer ended in a transient error after `got` bytes:
    /// BITS keeps them and tries again after its minimum retry delay, counted from
    /// the last byte received (the error), until no byte has come for its
    /// no-progress timeout. The task sequence's own downloads follow
    /// `SMSTSDownloadRetryCount` / `SMSTSDownloadRetryDelay` instead.
    fn bits_retry(&mut self, c: u32, got: u64) {
        let now = self.now;
        let bits = &self.s.calendar.bits;
        let (delay, timeout) = (bits.retry_delay, bits.no_progress_timeout);
        let job = self.bg.job(c);
        job.flow = u32::MAX;
        job.paused = false;
        job.fails = false;
        job.received = job.received.saturating_add(got);
        if got > 0 || job.mark == NEVER {
            job.mark = now;
        }
        let retry_at = now.saturating_add(delay);
        if delay > timeout || retry_at - job.mark > timeout {
            self.download_failed_for_good(c, codes::DOWNLOAD_FAILED, FailPhase::Download);
            return;
        }
        let st = &mut self.st[c as usize];
        st.attempt = st.attempt.saturating_add(1);
        self.schedule(retry_at, c, EvKind::Retry);
    }

    /// All attempts failed (or no DP can serve the client).
    fn download_failed_for_good(&mut self, c: u32, code: u32, phase: FailPhase) {
        let activity = self.st[c as usize].activity;
        if !self.bg.is_empty() {
            self.bg.remove(c);
        }
        if activity.precaching() {
            // Pre-cache gives up on this item; the task sequence will try again.
            self.st[c as usize].item += 1;
            self.next_precache_item(c);
            return;
        }
        let st = &mut self.st[c as usize];
        st.activity = Activity::Stepping;
        if activity.streaming() {
            // The step's timer is still pending: the step ends now instead.
            st.epoch = st.epoch.wrapping_add(1);
        }
        if let Activity::DownloadingAllFirst(_) = activity {
            // Nothing ran yet: the task sequence fails before its first step.
            st.fail_phase = phase;
            self.fail_ts(c, code);
        } else {
            let blame = Some(phase);
            let end = StepEnd::Exit {
                code: code as i64,
                blame,
            };
            self.end_step(c, end);
        }
        self.run_ts(c);
    }

    /// A numeric task sequence variable of the client.
    pub(crate) fn var_u64(&self, c: u32, name: &str) -> Option<u64> {
        let slot = self.prog.vars.find(name)?;
        self.var_str_slot(c, slot)?.trim().parse().ok()
    }
}

/// What fetching a step's content led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// Everything is local (or streamed): execute the step.
    Ready,
    /// A download is under way.
    Wait,
    /// The step failed before running; the cursor has moved on.
    Moved,
}
