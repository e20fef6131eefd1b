//! Task-sequence interpretation: the interpreter alone, without content or network.
//!
//! `benches/data/ts-interpretation.toml` is a fleet running a task sequence of
//! groups, conditions (variables, WQL, all/any/none), Set Variable, Check Readiness,
//! Run Command Line with exit-code distributions and continue-on-error, removes and
//! restarts; nothing downloads, so every event is a policy, an Install click or a
//! step timer handled by the interpreter. One element is one event of the run (the
//! whole run, fleet generation included, is timed).
//!
//! Run: `cargo bench --bench tasksequence`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fleetsim::scenario::{self, model::Scenario};
use fleetsim::sim::{self, RunOptions};

const SCENARIO: &str = include_str!("data/ts-interpretation.toml");

fn load(clients: u64) -> Scenario {
    let set = [format!("fleet.clients={clients}")];
    match scenario::load_str(
        SCENARIO,
        Path::new("ts-interpretation.toml"),
        Path::new("."),
        &set,
    ) {
        Ok(s) => s,
        Err(e) => panic!("benches/data/ts-interpretation.toml: {e}"),
    }
}

fn interpretation(c: &mut Criterion) {
    let mut g = c.benchmark_group("tasksequence");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    for clients in [10_000u64, 100_000] {
        let s = load(clients);
        let opts = RunOptions::default();
        let events = match sim::run(&s, &opts) {
            Ok(r) => r.events,
            Err(e) => panic!("run: {e}"),
        };
        g.throughput(Throughput::Elements(events));
        g.bench_with_input(BenchmarkId::new("interpret", clients), &s, |b, s| {
            b.iter(|| black_box(sim::run(s, &opts).map(|r| r.events).ok()))
        });
    }
    g.finish();
}

criterion_group!(benches, interpretation);
criterion_main!(benches);
