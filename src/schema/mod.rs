//! Schema types, the built-in CRM schema and the TOML loader.

mod builtin;
mod model;
mod toml;
mod validate;

pub use builtin::crm_schema;
pub use model::*;
pub use toml::{load_schema_file, load_schema_toml};
pub use validate::is_identifier;
