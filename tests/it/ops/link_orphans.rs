//! `link-orphans` on SQLite: every rule of SPEC §5 on small hand-made
//! databases, the report, idempotence, dry runs, a wrong layout and a
//! concurrent writer.

use chrono::{DateTime, TimeZone, Utc};
use segql::db::SqliteBackend;
use segql::ops::{link_orphans, LinkOptions, LinkReport};
use segql::schema::crm_schema;
use segql::Error;

use crate::support::ops as ops_support;
use crate::support::ops::{checksum_sqlite, contact, dump_sqlite, id, lead, sqlite, Fixture};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

/// One link-orphans run with the default schema at `now()`.
// The library's own error type, returned once per test run.
#[allow(clippy::result_large_err)]
fn try_run(conn: &mut rusqlite::Connection, dry_run: bool) -> Result<LinkReport, Error> {
    let options = LinkOptions {
        dry_run,
        now: now(),
    };
    link_orphans(&mut SqliteBackend::new(conn), &crm_schema(), &options)
}

fn run(conn: &mut rusqlite::Connection, dry_run: bool) -> LinkReport {
    try_run(conn, dry_run).unwrap()
}

/// The contact a lead points at.
fn parent(conn: &rusqlite::Connection, lead: u64) -> Option<String> {
    parent_of(conn, &id(lead))
}

fn parent_of(conn: &rusqlite::Connection, lead: &str) -> Option<String> {
    conn.query_row("SELECT contact_id FROM lead WHERE id = ?1", [lead], |r| {
        r.get(0)
    })
    .unwrap()
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn prefers_a_contact_that_is_not_marketing_only() {
    let mut conn = sqlite(&Fixture {
        contacts: vec![
            contact(
                1,
                Some("ann@example.com"),
                true,
                Some("2020-01-01T00:00:00Z"),
            ),
            contact(
                2,
                Some("ann@example.com"),
                false,
                Some("2024-01-01T00:00:00Z"),
            ),
            contact(3, Some("ann@example.com"), true, None),
        ],
        leads: vec![lead(10, Some("ann@example.com"), None)],
        ..Fixture::default()
    });
    let report = run(&mut conn, false);
    assert_eq!(parent(&conn, 10), Some(id(2)));
    assert_eq!(report.linked_to_existing, 1);
    assert_eq!(report.contacts_created, 0);
}

#[test]
fn then_the_earliest_created_then_the_smallest_id() {
    let mut conn = sqlite(&Fixture {
        contacts: vec![
            // No created_on: sorts after every date.
            contact(1, Some("a@x.io"), false, None),
            contact(3, Some("a@x.io"), false, Some("2024-02-01T00:00:00Z")),
            contact(4, Some("a@x.io"), false, Some("2024-01-01T00:00:00Z")),
            contact(5, Some("b@x.io"), false, Some("2024-01-01T00:00:00Z")),
            contact(6, Some("b@x.io"), false, Some("2024-01-01T00:00:00Z")),
            contact(7, Some("c@x.io"), false, None),
            contact(8, Some("c@x.io"), false, None),
        ],
        leads: vec![
            lead(10, Some("a@x.io"), None),
            lead(11, Some("b@x.io"), None),
            lead(12, Some("c@x.io"), None),
        ],
        ..Fixture::default()
    });
    run(&mut conn, false);
    assert_eq!(parent(&conn, 10), Some(id(4)));
    assert_eq!(parent(&conn, 11), Some(id(5)));
    assert_eq!(parent(&conn, 12), Some(id(7)));
}

#[test]
fn emails_match_trimmed_and_ignoring_ascii_case_only() {
    let mut conn = sqlite(&Fixture {
        contacts: vec![
            contact(1, Some(" ann@example.com\n"), false, None),
            contact(2, Some("éve@example.com"), false, None),
            contact(3, Some("ann@example.comx"), false, None),
        ],
        leads: vec![
            lead(10, Some("\tAnn@EXAMPLE.com  "), None),
            // É and é differ: only ASCII letters fold.
            lead(11, Some("ÉVE@example.com"), None),
        ],
        ..Fixture::default()
    });
    let report = run(&mut conn, false);
    assert_eq!(parent(&conn, 10), Some(id(1)));
    let eve = parent(&conn, 11).expect("linked");
    assert!(![id(1), id(2), id(3)].contains(&eve));
    assert_eq!(report.linked_to_existing, 1);
    assert_eq!(report.contacts_created, 1);
}

#[test]
fn leads_sharing_an_email_share_one_new_contact() {
    let mut fixture = Fixture {
        accounts: vec![id(90), id(91)],
        leads: vec![
            lead(10, Some("bob@x.io"), Some("2024-03-01T00:00:00Z")),
            lead(11, Some("  BOB@x.io "), Some("2024-02-01T00:00:00Z")),
            lead(12, Some("Bob@X.io"), None),
            lead(13, Some("carol@x.io"), None),
        ],
        ..Fixture::default()
    };
    fixture.leads[1].account_id = Some(id(91));
    fixture.leads[0].account_id = Some(id(90));
    let mut conn = sqlite(&fixture);
    let report = run(&mut conn, false);

    assert_eq!(report.contacts_created, 2);
    assert_eq!(report.leads_linked_to_created, 4);
    assert_eq!(report.linked_to_existing, 0);
    let bob = parent(&conn, 10).expect("linked");
    assert_eq!(parent(&conn, 11).as_ref(), Some(&bob));
    assert_eq!(parent(&conn, 12).as_ref(), Some(&bob));
    assert_ne!(parent(&conn, 13).as_ref(), Some(&bob));

    // Made from the earliest lead (11): its names, its trimmed email, its account.
    let row: (
        String,
        String,
        String,
        String,
        i64,
        String,
        i64,
        i64,
        i64,
        i64,
    ) = conn
        .query_row(
            "SELECT first_name, last_name, email, account_id, marketing_only, created_on, \
             do_not_email, do_not_bulk_email, allow_prefill, is_child FROM contact WHERE id = ?1",
            [&bob],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "First11".into(),
            "Last11".into(),
            "BOB@x.io".into(),
            id(91),
            1,
            "2025-06-01T12:00:00Z".into(),
            0,
            0,
            0,
            0
        )
    );
    let uuid = uuid::Uuid::parse_str(&bob).unwrap();
    assert_eq!(uuid.get_version_num(), 4);
    assert_eq!(bob, uuid.hyphenated().to_string(), "lowercase hyphenated");
}

