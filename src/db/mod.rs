//! Databases: one [`Backend`] trait, one driver file per database, and the
//! registry that finds a database by name or by a `--db` spec.
//!
//! A driver is a thin adapter: it opens a connection, reads its catalog (to
//! check a plan's layout), runs compiled queries and holds transactions. What
//! SQL to write comes from the driver's one [`Dialect`] in `crate::sql`; what
//! to do (run a plan, link orphans, update) is written once, over the trait.
//!
//! | file          | database                                          |
//! |---------------|---------------------------------------------------|
//! | `sqlite.rs`   | SQLite files (rusqlite), the only memory-engine source |
//! | `postgres.rs` | PostgreSQL (`postgresql://` URLs, the `postgres` crate) |
//! | `spark.rs`    | Spark: the `sc://` specs (Spark Connect), refusals of writing, of `spark://` and of a build without the `spark` feature |
//! | `spark_connect.rs` | Spark through Spark Connect (`apache-spark-connect`, cargo feature `spark`), read-only |
//! | `layout.rs`   | the tables and columns a plan needs, checked against a catalog |
//! | `scan.rs`     | whole tables read typed, for copying data out (`segql export`) |

// The crate's one error type is large by design (spans, suggestions); these
// functions return it once per call, never in a loop that would feel its size.
#![allow(clippy::result_large_err)]

mod layout;
mod pause;
pub mod postgres;
mod scan;
mod spark;
#[cfg(feature = "spark")]
mod spark_connect;
pub mod sqlite;

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use self::postgres::PostgresBackend;
pub use self::scan::Row;
pub use self::sqlite::SqliteBackend;

use crate::error::{Error, Result};
use crate::eval::{Store, StoreCache, StoreSource};
use crate::plan::{Plan, RecordValues};
use crate::schema::{Entity, Field, FieldType, Schema};
use crate::sql::{self, Dialect, SqlOptions, SqlParam, SqlQuery};

/// How long a data-changing operation waits for a lock held by another writer
/// before it gives up with a clear error (SQLite busy timeout, PostgreSQL
/// `lock_timeout`). Bounded, so a concurrent writer never makes a run hang.
pub const LOCK_WAIT: Duration = Duration::from_secs(3);

/// One database segql can query and change.
pub trait Backend {
    /// The SQL this database speaks.
    fn dialect(&self) -> &'static dyn Dialect;

    /// Checks that the database has every table and column `plan` uses (as
    /// `schema` maps them); the error names what is missing.
    fn verify_layout(&mut self, schema: &Schema, plan: &Plan) -> Result<()>;

    /// Runs a query compiled for [`Backend::dialect`]; the ids it selects,
    /// in its order.
    fn query_ids(&mut self, query: &SqlQuery) -> Result<Vec<Uuid>>;

    /// Runs a query compiled with `count: true`; the count.
    fn query_count(&mut self, query: &SqlQuery) -> Result<u64>;

    /// Runs a query of [`crate::sql::per_record_sql`]: the ids (first
    /// column) and `columns` integer values per row, in its order.
    fn query_values(&mut self, query: &SqlQuery, columns: usize) -> Result<RecordValues>;

    /// Runs `work` in one transaction that holds off other writers, waiting
    /// at most [`LOCK_WAIT`] for them; commits, or rolls back on `dry_run`
    /// or an error. Use [`in_transaction`], which also returns a value.
    fn transaction(
        &mut self,
        dry_run: bool,
        work: &mut dyn FnMut(&mut dyn Transaction) -> Result<()>,
    ) -> Result<()>;

    /// Executes `statements` (DDL, say) in one transaction.
    fn execute_batch(&mut self, statements: &str) -> Result<()>;

    /// The stored values of `fields` of the records of `entity` with `ids`,
    /// as text (date-times in the SQLite layout's form), in id order.
    fn records(
        &mut self,
        entity: &Entity,
        fields: &[&Field],
        ids: &[Uuid],
    ) -> Result<Vec<Vec<Option<String>>>>;

