//! Reading whole tables, typed: every record of an entity with the values
//! of its fields as their types read them ([`Backend::scan`]), for copying
//! data out of a database (`segql export`).
//!
//! Each database reads one table in one statement, in key order, and hands
//! the rows over one at a time, so a table of any size streams through
//! without being held in memory. Values are checked against their type's
//! stored form (SPEC §3.1) on the way, as the memory engine's loader does:
//! a copy must not carry a value that the database's SQL would read
//! differently from the copy.
//!
//! [`Backend::scan`]: super::Backend::scan

use chrono::{DateTime, NaiveDate, Utc};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use rusqlite::types::ValueRef;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::eval::column::{parse_date, parse_datetime, parse_uuid};
use crate::schema::{Entity, Field, FieldType};
use crate::sql::{self, Dialect, SqlParam};

/// One record's values, in the order of the fields asked for; `None` is
/// NULL.
pub type Row<'a> = &'a [Option<SqlParam>];

/// The column list of a scan: the key first (to name a record in an
/// error), then `fields`, each through `column` (the database's cast).
fn select(
    dialect: &dyn Dialect,
    entity: &Entity,
    fields: &[&Field],
    column: impl Fn(&Field, String) -> String,
) -> Result<String> {
    let key = dialect.quote_ident(&sql::column(entity, &entity.key)?);
    let mut columns = vec![key.clone()];
    columns.extend(
        fields
            .iter()
            .map(|f| column(f, dialect.quote_ident(&f.column))),
    );
    Ok(format!(
        "SELECT {} FROM {} ORDER BY {key}",
        columns.join(", "),
        dialect.quote_ident(&entity.table)
    ))
}

/// Every record of `entity` in a SQLite database, in key order.
pub(super) fn sqlite(
    conn: &rusqlite::Connection,
    entity: &Entity,
    fields: &[&Field],
    each: &mut dyn FnMut(Row<'_>) -> Result<()>,
) -> Result<()> {
    let error = |e: rusqlite::Error| Error::Database {
        message: format!("reading table '{}': {e}", entity.table),
    };
    // Stored values as they are: the checks below read their storage class.
    let text = select(&sql::Sqlite, entity, fields, |_, column| column)?;
    let mut statement = conn.prepare(&text).map_err(error)?;
    let mut rows = statement.query([]).map_err(error)?;
    let mut values = Vec::with_capacity(fields.len());
    while let Some(row) = rows.next().map_err(error)? {
        values.clear();
        for (i, field) in fields.iter().enumerate() {
            let stored = row.get_ref(i + 1).map_err(error)?;
            match sqlite_value(&field.ty, stored) {
                Some(value) => values.push(value),
                None => {
                    let key = row.get_ref(0).map_err(error)?;
                    return Err(Error::Database {
                        message: format!(
                            "table '{}', column '{}', record {}: cannot read {} as {}; \
                             correct the stored value (SPEC 3.1 gives each type's stored form)",
                            entity.table,
                            field.column,
                            describe(key),
                            describe(stored),
                            stored_form(&field.ty)
                        ),
                    });
                }
            }
        }
        each(&values)?;
    }
    Ok(())
}

/// A SQLite value as its field type reads it: `Some(None)` for NULL,
/// `None` when it is not in the type's stored form.
fn sqlite_value(ty: &FieldType, stored: ValueRef<'_>) -> Option<Option<SqlParam>> {
    let value = match (ty, stored) {
        (_, ValueRef::Null) => return Some(None),
        (FieldType::Uuid, ValueRef::Text(t)) => SqlParam::Uuid(Uuid::from_u128(parse_uuid(t)?)),
        (FieldType::Text, ValueRef::Text(t)) => SqlParam::Text(std::str::from_utf8(t).ok()?.into()),
        (FieldType::Integer | FieldType::Choice(_), ValueRef::Integer(i)) => SqlParam::Integer(i),
        (FieldType::Decimal, ValueRef::Real(x)) if x.is_finite() => SqlParam::Real(x),
        (FieldType::Decimal, ValueRef::Integer(i)) => SqlParam::Real(i as f64),
        (FieldType::Bool, ValueRef::Integer(i @ (0 | 1))) => SqlParam::Bool(i == 1),
        (FieldType::Date, ValueRef::Text(t)) => SqlParam::Date(date(parse_date(t)?)?),
        (FieldType::DateTime, ValueRef::Text(t)) => {
            SqlParam::DateTime(DateTime::<Utc>::from_timestamp(parse_datetime(t)?, 0)?)
        }
        _ => return None,
    };
    Some(Some(value))
}

/// The date `days` after 1970-01-01.
fn date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::TimeDelta::days(days.into()))
}

