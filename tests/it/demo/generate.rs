//! The demo data set: deterministic, realistically proportioned, full of the
//! awkward cases segments must handle (NULLs, orphaned leads, retyped emails,
//! non-ASCII text, LIKE metacharacters), in the layout of the default schema.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::types::Value;
use rusqlite::Connection;
use segql::db::SqliteBackend;
use segql::demo::{self, DemoOptions, DemoReport};
use segql::schema::{crm_schema, FieldType};
use segql::sql::Dialect;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 15, 12, 0, 0).unwrap()
}

fn generate(contacts: usize, seed: u64) -> (Connection, DemoReport) {
    let mut conn = Connection::open_in_memory().unwrap();
    let report = demo::generate_into(&mut conn, &DemoOptions::new(contacts, seed, now())).unwrap();
    (conn, report)
}

/// Every row of `table` in insertion order.
fn dump(conn: &Connection, table: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid"))
        .unwrap();
    let width = stmt.column_count();
    stmt.query_map([], |row| {
        (0..width).map(|i| row.get::<_, Value>(i)).collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn count(conn: &Connection, sql: &str) -> usize {
    conn.query_row(sql, [], |row| row.get::<_, i64>(0)).unwrap() as usize
}

fn tables() -> Vec<String> {
    crm_schema()
        .entities
        .iter()
        .map(|e| e.table.clone())
        .collect()
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let (a, report_a) = generate(300, 7);
    let (b, report_b) = generate(300, 7);
    let (c, _) = generate(300, 8);
    assert_eq!(report_a, report_b);
    for table in tables() {
        let rows = dump(&a, &table);
        assert!(!rows.is_empty(), "{table} is empty");
        assert_eq!(rows, dump(&b, &table), "{table} differs for the same seed");
        assert_ne!(
            rows,
            dump(&c, &table),
            "{table} is the same for another seed"
        );
    }
}

#[test]
fn report_matches_the_tables_and_proportions_are_realistic() {
    let contacts = 4000;
    let (conn, report) = generate(contacts, 42);
    for (table, rows) in report.tables() {
        assert_eq!(
            count(&conn, &format!("SELECT count(*) FROM {table}")),
            rows,
            "{table}"
        );
    }
    let orphans = count(&conn, "SELECT count(*) FROM lead WHERE contact_id IS NULL");
    assert_eq!(orphans, report.orphaned_leads);
    assert_eq!(report.contacts, contacts);
    assert_eq!(report.accounts, contacts / 20);
    let per_contact = |n: usize| n as f64 / contacts as f64;
    let leads = per_contact(report.leads);
    assert!((1.4..1.6).contains(&leads), "{leads} leads per contact");
    let orphan_share = orphans as f64 / report.leads as f64;
    assert!(
        (0.04..0.06).contains(&orphan_share),
        "{orphan_share} of leads orphaned"
    );
    let interactions = per_contact(report.interactions);
    assert!(
        (9.5..10.5).contains(&interactions),
        "{interactions} interactions per contact"
    );
    let subscriptions = per_contact(report.subscriptions);
    assert!(
        (0.6..1.1).contains(&subscriptions),
        "{subscriptions} subscriptions per contact"
    );
    let flagged = |flag: &str| {
        count(
            &conn,
            &format!("SELECT count(*) FROM contact WHERE {flag} = 1"),
        )
    };
    for flag in [
        "marketing_only",
        "do_not_email",
        "do_not_bulk_email",
        "is_child",
    ] {
        let share = flagged(flag) as f64 / contacts as f64;
        assert!(
            (0.005..0.3).contains(&share),
            "{share} of contacts are {flag}"
        );
    }
}

#[test]
fn every_field_has_values_and_every_nullable_field_has_nulls() {
    let (conn, _) = generate(2000, 3);
    for entity in crm_schema().entities {
        for field in &entity.fields {
            let sql = format!(
                "SELECT count(*) FROM \"{}\" WHERE \"{}\" IS NULL",
                entity.table, field.column
            );
            let nulls = count(&conn, &sql);
            if field.nullable {
                assert!(nulls > 0, "{}.{} has no NULLs", entity.name, field.name);
            } else {
                assert_eq!(nulls, 0, "{}.{} has NULLs", entity.name, field.name);
            }
            let distinct = count(
                &conn,
                &format!(
                    "SELECT count(DISTINCT \"{}\") FROM \"{}\"",
                    field.column, entity.table
                ),
            );
            assert!(
                distinct >= 2,
                "{}.{} has {distinct} distinct values",
                entity.name,
                field.name
            );
        }
    }
}

#[test]
fn values_are_stored_as_the_schema_says() {
    let (conn, _) = generate(1000, 11);
    let now = now();
    for entity in crm_schema().entities {
        for field in &entity.fields {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT \"{}\" FROM \"{}\" WHERE \"{}\" IS NOT NULL",
                    field.column, entity.table, field.column
                ))
                .unwrap();
            let values: Vec<Value> = stmt
                .query_map([], |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let what = format!("{}.{}", entity.name, field.name);
            for value in values {
                match (&field.ty, value) {
                    (FieldType::Uuid, Value::Text(t)) => {
                        let id = uuid::Uuid::parse_str(&t).unwrap();
                        assert_eq!(id.hyphenated().to_string(), t, "{what}");
                        assert_eq!(id.get_version_num(), 4, "{what}");
                    }
                    (FieldType::Text, Value::Text(t)) => assert!(!t.is_empty(), "{what}"),
                    (FieldType::Integer, Value::Integer(_)) => {}
                    (FieldType::Decimal, Value::Real(r)) => assert!(r.is_finite(), "{what}"),
                    (FieldType::Bool, Value::Integer(b)) => assert!(b == 0 || b == 1, "{what}"),
                    (FieldType::Choice(choices), Value::Integer(code)) => {
                        assert!(choices.by_code(code).is_some(), "{what} code {code}")
                    }
                    (FieldType::Date, Value::Text(t)) => {
                        let date = chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").unwrap();
                        assert_eq!(date.format("%Y-%m-%d").to_string(), t, "{what}");
                        assert!(date < now.date_naive(), "{what} {t} is not in the past");
                    }
                    (FieldType::DateTime, Value::Text(t)) => {
                        let at = chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%SZ")
                            .unwrap()
                            .and_utc();
                        assert!(at <= now, "{what} {t} is after now");
                        assert!(now - at < chrono::Duration::days(6 * 366), "{what} {t}");
                    }
                    (ty, value) => panic!("{what}: {} stored as {value:?}", ty.name()),
                }
            }
        }
    }
    // Interactions fall in the two years before now.
    let oldest: String = conn
        .query_row("SELECT min(occurred_on) FROM interaction", [], |r| r.get(0))
        .unwrap();
    assert!(oldest.as_str() >= "2023-06-15T12:00:00Z", "{oldest}");
}

#[test]
fn orphaned_leads_come_in_every_kind() {
    let (conn, _) = generate(4000, 5);
    let contact_emails: Vec<String> =
        column(&conn, "SELECT email FROM contact WHERE email IS NOT NULL");
    let exact: HashSet<&str> = contact_emails.iter().map(String::as_str).collect();
    let folded: HashSet<String> = contact_emails
        .iter()
        .map(|e| e.trim().to_ascii_lowercase())
        .collect();
    let orphan_emails: Vec<Option<String>> = {
        let mut stmt = conn
            .prepare("SELECT email FROM lead WHERE contact_id IS NULL")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let without_email = orphan_emails.iter().filter(|e| e.is_none()).count();
    let emails: Vec<&String> = orphan_emails.iter().flatten().collect();
    let matching_exactly = emails.iter().filter(|e| exact.contains(e.as_str())).count();
    let matching_retyped = emails
        .iter()
        .filter(|e| !exact.contains(e.as_str()) && folded.contains(&e.trim().to_ascii_lowercase()))
        .count();
    let mut new_addresses: HashMap<String, usize> = HashMap::new();
    for e in emails
        .iter()
        .filter(|e| !folded.contains(&e.trim().to_ascii_lowercase()))
    {
        *new_addresses
            .entry(e.trim().to_ascii_lowercase())
            .or_default() += 1;
    }
    let shared_new = new_addresses.values().filter(|n| **n >= 2).count();
    let retyped_new = emails
        .iter()
        .filter(|e| new_addresses.contains_key(&e.trim().to_ascii_lowercase()))
        .filter(|e| e.trim() != e.as_str() || e.to_ascii_lowercase() != e.as_str())
        .count();
    assert!(without_email > 10, "{without_email} orphans without email");
    assert!(
        matching_exactly > 10,
        "{matching_exactly} orphans match a contact exactly"
    );
    assert!(
        matching_retyped > 10,
        "{matching_retyped} orphans match a contact when retyped"
    );
    assert!(
        shared_new > 5,
        "{shared_new} new addresses shared by several orphans"
    );
    assert!(retyped_new > 5, "{retyped_new} new addresses retyped");

    // Some addresses belong to several contacts, marketing-only or not, so
    // that linking has a choice to make.
    let duplicated = count(
        &conn,
        "SELECT count(*) FROM (SELECT lower(email) FROM contact WHERE email IS NOT NULL \
         GROUP BY lower(email) HAVING count(*) > 1)",
    );
    assert!(duplicated > 5, "{duplicated} addresses shared by contacts");
    // Contacts' own emails are stored trimmed.
    assert!(contact_emails.iter().all(|e| e.trim() == e));
}

#[test]
fn text_holds_non_ascii_and_like_metacharacters() {
    let (conn, _) = generate(1000, 9);
    let names: Vec<String> = column(&conn, "SELECT first_name || ' ' || last_name FROM contact WHERE first_name IS NOT NULL AND last_name IS NOT NULL");
    assert!(names
        .iter()
        .any(|n| n.contains('É') || n.contains('ü') || n.contains('ß')));
    assert!(names
        .iter()
        .any(|n| n.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))));
    let texts: Vec<String> = column(
        &conn,
        "SELECT topic FROM lead WHERE topic IS NOT NULL UNION ALL \
         SELECT job_title FROM contact WHERE job_title IS NOT NULL",
    );
    assert!(texts.iter().any(|t| t.contains('%')));
    assert!(texts.iter().any(|t| t.contains('_')));
    assert!(texts.iter().any(|t| t == "Contoso Ltd Conference"));
}

#[test]
fn layout_matches_the_default_schema() {
    let (conn, _) = generate(50, 1);
    for entity in crm_schema().entities {
        let mut stmt = conn
            .prepare(&format!("PRAGMA table_info(\"{}\")", entity.table))
            .unwrap();
        let columns: Vec<(String, String, bool, i64)> = stmt
            .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(5)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(columns.len(), entity.fields.len(), "{}", entity.table);
        for field in &entity.fields {
            let (_, ty, not_null, pk) = columns
                .iter()
                .find(|c| c.0 == field.column)
                .unwrap_or_else(|| panic!("{}.{} is missing", entity.table, field.column));
            assert_eq!(
                ty,
                segql::sql::Sqlite.column_type(&field.ty),
                "{}.{}",
                entity.table,
                field.column
            );
            assert_eq!(
                *not_null, !field.nullable,
                "{}.{}",
                entity.table, field.column
            );
            assert_eq!(*pk, 0, "{}.{}", entity.table, field.column);
        }
        // The key has a unique index (built after the load, in place of a
        // declared primary key).
        let unique_on_key = count(
            &conn,
            &format!(
                "SELECT count(*) FROM pragma_index_list('{}') AS l \
                 JOIN pragma_index_info(l.name) AS i WHERE l.\"unique\" = 1 AND i.name = '{}' \
                 AND (SELECT count(*) FROM pragma_index_info(l.name)) = 1",
                entity.table, entity.key
            ),
        );
        assert_eq!(unique_on_key, 1, "{} key is not unique", entity.table);
    }
    let duplicate = conn.execute(
        "INSERT INTO account (id) SELECT id FROM account LIMIT 1",
        [],
    );
    assert!(duplicate.is_err(), "a duplicate key was accepted");
    for rel in crm_schema().relationships {
        let indexed = count(
            &conn,
            &format!(
                "SELECT count(*) FROM pragma_index_list('{}') AS l \
                 JOIN pragma_index_info(l.name) AS i WHERE i.name = '{}'",
                rel.child, rel.child_field
            ),
        );
        assert!(
            indexed > 0,
            "{}.{} is not indexed",
            rel.child,
            rel.child_field
        );
    }
    // A new contact gets false flags without naming them.
    conn.execute(
        "INSERT INTO contact (id) VALUES ('00000000-0000-4000-8000-000000000000')",
        [],
    )
    .unwrap();
    let flags = count(
        &conn,
        "SELECT marketing_only + do_not_email + do_not_bulk_email + allow_prefill + is_child + 1 \
         FROM contact WHERE id = '00000000-0000-4000-8000-000000000000'",
    );
    assert_eq!(flags, 1);
}

#[test]
fn writes_a_file_atomically_and_restores_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    std::fs::write(&path, b"not a database").unwrap();
    // Another file is kept unless forced.
    let refused = demo::generate_sqlite(&path, &DemoOptions::new(200, 2, now())).unwrap_err();
    assert!(
        matches!(refused, segql::Error::Unavailable { .. }),
        "{refused:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"not a database");
    let forced = DemoOptions {
        force: true,
        ..DemoOptions::new(200, 2, now())
    };
    let report = demo::generate_sqlite(&path, &forced).unwrap();
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "a temporary file was left behind");
    let conn = Connection::open(&path).unwrap();
    assert_eq!(
        count(&conn, "SELECT count(*) FROM contact"),
        report.contacts
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");

    // Into an open file connection: its settings come back afterwards.
    let other = dir.path().join("other.db");
    let mut conn = Connection::open(&other).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .unwrap();
    demo::generate_into(&mut conn, &DemoOptions::new(20, 2, now())).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let sync: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!((mode.as_str(), sync), ("wal", 1));
}

#[test]
fn a_failed_write_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no such dir").join("crm.db");
    assert!(demo::generate_sqlite(&missing, &DemoOptions::new(10, 1, now())).is_err());
    // Tables already present: generation fails and the connection is usable.
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE contact (id TEXT)")
        .unwrap();
    assert!(demo::generate_into(&mut conn, &DemoOptions::new(10, 1, now())).is_err());
    assert_eq!(count(&conn, "SELECT count(*) FROM contact"), 0);
}

#[test]
fn zero_contacts_gives_empty_tables() {
    let (conn, report) = generate(0, 1);
    assert_eq!(report, DemoReport::default());
    for table in tables() {
        assert_eq!(count(&conn, &format!("SELECT count(*) FROM {table}")), 0);
    }
}

fn column(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn create_tables_declares_primary_keys() {
    let conn = Connection::open_in_memory().unwrap();
    segql::demo::create_tables(&mut SqliteBackend::new(&conn), &crm_schema()).unwrap();
    segql::demo::create_indexes(&mut SqliteBackend::new(&conn), &crm_schema()).unwrap();
    for entity in crm_schema().entities {
        let pk: String = conn
            .query_row(
                &format!(
                    "SELECT name FROM pragma_table_info('{}') WHERE pk = 1",
                    entity.table
                ),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(pk, entity.key);
    }
}
