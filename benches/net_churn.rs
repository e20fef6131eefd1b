//! Flow churn on one DP uplink: the simulator's hot loop for the network.
//!
//! One 10 Gbps link, clients capped at 1 Gbps / 150 Mbps / 20 Mbps (wired, wireless,
//! VPN). Steady state with N concurrent flows: every completion immediately starts a
//! new flow of a random size (1 MB to 4 GB) in the same cap class. One element is
//! one flow event (a start or an end). The fast model runs at 100 to 100,000
//! concurrent flows, the reference model at 100 and 1,000 for contrast.
//!
//! `net_churn/sites` is the same churn with 4,000 flows spread over S sites, each
//! behind its own 1 Gbps WAN link, all downloading from one 10 Gbps DP: one
//! connected component of 3 S classes and S + 1 links, the water-filling's worst
//! case in fleetsim's topologies.
//!
//! `net_churn/idle_peers` is DP churn (1,000 flows over a WAN link and a DP) plus
//! 100 peers serving one upload each over a link that exists only while they serve
//! (each upload's end removes its link, a new serving peer adds one), after N peers
//! (1k, 100k, 1M) have each served once and had their links removed: the per-event
//! cost must not depend on N. `net_churn/serving_peers` is K peers (10 to 100,000)
//! each serving two uploads at once over its own link, no DP: K separate
//! components, each event touching only its own.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fleetsim::net::{Completion, FairShareNet, FlowNetwork, LinkId, ReferenceNet};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// Per-flow caps of the three network types, bits/s.
const CAPS: [u64; 3] = [1_000_000_000, 150_000_000, 20_000_000];

/// A network kept at `n` concurrent flows.
struct Churn<N> {
    net: N,
    /// The links of each site's flows: its WAN link (if any) and the DP.
    paths: Vec<Vec<LinkId>>,
    dp: LinkId,
    rng: SmallRng,
    done: Vec<Completion>,
}

impl<N: FlowNetwork> Churn<N> {
    /// `n` flows behind `sites` WAN links (0: straight to the DP).
    fn new(mut net: N, n: usize, sites: usize) -> Self {
        let dp = net.add_link(10_000_000_000);
        let paths: Vec<Vec<LinkId>> = if sites == 0 {
            vec![vec![dp]]
        } else {
            (0..sites)
                .map(|_| vec![net.add_link(1_000_000_000), dp])
                .collect()
        };
        let mut rng = SmallRng::seed_from_u64(42);
        for i in 0..n {
            let bytes = rng.random_range(1_000_000..=4_000_000_000u64);
            // The tag says which cap and path the flow's replacements use.
            let tag = i % (CAPS.len() * paths.len());
            let (cap, path) = (CAPS[tag % CAPS.len()], &paths[tag / CAPS.len()]);
            net.start_flow(0, bytes, cap, path, tag as u64);
        }
        let mut churn = Churn {
            net,
            paths,
            dp,
            rng,
            done: Vec::new(),
        };
        // Leave the synchronized start behind: every flow replaced once or more.
        churn.run(2 * n as u64);
        churn
    }

    /// Processes completions (each followed by a new start) until at least
    /// `events` flow events happened; returns how many did.
    fn run(&mut self, events: u64) -> u64 {
        let mut count = 0;
        while count < events {
            let Some(t) = self.net.next_completion() else {
                break;
            };
            self.net.advance(t, &mut self.done);
            for c in self.done.drain(..) {
                let bytes = self.rng.random_range(1_000_000..=4_000_000_000u64);
                let tag = c.tag as usize;
                let (cap, path) = (CAPS[tag % CAPS.len()], &self.paths[tag / CAPS.len()]);
                self.net.start_flow(t, bytes, cap, path, c.tag);
                count += 2;
            }
        }
        black_box(self.net.link_bytes(self.dp));
        count
    }
}

