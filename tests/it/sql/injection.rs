//! Hostile strings in every literal position the language has, and as data:
//! the SQL text must never hold them (literals are bind parameters only),
//! and every engine must find exactly the records holding them.
//!
//! Each case is one (value, position) pair; the expected ids come from the
//! rows as inserted, by SPEC §2.3's rules written out here, never from an
//! engine. PostgreSQL cannot store U+0000: there a literal holding one must
//! be refused with a clear error before anything is sent.

use chrono::{DateTime, TimeZone, Utc};
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::eval::Store;
use segql::ops::{self, LinkOptions, UpdateOptions};
use segql::schema::{load_schema_toml, Schema};
use segql::sql::{self, Dialect, SqlParam, SqlQuery};
use segql::{Error, Options};
use uuid::Uuid;

use crate::support::hostile::{hostile, lit};
use crate::support::ops::{contact, id, lead, load_postgres, sqlite, Fixture};
use crate::support::pg::TestPg;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A contact's job title, its account's name and its one lead's topic
/// (the same text, reached through each kind of path).
#[derive(Clone)]
struct Row {
    id: Uuid,
    job_title: String,
    account_name: String,
    lead_topic: String,
}

/// Every hostile value, and decoys around each: the value inside a longer
/// text, in other case, cut short, and plain texts.
fn rows(values: &[String]) -> Vec<Row> {
    let mut texts: Vec<String> = Vec::new();
    for v in values {
        texts.push(v.clone());
        if v.len() < 1000 {
            texts.push(format!("x{v}y"));
            texts.push(v.to_ascii_uppercase());
            texts.push(format!("{v}!"));
            texts.push(v.chars().skip(1).collect());
        }
    }
    texts.extend(["", "a", "DROP", "1=1", "x%y", "x_y", "1"].map(String::from));
    let mut seen = std::collections::BTreeSet::new();
    texts.retain(|t| seen.insert(t.clone()));
    texts
        .into_iter()
        .enumerate()
        .map(|(i, t)| Row {
            id: Uuid::parse_str(&id(i as u64 + 1)).unwrap(),
            account_name: t.clone(),
            lead_topic: t.clone(),
            job_title: t,
        })
        .collect()
}

/// Creates the tables and inserts `rows` (contacts, one account and one
/// lead each).
fn insert(db: &mut dyn Backend, schema: &Schema, rows: &[Row]) {
    segql::demo::create_tables(db, schema).unwrap();
    let d = db.dialect();
    let uuid = |n| d.text_param(n, &segql::schema::FieldType::Uuid);
    let sql = [
        format!(
            "INSERT INTO account (id, name) VALUES ({}, {})",
            uuid(1),
            d.placeholder(2)
        ),
        format!(
            "INSERT INTO contact (id, job_title, account_id) VALUES ({}, {}, {})",
            uuid(1),
            d.placeholder(2),
            uuid(3)
        ),
        format!(
            "INSERT INTO lead (id, topic, contact_id) VALUES ({}, {}, {})",
            uuid(1),
            d.placeholder(2),
            uuid(3)
        ),
    ];
    segql::db::in_transaction(db, false, |tx| {
        use segql::db::Param::Text;
        for r in rows {
            let account = Uuid::from_u128(r.id.as_u128() | 1 << 100).to_string();
            let lead = Uuid::from_u128(r.id.as_u128() | 2 << 100).to_string();
            let contact = r.id.to_string();
            tx.execute(
                &sql[0],
                &[Text(account.clone()), Text(r.account_name.clone())],
            )?;
            tx.execute(
                &sql[1],
                &[
                    Text(contact.clone()),
                    Text(r.job_title.clone()),
                    Text(account),
                ],
            )?;
            tx.execute(
                &sql[2],
                &[Text(lead), Text(r.lead_topic.clone()), Text(contact)],
            )?;
        }
        Ok(())
    })
    .unwrap();
}

