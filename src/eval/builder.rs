//! Building a [`Store`]: columns are collected in arrival order, then sorted
//! by key once (for entities whose keys are kept), narrowed, and the
//! relationship indexes are built. [`StoreBuilder`] is the public way in for
//! data held in Rust; the SQLite loader feeds the same pending columns.

use uuid::Uuid;

use super::column::{days_from_civil, parse_uuid, ColumnData};
use super::keys::KeyIndex;
use super::pending::{Pending, PendingColumn};
use super::store::{LinkIndex, Store, Table, NONE};
use crate::error::{Error, Result};
use crate::plan::Value;
use crate::schema::{Entity, FieldType, Relationship, Schema};

/// One entity's records as they arrive.
pub(crate) struct TableBuilder {
    pub(crate) entity: String,
    /// Name of the key field, whose values are `keys`.
    pub(crate) key_field: String,
    /// Whether the keys are read. Without them (an entity reached only as
    /// the child side of relationships, whose key no test uses) the rows
    /// stay in arrival order and `keys` stays empty.
    pub(crate) keyed: bool,
    /// The keys in arrival order.
    pub(crate) keys: Vec<u128>,
    /// Number of records read.
    pub(crate) rows: usize,
    pub(crate) columns: Vec<PendingColumn>,
    /// Per relationship (by name) whose foreign key is among `columns` and
    /// was resolved while reading, the parent row of every row read.
    resolved: Vec<(String, Vec<u32>)>,
}

impl TableBuilder {
    /// An empty table of `entity` with a pending column per field of `fields`.
    pub(crate) fn new<'f>(
        entity: &Entity,
        keyed: bool,
        fields: impl IntoIterator<Item = &'f crate::schema::Field>,
    ) -> TableBuilder {
        TableBuilder {
            entity: entity.name.clone(),
            key_field: entity.key.clone(),
            keyed,
            keys: Vec::new(),
            rows: 0,
            columns: fields
                .into_iter()
                .map(|f| PendingColumn::new(&f.name, &f.ty))
                .collect(),
            resolved: Vec::new(),
        }
    }

    /// Resolves the foreign keys in column `column` (a uuid column) of the
    /// rows read so far to rows of a parent with keys `parent_keys`, for
    /// `relationship`.
    pub(crate) fn resolve(&mut self, relationship: &str, column: usize, parent_keys: &KeyIndex) {
        if self.resolved.iter().any(|(name, _)| name == relationship) {
            return;
        }
        let Some((fks, nulls)) = self.columns.get(column).and_then(|c| c.uuids()) else {
            return;
        };
        let mut rows = parent_keys.find_each(fks, NONE);
        for &n in nulls {
            rows[n as usize] = NONE;
        }
        self.resolved.push((relationship.to_string(), rows));
    }

    /// Makes room for `more` rows.
    pub(crate) fn reserve(&mut self, more: usize) {
        if self.keyed {
            self.keys.reserve(more);
        }
        for col in &mut self.columns {
            col.reserve(more);
        }
    }

    /// One table of the parts of a table, rows in the parts' order.
    pub(crate) fn join(parts: Vec<TableBuilder>) -> Option<TableBuilder> {
        let rows: usize = parts.iter().map(|p| p.rows).sum();
        let mut parts = parts.into_iter();
        let mut table = parts.next()?;
        table.reserve(rows - table.rows);
        for mut part in parts {
            table.keys.extend(part.keys);
            table.rows += part.rows;
            for (col, more) in table.columns.iter_mut().zip(part.columns) {
                col.append(more);
            }
            // A relationship stays resolved only if every part resolved it.
            table.resolved.retain_mut(|(name, rows)| {
                let more = part.resolved.iter_mut().find(|(n, _)| n == name);
                more.map(|(_, more)| rows.append(more)).is_some()
            });
        }
        Some(table)
    }

    /// Sorts by key (when keyed) and finishes every column. Duplicate keys
    /// are an error.
    pub(crate) fn finish(self) -> Result<Table> {
        if self.rows >= u32::MAX as usize {
            return Err(Error::Database {
                message: format!(
                    "{} has too many records for the in-memory store",
                    self.entity
                ),
            });
        }
        let (keys, perm) = if self.keyed {
            let (index, perm) = KeyIndex::sort(&self.keys);
            if let Some(k) = index.duplicate() {
                return Err(Error::Database {
                    message: format!(
                        "{} has two records with the key {}",
                        self.entity,
                        Uuid::from_u128(k)
                    ),
                });
            }
            (Some(index), Some(perm))
        } else {
            (None, None)
        };
        let columns = self
            .columns
            .into_iter()
            .map(|c| (c.name.clone(), c.finish(perm.as_deref())))
            .collect();
        let resolved = self
            .resolved
            .into_iter()
            .map(|(name, rows)| match &perm {
                Some(perm) => (name, perm.iter().map(|&r| rows[r as usize]).collect()),
                None => (name, rows),
            })
            .collect();
        Ok(Table {
            entity: self.entity,
            key_field: self.key_field,
            rows: self.rows,
            keys,
            columns,
            resolved,
        })
    }
}

