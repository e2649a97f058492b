//! `link-orphans` on PostgreSQL: the same rules as on SQLite, the same
//! resulting data on both databases, rollback on error and on a dry run, and a
//! concurrent writer.

use chrono::{DateTime, TimeZone, Utc};
use segql::db::{PostgresBackend, SqliteBackend};
use segql::ops::{link_orphans, LinkOptions, LinkReport};
use segql::schema::crm_schema;
use segql::Error;

use crate::support::ops::{
    canonical_postgres, canonical_sqlite, contact, contact_ids_postgres, contact_ids_sqlite,
    dump_postgres, id, lead, load_postgres, sqlite, Fixture,
};
use crate::support::pg::TestPg;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn options(dry_run: bool) -> LinkOptions {
    LinkOptions {
        dry_run,
        now: now(),
    }
}

/// Every rule at once: preference order, trimming and ASCII-only case
/// folding, shared new contacts, skipped leads, leads that have a contact.
fn rules_fixture() -> Fixture {
    let mut leads = vec![
        lead(20, Some("ann@example.com"), None),
        lead(21, Some("a@x.io"), None),
        lead(22, Some("\tB@X.io "), None),
        lead(23, Some("ÉVE@x.io"), None),
        lead(24, Some("new@x.io"), Some("2024-03-01T00:00:00Z")),
        lead(25, Some(" NEW@x.io"), Some("2024-02-01T00:00:00Z")),
        lead(26, Some("New@X.IO"), None),
        lead(27, None, None),
        lead(28, Some("  "), None),
        lead(29, Some("zed@x.io"), None),
    ];
    leads[5].account_id = Some(id(90));
    leads[9].contact_id = Some(id(1));
    Fixture {
        accounts: vec![id(90)],
        contacts: vec![
            contact(
                1,
                Some("ann@example.com"),
                true,
                Some("2020-01-01T00:00:00Z"),
            ),
            contact(
                2,
                Some("ANN@example.com"),
                false,
                Some("2024-01-01T00:00:00Z"),
            ),
            contact(3, Some("a@x.io"), false, None),
            contact(4, Some("a@x.io"), false, Some("2024-02-01T00:00:00Z")),
            contact(5, Some("b@x.io"), false, Some("2024-01-01T00:00:00Z")),
            contact(6, Some("b@x.io"), false, Some("2024-01-01T00:00:00Z")),
            contact(7, Some("éve@x.io"), false, None),
        ],
        leads,
    }
}

fn counts(r: &LinkReport) -> (u64, u64, u64, u64) {
    (
        r.linked_to_existing,
        r.contacts_created,
        r.leads_linked_to_created,
        r.skipped_without_email,
    )
}

fn parent(client: &mut postgres::Client, lead: u64) -> Option<String> {
    client
        .query_one(
            "SELECT CAST(contact_id AS TEXT) FROM lead WHERE id = $1::text::uuid",
            &[&id(lead)],
        )
        .unwrap()
        .get(0)
}

