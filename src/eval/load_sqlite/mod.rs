//! Loading a [`Store`] from a SQLite database in the schema's layout (SPEC
//! §3.1 storage forms). Given a plan, only the tables and columns it touches
//! are read, plus the foreign keys its relationship hops need and the keys
//! of the entities that need them (see [`super::store`]). Tables are read
//! in parallel where that is safe.

mod needs;
mod parallel;
mod read;

use rusqlite::Connection;

use super::builder::assemble;
use super::snapshot::{StoreCache, StoreSource};
use super::store::Store;
use crate::db::Backend;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::schema::{Entity, Field, Relationship, Schema};
use read::{quote, table_columns};

pub(crate) use needs::Needs;
pub(crate) use parallel::plain_file;

impl Store {
    /// Loads the records of `schema`'s entities from `db` (where its driver
    /// can: SQLite). With a plan, only what the plan needs is read; with
    /// `None`, every entity, field and relationship. A missing table or
    /// column, or a stored value that is not in its type's stored form, is an
    /// [`Error::Database`] naming the table, the column and the record; a
    /// database the memory engine cannot read is [`Error::Unavailable`].
    pub fn load(db: &mut dyn Backend, schema: &Schema, plan: Option<&Plan>) -> Result<Store> {
        db.load_store(schema, plan)
    }

    /// [`Store::load`] through `cache`: from a snapshot of an earlier load
    /// when one is valid for the database as it is and holds what the plan
    /// needs, else from the database, saving a snapshot for the next time
    /// (see [`StoreCache`]). Where the store came from is returned with it;
    /// a snapshot that cannot be saved is not an error. Databases other
    /// than SQLite files load afresh.
    pub fn load_cached(
        db: &mut dyn Backend,
        schema: &Schema,
        plan: Option<&Plan>,
        cache: &StoreCache,
    ) -> Result<(Store, StoreSource)> {
        db.load_store_cached(schema, plan, cache)
    }

    /// [`Store::load`] from a SQLite connection (the SQLite driver's way).
    ///
    /// When `conn` is a database file with nothing but its main schema (no
    /// temporary tables, no attached databases) and no open transaction,
    /// the reading is shared among read-only connections to the same file,
    /// one per core (the caller's connection is one of them), large tables
    /// in rowid ranges; see [`parallel`].
    pub(crate) fn from_sqlite(
        conn: &Connection,
        schema: &Schema,
        plan: Option<&Plan>,
    ) -> Result<Store> {
        load(conn, schema, plan, None)
    }

    /// [`Store::load_cached`] from a SQLite connection.
    pub(crate) fn from_sqlite_cached(
        conn: &Connection,
        schema: &Schema,
        plan: Option<&Plan>,
        cache: &StoreCache,
    ) -> Result<(Store, StoreSource)> {
        cache.load_sqlite(conn, schema, plan)
    }
}

/// [`Store::from_sqlite`] on at most `readers` connections (`None`: one
/// per core).
fn load(
    conn: &Connection,
    schema: &Schema,
    plan: Option<&Plan>,
    readers: Option<usize>,
) -> Result<Store> {
    let needs = Needs::of(plan, schema)?;
    load_needs(conn, schema, &needs, readers)
}

/// Loads what `needs` names from `conn` on at most `readers` connections
/// (`None`: one per core).
pub(crate) fn load_needs(
    conn: &Connection,
    schema: &Schema,
    needs: &Needs,
    readers: Option<usize>,
) -> Result<Store> {
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
        jobs.push(Job::new(conn, entity, fields, keyed)?);
    }
    let rels: Vec<&Relationship> = schema
        .relationships
        .iter()
        .filter(|r| needs.relationships.contains(&r.name.to_ascii_lowercase()))
        .collect();
    let tables = parallel::read_tables(conn, &jobs, &rels, readers)?;
    assemble(tables, &rels)
}

/// One table to read: its entity, the fields wanted, and whether its keys
/// are wanted.
struct Job<'s> {
    entity: &'s Entity,
    key: &'s Field,
    fields: Vec<&'s Field>,
    keyed: bool,
    /// A name that reaches the rowid without being a column's name, if the
    /// table has a rowid at all (see [`parallel`]).
    rowid: Option<&'static str>,
}

