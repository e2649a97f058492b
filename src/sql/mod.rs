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
mod prefixes;
mod root_joins;
pub mod root_or_counts;
pub mod spark;
pub mod sqlite;
mod tree;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

pub use self::dialect::{is_plain_ident, Dialect, Selection};
pub use self::per_record::{per_record_select, per_record_sql, value_column};
pub use self::postgres::Postgres;
pub use self::root_or_counts::RootOrCounts;
pub use self::spark::Spark;
pub use self::sqlite::Sqlite;

pub(crate) use self::generator::{column, entity};
use self::generator::{Generator, Literals, Scope};
use self::tree::{Renderer, SqlExpr};
use crate::error::Result;
use crate::plan::{reaches_depth, Plan, PlanExpr};
use crate::schema::Schema;

/// What to compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqlOptions {
    /// `SELECT COUNT(*)` instead of the ids.
    pub count: bool,
    /// The reference time that `now` and `today` in the query mean; it
    /// becomes bind parameters, never the database's clock.
    pub now: DateTime<Utc>,
    /// How a counted `has` of the root's children under a root `or`
    /// written for a scan is counted (PostgreSQL; see [`RootOrCounts`]).
    /// A runner that can ask the database chooses it
    /// ([`root_or_counts::choose`]); [`SqlOptions::new`] leaves the groups.
    pub root_or_counts: RootOrCounts,
}

impl SqlOptions {
    /// Options for the ids (`count: false`) or their number, at reference
    /// time `now`, every other choice left as `compile` makes it.
    pub fn new(count: bool, now: DateTime<Utc>) -> SqlOptions {
        SqlOptions {
            count,
            now,
            root_or_counts: RootOrCounts::Groups,
        }
    }
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
    /// rarely run fallback, or a subquery under a root `OR` costed as run
    /// for every row, would make its planner compile the whole query
    /// ([`Dialect::settings_for_rare_fallbacks`],
    /// [`Dialect::settings_for_root_or_subqueries`]). The answer is the
    /// same without them. Not part of the query itself.
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
    on_big_stack(plan, || generate(plan, schema, dialect, options, None))
}

