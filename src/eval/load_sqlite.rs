//! Loading a [`Store`] from a SQLite database in the schema's layout (SPEC
//! §3.1 storage forms). Given a plan, only the tables and columns it touches
//! are read, plus the keys and foreign keys its relationship hops need.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::builder::{assemble, Pending, PendingColumn, TableBuilder};
use super::column::{parse_date, parse_datetime, parse_uuid};
use super::store::Store;
use crate::check::plan::{Plan, PlanExpr};
use crate::error::{Error, Result};
use crate::schema::{Entity, Field, FieldType, Relationship, Schema};

impl Store {
    /// Loads the records of `schema`'s entities from `conn`. With a plan, only
    /// what the plan needs is read; with `None`, every entity, field and
    /// relationship. A missing table or column, or a stored value that is not
    /// in its type's stored form, is an [`Error::Database`] naming the table,
    /// the column and the record.
    pub fn load_sqlite(conn: &Connection, schema: &Schema, plan: Option<&Plan>) -> Result<Store> {
        let needs = match plan {
            Some(plan) => Needs::of_plan(plan, schema)?,
            None => Needs::everything(schema),
        };
        let mut tables = Vec::new();
        for (entity_name, fields) in &needs.fields {
            let entity = schema.entity(entity_name).ok_or_else(|| Error::Schema {
                message: format!("the schema has no entity '{entity_name}'"),
            })?;
            let fields: Vec<&Field> = entity
                .fields
                .iter()
                .filter(|f| f.name != entity.key && fields.contains(&f.name.to_ascii_lowercase()))
                .collect();
            tables.push(load_table(conn, entity, &fields)?);
        }
        let rels: Vec<&Relationship> = schema
            .relationships
            .iter()
            .filter(|r| needs.relationships.contains(&r.name.to_ascii_lowercase()))
            .collect();
        assemble(tables, &rels)
    }
}

/// Entities (lowercase name → lowercase field names) and relationships to load.
struct Needs {
    fields: BTreeMap<String, BTreeSet<String>>,
    relationships: BTreeSet<String>,
}

impl Needs {
    fn everything(schema: &Schema) -> Needs {
        Needs {
            fields: schema
                .entities
                .iter()
                .map(|e| {
                    let names = e
                        .fields
                        .iter()
                        .map(|f| f.name.to_ascii_lowercase())
                        .collect();
                    (e.name.to_ascii_lowercase(), names)
                })
                .collect(),
            relationships: schema
                .relationships
                .iter()
                .map(|r| r.name.to_ascii_lowercase())
                .collect(),
        }
    }

    fn of_plan(plan: &Plan, schema: &Schema) -> Result<Needs> {
        let mut needs = Needs {
            fields: BTreeMap::new(),
            relationships: BTreeSet::new(),
        };
        needs.entity(&plan.entity);
        // An explicit stack rather than recursion: plans may be deep.
        let mut stack = vec![&plan.filter];
        while let Some(expr) = stack.pop() {
            match expr {
                PlanExpr::Const(_) => {}
                PlanExpr::Not(e) => stack.push(e),
                PlanExpr::And(es) | PlanExpr::Or(es) => stack.extend(es),
                PlanExpr::Field(t) => {
                    needs
                        .entity(&t.field.entity)
                        .insert(t.field.field.to_ascii_lowercase());
                }
                PlanExpr::Related(r) => {
                    let rel =
                        schema
                            .relationship(&r.link.relationship)
                            .ok_or_else(|| Error::Schema {
                                message: format!(
                                    "the schema has no relationship '{}'",
                                    r.link.relationship
                                ),
                            })?;
                    needs.relationships.insert(rel.name.to_ascii_lowercase());
                    needs.entity(&rel.parent);
                    needs
                        .entity(&rel.child)
                        .insert(rel.child_field.to_ascii_lowercase());
                    stack.push(&r.filter);
                }
            }
        }
        Ok(needs)
    }

    fn entity(&mut self, name: &str) -> &mut BTreeSet<String> {
        self.fields.entry(name.to_ascii_lowercase()).or_default()
    }
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn db_error(e: rusqlite::Error) -> Error {
    Error::Database {
        message: e.to_string(),
    }
}

/// The column names of `table`, or an error when the table does not exist.
fn table_columns(conn: &Connection, entity: &Entity) -> Result<BTreeSet<String>> {
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

fn load_table(conn: &Connection, entity: &Entity, fields: &[&Field]) -> Result<TableBuilder> {
    let key = entity.key_field().ok_or_else(|| Error::Schema {
        message: format!("entity {} has no key field '{}'", entity.name, entity.key),
    })?;
    let present = table_columns(conn, entity)?;
    for f in std::iter::once(&key).chain(fields) {
        if !present.contains(&f.column.to_ascii_lowercase()) {
            return Err(Error::Database {
                message: format!(
                    "table '{}' has no column '{}' (field {}.{})",
                    entity.table, f.column, entity.name, f.name
                ),
            });
        }
    }
    let mut sql = format!("SELECT {}", quote(&key.column));
    for f in fields {
        sql.push_str(", ");
        sql.push_str(&quote(&f.column));
    }
    sql.push_str(" FROM ");
    sql.push_str(&quote(&entity.table));
    let mut stmt = conn.prepare(&sql).map_err(db_error)?;
    let mut rows = stmt.query([]).map_err(db_error)?;
    let mut builder = TableBuilder {
        entity: entity.name.clone(),
        key_field: entity.key.clone(),
        keys: Vec::new(),
        columns: fields
            .iter()
            .map(|f| PendingColumn::new(&f.name, &f.ty))
            .collect(),
    };
    while let Some(row) = rows.next().map_err(db_error)? {
        let key_ref = row.get_ref(0).map_err(db_error)?;
        let id = match key_ref {
            ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(parse_uuid),
            _ => None,
        }
        .ok_or_else(|| Error::Database {
            message: format!(
                "table '{}', column '{}', row {}: the key {} is not a lowercase hyphenated uuid",
                entity.table,
                key.column,
                builder.keys.len() + 1,
                describe(key_ref)
            ),
        })?;
        builder.keys.push(id);
        for (i, (field, col)) in fields.iter().zip(&mut builder.columns).enumerate() {
            let value = row.get_ref(i + 1).map_err(db_error)?;
            if !push_value(col, value) {
                return Err(Error::Database {
                    message: format!(
                        "table '{}', column '{}', row id {}: cannot read {} as {}",
                        entity.table,
                        field.column,
                        uuid::Uuid::from_u128(id),
                        describe(value),
                        stored_form(&field.ty)
                    ),
                });
            }
        }
    }
    Ok(builder)
}

/// Appends one stored value; false when it is not in the type's stored form.
fn push_value(col: &mut PendingColumn, value: ValueRef<'_>) -> bool {
    if let ValueRef::Null = value {
        col.push_null();
        return true;
    }
    let text = match value {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    };
    let ok = match (&mut col.data, value) {
        (Pending::Text { .. }, _) => return text.is_some_and(|s| col.push_text(s)),
        (Pending::Uuid(v), _) => text.and_then(parse_uuid).map(|x| v.push(x)).is_some(),
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
        (Pending::Date(v), _) => text.and_then(parse_date).map(|x| v.push(x)).is_some(),
        (Pending::DateTime(v), _) => text.and_then(parse_datetime).map(|x| v.push(x)).is_some(),
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
