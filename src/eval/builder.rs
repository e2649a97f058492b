//! Building a [`Store`]: columns are collected in arrival order, then sorted
//! by key once, narrowed and dictionary-encoded, and the relationship indexes
//! are built. [`StoreBuilder`] is the public way in for data held in Rust;
//! the SQLite loader feeds the same pending columns.

use std::collections::HashMap;

use uuid::Uuid;

use super::bitmap::Bitmap;
use super::column::{days_from_civil, parse_uuid, Column, ColumnData, Ints, Text};
use super::store::{LinkIndex, Store, Table};
use crate::check::plan::Value;
use crate::error::{Error, Result};
use crate::schema::{Entity, FieldType, Relationship, Schema};

/// Values of one field in arrival order; NULL rows hold a placeholder.
pub(crate) enum Pending {
    Uuid(Vec<u128>),
    Int(Vec<i64>),
    Decimal(Vec<f64>),
    Bool(Vec<bool>),
    Date(Vec<i32>),
    DateTime(Vec<i64>),
    Text { offsets: Vec<usize>, bytes: String },
}

pub(crate) struct PendingColumn {
    pub(crate) name: String,
    pub(crate) data: Pending,
    valid: Vec<bool>,
    nulls: usize,
}

impl PendingColumn {
    pub(crate) fn new(name: &str, ty: &FieldType) -> PendingColumn {
        let data = match ty {
            FieldType::Uuid => Pending::Uuid(Vec::new()),
            FieldType::Text => Pending::Text {
                offsets: vec![0],
                bytes: String::new(),
            },
            FieldType::Integer | FieldType::Choice(_) => Pending::Int(Vec::new()),
            FieldType::Decimal => Pending::Decimal(Vec::new()),
            FieldType::Bool => Pending::Bool(Vec::new()),
            FieldType::Date => Pending::Date(Vec::new()),
            FieldType::DateTime => Pending::DateTime(Vec::new()),
        };
        PendingColumn {
            name: name.to_string(),
            data,
            valid: Vec::new(),
            nulls: 0,
        }
    }

    pub(crate) fn push_null(&mut self) {
        match &mut self.data {
            Pending::Uuid(v) => v.push(0),
            Pending::Int(v) => v.push(0),
            Pending::Decimal(v) => v.push(0.0),
            Pending::Bool(v) => v.push(false),
            Pending::Date(v) => v.push(0),
            Pending::DateTime(v) => v.push(0),
            Pending::Text { offsets, bytes } => offsets.push(bytes.len()),
        }
        self.valid.push(false);
        self.nulls += 1;
    }

    /// Marks the value just pushed into `data` as present.
    pub(crate) fn pushed(&mut self) {
        self.valid.push(true);
    }

    pub(crate) fn push_text(&mut self, s: &str) -> bool {
        if let Pending::Text { offsets, bytes } = &mut self.data {
            bytes.push_str(s);
            offsets.push(bytes.len());
            self.pushed();
            true
        } else {
            false
        }
    }

    /// Gathers rows in `perm` order into a finished column.
    fn finish(self, perm: &[u32]) -> Column {
        fn gather<T: Copy>(v: &[T], perm: &[u32]) -> Vec<T> {
            perm.iter().map(|&r| v[r as usize]).collect()
        }
        let valid =
            (self.nulls > 0).then(|| Bitmap::from_fn(perm.len(), |i| self.valid[perm[i] as usize]));
        let data = match self.data {
            Pending::Uuid(v) => ColumnData::Uuid(gather(&v, perm)),
            Pending::Int(v) => ColumnData::Int(Ints::narrow(gather(&v, perm))),
            Pending::Decimal(v) => ColumnData::Decimal(gather(&v, perm)),
            Pending::Bool(v) => {
                ColumnData::Bool(Bitmap::from_fn(perm.len(), |i| v[perm[i] as usize]))
            }
            Pending::Date(v) => ColumnData::Date(gather(&v, perm)),
            Pending::DateTime(v) => ColumnData::DateTime(gather(&v, perm)),
            Pending::Text { offsets, bytes } => {
                ColumnData::Text(finish_text(&offsets, &bytes, &self.valid, perm))
            }
        };
        Column { data, valid }
    }
}

