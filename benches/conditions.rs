//! Cost of evaluating step conditions, the per-client, per-step hot path of the
//! interpreter, and a check that evaluation does not allocate.
//!
//! Run: `cargo bench --bench conditions`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use fleetsim::scenario::model::{Arch, NetType, OsVersion};
use fleetsim::tasksequence::cond::{CompiledCondition, Machine};
use fleetsim::tasksequence::tree::{Condition, VarOp};

/// Counts allocations, to show that evaluation makes none.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn machine() -> Machine<'static> {
    Machine {
        arch: Arch::X64,
        language: 1033,
        os: OsVersion::Win7,
        on_battery: false,
        has_battery: true,
        network: NetType::Wireless,
        model: "Dell Latitude 7490",
        memory_bytes: 8 << 30,
        free_disk_bytes: 60_000_000_000,
        cpu_mhz: 2400,
        incompatible_app: false,
        incompatible_driver: false,
        third_party_encryption: false,
    }
}

fn cases() -> Vec<(&'static str, Condition)> {
    vec![
        (
            "variable notEquals (article's assessment)",
            Condition::Variable {
                variable: "_SMSTSOSUpgradeActionReturnCode".into(),
                op: VarOp::NotEquals,
                value: "3247440400".into(),
            },
        ),
        (
            "WQL Locale and OSArchitecture (article's pre-cache)",
            Condition::Wql {
                query: "SELECT * FROM Win32_OperatingSystem WHERE OSArchitecture = '64-bit' AND Locale = '0409'".into(),
                namespace: None,
            },
        ),
        (
            "WQL LIKE over network adapters",
            Condition::Wql {
                query: "SELECT * FROM Win32_NetworkAdapter WHERE Name LIKE '%Wireless%' OR AdapterType = 'Ethernet 802.3'".into(),
                namespace: None,
            },
        ),
        (
            "any of two variables (Citrix example)",
            Condition::Any(vec![
                Condition::Variable {
                    variable: "_SMSTSLastActionRetCode".into(),
                    op: VarOp::Equals,
                    value: "0".into(),
                },
                Condition::Variable {
                    variable: "_SMSTSLastActionRetCode".into(),
                    op: VarOp::Equals,
                    value: "8".into(),
                },
            ]),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let m = machine();
    let vars: Vec<(String, String)> = vec![
        (
            "_SMSTSOSUpgradeActionReturnCode".into(),
            "3247440392".into(),
        ),
        ("_SMSTSLastActionRetCode".into(), "8".into()),
        ("_SMSTSSetupRollback".into(), "false".into()),
    ];
    for (name, cond) in cases() {
        let compiled = CompiledCondition::compile(&cond).expect("compiles");
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for _ in 0..10_000 {
            black_box(compiled.eval(black_box(&m), &vars));
        }
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
        println!("{name}: {allocations} allocations in 10000 evaluations");
        assert_eq!(allocations, 0, "{name} allocates");
        c.bench_function(name, |b| b.iter(|| compiled.eval(black_box(&m), &vars)));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
