//! Integration tests: one binary, one file per behaviour. They drive the real
//! `fleetsim` executable on scenario files and check the files it writes.

mod bench_scenarios;
mod chains;
mod common;
mod compare;
mod counter_wraps;
mod determinism;
mod fuzz_regressions;
mod golden;
mod hardening;
mod large_inputs;
mod layering;
mod load_faults;
mod load_nginx;
mod load_support;
mod merge;
mod mistakes;
mod network_exact;
mod out_safety;
mod plan;
mod plots;
mod progress;
mod queueing;
mod report;
mod rollout;
mod scenario_errors;
mod signals;
mod sites;
mod slurm;
mod sweep;
mod sweep_interrupt;
mod targets;
mod task_sequences;
mod ts_import;
