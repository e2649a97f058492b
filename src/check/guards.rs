//! Audience guards: named expressions of the schema, ANDed into a query with
//! `--guard NAME` so a journey never reaches a record that opted out.

use crate::error::{suggest, Error, Result};
use crate::schema::{Entity, Guard, Schema};
use crate::span::SourceKind;
use crate::syntax;

use super::expr::Checker;
use super::library::Segments;
use crate::plan::PlanExpr;

/// Parse and check one guard's expression over its entity. Errors carry
/// spans into the guard's text ([`SourceKind::Guard`]).
pub fn check_guard_expr(schema: &Schema, entity: &Entity, guard: &Guard) -> Result<PlanExpr> {
    let expr = syntax::parse_expr(&guard.expr, SourceKind::Guard)?;
    // Guards stand alone: they cannot use library segments.
    let segments = Segments::empty();
    Checker::new(schema, &segments).expr(&expr, entity, 2)
}

/// The checked expressions of the guards `names` on `entity`, in order.
///
/// A guard that does not check is a fault of the schema, not of the query, so
/// its error becomes an [`Error::Schema`] quoting the guard's text (a query's
/// diagnostics cannot show the guard's source).
pub(crate) fn resolve(schema: &Schema, entity: &Entity, names: &[String]) -> Result<Vec<PlanExpr>> {
    names
        .iter()
        .map(|name| {
            let guard = entity.guard(name).ok_or_else(|| Error::UnknownGuard {
                name: name.clone(),
                entity: entity.name.clone(),
                available: entity.guards.iter().map(|g| g.name.clone()).collect(),
                suggestion: suggest(name, entity.guards.iter().map(|g| g.name.as_str())),
            })?;
            check_guard_expr(schema, entity, guard).map_err(|e| Error::Schema {
                message: describe_guard_error(entity, guard, &e),
            })
        })
        .collect()
}

/// `guard contact.email = "...": <error> (at column N)`.
pub(crate) fn describe_guard_error(entity: &Entity, guard: &Guard, error: &Error) -> String {
    let detail = match error.span() {
        Some(span) => {
            let (_, col) = span.line_col(&guard.expr);
            format!("{error} (at column {col})")
        }
        None => error.to_string(),
    };
    format!(
        "guard {}.{} = {:?}: {detail}",
        entity.name, guard.name, guard.expr
    )
}
