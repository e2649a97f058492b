//! A thin connection layer so the data-changing operations run the *same*
//! set-based statements on SQLite and PostgreSQL.
//!
//! The statements are written once; the few places where the two databases
//! differ (parameter syntax and casts, boolean literals, temporary tables,
//! ASCII-only case folding, how to fill a table from a list in one step) are
//! methods of [`Flavor`] and [`Conn`]. Every value travels as a small
//! [`Param`]; PostgreSQL receives it as text and casts it in the statement,
//! which keeps us independent of optional type features of the `postgres`
//! crate and lets the server convert to whatever column type it has.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::schema::FieldType;
use crate::sql::SqlQuery;

/// How long a data-changing operation waits for a lock held by another writer
/// before it gives up with a clear error (SQLite busy timeout, PostgreSQL
/// `lock_timeout`). Bounded, so a concurrent writer never makes a run hang.
pub const LOCK_WAIT: Duration = Duration::from_secs(3);

/// The characters trimmed around emails: ASCII whitespace (space, tab, line
/// feed, form feed, carriage return), as `u8::is_ascii_whitespace`.
const TRIM_CODES: [u8; 5] = [32, 9, 10, 12, 13];

/// A bind parameter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Param {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
}

/// Which SQL dialect a statement is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    Sqlite,
    Postgres,
}

impl Flavor {
    /// A quoted identifier (names come from the schema, never from data).
    pub fn quote(self, ident: &str) -> String {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }

    /// Placeholder number `n` (1-based) for a value of type `ty`.
    pub fn param(self, n: usize, ty: &FieldType) -> String {
        match self {
            Flavor::Sqlite => format!("?{n}"),
            Flavor::Postgres => format!("CAST(${n}::text AS {})", pg_type(ty)),
        }
    }

    pub fn true_lit(self) -> &'static str {
        match self {
            Flavor::Sqlite => "1",
            Flavor::Postgres => "TRUE",
        }
    }

    pub fn false_lit(self) -> &'static str {
        match self {
            Flavor::Sqlite => "0",
            Flavor::Postgres => "FALSE",
        }
    }

    /// `expr` with leading and trailing ASCII whitespace removed.
    pub fn trim(self, expr: &str) -> String {
        match self {
            Flavor::Sqlite => {
                let codes: Vec<String> = TRIM_CODES.iter().map(|c| c.to_string()).collect();
                format!("trim({expr}, char({}))", codes.join(","))
            }
            Flavor::Postgres => {
                let codes: Vec<String> = TRIM_CODES.iter().map(|c| format!("chr({c})")).collect();
                format!("btrim({expr}, {})", codes.join(" || "))
            }
        }
    }

    /// `expr` trimmed and with ASCII letters folded to lower case; other
    /// characters are kept as they are. SQLite's `lower()` folds ASCII only;
    /// PostgreSQL's follows the locale, so it gets an explicit `translate`.
    pub fn normalize_email(self, expr: &str) -> String {
        let trimmed = self.trim(expr);
        match self {
            Flavor::Sqlite => format!("lower({trimmed})"),
            Flavor::Postgres => format!(
                "translate({trimmed}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
            ),
        }
    }

    /// A reference to the temporary table `name`.
    pub fn temp(self, name: &str) -> String {
        match self {
            Flavor::Sqlite => format!("temp.{name}"),
            Flavor::Postgres => format!("pg_temp.{name}"),
        }
    }

    /// Create temporary table `name` from a query. Temporary tables live only
    /// in this connection and vanish with a rollback or a killed process.
    pub fn create_temp_as(self, name: &str, select: &str) -> String {
        match self {
            Flavor::Sqlite => format!("CREATE TEMP TABLE {name} AS {select}"),
            Flavor::Postgres => format!("CREATE TEMP TABLE {name} ON COMMIT DROP AS {select}"),
        }
    }

    /// An index on a temporary table.
    pub fn create_temp_index(self, table: &str, column: &str, unique: bool) -> String {
        let unique = if unique { "UNIQUE " } else { "" };
        match self {
            Flavor::Sqlite => {
                format!("CREATE {unique}INDEX temp.{table}_{column} ON {table} ({column})")
            }
            Flavor::Postgres => format!("CREATE {unique}INDEX ON pg_temp.{table} ({column})"),
        }
    }

    /// A NULL-safe "differs": true when exactly one side is NULL.
    pub fn is_distinct(self, a: &str, b: &str) -> String {
        match self {
            Flavor::Sqlite => format!("{a} IS NOT {b}"),
            Flavor::Postgres => format!("{a} IS DISTINCT FROM {b}"),
        }
    }

    /// A statement that keeps other writers off `tables` (already quoted)
    /// until the transaction ends, letting readers go on. SQLite needs none:
    /// `BEGIN IMMEDIATE` already holds the database's write lock.
    pub fn lock_for_writing(self, tables: &[&str]) -> Option<String> {
        match self {
            Flavor::Sqlite => None,
            Flavor::Postgres => Some(format!(
                "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
                tables.join(", ")
            )),
        }
    }

    /// A join that SQLite must run with the left table outermost: the join
    /// condition is an expression over the left table, which no index serves,
    /// so the right (small, indexed) table must be the inner one.
    pub fn ordered_join(self) -> &'static str {
        match self {
            Flavor::Sqlite => "CROSS JOIN",
            Flavor::Postgres => "JOIN",
        }
    }
}