    /// Every record of `entity`, in key order, handed to `each` one at a
    /// time: the values of `fields` as their types read them (`None` for
    /// NULL; uuids as [`SqlParam::Uuid`], text as `Text`, integers and
    /// choice codes as `Integer`, decimals as `Real`, then `Bool`, `Date`,
    /// `DateTime`). A value not in its type's stored form is an
    /// [`Error::Database`] naming the table, column and record. What
    /// `segql export` copies out; [`Error::Unavailable`] where a database
    /// cannot be read this way.
    fn scan(
        &mut self,
        entity: &Entity,
        _fields: &[&Field],
        _each: &mut dyn FnMut(Row<'_>) -> Result<()>,
    ) -> Result<()> {
        Err(Error::Unavailable {
            message: format!(
                "segql cannot read the table '{}' of a {} database row by row",
                entity.table,
                self.dialect().name()
            ),
        })
    }

    /// Loads the memory engine's store: with a plan only what it needs,
    /// without one everything. [`Error::Unavailable`] where the memory engine
    /// cannot read this database.
    fn load_store(&mut self, schema: &Schema, plan: Option<&Plan>) -> Result<Store>;

    /// The indexes of `table` that serve every row (partial indexes are
    /// left out), each with its columns in order; reads the catalog only.
    /// Empty for a table without indexes or without a table.
    /// [`Error::Unavailable`] where the catalog cannot be read.
    fn indexes(&mut self, _table: &str) -> Result<Vec<TableIndex>> {
        Err(Error::Unavailable {
            message: format!(
                "reading the indexes of {} is not supported; use a SQLite file or a postgresql:// URL",
                self.dialect().name()
            ),
        })
    }

    /// Whether the query planner has statistics on `table` (`ANALYZE` has
    /// run on it); reads the catalog only.
    fn has_statistics(&mut self, _table: &str) -> Result<bool> {
        Err(Error::Unavailable {
            message: format!(
                "reading the planner statistics of {} is not supported; use a SQLite file or a postgresql:// URL",
                self.dialect().name()
            ),
        })
    }

    /// [`Backend::load_store`] through a cache of snapshots where this
    /// database can have them (SQLite files); elsewhere a fresh load.
    fn load_store_cached(
        &mut self,
        schema: &Schema,
        plan: Option<&Plan>,
        _cache: &StoreCache,
    ) -> Result<(Store, StoreSource)> {
        Ok((self.load_store(schema, plan)?, StoreSource::Database))
    }

    /// Compiles `plan` for this database, to be run on it now: where the
    /// fastest SQL depends on the data, with what the database tells of it
    /// (PostgreSQL: [`sql::root_or_counts`]). The records are those of
    /// [`sql::to_sql`] with the same options, which is the default.
    fn compile_query(
        &mut self,
        schema: &Schema,
        plan: &Plan,
        options: SqlOptions,
    ) -> Result<SqlQuery> {
        sql::to_sql(plan, schema, self.dialect(), &options)
    }

    /// The ids of `plan`'s records at reference time `now`, ascending:
    /// checks the layout, compiles for this database and runs.
    fn ids(&mut self, schema: &Schema, plan: &Plan, now: DateTime<Utc>) -> Result<Vec<Uuid>> {
        let query = checked_query(self, schema, plan, SqlOptions::new(false, now))?;
        self.query_ids(&query)
    }

    /// The number of `plan`'s records, counted by the database.
    fn count(&mut self, schema: &Schema, plan: &Plan, now: DateTime<Utc>) -> Result<u64> {
        let query = checked_query(self, schema, plan, SqlOptions::new(true, now))?;
        self.query_count(&query)
    }

    /// The column type a field is stored as, for DDL.
    fn column_type(&self, ty: &FieldType) -> &'static str {
        self.dialect().column_type(ty)
    }

    /// A value as an SQL literal of this database (for views and DDL).
    fn literal(&self, value: &SqlParam) -> String {
        self.dialect().literal(value)
    }
}

/// A bind parameter of a data-changing statement. The drivers send it in the
/// form the statement expects (see [`Dialect::text_param`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
}

/// One open transaction (see [`Backend::transaction`]).
pub trait Transaction {
    fn dialect(&self) -> &'static dyn Dialect;

    /// Runs one statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64>;

