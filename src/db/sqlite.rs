//! The SQLite driver (rusqlite), over the [`sql::Sqlite`] dialect.
//!
//! Transactions start with `BEGIN IMMEDIATE`: the write lock up front, so no
//! other writer can slip in between a run's reads and writes, waiting at most
//! [`LOCK_WAIT`] for it (the busy timeout is set on the connection).
//!
//! A database opened here gets a page cache of [`CACHE_KIB`] for its own
//! pages and as much again for temporary tables (see [`tune`]); a connection
//! handed in by the caller keeps the caller's settings unless it calls
//! [`tune`].

use std::borrow::Borrow;
use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use uuid::Uuid;

use super::layout::{self, CatalogColumn};
use super::{Access, Backend, Driver, Param, Relation, TableIndex, Transaction, LOCK_WAIT};
use crate::error::{Error, Result};
use crate::eval::{Store, StoreCache, StoreSource};
use crate::plan::Plan;
use crate::plan::RecordValues;
use crate::schema::{Entity, Field, Schema};
use crate::sql::sqlite::{DATETIME_FORMAT, DATE_FORMAT};
use crate::sql::{self, Dialect, SqlParam, SqlQuery};

pub(super) const DRIVER: Driver = Driver {
    name: "sqlite",
    dialect: &sql::Sqlite,
    schemes: &[],
    open,
};

/// A SQLite database: an owned [`Connection`] or a borrowed one
/// (`SqliteBackend::new(&conn)`).
pub struct SqliteBackend<C: Borrow<Connection> = Connection> {
    conn: C,
}

impl<C: Borrow<Connection>> SqliteBackend<C> {
    pub fn new(conn: C) -> Self {
        SqliteBackend { conn }
    }

    /// The connection.
    pub fn connection(&self) -> &Connection {
        self.conn.borrow()
    }
}

/// Opens the database file `spec`, which must exist.
fn open(spec: &str, access: Access) -> Result<Box<dyn Backend>> {
    let path = Path::new(spec);
    if !path.is_file() {
        return Err(Error::Unavailable {
            message: format!(
                "database file {spec} does not exist (create one with `segql demo --out {spec}`)"
            ),
        });
    }
    let flags = match access {
        Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    };
    let conn = Connection::open_with_flags(path, flags).map_err(|e| Error::Unavailable {
        message: format!("cannot open SQLite database {spec}: {e}"),
    })?;
    tune(&conn).map_err(|e| Error::Unavailable {
        message: format!("cannot set up SQLite database {spec}: {e}"),
    })?;
    Ok(Box::new(SqliteBackend::new(conn)))
}

/// The most page cache (KiB, 1 GiB) a connection opened here keeps for the
/// database's pages, and again for its temporary tables. Pages are taken
/// as they are read: a query that touches little holds little.
pub const CACHE_KIB: u32 = 1024 * 1024;

/// SQLite's default page cache is 2 MB. The write commands read and change
/// millions of rows in one transaction: with 2 MB, every page touched was
/// read again and again from the operating system, and the temporary tables
/// of an import spilled to their files. Importing a million leads into the
/// 1M-contact demo database spent 40 s of 95 in the kernel that way; with
/// this cache, 4 s of 47 (see `benches/README.md`).
///
/// `db::open` does this; a caller handing its own connection to
/// [`SqliteBackend::new`] may call it too.
pub fn tune(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA main.cache_size = -{CACHE_KIB}; PRAGMA temp.cache_size = -{CACHE_KIB};"
    ))
}

