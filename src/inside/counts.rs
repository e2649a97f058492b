//! `explain --counts` (SPEC §8): per node of the optimized plan, how many
//! records satisfy it on its own; per `and` operand how many remain after it
//! and the ones before it; per `or` operand how many it adds. The memory
//! engine gets every count from one pass over its bitmaps
//! ([`crate::eval::node_counts`]); a database counts each node and each
//! prefix of an `and`/`or` with one `COUNT` of that sub-plan, compiled like
//! any other plan. Both give the same numbers.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::label;
use crate::db::Backend;
use crate::error::{Error, Result};
use crate::eval::{count_children, node_counts, NodeCounts, Store};
use crate::plan::{Plan, PlanExpr};
use crate::schema::Schema;
use crate::Engine;

/// The counted tree of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// The root entity.
    pub entity: String,
    /// How many records the root entity has.
    pub total: u64,
    pub tree: CountNode,
}

/// One node: its text, the entity it tests and how many of its records
/// satisfy it on its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CountNode {
    pub node: String,
    pub entity: String,
    pub count: u64,
    /// For an operand of `and`: the records satisfying it and every operand
    /// before it (the funnel); `None` elsewhere.
    pub remaining: Option<u64>,
    /// For an operand of `or`: the records it adds beyond the operands
    /// before it; `None` elsewhere.
    pub adds: Option<u64>,
    pub children: Vec<CountNode>,
}

/// The counts of every node of `plan` (optimized, as `explain` shows it)
/// on `engine` at reference time `now`.
///
/// Errors: those of running the plan on the engine (a missing table or
/// column; [`Error::Unavailable`] when the memory engine cannot load the
/// database).
pub fn counts(
    plan: &Plan,
    engine: Engine<'_>,
    schema: &Schema,
    now: DateTime<Utc>,
) -> Result<Counts> {
    let (counted, total) = match engine {
        Engine::Database(db) => {
            let all = Plan {
                entity: plan.entity.clone(),
                filter: PlanExpr::Const(true),
            };
            let total = db.count(schema, &all, now)?;
            (
                database_counts(db, schema, now, &plan.entity, &plan.filter)?,
                total,
            )
        }
        Engine::MemoryFrom(db) => {
            let store = Store::load(db, schema, Some(plan))?;
            memory_counts(plan, &store, now)?
        }
        Engine::MemoryCached(db, cache) => {
            let (store, _) = Store::load_cached(db, schema, Some(plan), cache)?;
            memory_counts(plan, &store, now)?
        }
        Engine::Memory(store) => memory_counts(plan, store, now)?,
    };
    Ok(Counts {
        entity: plan.entity.clone(),
        total,
        tree: annotate(&plan.filter, &counted, None, 0),
    })
}

fn memory_counts(plan: &Plan, store: &Store, now: DateTime<Utc>) -> Result<(NodeCounts, u64)> {
    let total = store.len(&plan.entity).ok_or_else(|| Error::Internal {
        message: format!("the store has no table of {}", plan.entity),
    })?;
    Ok((node_counts(plan, store, now)?, total as u64))
}

/// One `COUNT` per node and per prefix of each `and`/`or`.
fn database_counts(
    db: &mut dyn Backend,
    schema: &Schema,
    now: DateTime<Utc>,
    entity: &str,
    expr: &PlanExpr,
) -> Result<NodeCounts> {
    let mut count = |filter: PlanExpr| {
        let plan = Plan {
            entity: entity.to_string(),
            filter,
        };
        db.count(schema, &plan, now)
    };
    let own = count(expr.clone())?;
    let running = match expr {
        PlanExpr::And(items) => (1..=items.len())
            .map(|n| count(PlanExpr::And(items[..n].to_vec())))
            .collect::<Result<Vec<u64>>>()?,
        PlanExpr::Or(items) => (1..=items.len())
            .map(|n| count(PlanExpr::Or(items[..n].to_vec())))
            .collect::<Result<Vec<u64>>>()?,
        _ => Vec::new(),
    };
    let children = count_children(expr, entity)
        .into_iter()
        .map(|(below, child)| database_counts(db, schema, now, below, child))
        .collect::<Result<Vec<_>>>()?;
    Ok(NodeCounts {
        entity: entity.to_string(),
        count: own,
        running,
        children,
    })
}

/// The report's node for `expr`, operand `index` of `parent` (with the
/// parent's running counts) when it has one.
fn annotate(
    expr: &PlanExpr,
    counted: &NodeCounts,
    parent: Option<(&PlanExpr, &NodeCounts)>,
    index: usize,
) -> CountNode {
    let (mut remaining, mut adds) = (None, None);
    if let Some((parent, counts)) = parent {
        let at = counts.running.get(index).copied();
        match parent {
            PlanExpr::And(_) => remaining = at,
            PlanExpr::Or(_) => {
                let before = match index {
                    0 => Some(0),
                    _ => counts.running.get(index - 1).copied(),
                };
                adds = at
                    .zip(before)
                    .map(|(after, before)| after.saturating_sub(before));
            }
            _ => {}
        }
    }
    let below = count_children(expr, &counted.entity);
    let children = below
        .iter()
        .zip(&counted.children)
        .enumerate()
        .map(|(i, ((_, child), child_counts))| {
            annotate(child, child_counts, Some((expr, counted)), i)
        })
        .collect();
    CountNode {
        node: label(expr, !below.is_empty()),
        entity: counted.entity.clone(),
        count: counted.count,
        remaining,
        adds,
        children,
    }
}
