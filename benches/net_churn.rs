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

criterion_group!(benches, churn);
criterion_main!(benches);
