//! AST to typed plan: name resolution, types, choice labels, relationships,
//! segment libraries and guards.

pub mod plan;
