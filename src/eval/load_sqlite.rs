//! Loading a [`Store`] from a SQLite database in the schema's layout (SPEC
//! §3.1 storage forms). Given a plan, only the tables and columns it touches
//! are read, plus the foreign keys its relationship hops need and the keys
//! of the entities that need them (see [`super::store`]). Tables are read
//! in parallel where that is safe.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};

use super::builder::{assemble, TableBuilder};
use super::column::{parse_date, parse_datetime, parse_uuid};
use super::pending::{Pending, PendingColumn};
use super::store::{Store, Table};
use crate::check::plan::{Plan, PlanExpr};
use crate::error::{Error, Result};
use crate::schema::{Entity, Field, FieldType, Relationship, Schema};

impl Store {
    /// Loads the records of `schema`'s entities from `conn`. With a plan, only
    /// what the plan needs is read; with `None`, every entity, field and
    /// relationship. A missing table or column, or a stored value that is not
    /// in its type's stored form, is an [`Error::Database`] naming the table,
    /// the column and the record.
    ///
    /// When `conn` is a database file with nothing but its main schema (no
    /// temporary tables, no attached databases) and no open transaction,
    /// tables are read in parallel, each on its own read-only connection to
    /// the same file (one per core), the caller's connection included.
    pub fn load_sqlite(conn: &Connection, schema: &Schema, plan: Option<&Plan>) -> Result<Store> {
        let needs = match plan {
            Some(plan) => Needs::of_plan(plan, schema)?,
            None => Needs::everything(schema),
        };
        let mut jobs = Vec::new();
        for (entity_name, fields) in &needs.fields {
            let entity = schema.entity(entity_name).ok_or_else(|| Error::Schema {
                message: format!("the schema has no entity '{entity_name}'"),
            })?;
            let fields: Vec<&Field> = entity
                .fields
                .iter()
                .filter(|f| f.name != entity.key && fields.contains(&f.name.to_ascii_lowercase()))
                .collect();
            let keyed = needs.keyed.contains(entity_name);
            jobs.push(Job {
                entity,
                fields,
                keyed,
            });
        }
        let tables = read_tables(conn, &jobs)?;
        let rels: Vec<&Relationship> = schema
            .relationships
            .iter()
            .filter(|r| needs.relationships.contains(&r.name.to_ascii_lowercase()))
            .collect();
        assemble(tables, &rels)
    }
}

/// Entities (lowercase name → lowercase field names) and relationships to
/// load, and the entities whose keys are needed.
struct Needs {
    fields: BTreeMap<String, BTreeSet<String>>,
    relationships: BTreeSet<String>,
    keyed: BTreeSet<String>,
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
            keyed: schema
                .entities
                .iter()
                .map(|e| e.name.to_ascii_lowercase())
                .collect(),
        }
    }

    /// Keys are needed for the root (its ids are the answer), for the parent
    /// of every relationship followed (foreign keys are resolved to its
    /// rows) and where a test names the key field.
    fn of_plan(plan: &Plan, schema: &Schema) -> Result<Needs> {
        let mut needs = Needs {
            fields: BTreeMap::new(),
            relationships: BTreeSet::new(),
            keyed: BTreeSet::new(),
        };
        needs.entity(&plan.entity);
        needs.keyed.insert(plan.entity.to_ascii_lowercase());
        // An explicit stack rather than recursion: plans may be deep.
        let mut stack = vec![&plan.filter];
        while let Some(expr) = stack.pop() {
            match expr {
                PlanExpr::Const(_) => {}
                PlanExpr::Not(e) => stack.push(e),
                PlanExpr::And(es) | PlanExpr::Or(es) => stack.extend(es),
                PlanExpr::Field(t) => {
                    let is_key = schema
                        .entity(&t.field.entity)
                        .is_some_and(|e| e.key.eq_ignore_ascii_case(&t.field.field));
                    if is_key {
                        needs.keyed.insert(t.field.entity.to_ascii_lowercase());
                    }
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
                    needs.keyed.insert(rel.parent.to_ascii_lowercase());
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

/// One table to read: its entity, the fields wanted, and whether its keys
/// are wanted.
struct Job<'s> {
    entity: &'s Entity,
    fields: Vec<&'s Field>,
    keyed: bool,
}

/// Reads (and finishes) every job's table, in job order.
fn read_tables(conn: &Connection, jobs: &[Job<'_>]) -> Result<Vec<Table>> {
    let readers = if jobs.len() > 1 {
        reader_count(conn)
    } else {
        1
    };
    let path = conn.path().unwrap_or_default();
    if readers <= 1 || path.is_empty() {
        return jobs.iter().map(|job| load_table(conn, job)).collect();
    }
    // Largest first, so the longest table does not start last.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    let sizes: Vec<i64> = jobs
        .iter()
        .map(|job| estimate_rows(conn, job.entity))
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let next = AtomicUsize::new(0);
    let (sender, results) = mpsc::channel();
    let work = |c: &Connection, sender: mpsc::Sender<(usize, Result<Table>)>| {
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            // The receiver outlives every worker, so sending cannot fail.
            let _ = sender.send((i, load_table(c, &jobs[i])));
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..readers {
            let sender = sender.clone();
            scope.spawn(move || {
                // A reader that cannot open takes no job; the others do them.
                if let Ok(c) = open_reader(path) {
                    work(&c, sender);
                }
            });
        }
        work(conn, sender);
    });
    let mut tables: Vec<Option<Result<Table>>> = jobs.iter().map(|_| None).collect();
    for (i, table) in results.try_iter() {
        tables[i] = Some(table);
    }
    tables
        .into_iter()
        .map(|t| {
            t.unwrap_or_else(|| {
                Err(Error::Internal {
                    message: "a table was not read".into(),
                })
            })
        })
        .collect()
}

/// How many connections may read at once: one per core (at most four) when
/// a fresh connection to the same file sees the same tables, else one.
fn reader_count(conn: &Connection) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 || !conn.is_autocommit() {
        return 1;
    }
    // A temporary table could shadow a main one, and an attached database
    // could hold the tables; another connection would see neither.
    let others: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM temp.sqlite_master)
                  + (SELECT count(*) FROM pragma_database_list WHERE name NOT IN ('main', 'temp'))",
            [],
            |row| row.get(0),
        )
        .unwrap_or(1);
    if others == 0 {
        cores.min(4)
    } else {
        1
    }
}

