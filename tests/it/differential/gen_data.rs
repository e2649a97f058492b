//! Random small data sets in the default layout (SPEC §3.1).
//!
//! Every table gets 0–30 rows whose values come from small pools shared with
//! the query generator (`pools`), so generated predicates actually hit rows.
//! The pools lean on the edges the back ends are most likely to disagree on:
//! NULLs, i64 extremes, equal and boundary dates, non-ASCII text, `%`, `_`,
//! `\`, mixed case and empty strings. Foreign keys point at a parent row, at
//! no row at all (an orphan) or are NULL, so parents without children and
//! children without parents are common.
//!
//! Generation is driven by the schema model, so a field added to
//! `crm_schema()` is covered without touching this file.

use proptest::prelude::*;
use rusqlite::Connection;
use segql::schema::{Entity, FieldType, Schema};
use uuid::Uuid;

use super::pools;

/// One stored value, typed as SQLite stores it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// A generated value before foreign keys are resolved against parent rows.
#[derive(Clone, Debug)]
enum RawCell {
    Value(Cell),
    /// The key: an index into the shared uuid pool (duplicates are dropped).
    Key(usize),
    /// A foreign key to the parent row at this index (modulo the row count).
    Parent(usize),
}

/// A table's rows, values in the order of `columns`.
#[derive(Clone, Debug)]
pub struct Table {
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A whole data set: one table per entity of the schema, in schema order.
#[derive(Clone, Debug)]
pub struct DataSet {
    pub tables: Vec<Table>,
}

/// Raw rows per entity, resolved into a [`DataSet`] by [`resolve`].
#[derive(Clone, Debug)]
pub struct RawDataSet {
    tables: Vec<Vec<Vec<RawCell>>>,
}

fn nullable(inner: BoxedStrategy<Cell>, nullable: bool) -> BoxedStrategy<Cell> {
    if nullable {
        prop_oneof![1 => Just(Cell::Null), 3 => inner].boxed()
    } else {
        inner
    }
}

fn pick_text(pool: &'static [&'static str]) -> BoxedStrategy<Cell> {
    proptest::sample::select(pool)
        .prop_map(|s| Cell::Text(s.to_string()))
        .boxed()
}

fn value_strategy(ty: &FieldType) -> BoxedStrategy<Cell> {
    match ty {
        FieldType::Text => pick_text(pools::TEXTS),
        FieldType::Integer => proptest::sample::select(pools::INTEGERS)
            .prop_map(Cell::Int)
            .boxed(),
        FieldType::Decimal => proptest::sample::select(pools::DECIMALS)
            .prop_map(Cell::Real)
            .boxed(),
        FieldType::Bool => any::<bool>().prop_map(|b| Cell::Int(b as i64)).boxed(),
        FieldType::Date => pick_text(pools::DATES),
        FieldType::DateTime => pick_text(pools::DATETIMES),
        FieldType::Choice(set) => {
            let codes: Vec<i64> = set.options.iter().map(|o| o.code).collect();
            proptest::sample::select(codes).prop_map(Cell::Int).boxed()
        }
        FieldType::Uuid => (0..pools::UUID_POOL)
            .prop_map(|i| Cell::Text(pools::uuid(i).to_string()))
            .boxed(),
    }
}

/// Whether `field` of `entity` is a foreign key of some relationship.
fn is_foreign_key(schema: &Schema, entity: &Entity, field: &str) -> bool {
    schema
        .relationships
        .iter()
        .any(|r| r.child.eq_ignore_ascii_case(&entity.name) && r.child_field == field)
}

fn row_strategy(schema: &Schema, entity: &Entity) -> BoxedStrategy<Vec<RawCell>> {
    let cells: Vec<BoxedStrategy<RawCell>> = entity
        .fields
        .iter()
        .map(|field| {
            if field.name == entity.key {
                (0..pools::UUID_POOL).prop_map(RawCell::Key).boxed()
            } else if is_foreign_key(schema, entity, &field.name) {
                prop_oneof![
                    2 => Just(RawCell::Value(Cell::Null)),
                    // An orphan: a uuid that most likely names no parent.
                    1 => value_strategy(&field.ty).prop_map(RawCell::Value),
                    7 => (0..64usize).prop_map(RawCell::Parent),
                ]
                .boxed()
            } else {
                nullable(value_strategy(&field.ty), field.nullable)
                    .prop_map(RawCell::Value)
                    .boxed()
            }
        })
        .collect();
    cells.boxed()
}

/// Data sets over every entity of `schema`, 0–30 rows per table, small
/// tables being the most common.
pub fn data_set_strategy(schema: &Schema) -> BoxedStrategy<RawDataSet> {
    let tables: Vec<BoxedStrategy<Vec<Vec<RawCell>>>> = schema
        .entities
        .iter()
        .map(|entity| {
            let row = row_strategy(schema, entity);
            prop_oneof![
                3 => proptest::collection::vec(row.clone(), 0..=8),
                2 => proptest::collection::vec(row, 0..=30),
            ]
            .boxed()
        })
        .collect();
    tables.prop_map(|tables| RawDataSet { tables }).boxed()
}

