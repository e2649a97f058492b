//! Runs a compiled query on SQLite (rusqlite).

use rusqlite::types::Value as SqliteValue;
use rusqlite::Connection;
use uuid::Uuid;

use super::sqlite::{DATETIME_FORMAT, DATE_FORMAT};
use super::{SqlParam, SqlQuery};
use crate::error::{Error, Result};

/// Runs `query` (compiled for [`super::Sqlite`]) and returns the ids it
/// selects, in the order the query gives (ascending).
pub fn run_ids(conn: &Connection, query: &SqlQuery) -> Result<Vec<Uuid>> {
    let mut stmt = conn.prepare(&query.sql).map_err(database)?;
    let params = params(query);
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), |row| {
            row.get::<_, String>(0)
        })
        .map_err(database)?;
    let mut ids = Vec::new();
    for row in rows {
        let text = row.map_err(database)?;
        let id = Uuid::parse_str(&text).map_err(|_| Error::Database {
            message: format!("the key value '{text}' is not a uuid"),
        })?;
        ids.push(id);
    }
    Ok(ids)
}

/// Runs `query` (compiled with `count: true`) and returns the count.
pub fn run_count(conn: &Connection, query: &SqlQuery) -> Result<u64> {
    let params = params(query);
    let count: i64 = conn
        .query_row(
            &query.sql,
            rusqlite::params_from_iter(params.iter()),
            |row| row.get(0),
        )
        .map_err(database)?;
    u64::try_from(count).map_err(|_| Error::Database {
        message: format!("the database returned a negative count ({count})"),
    })
}

/// The parameters as SQLite values.
fn params(query: &SqlQuery) -> Vec<SqliteValue> {
    query.params.iter().map(value).collect()
}

/// A parameter as SQLite stores it (SPEC §3.1); typed parameters (from a
/// query compiled for another dialect) become the layout's text forms.
pub(crate) fn value(p: &SqlParam) -> SqliteValue {
    match p {
        SqlParam::Bool(b) => SqliteValue::Integer(i64::from(*b)),
        SqlParam::Integer(i) => SqliteValue::Integer(*i),
        SqlParam::Real(x) => SqliteValue::Real(*x),
        SqlParam::Text(s) => SqliteValue::Text(s.clone()),
        SqlParam::Uuid(u) => SqliteValue::Text(u.hyphenated().to_string()),
        SqlParam::Date(d) => SqliteValue::Text(d.format(DATE_FORMAT).to_string()),
        SqlParam::DateTime(t) => SqliteValue::Text(t.format(DATETIME_FORMAT).to_string()),
    }
}

pub(crate) fn database(e: rusqlite::Error) -> Error {
    Error::Database {
        message: e.to_string(),
    }
}