/// The PostgreSQL type of a field type (SPEC §3.1).
pub(crate) fn pg_type(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::Uuid => "uuid",
        FieldType::Text => "text",
        FieldType::Integer | FieldType::Choice(_) => "bigint",
        FieldType::Decimal => "double precision",
        FieldType::Bool => "boolean",
        FieldType::Date => "date",
        FieldType::DateTime => "timestamptz",
    }
}

/// One open transaction on either database.
pub(crate) trait Conn {
    fn flavor(&self) -> Flavor;

    /// Run one statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64>;

    /// Run a query whose columns the statement casts to text.
    fn query_text(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Option<String>>>>;

    /// Fill the (new) temporary table `table(n, contact_id)` with `ids`,
    /// numbered from 1, without a round trip per row.
    fn fill_numbered_ids(&mut self, table: &str, ids: &[uuid::Uuid]) -> Result<()>;

    /// Create the temporary table `table(id)` and fill it with the ids the
    /// compiled query selects, inside the database; the number of ids.
    fn fill_ids_from_query(&mut self, table: &str, query: &SqlQuery) -> Result<u64>;

    /// The column names of `table`, or `None` when there is no such table.
    fn columns(&mut self, table: &str) -> Result<Option<Vec<String>>>;

    /// Whether a column name found in the database is `wanted`.
    fn same_name(&self, found: &str, wanted: &str) -> bool {
        match self.flavor() {
            // SQLite identifiers are case-insensitive (ASCII).
            Flavor::Sqlite => found.eq_ignore_ascii_case(wanted),
            // Quoted PostgreSQL identifiers are exact.
            Flavor::Postgres => found == wanted,
        }
    }
}

/// The first column of a one-row, one-column query, as text.
pub(crate) fn query_scalar(conn: &mut dyn Conn, sql: &str, params: &[Param]) -> Result<String> {
    conn.query_text(sql, params)?
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().next().flatten())
        .ok_or_else(|| Error::Internal {
            message: format!("query returned no value: {sql}"),
        })
}

/// A count returned by [`query_scalar`].
pub(crate) fn query_count(conn: &mut dyn Conn, sql: &str, params: &[Param]) -> Result<u64> {
    let text = query_scalar(conn, sql, params)?;
    text.parse().map_err(|_| Error::Internal {
        message: format!("count is not a number: {text}"),
    })
}

/// SQLite inside an open transaction.
pub(crate) struct SqliteConn<'a>(pub &'a rusqlite::Connection);