impl<C: Borrow<Connection>> Backend for SqliteBackend<C> {
    fn dialect(&self) -> &'static dyn Dialect {
        &sql::Sqlite
    }

    fn verify_layout(&mut self, schema: &Schema, plan: &Plan) -> Result<()> {
        verify_layout(self.connection(), schema, plan)
    }

    fn query_ids(&mut self, query: &SqlQuery) -> Result<Vec<Uuid>> {
        query_ids(self.connection(), query).map_err(|e| super::query_error(&sql::Sqlite, query, e))
    }

    fn query_values(&mut self, query: &SqlQuery, columns: usize) -> Result<RecordValues> {
        query_values(self.connection(), query, columns)
            .map_err(|e| super::query_error(&sql::Sqlite, query, e))
    }

    fn query_count(&mut self, query: &SqlQuery) -> Result<u64> {
        let params = params(query);
        let count: i64 = self
            .connection()
            .query_row(
                &query.sql,
                rusqlite::params_from_iter(params.iter()),
                |row| row.get(0),
            )
            .map_err(|e| super::query_error(&sql::Sqlite, query, error(e)))?;
        super::count(count)
    }

    fn indexes(&mut self, table: &str) -> Result<Vec<TableIndex>> {
        indexes(self.connection(), table).map_err(error)
    }

    /// `ANALYZE` writes a row of `sqlite_stat1` per index of a table (one
    /// for the table itself when it has none).
    fn has_statistics(&mut self, table: &str) -> Result<bool> {
        let conn = self.connection();
        let stat1: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1')",
                [],
                |row| row.get(0),
            )
            .map_err(error)?;
        if !stat1 {
            return Ok(false);
        }
        conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = ?1 COLLATE NOCASE)",
            [table],
            |row| row.get(0),
        )
        .map_err(error)
    }

    fn transaction(
        &mut self,
        dry_run: bool,
        work: &mut dyn FnMut(&mut dyn Transaction) -> Result<()>,
    ) -> Result<()> {
        let conn = self.connection();
        conn.busy_timeout(LOCK_WAIT).map_err(write_error)?;
        // The backend may hold a borrowed connection, so the transaction is
        // begun on a shared reference; a backend runs one at a time.
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
            .map_err(write_error)?;
        work(&mut SqliteTx(&tx))?;
        if dry_run {
            tx.rollback().map_err(write_error)
        } else {
            tx.commit().map_err(write_error)
        }
    }

    fn execute_batch(&mut self, statements: &str) -> Result<()> {
        let tx =
            rusqlite::Transaction::new_unchecked(self.connection(), TransactionBehavior::Deferred)
                .map_err(error)?;
        tx.execute_batch(statements).map_err(error)?;
        tx.commit().map_err(error)
    }

    fn records(
        &mut self,
        entity: &Entity,
        fields: &[&Field],
        ids: &[Uuid],
    ) -> Result<Vec<Vec<Option<String>>>> {
        let d = &sql::Sqlite;
        let key = d.quote_ident(&sql::column(entity, &entity.key)?);
        let columns: Vec<String> = fields
            .iter()
            .map(|f| format!("CAST({} AS TEXT)", d.quote_ident(&f.column)))
            .collect();
        let text = format!(
            "SELECT {} FROM {} WHERE {key} IN (SELECT value FROM json_each(?1)) ORDER BY {key}",
            columns.join(", "),
            d.quote_ident(&entity.table),
        );
        let id_list =
            serde_json::to_string(&ids.iter().map(|id| id.to_string()).collect::<Vec<_>>())
                .map_err(|e| Error::Internal {
                    message: e.to_string(),
                })?;
        let mut statement = self.connection().prepare(&text).map_err(error)?;
        let rows = statement
            .query_map([id_list], |row| {
                (0..fields.len())
                    .map(|i| row.get::<_, Option<String>>(i))
                    .collect()
            })
            .map_err(error)?;
        rows.collect::<rusqlite::Result<_>>().map_err(error)
    }

    fn scan(
        &mut self,
        entity: &Entity,
        fields: &[&Field],
        each: &mut dyn FnMut(super::Row<'_>) -> Result<()>,
    ) -> Result<()> {
        super::scan::sqlite(self.connection(), entity, fields, each)
    }

    fn load_store(&mut self, schema: &Schema, plan: Option<&Plan>) -> Result<Store> {
        Store::from_sqlite(self.connection(), schema, plan)
    }

    fn load_store_cached(
        &mut self,
        schema: &Schema,
        plan: Option<&Plan>,
        cache: &StoreCache,
    ) -> Result<(Store, StoreSource)> {
        Store::from_sqlite_cached(self.connection(), schema, plan, cache)
    }
}

fn query_ids(conn: &Connection, query: &SqlQuery) -> Result<Vec<Uuid>> {
    let mut stmt = conn.prepare(&query.sql).map_err(error)?;
    let params = params(query);
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), |row| {
            row.get::<_, String>(0)
        })
        .map_err(error)?;
    let mut ids = Vec::new();
    for row in rows {
        let text = row.map_err(error)?;
        let id = Uuid::parse_str(&text).map_err(|_| Error::Database {
            message: format!("the key value '{text}' is not a uuid"),
        })?;
        ids.push(id);
    }
    Ok(ids)
}

fn query_values(conn: &Connection, query: &SqlQuery, columns: usize) -> Result<RecordValues> {
    let mut stmt = conn.prepare(&query.sql).map_err(error)?;
    let params = params(query);
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(error)?;
    let mut out = RecordValues {
        ids: Vec::new(),
        columns: vec![Vec::new(); columns],
    };
    while let Some(row) = rows.next().map_err(error)? {
        let text: String = row.get(0).map_err(error)?;
        let id = Uuid::parse_str(&text).map_err(|_| Error::Database {
            message: format!("the key value '{text}' is not a uuid"),
        })?;
        out.ids.push(id);
        for (i, column) in out.columns.iter_mut().enumerate() {
            column.push(row.get::<_, i64>(i + 1).map_err(error)?);
        }
    }
    Ok(out)
}

