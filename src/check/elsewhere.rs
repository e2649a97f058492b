//! A field written on the wrong entity: `contact where score >= 50` names a
//! field of lead. When a related entity (one or two relationships away) has
//! a field by that name, the unknown-field error says how to reach it,
//! rewriting the predicate the user wrote: `has lead(score >= 50)` across a
//! to-many link, `account.annual_revenue > 1000000` along to-one links.

use crate::error::{Elsewhere, Error};
use crate::plan::Direction;
use crate::schema::{Entity, Schema};
use crate::syntax::ast::{Expr, ExprKind, Has, Ident, Path, Predicate, Quantifier};
use crate::syntax::format_expr;

use super::expr::predicate_path;
use super::resolve::{all_hops, hops, path_hop, Hop};

/// Routes longer than this are not searched: two hops reach every entity of
/// the CRM schema, and longer suggestions stop being obvious.
const MAX_HOPS: usize = 2;

/// At most this many places are suggested.
const MAX_PLACES: usize = 3;

/// `error` with [`Elsewhere`] places filled in when it is an unknown field
/// of `predicate`, written on `start`, that a related entity has; any other
/// error unchanged.
pub(crate) fn annotate(
    error: Error,
    schema: &Schema,
    start: &Entity,
    predicate: &Predicate,
) -> Error {
    let Error::UnknownField {
        name,
        entity,
        suggestion,
        fields,
        elsewhere,
        span,
    } = error
    else {
        return error;
    };
    let places = match schema.entity(&entity) {
        Some(at) if elsewhere.is_empty() => {
            let passed = written_entities(schema, start, predicate);
            match earlier_on_path(&passed, &name, predicate) {
                Some(place) => vec![place],
                None => {
                    let names: Vec<&str> = passed.iter().map(|e| e.name.as_str()).collect();
                    places(schema, at, &names, &name, predicate)
                }
            }
        }
        _ => elsewhere,
    };
    Error::UnknownField {
        name,
        entity,
        suggestion,
        fields,
        elsewhere: places,
        span,
    }
}

/// The entities the path of `predicate` passes through from `start`, the
/// last one included. A route back through them would suggest a detour
/// (`account.role` from contact is better written `role`).
fn written_entities<'s>(
    schema: &'s Schema,
    start: &'s Entity,
    predicate: &Predicate,
) -> Vec<&'s Entity> {
    let segments = &predicate_path(predicate).segments;
    let mut passed = vec![start];
    let mut at = start;
    for ident in &segments[..segments.len().saturating_sub(1)] {
        match path_hop(schema, at, ident) {
            Ok(hop) => {
                at = hop.to;
                passed.push(at);
            }
            Err(_) => break,
        }
    }
    passed
}

/// The field on an entity the path went through before its last one, the
/// nearest to it first: the path cut short there reaches it.
fn earlier_on_path(passed: &[&Entity], name: &str, predicate: &Predicate) -> Option<Elsewhere> {
    let written = &predicate_path(predicate).segments;
    let before_last = passed.len().checked_sub(1)?;
    (0..before_last).rev().find_map(|i| {
        let field = passed[i].field(name)?;
        let mut path: Vec<Ident> = written[..i].to_vec();
        path.push(ident(&field.name));
        Some(Elsewhere {
            entity: passed[i].name.clone(),
            field: field.name.clone(),
            example: format_expr(&leaf(predicate, &path)),
        })
    })
}

/// The related entities that have a field `name`, nearest first, each with
/// `predicate` rewritten to reach it; no route goes through `passed`.
fn places(
    schema: &Schema,
    at: &Entity,
    passed: &[&str],
    name: &str,
    predicate: &Predicate,
) -> Vec<Elsewhere> {
    let mut found = Vec::new();
    let mut frontier: Vec<Vec<Hop>> = vec![Vec::new()];
    for _ in 0..MAX_HOPS {
        let mut next = Vec::new();
        for route in &frontier {
            let from = route.last().map_or(at, |hop| hop.to);
            for hop in all_hops(schema, from) {
                let visited = hop.to.name == at.name
                    || passed.contains(&hop.to.name.as_str())
                    || route.iter().any(|h| h.to.name == hop.to.name);
                if visited {
                    continue;
                }
                let mut longer = route.clone();
                longer.push(hop);
                if let Some(field) = hop.to.field(name) {
                    let already = found
                        .iter()
                        .any(|(_, e): &(Vec<Hop>, Elsewhere)| e.entity == hop.to.name);
                    if !already {
                        let example = rewrite(schema, predicate, &longer, &field.name);
                        found.push((
                            longer,
                            Elsewhere {
                                entity: hop.to.name.clone(),
                                field: field.name.clone(),
                                example,
                            },
                        ));
                    }
                } else {
                    next.push(longer);
                }
            }
        }
        if !found.is_empty() {
            break;
        }
        frontier = next;
    }
    found
        .into_iter()
        .take(MAX_PLACES)
        .map(|(_, place)| place)
        .collect()
}

/// `predicate` with its field reached through the hops it wrote, then
/// through `route`: a to-one hop that is the only one of its name extends
/// the dotted path; any other hop wraps what follows in `has NAME(...)`.
fn rewrite(schema: &Schema, predicate: &Predicate, route: &[Hop], field: &str) -> String {
    let written = &predicate_path(predicate).segments;
    let before = &written[..written.len().saturating_sub(1)];
    // Innermost first: the field, the route backwards, then the hops written.
    let mut path = vec![ident(field)];
    let mut wrapped: Option<Expr> = None;
    let steps = route
        .iter()
        .rev()
        .map(|hop| {
            let name = hop.reach_name().to_string();
            let unique = hops(schema, hop.from, &name).len() == 1;
            let via = (!unique).then(|| hop.rel.name.clone());
            (name, hop.direction == Direction::ToParent && unique, via)
        })
        .chain(
            before
                .iter()
                .rev()
                .map(|i| (i.name.to_string(), true, None)),
        );
    for (name, dotted, via) in steps {
        match wrapped.take() {
            None if dotted => path.insert(0, ident(&name)),
            inner => {
                let filter = inner.unwrap_or_else(|| leaf(predicate, &path));
                wrapped = Some(expr(ExprKind::Has(Has {
                    quantifier: Quantifier::Any,
                    relation: ident(&name),
                    via: via.as_deref().map(ident),
                    filter: Some(Box::new(filter)),
                })));
            }
        }
    }
    format_expr(&wrapped.unwrap_or_else(|| leaf(predicate, &path)))
}

/// `predicate` on `segments` instead of its own path.
fn leaf(predicate: &Predicate, segments: &[Ident]) -> Expr {
    let path = Path {
        segments: segments.to_vec(),
        span: Default::default(),
    };
    let mut moved = predicate.clone();
    match &mut moved {
        Predicate::Compare { path: p, .. }
        | Predicate::IsNull { path: p, .. }
        | Predicate::InList { path: p, .. }
        | Predicate::Between { path: p, .. }
        | Predicate::Text { path: p, .. }
        | Predicate::BoolField { path: p } => *p = path,
    }
    expr(ExprKind::Predicate(moved))
}

fn ident(name: &str) -> Ident {
    Ident {
        name: name.into(),
        span: Default::default(),
    }
}

fn expr(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Default::default(),
    }
}
