//! Task sequences: the step tree ([`tree`]) shared by inline TOML, templates and
//! imported ConfigMgr XML.

pub mod inline;
pub mod templates;
pub mod tree;
pub mod xml;
