//! Fuzz target `counters`: see [`fleetsim_fuzz::checks::counters::counters`] for the
//! property.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fleetsim_fuzz::run(fleetsim_fuzz::checks::counters::counters, data));