#[test]
fn leads_without_email_are_skipped_and_counted() {
    let mut conn = sqlite(&Fixture {
        leads: vec![
            lead(10, None, None),
            lead(11, Some(""), None),
            lead(12, Some(" \t\r\n"), None),
            lead(13, Some("d@x.io"), None),
        ],
        ..Fixture::default()
    });
    let report = run(&mut conn, false);
    assert_eq!(report.skipped_without_email, 3);
    assert_eq!(
        report.skipped,
        vec![10, 11, 12]
            .into_iter()
            .map(uuid_of)
            .collect::<Vec<_>>()
    );
    assert_eq!(report.leads_linked_to_created, 1);
    for n in 10..=12 {
        assert_eq!(parent(&conn, n), None);
    }
    assert_eq!(count(&conn, "SELECT count(*) FROM contact"), 1);
}

fn uuid_of(n: u64) -> uuid::Uuid {
    uuid::Uuid::parse_str(&id(n)).unwrap()
}

fn mixed_fixture() -> Fixture {
    let mut leads = vec![
        lead(10, Some("ann@example.com"), None),
        lead(11, Some("new@x.io"), Some("2024-01-01T00:00:00Z")),
        lead(12, Some("NEW@x.io"), None),
        lead(13, None, None),
        lead(14, Some("other@x.io"), None),
    ];
    // Not an orphan: must be left exactly as it is.
    leads[4].contact_id = Some(id(2));
    Fixture {
        contacts: vec![
            contact(1, Some("ann@example.com"), false, None),
            contact(2, Some("zed@x.io"), false, None),
        ],
        leads,
        ..Fixture::default()
    }
}

