//! Helpers over an open transaction shared by the operations: single values
//! of queries, and the check that a table has the columns an operation uses.

use crate::db::{Param, Transaction};
use crate::error::{Error, Result};

/// The first column of a one-row, one-column query, as text.
pub(crate) fn query_scalar(
    conn: &mut dyn Transaction,
    sql: &str,
    params: &[Param],
) -> Result<String> {
    conn.query_text(sql, params)?
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().next().flatten())
        .ok_or_else(|| Error::Internal {
            message: format!("query returned no value: {sql}"),
        })
}

/// A count returned by [`query_scalar`].
pub(crate) fn query_count(conn: &mut dyn Transaction, sql: &str, params: &[Param]) -> Result<u64> {
    let text = query_scalar(conn, sql, params)?;
    text.parse().map_err(|_| Error::Internal {
        message: format!("count is not a number: {text}"),
    })
}

/// Check that `table` exists and has `columns`, naming what is missing.
pub(crate) fn verify_columns(
    conn: &mut dyn Transaction,
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
        .filter(|c| !found.iter().any(|f| conn.dialect().same_column_name(f, c)))
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
