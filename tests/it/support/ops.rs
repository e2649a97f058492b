//! Fixtures of the data-changing operation tests: small hand-made CRM
//! databases in SQLite (and the same rows in PostgreSQL), and table
//! checksums to prove what a run did or did not change.
#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

use rusqlite::Connection;

/// Tables of the default layout (SPEC §3.1), children first.
pub const TABLES: [&str; 5] = ["subscription", "interaction", "lead", "contact", "account"];

/// The uuid `00000000-0000-4000-8000-<n as 12 hex digits>`: readable ids whose
/// text order is their number order.
pub fn id(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// A contact row of a fixture.
#[derive(Clone, Debug)]
pub struct Contact {
    pub id: String,
    pub email: Option<String>,
    pub marketing_only: bool,
    pub created_on: Option<String>,
    pub account_id: Option<String>,
}

/// A contact with only what matching looks at.
pub fn contact(
    n: u64,
    email: Option<&str>,
    marketing_only: bool,
    created: Option<&str>,
) -> Contact {
    Contact {
        id: id(n),
        email: email.map(str::to_string),
        marketing_only,
        created_on: created.map(str::to_string),
        account_id: None,
    }
}

/// A lead row of a fixture.
#[derive(Clone, Debug)]
pub struct Lead {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub created_on: Option<String>,
    pub contact_id: Option<String>,
    pub account_id: Option<String>,
}

/// An orphaned lead (no contact).
pub fn lead(n: u64, email: Option<&str>, created: Option<&str>) -> Lead {
    Lead {
        id: id(n),
        first_name: Some(format!("First{n}")),
        last_name: Some(format!("Last{n}")),
        email: email.map(str::to_string),
        created_on: created.map(str::to_string),
        contact_id: None,
        account_id: None,
    }
}

/// Accounts, contacts and leads of a fixture.
#[derive(Clone, Debug, Default)]
pub struct Fixture {
    pub accounts: Vec<String>,
    pub contacts: Vec<Contact>,
    pub leads: Vec<Lead>,
}

/// The SPEC §3.1 tables, written out here so the tests pin the layout.
const SQLITE_DDL: &str = "
CREATE TABLE account (id TEXT PRIMARY KEY, name TEXT, industry INTEGER, city TEXT,
  country TEXT, employees INTEGER, annual_revenue REAL, created_on TEXT);
CREATE TABLE contact (id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT,
  job_title TEXT, role INTEGER, city TEXT, country TEXT, birth_date TEXT, created_on TEXT,
  marketing_only INTEGER NOT NULL DEFAULT 0, do_not_email INTEGER NOT NULL DEFAULT 0,
  do_not_bulk_email INTEGER NOT NULL DEFAULT 0, allow_prefill INTEGER NOT NULL DEFAULT 0,
  consent_level INTEGER, is_child INTEGER NOT NULL DEFAULT 0,
  account_id TEXT REFERENCES account(id));
CREATE TABLE lead (id TEXT PRIMARY KEY, topic TEXT, first_name TEXT, last_name TEXT,
  email TEXT, company_name TEXT, status INTEGER, source INTEGER, score INTEGER,
  sales_ready INTEGER, estimated_value REAL, created_on TEXT,
  contact_id TEXT REFERENCES contact(id), account_id TEXT REFERENCES account(id));
CREATE TABLE interaction (id TEXT PRIMARY KEY, contact_id TEXT REFERENCES contact(id),
  type INTEGER, occurred_on TEXT, detail TEXT);
CREATE TABLE subscription (id TEXT PRIMARY KEY, contact_id TEXT REFERENCES contact(id),
  list TEXT, subscribed_on TEXT);
";

const PG_DDL: &str = "
CREATE TABLE account (id uuid PRIMARY KEY, name text, industry bigint, city text,
  country text, employees bigint, annual_revenue double precision, created_on timestamptz);
CREATE TABLE contact (id uuid PRIMARY KEY, first_name text, last_name text, email text,
  job_title text, role bigint, city text, country text, birth_date date, created_on timestamptz,
  marketing_only boolean NOT NULL DEFAULT false, do_not_email boolean NOT NULL DEFAULT false,
  do_not_bulk_email boolean NOT NULL DEFAULT false, allow_prefill boolean NOT NULL DEFAULT false,
  consent_level bigint, is_child boolean NOT NULL DEFAULT false,
  account_id uuid REFERENCES account(id));
CREATE TABLE lead (id uuid PRIMARY KEY, topic text, first_name text, last_name text,
  email text, company_name text, status bigint, source bigint, score bigint,
  sales_ready boolean, estimated_value double precision, created_on timestamptz,
  contact_id uuid REFERENCES contact(id), account_id uuid REFERENCES account(id));
CREATE TABLE interaction (id uuid PRIMARY KEY, contact_id uuid REFERENCES contact(id),
  type bigint, occurred_on timestamptz, detail text);
CREATE TABLE subscription (id uuid PRIMARY KEY, contact_id uuid REFERENCES contact(id),
  list text, subscribed_on timestamptz);
";

/// An in-memory SQLite database holding `fixture`.
pub fn sqlite(fixture: &Fixture) -> Connection {
    let conn = Connection::open_in_memory().expect("open");
    load_sqlite(&conn, fixture);
    conn
}

/// Create the tables in `conn` and insert `fixture`.
pub fn load_sqlite(conn: &Connection, fixture: &Fixture) {
    conn.execute_batch(SQLITE_DDL).expect("create tables");
    for a in &fixture.accounts {
        conn.execute("INSERT INTO account (id, name) VALUES (?1, 'Acme')", [a])
            .expect("insert account");
    }
    for c in &fixture.contacts {
        conn.execute(
            "INSERT INTO contact (id, first_name, email, marketing_only, created_on, account_id) \
             VALUES (?1, 'Existing', ?2, ?3, ?4, ?5)",
            rusqlite::params![c.id, c.email, c.marketing_only, c.created_on, c.account_id],
        )
        .expect("insert contact");
    }
    for l in &fixture.leads {
        conn.execute(
            "INSERT INTO lead (id, topic, first_name, last_name, email, created_on, contact_id, account_id) \
             VALUES (?1, 'Topic', ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![
                l.id, l.first_name, l.last_name, l.email, l.created_on, l.contact_id, l.account_id
            ],
        )
        .expect("insert lead");
    }
}

