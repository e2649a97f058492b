//! Reading the rows of one table (or one rowid range of it) into pending
//! columns, checking every value's stored form on the way.

use std::collections::BTreeSet;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;

use super::Job;
use crate::error::{Error, Result};
use crate::eval::builder::TableBuilder;
use crate::eval::column::{parse_date, parse_datetime, parse_uuid};
use crate::eval::pending::{Pending, PendingColumn};
use crate::schema::{Entity, FieldType};

/// Reads the rows of `job`'s table whose rowid lies in `range` (inclusive
/// bounds; every row when `None`), in the order SQLite returns them (rowid
/// order for a range). About `expected` rows are expected.
pub(super) fn read_rows(
    conn: &Connection,
    job: &Job<'_>,
    range: Option<(i64, i64)>,
    expected: i64,
) -> Result<TableBuilder> {
    let entity = job.entity;
    let mut sql = job.select();
    let mut bounds = Vec::new();
    if let (Some((lo, hi)), Some(rowid)) = (range, job.rowid) {
        sql.push_str(&format!(" WHERE {rowid} BETWEEN ?1 AND ?2"));
        bounds = vec![lo, hi];
    }
    let mut stmt = conn.prepare(&sql).map_err(db_error)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(bounds))
        .map_err(db_error)?;
    let mut builder = TableBuilder::new(entity, job.keyed, job.fields.iter().copied());
    // Room for the expected rows up front spares the copies of growing; the
    // bound keeps a table with far-apart rowids from reserving too much.
    builder.reserve(expected.clamp(0, 1 << 24) as usize);
    let first = job.keyed as usize;
    while let Some(row) = rows.next().map_err(db_error)? {
        let mut id = None;
        if job.keyed {
            let key_ref = row.get_ref(0).map_err(db_error)?;
            let parsed = match key_ref {
                ValueRef::Text(t) => parse_uuid(t),
                _ => None,
            };
            let Some(parsed) = parsed else {
                return Err(Error::Database {
                    message: format!(
                        "table '{}', column '{}': the key {} is not a lowercase hyphenated uuid",
                        entity.table,
                        job.key.column,
                        describe(key_ref)
                    ),
                });
            };
            builder.keys.push(parsed);
            id = Some(parsed);
        }
        for (i, col) in builder.columns.iter_mut().enumerate() {
            let value = row.get_ref(first + i).map_err(db_error)?;
            if !push_value(col, value) {
                let field = job.fields[i];
                let record = match id {
                    Some(id) => uuid::Uuid::from_u128(id).to_string(),
                    None => record_holding(conn, entity, &job.key.column, &field.column, value),
                };
                return Err(Error::Database {
                    message: format!(
                        "table '{}', column '{}', row id {}: cannot read {} as {}",
                        entity.table,
                        field.column,
                        record,
                        describe(value),
                        stored_form(&field.ty)
                    ),
                });
            }
        }
        builder.rows += 1;
    }
    Ok(builder)
}

pub(super) fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

pub(super) fn db_error(e: rusqlite::Error) -> Error {
    Error::Database {
        message: e.to_string(),
    }
}

/// The column names of `table`, or an error when the table does not exist.
pub(super) fn table_columns(conn: &Connection, entity: &Entity) -> Result<BTreeSet<String>> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({})", quote(&entity.table)))
        .map_err(db_error)?;
    let names = stmt
        .query_map([], |row| row.get::<_, String>(1))
        .map_err(db_error)?
        .collect::<std::result::Result<BTreeSet<String>, _>>()
        .map_err(db_error)?;
    if names.is_empty() {
        return Err(Error::Database {
            message: format!(
                "table '{}' (entity {}) does not exist in the database",
                entity.table, entity.name
            ),
        });
    }
    Ok(names.into_iter().map(|n| n.to_ascii_lowercase()).collect())
}

/// The key of a record whose `column` holds `value`, for naming it in an
/// error when the keys were not read; "unknown" if none is found.
fn record_holding(
    conn: &Connection,
    entity: &Entity,
    key: &str,
    column: &str,
    value: ValueRef<'_>,
) -> String {
    let sql = format!(
        "SELECT {} FROM {} WHERE {} IS ?1 LIMIT 1",
        quote(key),
        quote(&entity.table),
        quote(column)
    );
    conn.query_row(&sql, [ToSqlOutput::Borrowed(value)], |row| {
        row.get::<_, String>(0)
    })
    .unwrap_or_else(|_| "unknown".into())
}

/// Appends one stored value; false when it is not in the type's stored form.
fn push_value(col: &mut PendingColumn, value: ValueRef<'_>) -> bool {
    let ok = match (&mut col.data, value) {
        (_, ValueRef::Null) => {
            col.push_null();
            return true;
        }
        (Pending::Text(_), ValueRef::Text(t)) => return col.push_text(t),
        (Pending::Uuid(v), ValueRef::Text(t)) => parse_uuid(t).map(|x| v.push(x)).is_some(),
        (Pending::Int(v), ValueRef::Integer(i)) => {
            v.push(i);
            true
        }
        (Pending::Decimal(v), ValueRef::Real(f)) if f.is_finite() => {
            v.push(f);
            true
        }
        (Pending::Decimal(v), ValueRef::Integer(i)) => {
            v.push(i as f64);
            true
        }
        (Pending::Bool(v), ValueRef::Integer(i @ (0 | 1))) => {
            v.push(i == 1);
            true
        }
        (Pending::Date(v), ValueRef::Text(t)) => parse_date(t).map(|x| v.push(x)).is_some(),
        (Pending::DateTime(v), ValueRef::Text(t)) => parse_datetime(t).map(|x| v.push(x)).is_some(),
        _ => false,
    };
    if ok {
        col.pushed();
    }
    ok
}

fn stored_form(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::Uuid => "a uuid (lowercase hyphenated text)",
        FieldType::Text => "text",
        FieldType::Integer => "an integer",
        FieldType::Choice(_) => "a choice code (integer)",
        FieldType::Decimal => "a decimal (real)",
        FieldType::Bool => "a bool (integer 0 or 1)",
        FieldType::Date => "a date (text YYYY-MM-DD)",
        FieldType::DateTime => "a date-time (text YYYY-MM-DDTHH:MM:SSZ)",
    }
}

fn describe(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => format!("integer {i}"),
        ValueRef::Real(f) => format!("real {f}"),
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t);
            let short: String = s.chars().take(60).collect();
            format!("text {short:?}")
        }
        ValueRef::Blob(b) => format!("a blob of {} bytes", b.len()),
    }
}
