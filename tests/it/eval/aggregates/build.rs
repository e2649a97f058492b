//! Aggregate plans built by hand, hops resolved against the default schema
//! (direction and target entity follow from the relationship's name), and a
//! runner that checks every way of asking the memory engine agrees.

use chrono::{DateTime, Utc};
use segql::eval::{self, Store};
use segql::plan::*;
use segql::schema::{crm_schema, FieldType};
use uuid::Uuid;

/// The value type the checker gives `entity.field`.
pub fn field_ref(entity: &str, field: &str) -> FieldRef {
    let schema = crm_schema();
    let f = schema
        .entity(entity)
        .and_then(|e| e.field(field))
        .unwrap_or_else(|| panic!("no field {entity}.{field}"));
    let ty = match &f.ty {
        FieldType::Uuid => ValueType::Uuid,
        FieldType::Text => ValueType::Text,
        FieldType::Integer => ValueType::Integer,
        FieldType::Decimal => ValueType::Decimal,
        FieldType::Bool => ValueType::Bool,
        FieldType::Date => ValueType::Date,
        FieldType::DateTime => ValueType::DateTime,
        FieldType::Choice(_) => ValueType::Choice,
    };
    FieldRef {
        entity: entity.into(),
        field: field.into(),
        ty,
    }
}

/// The hop along relationship `relationship` from `from`: to the parent
/// when `from` is its child, to the children otherwise.
pub fn hop(from: &str, relationship: &str, filter: PlanExpr) -> Hop {
    let schema = crm_schema();
    let rel = schema
        .relationship(relationship)
        .unwrap_or_else(|| panic!("no relationship {relationship}"));
    let (direction, to) = if rel.child == from {
        (Direction::ToParent, rel.parent.clone())
    } else {
        assert_eq!(rel.parent, from, "{relationship} does not touch {from}");
        (Direction::ToChildren, rel.child.clone())
    };
    Hop {
        link: Link {
            relationship: rel.name.as_str().into(),
            direction,
            from: from.into(),
            to: to.into(),
        },
        filter,
    }
}

/// A chain from `from` through `steps` (relationship, filter).
pub fn chain(from: &str, steps: Vec<(&str, PlanExpr)>) -> Vec<Hop> {
    let mut at = from.to_string();
    steps
        .into_iter()
        .map(|(rel, filter)| {
            let h = hop(&at, rel, filter);
            at = h.link.to.to_string();
            h
        })
        .collect()
}

/// `function(chain.field)` from `from`.
pub fn aggregate(
    function: AggregateFn,
    from: &str,
    steps: Vec<(&str, PlanExpr)>,
    field: Option<&str>,
) -> Aggregate {
    let chain = chain(from, steps);
    let target = chain
        .last()
        .map(|h| h.link.to.to_string())
        .unwrap_or_default();
    Aggregate {
        function,
        chain,
        field: field.map(|f| field_ref(&target, f)),
    }
}

/// `count(chain)` from `from`.
pub fn count(from: &str, steps: Vec<(&str, PlanExpr)>) -> Aggregate {
    aggregate(AggregateFn::Count, from, steps, None)
}

pub fn cmp(aggregate: &Aggregate, op: CmpOp, value: Value) -> PlanExpr {
    test(aggregate, Test::Compare { op, value })
}

pub fn test(aggregate: &Aggregate, test: Test) -> PlanExpr {
    PlanExpr::aggregate(AggregateTest {
        aggregate: aggregate.clone(),
        test,
    })
}

pub fn not(e: PlanExpr) -> PlanExpr {
    PlanExpr::Not(Box::new(e))
}

/// `entity.field op value`.
pub fn field(entity: &str, field: &str, op: CmpOp, value: Value) -> PlanExpr {
    PlanExpr::Field(FieldTest {
        field: field_ref(entity, field),
        test: Test::Compare { op, value },
    })
}

pub fn choice(code: i64) -> Value {
    Value::Choice {
        code,
        label: Default::default(),
    }
}

pub fn any() -> PlanExpr {
    PlanExpr::Const(true)
}

/// The records of `entity` matching `filter`, as numbers (`Uuid::as_u128`),
/// after checking that counting them and asking about each record one at
/// a time (the single-record path) give the same answer.
pub fn run(store: &Store, now: DateTime<Utc>, entity: &str, filter: PlanExpr) -> Vec<u128> {
    try_run(store, now, entity, filter).unwrap_or_else(|e| panic!("{e}"))
}

/// [`run`], returning the engine's error.
pub fn try_run(
    store: &Store,
    now: DateTime<Utc>,
    entity: &str,
    filter: PlanExpr,
) -> segql::Result<Vec<u128>> {
    let plan = Plan {
        entity: entity.into(),
        filter,
    };
    let program = eval::compile(&plan, store, now)?;
    let ids = program.ids()?;
    assert_eq!(program.count()?, ids.len(), "{plan}");
    let one_by_one: Vec<Uuid> = store
        .ids(entity)
        .into_iter()
        .filter(|&id| {
            program
                .contains(id)
                .unwrap_or_else(|e| panic!("{plan}: {e}"))
        })
        .collect();
    assert_eq!(one_by_one, ids, "{plan}: one record at a time");
    Ok(ids.iter().map(|id| id.as_u128()).collect())
}
