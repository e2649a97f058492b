//! Per-node counts of a plan in memory (`explain --counts`, SPEC §8): every
//! node's bitmap is computed once, and the running intersections (`and`)
//! and unions (`or`) of its operands come from combining those bitmaps, so
//! the whole tree costs about one evaluation of the plan: a `has` is
//! computed from its filter's bitmap, which its own counts come from too.

use chrono::{DateTime, Utc};

use super::bitmap::Bitmap;
use super::compile::{compile, Node, Overflow};
use super::store::Store;
use crate::error::{Error, Result};
use crate::plan::{Plan, PlanExpr};

/// How many records satisfy a node of a plan on their own, and for an `and`
/// or `or` how many satisfy its first 1, 2, … operands together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeCounts {
    /// The entity whose records the node tests.
    pub entity: String,
    /// Records of `entity` satisfying the node.
    pub count: u64,
    /// For `and`: records satisfying operands `0..=i` (the funnel); for
    /// `or`: records satisfying any of them. Empty for other nodes.
    pub running: Vec<u64>,
    /// The nodes below, as [`count_children`] defines them.
    pub children: Vec<NodeCounts>,
}

/// The nodes a counted tree shows below `expr`, each with the entity it is
/// evaluated on: the operands of `and`/`or`, what a `not` negates (unless it
/// reads as one atom, `a != 1`), and a `has` filter other than `true`, on
/// the related entity. Aggregates and field tests are leaves.
pub fn count_children<'e>(expr: &'e PlanExpr, entity: &'e str) -> Vec<(&'e str, &'e PlanExpr)> {
    match expr {
        PlanExpr::And(items) | PlanExpr::Or(items) => items.iter().map(|i| (entity, i)).collect(),
        PlanExpr::Not(inner) if !reads_as_atom(expr) => vec![(entity, inner.as_ref())],
        PlanExpr::Related(r) if *r.filter != PlanExpr::Const(true) => {
            vec![(r.link.to.as_str(), r.filter.as_ref())]
        }
        _ => Vec::new(),
    }
}

/// Whether `expr` prints as one test (`a != 1`, `b is null`): a `not` of a
/// field or aggregate test that has a negated spelling.
pub fn reads_as_atom(expr: &PlanExpr) -> bool {
    match expr {
        PlanExpr::Not(inner) => {
            matches!(**inner, PlanExpr::Field(_) | PlanExpr::Aggregate(_))
                && !expr.to_string().starts_with("not ")
        }
        _ => true,
    }
}

/// The counts of every node of `plan` over `store` at reference time `now`.
pub fn node_counts(plan: &Plan, store: &Store, now: DateTime<Utc>) -> Result<NodeCounts> {
    Ok(count(&plan.entity, &plan.filter, store, now)?.1)
}

/// The node's bitmap and counts. Recursion follows the plan's depth, which
/// the checker bounds (SPEC §2.4), as [`compile`] does.
fn count(
    entity: &str,
    expr: &PlanExpr,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<(Bitmap, NodeCounts)> {
    let (index, _) = store.table(entity)?;
    let rows = store.len(entity).ok_or_else(|| Error::Internal {
        message: format!("the store has no table of {entity}"),
    })?;
    let mut running = Vec::new();
    let mut children = Vec::new();
    let bitmap = match expr {
        PlanExpr::And(items) | PlanExpr::Or(items) => {
            let is_and = matches!(expr, PlanExpr::And(_));
            let mut acc = if is_and {
                Bitmap::ones(rows)
            } else {
                Bitmap::zeros(rows)
            };
            for item in items {
                let (bits, counted) = count(entity, item, store, now)?;
                if is_and {
                    acc.and_with(&bits);
                } else {
                    acc.or_with(&bits);
                }
                running.push(acc.count() as u64);
                children.push(counted);
            }
            acc
        }
        PlanExpr::Not(inner) if !reads_as_atom(expr) => {
            let (mut bits, counted) = count(entity, inner, store, now)?;
            bits.negate();
            children.push(counted);
            bits
        }
        PlanExpr::Related(related) if *related.filter != PlanExpr::Const(true) => {
            // The filter's bitmap serves both its own counts and the `has`.
            let (inner, counted) = count(&related.link.to, &related.filter, store, now)?;
            children.push(counted);
            match compile(expr, store, index, now)? {
                Node::Related(node) => node.eval_over(&inner),
                other => other.eval_all().map_err(Overflow::into_error)?,
            }
        }
        _ => compile(expr, store, index, now)?
            .eval_all()
            .map_err(Overflow::into_error)?,
    };
    let counted = NodeCounts {
        entity: entity.to_string(),
        count: bitmap.count() as u64,
        running,
        children,
    };
    Ok((bitmap, counted))
}
