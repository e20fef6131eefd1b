//! Every input the fuzzers found a bug with, replayed on every `cargo test`.
//!
//! `tests/data/fuzz-regressions/<target>/` holds the (minimised) inputs; the check each
//! runs is the fuzz target's own, `fuzz/src/checks.rs`, included here so the property
//! CI holds them to is the one that caught them. The hand-written fuzz seeds
//! (`fuzz/seeds/<target>/`) are replayed too: they are the fuzzers' starting points
//! and must pass before any fuzzing means anything. See `scripts/fuzz.sh` for how to
//! fuzz and how an input gets here.

use std::path::{Path, PathBuf};

use crate::common::repo;

#[path = "../../fuzz/src/checks.rs"]
mod checks;

/// The stack a check runs on: a spawned thread's default, smaller than the main
/// thread's 8 MiB, so an input that needs deep recursion fails here rather than
/// passing by luck.
const STACK: usize = 2 << 20;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    out.retain(|p| p.is_file());
    out.sort();
    out
}

/// Runs `check` on every file of `dir` on its own thread; returns how many files ran
/// and the failures, named by file, so one bad input does not hide the others.
fn replay(dir: &Path, check: fn(&[u8])) -> (usize, Vec<String>) {
    let inputs = files(dir);
    let mut failures = Vec::new();
    for path in &inputs {
        let data = std::fs::read(path).expect("read fuzz input");
        let ran = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || check(&data))
            .expect("spawn")
            .join();
        if ran.is_err() {
            failures.push(path.display().to_string());
        }
    }
    (inputs.len(), failures)
}

fn replay_all(root: &Path) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut failures = Vec::new();
    for (name, check) in checks::TARGETS {
        let (n, f) = replay(&root.join(name), *check);
        count += n;
        failures.extend(f);
    }
    (count, failures)
}

#[test]
fn saved_crashes_no_longer_crash() {
    let (count, failures) = replay_all(&repo().join("tests/data/fuzz-regressions"));
    assert!(count > 0, "the regression corpus is empty");
    assert!(failures.is_empty(), "fuzz regressions fail: {failures:#?}");
}

#[test]
fn fuzz_seeds_pass_their_checks() {
    let (count, failures) = replay_all(&repo().join("fuzz/seeds"));
    assert!(count >= 7, "fuzz seeds missing ({count})");
    assert!(failures.is_empty(), "fuzz seeds fail: {failures:#?}");
}

#[test]
fn every_target_has_a_fuzz_target_file() {
    for (name, _) in checks::TARGETS {
        let file = repo().join("fuzz/fuzz_targets").join(format!("{name}.rs"));
        assert!(file.is_file(), "{} is missing", file.display());
    }
}
