//! Fuzz targets for fleetsim's readers (see `checks` and `../scripts/fuzz.sh`).
//!
//! This crate is outside the main crate's build (its own `[workspace]`); it needs
//! `cargo fuzz` (libFuzzer, nightly flags: `RUSTC_BOOTSTRAP=1` works on stable).

pub mod checks;
