//! Seeing inside a segment (SPEC §8): how many records each node of a plan
//! selects ([`counts`], for `explain --counts`) and why one record is in or
//! out ([`why`]). Both walk the optimized plan as a tree whose nodes are
//! those [`crate::eval::count_children`] defines, so the two commands show
//! the same shape, spelled by the plan printer.

mod counts;
mod facts;
mod why;

pub use counts::{counts, CountNode, Counts};
pub use facts::Fact;
pub use why::{why, Why, WhyEngine, WhyNode};

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::plan::{CmpOp, FieldRef, FieldTest, Link, PlanExpr, Test, Value, ValueType};
use crate::schema::Schema;

/// How a node is named in a tree: the operator for `and`, `or` and a `not`
/// of more than one test, the header of a `has` whose filter is shown
/// below it (`has lead via lead_parent_contact(...)`), the plan printer's text for everything else.
pub(crate) fn label(expr: &PlanExpr, filter_below: bool) -> String {
    match expr {
        PlanExpr::And(items) if !items.is_empty() => "and".to_string(),
        PlanExpr::Or(items) if !items.is_empty() => "or".to_string(),
        PlanExpr::Not(_) if !crate::eval::reads_as_atom(expr) => "not".to_string(),
        PlanExpr::Related(r) if filter_below => {
            let mut header = r.clone();
            header.filter = Box::new(PlanExpr::Const(true));
            format!("{}(...)", PlanExpr::Related(header))
        }
        other => other.to_string(),
    }
}

/// `KEY = id` on `entity`: the test that picks one record.
pub(crate) fn is_record(schema: &Schema, entity: &str, id: Uuid) -> Result<PlanExpr> {
    let key = schema
        .entity(entity)
        .and_then(|e| e.key_field())
        .ok_or_else(|| Error::Internal {
            message: format!("entity '{entity}' has no key field in the schema"),
        })?;
    Ok(PlanExpr::Field(FieldTest {
        field: FieldRef {
            entity: entity.into(),
            field: key.name.as_str().into(),
            ty: ValueType::Uuid,
        },
        test: Test::Compare {
            op: CmpOp::Eq,
            value: Value::Uuid(id),
        },
    }))
}

/// The same relationship walked the other way (`lead` to its `contact`
/// for `contact` to its `lead`s).
pub(crate) fn reversed(link: &Link) -> Link {
    use crate::plan::Direction;
    Link {
        relationship: link.relationship.clone(),
        direction: match link.direction {
            Direction::ToParent => Direction::ToChildren,
            Direction::ToChildren => Direction::ToParent,
        },
        from: link.to.clone(),
        to: link.from.clone(),
    }
}
