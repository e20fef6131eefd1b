//! The generic discrete-event engine: integer time, a priority queue with a
//! deterministic tie-break, and random streams keyed by (seed, entity, purpose).
//! Nothing here knows about Windows, clients or networks.
//!
//! - [`time`]: [`time::SimTime`], microseconds since the start of the run, so the
//!   clock never drifts and runs repeat bit for bit.
//! - [`queue`]: [`queue::EventQueue`], the future-event list. **Tie-break rule:
//!   events with equal times come out in the order they were pushed (FIFO).**
//!   Models may rely on it: "schedule A then B at the same instant" means A is
//!   handled first, on every run and every platform.
//! - [`rng`]: [`rng::stream`] and [`rng::uniform01`], random numbers that depend
//!   only on `(seed, entity, purpose)`, never on event order or thread count.
//! - [`prefetch`]: a cache hint for the next event's data.

pub mod prefetch;
pub mod queue;
pub mod rng;
pub mod time;
