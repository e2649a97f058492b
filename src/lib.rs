//! segql: an embedded query language and segment compiler for CRM and
//! marketing data.

pub mod check;
pub mod demo;
pub mod error;
pub mod eval;
pub mod ops;
pub mod optimize;
pub mod schema;
pub mod span;
pub mod sql;
pub mod syntax;

pub use error::{Error, Result};
