//! segql: an embedded query language and segment compiler for CRM and
//! marketing data.

// `Error` carries the details of a good message (names, suggestions, the
// valid labels) and is returned at most once per query, never in a hot
// loop, so its size is not worth boxing every variant for.
#![allow(clippy::result_large_err)]

pub mod check;
pub mod demo;
pub mod diagnostic;
pub mod error;
pub mod eval;
pub mod ops;
pub mod optimize;
pub mod schema;
pub mod span;
pub mod sql;
pub mod syntax;

pub use error::{Error, Result};
