//! Running a plan to its records: on a database through its SQL, or in the
//! memory engine over a store (loaded from a database where its driver can).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Backend;
use crate::error::Result;
use crate::eval::{self, Store, StoreCache, StoreSource};
use crate::plan::{AggregateTest, CmpOp, Plan, PlanExpr, RecordValue, RecordValues, Test, Value};
use crate::schema::Schema;

/// Where a plan runs.
pub enum Engine<'a> {
    /// The database runs the compiled SQL (after its layout is checked).
    Database(&'a mut dyn Backend),
    /// The memory engine, over a store loaded from the database with what
    /// the plan needs ([`Store::load`]).
    MemoryFrom(&'a mut dyn Backend),
    /// The memory engine, over a store loaded through a cache of
    /// snapshots ([`Store::load_cached`]): on an unchanged SQLite file, read
    /// from the snapshot an earlier run saved.
    MemoryCached(&'a mut dyn Backend, &'a StoreCache),
    /// The memory engine, over a store already loaded.
    Memory(&'a Store),
}

/// How to run.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions<'a> {
    pub schema: &'a Schema,
    /// The reference time of `now` and `today`.
    pub now: DateTime<Utc>,
    /// Only count the records.
    pub count: bool,
}

/// What a run found: all ids (ascending), or only their number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Ids(Vec<Uuid>),
    Count(u64),
}

/// Where a run spent its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// The plan is `false` (the optimizer proved the segment empty): no
    /// engine looked at the data.
    NoScan,
    /// The database ran the query (layout check included).
    Database { evaluate: Duration },
    /// The memory engine loaded its store, then evaluated.
    Memory { load: Duration, evaluate: Duration },
}

/// A run's answer and its timing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub found: Found,
    pub timing: Timing,
    /// Where the store came from, when the run loaded one through a cache
    /// ([`Engine::MemoryCached`]).
    pub store: Option<StoreSource>,
}

/// Runs `plan` on `engine`: the ids of its records, ascending, or with
/// `options.count` their number. A plan that is `false` is answered without
/// touching the data.
///
/// Errors: those of the database (a missing table or column, named;
/// [`crate::Error::Unavailable`] when the memory engine cannot load from it)
/// and of evaluation (a relative time outside the years 0000 to 9999).
pub fn run(plan: &Plan, engine: Engine<'_>, options: &RunOptions<'_>) -> Result<Outcome> {
    if plan.filter == PlanExpr::Const(false) {
        let found = if options.count {
            Found::Count(0)
        } else {
            Found::Ids(Vec::new())
        };
        return Ok(Outcome {
            found,
            timing: Timing::NoScan,
            store: None,
        });
    }
    let started = Instant::now();
    let (schema, now) = (options.schema, options.now);
    match engine {
        Engine::Database(db) => {
            let found = if options.count {
                Found::Count(db.count(schema, plan, now)?)
            } else {
                Found::Ids(db.ids(schema, plan, now)?)
            };
            Ok(Outcome {
                found,
                timing: Timing::Database {
                    evaluate: started.elapsed(),
                },
                store: None,
            })
        }
        Engine::MemoryFrom(db) => {
            let store = Store::load(db, schema, Some(plan))?;
            evaluate_loaded(plan, &store, None, started, options)
        }
        Engine::MemoryCached(db, cache) => {
            let (store, source) = Store::load_cached(db, schema, Some(plan), cache)?;
            evaluate_loaded(plan, &store, Some(source), started, options)
        }
        Engine::Memory(store) => {
            let found = evaluate(plan, store, options)?;
            Ok(Outcome {
                found,
                timing: Timing::Memory {
                    load: Duration::ZERO,
                    evaluate: started.elapsed(),
                },
                store: None,
            })
        }
    }
}

/// The outcome of evaluating `plan` on `store`, just loaded (from
/// `source`, when through a cache) by a run that started at `started`.
fn evaluate_loaded(
    plan: &Plan,
    store: &Store,
    source: Option<StoreSource>,
    started: Instant,
    options: &RunOptions<'_>,
) -> Result<Outcome> {
    let load = started.elapsed();
    let found = evaluate(plan, store, options)?;
    Ok(Outcome {
        found,
        timing: Timing::Memory {
            load,
            evaluate: started.elapsed() - load,
        },
        store: source,
    })
}

fn evaluate(plan: &Plan, store: &Store, options: &RunOptions<'_>) -> Result<Found> {
    Ok(if options.count {
        Found::Count(eval::count(plan, store, options.now)? as u64)
    } else {
        Found::Ids(eval::evaluate(plan, store, options.now)?)
    })
}

/// The [`RecordValue`]s of every record of `entity` for which `rows`
/// holds, ids ascending, computed by `engine` at reference time `now`: by
/// one SQL statement ([`crate::sql::per_record_sql`]) or by the memory
/// engine ([`crate::eval::per_record`]). Both give the same values.
pub fn per_record(
    entity: &str,
    rows: &PlanExpr,
    values: &[RecordValue],
    engine: Engine<'_>,
    schema: &Schema,
    now: DateTime<Utc>,
) -> Result<RecordValues> {
    // One plan that reads everything the values read: the layout check and
    // the store's load go by it.
    let touched = reading_plan(entity, std::iter::once(rows), values);
    match engine {
        Engine::Database(db) => {
            db.verify_layout(schema, &touched)?;
            let query =
                crate::sql::per_record_sql(entity, rows, values, schema, db.dialect(), now)?;
            db.query_values(&query, values.len())
        }
        Engine::MemoryFrom(db) => {
            let store = Store::load(db, schema, Some(&touched))?;
            crate::eval::per_record(entity, rows, values, &store, now)
        }
        Engine::MemoryCached(db, cache) => {
            let (store, _) = Store::load_cached(db, schema, Some(&touched), cache)?;
            crate::eval::per_record(entity, rows, values, &store, now)
        }
        Engine::Memory(store) => crate::eval::per_record(entity, rows, values, store, now),
    }
}

/// A plan on `entity` that reads every table and column that `rows` and
/// `values` read (what the layout check and the memory store's load go by);
/// its meaning is of no use.
pub(crate) fn reading_plan<'e>(
    entity: &str,
    rows: impl IntoIterator<Item = &'e PlanExpr>,
    values: &[RecordValue],
) -> Plan {
    let mut reads: Vec<PlanExpr> = rows.into_iter().cloned().collect();
    for value in values {
        reads.push(match value {
            RecordValue::Holds(expr) => expr.clone(),
            RecordValue::Count(aggregate) => PlanExpr::aggregate(AggregateTest {
                aggregate: aggregate.clone(),
                test: Test::Compare {
                    op: CmpOp::Ge,
                    value: Value::Integer(0),
                },
            }),
        });
    }
    Plan {
        entity: entity.to_string(),
        filter: PlanExpr::Or(reads),
    }
}
