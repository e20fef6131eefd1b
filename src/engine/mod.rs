//! The generic discrete-event engine: integer time, a priority queue with a
//! deterministic tie-break, and random streams keyed by (seed, entity, purpose).
//! Nothing here knows about Windows, clients or networks.

pub mod time;