/// Checks that the database has every table and column `plan` uses. SQLite
/// stores any value in any column, so types are not checked.
fn verify_layout(conn: &Connection, schema: &Schema, plan: &Plan) -> Result<()> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .map_err(error)?;
    layout::verify(
        schema,
        plan,
        &sql::Sqlite,
        |_| Vec::new(),
        |table| {
            stmt.query_map([table], |row| row.get::<_, String>(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
                .map_err(error)
                .map(|names| {
                    names
                        .into_iter()
                        .map(|name| CatalogColumn {
                            name,
                            data_type: None,
                        })
                        .collect()
                })
        },
    )
}

/// The indexes of `table` without the partial ones, from SQLite's catalog
/// pragmas; an expression's column has no name.
fn indexes(conn: &Connection, table: &str) -> rusqlite::Result<Vec<TableIndex>> {
    let names: Vec<String> = conn
        .prepare("SELECT name FROM pragma_index_list(?1) WHERE NOT partial ORDER BY name")?
        .query_map([table], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut columns = conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
    names
        .into_iter()
        .map(|name| {
            let indexed = columns
                .query_map([&name], |row| row.get::<_, Option<String>>(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(TableIndex {
                name,
                columns: indexed,
            })
        })
        .collect()
}

/// The parameters as SQLite values.
fn params(query: &SqlQuery) -> Vec<Value> {
    query.params.iter().map(value).collect()
}

/// A parameter as SQLite stores it (SPEC §3.1); typed parameters (from a
/// query compiled for another dialect) become the layout's text forms.
fn value(p: &SqlParam) -> Value {
    match p {
        SqlParam::Bool(b) => Value::Integer(i64::from(*b)),
        SqlParam::Integer(i) => Value::Integer(*i),
        SqlParam::Real(x) => Value::Real(*x),
        SqlParam::Text(s) => Value::Text(s.clone()),
        SqlParam::Uuid(u) => Value::Text(u.hyphenated().to_string()),
        SqlParam::Date(d) => Value::Text(d.format(DATE_FORMAT).to_string()),
        SqlParam::DateTime(t) => Value::Text(t.format(DATETIME_FORMAT).to_string()),
    }
}

fn param_value(p: &Param) -> Value {
    match p {
        Param::Null => Value::Null,
        Param::Int(i) => Value::Integer(*i),
        Param::Real(r) => Value::Real(*r),
        Param::Bool(b) => Value::Integer(i64::from(*b)),
        Param::Text(t) => Value::Text(t.clone()),
    }
}

/// A database error from SQLite.
pub(crate) fn error(e: rusqlite::Error) -> Error {
    Error::Database {
        message: e.to_string(),
    }
}

/// A database error from SQLite in a writing transaction, with a plain
/// message for a lock held by another connection.
fn write_error(e: rusqlite::Error) -> Error {
    let busy = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked)
    );
    if busy {
        Error::Database {
            message: format!(
                "the database is locked by another writer (waited {} s); nothing was changed; try again once the other writer has finished",
                LOCK_WAIT.as_secs()
            ),
        }
    } else {
        error(e)
    }
}

/// SQLite inside an open transaction.
struct SqliteTx<'a>(&'a Connection);

impl Transaction for SqliteTx<'_> {
    fn dialect(&self) -> &'static dyn Dialect {
        &sql::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        let values: Vec<Value> = params.iter().map(param_value).collect();
        // Cached: batched inserts repeat one statement of thousands of
        // placeholders, which costs more to parse than to run.
        let n = self
            .0
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(rusqlite::params_from_iter(values)))
            .map_err(write_error)?;
        Ok(n as u64)
    }

    fn query_text(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Option<String>>>> {
        let values: Vec<Value> = params.iter().map(param_value).collect();
        let mut stmt = self.0.prepare(sql).map_err(write_error)?;
        let width = stmt.column_count();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), |row| {
                (0..width)
                    .map(|i| row.get::<_, Option<String>>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(write_error)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(write_error)
    }

    fn fill_numbered_ids(&mut self, table: &str, ids: &[Uuid]) -> Result<()> {
        self.0
            .execute(
                &format!("CREATE TEMP TABLE {table} (n INTEGER PRIMARY KEY, id TEXT)"),
                [],
            )
            .map_err(write_error)?;
        // In-process: a prepared insert per row costs no round trip.
        let mut stmt = self
            .0
            .prepare(&format!("INSERT INTO temp.{table} (n, id) VALUES (?1, ?2)"))
            .map_err(write_error)?;
        for (i, id) in ids.iter().enumerate() {
            let n = i64::try_from(i + 1).map_err(|_| Error::Internal {
                message: "too many new contacts".into(),
            })?;
            stmt.execute(rusqlite::params![n, id.hyphenated().to_string()])
                .map_err(write_error)?;
        }
        Ok(())
    }

    fn query_count(&mut self, query: &SqlQuery) -> Result<u64> {
        let count: i64 = self
            .0
            .query_row(
                &query.sql,
                rusqlite::params_from_iter(params(query)),
                |row| row.get(0),
            )
            .map_err(|e| super::query_error(&sql::Sqlite, query, write_error(e)))?;
        super::count(count)
    }

    fn execute_query(&mut self, sql: &str, query: &SqlQuery) -> Result<u64> {
        let n = self
            .0
            .execute(sql, rusqlite::params_from_iter(params(query)))
            .map_err(|e| super::query_error(&sql::Sqlite, query, write_error(e)))?;
        Ok(n as u64)
    }

    fn fill_ids_from_query(&mut self, table: &str, query: &SqlQuery) -> Result<u64> {
        self.0
            .execute(
                &format!("CREATE TEMP TABLE {table} (id TEXT PRIMARY KEY)"),
                [],
            )
            .map_err(write_error)?;
        let n = self
            .0
            .execute(
                &format!(
                    "INSERT INTO temp.{table} (id) SELECT * FROM ({}) AS s",
                    query.sql
                ),
                rusqlite::params_from_iter(params(query)),
            )
            .map_err(|e| super::query_error(&sql::Sqlite, query, write_error(e)))?;
        Ok(n as u64)
    }

    fn columns(&mut self, table: &str) -> Result<Option<Vec<String>>> {
        let rows = self.query_text(
            "SELECT name FROM pragma_table_info(?1)",
            &[Param::Text(table.to_string())],
        )?;
        Ok(super::names(rows))
    }

    /// `BEGIN IMMEDIATE` already holds the database's write lock.
    fn lock_for_writing(&mut self, _tables: &[&str]) -> Result<()> {
        Ok(())
    }

    fn verify_layout(&mut self, schema: &Schema, plan: &Plan) -> Result<()> {
        verify_layout(self.0, schema, plan)
    }

    /// Tables, views and indexes share one namespace in SQLite; its own
    /// lookups ignore ASCII case.
    fn relation(&mut self, name: &str) -> Result<Option<Relation>> {
        let rows = self.query_text(
            "SELECT type FROM sqlite_master \
             WHERE name = ?1 COLLATE NOCASE AND type IN ('table', 'view', 'index')",
            &[Param::Text(name.to_string())],
        )?;
        Ok(super::names(rows)
            .and_then(|kinds| kinds.into_iter().next())
            .map(|kind| match kind.as_str() {
                "table" => Relation::Table,
                "view" => Relation::View,
                _ => Relation::Other(kind),
            }))
    }

    /// SQLite keeps a view as its text and resolves the names in it only
    /// when it is read, so it records no dependencies, and matching names in
    /// the text would be fooled by strings, comments and quoting. Instead:
    /// the views that compile now but no longer compile once `name` is
    /// dropped (inside a savepoint, rolled back) are exactly those that read
    /// it. Compiling a view only prepares `SELECT * FROM v`; nothing runs.
    fn dependent_views(&mut self, name: &str) -> Result<Vec<String>> {
        let others = super::names(self.query_text(
            "SELECT name FROM sqlite_master \
             WHERE type = 'view' AND name <> ?1 COLLATE NOCASE ORDER BY name",
            &[Param::Text(name.to_string())],
        )?)
        .unwrap_or_default();
        let conn = self.0;
        let compiles = |view: &str| {
            conn.prepare(&format!(
                "SELECT * FROM {} LIMIT 0",
                sql::Sqlite.quote_ident(view)
            ))
            .is_ok()
        };
        let readable: Vec<String> = others.into_iter().filter(|v| compiles(v)).collect();
        if readable.is_empty() {
            return Ok(readable);
        }
        conn.execute_batch("SAVEPOINT segql_dependents")
            .map_err(write_error)?;
        let dropped = conn.execute_batch(&format!("DROP VIEW {}", sql::Sqlite.quote_ident(name)));
        let broken: Vec<String> = match dropped {
            Ok(()) => readable.into_iter().filter(|v| !compiles(v)).collect(),
            Err(_) => Vec::new(),
        };
        conn.execute_batch("ROLLBACK TO segql_dependents; RELEASE segql_dependents")
            .map_err(write_error)?;
        dropped.map_err(write_error)?;
        Ok(broken)
    }

    fn load_store(&mut self, schema: &Schema, plan: Option<&Plan>) -> Result<Store> {
        Store::from_sqlite(self.0, schema, plan)
    }
}
