//! AST to typed [`Plan`]: name resolution, types, choice labels,
//! relationships, segment libraries and guards.
//!
//! | file          | concern                                                  |
//! |---------------|----------------------------------------------------------|
//! | `resolve.rs`  | entities, fields, `has R [via NAME]`, dotted paths       |
//! | `elsewhere.rs`| how to reach a field written on the wrong entity         |
//! | `expr.rs`     | expressions and predicates to [`PlanExpr`]               |
//! | `aggregate.rs`| aggregates: chains, field types, the test on the value   |
//! | `types.rs`    | literals to typed [`Value`](crate::plan::Value)s         |
//! | `library.rs`  | `in NAME`: dependency order, cycles, inlining            |
//! | `guards.rs`   | audience guards                                          |
//! | `canonical.rs`| rewriting names in an AST to the schema's spelling       |
//!
//! # Decisions on cases the language reference leaves open
//!
//! (`docs/language.md` states the rules for users.)
//!
//! - **`today` on a date-time field** is accepted and means midnight UTC of
//!   the reference date, moved by whole days (`created_on >= today - 1d`);
//!   this matches how a date literal reads on a date-time field.
//! - **Durations on `today`** must be whole days wherever `today` is used;
//!   `today + 48h` counts as two days, `today + 12h` is an error.
//! - **`now` on a date field** is a type error (use `today`).
//! - **Uuid literals** are strings that parse as uuids in any form the
//!   `uuid` crate reads (hyphenated, simple, braced, urn; any case); the plan
//!   holds the parsed value, which back ends store lowercase hyphenated.
//! - **Ordering on bool and uuid fields** is a type error, as is `contains`,
//!   `starts with` and `ends with` on anything but text.
//! - **Dotted paths** must follow the only many-to-one link by that name;
//!   several links are an ambiguity error (a path has no `via`: write
//!   `has R via NAME(...)` instead).
//! - **`via`** must name one of the links that `R` could mean; otherwise
//!   [`Error::UnknownVia`] lists them.
//! - **Libraries**: `check` checks only the segments the query uses (and
//!   those they use); a name defined twice is an error even if unused.
//!   [`check_library`] checks every definition.
//! - **Guards** are checked when used; a guard that does not check is an
//!   [`Error::Schema`] (a fault of the schema, not of the query), and so is
//!   one found by [`Schema::validate`](crate::schema::Schema::validate).
//! - **Limits**: besides the parser's depth limit, plans are refused beyond
//!   [`MAX_PLAN_DEPTH`] levels or [`MAX_PLAN_NODES`] nodes, which inlined
//!   segments and dotted paths can reach from shallow text.

mod aggregate;
mod canonical;
mod elsewhere;
mod expr;
mod guards;
mod library;
mod names;
mod resolve;
mod types;
mod warnings;

use crate::error::limits::{MAX_PLAN_DEPTH, MAX_PLAN_NODES};
use crate::error::{Error, Result};
use crate::plan::{measure, Measure, Plan, PlanExpr};
use crate::schema::Schema;
use crate::syntax::ast;
use crate::Options;

pub use canonical::canonicalize;
pub use guards::check_guard_expr;
pub(crate) use guards::describe_guard_error;
pub use types::{typed_value, value_type};
pub use warnings::Warning;

use expr::Checker;
pub use expr::MAX_ERRORS;
use library::Segments;

/// Check a query and build its plan; the first error found, if any.
/// [`check_all`] finds them all.
///
/// Guards are ANDed at the top, outside everything the query says:
/// `And([guard..., filter])`. Segments the query uses are checked first (in
/// dependency order); library segments it does not use are not checked —
/// [`check_library`] checks a whole library.
///
/// Of `options`, the schema, library and guards count; `optimize` is the
/// optimizer's business.
pub fn check(query: &ast::Query, ctx: &Options) -> Result<Plan> {
    check_all(query, ctx).map_err(first)
}

/// [`check`], reporting every independent error (`docs/language.md`,
/// "Errors"): the query's, then those in the definitions of the library
/// segments it uses (a use of a segment that does not check is itself an
/// [`Error::BrokenSegment`]; segments the query does not use are not
/// checked). A node
/// with an error is checked no further, so one cause gives one error; at
/// most [`MAX_ERRORS`] are reported, and a limit ends the check at once.
pub fn check_all(query: &ast::Query, ctx: &Options) -> std::result::Result<Plan, Vec<Error>> {
    check_with_warnings(query, ctx).0
}

/// [`check_all`], and the [`Warning`]s of the query and of the library
/// segments it uses: text that checks but most likely does not say what
/// was meant (e.g. `between` with its bounds reversed). Warnings never make
/// a check fail.
pub fn check_with_warnings(
    query: &ast::Query,
    ctx: &Options,
) -> (std::result::Result<Plan, Vec<Error>>, Vec<Warning>) {
    let mut warnings = Vec::new();
    let outcome = check_collecting(query, ctx, false, &mut warnings);
    (outcome, warnings)
}