    /// Runs a query whose columns the statement casts to text.
    fn query_text(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Option<String>>>>;

    /// Fills the (new) temporary table `table(n, id)` with `ids`,
    /// numbered from 1, without a round trip per row.
    fn fill_numbered_ids(&mut self, table: &str, ids: &[Uuid]) -> Result<()>;

    /// Runs a query compiled with `count: true`, inside the transaction;
    /// the count.
    fn query_count(&mut self, query: &SqlQuery) -> Result<u64>;

    /// Runs `sql`, a statement around a compiled query's text (an `INSERT
    /// ... SELECT`, say), with that query's parameters; the rows changed.
    fn execute_query(&mut self, sql: &str, query: &SqlQuery) -> Result<u64>;

    /// Creates the temporary table `table(id)` and fills it with the ids the
    /// compiled query selects, inside the database; the number of ids.
    fn fill_ids_from_query(&mut self, table: &str, query: &SqlQuery) -> Result<u64>;

    /// The column names of `table`, or `None` when there is no such table.
    fn columns(&mut self, table: &str) -> Result<Option<Vec<String>>>;

    /// Keeps other writers off `tables` (already quoted) until the
    /// transaction ends, letting readers go on.
    ///
    /// An operation calls it before anything else it sends: every read
    /// after it then sees one state of the database, the one left by the
    /// writers that were waited for. (SQLite: the write lock is taken at
    /// `BEGIN IMMEDIATE`. PostgreSQL: the transaction is `REPEATABLE READ`,
    /// whose snapshot is taken by its first query, so a query before the
    /// lock would read, and later write over, a state older than the lock.)
    /// A missing table is an [`Error::Database`] naming it.
    fn lock_for_writing(&mut self, tables: &[&str]) -> Result<()>;

    /// [`Backend::verify_layout`], inside the transaction.
    fn verify_layout(&mut self, schema: &Schema, plan: &Plan) -> Result<()>;

    /// What the unqualified name `name` denotes where this database
    /// creates views (SQLite: the main database, names compared ignoring
    /// ASCII case as SQLite does; PostgreSQL: what the `search_path`
    /// resolves it to), or `None` when it is free.
    fn relation(&mut self, name: &str) -> Result<Option<Relation>>;

    /// The other views that read the view `name`, which replacing or
    /// dropping it would break, by name (ascending).
    fn dependent_views(&mut self, name: &str) -> Result<Vec<String>>;

    /// [`Backend::load_store`], inside the transaction: the store holds
    /// exactly the data the transaction sees, so what is computed from it
    /// and then written cannot miss a concurrent writer's commit.
    /// [`Error::Unavailable`] where the memory engine cannot read this
    /// database.
    fn load_store(&mut self, _schema: &Schema, _plan: Option<&Plan>) -> Result<Store> {
        Err(Error::Unavailable {
            message: "the memory engine loads SQLite databases; use --engine sqlite with a postgresql:// URL".into(),
        })
    }

    /// Called once the work is done, before the commit or rollback: the one
    /// place inside every data-changing transaction, where the test-only
    /// pause `SEGQL_TEST_PAUSE=before_commit` holds (see `src/db/pause.rs`).
    /// Does nothing in the drivers.
    fn before_end(&mut self) -> Result<()> {
        Ok(())
    }
}

/// An index as the database's catalog describes it ([`Backend::indexes`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TableIndex {
    pub name: String,
    /// The indexed columns in order; `None` for an expression.
    pub columns: Vec<Option<String>>,
}

impl TableIndex {
    /// Whether the index starts with `columns`, in that order (names
    /// compared ignoring ASCII case): such an index serves every search an
    /// index on `columns` alone would.
    pub fn starts_with(&self, columns: &[String]) -> bool {
        columns.len() <= self.columns.len()
            && columns.iter().zip(&self.columns).all(|(wanted, found)| {
                found
                    .as_deref()
                    .is_some_and(|found| found.eq_ignore_ascii_case(wanted))
            })
    }
}

/// What a name in a database's catalog is (see [`Transaction::relation`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Relation {
    /// A table (PostgreSQL: also a partitioned or foreign table).
    Table,
    /// A view that a new view of that name may replace.
    View,
    /// Something else holding the name, as the database calls it (`index`,
    /// `sequence`, `materialized view`, a view of another schema, ...).
    Other(String),
}

/// Runs `work` in one transaction of `db` ([`Backend::transaction`]) and
/// returns what it returns. The one entry of the data-changing operations,
/// and so the one place of the test-only pause points (`src/db/pause.rs`).
pub fn in_transaction<T>(
    db: &mut dyn Backend,
    dry_run: bool,
    work: impl FnOnce(&mut dyn Transaction) -> Result<T>,
) -> Result<T> {
    let mut work = Some(work);
    let mut done = None;
    db.transaction(dry_run, &mut |tx| {
        let work = work.take().ok_or_else(|| Error::Internal {
            message: "a transaction ran its work twice".into(),
        })?;
        match pause::requested() {
            None => {
                done = Some(work(tx)?);
                tx.before_end()
            }
            // Test-only: the environment asked for a pause inside the
            // transaction (src/db/pause.rs).
            Some(pause) => {
                let mut tx = pause::Pausing {
                    inner: tx,
                    pause,
                    dry_run,
                    wrote: false,
                };
                done = Some(work(&mut tx)?);
                tx.before_end()
            }
        }
    })?;
    done.ok_or_else(|| Error::Internal {
        message: "a transaction ended without running its work".into(),
    })
}

/// Whether to open a database for writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

/// A database segql knows: its name (as `--dialect` takes it), its dialect,
/// the URL schemes of its `--db` specs and how to open one.
struct Driver {
    name: &'static str,
    dialect: &'static dyn Dialect,
    /// Prefixes of the specs it opens; a driver with none opens files.
    schemes: &'static [&'static str],
    open: fn(&str, Access) -> Result<Box<dyn Backend>>,
}