impl<'s> Job<'s> {
    /// Checks that the table and every column exist.
    fn new(
        conn: &Connection,
        entity: &'s Entity,
        fields: Vec<&'s Field>,
        keyed: bool,
    ) -> Result<Job<'s>> {
        let key = entity.key_field().ok_or_else(|| Error::Schema {
            message: format!("entity {} has no key field '{}'", entity.name, entity.key),
        })?;
        let present = table_columns(conn, entity)?;
        for f in std::iter::once(&key).chain(&fields) {
            if !present.contains(&f.column.to_ascii_lowercase()) {
                return Err(Error::Database {
                    message: format!(
                        "table '{}' has no column '{}' (field {}.{})",
                        entity.table, f.column, entity.name, f.name
                    ),
                });
            }
        }
        let rowid = ["rowid", "_rowid_", "oid"]
            .into_iter()
            .find(|name| !present.contains(*name));
        Ok(Job {
            entity,
            key,
            fields,
            keyed,
            rowid,
        })
    }

    /// The statement reading every wanted column (the key first when wanted).
    fn select(&self) -> String {
        let mut columns: Vec<String> = self.fields.iter().map(|f| quote(&f.column)).collect();
        if self.keyed {
            columns.insert(0, quote(&self.key.column));
        }
        // A table read only to count its rows still needs something to select.
        let list = if columns.is_empty() {
            "NULL".to_string()
        } else {
            columns.join(", ")
        };
        format!("SELECT {list} FROM {}", quote(&self.entity.table))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::check::check;
    use crate::schema::crm_schema;
    use crate::Options;

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
        check(&query, &Options::new(&schema)).expect("check")
    }

    /// Every table's rows spelled out (keys and values, in row order) and
    /// every link's parent rows; storage forms may differ.
    fn contents(store: &Store) -> Vec<String> {
        let mut out = Vec::new();
        for t in &store.tables {
            for row in 0..t.rows {
                let mut line = format!("{} {row}:", t.entity);
                if let Some(keys) = &t.keys {
                    line.push_str(&format!(" {:032x}", keys.keys()[row]));
                }
                for (name, column) in &t.columns {
                    line.push_str(&format!(" {name}={}", column.render(row)));
                }
                out.push(line);
            }
        }
        for l in &store.links {
            out.push(format!("{} {:?}", l.relationship, l.parent_of));
        }
        out
    }

    #[test]
    fn parallel_and_sequential_loads_build_the_same_store() {
        let (_dir, path) = demo_file();
        let schema = crm_schema();
        let conn = Connection::open(&path).unwrap();
        assert!(parallel::reader_count(&conn) > 1 || crate::eval::threads::available() < 2);
        let parallel = load(&conn, &schema, None, Some(2)).unwrap();
        let sequential = load(&conn, &schema, None, Some(1)).unwrap();
        // An open transaction keeps the load on the caller's connection.
        conn.execute_batch("BEGIN").unwrap();
        assert_eq!(parallel::reader_count(&conn), 1);
        let in_transaction = Store::from_sqlite(&conn, &schema, None).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(contents(&in_transaction), contents(&sequential));
        assert_eq!(contents(&parallel), contents(&sequential));
        assert_eq!(parallel.len("contact"), Some(400));
        // The tables were cut into rowid ranges, except one SQLite reads
        // from a covering index.
        let contact = schema.entity("contact").unwrap();
        let all: Vec<&Field> = contact.fields.iter().filter(|f| f.name != "id").collect();
        let job = Job::new(&conn, contact, all, true).unwrap();
        assert!(parallel::cut(&conn, &job, 2).len() > 1);
        let lead = schema.entity("lead").unwrap();
        let fk = vec![lead.field("contact_id").unwrap()];
        let job = Job::new(&conn, lead, fk, false).unwrap();
        assert_eq!(parallel::cut(&conn, &job, 2).len(), 1);
        // A temporary table could shadow a stored one: no other connection.
        conn.execute_batch("CREATE TEMP TABLE scratch (x)").unwrap();
        assert_eq!(parallel::reader_count(&conn), 1);
    }

    #[test]
    fn a_plan_keeps_the_keys_it_needs_and_answers_as_a_full_load() {
        let (_dir, path) = demo_file();
        let schema = crm_schema();
        let conn = Connection::open(&path).unwrap();
        let full = Store::from_sqlite(&conn, &schema, None).unwrap();
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
            let store = load(&conn, &schema, Some(&plan), Some(2)).unwrap();
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
        let err = Store::from_sqlite(&conn, &crm_schema(), Some(&plan)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("'lead'") && msg.contains("'topic'") && msg.contains(&id),
            "{msg}"
        );
    }
}
