//! Integration tests: one binary, one file per behaviour. They drive the real
//! `fleetsim` executable on scenario files and check the files it writes.

mod bench_scenarios;
mod common;
mod determinism;
mod network_exact;
mod queueing;
mod scenario_errors;