/// Resolves keys (dropping rows with a duplicate key) and foreign keys.
pub fn resolve(schema: &Schema, raw: &RawDataSet) -> DataSet {
    // Keys first, so foreign keys can point at any table's final rows.
    let mut keyed: Vec<Vec<&Vec<RawCell>>> = Vec::new();
    let mut keys: Vec<Vec<Uuid>> = Vec::new();
    for (entity, rows) in schema.entities.iter().zip(&raw.tables) {
        let key_index = entity.fields.iter().position(|f| f.name == entity.key);
        let mut seen = std::collections::BTreeSet::new();
        let mut kept = Vec::new();
        let mut ids = Vec::new();
        for row in rows {
            let id = match key_index.map(|i| &row[i]) {
                Some(RawCell::Key(k)) => pools::uuid(*k),
                _ => continue,
            };
            if seen.insert(id) {
                kept.push(row);
                ids.push(id);
            }
        }
        keyed.push(kept);
        keys.push(ids);
    }
    let mut tables = Vec::new();
    for (entity, rows) in schema.entities.iter().zip(&keyed) {
        let mut out_rows = Vec::new();
        for row in rows {
            let mut out = Vec::new();
            for (field, cell) in entity.fields.iter().zip(row.iter()) {
                out.push(match cell {
                    RawCell::Value(v) => v.clone(),
                    RawCell::Key(k) => Cell::Text(pools::uuid(*k).to_string()),
                    RawCell::Parent(k) => {
                        let parent = schema
                            .relationships
                            .iter()
                            .find(|r| {
                                r.child.eq_ignore_ascii_case(&entity.name)
                                    && r.child_field == field.name
                            })
                            .and_then(|r| schema.entities.iter().position(|e| e.name == r.parent));
                        match parent.map(|p| &keys[p]) {
                            Some(ids) if !ids.is_empty() => {
                                Cell::Text(ids[k % ids.len()].to_string())
                            }
                            _ => Cell::Null,
                        }
                    }
                });
            }
            out_rows.push(out);
        }
        tables.push(Table {
            table: entity.table.clone(),
            columns: entity.fields.iter().map(|f| f.column.clone()).collect(),
            rows: out_rows,
        });
    }
    DataSet { tables }
}

fn sql_literal(cell: &Cell) -> String {
    match cell {
        Cell::Null => "NULL".to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Real(r) => format!("{r:?}"),
        // SQLite reads statement text up to a NUL: write U+0000 as char(0).
        Cell::Text(s) => format!(
            "'{}'",
            s.replace('\'', "''").replace('\u{0}', "' || char(0) || '")
        ),
    }
}

impl DataSet {
    /// The data set as SQL `INSERT` statements (for reports and fixtures).
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        for table in &self.tables {
            for row in &table.rows {
                let cols: Vec<String> = table.columns.iter().map(|c| format!("\"{c}\"")).collect();
                let vals: Vec<String> = row.iter().map(sql_literal).collect();
                out.push_str(&format!(
                    "INSERT INTO \"{}\" ({}) VALUES ({});\n",
                    table.table,
                    cols.join(", "),
                    vals.join(", ")
                ));
            }
        }
        out
    }

    /// The data set without U+0000 in its texts, for PostgreSQL.
    pub fn without_nul(mut self) -> DataSet {
        for cell in self
            .tables
            .iter_mut()
            .flat_map(|t| t.rows.iter_mut().flatten())
        {
            if let Cell::Text(s) = cell {
                if pools::holds_nul(s) {
                    *s = s.replace('\u{0}', "");
                }
            }
        }
        self
    }

    /// Inserts every row into `conn`, whose tables must exist already.
    pub fn insert_into(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch("BEGIN")?;
        for table in &self.tables {
            let cols: Vec<String> = table.columns.iter().map(|c| format!("\"{c}\"")).collect();
            let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "INSERT INTO \"{}\" ({}) VALUES ({})",
                table.table,
                cols.join(", "),
                marks.join(", ")
            );
            let mut stmt = conn.prepare(&sql)?;
            for row in &table.rows {
                let params: Vec<rusqlite::types::Value> = row
                    .iter()
                    .map(|c| match c {
                        Cell::Null => rusqlite::types::Value::Null,
                        Cell::Int(i) => rusqlite::types::Value::Integer(*i),
                        Cell::Real(r) => rusqlite::types::Value::Real(*r),
                        Cell::Text(s) => rusqlite::types::Value::Text(s.clone()),
                    })
                    .collect();
                stmt.execute(rusqlite::params_from_iter(params))?;
            }
        }
        conn.execute_batch("COMMIT")
    }
}
