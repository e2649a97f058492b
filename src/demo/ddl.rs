//! The database layout (DDL) of a schema, for SQLite and PostgreSQL.
//!
//! Storage follows SPEC §3.1, as each dialect spells it. Tables get their
//! primary key at creation; the indexes on foreign-key fields are separate
//! (`create_indexes`) so that bulk
//! loads can build them once, after the rows are in, which is much faster than
//! maintaining them row by row. No foreign-key constraints are declared: an
//! orphaned lead is a legitimate state here, and segql also works on databases
//! that have none.

use crate::db::sqlite::error as sqlite_error;
use crate::db::Backend;
use crate::error::Result;
use crate::schema::{Entity, FieldType, Schema};
use crate::sql::{self, Dialect};

/// Creates every table of `schema` in the database, in one transaction.
pub fn create_tables(db: &mut dyn Backend, schema: &Schema) -> Result<()> {
    db.execute_batch(&tables_sql(schema, db.dialect(), Key::PrimaryKey))
}

/// Creates an index on every foreign-key field of `schema`.
pub fn create_indexes(db: &mut dyn Backend, schema: &Schema) -> Result<()> {
    db.execute_batch(&indexes_sql(schema, db.dialect()))
}

/// Creates the tables for a bulk load into SQLite: keys are `NOT NULL` but
/// get their unique index only from `create_key_indexes_sqlite`, after the
/// load.
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
    conn.execute_batch(&tables_sql(schema, &sql::Sqlite, Key::Later))
        .map_err(sqlite_error)
}

/// The unique indexes on the keys of tables made by `create_bulk_tables_sqlite`.
pub(crate) fn create_key_indexes_sqlite(
    conn: &rusqlite::Connection,
    schema: &Schema,
) -> Result<()> {
    let d = &sql::Sqlite;
    let mut sql = String::new();
    for entity in &schema.entities {
        let Some(key) = entity.key_field() else {
            continue;
        };
        sql.push_str(&format!(
            "CREATE UNIQUE INDEX {} ON {} ({});\n",
            d.quote_ident(&format!("{}_{}_key", entity.table, key.column)),
            d.quote_ident(&entity.table),
            d.quote_ident(&key.column)
        ));
    }
    conn.execute_batch(&sql).map_err(sqlite_error)
}

/// How a table's key is declared.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Key {
    PrimaryKey,
    /// Only `NOT NULL`; a unique index follows after a bulk load.
    Later,
}

pub(crate) fn tables_sql(schema: &Schema, dialect: &dyn Dialect, key: Key) -> String {
    let mut sql = String::new();
    for entity in &schema.entities {
        sql.push_str(&table_sql(entity, dialect, key));
    }
    sql
}

fn table_sql(entity: &Entity, dialect: &dyn Dialect, key: Key) -> String {
    let columns: Vec<String> = entity
        .fields
        .iter()
        .map(|field| {
            let mut column = format!(
                "{} {}",
                dialect.quote_ident(&field.column),
                dialect.column_type(&field.ty)
            );
            if field.ty == FieldType::Text {
                column.push_str(dialect.text_column_suffix());
            }
            let is_key = field.name == entity.key;
            if is_key || !field.nullable {
                column.push_str(" NOT NULL");
            }
            // A record created without naming a flag (a new contact, say)
            // gets `false`, never a missing value.
            if field.ty == FieldType::Bool && !field.nullable {
                column.push_str(" DEFAULT ");
                column.push_str(&dialect.stored_bool(false));
            }
            if is_key && key == Key::PrimaryKey {
                column.push_str(" PRIMARY KEY");
            }
            column
        })
        .collect();
    format!(
        "CREATE TABLE {} (\n    {}\n);\n",
        dialect.quote_ident(&entity.table),
        columns.join(",\n    ")
    )
}

pub(crate) fn indexes_sql(schema: &Schema, dialect: &dyn Dialect) -> String {
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
            dialect.quote_ident(&index),
            dialect.quote_ident(&child.table),
            dialect.quote_ident(&field.column)
        );
        // Two relationships over the same field need one index.
        if !sql.contains(&statement) {
            sql.push_str(&statement);
        }
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::crm_schema;

    #[test]
    fn contact_table_has_keys_and_flag_defaults() {
        let schema = crm_schema();
        let contact = schema.entity("contact").unwrap();
        let sql = table_sql(contact, &sql::Sqlite, Key::PrimaryKey);
        assert!(sql.contains(" id TEXT NOT NULL PRIMARY KEY"), "{sql}");
        assert!(
            sql.contains(" do_not_email INTEGER NOT NULL DEFAULT 0"),
            "{sql}"
        );
        assert!(sql.contains(" birth_date TEXT,"), "{sql}");
        let pg = table_sql(contact, &sql::Postgres, Key::PrimaryKey);
        assert!(pg.contains(" id uuid NOT NULL PRIMARY KEY"), "{pg}");
        assert!(
            pg.contains(" is_child boolean NOT NULL DEFAULT false"),
            "{pg}"
        );
        assert!(pg.contains(" email text COLLATE \"C\","), "{pg}");
        assert!(pg.contains(" created_on timestamptz,"), "{pg}");
    }

    #[test]
    fn every_foreign_key_is_indexed_once() {
        let sql = indexes_sql(&crm_schema(), &sql::Sqlite);
        assert_eq!(sql.matches("CREATE INDEX").count(), 5, "{sql}");
        assert!(sql.contains("lead_contact_id_idx ON lead (contact_id)"));
    }
}
