//! Reading scenarios: TOML with units and distributions into a resolved [`model::Scenario`].

pub mod dist;
pub mod model;
pub mod units;
pub mod value;