#[test]
fn follows_the_rules_and_matches_sqlite() {
    let Some(pg) = TestPg::start() else { return };
    let mut client = pg.client();
    let fixture = rules_fixture();
    load_postgres(&mut client, &fixture);
    let before_pg = contact_ids_postgres(&mut client);
    let report = link_orphans(
        &mut PostgresBackend::new(&mut client),
        &crm_schema(),
        &options(false),
    )
    .unwrap();
    assert_eq!(counts(&report), (3, 2, 4, 2));
    assert_eq!(parent(&mut client, 20), Some(id(2)));
    assert_eq!(parent(&mut client, 21), Some(id(4)));
    assert_eq!(parent(&mut client, 22), Some(id(5)));
    assert_eq!(parent(&mut client, 29), Some(id(1)));
    let new = parent(&mut client, 24).expect("linked");
    assert_eq!(parent(&mut client, 25).as_ref(), Some(&new));
    assert_eq!(parent(&mut client, 26).as_ref(), Some(&new));
    let row = client
        .query_one(
            "SELECT first_name, email, CAST(account_id AS TEXT), marketing_only, \
             created_on = '2025-06-01T12:00:00Z'::timestamptz FROM contact WHERE id = $1::text::uuid",
            &[&new],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "First25");
    assert_eq!(row.get::<_, String>(1), "NEW@x.io");
    assert_eq!(row.get::<_, Option<String>>(2), Some(id(90)));
    assert!(row.get::<_, bool>(3));
    assert!(row.get::<_, bool>(4));

    let mut lite = sqlite(&fixture);
    let before_lite = contact_ids_sqlite(&lite);
    let lite_report = link_orphans(
        &mut SqliteBackend::new(&mut lite),
        &crm_schema(),
        &options(false),
    )
    .unwrap();
    assert_eq!(counts(&lite_report), counts(&report));
    assert_eq!(lite_report.skipped, report.skipped);
    assert_eq!(
        canonical_sqlite(&lite, &before_lite),
        canonical_postgres(&mut client, &before_pg)
    );

    // A second run changes nothing.
    let dump = dump_postgres(&mut client);
    let again = link_orphans(
        &mut PostgresBackend::new(&mut client),
        &crm_schema(),
        &options(false),
    )
    .unwrap();
    assert_eq!(counts(&again), (0, 0, 0, 2));
    assert_eq!(dump_postgres(&mut client), dump);
}

#[test]
fn a_dry_run_rolls_back() {
    let Some(pg) = TestPg::start() else { return };
    let mut client = pg.client();
    load_postgres(&mut client, &rules_fixture());
    let before = dump_postgres(&mut client);
    let dry = link_orphans(
        &mut PostgresBackend::new(&mut client),
        &crm_schema(),
        &options(true),
    )
    .unwrap();
    assert!(dry.dry_run);
    assert_eq!(dump_postgres(&mut client), before);
    let real = link_orphans(
        &mut PostgresBackend::new(&mut client),
        &crm_schema(),
        &options(false),
    )
    .unwrap();
    assert_eq!(counts(&dry), counts(&real));
    assert_ne!(dump_postgres(&mut client), before);
}

#[test]
fn a_failing_statement_rolls_back_everything() {
    let Some(pg) = TestPg::start() else { return };
    let mut client = pg.client();
    load_postgres(&mut client, &rules_fixture());
    // Contacts go in before leads are updated; the update then fails.
    client
        .batch_execute(
            "ALTER TABLE lead ADD CONSTRAINT no_link_for_20 \
             CHECK (id <> '00000000-0000-4000-8000-000000000014' OR contact_id IS NULL)",
        )
        .unwrap();
    let before = dump_postgres(&mut client);
    let err = link_orphans(
        &mut PostgresBackend::new(&mut client),
        &crm_schema(),
        &options(false),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    assert!(err.to_string().contains("no_link_for_20"), "{err}");
    assert_eq!(dump_postgres(&mut client), before);
}

#[test]
fn a_wrong_layout_is_named() {
    let Some(pg) = TestPg::start() else { return };
    let mut client = pg.client();
    load_postgres(&mut client, &rules_fixture());
    client
        .batch_execute("ALTER TABLE lead DROP COLUMN created_on")
        .unwrap();
    let before = dump_postgres(&mut client);
    let err = link_orphans(
        &mut PostgresBackend::new(&mut client),
        &crm_schema(),
        &options(false),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    assert!(err.to_string().contains("'created_on'"), "{err}");
    assert_eq!(dump_postgres(&mut client), before);
}

#[test]
fn a_concurrent_writer_gives_a_clear_error() {
    let Some(pg) = TestPg::start() else { return };
    let mut client = pg.client();
    load_postgres(&mut client, &rules_fixture());
    let before = dump_postgres(&mut client);
    let mut other = pg.client();
    let mut holding = other.transaction().unwrap();
    holding
        .batch_execute(
            "UPDATE contact SET city = 'Oslo' WHERE id = '00000000-0000-4000-8000-000000000001'",
        )
        .unwrap();
    let err = link_orphans(
        &mut PostgresBackend::new(&mut client),
        &crm_schema(),
        &options(false),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    assert!(
        err.to_string().contains("locked by another writer"),
        "{err}"
    );
    holding.rollback().unwrap();
    assert_eq!(dump_postgres(&mut client), before);
}