#[test]
fn the_report_lists_every_link() {
    let mut conn = sqlite(&mixed_fixture());
    let report = run(&mut conn, false);
    assert!(!report.dry_run);
    assert_eq!(
        (
            report.linked_to_existing,
            report.contacts_created,
            report.leads_linked_to_created,
            report.skipped_without_email
        ),
        (1, 1, 2, 1)
    );
    let links: Vec<(uuid::Uuid, bool)> = report
        .links
        .iter()
        .map(|k| (k.lead_id, k.contact_created))
        .collect();
    assert_eq!(
        links,
        vec![
            (uuid_of(10), false),
            (uuid_of(11), true),
            (uuid_of(12), true)
        ]
    );
    assert_eq!(report.links[0].contact_id, uuid_of(1));
    for k in &report.links {
        assert_eq!(
            parent_of(&conn, &k.lead_id.to_string()),
            Some(k.contact_id.to_string())
        );
    }
    assert_eq!(parent(&conn, 14), Some(id(2)));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["contacts_created"], 1);
    assert_eq!(json["links"][0]["lead_id"], id(10));
    assert_eq!(json["links"][0]["contact_created"], false);
}

#[test]
fn a_second_run_changes_nothing() {
    let mut conn = sqlite(&mixed_fixture());
    run(&mut conn, false);
    let after_first = dump_sqlite(&conn);
    let second = run(&mut conn, false);
    assert_eq!(dump_sqlite(&conn), after_first);
    assert_eq!(
        (
            second.linked_to_existing,
            second.contacts_created,
            second.leads_linked_to_created,
            second.skipped_without_email
        ),
        (0, 0, 0, 1)
    );
    assert!(second.links.is_empty());
}

#[test]
fn a_dry_run_reports_the_same_and_writes_nothing() {
    let mut conn = sqlite(&mixed_fixture());
    let before = checksum_sqlite(&conn);
    let dry = run(&mut conn, true);
    assert_eq!(checksum_sqlite(&conn), before);
    assert!(dry.dry_run);
    let temp: i64 = count(&conn, "SELECT count(*) FROM sqlite_temp_master");
    assert_eq!(temp, 0, "no temporary tables left behind");

    let real = run(&mut conn, false);
    assert_ne!(checksum_sqlite(&conn), before);
    let key = |r: &LinkReport| {
        (
            r.linked_to_existing,
            r.contacts_created,
            r.leads_linked_to_created,
            r.skipped_without_email,
            r.links
                .iter()
                .map(|k| (k.lead_id, k.contact_created))
                .collect::<Vec<_>>(),
            r.skipped.clone(),
        )
    };
    assert_eq!(key(&dry), key(&real));
    assert_eq!(count(&conn, "SELECT count(*) FROM sqlite_temp_master"), 0);
}

#[test]
fn a_missing_column_is_named_and_nothing_changes() {
    let mut conn = sqlite(&mixed_fixture());
    conn.execute_batch("ALTER TABLE contact DROP COLUMN marketing_only")
        .unwrap();
    let before = checksum_sqlite(&conn);
    let err = try_run(&mut conn, false).unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("'marketing_only'"), "{message}");
    assert!(message.contains("'contact'"), "{message}");
    assert_eq!(checksum_sqlite(&conn), before);
}

#[test]
fn a_missing_table_is_named() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE contact (id TEXT)")
        .unwrap();
    let err = try_run(&mut conn, false).unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    assert!(err.to_string().contains("table 'lead'"), "{err}");
}

#[test]
fn a_concurrent_writer_gives_a_clear_error_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    ops_support::load_sqlite(&conn, &mixed_fixture());
    let before = checksum_sqlite(&conn);

    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let err = try_run(&mut conn, false).unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    assert!(
        err.to_string().contains("locked by another writer"),
        "{err}"
    );
    assert!(
        waited < segql::ops::LOCK_WAIT * 3,
        "bounded wait: {waited:?}"
    );
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(checksum_sqlite(&conn), before);

    // Once the other writer is gone, the run goes through.
    let report = run(&mut conn, false);
    assert_eq!(report.links.len(), 3);
}

#[test]
fn a_failing_statement_rolls_back_everything() {
    let mut conn = sqlite(&mixed_fixture());
    // New contacts are inserted before the leads are updated; then this fails.
    conn.execute_batch(&format!(
        "CREATE TRIGGER refuse BEFORE UPDATE OF contact_id ON lead WHEN NEW.id = '{}' \
         BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END;",
        id(12)
    ))
    .unwrap();
    let before = checksum_sqlite(&conn);
    let err = try_run(&mut conn, false).unwrap_err();
    assert!(err.to_string().contains("refused by trigger"), "{err}");
    assert_eq!(checksum_sqlite(&conn), before);
    assert_eq!(count(&conn, "SELECT count(*) FROM sqlite_temp_master"), 0);
}
