//! Task sequences as data: the step tree ([`tree`]) that inline TOML ([`inline`]),
//! templates ([`templates`]) and imported ConfigMgr XML ([`xml`]) all become, how it
//! is printed ([`print`](mod@print)) and checked ([`lint`]), and the pieces the interpreter
//! evaluates per client: conditions ([`cond`], with WQL in [`wql`]) and `%VAR%`
//! expansion ([`expand`]).
//!
//! ```
//! use fleetsim::tasksequence::{cond::CompiledCondition, tree::{Condition, VarOp}};
//!
//! let c = Condition::Variable {
//!     variable: "_SMSTSOSUpgradeActionReturnCode".into(),
//!     op: VarOp::parse("notequals").unwrap(),
//!     value: "3247440400".into(),
//! };
//! let compiled = CompiledCondition::compile(&c).unwrap();
//! # let m = fleetsim::tasksequence::cond::Machine {
//! #     arch: fleetsim::scenario::model::Arch::X64, language: 1033,
//! #     os: fleetsim::scenario::model::OsVersion::Win7, on_battery: false, has_battery: false,
//! #     network: fleetsim::scenario::model::NetType::Wired, model: "Generic PC",
//! #     memory_bytes: 8 << 30, free_disk_bytes: 60_000_000_000, cpu_mhz: 2400,
//! #     incompatible_app: false, incompatible_driver: false, third_party_encryption: false,
//! # };
//! let vars = [("_SMSTSOSUpgradeActionReturnCode", "3247440392")];
//! assert!(compiled.eval(&m, &vars));
//! ```

pub mod cond;
pub mod expand;
pub mod inline;
pub mod lint;
pub mod print;
pub mod templates;
pub mod tree;
pub mod wql;
pub mod xml;

#[cfg(test)]
mod tests;
