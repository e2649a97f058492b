//! Checking aggregates (SPEC 2.5): the chain's hops, the aggregated field and
//! its type, and the test on the aggregate's value.
//!
//! The hop filters are checked by the expression walk of [`super::expr`]
//! (this module only resolves names and types), so an aggregate nested in a
//! filter costs no call stack.

use crate::error::{Error, Result};
use crate::plan::{AggregateFn, FieldRef, Test, Value};
use crate::schema::{Entity, Field, FieldType, Schema};
use crate::span::Span;
use crate::syntax::ast::{self, AggregateCheck, Literal, LiteralKind};

use super::expr::{positive_op, ORDERED_FIELD};
use super::names::PlanNames;
use super::resolve::{self, Hop};
use super::types::{describe_literal, value_type, Target};

/// An aggregate's chain and field, resolved against the schema.
pub(crate) struct Resolved<'s> {
    pub hops: Vec<Hop<'s>>,
    /// The entity of the last hop, whose records are aggregated.
    pub end: &'s Entity,
    /// The aggregated field; `None` for `count`.
    pub field: Option<&'s Field>,
}

impl Resolved<'_> {
    pub fn field_ref(&self, names: &mut PlanNames) -> Option<FieldRef> {
        self.field.map(|field| FieldRef {
            entity: names.of(&self.end.name),
            field: names.of(&field.name),
            ty: value_type(&field.ty),
        })
    }
}

/// Resolve the hops of `aggregate` from `start`, each as `has` resolves its
/// relationship, then the field of the last hop's entity.
pub(crate) fn resolve<'s>(
    schema: &'s Schema,
    start: &'s Entity,
    aggregate: &ast::Aggregate,
) -> Result<Resolved<'s>> {
    let mut at = start;
    let mut hops = Vec::with_capacity(aggregate.chain.len());
    let last = aggregate.chain.len().saturating_sub(1);
    for (i, hop) in aggregate.chain.iter().enumerate() {
        let resolved = match resolve::has_hop(schema, at, &hop.relation, hop.via.as_ref()) {
            Ok(resolved) => resolved,
            Err(err) => {
                return Err(not_a_relationship(aggregate, at, hop, i == last).unwrap_or(err))
            }
        };
        at = resolved.to;
        hops.push(resolved);
    }
    let field = match &aggregate.field {
        Some(ident) => Some(resolve::field(at, ident)?),
        None => None,
    };
    Ok(Resolved {
        hops,
        end: at,
        field,
    })
}

/// A clearer error than "unknown relationship" when a hop names a field:
/// `count(lead.estimated_value)` counts records, and a field can only come
/// last in `sum`/`avg`/`min`/`max`.
fn not_a_relationship(
    aggregate: &ast::Aggregate,
    at: &Entity,
    hop: &ast::ChainHop,
    is_last: bool,
) -> Option<Error> {
    let field = at.field(&hop.relation.name)?;
    let target = Target { entity: at, field };
    let expected = if aggregate.function == AggregateFn::Count && is_last {
        "a relationship: count counts the records themselves; \
         sum, avg, min and max take a field"
            .to_string()
    } else {
        "a relationship; only the last name of the chain is a field".to_string()
    };
    Some(Error::TypeMismatch {
        context: format!("the chain of {}(...)", aggregate.function.keyword()),
        expected,
        found: target.described(),
        span: hop.relation.span,
    })
}

/// The function's rules for its field (SPEC 2.5): `sum` and `avg` take
/// numbers; `min` and `max` anything ordered.
pub(crate) fn check_field(
    function: AggregateFn,
    end: &Entity,
    field: &Field,
    span: Span,
) -> Result<()> {
    let target = Target { entity: end, field };
    let name = function.keyword();
    match function {
        AggregateFn::Count => Ok(()),
        AggregateFn::Sum | AggregateFn::Avg if field.ty.is_number() => Ok(()),
        AggregateFn::Sum | AggregateFn::Avg => Err(Error::TypeMismatch {
            context: format!("`{name}`"),
            expected: "an integer or decimal field".into(),
            found: target.described(),
            span,
        }),
        AggregateFn::Min | AggregateFn::Max if field.ty.is_ordered() => Ok(()),
        // Not `NotOrdered`: its message lists the tests an unordered choice
        // allows, which are no help with `min`/`max`.
        AggregateFn::Min | AggregateFn::Max => Err(Error::TypeMismatch {
            context: format!("`{name}`"),
            expected: ORDERED_FIELD.into(),
            found: match field.ty {
                FieldType::Choice(_) => format!("unordered {}", target.described()),
                _ => target.described(),
            },
            span,
        }),
    }
}

/// The positive test on the aggregate's value, and whether the written
/// test is its negation (`!=`, `is null`, `not between`).
pub(crate) fn lower_test(
    check: &AggregateCheck,
    function: AggregateFn,
    resolved: &Resolved<'_>,
    text: &str,
) -> Result<(Test, bool)> {
    let value = |literal: &Literal| typed(literal, function, resolved, text);
    Ok(match check {
        AggregateCheck::Compare { op, value: literal } => {
            let (op, negated) = positive_op(*op);
            (
                Test::Compare {
                    op,
                    value: value(literal)?,
                },
                negated,
            )
        }
        AggregateCheck::IsNull { negated } => (Test::IsNotNull, !negated),
        AggregateCheck::Between { negated, low, high } => {
            (Test::between(value(low)?, value(high)?), *negated)
        }
    })
}

/// The typed value of a literal compared with the aggregate: a number for
/// `count` and `avg` (a decimal for `avg`), the field's own rules for the
/// others (SPEC 2.5: "the compared value follows the field's rules").
fn typed(
    literal: &Literal,
    function: AggregateFn,
    resolved: &Resolved<'_>,
    text: &str,
) -> Result<Value> {
    let number = |as_decimal: bool| match &literal.kind {
        LiteralKind::Integer(i) if as_decimal => Ok(Value::Decimal(*i as f64)),
        LiteralKind::Integer(i) => Ok(Value::Integer(*i)),
        LiteralKind::Decimal(d) => Ok(Value::Decimal(*d)),
        other => Err(Error::TypeMismatch {
            context: text.to_string(),
            expected: "a number".into(),
            found: describe_literal(other),
            span: literal.span,
        }),
    };
    match (function, resolved.field) {
        (AggregateFn::Count, _) | (_, None) => number(false),
        (AggregateFn::Avg, Some(_)) => number(true),
        (_, Some(field)) => Target {
            entity: resolved.end,
            field,
        }
        .value(literal),
    }
}