/// Create the tables in a PostgreSQL database and insert `fixture`.
pub fn load_postgres(client: &mut postgres::Client, fixture: &Fixture) {
    client.batch_execute(PG_DDL).expect("create tables");
    for a in &fixture.accounts {
        client
            .execute(
                "INSERT INTO account (id, name) VALUES ($1::text::uuid, 'Acme')",
                &[a],
            )
            .expect("insert account");
    }
    for c in &fixture.contacts {
        client
            .execute(
                "INSERT INTO contact (id, first_name, email, marketing_only, created_on, account_id) \
                 VALUES ($1::text::uuid, 'Existing', $2, $3, $4::text::timestamptz, $5::text::uuid)",
                &[&c.id, &c.email, &c.marketing_only, &c.created_on, &c.account_id],
            )
            .expect("insert contact");
    }
    for l in &fixture.leads {
        client
            .execute(
                "INSERT INTO lead (id, topic, first_name, last_name, email, created_on, contact_id, account_id) \
                 VALUES ($1::text::uuid, 'Topic', $2, $3, $4, $5::text::timestamptz, $6::text::uuid, $7::text::uuid)",
                &[
                    &l.id, &l.first_name, &l.last_name, &l.email, &l.created_on, &l.contact_id,
                    &l.account_id,
                ],
            )
            .expect("insert lead");
    }
}

/// Every row of every table, in a stable order, as text.
pub fn dump_sqlite(conn: &Connection) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("list tables")
        .query_map([], |r| r.get(0))
        .expect("list tables")
        .collect::<rusqlite::Result<_>>()
        .expect("list tables");
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1"))
            .expect("select");
        let width = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let cells: Vec<String> = (0..width)
                    .map(|i| format!("{:?}", r.get_ref(i).expect("cell")))
                    .collect();
                Ok(cells.join("|"))
            })
            .expect("rows")
            .collect::<rusqlite::Result<Vec<_>>>()
            .expect("rows");
        out.insert(table, rows);
    }
    out
}

