//! Fuzz targets for fleetsim's readers (see `checks` and `../scripts/fuzz.sh`).
//!
//! This crate is outside the main crate's build (its own `[workspace]`); it needs
//! `cargo fuzz` (libFuzzer, nightly flags: `RUSTC_BOOTSTRAP=1` works on stable).

pub mod checks;

use std::sync::OnceLock;

/// Runs a check on the fuzzer's input, on a thread with a stack of `FUZZ_STACK_KB`
/// KiB when that variable is set (else on the fuzzer's own thread).
///
/// Why: recursion as deep as the input is long only overflows an 8 MiB stack with
/// inputs far longer than libFuzzer tries (`-max_len`), so such bugs hide. On a
/// 256 KiB stack they show with inputs of a few kilobytes; a real program thread
/// (2 MiB for rayon's workers) has eight times the room.
pub fn run(check: fn(&[u8]), data: &[u8]) {
    static STACK: OnceLock<Option<usize>> = OnceLock::new();
    let stack = STACK.get_or_init(|| {
        std::env::var("FUZZ_STACK_KB")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .map(|kb| kb << 10)
    });
    match *stack {
        None => check(data),
        Some(bytes) => std::thread::scope(|s| {
            let worker = std::thread::Builder::new()
                .stack_size(bytes)
                .spawn_scoped(s, || check(data));
            match worker.map(|w| w.join()) {
                Ok(Ok(())) => {}
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                Err(e) => panic!("cannot start the check's thread: {e}"),
            }
        }),
    }
}
