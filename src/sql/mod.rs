//! The SQL back end: compiles a checked [`Plan`] into one `SELECT` with bind
//! parameters for a [`Dialect`] (SQLite, PostgreSQL or Spark SQL). Running it is the
//! business of the database drivers in [`crate::db`].
//!
//! The compiled SQL keeps SPEC §2.3's two-valued meaning exactly: negation
//! is pushed down to the atoms, positive atoms are written plainly (NULL acts
//! as false under `AND`/`OR`/`WHERE`) and negated ones null-safely. A related
//! record that must exist is found with an uncorrelated `IN (SELECT ...)`
//! (evaluated once); one that must not exist with a correlated `NOT EXISTS`.
//! An aggregate over related records is a grouped subquery, also evaluated
//! once (see `aggregate.rs`). Dialects may ask for joins instead where
//! their planners estimate those better: a parent every selected record
//! must have joined to the root's table (`root_joins.rs`), a `has` under
//! an `OR` of the root's `WHERE` as a distinct set of keys LEFT JOINed
//! once (`Generator::joined_keys_test`).
//! Literals are bind parameters, one per literal; identifiers come only
//! from the schema and are quoted by the dialect. The one exception is a
//! database view ([`to_view_sql`]), which cannot take parameters: there the
//! same generator writes each literal as the dialect's escaped SQL literal
//! and relative times as expressions of the database's clock.

// The crate's one error type is large (it carries spans, suggestions and
// lists of valid names); errors are rare here, so size does not matter.
#![allow(clippy::result_large_err)]

mod aggregate;
mod checked_sum;
mod dialect;
mod generator;
mod per_record;
pub mod postgres;
mod root_joins;
pub mod spark;
pub mod sqlite;
mod tree;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

pub use self::dialect::{is_plain_ident, Dialect};
pub use self::per_record::{per_record_select, per_record_sql, value_column};
pub use self::postgres::Postgres;
pub use self::spark::Spark;
pub use self::sqlite::Sqlite;

pub(crate) use self::generator::{column, entity};
use self::generator::{Generator, Literals, Scope};
use self::tree::{Renderer, SqlExpr};
use crate::error::Result;
use crate::plan::{Plan, PlanExpr};
use crate::schema::Schema;

/// What to compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqlOptions {
    /// `SELECT COUNT(*)` instead of the ids.
    pub count: bool,
    /// The reference time that `now` and `today` in the query mean; it
    /// becomes bind parameters, never the database's clock.
    pub now: DateTime<Utc>,
}

/// A compiled query: SQL text and its parameters, `params[0]` being
/// placeholder 1.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SqlQuery {
    pub sql: String,
    pub params: Vec<SqlParam>,
    /// The integer `sum` aggregates the query computes, as segql prints
    /// them: when the database reports that a sum left the i64 range
    /// ([`Dialect::is_sum_overflow`]), the error names them
    /// ([`crate::Error::SumOverflow`]). Not part of the query itself.
    #[serde(skip)]
    pub integer_sums: Vec<String>,
    /// Session settings (name, value) to run the query with, as
    /// [`crate::db::PostgresBackend`] does: PostgreSQL's `jit = off` where a
    /// rarely run fallback would make its planner compile the whole query
    /// ([`Dialect::settings_for_rare_fallbacks`]). The answer is the same
    /// without them. Not part of the query itself.
    #[serde(skip)]
    pub settings: Vec<(&'static str, &'static str)>,
}

/// One bind parameter, already in the form the dialect stores (SQLite gets
/// dates as text, PostgreSQL as dates). Serializes as a plain JSON scalar:
/// a string, number or boolean.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SqlParam {
    Bool(bool),
    Integer(i64),
    Real(f64),
    Text(String),
    Uuid(Uuid),
    Date(NaiveDate),
    /// Serializes as `YYYY-MM-DDTHH:MM:SSZ`.
    DateTime(#[serde(serialize_with = "serialize_datetime")] DateTime<Utc>),
}

fn serialize_datetime<S: serde::Serializer>(
    at: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&at.format(sqlite::DATETIME_FORMAT))
}

/// Compiles `plan` to one SQL statement selecting the ids of the matching
/// records in ascending order (or their count, with `options.count`).
///
/// Errors: [`crate::Error::InvalidValue`] when a relative time (`now - 99999999d`)
/// leaves the years 0000 to 9999 at `options.now`; [`crate::Error::Internal`]
/// when the plan names something `schema` lacks.
pub fn to_sql(
    plan: &Plan,
    schema: &Schema,
    dialect: &dyn Dialect,
    options: &SqlOptions,
) -> Result<SqlQuery> {
    on_big_stack(plan, || generate(plan, schema, dialect, options))
}