/// [`check_with_warnings`], keeping each `in NAME` as a
/// [`PlanExpr::Segment`] node around the
/// segment's filter instead of inlining the filter (nested segments too),
/// so `why` can show a segment's own tree under its name. The optimizer
/// simplifies each segment's filter on its own and never merges it with
/// the nodes around it. Every other stage takes the plans of [`check`].
pub fn check_keeping_segments(
    query: &ast::Query,
    ctx: &Options,
) -> (std::result::Result<Plan, Vec<Error>>, Vec<Warning>) {
    let mut warnings = Vec::new();
    let outcome = check_collecting(query, ctx, true, &mut warnings);
    (outcome, warnings)
}

fn check_collecting(
    query: &ast::Query,
    ctx: &Options,
    keep_segment_names: bool,
    warnings: &mut Vec<Warning>,
) -> std::result::Result<Plan, Vec<Error>> {
    let schema = ctx.schema;
    let mut segments = Segments::new(ctx.library);
    segments.keep_names = keep_segment_names;
    if segments.len() > 0 {
        let checked = segments.check_used_by(schema, query.filter.as_ref());
        warnings.append(&mut segments.warnings);
        if let Err(fatal) = checked {
            return Err(with(segments.errors, fatal));
        }
    }
    let entity = match resolve::entity(schema, &query.entity) {
        Ok(entity) => entity,
        Err(error) => return Err(with(segments.errors, error)),
    };
    let guards = match guards::resolve(schema, entity, ctx.guards) {
        Ok(guards) => guards,
        Err(error) => return Err(with(segments.errors, error)),
    };
    let depth = if guards.is_empty() { 1 } else { 2 };
    let mut checker = Checker::new(schema, &segments);
    let filter = match &query.filter {
        Some(filter) => checker.expr_all(filter, entity, depth),
        None => Ok(PlanExpr::Const(true)),
    };
    warnings.append(&mut checker.warnings);
    // The query's own errors first (an `in NAME` of a broken segment names
    // it), then the errors inside the definitions it uses.
    let mut errors = std::mem::take(&mut checker.errors);
    errors.extend(segments.errors.iter().cloned());
    let filter = match filter {
        Ok(filter) if errors.is_empty() => filter,
        Ok(_) => return Err(errors),
        Err(fatal) => return Err(with(errors, fatal)),
    };
    let filter = if guards.is_empty() {
        filter
    } else {
        let mut all = guards;
        all.push(filter);
        PlanExpr::And(all)
    };
    let Measure { nodes, depth } = measure(&filter);
    if depth > MAX_PLAN_DEPTH {
        return Err(vec![Error::TooDeep {
            limit: MAX_PLAN_DEPTH,
            span: query.span,
        }]);
    }
    if nodes > MAX_PLAN_NODES {
        return Err(vec![Error::TooManyNodes {
            limit: MAX_PLAN_NODES,
            span: query.span,
        }]);
    }
    Ok(Plan {
        entity: entity.name.clone(),
        filter,
    })
}

/// The errors found before `last`, then `last`.
fn with(mut errors: Vec<Error>, last: Error) -> Vec<Error> {
    errors.truncate(MAX_ERRORS - 1);
    errors.push(last);
    errors
}

fn first(errors: Vec<Error>) -> Error {
    errors
        .into_iter()
        .next()
        .unwrap_or_else(|| Error::Internal {
            message: "a check failed without an error".into(),
        })
}

/// Check every segment of a library: unique names, known entities and
/// names, matching entities for `in NAME`, no cycles. Definitions may come
/// in any order.
pub fn check_library(lib: &ast::Library, schema: &Schema) -> Result<()> {
    check_library_all(lib, schema).map_err(first)
}

/// [`check_library`], reporting every independent error (see [`check_all`]).
pub fn check_library_all(
    lib: &ast::Library,
    schema: &Schema,
) -> std::result::Result<(), Vec<Error>> {
    check_library_with_warnings(lib, schema).0
}

/// [`check_library_all`], and the [`Warning`]s of every definition.
pub fn check_library_with_warnings(
    lib: &ast::Library,
    schema: &Schema,
) -> (std::result::Result<(), Vec<Error>>, Vec<Warning>) {
    let mut segments = Segments::new(Some(lib));
    let outcome = segments.check_all(schema);
    let errors = std::mem::take(&mut segments.errors);
    let warnings = std::mem::take(&mut segments.warnings);
    let outcome = match outcome {
        Ok(()) if errors.is_empty() => Ok(()),
        Ok(()) => Err(errors),
        Err(fatal) => Err(with(errors, fatal)),
    };
    (outcome, warnings)
}

#[cfg(test)]
mod tests;