fn to_sqlite(p: &Param) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match p {
        Param::Null => Value::Null,
        Param::Int(i) => Value::Integer(*i),
        Param::Real(r) => Value::Real(*r),
        Param::Bool(b) => Value::Integer(i64::from(*b)),
        Param::Text(t) => Value::Text(t.clone()),
    }
}

/// A database error from SQLite, with a plain message for a lock held by
/// another connection.
pub(crate) fn sqlite_error(e: rusqlite::Error) -> Error {
    let busy = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked)
    );
    let message = if busy {
        format!(
            "the database is locked by another writer (waited {} s); nothing was changed",
            LOCK_WAIT.as_secs()
        )
    } else {
        e.to_string()
    };
    Error::Database { message }
}

impl Conn for SqliteConn<'_> {
    fn flavor(&self) -> Flavor {
        Flavor::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        let values: Vec<rusqlite::types::Value> = params.iter().map(to_sqlite).collect();
        let n = self
            .0
            .execute(sql, rusqlite::params_from_iter(values))
            .map_err(sqlite_error)?;
        Ok(n as u64)
    }

    fn query_text(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Option<String>>>> {
        let values: Vec<rusqlite::types::Value> = params.iter().map(to_sqlite).collect();
        let mut stmt = self.0.prepare(sql).map_err(sqlite_error)?;
        let width = stmt.column_count();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), |row| {
                (0..width)
                    .map(|i| row.get::<_, Option<String>>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sqlite_error)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sqlite_error)
    }

    fn fill_numbered_ids(&mut self, table: &str, ids: &[uuid::Uuid]) -> Result<()> {
        self.0
            .execute(
                &format!("CREATE TEMP TABLE {table} (n INTEGER PRIMARY KEY, contact_id TEXT)"),
                [],
            )
            .map_err(sqlite_error)?;
        // In-process: a prepared insert per row costs no round trip.
        let mut stmt = self
            .0
            .prepare(&format!(
                "INSERT INTO temp.{table} (n, contact_id) VALUES (?1, ?2)"
            ))
            .map_err(sqlite_error)?;
        for (i, id) in ids.iter().enumerate() {
            let n = i64::try_from(i + 1).map_err(|_| Error::Internal {
                message: "too many new contacts".into(),
            })?;
            stmt.execute(rusqlite::params![n, id.hyphenated().to_string()])
                .map_err(sqlite_error)?;
        }
        Ok(())
    }

    fn fill_ids_from_query(&mut self, table: &str, query: &SqlQuery) -> Result<u64> {
        self.0
            .execute(
                &format!("CREATE TEMP TABLE {table} (id TEXT PRIMARY KEY)"),
                [],
            )
            .map_err(sqlite_error)?;
        let values: Vec<rusqlite::types::Value> = query
            .params
            .iter()
            .map(crate::sql::sqlite_exec::value)
            .collect();
        let n = self
            .0
            .execute(
                &format!(
                    "INSERT INTO temp.{table} (id) SELECT * FROM ({}) AS s",
                    query.sql
                ),
                rusqlite::params_from_iter(values),
            )
            .map_err(sqlite_error)?;
        Ok(n as u64)
    }

    fn columns(&mut self, table: &str) -> Result<Option<Vec<String>>> {
        let rows = self.query_text(
            "SELECT name FROM pragma_table_info(?1)",
            &[Param::Text(table.to_string())],
        )?;
        let names: Vec<String> = rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect();
        Ok((!names.is_empty()).then_some(names))
    }
}

/// PostgreSQL inside an open transaction.
pub(crate) struct PgConn<'a, 'b>(pub &'a mut postgres::Transaction<'b>);

/// A database error from PostgreSQL, with a plain message for a lock timeout.
pub(crate) fn pg_error(e: postgres::Error) -> Error {
    let lock = e
        .code()
        .is_some_and(|c| *c == postgres::error::SqlState::LOCK_NOT_AVAILABLE);
    let message = if lock {
        format!(
            "a table is locked by another writer (waited {} s); nothing was changed",
            LOCK_WAIT.as_secs()
        )
    } else {
        match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => e.to_string(),
        }
    };
    Error::Database { message }
}

