//! Schema types, the built-in CRM schema, the TOML loader, and the
//! description of a schema that `segql schema` shows.

mod builtin;
pub mod describe;
mod model;
mod toml;
mod validate;

pub use builtin::crm_schema;
pub use describe::{describe_entity, describe_schema};
pub use model::*;
pub use toml::{load_schema_file, load_schema_toml};
pub use validate::is_identifier;
