#![doc = include_str!("../ARCHITECTURE.md")]
// `Error` carries the details of a good message (names, suggestions, the
// valid labels) and is returned at most once per query, never in a hot
// loop, so its size is not worth boxing every variant for.
#![allow(clippy::result_large_err)]

pub mod check;
pub mod db;
pub mod demo;
pub mod diagnostic;
pub mod error;
pub mod eval;
pub mod export;
pub mod inside;
pub mod ops;
pub mod optimize;
pub mod plan;
pub mod schema;
pub mod scoring;
pub mod span;
pub mod sql;
pub mod syntax;

mod run;

pub use error::{Error, Result};
pub use inside::{counts, why};
pub use ops::{refresh, RefreshEngine, RefreshOptions, RefreshReport};
pub use plan::Plan;
pub use run::{per_record, run, Engine, Found, Outcome, RunOptions, Timing};

/// The README's Rust examples, compiled and run by `cargo test --doc` so
/// that they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

use chrono::{DateTime, Utc};
use schema::Schema;
use syntax::ast::Library;

/// What turning segment text into a plan needs besides the text: what a
/// query is checked against ([`check::check`]) and whether [`plan`]
/// optimizes it.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    pub schema: &'a Schema,
    /// Segment definitions that `in NAME` can refer to.
    pub library: Option<&'a Library>,
    /// Names of the entity's audience guards to AND into the query.
    pub guards: &'a [String],
    /// Run the optimizer (on by default in every command).
    pub optimize: bool,
}

impl<'a> Options<'a> {
    /// Check against `schema`, no library, no guards, optimizer on.
    pub fn new(schema: &'a Schema) -> Self {
        Options {
            schema,
            library: None,
            guards: &[],
            optimize: true,
        }
    }
}

/// Parse a query (stage 1).
pub fn parse(text: &str) -> Result<syntax::ast::Query> {
    syntax::parse_query(text)
}

/// Text to checked, and unless turned off optimized, plan: parse, check
/// (with library and guards), optimize. Every back end starts from this.
pub fn plan(text: &str, options: &Options<'_>) -> Result<Plan> {
    let query = syntax::parse_query(text)?;
    let plan = check::check(&query, options)?;
    Ok(if options.optimize {
        optimize::optimize(plan)
    } else {
        plan
    })
}

/// [`plan()`], keeping each `in NAME` as a node of its own
/// ([`check::check_keeping_segments`]): the plan [`why()`] folds library
/// segments in. Every engine runs it as [`plan()`]'s (the node means its
/// filter), but the other stages are given [`plan()`]'s plans.
pub fn plan_keeping_segments(text: &str, options: &Options<'_>) -> Result<Plan> {
    let query = syntax::parse_query(text)?;
    let plan = check::check_keeping_segments(&query, options)
        .0
        .map_err(|errors| {
            errors
                .into_iter()
                .next()
                .unwrap_or_else(|| Error::Internal {
                    message: "a check failed without an error".into(),
                })
        })?;
    Ok(if options.optimize {
        optimize::optimize(plan)
    } else {
        plan
    })
}

/// The whole pipeline to SQL: parse, check, optimize, generate for `dialect`
/// with `now` as the reference time of relative dates.
pub fn compile(
    text: &str,
    options: &Options<'_>,
    dialect: &dyn sql::Dialect,
    now: DateTime<Utc>,
) -> Result<sql::SqlQuery> {
    let plan = plan(text, options)?;
    sql::to_sql(
        &plan,
        options.schema,
        dialect,
        &sql::SqlOptions::new(false, now),
    )
}

/// Evaluate a plan in memory over `store`: the ids of matching records, ascending.
pub fn eval(plan: &Plan, store: &eval::Store, now: DateTime<Utc>) -> Result<Vec<uuid::Uuid>> {
    eval::evaluate(plan, store, now)
}