/// Builds the index of every relationship in `relationships` whose two
/// entities and foreign-key column are present among `tables`.
pub(crate) fn assemble(tables: Vec<Table>, relationships: &[&Relationship]) -> Result<Store> {
    let mut store = Store {
        tables,
        links: Vec::new(),
    };
    let mut resolved: Vec<Vec<(String, Vec<u32>)>> = store
        .tables
        .iter_mut()
        .map(|t| std::mem::take(&mut t.resolved))
        .collect();
    for rel in relationships {
        let (Some(child), Some(parent)) = (
            store.table_index(&rel.child),
            store.table_index(&rel.parent),
        ) else {
            continue;
        };
        let Some(fk) = store.tables[child].column(&rel.child_field) else {
            continue;
        };
        let ColumnData::Uuid(values) = &fk.data else {
            return Err(Error::Schema {
                message: format!(
                    "{}.{} links to {} but is not a uuid field",
                    rel.child, rel.child_field, rel.parent
                ),
            });
        };
        let parent_keys = store.tables[parent]
            .keys
            .as_ref()
            .ok_or_else(|| Error::Internal {
                message: format!("{} was loaded without its keys", rel.parent),
            })?;
        let done = resolved[child]
            .iter()
            .position(|(name, _)| *name == rel.name);
        if let Some(at) = done {
            let (_, parent_of) = resolved[child].swap_remove(at);
            let parents = parent_keys.keys().len();
            store.links.push(LinkIndex::with_parents(
                &rel.name,
                child,
                parent,
                parent_of.into(),
                parents,
            ));
            continue;
        }
        let link = LinkIndex::build(
            &rel.name,
            child,
            parent,
            values,
            fk.valid.as_ref(),
            parent_keys,
        );
        store.links.push(link);
    }
    Ok(store)
}

/// Builds a [`Store`] from values held in Rust, so a segment can be evaluated
/// without a database:
///
/// ```
/// use segql::plan::Value;
/// use segql::eval::StoreBuilder;
/// let schema = segql::schema::crm_schema();
/// let mut b = StoreBuilder::new(&schema);
/// let id = uuid::Uuid::from_u128(1);
/// b.insert("contact", [("id", Value::Uuid(id)), ("city", Value::Text("Oslo".into()))]).unwrap();
/// let store = b.build().unwrap();
/// assert_eq!(store.ids("contact"), vec![id]);
/// ```
pub struct StoreBuilder {
    entities: Vec<Entity>,
    relationships: Vec<Relationship>,
    tables: Vec<TableBuilder>,
}

impl StoreBuilder {
    /// A builder holding every entity and relationship of `schema`, all empty.
    pub fn new(schema: &Schema) -> StoreBuilder {
        let tables = schema
            .entities
            .iter()
            .map(|e| TableBuilder::new(e, true, &e.fields))
            .collect();
        StoreBuilder {
            entities: schema.entities.clone(),
            relationships: schema.relationships.clone(),
            tables,
        }
    }

