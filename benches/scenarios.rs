//! Whole scenarios, end to end in the library: `scenarios/bench-1m.toml` (the
//! recommended upgrade template with pre-cache, 20 DPs in 3 sites, 21 days) at
//! 10,000 and 100,000 clients, and `scenarios/bench-ps.toml` (100,000 downloads
//! through one processor-sharing link, then 20 fixed steps each). One element is one
//! event; the time covers fleet generation, the event loop and assembling the
//! result (not writing files: the CLI's `run` adds that, see scripts/bench.sh).
//!
//! Run: `cargo bench --bench scenarios`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fleetsim::scenario::{self, model::Scenario};
use fleetsim::sim::{self, RunOptions};

fn load(file: &str, clients: u64) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    match scenario::load(&path, &[format!("fleet.clients={clients}")]) {
        Ok(s) => s,
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

fn full(c: &mut Criterion) {
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(8));
    for (file, clients) in [
        ("bench-1m.toml", 10_000u64),
        ("bench-1m.toml", 100_000),
        ("bench-ps.toml", 100_000),
    ] {
        let s = load(file, clients);
        let opts = RunOptions::default();
        let events = match sim::run(&s, &opts) {
            Ok(r) => r.events,
            Err(e) => panic!("run {file}: {e}"),
        };
        if let Ok(prog) = sim::program::compile(&s) {
            eprintln!(
                "{file}: {} bytes of state per client (sim::bytes_per_client)",
                sim::bytes_per_client(&s, prog.variables())
            );
        }
        g.throughput(Throughput::Elements(events));
        let name = file.trim_end_matches(".toml");
        g.bench_with_input(BenchmarkId::new(name, clients), &s, |b, s| {
            b.iter(|| black_box(sim::run(s, &opts).map(|r| r.events).ok()))
        });
    }
    g.finish();
}

criterion_group!(benches, full);
criterion_main!(benches);