fn table_names(conn: &Connection) -> Vec<String> {
    conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("list tables")
        .query_map([], |r| r.get(0))
        .expect("list tables")
        .collect::<rusqlite::Result<_>>()
        .expect("list tables")
}

fn hash_cell(cell: rusqlite::types::ValueRef<'_>, h: &mut DefaultHasher) {
    use rusqlite::types::ValueRef;
    match cell {
        ValueRef::Null => 0u8.hash(h),
        ValueRef::Integer(i) => (1u8, i).hash(h),
        ValueRef::Real(x) => (2u8, x.to_bits()).hash(h),
        ValueRef::Text(t) => (3u8, t).hash(h),
        ValueRef::Blob(b) => (4u8, b).hash(h),
    }
}

/// Rows of `table` ordered by the first column, each cell as text (NULL as
/// `None`), with `map` applied to the cells of column `mapped`.
fn mapped_rows(
    conn: &Connection,
    table: &str,
    mapped: usize,
    map: &dyn Fn(Option<String>) -> Option<String>,
) -> Vec<Vec<Option<String>>> {
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{table}\""))
        .expect("select");
    let width = stmt.column_count();
    let mut rows: Vec<Vec<Option<String>>> = stmt
        .query_map([], |r| {
            (0..width)
                .map(|i| {
                    let cell = r.get_ref(i)?;
                    let text = match cell {
                        rusqlite::types::ValueRef::Null => None,
                        other => Some(format!("{other:?}")),
                    };
                    Ok(if i == mapped { map(r.get(i)?) } else { text })
                })
                .collect()
        })
        .expect("rows")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    rows.sort();
    rows
}

/// A hash of every row of every table, in a stable order, computed row by
/// row so it also serves large databases: equal checksums mean the same data.
pub fn checksum_sqlite(conn: &Connection) -> u64 {
    let mut h = DefaultHasher::new();
    for table in table_names(conn) {
        table.hash(&mut h);
        hash_table(conn, &table, &mut h);
    }
    h.finish()
}

fn hash_table(conn: &Connection, table: &str, h: &mut DefaultHasher) {
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1"))
        .expect("select");
    let width = stmt.column_count();
    let mut rows = stmt.query([]).expect("rows");
    while let Some(row) = rows.next().expect("row") {
        for i in 0..width {
            hash_cell(row.get_ref(i).expect("cell"), h);
        }
    }
}

/// Like [`checksum_sqlite`], but contacts that are not in `before` are known
/// by `new:<normalized email>` instead of their random id, in the contact
/// table and in the leads' `contact_id`: equal for two runs that did the same.
pub fn settled_checksum_sqlite(conn: &Connection, before: &BTreeSet<String>) -> u64 {
    let new: BTreeMap<String, String> = conn
        .prepare("SELECT id, lower(trim(email, char(32,9,10,12,13))) FROM contact")
        .expect("contacts")
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })
        .expect("contacts")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("contacts")
        .into_iter()
        .filter(|(id, _)| !before.contains(id))
        .map(|(id, email)| (id, format!("new:{}", email.unwrap_or_default())))
        .collect();
    let map = |id: Option<String>| id.map(|id| new.get(&id).cloned().unwrap_or(id));
    let mut h = DefaultHasher::new();
    for table in table_names(conn) {
        table.hash(&mut h);
        match table.as_str() {
            "contact" => mapped_rows(conn, "contact", 0, &map).hash(&mut h),
            "lead" => {
                let column: usize = conn
                    .query_row(
                        "SELECT cid FROM pragma_table_info('lead') WHERE name = 'contact_id'",
                        [],
                        |r| r.get(0),
                    )
                    .expect("lead.contact_id");
                mapped_rows(conn, "lead", column, &map).hash(&mut h)
            }
            other => hash_table(conn, other, &mut h),
        }
    }
    h.finish()
}

