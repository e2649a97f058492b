//! The database layout (DDL) of a schema, for SQLite and PostgreSQL.
//!
//! Storage follows SPEC §3.1. Tables get their primary key at creation; the
//! indexes on foreign-key fields are separate (`create_indexes_*`) so that bulk
//! loads can build them once, after the rows are in, which is much faster than
//! maintaining them row by row. No foreign-key constraints are declared: an
//! orphaned lead is a legitimate state here, and segql also works on databases
//! that have none.

use crate::error::{Error, Result};
use crate::schema::{Entity, FieldType, Schema};

/// Creates every table of `schema` in an SQLite database.
pub fn create_tables_sqlite(conn: &rusqlite::Connection, schema: &Schema) -> Result<()> {
    conn.execute_batch(&tables_sql(schema, &SqliteTypes, Key::PrimaryKey))
        .map_err(sqlite_error)
}

/// Creates the tables for a bulk load: keys are `NOT NULL` but get their
/// unique index only from `create_key_indexes_sqlite`, after the load.
///
/// SQLite keeps a text primary key in an index of its own, updated on every
/// insert; with random uuids that is a random B-tree insert per row, the
/// largest single cost of writing the demo data. Building the same unique
/// index once from sorted keys is several times cheaper. SQLite cannot add a
/// PRIMARY KEY to an existing table, so such tables have a unique index on
/// the key instead, which behaves the same for every query segql runs.
pub(crate) fn create_bulk_tables_sqlite(
    conn: &rusqlite::Connection,
    schema: &Schema,
) -> Result<()> {
    conn.execute_batch(&tables_sql(schema, &SqliteTypes, Key::Later))
        .map_err(sqlite_error)
}

/// The unique indexes on the keys of tables made by `create_bulk_tables_sqlite`.
pub(crate) fn create_key_indexes_sqlite(
    conn: &rusqlite::Connection,
    schema: &Schema,
) -> Result<()> {
    let mut sql = String::new();
    for entity in &schema.entities {
        let Some(key) = entity.key_field() else {
            continue;
        };
        sql.push_str(&format!(
            "CREATE UNIQUE INDEX {} ON {} ({});\n",
            quote_ident(&format!("{}_{}_key", entity.table, key.column)),
            quote_ident(&entity.table),
            quote_ident(&key.column)
        ));
    }
    conn.execute_batch(&sql).map_err(sqlite_error)
}

/// Creates an index on every foreign-key field of `schema` in SQLite.
pub fn create_indexes_sqlite(conn: &rusqlite::Connection, schema: &Schema) -> Result<()> {
    conn.execute_batch(&indexes_sql(schema))
        .map_err(sqlite_error)
}

/// Creates every table of `schema` in a PostgreSQL database.
pub fn create_tables_postgres<C: postgres::GenericClient>(
    client: &mut C,
    schema: &Schema,
) -> Result<()> {
    client
        .batch_execute(&tables_sql(schema, &PostgresTypes, Key::PrimaryKey))
        .map_err(postgres_error)
}

/// Creates an index on every foreign-key field of `schema` in PostgreSQL.
pub fn create_indexes_postgres<C: postgres::GenericClient>(
    client: &mut C,
    schema: &Schema,
) -> Result<()> {
    client
        .batch_execute(&indexes_sql(schema))
        .map_err(postgres_error)
}

/// The column type a field is stored as in SQLite (SPEC §3.1).
pub fn sqlite_type(ty: &FieldType) -> &'static str {
    SqliteTypes.column_type(ty)
}

/// The column type a field is stored as in PostgreSQL (SPEC §3.1).
pub fn postgres_type(ty: &FieldType) -> &'static str {
    PostgresTypes.column_type(ty)
}

/// Quotes an identifier for SQL (both dialects use double quotes).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The storage types of one database.
trait ColumnTypes {
    fn column_type(&self, ty: &FieldType) -> &'static str;
    /// What follows the type of a text column.
    fn text_suffix(&self) -> &'static str {
        ""
    }
}

struct SqliteTypes;
struct PostgresTypes;

impl ColumnTypes for SqliteTypes {
    fn column_type(&self, ty: &FieldType) -> &'static str {
        match ty {
            FieldType::Uuid | FieldType::Text | FieldType::Date | FieldType::DateTime => "TEXT",
            FieldType::Integer | FieldType::Choice(_) | FieldType::Bool => "INTEGER",
            FieldType::Decimal => "REAL",
        }
    }
}