/// Dictionary-encodes when values repeat (at most one distinct value per two
/// rows, checked as rows arrive so a column of unique values gives up after a
/// few hundred rows); otherwise stores the texts back to back.
fn finish_text(offsets: &[usize], bytes: &str, valid: &[bool], perm: &[u32]) -> Text {
    let get = |r: usize| {
        if valid[r] {
            &bytes[offsets[r]..offsets[r + 1]]
        } else {
            ""
        }
    };
    let mut map: HashMap<&str, u32> = HashMap::new();
    let mut codes = Vec::with_capacity(perm.len());
    let mut dictionary = true;
    for (i, &r) in perm.iter().enumerate() {
        let next = map.len() as u32;
        codes.push(*map.entry(get(r as usize)).or_insert(next));
        if map.len() > 256 && 2 * map.len() > i + 1 {
            dictionary = false;
            break;
        }
    }
    if dictionary {
        let mut distinct: Vec<(&str, u32)> = map.into_iter().collect();
        distinct.sort_unstable();
        let mut remap = vec![0u32; distinct.len()];
        for (new, &(_, old)) in distinct.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        return Text::Dict {
            codes: codes.into_iter().map(|c| remap[c as usize]).collect(),
            values: distinct.into_iter().map(|(s, _)| s.to_string()).collect(),
        };
    }
    let mut out_offsets = Vec::with_capacity(perm.len() + 1);
    let mut out = String::with_capacity(bytes.len());
    out_offsets.push(0);
    for &r in perm {
        out.push_str(get(r as usize));
        out_offsets.push(out.len());
    }
    Text::Plain {
        offsets: out_offsets,
        bytes: out,
        folded: Default::default(),
    }
}

/// One entity's records as they arrive.
pub(crate) struct TableBuilder {
    pub(crate) entity: String,
    /// Name of the key field, whose values are `keys`.
    pub(crate) key_field: String,
    pub(crate) keys: Vec<u128>,
    pub(crate) columns: Vec<PendingColumn>,
}

impl TableBuilder {
    /// Sorts by key and finishes every column. Duplicate keys are an error.
    pub(crate) fn finish(self) -> Result<Table> {
        if self.keys.len() >= u32::MAX as usize {
            return Err(Error::Database {
                message: format!(
                    "{} has too many records for the in-memory store",
                    self.entity
                ),
            });
        }
        let mut perm: Vec<u32> = (0..self.keys.len() as u32).collect();
        perm.sort_unstable_by_key(|&r| self.keys[r as usize]);
        let keys: Vec<u128> = perm.iter().map(|&r| self.keys[r as usize]).collect();
        if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::Database {
                message: format!(
                    "{} has two records with the key {}",
                    self.entity,
                    Uuid::from_u128(w[0])
                ),
            });
        }
        let columns = self
            .columns
            .into_iter()
            .map(|c| (c.name.clone(), c.finish(&perm)))
            .collect();
        Ok(Table {
            entity: self.entity,
            key_field: self.key_field,
            keys,
            columns,
        })
    }
}

/// Finishes the tables and builds the index of every relationship in
/// `relationships` whose two entities and foreign-key column are present.
pub(crate) fn assemble(
    tables: Vec<TableBuilder>,
    relationships: &[&Relationship],
) -> Result<Store> {
    let mut store = Store {
        tables: tables
            .into_iter()
            .map(TableBuilder::finish)
            .collect::<Result<_>>()?,
        links: Vec::new(),
    };
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
        let fks = values
            .iter()
            .enumerate()
            .map(|(i, &v)| fk.is_valid(i).then_some(v));
        let link = LinkIndex::build(&rel.name, child, parent, fks, &store.tables[parent].keys);
        store.links.push(link);
    }
    Ok(store)
}

/// Builds a [`Store`] from values held in Rust, so a segment can be evaluated
/// without a database:
///
/// ```
/// use segql::check::plan::Value;
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
            .map(|e| TableBuilder {
                entity: e.name.clone(),
                key_field: e.key.clone(),
                keys: Vec::new(),
                columns: e
                    .fields
                    .iter()
                    .map(|f| PendingColumn::new(&f.name, &f.ty))
                    .collect(),
            })
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
        for (col, datum) in table.columns.iter_mut().zip(typed) {
            push_datum(col, datum);
        }
        Ok(())
    }

    /// Sorts, encodes and indexes everything added so far.
    pub fn build(self) -> Result<Store> {
        let rels: Vec<&Relationship> = self.relationships.iter().collect();
        assemble(self.tables, &rels)
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
        (FieldType::Uuid, Value::Text(s)) => Datum::U128(parse_uuid(&s)?),
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
            col.push_text(&s);
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
