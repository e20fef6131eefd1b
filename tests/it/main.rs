//! Integration tests: one binary, one file per behaviour. They drive the real
//! `fleetsim` executable on scenario files and check the files it writes.

mod common;
mod compare;
mod determinism;
mod network_exact;
mod plots;
mod progress;
mod queueing;
mod report;
mod scenario_errors;