impl ColumnTypes for PostgresTypes {
    fn column_type(&self, ty: &FieldType) -> &'static str {
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

    /// Text compares by code point in segql (SPEC §2.3); the "C" collation
    /// makes the column's own order agree, whatever the database's locale.
    fn text_suffix(&self) -> &'static str {
        " COLLATE \"C\""
    }
}

/// How a table's key is declared.
#[derive(Clone, Copy, PartialEq)]
enum Key {
    PrimaryKey,
    /// Only `NOT NULL`; a unique index follows after a bulk load.
    Later,
}

fn tables_sql(schema: &Schema, types: &dyn ColumnTypes, key: Key) -> String {
    let mut sql = String::new();
    for entity in &schema.entities {
        sql.push_str(&table_sql(entity, types, key));
    }
    sql
}

fn table_sql(entity: &Entity, types: &dyn ColumnTypes, key: Key) -> String {
    let columns: Vec<String> = entity
        .fields
        .iter()
        .map(|field| {
            let mut column = format!(
                "{} {}",
                quote_ident(&field.column),
                types.column_type(&field.ty)
            );
            if field.ty == FieldType::Text {
                column.push_str(types.text_suffix());
            }
            let is_key = field.name == entity.key;
            if is_key || !field.nullable {
                column.push_str(" NOT NULL");
            }
            // A record created without naming a flag (a new contact, say)
            // gets `false`, never a missing value.
            if field.ty == FieldType::Bool && !field.nullable {
                column.push_str(if types.column_type(&field.ty) == "boolean" {
                    " DEFAULT false"
                } else {
                    " DEFAULT 0"
                });
            }
            if is_key && key == Key::PrimaryKey {
                column.push_str(" PRIMARY KEY");
            }
            column
        })
        .collect();
    format!(
        "CREATE TABLE {} (\n    {}\n);\n",
        quote_ident(&entity.table),
        columns.join(",\n    ")
    )
}

fn indexes_sql(schema: &Schema) -> String {
    let mut sql = String::new();
    for rel in &schema.relationships {
        let Some(child) = schema.entity(&rel.child) else {
            continue;
        };
        let Some(field) = child.field(&rel.child_field) else {
            continue;
        };
        let index = format!("{}_{}_idx", child.table, field.column);
        let statement = format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} ({});\n",
            quote_ident(&index),
            quote_ident(&child.table),
            quote_ident(&field.column)
        );
        // Two relationships over the same field need one index.
        if !sql.contains(&statement) {
            sql.push_str(&statement);
        }
    }
    sql
}

pub(crate) fn sqlite_error(e: rusqlite::Error) -> Error {
    Error::Database {
        message: e.to_string(),
    }
}

pub(crate) fn postgres_error(e: postgres::Error) -> Error {
    // The server's own message (with detail) says more than the wrapper's.
    let message = match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {}", db.message(), detail),
            None => db.message().to_string(),
        },
        None => e.to_string(),
    };
    Error::Database { message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::crm_schema;

    #[test]
    fn contact_table_has_keys_and_flag_defaults() {
        let schema = crm_schema();
        let contact = schema.entity("contact").unwrap();
        let sql = table_sql(contact, &SqliteTypes, Key::PrimaryKey);
        assert!(sql.contains("\"id\" TEXT NOT NULL PRIMARY KEY"), "{sql}");
        assert!(
            sql.contains("\"do_not_email\" INTEGER NOT NULL DEFAULT 0"),
            "{sql}"
        );
        assert!(sql.contains("\"birth_date\" TEXT,"), "{sql}");
        let pg = table_sql(contact, &PostgresTypes, Key::PrimaryKey);
        assert!(pg.contains("\"id\" uuid NOT NULL PRIMARY KEY"), "{pg}");
        assert!(
            pg.contains("\"is_child\" boolean NOT NULL DEFAULT false"),
            "{pg}"
        );
        assert!(pg.contains("\"email\" text COLLATE \"C\","), "{pg}");
        assert!(pg.contains("\"created_on\" timestamptz,"), "{pg}");
    }

    #[test]
    fn every_foreign_key_is_indexed_once() {
        let sql = indexes_sql(&crm_schema());
        assert_eq!(sql.matches("CREATE INDEX").count(), 5, "{sql}");
        assert!(sql.contains("\"lead_contact_id_idx\" ON \"lead\" (\"contact_id\")"));
    }
}