/// The registry: one line per database. Spark's driver runs read-only
/// queries, and only in a build with the `spark` feature (see `spark.rs`).
const DRIVERS: &[Driver] = &[sqlite::DRIVER, postgres::DRIVER, spark::DRIVER];

/// The names of the dialects, in the registry's order.
pub fn dialect_names() -> Vec<&'static str> {
    DRIVERS.iter().map(|d| d.name).collect()
}

/// The dialect named `name` (`sqlite`, `postgres`, `spark`).
pub fn dialect(name: &str) -> Option<&'static dyn Dialect> {
    DRIVERS.iter().find(|d| d.name == name).map(|d| d.dialect)
}

/// Every dialect with its name, in the registry's order.
pub fn dialects() -> impl Iterator<Item = (&'static str, &'static dyn Dialect)> {
    DRIVERS.iter().map(|d| (d.name, d.dialect))
}

/// Opens the database `spec` names: a URL whose scheme a driver claims
/// (`postgresql://`, `postgres://`), otherwise a database file, which must
/// exist (a typo must not silently create an empty database). Errors are
/// [`Error::Unavailable`] with the reason.
pub fn open(spec: &str, access: Access) -> Result<Box<dyn Backend>> {
    let by_scheme = DRIVERS
        .iter()
        .find(|d| d.schemes.iter().any(|s| spec.starts_with(s)));
    let driver = match by_scheme {
        Some(driver) => driver,
        None => DRIVERS
            .iter()
            .find(|d| d.schemes.is_empty())
            .ok_or_else(|| Error::Internal {
                message: "no database driver opens files".into(),
            })?,
    };
    (driver.open)(spec, access)
}

/// `plan` compiled for `db`, once its layout is checked.
fn checked_query<B: Backend + ?Sized>(
    db: &mut B,
    schema: &Schema,
    plan: &Plan,
    options: SqlOptions,
) -> Result<SqlQuery> {
    db.verify_layout(schema, plan)?;
    db.compile_query(schema, plan, options)
}

/// The error of running `query` on a database of `dialect`:
/// [`Error::SumOverflow`], naming the query's integer sums, when the
/// database reports that one left the i64 range
/// ([`Dialect::is_sum_overflow`]); otherwise `error` itself.
pub(crate) fn query_error(dialect: &dyn Dialect, query: &SqlQuery, error: Error) -> Error {
    let Error::Database { message } = &error else {
        return error;
    };
    if query.integer_sums.is_empty() || !dialect.is_sum_overflow(message) {
        return error;
    }
    let mut names: Vec<&str> = Vec::new();
    for name in &query.integer_sums {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    Error::SumOverflow {
        aggregate: names.join(" or "),
    }
}

/// The first column of a catalog query's rows: names, or `None` when there
/// are none (no such table).
fn names(rows: Vec<Vec<Option<String>>>) -> Option<Vec<String>> {
    let names: Vec<String> = rows
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect();
    (!names.is_empty()).then_some(names)
}

/// A count from the database as a `u64`.
fn count(count: i64) -> Result<u64> {
    u64::try_from(count).map_err(|_| Error::Database {
        message: format!("the database returned a negative count ({count})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_knows_every_dialect_by_name() {
        assert_eq!(dialect_names(), ["sqlite", "postgres", "spark"]);
        assert_eq!(dialect("postgres").map(|d| d.name()), Some("postgres"));
        assert_eq!(dialect("spark").map(|d| d.name()), Some("spark"));
        assert!(dialect("oracle").is_none());
    }

    #[test]
    #[cfg(not(feature = "spark"))]
    fn spark_specs_are_refused_with_what_to_do() {
        for spec in ["sc://127.0.0.1:15002", "spark://127.0.0.1:7077"] {
            let err = open(spec, Access::ReadOnly).err().unwrap();
            assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
            let message = err.to_string();
            assert!(message.contains(spec), "{message}");
            assert!(message.contains("--dialect spark"), "{message}");
        }
    }

    #[test]
    fn a_missing_file_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.db");
        let spec = path.to_str().unwrap();
        let err = open(spec, Access::ReadWrite).err().unwrap();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn literals_are_escaped_and_typed() {
        let pg = &sql::Postgres;
        assert_eq!(pg.literal(&SqlParam::Text("it's".into())), "'it''s'");
        assert_eq!(pg.literal(&SqlParam::Real(2.0)), "2.0");
        assert_eq!(pg.stored_bool(true), "true");
        assert_eq!(sql::Sqlite.stored_bool(true), "1");
        let day = chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        assert_eq!(pg.literal(&SqlParam::Date(day)), "DATE '2024-05-01'");
        assert_eq!(
            sql::Sqlite.literal(&sql::Sqlite.date_param(day)),
            "'2024-05-01'"
        );
    }
}
