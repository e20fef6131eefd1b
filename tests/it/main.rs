//! Integration tests: one binary, one file per behaviour. They drive the real
//! `fleetsim` executable on scenario files and check the files it writes.

mod common;
mod determinism;
mod fuzz_regressions;
mod hardening;
mod large_inputs;
mod network_exact;
mod queueing;
mod rollout;
mod scenario_errors;
mod task_sequences;
