//! `advise` on both databases: the same advice from the same data, read
//! from each catalog, and nothing changed by it.

use chrono::{TimeZone, Utc};
use segql::db::{PostgresBackend, SqliteBackend};
use segql::ops::{advise, Advice, AdviseQuery};
use segql::schema::crm_schema;

use crate::support::pg::TestPg;

const SEGMENTS: [&str; 3] = [
    r#"contact where has at least 2 interaction(type = "Email Opened" and occurred_on >= now - 90d)"#,
    r#"lead where status = "Qualified" and contact.country = "France""#,
    r#"contact where max(interaction(type = "Email Clicked").occurred_on) < now - 30d"#,
];

fn indexes(advice: &Advice) -> Vec<String> {
    advice
        .indexes
        .iter()
        .map(|i| format!("{} ({})", i.table, i.columns.join(", ")))
        .collect()
}

/// The indexes of the PostgreSQL database, by name and definition.
fn pg_indexes(client: &mut postgres::Client) -> Vec<(String, String)> {
    client
        .query(
            "SELECT indexname::text, indexdef FROM pg_indexes \
             WHERE schemaname = 'public' ORDER BY indexname",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

#[test]
fn postgres_gets_the_advice_sqlite_gets_and_is_left_unchanged() {
    let Some(pg) = TestPg::start() else { return };
    let schema = crm_schema();
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    segql::demo::generate_into(&mut conn, &segql::demo::DemoOptions::new(300, 7, now)).unwrap();
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &schema).unwrap();
    let queries: Vec<AdviseQuery> = SEGMENTS
        .iter()
        .enumerate()
        .map(|(i, text)| AdviseQuery {
            name: format!("q{i}"),
            plan: segql::plan(text, &segql::Options::new(&schema)).unwrap(),
        })
        .collect();

    let before = pg_indexes(&mut client);
    let on_pg = advise(
        &mut PostgresBackend::new(&mut client),
        &schema,
        &queries,
        now,
    )
    .unwrap();
    assert_eq!(
        pg_indexes(&mut client),
        before,
        "advise changed the catalog"
    );
    let on_sqlite = advise(&mut SqliteBackend::new(&conn), &schema, &queries, now).unwrap();
    assert_eq!(indexes(&on_pg), indexes(&on_sqlite));
    assert_eq!(
        indexes(&on_pg),
        ["interaction (type, contact_id, occurred_on)"]
    );
    // Both read the same served needs from their own catalogs.
    let served = |a: &Advice| {
        a.existing
            .iter()
            .map(|s| format!("{} ({})", s.table, s.columns.join(", ")))
            .collect::<Vec<_>>()
    };
    assert_eq!(served(&on_pg), served(&on_sqlite));
    // PostgreSQL was analyzed by the copy and keeps statistics per column;
    // SQLite needs ANALYZE for its new indexes.
    assert_eq!(on_pg.analyze, None);
    assert!(on_sqlite.analyze.is_some());

    // The statements run, and then nothing is left to advise.
    for index in &on_pg.indexes {
        client.batch_execute(&index.statement).unwrap();
    }
    let again = advise(
        &mut PostgresBackend::new(&mut client),
        &schema,
        &queries,
        now,
    )
    .unwrap();
    assert!(again.indexes.is_empty(), "{:?}", again.indexes);
}
