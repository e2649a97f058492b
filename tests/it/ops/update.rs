//! `update` and its `--set` parsing: values typed like query literals, only
//! real changes written and counted, dry runs, a wrong layout, and the same
//! result on PostgreSQL.

use chrono::{DateTime, TimeZone, Utc};
use segql::db::{PostgresBackend, SqliteBackend};
use segql::ops::{parse_assignments, update, Assignment, UpdateOptions, UpdateReport};
use segql::plan::{CmpOp, FieldRef, FieldTest, Plan, PlanExpr, Test, Value, ValueType};
use segql::schema::crm_schema;
use segql::Error;

use crate::support::ops as ops_support;
use crate::support::ops::{
    checksum_sqlite, contact, dump_postgres, id, load_postgres, sqlite, Fixture,
};
use crate::support::pg::TestPg;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn options(dry_run: bool) -> UpdateOptions {
    UpdateOptions {
        dry_run,
        now: now(),
    }
}

/// `update` of the marketing-only contacts (`marketing_only_contacts()`) on
/// SQLite with the built-in schema.
// The library's own error type, returned once per test run.
#[allow(clippy::result_large_err)]
fn update_marketing_only(
    conn: &mut rusqlite::Connection,
    set: &[Assignment],
    dry_run: bool,
) -> Result<UpdateReport, Error> {
    let plan = marketing_only_contacts();
    update(
        &mut SqliteBackend::new(conn),
        &crm_schema(),
        &plan,
        set,
        &options(dry_run),
    )
}

fn err(text: &str) -> Error {
    parse_assignments(text, "contact", &crm_schema()).unwrap_err()
}

#[test]
fn values_are_typed_like_query_literals() {
    let set = parse_assignments(
        r#"City="Oslo, Norway", role="decision MAKER", marketing_only=false, created_on=now - 1d, birth_date=2001-02-03, job_title=null"#,
        "contact",
        &crm_schema(),
    )
    .unwrap();
    let fields: Vec<&str> = set.iter().map(|a| a.field.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "city",
            "role",
            "marketing_only",
            "created_on",
            "birth_date",
            "job_title"
        ]
    );
    assert_eq!(set[0].value, Some(Value::Text("Oslo, Norway".into())));
    assert_eq!(
        set[1].value,
        Some(Value::Choice {
            code: 1,
            label: "Decision Maker".into()
        })
    );
    assert_eq!(set[2].value, Some(Value::Bool(false)));
    assert_eq!(
        set[3].value,
        Some(Value::NowPlusSeconds {
            seconds: -86_400,
            midnight: false
        })
    );
    assert_eq!(set[5].value, None);
}