    /// Adds one record of `entity`. The key field must be given as a uuid.
    /// Omitted fields are NULL, except non-nullable bool fields, which
    /// default to false (as the stored tables' `NOT NULL DEFAULT 0`).
    /// Choices take their code (`Integer` or `Choice`) or label (`Text`).
    pub fn insert<'v>(
        &mut self,
        entity: &str,
        values: impl IntoIterator<Item = (&'v str, Value)>,
    ) -> Result<()> {
        let invalid = |message: String| Error::InvalidValue {
            message,
            span: Default::default(),
        };
        let ei = self
            .entities
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(entity))
            .ok_or_else(|| invalid(format!("unknown entity '{entity}'")))?;
        let ent = &self.entities[ei];
        let mut row: Vec<Option<Value>> = vec![None; ent.fields.len()];
        for (name, value) in values {
            let fi = ent
                .fields
                .iter()
                .position(|f| f.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| invalid(format!("unknown field '{name}' on {}", ent.name)))?;
            row[fi] = Some(value);
        }
        let key_index = ent.fields.iter().position(|f| f.name == ent.key);
        let key = match key_index.and_then(|k| row[k].as_ref()) {
            Some(Value::Uuid(u)) => u.as_u128(),
            _ => {
                return Err(invalid(format!(
                    "a {} record needs its key '{}' as a uuid",
                    ent.name, ent.key
                )))
            }
        };
        // Convert every value before touching the columns, so a bad value
        // leaves the builder unchanged.
        let mut typed = Vec::with_capacity(row.len());
        for (field, value) in ent.fields.iter().zip(row) {
            let value = match value {
                None if !field.nullable && field.ty == FieldType::Bool => Some(Value::Bool(false)),
                v => v,
            };
            typed.push(match value {
                None => None,
                Some(v) => Some(to_datum(&field.ty, v).ok_or_else(|| {
                    invalid(format!(
                        "{}.{} is a {} field",
                        ent.name,
                        field.name,
                        field.ty.name()
                    ))
                })?),
            });
        }
        let table = &mut self.tables[ei];
        table.keys.push(key);
        table.rows += 1;
        for (col, datum) in table.columns.iter_mut().zip(typed) {
            push_datum(col, datum);
        }
        Ok(())
    }

    /// Sorts, encodes and indexes everything added so far.
    pub fn build(self) -> Result<Store> {
        let rels: Vec<&Relationship> = self.relationships.iter().collect();
        let tables = self
            .tables
            .into_iter()
            .map(TableBuilder::finish)
            .collect::<Result<_>>()?;
        assemble(tables, &rels)
    }
}

/// A value converted to its column's storage form.
enum Datum {
    U128(u128),
    I64(i64),
    F64(f64),
    Bool(bool),
    I32(i32),
    Text(String),
}

fn to_datum(ty: &FieldType, v: Value) -> Option<Datum> {
    Some(match (ty, v) {
        (FieldType::Uuid, Value::Uuid(u)) => Datum::U128(u.as_u128()),
        (FieldType::Uuid, Value::Text(s)) => Datum::U128(parse_uuid(s.as_bytes())?),
        (FieldType::Text, Value::Text(s)) => Datum::Text(s),
        (FieldType::Integer, Value::Integer(i)) => Datum::I64(i),
        (FieldType::Decimal, Value::Decimal(f)) if f.is_finite() => Datum::F64(f),
        (FieldType::Decimal, Value::Integer(i)) => Datum::F64(i as f64),
        (FieldType::Bool, Value::Bool(b)) => Datum::Bool(b),
        (FieldType::Date, Value::Date(d)) => {
            use chrono::Datelike;
            Datum::I32(days_from_civil(d.year() as i64, d.month(), d.day()) as i32)
        }
        (FieldType::DateTime, Value::DateTime(t)) => Datum::I64(t.timestamp()),
        (FieldType::Choice(_), Value::Integer(code) | Value::Choice { code, .. }) => {
            Datum::I64(code)
        }
        (FieldType::Choice(set), Value::Text(label)) => Datum::I64(set.by_label(&label)?.code),
        _ => return None,
    })
}

fn push_datum(col: &mut PendingColumn, datum: Option<Datum>) {
    let Some(datum) = datum else {
        col.push_null();
        return;
    };
    match (&mut col.data, datum) {
        (Pending::Uuid(v), Datum::U128(x)) => v.push(x),
        (Pending::Int(v) | Pending::DateTime(v), Datum::I64(x)) => v.push(x),
        (Pending::Decimal(v), Datum::F64(x)) => v.push(x),
        (Pending::Bool(v), Datum::Bool(x)) => v.push(x),
        (Pending::Date(v), Datum::I32(x)) => v.push(x),
        (Pending::Text { .. }, Datum::Text(s)) => {
            col.push_text(s.as_bytes());
            return;
        }
        // `to_datum` matches the field type, so this cannot happen; a NULL
        // keeps the columns aligned if it ever did.
        _ => {
            col.push_null();
            return;
        }
    }
    col.pushed();
}