/// Compiles `plan` to the `SELECT` of a database view (SPEC §7): every
/// field of the root entity, as its column (named as the column, holding
/// the stored value: choice codes, not labels), of the matching records.
/// The statement has no parameters: literals are the dialect's escaped SQL
/// literals ([`Dialect::literal`]) and `now`/`today` are expressions of the
/// database's clock ([`Dialect::now_plus_seconds`] and friends), so the
/// view follows the time it is read at. Rows are not ordered; readers
/// order what they read.
///
/// Errors: [`crate::Error::InvalidValue`] when a relative time leaves the
/// years 0000 to 9999 at `checked_at` (the time the view is made), or when
/// the dialect cannot hold a text literal (PostgreSQL and U+0000);
/// [`crate::Error::Internal`] when the plan names something `schema` lacks.
pub fn to_view_sql(
    plan: &Plan,
    schema: &Schema,
    dialect: &dyn Dialect,
    checked_at: DateTime<Utc>,
) -> Result<SqlQuery> {
    on_big_stack(plan, || generate_view(plan, schema, dialect, checked_at))
}

/// Runs `generate` on the caller's thread for shallow plans, on a thread
/// with a big stack for deep ones: generation recurses once per plan level
/// (up to MAX_PLAN_DEPTH), and the caller's stack size must not matter.
fn on_big_stack(
    plan: &Plan,
    generate: impl FnOnce() -> Result<SqlQuery> + Send,
) -> Result<SqlQuery> {
    if !reaches_depth(&plan.filter, INLINE_DEPTH) {
        return generate();
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("segql-sql".into())
            .stack_size(BIG_STACK)
            .spawn_scoped(scope, generate)
            .map_err(|e| crate::Error::Internal {
                message: format!("cannot start the SQL generator thread: {e}"),
            })?;
        handle.join().unwrap_or_else(|_| {
            Err(crate::Error::Internal {
                message: "the SQL generator thread panicked".into(),
            })
        })
    })
}

/// Whether `expr` is at least `levels` deep, as [`crate::plan::depth`]
/// counts (a lone leaf is 1 deep, a segment reference no level of its
/// own): that measure walks the whole plan, keeping every pending node in
/// a list, where this one recurses at most `levels` deep and stops at the
/// first path that long. Shallow plans, the common case, are still read
/// through, but without the list (a twentieth of the SQL stage on a
/// segment of 10,000 nodes).
fn reaches_depth(mut expr: &PlanExpr, levels: usize) -> bool {
    if levels <= 1 {
        return true;
    }
    // A chain of segment references, however long, is no level: a loop.
    while let PlanExpr::Segment(segment) = expr {
        expr = &segment.filter;
    }
    let below = levels - 1;
    match expr {
        PlanExpr::Not(inner) => reaches_depth(inner, below),
        PlanExpr::And(items) | PlanExpr::Or(items) => {
            items.iter().any(|item| reaches_depth(item, below))
        }
        PlanExpr::Related(related) => reaches_depth(&related.filter, below),
        // Hop `i`'s filter sits `1 + i` levels down.
        PlanExpr::Aggregate(test) => (test.aggregate.chain.iter().enumerate())
            .any(|(i, hop)| reaches_depth(&hop.filter, below.saturating_sub(i))),
        PlanExpr::Const(_) | PlanExpr::Field(_) | PlanExpr::Segment(_) => false,
    }
}

/// Whether `filter` is `key IN (SELECT ...)` and nothing else.
fn is_key_in_list(filter: &SqlExpr, key: &str) -> bool {
    match filter {
        SqlExpr::In(set) => set.outer == key,
        SqlExpr::Grouped(grouped) => {
            matches!(grouped.membership, tree::Membership::In) && grouped.outer == key
        }
        _ => false,
    }
}

/// Plans up to this depth are compiled on the caller's thread.
const INLINE_DEPTH: usize = 32;
/// Stack for deeper plans: a debug build takes some 10 KB per plan level;
/// only what is used is ever committed.
const BIG_STACK: usize = 64 << 20;

fn generate(
    plan: &Plan,
    schema: &Schema,
    dialect: &dyn Dialect,
    options: &SqlOptions,
) -> Result<SqlQuery> {
    let root = entity(schema, &plan.entity)?;
    let mut generator = Generator::new(schema, dialect, options.now);
    generator.correlate = generator::pins_the_key(&plan.filter, root);
    generator.join_keys_under_or = dialect.joins_has_under_or() && !generator.correlate;
    let scope = Scope {
        entity: root,
        depth: 0,
        next: 1,
        joined: false,
    };
    let joins = root_joins::join_required_parents(&mut generator, &plan.filter, &scope)?;
    let filter = generator.expr(&plan.filter, &scope, false)?;
    let key = format!(
        "{}.{}",
        scope.alias(),
        generator.quote(&column(root, &root.key)?)
    );
    let mut sql = String::new();
    sql.push_str("SELECT ");
    sql.push_str(if options.count { "COUNT(*)" } else { &key });
    sql.push_str(&format!(
        "\nFROM {} AS {}",
        generator.quote(&root.table),
        scope.alias()
    ));
    sql.push_str(&joins);
    for clause in &generator.joined_keys {
        sql.push_str(clause);
    }
    let filtered = filter != SqlExpr::Const(true);
    if filtered {
        sql.push_str("\nWHERE ");
        Renderer { dialect }.expr(&filter, 2, &mut sql);
    }
    if !options.count {
        // A `WHERE` that is the key's membership in a subquery's list is
        // searched key by key from the list, in key order: no row is
        // fetched at random, and a sort would only cost time (0.5 s for
        // the 375,000 contacts of `sum(..) > 10000` at 1M on SQLite).
        let from_list = is_key_in_list(&filter, &key);
        let order = dialect.order_by_key(&key, filtered && !from_list);
        sql.push_str(&format!("\nORDER BY {order}"));
    }
    Ok(SqlQuery {
        sql,
        params: generator.params,
        integer_sums: generator.integer_sums,
        settings: generator.settings,
    })
}

