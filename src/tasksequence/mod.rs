//! Task sequences: the step tree ([`tree`]) shared by inline TOML, templates and
//! imported ConfigMgr XML.

pub mod tree;
