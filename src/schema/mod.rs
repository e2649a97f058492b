//! Schema types, the built-in CRM schema and the TOML loader.

mod builtin;
mod model;

pub use builtin::crm_schema;
pub use model::*;