fn open_reader(path: &str) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// The largest rowid of `entity`'s table (its row count in a table never
/// deleted from), for scheduling only; 0 when unknown.
fn estimate_rows(conn: &Connection, entity: &Entity) -> i64 {
    conn.query_row(
        &format!("SELECT max(rowid) FROM {}", quote(&entity.table)),
        [],
        |row| row.get::<_, Option<i64>>(0),
    )
    .ok()
    .flatten()
    .unwrap_or(0)
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

fn load_table(conn: &Connection, job: &Job<'_>) -> Result<Table> {
    let entity = job.entity;
    let fields = &job.fields;
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
    let mut columns: Vec<String> = fields.iter().map(|f| quote(&f.column)).collect();
    if job.keyed {
        columns.insert(0, quote(&key.column));
    }
    // A table read only to count its rows still needs something to select.
    let list = if columns.is_empty() {
        "NULL".to_string()
    } else {
        columns.join(", ")
    };
    let sql = format!("SELECT {list} FROM {}", quote(&entity.table));
    let mut stmt = conn.prepare(&sql).map_err(db_error)?;
    let mut rows = stmt.query([]).map_err(db_error)?;
    let mut builder = TableBuilder::new(entity, job.keyed, fields.iter().copied());
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
                        "table '{}', column '{}', row {}: the key {} is not a lowercase hyphenated uuid",
                        entity.table,
                        key.column,
                        builder.rows + 1,
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
                let field = fields[i];
                let record = match id {
                    Some(id) => uuid::Uuid::from_u128(id).to_string(),
                    None => record_holding(conn, entity, &key.column, &field.column, value),
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
    builder.finish()
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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::check::{check, Context};
    use crate::schema::crm_schema;

    /// A small demo database in a file, so that loading can go parallel.
    fn demo_file() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("demo.db");
        let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let options = crate::demo::DemoOptions::new(400, 7, now);
        crate::demo::generate_sqlite(&path, &options).expect("generate");
        (dir, path)
    }

    fn plan(text: &str) -> Plan {
        let schema = crm_schema();
        let query = crate::syntax::parse_query(text).expect("parse");
        check(&query, &Context::new(&schema)).expect("check")
    }

    #[test]
    fn parallel_and_sequential_loads_build_the_same_store() {
        let (_dir, path) = demo_file();
        let schema = crm_schema();
        let conn = Connection::open(&path).unwrap();
        assert!(reader_count(&conn) > 1 || std::thread::available_parallelism().unwrap().get() < 2);
        let parallel = Store::load_sqlite(&conn, &schema, None).unwrap();
        // An open transaction keeps the load on the caller's connection.
        conn.execute_batch("BEGIN").unwrap();
        assert_eq!(reader_count(&conn), 1);
        let sequential = Store::load_sqlite(&conn, &schema, None).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(format!("{parallel:?}"), format!("{sequential:?}"));
        assert_eq!(parallel.len("contact"), Some(400));
        // A temporary table could shadow a stored one: no other connection.
        conn.execute_batch("CREATE TEMP TABLE scratch (x)").unwrap();
        assert_eq!(reader_count(&conn), 1);
    }

    #[test]
    fn a_plan_keeps_the_keys_it_needs_and_answers_as_a_full_load() {
        let (_dir, path) = demo_file();
        let schema = crm_schema();
        let conn = Connection::open(&path).unwrap();
        let full = Store::load_sqlite(&conn, &schema, None).unwrap();
        let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        for (text, keyed) in [
            (
                r#"contact where role = "decision maker" and has lead(topic = "Contoso Ltd Conference")"#,
                &["contact"][..],
            ),
            (
                r#"contact where has at least 2 lead(has account(industry = "Retail"))"#,
                &["contact", "account"],
            ),
            (r#"lead where contact.city = "Paris""#, &["lead", "contact"]),
            (
                r#"contact where has interaction(id != "00000000-0000-4000-8000-000000000000")"#,
                &["contact", "interaction"],
            ),
            ("contact where has no subscription", &["contact"]),
        ] {
            let plan = plan(text);
            let store = Store::load_sqlite(&conn, &schema, Some(&plan)).unwrap();
            for t in &store.tables {
                let want = keyed.contains(&t.entity.as_str());
                assert_eq!(t.keys.is_some(), want, "{text}: {}", t.entity);
            }
            assert_eq!(
                crate::eval::evaluate(&plan, &store, now).unwrap(),
                crate::eval::evaluate(&plan, &full, now).unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn a_bad_value_in_a_table_read_without_keys_still_names_a_record() {
        let (_dir, path) = demo_file();
        let conn = Connection::open(&path).unwrap();
        let id: String = conn
            .query_row(
                "SELECT id FROM lead WHERE topic IS NOT NULL LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute("UPDATE lead SET topic = X'FF00' WHERE id = ?1", [&id])
            .unwrap();
        let plan = plan(r#"contact where has lead(topic = "x")"#);
        let err = Store::load_sqlite(&conn, &crm_schema(), Some(&plan)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("'lead'") && msg.contains("'topic'") && msg.contains(&id),
            "{msg}"
        );
    }
}
