//! Fuzz target `ts_inline`: see [`fleetsim_fuzz::checks::ts_inline`] for the property.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fleetsim_fuzz::run(fleetsim_fuzz::checks::ts_inline, data));