#[test]
fn bad_assignments_are_clear_errors() {
    let e = err("rol=\"Employee\"");
    assert!(e.to_string().contains("did you mean 'role'"), "{e}");
    let e = err("role=\"Decision Makr\"");
    assert!(matches!(e, Error::UnknownChoice { .. }), "{e:?}");
    // A label is suggested as the string it is written as.
    assert!(
        e.to_string().contains(r#"did you mean "Decision Maker"?"#),
        "{e}"
    );
    assert!(e.to_string().contains(r#""Employee", "Influencer""#), "{e}");
    assert!(err("marketing_only=null")
        .to_string()
        .contains("cannot be null"));
    assert!(err("id=\"00000000-0000-4000-8000-000000000001\"")
        .to_string()
        .contains("key"));
    assert!(err("account_id=null").to_string().contains("cannot be set"));
    let e = err("consent_level=3");
    assert!(matches!(e, Error::TypeMismatch { .. }), "{e:?}");
    // Bare text is text (a shell took the quotes); other types need a literal.
    let e = err("birth_date=yesterday");
    assert!(matches!(e, Error::Syntax { .. }), "{e:?}");
    let span = e.span().unwrap();
    assert!(span.start >= 11, "span points into the value: {span:?}");
    assert!(err("city=\"a\",City=\"b\"").to_string().contains("twice"));
    assert!(matches!(err("city"), Error::Syntax { .. }));
    assert!(matches!(err("birth_date=now"), Error::TypeMismatch { .. }));
    assert!(matches!(err("city=\"x\",,"), Error::Syntax { .. }));
}

fn marketing_only_contacts() -> Plan {
    Plan {
        entity: "contact".into(),
        filter: PlanExpr::Field(FieldTest {
            field: FieldRef {
                entity: "contact".into(),
                field: "marketing_only".into(),
                ty: ValueType::Bool,
            },
            test: Test::Compare {
                op: CmpOp::Eq,
                value: Value::Bool(true),
            },
        }),
    }
}

fn fixture() -> Fixture {
    Fixture {
        contacts: vec![
            contact(1, Some("a@x.io"), true, None),
            contact(2, Some("b@x.io"), true, None),
            contact(3, Some("c@x.io"), true, None),
            contact(4, Some("d@x.io"), false, None),
        ],
        ..Fixture::default()
    }
}

fn city(conn: &rusqlite::Connection, n: u64) -> (Option<String>, i64) {
    conn.query_row(
        "SELECT city, marketing_only FROM contact WHERE id = ?1",
        [id(n)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[test]
fn sets_fields_on_the_segment_and_counts_real_changes() {
    let mut conn = sqlite(&fixture());
    conn.execute("UPDATE contact SET city = 'Oslo' WHERE id = ?1", [id(2)])
        .unwrap();
    let schema = crm_schema();
    let set = parse_assignments("city=\"Oslo\"", "contact", &schema).unwrap();
    let report = update_marketing_only(&mut conn, &set, false).unwrap();
    assert_eq!((report.matched, report.changed), (3, 2));
    assert_eq!(city(&conn, 1), (Some("Oslo".into()), 1));
    assert_eq!(city(&conn, 4), (None, 0));

    let again = update_marketing_only(&mut conn, &set, false).unwrap();
    assert_eq!((again.matched, again.changed), (3, 0));

    // NULL-safe: null where already null is no change; a value is.
    conn.execute("UPDATE contact SET city = NULL WHERE id = ?1", [id(3)])
        .unwrap();
    let clear = parse_assignments("city=null", "contact", &schema).unwrap();
    let report = update_marketing_only(&mut conn, &clear, false).unwrap();
    assert_eq!((report.matched, report.changed), (3, 2));

    // Clearing the flag takes records out of the segment.
    let flag = parse_assignments("marketing_only=false", "contact", &schema).unwrap();
    let report = update_marketing_only(&mut conn, &flag, false).unwrap();
    assert_eq!((report.matched, report.changed), (3, 3));
    assert_eq!(city(&conn, 1), (None, 0));
    let temp: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_temp_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(temp, 0);
}

#[test]
fn stores_values_as_the_layout_does() {
    let mut conn = sqlite(&fixture());
    let schema = crm_schema();
    let set = parse_assignments(
        "created_on=today - 2d, birth_date=2001-02-03, consent_level=\"marketing\", do_not_email=true",
        "contact",
        &schema,
    )
    .unwrap();
    update_marketing_only(&mut conn, &set, false).unwrap();
    let row: (String, String, i64, i64) = conn
        .query_row(
            "SELECT created_on, birth_date, consent_level, do_not_email FROM contact WHERE id = ?1",
            [id(1)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        ("2025-05-30T00:00:00Z".into(), "2001-02-03".into(), 4, 1)
    );
}

#[test]
fn a_dry_run_writes_nothing() {
    let mut conn = sqlite(&fixture());
    let schema = crm_schema();
    let set = parse_assignments("city=\"Oslo\"", "contact", &schema).unwrap();
    let before = checksum_sqlite(&conn);
    let dry = update_marketing_only(&mut conn, &set, true).unwrap();
    assert_eq!(checksum_sqlite(&conn), before);
    assert!(dry.dry_run);
    let real = update_marketing_only(&mut conn, &set, false).unwrap();
    assert_eq!((dry.matched, dry.changed), (real.matched, real.changed));
    assert_ne!(checksum_sqlite(&conn), before);
}

#[test]
fn a_missing_column_is_named_and_nothing_changes() {
    let mut conn = sqlite(&fixture());
    conn.execute_batch("ALTER TABLE contact DROP COLUMN city")
        .unwrap();
    let schema = crm_schema();
    let set = parse_assignments("city=\"Oslo\",do_not_email=true", "contact", &schema).unwrap();
    let before = checksum_sqlite(&conn);
    let e = update_marketing_only(&mut conn, &set, false).unwrap_err();
    assert!(matches!(e, Error::Database { .. }), "{e:?}");
    assert!(e.to_string().contains("'city'"), "{e}");
    assert_eq!(checksum_sqlite(&conn), before);
}

#[test]
fn postgres_gives_the_same_result() {
    let Some(pg) = TestPg::start() else { return };
    let mut client = pg.client();
    load_postgres(&mut client, &fixture());
    let mut conn = sqlite(&fixture());
    let schema = crm_schema();
    let set = parse_assignments(
        "city=\"Oslo\", created_on=2024-01-02T03:04:05Z, consent_level=\"Tracking\", do_not_email=true, job_title=null",
        "contact",
        &schema,
    )
    .unwrap();
    let plan = marketing_only_contacts();
    let before = dump_postgres(&mut client);
    let update_pg = |client: &mut postgres::Client, dry_run: bool| {
        let mut db = PostgresBackend::new(client);
        update(&mut db, &schema, &plan, &set, &options(dry_run)).unwrap()
    };
    let dry = update_pg(&mut client, true);
    assert_eq!(dump_postgres(&mut client), before);
    let pg_report = update_pg(&mut client, false);
    let lite_report = update(
        &mut SqliteBackend::new(&mut conn),
        &schema,
        &plan,
        &set,
        &options(false),
    )
    .unwrap();
    assert_eq!((dry.matched, dry.changed), (3, 3));
    assert_eq!((pg_report.matched, pg_report.changed), (3, 3));
    assert_eq!(
        (lite_report.matched, lite_report.changed),
        (pg_report.matched, pg_report.changed)
    );
    let again = update_pg(&mut client, false);
    assert_eq!(again.changed, 0);
    let ids = ops_support::contact_ids_sqlite(&conn);
    assert_eq!(
        ops_support::canonical_sqlite(&conn, &ids),
        ops_support::canonical_postgres(&mut client, &ids)
    );
    let row = client
        .query_one(
            "SELECT city, consent_level, do_not_email FROM contact WHERE id = $1::text::uuid",
            &[&id(1)],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Oslo");
    assert_eq!(row.get::<_, i64>(1), 6);
    assert!(row.get::<_, bool>(2));
}
