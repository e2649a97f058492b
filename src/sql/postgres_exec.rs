//! Runs a compiled query on PostgreSQL (the `postgres` crate).

use postgres::types::ToSql;
use postgres::Client;
use uuid::Uuid;

use super::{SqlParam, SqlQuery};
use crate::error::{Error, Result};

/// Runs `query` (compiled for [`super::Postgres`]) and returns the ids it
/// selects, in the order the query gives (ascending).
pub fn run_ids(client: &mut Client, query: &SqlQuery) -> Result<Vec<Uuid>> {
    let rows = client
        .query(query.sql.as_str(), &params(query))
        .map_err(database)?;
    rows.iter()
        .map(|row| row.try_get::<_, Uuid>(0).map_err(database))
        .collect()
}

/// Runs `query` (compiled with `count: true`) and returns the count.
pub fn run_count(client: &mut Client, query: &SqlQuery) -> Result<u64> {
    let row = client
        .query_one(query.sql.as_str(), &params(query))
        .map_err(database)?;
    let count: i64 = row.try_get(0).map_err(database)?;
    u64::try_from(count).map_err(|_| Error::Database {
        message: format!("the database returned a negative count ({count})"),
    })
}

fn params(query: &SqlQuery) -> Vec<&(dyn ToSql + Sync)> {
    query.params.iter().map(param).collect()
}

/// A compiled query's parameter, bound with its own PostgreSQL type.
pub(crate) fn param(p: &SqlParam) -> &(dyn ToSql + Sync) {
    match p {
        SqlParam::Bool(b) => b,
        SqlParam::Integer(i) => i,
        SqlParam::Real(x) => x,
        SqlParam::Text(s) => s,
        SqlParam::Uuid(u) => u,
        SqlParam::Date(d) => d,
        SqlParam::DateTime(t) => t,
    }
}

pub(crate) fn database(e: postgres::Error) -> Error {
    // The server's own message ("column ... does not exist") says more than
    // the client's summary.
    let message = match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    };
    Error::Database { message }
}