/// Benchmarks `make`'s model at each `(flows, sites)`, labelled by `label`.
fn bench_model<N: FlowNetwork>(
    c: &mut Criterion,
    name: &str,
    make: fn() -> N,
    cases: &[(usize, usize)],
    label: fn(usize, usize) -> usize,
) {
    let mut group = c.benchmark_group(format!("net_churn/{name}"));
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for &(n, sites) in cases {
        let mut churn = Churn::new(make(), n, sites);
        group.bench_with_input(BenchmarkId::from_parameter(label(n, sites)), &n, |b, _| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                churn.run(iters);
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn churn(c: &mut Criterion) {
    let one_link = |n: usize| (n, 0);
    let flows = |n, _| n;
    let sizes = [100, 1_000, 4_000, 10_000, 100_000].map(one_link);
    bench_model(c, "fair", FairShareNet::new, &sizes, flows);
    let sizes = [100, 1_000].map(one_link);
    bench_model(c, "reference", ReferenceNet::new, &sizes, flows);
    let sites = [10, 100].map(|s| (4_000, s));
    bench_model(c, "sites", FairShareNet::new, &sites, |_, s| s);
}

/// Uploads of peer episodes: 1 MB to 100 MB.
fn upload_bytes(rng: &mut SmallRng) -> u64 {
    rng.random_range(1_000_000..=100_000_000u64)
}

/// DP churn plus peers that serve one upload each over a link of their own.
struct PeerChurn {
    net: FairShareNet,
    dp_path: [LinkId; 2],
    /// DP flows (tags below this) versus uploads (tag = this + episode slot).
    dp_flows: u64,
    /// The link of each upload slot's current serving peer.
    peer_of: Vec<LinkId>,
    rng: SmallRng,
    done: Vec<Completion>,
}

impl PeerChurn {
    /// `idle` peers that served once, then `dp_flows` DP flows and `serving` peers.
    fn new(idle: usize, dp_flows: u64, serving: usize) -> Self {
        let mut net = FairShareNet::new();
        let mut rng = SmallRng::seed_from_u64(7);
        let mut done = Vec::new();
        for i in 0..idle {
            let peer = net.add_link(CAPS[i % CAPS.len()]);
            net.start_flow(
                net.now(),
                upload_bytes(&mut rng),
                CAPS[(i / 3) % 3],
                &[peer],
                0,
            );
            let t = net.next_completion().expect("the upload ends");
            net.advance(t, &mut done);
            assert!(net.remove_link(peer));
        }
        done.clear();
        let dp_path = [net.add_link(1_000_000_000), net.add_link(10_000_000_000)];
        let now = net.now();
        for i in 0..dp_flows {
            let bytes = rng.random_range(1_000_000..=4_000_000_000u64);
            net.start_flow(now, bytes, CAPS[i as usize % CAPS.len()], &dp_path, i);
        }
        let mut churn = PeerChurn {
            net,
            dp_path,
            dp_flows,
            peer_of: Vec::new(),
            rng,
            done,
        };
        for slot in 0..serving {
            let peer = churn.serve(slot as u64);
            churn.peer_of.push(peer);
        }
        churn.run(2 * (dp_flows + serving as u64));
        churn
    }

    /// A new peer starts serving upload slot `slot`: its link and its upload.
    fn serve(&mut self, slot: u64) -> LinkId {
        let cap = CAPS[self.rng.random_range(0..CAPS.len())];
        let peer = self.net.add_link(cap);
        let bytes = upload_bytes(&mut self.rng);
        let requester = CAPS[self.rng.random_range(0..CAPS.len())];
        let now = self.net.now();
        self.net
            .start_flow(now, bytes, requester, &[peer], self.dp_flows + slot);
        peer
    }

    fn run(&mut self, events: u64) -> u64 {
        let mut count = 0;
        while count < events {
            let Some(t) = self.net.next_completion() else {
                break;
            };
            self.net.advance(t, &mut self.done);
            let done = std::mem::take(&mut self.done);
            for c in &done {
                if c.tag < self.dp_flows {
                    let bytes = self.rng.random_range(1_000_000..=4_000_000_000u64);
                    let cap = CAPS[c.tag as usize % CAPS.len()];
                    self.net.start_flow(t, bytes, cap, &self.dp_path, c.tag);
                } else {
                    // The peer's last upload ended: its link goes, another serves.
                    let slot = c.tag - self.dp_flows;
                    assert!(self.net.remove_link(self.peer_of[slot as usize]));
                    self.peer_of[slot as usize] = self.serve(slot);
                }
                count += 2;
            }
            self.done = done;
            self.done.clear();
        }
        black_box(self.net.link_bytes(self.dp_path[1]));
        count
    }
}

/// K peers each serving two uploads over its own link, replaced as they end.
fn serving_churn(k: usize) -> Churn<FairShareNet> {
    let mut net = FairShareNet::new();
    let mut rng = SmallRng::seed_from_u64(11);
    let paths: Vec<Vec<LinkId>> = (0..k)
        .map(|i| vec![net.add_link(CAPS[i % CAPS.len()])])
        .collect();
    for i in 0..2 * k {
        // Tag: cap of the requester (tag % 3) and the serving peer (tag / 3).
        let tag = (i / 2) * CAPS.len() + i % CAPS.len();
        let bytes = upload_bytes(&mut rng);
        net.start_flow(
            0,
            bytes,
            CAPS[tag % CAPS.len()],
            &paths[tag / CAPS.len()],
            tag as u64,
        );
    }
    let mut churn = Churn {
        net,
        paths,
        dp: 0,
        rng,
        done: Vec::new(),
    };
    churn.run(4 * k as u64);
    churn
}

fn peers(c: &mut Criterion) {
    let mut group = c.benchmark_group("net_churn/idle_peers");
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for idle in [1_000, 100_000, 1_000_000] {
        let mut churn = PeerChurn::new(idle, 1_000, 100);
        group.bench_with_input(BenchmarkId::from_parameter(idle), &idle, |b, _| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                churn.run(iters);
                start.elapsed()
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group("net_churn/serving_peers");
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for k in [10, 1_000, 100_000] {
        let mut churn = serving_churn(k);
        group.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, _| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                churn.run(iters);
                start.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, churn, peers);
criterion_main!(benches);
