//! segql's integration tests, as one test binary with a module per stage
//! (one binary links rusqlite and postgres once, instead of once per file).
//!
//! Fixture data lives beside this directory: `tests/queries/`,
//! `tests/libraries/`, `tests/schemas/`, `tests/regressions/`.
//! `cargo test --test it parse::` runs one stage's tests.

// Helpers return the library's one error type, whose size is by design
// (see the crate root); they return it once per case, never in a loop.
#![allow(clippy::result_large_err)]

mod check;
mod cli;
mod demo;
mod differential;
mod docs;
mod eval;
mod export;
mod ops;
mod optimize;
mod parse;
mod pg_harness;
mod readme;
mod run;
mod schema;
mod semantics;
mod spark;
mod sql;
mod support;