fn generate_view(
    plan: &Plan,
    schema: &Schema,
    dialect: &dyn Dialect,
    checked_at: DateTime<Utc>,
) -> Result<SqlQuery> {
    let root = entity(schema, &plan.entity)?;
    let mut generator = Generator::with_literals(schema, dialect, Literals::Inline { checked_at });
    let scope = Scope {
        entity: root,
        depth: 0,
        next: 1,
        joined: false,
    };
    let filter = generator.expr(&plan.filter, &scope, false)?;
    let columns: Vec<String> = root
        .fields
        .iter()
        .map(|field| {
            let name = generator.quote(&field.column);
            format!("{}.{name} AS {name}", scope.alias())
        })
        .collect();
    let mut sql = format!(
        "SELECT {}\nFROM {} AS {}",
        columns.join(",\n  "),
        generator.quote(&root.table),
        scope.alias()
    );
    if filter != SqlExpr::Const(true) {
        sql.push_str("\nWHERE ");
        Renderer { dialect }.expr(&filter, 2, &mut sql);
    }
    Ok(SqlQuery {
        sql,
        params: generator.params,
        integer_sums: generator.integer_sums,
        settings: generator.settings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{
        depth, Aggregate, AggregateFn, AggregateTest, Direction, Hop, Link, Quantifier, Related,
        SegmentRef, Test,
    };

    fn link() -> Link {
        Link {
            relationship: "r".into(),
            direction: Direction::ToChildren,
            from: "a".into(),
            to: "b".into(),
        }
    }

    /// A plan of every kind of node, `seed` picking the shape, at most
    /// `levels` deep along each path.
    fn shape(seed: u64, levels: usize) -> PlanExpr {
        let next = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if levels <= 1 {
            return PlanExpr::Const(true);
        }
        let inner = |k: u64| shape(next ^ k, levels - 1 - (next as usize >> 7 & 1));
        match next >> 60 & 7 {
            0 => PlanExpr::Not(Box::new(inner(1))),
            1 => PlanExpr::And(vec![inner(1), PlanExpr::Const(false), inner(2)]),
            2 => PlanExpr::Or(vec![inner(3)]),
            3 => PlanExpr::Segment(SegmentRef {
                name: "s".into(),
                filter: Box::new(shape(next, levels)),
            }),
            4 => PlanExpr::Related(Related {
                link: link(),
                quantifier: Quantifier::Any,
                filter: Box::new(inner(4)),
            }),
            5 => PlanExpr::Aggregate(AggregateTest {
                aggregate: Aggregate {
                    function: AggregateFn::Count,
                    chain: (0..3)
                        .map(|i| Hop {
                            link: link(),
                            filter: shape(next ^ i, levels.saturating_sub(1 + i as usize)),
                        })
                        .collect(),
                    field: None,
                },
                test: Test::IsNotNull,
            }),
            _ => PlanExpr::Const(false),
        }
    }

    #[test]
    fn the_bounded_depth_check_agrees_with_the_plan_depth() {
        for seed in 0..2_000 {
            let plan = shape(seed, 1 + (seed % 40) as usize);
            let deep = depth(&plan);
            for levels in [1, 2, 3, deep - 1, deep, deep + 1, INLINE_DEPTH] {
                assert_eq!(
                    reaches_depth(&plan, levels),
                    deep >= levels,
                    "seed {seed}, {levels} levels, depth {deep}: {plan:?}"
                );
            }
        }
        // A long chain of segment references is no level, and no recursion.
        let mut chain = PlanExpr::Not(Box::new(PlanExpr::Const(true)));
        for _ in 0..100_000 {
            chain = PlanExpr::Segment(SegmentRef {
                name: "s".into(),
                filter: Box::new(chain),
            });
        }
        assert!(reaches_depth(&chain, 2) && !reaches_depth(&chain, 3));
        // (Dropped on a big stack: dropping recurses.)
        std::thread::Builder::new()
            .stack_size(BIG_STACK)
            .spawn(move || drop(chain))
            .unwrap()
            .join()
            .unwrap();
    }
}