/// Every record of `entity` in a PostgreSQL database, in key order. Each
/// column is cast to the type segql binds for its field (SPEC §3.1), so a
/// table with, say, `integer` where `bigint` is expected reads as well, and
/// a column that cannot be cast is the server's error.
pub(super) fn postgres(
    client: &mut postgres::Client,
    entity: &Entity,
    fields: &[&Field],
    each: &mut dyn FnMut(Row<'_>) -> Result<()>,
) -> Result<()> {
    let error = |e: postgres::Error| Error::Database {
        message: format!(
            "reading table '{}': {}",
            entity.table,
            super::postgres::error(e)
        ),
    };
    let text = select(&sql::Postgres, entity, fields, |field, column| {
        let ty = match field.ty {
            FieldType::Uuid => "uuid",
            FieldType::Text => "text",
            FieldType::Integer | FieldType::Choice(_) => "bigint",
            FieldType::Decimal => "double precision",
            FieldType::Bool => "boolean",
            FieldType::Date => "date",
            FieldType::DateTime => "timestamptz",
        };
        format!("CAST({column} AS {ty})")
    })?;
    let mut rows = client
        .query_raw(text.as_str(), std::iter::empty::<&(dyn ToSql + Sync)>())
        .map_err(error)?;
    let mut values = Vec::with_capacity(fields.len());
    while let Some(row) = rows.next().map_err(error)? {
        values.clear();
        for (i, field) in fields.iter().enumerate() {
            let at = i + 1;
            let value = match field.ty {
                FieldType::Uuid => row
                    .try_get::<_, Option<Uuid>>(at)
                    .map(|v| v.map(SqlParam::Uuid)),
                FieldType::Text => row
                    .try_get::<_, Option<String>>(at)
                    .map(|v| v.map(SqlParam::Text)),
                FieldType::Integer | FieldType::Choice(_) => row
                    .try_get::<_, Option<i64>>(at)
                    .map(|v| v.map(SqlParam::Integer)),
                FieldType::Decimal => row
                    .try_get::<_, Option<f64>>(at)
                    .map(|v| v.map(SqlParam::Real)),
                FieldType::Bool => row
                    .try_get::<_, Option<bool>>(at)
                    .map(|v| v.map(SqlParam::Bool)),
                FieldType::Date => row
                    .try_get::<_, Option<NaiveDate>>(at)
                    .map(|v| v.map(SqlParam::Date)),
                FieldType::DateTime => row
                    .try_get::<_, Option<DateTime<Utc>>>(at)
                    .map(|v| v.map(SqlParam::DateTime)),
            };
            values.push(value.map_err(error)?);
        }
        each(&values)?;
    }
    Ok(())
}

/// The stored form of a type in SQLite (SPEC §3.1), for errors.
fn stored_form(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::Uuid => "a uuid (lowercase hyphenated text)",
        FieldType::Text => "text",
        FieldType::Integer => "an integer",
        FieldType::Choice(_) => "a choice code (integer)",
        FieldType::Decimal => "a decimal (a finite real)",
        FieldType::Bool => "a bool (integer 0 or 1)",
        FieldType::Date => "a date (text YYYY-MM-DD)",
        FieldType::DateTime => "a date-time (text YYYY-MM-DDTHH:MM:SSZ)",
    }
}

/// A stored value, shortened, for errors.
fn describe(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => format!("integer {i}"),
        ValueRef::Real(x) => format!("real {x}"),
        ValueRef::Text(t) => {
            let text: String = String::from_utf8_lossy(t).chars().take(60).collect();
            format!("text {text:?}")
        }
        ValueRef::Blob(b) => format!("a blob of {} bytes", b.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_read_as_their_types() {
        let day = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        assert_eq!(
            sqlite_value(&FieldType::Date, ValueRef::Text(b"2024-05-01")),
            Some(Some(SqlParam::Date(day)))
        );
        let at = day.and_hms_opt(10, 30, 59).unwrap().and_utc();
        assert_eq!(
            sqlite_value(
                &FieldType::DateTime,
                ValueRef::Text(b"2024-05-01T10:30:59Z")
            ),
            Some(Some(SqlParam::DateTime(at)))
        );
        assert_eq!(
            sqlite_value(&FieldType::Decimal, ValueRef::Integer(3)),
            Some(Some(SqlParam::Real(3.0)))
        );
        assert_eq!(sqlite_value(&FieldType::Bool, ValueRef::Null), Some(None));
        let before_1970 = NaiveDate::from_ymd_opt(1969, 12, 31).unwrap();
        assert_eq!(
            sqlite_value(&FieldType::Date, ValueRef::Text(b"1969-12-31")),
            Some(Some(SqlParam::Date(before_1970)))
        );
    }

    #[test]
    fn other_forms_are_refused() {
        assert_eq!(sqlite_value(&FieldType::Bool, ValueRef::Integer(2)), None);
        assert_eq!(
            sqlite_value(&FieldType::Date, ValueRef::Text(b"2024-5-1")),
            None
        );
        assert_eq!(
            sqlite_value(&FieldType::Uuid, ValueRef::Text(b"NOT-A-UUID")),
            None
        );
        assert_eq!(sqlite_value(&FieldType::Integer, ValueRef::Real(1.5)), None);
        assert_eq!(
            sqlite_value(&FieldType::Decimal, ValueRef::Real(f64::INFINITY)),
            None
        );
    }
}