fn to_pg_text(p: &Param) -> Option<String> {
    match p {
        Param::Null => None,
        Param::Int(i) => Some(i.to_string()),
        // Rust prints the shortest text that reads back as the same f64.
        Param::Real(r) => Some(r.to_string()),
        Param::Bool(b) => Some(b.to_string()),
        Param::Text(t) => Some(t.clone()),
    }
}

impl Conn for PgConn<'_, '_> {
    fn flavor(&self) -> Flavor {
        Flavor::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        let texts: Vec<Option<String>> = params.iter().map(to_pg_text).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = texts
            .iter()
            .map(|t| t as &(dyn postgres::types::ToSql + Sync))
            .collect();
        self.0.execute(sql, &refs).map_err(pg_error)
    }

    fn query_text(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Option<String>>>> {
        let texts: Vec<Option<String>> = params.iter().map(to_pg_text).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = texts
            .iter()
            .map(|t| t as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let rows = self.0.query(sql, &refs).map_err(pg_error)?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| row.try_get::<_, Option<String>>(i).map_err(pg_error))
                    .collect()
            })
            .collect()
    }

    fn fill_numbered_ids(&mut self, table: &str, ids: &[uuid::Uuid]) -> Result<()> {
        self.0
            .batch_execute(&format!(
                "CREATE TEMP TABLE {table} (n bigint PRIMARY KEY, contact_id uuid) ON COMMIT DROP"
            ))
            .map_err(pg_error)?;
        let texts: Vec<String> = ids.iter().map(|u| u.hyphenated().to_string()).collect();
        // One statement for the whole list.
        self.0
            .execute(
                &format!(
                    "INSERT INTO pg_temp.{table} (n, contact_id) \
                     SELECT n, CAST(id AS uuid) FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n)"
                ),
                &[&texts],
            )
            .map_err(pg_error)?;
        Ok(())
    }

    fn fill_ids_from_query(&mut self, table: &str, query: &SqlQuery) -> Result<u64> {
        self.0
            .batch_execute(&format!(
                "CREATE TEMP TABLE {table} (id uuid PRIMARY KEY) ON COMMIT DROP"
            ))
            .map_err(pg_error)?;
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = query
            .params
            .iter()
            .map(crate::sql::postgres_exec::param)
            .collect();
        let n = self
            .0
            .execute(
                &format!(
                    "INSERT INTO pg_temp.{table} (id) SELECT * FROM ({}) AS s",
                    query.sql
                ),
                &params,
            )
            .map_err(pg_error)?;
        // Temporary tables are never analyzed automatically.
        self.0
            .batch_execute(&format!("ANALYZE pg_temp.{table}"))
            .map_err(pg_error)?;
        Ok(n)
    }

    fn columns(&mut self, table: &str) -> Result<Option<Vec<String>>> {
        let rows = self.query_text(
            "SELECT CAST(column_name AS text) FROM information_schema.columns \
             WHERE table_name = $1::text AND table_schema = ANY (current_schemas(false))",
            &[Param::Text(table.to_string())],
        )?;
        let names: Vec<String> = rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect();
        Ok((!names.is_empty()).then_some(names))
    }
}

/// Check that `table` exists and has `columns`, naming what is missing.
pub(crate) fn verify_columns(
    conn: &mut dyn Conn,
    operation: &str,
    table: &str,
    columns: &[&str],
) -> Result<()> {
    let Some(found) = conn.columns(table)? else {
        return Err(Error::Database {
            message: format!(
                "{operation} needs table '{table}', which the database does not have; nothing was changed"
            ),
        });
    };
    let missing: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| !found.iter().any(|f| conn.same_name(f, c)))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Database {
            message: format!(
                "{operation} needs column{} {} in table '{table}', which the database does not have; nothing was changed",
                if missing.len() > 1 { "s" } else { "" },
                missing
                    .iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }
}
