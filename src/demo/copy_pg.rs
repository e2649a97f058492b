//! Copies a SQLite database in a schema's layout into PostgreSQL, so that the
//! same data can be queried through both SQL back ends.
//!
//! Rows travel through `COPY ... FROM STDIN` in PostgreSQL's text format,
//! which lets the server parse each value into its column type: text uuids
//! into `uuid`, `YYYY-MM-DD` into `date`, `YYYY-MM-DDTHH:MM:SSZ` into
//! `timestamptz`. Only booleans (0/1 in SQLite) need translating here.

use std::io::Write;

use postgres::GenericClient;
use rusqlite::types::ValueRef;

use super::ddl::{indexes_sql, tables_sql, Key};
use crate::db::postgres::error as postgres_error;
use crate::db::sqlite::error as sqlite_error;
use crate::error::{Error, Result};
use crate::schema::{Entity, FieldType, Schema};
use crate::sql::{self, Dialect};

/// Creates the tables of `schema` in `pg` and copies every row of the SQLite
/// database into them, in one transaction; then indexes the foreign keys and
/// gathers planner statistics.
pub fn copy_sqlite_to_postgres(
    sqlite: &rusqlite::Connection,
    pg: &mut postgres::Client,
    schema: &Schema,
) -> Result<()> {
    let d = &sql::Postgres;
    let mut tx = pg.transaction().map_err(postgres_error)?;
    tx.batch_execute(&tables_sql(schema, d, Key::PrimaryKey))
        .map_err(postgres_error)?;
    for entity in &schema.entities {
        copy_table(sqlite, &mut tx, entity)?;
    }
    tx.batch_execute(&indexes_sql(schema, d))
        .map_err(postgres_error)?;
    tx.commit().map_err(postgres_error)?;
    for entity in &schema.entities {
        pg.batch_execute(&format!("ANALYZE {}", d.quote_ident(&entity.table)))
            .map_err(postgres_error)?;
    }
    Ok(())
}

fn copy_table<C: GenericClient>(
    sqlite: &rusqlite::Connection,
    pg: &mut C,
    entity: &Entity,
) -> Result<()> {
    let columns = entity
        .fields
        .iter()
        .map(|f| sql::Postgres.quote_ident(&f.column))
        .collect::<Vec<_>>()
        .join(", ");
    let table = sql::Postgres.quote_ident(&entity.table);
    let mut select = sqlite
        .prepare(&format!("SELECT {columns} FROM {table}"))
        .map_err(sqlite_error)?;
    let mut rows = select.query([]).map_err(sqlite_error)?;

    let writer = pg
        .copy_in(&format!("COPY {table} ({columns}) FROM STDIN"))
        .map_err(postgres_error)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, writer);
    let write_error = |e: std::io::Error| Error::Database {
        message: format!("copying {} into PostgreSQL: {e}", entity.table),
    };
    let mut line = Vec::with_capacity(512);
    while let Some(row) = rows.next().map_err(sqlite_error)? {
        line.clear();
        for (i, field) in entity.fields.iter().enumerate() {
            if i > 0 {
                line.push(b'\t');
            }
            let value = row.get_ref(i).map_err(sqlite_error)?;
            push_value(&mut line, &field.ty, value).map_err(|message| Error::Database {
                message: format!("{}.{}: {message}", entity.table, field.column),
            })?;
        }
        line.push(b'\n');
        out.write_all(&line).map_err(write_error)?;
    }
    let writer = out.into_inner().map_err(|e| write_error(e.into_error()))?;
    writer.finish().map_err(postgres_error)?;
    Ok(())
}

/// Appends one value in COPY text format.
fn push_value(line: &mut Vec<u8>, ty: &FieldType, value: ValueRef<'_>) -> Result<(), String> {
    match (ty, value) {
        (_, ValueRef::Null) => line.extend_from_slice(b"\\N"),
        (FieldType::Bool, ValueRef::Integer(i)) => line.push(if i != 0 { b't' } else { b'f' }),
        (_, ValueRef::Integer(i)) => {
            let _ = write!(line, "{i}");
        }
        // Rust prints the shortest text that reads back as the same f64,
        // and PostgreSQL reads it exactly.
        (_, ValueRef::Real(r)) => {
            let _ = write!(line, "{r}");
        }
        (_, ValueRef::Text(text)) => push_escaped(line, text),
        (_, ValueRef::Blob(_)) => {
            return Err(format!("a blob where a {} value belongs", ty.name()));
        }
    }
    Ok(())
}

/// Escapes the characters COPY's text format gives a meaning.
fn push_escaped(line: &mut Vec<u8>, text: &[u8]) {
    for &byte in text {
        match byte {
            b'\\' => line.extend_from_slice(b"\\\\"),
            b'\t' => line.extend_from_slice(b"\\t"),
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            _ => line.push(byte),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(ty: &FieldType, value: ValueRef<'_>) -> String {
        let mut line = Vec::new();
        push_value(&mut line, ty, value).unwrap();
        String::from_utf8(line).unwrap()
    }

    #[test]
    fn values_in_copy_text_format() {
        assert_eq!(text(&FieldType::Text, ValueRef::Null), "\\N");
        assert_eq!(text(&FieldType::Bool, ValueRef::Integer(1)), "t");
        assert_eq!(text(&FieldType::Bool, ValueRef::Integer(0)), "f");
        assert_eq!(text(&FieldType::Decimal, ValueRef::Real(0.1)), "0.1");
        assert_eq!(
            text(&FieldType::Text, ValueRef::Text("a\tb\\c\nd".as_bytes())),
            "a\\tb\\\\c\\nd"
        );
        assert!(push_value(&mut Vec::new(), &FieldType::Text, ValueRef::Blob(b"x")).is_err());
    }
}
