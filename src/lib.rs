//! segql: an embedded query language and segment compiler for CRM and
//! marketing data.

pub mod check;
pub mod diagnostic;
pub mod error;
pub mod schema;
pub mod span;
pub mod syntax;

pub use error::{Error, Result};