/// Contacts and leads as comparable text, with the ids of contacts created by
/// a run (those not in `before`) replaced by `new:<email>`, so results can be
/// compared across runs and databases despite random new uuids.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Canonical {
    /// (id, first_name, last_name, email, account_id, marketing_only, created_on)
    pub contacts: BTreeSet<Vec<String>>,
    /// (id, email, contact)
    pub leads: BTreeSet<Vec<String>>,
}

fn canonical(
    contacts: Vec<Vec<Option<String>>>,
    leads: Vec<Vec<Option<String>>>,
    before: &BTreeSet<String>,
) -> Canonical {
    let cell = |c: &Option<String>| c.clone().unwrap_or_else(|| "NULL".into());
    let mut rename = BTreeMap::new();
    for c in &contacts {
        let id = cell(&c[0]);
        if !before.contains(&id) {
            rename.insert(id, format!("new:{}", cell(&c[3])));
        }
    }
    let map = |id: String| rename.get(&id).cloned().unwrap_or(id);
    Canonical {
        contacts: contacts
            .iter()
            .map(|c| {
                let mut row: Vec<String> = c.iter().map(cell).collect();
                row[0] = map(row[0].clone());
                row
            })
            .collect(),
        leads: leads
            .iter()
            .map(|l| {
                let mut row: Vec<String> = l.iter().map(cell).collect();
                row[2] = map(row[2].clone());
                row
            })
            .collect(),
    }
}

const CONTACT_COLUMNS: &str = "CAST(id AS TEXT), first_name, last_name, email, \
    CAST(account_id AS TEXT), CASE WHEN marketing_only THEN 'true' ELSE 'false' END";
const LEAD_COLUMNS: &str = "CAST(id AS TEXT), email, CAST(contact_id AS TEXT)";

/// The ids of all contacts, to tell created contacts apart later.
pub fn contact_ids_sqlite(conn: &Connection) -> BTreeSet<String> {
    conn.prepare("SELECT id FROM contact")
        .expect("ids")
        .query_map([], |r| r.get(0))
        .expect("ids")
        .collect::<rusqlite::Result<_>>()
        .expect("ids")
}

/// [`Canonical`] of a SQLite database.
pub fn canonical_sqlite(conn: &Connection, before: &BTreeSet<String>) -> Canonical {
    let rows = |sql: &str| -> Vec<Vec<Option<String>>> {
        let mut stmt = conn.prepare(sql).expect("prepare");
        let width = stmt.column_count();
        stmt.query_map([], |r| (0..width).map(|i| r.get(i)).collect())
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    };
    canonical(
        rows(&format!(
            "SELECT {CONTACT_COLUMNS}, created_on FROM contact"
        )),
        rows(&format!("SELECT {LEAD_COLUMNS} FROM lead")),
        before,
    )
}

/// [`Canonical`] of a PostgreSQL database.
pub fn canonical_postgres(client: &mut postgres::Client, before: &BTreeSet<String>) -> Canonical {
    let mut rows = |sql: &str| -> Vec<Vec<Option<String>>> {
        client
            .query(sql, &[])
            .expect("query")
            .iter()
            .map(|r| (0..r.len()).map(|i| r.get(i)).collect())
            .collect()
    };
    let contacts = rows(&format!(
        "SELECT {CONTACT_COLUMNS}, to_char(created_on AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM contact"
    ));
    let leads = rows(&format!("SELECT {LEAD_COLUMNS} FROM lead"));
    canonical(contacts, leads, before)
}

/// The ids of all contacts of a PostgreSQL database.
pub fn contact_ids_postgres(client: &mut postgres::Client) -> BTreeSet<String> {
    client
        .query("SELECT CAST(id AS TEXT) FROM contact", &[])
        .expect("ids")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Every row of every table of a PostgreSQL database, in a stable order.
pub fn dump_postgres(client: &mut postgres::Client) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for table in TABLES {
        let rows = client
            .query(
                &format!("SELECT CAST(t AS TEXT) FROM \"{table}\" AS t ORDER BY 1"),
                &[],
            )
            .expect("dump");
        out.insert(table.to_string(), rows.iter().map(|r| r.get(0)).collect());
    }
    out
}