/// SPEC §2.3 on text: exact comparisons by code point (Rust's `str` order),
/// and `contains` & co. folding ASCII letters only.
fn fold(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// A literal position: the query for a value and what it means on a row.
struct Position {
    name: &'static str,
    query: fn(&str) -> String,
    holds: fn(&Row, &str) -> bool,
    /// Whether the query goes through a library segment or a guard.
    via: Via,
}

#[derive(Clone, Copy, PartialEq)]
enum Via {
    Plain,
    Library,
    Guard,
}

fn positions() -> Vec<Position> {
    fn p(name: &'static str, query: fn(&str) -> String, holds: fn(&Row, &str) -> bool) -> Position {
        Position {
            name,
            query,
            holds,
            via: Via::Plain,
        }
    }
    vec![
        p(
            "=",
            |v| format!("contact where job_title = {}", lit(v)),
            |r, v| r.job_title == v,
        ),
        p(
            "!=",
            |v| format!("contact where job_title != {}", lit(v)),
            |r, v| r.job_title != v,
        ),
        p(
            "<",
            |v| format!("contact where job_title < {}", lit(v)),
            |r, v| r.job_title.as_str() < v,
        ),
        p(
            ">=",
            |v| format!("contact where job_title >= {}", lit(v)),
            |r, v| r.job_title.as_str() >= v,
        ),
        p(
            "in",
            |v| format!("contact where job_title in [{}, \"no such\"]", lit(v)),
            |r, v| r.job_title == v || r.job_title == "no such",
        ),
        p(
            "not in",
            |v| format!("contact where job_title not in [{}]", lit(v)),
            |r, v| r.job_title != v,
        ),
        p(
            "between",
            |v| format!("contact where job_title between \"\" and {}", lit(v)),
            |r, v| r.job_title.as_str() <= v,
        ),
        p(
            "contains",
            |v| format!("contact where job_title contains {}", lit(v)),
            |r, v| fold(&r.job_title).contains(&fold(v)),
        ),
        p(
            "starts with",
            |v| format!("contact where job_title starts with {}", lit(v)),
            |r, v| fold(&r.job_title).starts_with(&fold(v)),
        ),
        // Tested at once on PostgreSQL (`left(..) IN (..)`).
        p(
            "starts with, twice",
            |v| {
                format!(
                    "contact where job_title starts with {} or job_title starts with \"~\"",
                    lit(v)
                )
            },
            |r, v| fold(&r.job_title).starts_with(&fold(v)) || r.job_title.starts_with('~'),
        ),
        p(
            "not ends with",
            |v| format!("contact where job_title not ends with {}", lit(v)),
            |r, v| !fold(&r.job_title).ends_with(&fold(v)),
        ),
        p(
            "ends with",
            |v| format!("contact where job_title ends with {}", lit(v)),
            |r, v| fold(&r.job_title).ends_with(&fold(v)),
        ),
        p(
            "has filter",
            |v| format!("contact where has lead(topic = {})", lit(v)),
            |r, v| r.lead_topic == v,
        ),
        p(
            "has contains",
            |v| format!("contact where has lead(topic contains {})", lit(v)),
            |r, v| fold(&r.lead_topic).contains(&fold(v)),
        ),
        p(
            "dotted path",
            |v| format!("contact where account.name = {}", lit(v)),
            |r, v| r.account_name == v,
        ),
        // Aggregates (SPEC 2.5): a hop filter, the compared value, `between`,
        // and a two-hop chain (each contact has its own account).
        p(
            "aggregate hop filter",
            |v| {
                format!(
                    "contact where max(lead(topic = {}).topic) is not null",
                    lit(v)
                )
            },
            |r, v| r.lead_topic == v,
        ),
        p(
            "aggregate value",
            |v| format!("contact where max(lead.topic) = {}", lit(v)),
            |r, v| r.lead_topic == v,
        ),
        p(
            "aggregate between",
            |v| format!("contact where min(lead.topic) between \"\" and {}", lit(v)),
            |r, v| r.lead_topic.as_str() <= v,
        ),
        p(
            "aggregate chain",
            |v| {
                format!(
                    "contact where max(account.contact(job_title = {}).job_title) is not null",
                    lit(v)
                )
            },
            |r, v| r.job_title == v,
        ),
        Position {
            name: "library segment",
            query: |_| "contact where in hostile".to_string(),
            holds: |r, v| r.job_title == v,
            via: Via::Library,
        },
        Position {
            name: "schema guard",
            query: |_| "contact".to_string(),
            holds: |r, v| r.job_title == v,
            via: Via::Guard,
        },
    ]
}

/// The default schema's TOML with a guard `hostile` on contact holding `v`.
fn schema_with_guard(v: &str) -> Schema {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/crm-schema.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let old = "guards = { email = \"not do_not_email and not do_not_bulk_email\" }";
    assert!(text.contains(old), "the example schema's guard line moved");
    let guard = format!("job_title = {}", lit(v));
    let new = format!(
        "guards = {{ email = \"not do_not_email\", hostile = {} }}",
        toml_string(&guard)
    );
    load_schema_toml(&text.replace(old, &new)).unwrap()
}

/// The compiled query of one case for `dialect`, and its plan.
fn compile(
    position: &Position,
    v: &str,
    dialect: &dyn Dialect,
) -> segql::Result<(SqlQuery, segql::Plan, Schema)> {
    let text = (position.query)(v);
    let (schema, library, guards) = match position.via {
        Via::Plain => (segql::schema::crm_schema(), None, vec![]),
        Via::Library => {
            let library = format!("segment hostile = contact where job_title = {}", lit(v));
            (
                segql::schema::crm_schema(),
                Some(segql::syntax::parse_library(&library)?),
                vec![],
            )
        }
        Via::Guard => (schema_with_guard(v), None, vec!["hostile".to_string()]),
    };
    let options = Options {
        schema: &schema,
        library: library.as_ref(),
        guards: &guards,
        optimize: true,
    };
    let plan = segql::plan(&text, &options)?;
    let q = sql::to_sql(&plan, &schema, dialect, &sql::SqlOptions::new(false, now()))?;
    Ok((q, plan, schema))
}

/// (a): no hostile text in the SQL, only the dialect's placeholders where
/// literals go, and the value among the parameters.
fn assert_parameterized(case: &str, q: &SqlQuery, v: &str, dialect: &dyn Dialect) {
    // The only quotes and backslashes the SQL may hold: the dialect's own
    // constants, the empty BLOB and SQLite's `LIKE` escape character.
    let own_constants_removed = q.sql.replace("X''", "").replace("ESCAPE '\\'", "");
    if v.chars().count() >= 3 || v.contains(['\\', '\'', '\u{0}', '\u{200B}', '\u{202E}']) {
        assert!(
            !own_constants_removed.contains(v),
            "{case}: the value is in the SQL:\n{}",
            q.sql
        );
    }
    assert!(
        !own_constants_removed.contains('\''),
        "{case}: a quoted literal in the SQL:\n{}",
        q.sql
    );
    assert!(
        !own_constants_removed.contains('\\') && !q.sql.contains('%'),
        "{case}:\n{}",
        q.sql
    );
    // Every `?` or `$` is a placeholder of this dialect: `?N` or `$N`, with
    // N among the parameters.
    let placeholders: Vec<String> = (1..=q.params.len())
        .map(|n| dialect.placeholder(n))
        .collect();
    let sigil = dialect.placeholder(1).chars().next().unwrap();
    let bytes = q.sql.as_bytes();
    for (i, c) in q.sql.char_indices() {
        if c == '?' || c == '$' {
            assert_eq!(c, sigil, "{case}: a stray {c:?} in the SQL:\n{}", q.sql);
            let digits: String = q.sql[i + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let placeholder = format!("{c}{digits}");
            assert!(
                placeholders.contains(&placeholder) && bytes.get(i + 1).is_some(),
                "{case}: {placeholder} is no parameter's placeholder:\n{}",
                q.sql
            );
        }
    }
    let carried = q.params.iter().any(|p| match p {
        SqlParam::Text(s) => s == v || *s == fold(v) || unlike(s) == fold(v),
        _ => false,
    });
    assert!(carried, "{case}: the value is not among the parameters");
}

/// The needle of a SQLite `LIKE` pattern as segql writes one: `%` around
/// it, and `\\` before each `%`, `_` and `\\` of the needle.
fn unlike(pattern: &str) -> String {
    let inner = pattern.strip_prefix('%').unwrap_or(pattern);
    let inner = inner.strip_suffix('%').unwrap_or(inner);
    let mut needle = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        needle.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    needle
}

/// The cases run on one database, for the report.
#[derive(Default)]
struct Count {
    sqlite: usize,
    postgres: usize,
    postgres_refused: usize,
    memory: usize,
}

#[test]
fn hostile_literals_are_parameters_and_match_exactly_on_every_engine() {
    let values = hostile();
    let all: Vec<String> = values.iter().map(|(_, v)| v.clone()).collect();
    let rows = rows(&all);
    let schema = segql::schema::crm_schema();
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    insert(&mut SqliteBackend::new(&conn), &schema, &rows);
    let store = Store::load(&mut SqliteBackend::new(&conn), &schema, None).unwrap();
    // PostgreSQL stores no U+0000: its rows are the others.
    let pg_rows: Vec<Row> = rows
        .iter()
        .filter(|r| {
            ![&r.job_title, &r.account_name, &r.lead_topic]
                .iter()
                .any(|t| t.contains('\u{0}'))
        })
        .cloned()
        .collect();
    let pg = TestPg::start();
    let mut client = pg.as_ref().map(|pg| pg.client());
    if let Some(client) = client.as_mut() {
        insert(&mut PostgresBackend::new(&mut *client), &schema, &pg_rows);
    }
    let expected = |rows: &[Row], position: &Position, v: &str| -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = rows
            .iter()
            .filter(|r| (position.holds)(r, v))
            .map(|r| r.id)
            .collect();
        ids.sort();
        ids
    };
    let mut count = Count::default();
    for (name, v) in &values {
        for position in positions() {
            let case = format!("{name} in {}", position.name);
            // SQLite and the memory engine.
            let (q, plan, case_schema) =
                compile(&position, v, &sql::Sqlite).unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_parameterized(&case, &q, v, &sql::Sqlite);
            let want = expected(&rows, &position, v);
            let found = SqliteBackend::new(&conn)
                .query_ids(&q)
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(found, want, "{case} on SQLite:\n{}", q.sql);
            count.sqlite += 1;
            let outcome = segql::run(
                &plan,
                segql::Engine::Memory(&store),
                &segql::RunOptions {
                    schema: &case_schema,
                    now: now(),
                    count: false,
                },
            )
            .unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(outcome.found, segql::Found::Ids(want), "{case} in memory");
            count.memory += 1;
            // PostgreSQL.
            let pg_case = compile(&position, v, &sql::Postgres);
            if v.contains('\u{0}') {
                match pg_case {
                    Err(Error::InvalidValue { message, .. }) => assert!(
                        message.starts_with("PostgreSQL text cannot hold U+0000"),
                        "{case}: {message}"
                    ),
                    other => panic!(
                        "{case}: PostgreSQL must refuse U+0000, got {:?}",
                        other.map(|c| c.0)
                    ),
                }
                count.postgres_refused += 1;
                continue;
            }
            let (q, _, _) = pg_case.unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_parameterized(&case, &q, v, &sql::Postgres);
            if let Some(client) = client.as_mut() {
                let found = PostgresBackend::new(&mut *client)
                    .query_ids(&q)
                    .unwrap_or_else(|e| panic!("{case} on PostgreSQL: {e}\n{}", q.sql));
                assert_eq!(
                    found,
                    expected(&pg_rows, &position, v),
                    "{case} on PostgreSQL:\n{}",
                    q.sql
                );
                count.postgres += 1;
            }
        }
    }
    // The data itself survived every query.
    let contacts: i64 = conn
        .query_row("SELECT COUNT(*) FROM contact", [], |r| r.get(0))
        .unwrap();
    assert_eq!(contacts as usize, rows.len());
    let cases = values.len() * positions().len();
    println!(
        "injection cases: SQLite {}, memory {}, PostgreSQL {} (+ {} refused U+0000 literals) of {cases}",
        count.sqlite, count.memory, count.postgres, count.postgres_refused
    );
    assert_eq!(count.sqlite, cases);
    assert_eq!(count.memory, cases);
    let nul_values = values.iter().filter(|(_, v)| v.contains('\u{0}')).count();
    assert_eq!(count.postgres_refused, nul_values * positions().len());
    if pg.is_some() {
        assert_eq!(count.postgres + count.postgres_refused, cases);
    }
}

/// `update --set` with each hostile value on a text field: stored exactly,
/// then found by `=`; PostgreSQL refuses U+0000 with a clear error.
#[test]
fn hostile_values_set_by_update_are_stored_exactly() {
    let schema = segql::schema::crm_schema();
    let values = hostile();
    let fixture = Fixture {
        accounts: vec![],
        contacts: vec![
            contact(1, Some("a@x.io"), false, None),
            contact(2, None, false, None),
        ],
        leads: vec![],
    };
    let conn = sqlite(&fixture);
    let pg = TestPg::start();
    let mut client = pg.as_ref().map(|pg| {
        let mut client = pg.client();
        load_postgres(&mut client, &fixture);
        client
    });
    let options = UpdateOptions {
        dry_run: false,
        now: now(),
    };
    let target = segql::plan(
        &format!("contact where id = \"{}\"", id(1)),
        &Options::new(&schema),
    )
    .unwrap();
    let mut counts = (0, 0);
    for (name, v) in &values {
        let assignments = ops::parse_assignments(&format!("city={}", lit(v)), "contact", &schema)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let found = segql::plan(
            &format!("contact where city = {}", lit(v)),
            &Options::new(&schema),
        )
        .unwrap();
        let mut db = SqliteBackend::new(&conn);
        let report = ops::update(&mut db, &schema, &target, &assignments, &options).unwrap();
        assert_eq!((report.matched, report.changed), (1, 1), "{name} on SQLite");
        let stored: String = conn
            .query_row("SELECT city FROM contact WHERE id = ?1", [id(1)], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(stored == *v, "{name}: SQLite stored another value");
        assert_eq!(
            db.ids(&schema, &found, now()).unwrap(),
            vec![Uuid::parse_str(&id(1)).unwrap()],
            "{name}"
        );
        counts.0 += 1;
        if let Some(client) = client.as_mut() {
            let mut db = PostgresBackend::new(&mut *client);
            let result = ops::update(&mut db, &schema, &target, &assignments, &options);
            if v.contains('\u{0}') {
                match result {
                    Err(Error::InvalidValue { message, .. }) => assert!(
                        message.starts_with("PostgreSQL text cannot hold U+0000")
                            && message.contains("city"),
                        "{name}: {message}"
                    ),
                    other => panic!("{name}: PostgreSQL must refuse U+0000, got {other:?}"),
                }
                continue;
            }
            let report = result.unwrap_or_else(|e| panic!("{name} on PostgreSQL: {e}"));
            assert_eq!(
                (report.matched, report.changed),
                (1, 1),
                "{name} on PostgreSQL"
            );
            assert_eq!(
                db.ids(&schema, &found, now()).unwrap(),
                vec![Uuid::parse_str(&id(1)).unwrap()],
                "{name}"
            );
            let stored: String = client
                .query_one(
                    "SELECT city FROM contact WHERE id = $1::text::uuid",
                    &[&id(1)],
                )
                .unwrap()
                .get(0);
            assert!(stored == *v, "{name}: PostgreSQL stored another value");
            counts.1 += 1;
        }
    }
    println!("update cases: SQLite {}, PostgreSQL {}", counts.0, counts.1);
}

/// Emails with quotes and other hostile characters, as data: link-orphans
/// matches them exactly (after trimming and ASCII case folding) and
/// creates contacts with exactly the others.
#[test]
fn link_orphans_matches_hostile_emails_exactly() {
    let emails = [
        "o'brien@x.example",
        "\"quoted\"@x.example",
        "'; DROP TABLE contact; --@x.example",
        "back\\slash@x.example",
        "100%_off@x.example",
        "$1?1@x.example",
        "rtl\u{202E}@x.example",
    ];
    let mut contacts = Vec::new();
    let mut leads = Vec::new();
    for (i, email) in emails.iter().enumerate() {
        let i = i as u64;
        contacts.push(contact(100 + i, Some(email), false, None));
        // The same email upper-cased and padded: must match contact 100 + i.
        leads.push(lead(
            200 + i,
            Some(&format!(" {} ", email.to_ascii_uppercase())),
            None,
        ));
        // An email that differs by the hostile characters only: a new contact.
        leads.push(lead(300 + i, Some(&format!("x{email}")), None));
    }
    // Decoys that a LIKE or a spliced quote would match.
    contacts.push(contact(150, Some("obrien@x.example"), false, None));
    contacts.push(contact(151, Some("100xxoff@x.example"), false, None));
    let fixture = Fixture {
        accounts: vec![],
        contacts,
        leads,
    };
    let check = |report: segql::ops::LinkReport, db: &str| {
        assert_eq!(report.linked_to_existing, emails.len() as u64, "{db}");
        assert_eq!(report.contacts_created, emails.len() as u64, "{db}");
        for link in &report.links {
            let lead = (link.lead_id.as_u128() & 0xffff_ffff_ffff) as u64;
            if lead < 300 {
                assert_eq!(
                    link.contact_id,
                    Uuid::parse_str(&id(lead - 100)).unwrap(),
                    "{db}: lead {lead}"
                );
                assert!(!link.contact_created, "{db}: lead {lead}");
            } else {
                assert!(link.contact_created, "{db}: lead {lead}");
            }
        }
    };
    let options = LinkOptions {
        dry_run: false,
        now: now(),
    };
    let schema = segql::schema::crm_schema();
    let conn = sqlite(&fixture);
    check(
        ops::link_orphans(&mut SqliteBackend::new(&conn), &schema, &options).unwrap(),
        "SQLite",
    );
    for (i, email) in emails.iter().enumerate() {
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM contact WHERE email = ?1",
                [format!("x{email}")],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "SQLite: the contact created for lead {}", 300 + i);
    }
    if let Some(pg) = TestPg::start() {
        let mut client = pg.client();
        load_postgres(&mut client, &fixture);
        check(
            ops::link_orphans(&mut PostgresBackend::new(&mut client), &schema, &options).unwrap(),
            "PostgreSQL",
        );
        for (i, email) in emails.iter().enumerate() {
            let n: i64 = client
                .query_one(
                    "SELECT COUNT(*) FROM contact WHERE email = $1",
                    &[&format!("x{email}")],
                )
                .unwrap()
                .get(0);
            assert_eq!(n, 1, "PostgreSQL: the contact created for lead {}", 300 + i);
        }
    }
}
