//! Reading a 1M-row device inventory (`[fleet] inventory`, issue 16): the reader
//! streams a line at a time, so its time is linear in the file. The file is the
//! shipped example (`scenarios/inventory-example.csv`, written by
//! `scripts/gen-inventory.py`) repeated to 1,000,000 rows with a unique name per
//! row, written once to a temporary file; one element is one device row. The time
//! covers opening the file, parsing every cell and the duplicate-name check.
//!
//! Run: `cargo bench --bench inventory`.

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fleetsim::fleet::inventory;

const ROWS: usize = 1_000_000;
const SITES: [&str; 3] = ["HQ", "Lyon", "Munich"];

/// Writes the example's rows, renamed `DEV-<n>`, until `rows` rows.
fn generate(dir: &Path, rows: usize) -> std::path::PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/inventory-example.csv");
    let text = std::fs::read_to_string(&example).expect("the example inventory");
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let body: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let path = dir.join("inventory-1m.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("temp file"));
    writeln!(f, "{header}").expect("write");
    for (i, l) in body.iter().cycle().take(rows).enumerate() {
        let rest = l.split_once(',').map_or("", |(_, r)| r);
        writeln!(f, "DEV-{i:07},{rest}").expect("write");
    }
    f.flush().expect("flush");
    path
}

fn read_1m(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = generate(dir.path(), ROWS);
    let mut g = c.benchmark_group("inventory");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("read_1m_rows", |b| {
        b.iter(|| {
            let inv = match inventory::read(&path, &SITES) {
                Ok(inv) => inv,
                Err(e) => panic!("{}", e[0]),
            };
            assert_eq!(inv.len(), ROWS);
            black_box(inv)
        })
    });
    g.finish();
}

criterion_group!(benches, read_1m);
criterion_main!(benches);
