//! Rewriting a query's names to the schema's spelling, for `segql fmt` when a
//! schema is at hand: `CONTACT where Role = "decision maker"` becomes
//! `contact where role = "Decision Maker"`.

use crate::error::limits::MAX_PLAN_DEPTH;
use crate::error::{Error, Result};
use crate::schema::{Entity, FieldType, Schema};
use crate::syntax::ast::{self, AggregateCheck, Expr, ExprKind, Literal, LiteralKind, Predicate};

use super::aggregate;
use super::resolve;
use super::types::Target;
use crate::plan::Value;

/// Rewrite entity, field and relationship names (including `via` names and
/// path hops) to the schema's spelling, and choice labels in string literals
/// to the schema's label spelling. Segment names are left as written. Fails
/// with the checker's error on a name or label the schema does not know.
pub fn canonicalize(query: &mut ast::Query, schema: &Schema) -> Result<()> {
    let entity = resolve::entity(schema, &query.entity)?;
    query.entity.name = entity.name.as_str().into();
    if let Some(filter) = &mut query.filter {
        expr(schema, filter, entity, 1)?;
    }
    Ok(())
}

/// Walk with an explicit stack, like the checker, so depth costs no call stack.
fn expr(schema: &Schema, root: &mut Expr, entity: &Entity, depth: usize) -> Result<()> {
    let mut stack = vec![(root, entity, depth)];
    while let Some((e, entity, depth)) = stack.pop() {
        if depth > MAX_PLAN_DEPTH {
            return Err(Error::TooDeep {
                limit: MAX_PLAN_DEPTH,
                span: e.span,
            });
        }
        match &mut e.kind {
            ExprKind::Bool(_) | ExprKind::InSegment(_) => {}
            ExprKind::Not(inner) => stack.push((inner, entity, depth + 1)),
            ExprKind::And(items) | ExprKind::Or(items) => {
                stack.extend(items.iter_mut().rev().map(|item| (item, entity, depth + 1)));
            }
            ExprKind::Has(has) => {
                let hop = resolve::has_hop(schema, entity, &has.relation, has.via.as_ref())?;
                has.relation.name = hop.reach_name().into();
                if let Some(via) = &mut has.via {
                    via.name = hop.rel.name.as_str().into();
                }
                if let Some(filter) = &mut has.filter {
                    stack.push((filter, hop.to, depth + 1));
                }
            }
            ExprKind::Predicate(p) => predicate(schema, p, entity)?,
            ExprKind::Aggregate(test) => {
                let resolved = aggregate::resolve(schema, entity, &test.aggregate)?;
                let chain = test.aggregate.chain.iter_mut().zip(&resolved.hops);
                for (i, (hop, resolved_hop)) in chain.enumerate() {
                    hop.relation.name = resolved_hop.reach_name().into();
                    if let Some(via) = &mut hop.via {
                        via.name = resolved_hop.rel.name.as_str().into();
                    }
                    if let Some(filter) = &mut hop.filter {
                        stack.push((filter, resolved_hop.to, depth + 1 + i));
                    }
                }
                if let (Some(ident), Some(field)) = (&mut test.aggregate.field, resolved.field) {
                    ident.name = field.name.as_str().into();
                    if let FieldType::Choice(_) = field.ty {
                        let target = Target {
                            entity: resolved.end,
                            field,
                        };
                        for literal in aggregate_literals(&mut test.test) {
                            label(&target, literal)?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn predicate(schema: &Schema, p: &mut Predicate, entity: &Entity) -> Result<()> {
    let (path, literals) = parts_mut(p);
    let resolved = resolve::path(schema, entity, path)?;
    for (ident, hop) in path.segments.iter_mut().zip(&resolved.hops) {
        ident.name = hop.reach_name().into();
    }
    if let Some(last) = path.segments.last_mut() {
        last.name = resolved.field.name.as_str().into();
    }
    if let FieldType::Choice(_) = resolved.field.ty {
        let target = Target {
            entity: resolved.entity,
            field: resolved.field,
        };
        for literal in literals {
            label(&target, literal)?;
        }
    }
    Ok(())
}

/// A choice label in the schema's spelling.
fn label(target: &Target, literal: &mut Literal) -> Result<()> {
    if let LiteralKind::String(_) = literal.kind {
        if let Value::Choice { label, .. } = target.value(literal)? {
            literal.kind = LiteralKind::String(label);
        }
    }
    Ok(())
}

/// The literals an aggregate's value is compared with.
fn aggregate_literals(check: &mut AggregateCheck) -> Vec<&mut Literal> {
    match check {
        AggregateCheck::Compare { value, .. } => vec![value],
        AggregateCheck::IsNull { .. } => vec![],
        AggregateCheck::Between { low, high, .. } => vec![low, high],
    }
}

/// The path of a predicate and the literals compared with its field.
fn parts_mut(p: &mut Predicate) -> (&mut ast::Path, Vec<&mut Literal>) {
    match p {
        Predicate::Compare { path, value, .. } => (path, vec![value]),
        Predicate::IsNull { path, .. } | Predicate::BoolField { path } => (path, vec![]),
        Predicate::InList { path, values, .. } => (path, values.iter_mut().collect()),
        Predicate::Between {
            path, low, high, ..
        } => (path, vec![low, high]),
        Predicate::Text { path, .. } => (path, vec![]),
    }
}
