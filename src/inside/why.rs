//! `segql why` (SPEC §8): whether one record is in a segment, and the plan
//! tree with each node's verdict for that record and the facts that decided
//! each test.
//!
//! Every node of the tree is on the root entity (`and`, `or`, `not` and the
//! tests below them; a `has` or an aggregate is one test, its filter shown
//! in its text), and each node's verdict is its own evaluation for that
//! record on the chosen engine: the memory engine's single-record test
//! ([`crate::eval::contains`]), or on a database the node's SQL restricted
//! to the record's key (`KEY = id AND node`). So each verdict equals the
//! record's membership in that node's segment, and the root's is the
//! answer.
//!
//! A plan checked with [`crate::check::check_keeping_segments`] holds an
//! `in NAME` node for each library segment it uses: the tree shows it as
//! that node, with its verdict (the record's membership in the segment),
//! and the segment's own tree below it, folded the same way for the
//! segments it uses in turn. The engines are always given the plan with
//! those nodes replaced by their filters.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::facts::{Fact, FactSource};
use super::{is_record, label};
use crate::db::Backend;
use crate::error::{Error, Result};
use crate::eval::{self, Store, StoreCache};
use crate::plan::{Plan, PlanExpr};
use crate::schema::Schema;

/// Which engine decides the verdicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhyEngine<'a> {
    /// The database runs each node's SQL for the record.
    Database,
    /// The memory engine, over a store loaded from the database with what
    /// the plan needs.
    Memory,
    /// The memory engine, over a store loaded through a cache of snapshots
    /// ([`Store::load_cached`]).
    MemoryCached(&'a StoreCache),
}

/// Why record `id` is in or out of a segment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Why {
    pub id: Uuid,
    pub entity: String,
    /// Whether the record is in the segment (the root's verdict).
    #[serde(rename = "in")]
    pub member: bool,
    pub tree: WhyNode,
}

/// One node of the plan and its verdict for the record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WhyNode {
    /// The node as the plan printer writes it (`and`, `or`, `not`,
    /// `in NAME` for a library segment kept as a node, or the test's text).
    pub node: String,
    pub holds: bool,
    /// What decided a test; `None` for `and`, `or`, `not`, `in NAME` and
    /// constants.
    pub fact: Option<Fact>,
    /// The operands of `and`, `or` and `not`; for `in NAME` one child, the
    /// root of the segment's own tree.
    pub children: Vec<WhyNode>,
}

/// Whether record `id` of `plan`'s entity is in `plan`'s segment, and why.
/// `plan` is the plan as run (optimized, with guards inlined, and library
/// segments either inlined or kept as `in NAME` nodes, which are folded);
/// the facts are read from `db`, the verdicts come from `engine`.
///
/// Errors: no record of the entity has the id ([`Error::UnknownRecord`]);
/// those of the database and of evaluation.
pub fn why(
    plan: &Plan,
    db: &mut dyn Backend,
    engine: WhyEngine<'_>,
    schema: &Schema,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Why> {
    let entity = schema.entity(&plan.entity).ok_or_else(|| Error::Internal {
        message: format!("plan entity '{}' is not in the schema", plan.entity),
    })?;
    let key = entity.key_field().ok_or_else(|| Error::Internal {
        message: format!("{} has no key field", entity.name),
    })?;
    if db.records(entity, &[key], &[id])?.is_empty() {
        return Err(Error::UnknownRecord {
            entity: entity.name.clone(),
            id: id.to_string(),
            hint: Some(format!(
                "pick an id from `segql run --format ids '{}'`",
                entity.name
            )),
        });
    }
    let store = match engine {
        WhyEngine::Database => None,
        WhyEngine::Memory | WhyEngine::MemoryCached(_) => {
            let run = Plan {
                entity: plan.entity.clone(),
                filter: plan.filter.clone().without_segments(),
            };
            Some(match engine {
                WhyEngine::MemoryCached(cache) => {
                    Store::load_cached(db, schema, Some(&run), cache)?.0
                }
                _ => Store::load(db, schema, Some(&run))?,
            })
        }
    };
    let mut walk = Walk {
        facts: FactSource {
            db,
            schema,
            now,
            entity: &plan.entity,
            id,
        },
        store: store.as_ref(),
    };
    let tree = walk.node(&plan.filter)?;
    Ok(Why {
        id,
        entity: plan.entity.clone(),
        member: tree.holds,
        tree,
    })
}

struct Walk<'a> {
    facts: FactSource<'a>,
    store: Option<&'a Store>,
}

impl Walk<'_> {
    /// The node's verdict, facts and children. Recursion follows the plan's
    /// depth, which the checker bounds (SPEC §2.4).
    fn node(&mut self, expr: &PlanExpr) -> Result<WhyNode> {
        let below: Vec<&PlanExpr> = match expr {
            PlanExpr::And(items) | PlanExpr::Or(items) => items.iter().collect(),
            PlanExpr::Not(inner) if !eval::reads_as_atom(expr) => vec![inner.as_ref()],
            // `in NAME`: the segment's own tree, one level down.
            PlanExpr::Segment(segment) => vec![segment.filter.as_ref()],
            _ => Vec::new(),
        };
        let children = below
            .into_iter()
            .map(|child| self.node(child))
            .collect::<Result<Vec<_>>>()?;
        let fact = if children.is_empty() {
            // The engines never see `in NAME` nodes (one may be in a
            // `has` filter).
            self.facts.fact(&expr.clone().without_segments())?
        } else {
            None
        };
        Ok(WhyNode {
            node: label(expr, false),
            holds: self.holds(expr)?,
            fact,
            children,
        })
    }

    /// Whether the record satisfies `expr` on its own.
    fn holds(&mut self, expr: &PlanExpr) -> Result<bool> {
        let (schema, now, id) = (self.facts.schema, self.facts.now, self.facts.id);
        let entity = self.facts.entity.to_string();
        let expr = &expr.clone().without_segments();
        match self.store {
            Some(store) => {
                let plan = Plan {
                    entity,
                    filter: expr.clone(),
                };
                eval::contains(&plan, store, id, now)
            }
            None => {
                let plan = Plan {
                    filter: PlanExpr::And(vec![is_record(schema, &entity, id)?, expr.clone()]),
                    entity,
                };
                Ok(self.facts.db.count(schema, &plan, now)? > 0)
            }
        }
    }
}