/// [`to_sql`] over a sample of the root's table: `sample` (a clause such
/// as PostgreSQL's `TABLESAMPLE SYSTEM (2)`) is written after the root
/// table's alias. For estimates only ([`root_or_counts`]).
pub(crate) fn to_sampled_sql(
    plan: &Plan,
    schema: &Schema,
    dialect: &dyn Dialect,
    options: &SqlOptions,
    sample: &str,
) -> Result<SqlQuery> {
    on_big_stack(plan, || {
        generate(plan, schema, dialect, options, Some(sample))
    })
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

/// How a query's root `WHERE` is written, as far as it decides how the
/// subqueries under it are (see the [`Generator`] fields of the same
/// names).
struct RootForm {
    /// The root is pinned to a few keys: every subquery correlated.
    correlate: bool,
    /// An `OR` of `has` of the root's children alone, as one list.
    lists_root_or: bool,
    /// An `OR` written for a scan of the root's table.
    scans_root_or: bool,
}

impl RootForm {
    fn of(filter: &PlanExpr, root: &crate::schema::Entity, dialect: &dyn Dialect) -> RootForm {
        let correlate = generator::pins_the_key(filter, root);
        let lists_root_or = dialect.lists_an_or_of_children()
            && !correlate
            && generator::is_or_of_child_lists(filter);
        let scans_root_or =
            dialect.scans_for_a_root_or() && !correlate && !lists_root_or && is_disjunction(filter);
        RootForm {
            correlate,
            lists_root_or,
            scans_root_or,
        }
    }
}

/// Whether `filter`, a query's root `WHERE`, is an `OR` of two or more
/// conditions once negations are pushed down (`not (a and b)` is one).
fn is_disjunction(filter: &PlanExpr) -> bool {
    root_or_operands(filter).is_some_and(|(items, _)| items.len() > 1)
}

/// The operands of `filter`'s `OR` once negations are pushed down, and
/// whether each stands negated (`not (a and b)` is `not a or not b`);
/// `None` where it is no `OR`.
fn root_or_operands(filter: &PlanExpr) -> Option<(&[PlanExpr], bool)> {
    let mut negated = false;
    let mut filter = filter;
    loop {
        match filter {
            PlanExpr::Not(inner) => {
                negated = !negated;
                filter = inner;
            }
            PlanExpr::Segment(segment) => filter = &segment.filter,
            PlanExpr::Or(items) if !negated => return Some((items, false)),
            PlanExpr::And(items) if negated => return Some((items, true)),
            _ => return None,
        }
    }
}

/// Moves the conditions of every `AND` and `OR` in `filter` that read only
/// the row's own columns before those with subqueries, keeping the order
/// within each; returns whether `filter` has a subquery. Databases test
/// the operands of a nested `AND` or `OR` in the order written (PostgreSQL
/// orders only a scan's top-level `AND` by cost) and stop at the first
/// that decides, so a subquery is then probed only for the rows no cheaper
/// test decided. Both are commutative: the records are the same.
fn own_row_tests_first(filter: &mut SqlExpr) -> bool {
    let items = match filter {
        SqlExpr::And(items) | SqlExpr::Or(items) => items,
        leaf => return has_subquery(leaf),
    };
    let (mut any, mut all) = (false, true);
    for item in items.iter_mut() {
        let reads = own_row_tests_first(item);
        any |= reads;
        all &= reads;
    }
    if any && !all {
        // A stable sort, of only the junctions that mix both kinds. The
        // standard library sorts up to 20 items in place (an insertion
        // sort); the cached keys would be an allocation for each of the
        // 10,000-node bench segment's 850 mixed pairs. Past that, each
        // key is found once.
        if items.len() <= 20 {
            items.sort_by_key(has_subquery);
        } else {
            items.sort_by_cached_key(has_subquery);
        }
    }
    any
}

/// Whether `filter` reads a table besides the row's own: the answer of
/// [`own_row_tests_first`], without reordering.
fn has_subquery(filter: &SqlExpr) -> bool {
    match filter {
        SqlExpr::And(items) | SqlExpr::Or(items) => items.iter().any(has_subquery),
        SqlExpr::Const(_) | SqlExpr::Atom(_) => false,
        SqlExpr::Exists { .. }
        | SqlExpr::In(_)
        | SqlExpr::Count(_)
        | SqlExpr::Grouped(_)
        | SqlExpr::CheckedSum(_) => true,
    }
}

/// Whether `filter` is `key IN (SELECT ...)` and nothing else.
fn is_key_in_list(filter: &SqlExpr, key: &str, text: &tree::Texts) -> bool {
    match filter {
        SqlExpr::In(set) => set.outer.of(text) == key,
        SqlExpr::Grouped(grouped) => {
            matches!(grouped.membership, tree::Membership::In) && grouped.outer.of(text) == key
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
    root_sample: Option<&str>,
) -> Result<SqlQuery> {
    let root = entity(schema, &plan.entity)?;
    let mut generator = Generator::new(schema, dialect, options.now);
    let form = RootForm::of(&plan.filter, root, dialect);
    generator.correlate = form.correlate;
    generator.lists_root_or = form.lists_root_or;
    generator.scans_root_or = form.scans_root_or;
    generator.counts_per_row = options.root_or_counts == RootOrCounts::PerRow;
    generator.join_keys_under_or = dialect.joins_has_under_or()
        && !generator.correlate
        && !generator.scans_root_or
        && !generator.lists_root_or;
    let scope = Scope {
        entity: root,
        depth: 0,
        next: 1,
        joined: false,
    };
    let joins = root_joins::join_required_parents(&mut generator, &plan.filter, &scope)?;
    let mut filter = generator.expr(&plan.filter, &scope, false)?;
    if generator.scans_root_or && own_row_tests_first(&mut filter) {
        for setting in dialect.settings_for_root_or_subqueries() {
            if !generator.settings.contains(setting) {
                generator.settings.push(*setting);
            }
        }
    }
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
    if let Some(sample) = root_sample {
        sql.push(' ');
        sql.push_str(sample);
    }
    sql.push_str(&joins);
    for clause in &generator.joined_keys {
        sql.push_str(clause);
    }
    let filtered = filter != SqlExpr::Const(true);
    if filtered {
        sql.push_str("\nWHERE ");
        let text = &generator.text;
        Renderer { dialect, text }.expr(&filter, 2, &mut sql);
    }
    if !options.count {
        // A `WHERE` that is the key's membership in a subquery's list is
        // searched key by key from the list, in key order: no row is
        // fetched at random, and a sort would only cost time (0.5 s for
        // the 375,000 contacts of `sum(..) > 10000` at 1M on SQLite).
        let selection = if !filtered {
            Selection::All
        } else if is_key_in_list(&filter, &key, &generator.text) {
            Selection::KeyList
        } else if generator.scans_root_or && matches!(filter, SqlExpr::Or(_)) {
            Selection::Disjunction
        } else {
            Selection::Filter
        };
        let order = dialect.order_by_key(&key, selection);
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
        let text = &generator.text;
        Renderer { dialect, text }.expr(&filter, 2, &mut sql);
    }
    Ok(SqlQuery {
        sql,
        params: generator.params,
        integer_sums: generator.integer_sums,
        settings: generator.settings,
    })
}
