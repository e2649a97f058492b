//! PostgreSQL's runner chooses how a counted `has` under a root `or` is
//! tested by the data (`PostgresBackend::root_or_counts`): per row where
//! few records reach it and its child table is large, over hashed groups
//! otherwise. Either way a run returns the records the memory engine
//! finds. (The choice's arithmetic and the SQL of each form are tested in
//! `src/sql/root_or_counts/tests.rs`; the generated queries of
//! `tests/it/differential/` run in both forms.)

use chrono::{TimeZone, Utc};
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::schema::crm_schema;
use segql::sql::{self, RootOrCounts, SqlOptions};

use crate::support;

#[test]
fn postgres_counts_per_row_only_where_few_records_reach_a_large_child_table() {
    let Some(pg) = support::pg::TestPg::start() else {
        return;
    };
    let schema = crm_schema();
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    // 1,000 contacts, about 10,200 interactions and 1,500 leads; 100
    // contacts in France, Japan or Brazil.
    segql::demo::generate_into(&mut conn, &segql::demo::DemoOptions::new(1000, 7, now)).unwrap();
    let store = segql::eval::Store::load(&mut SqliteBackend::new(&conn), &schema, None).unwrap();
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &schema).unwrap();
    // The choice reads the tables' sizes as `ANALYZE` leaves them.
    client.batch_execute("VACUUM ANALYZE").unwrap();
    let mut db = PostgresBackend::new(&mut client);
    let three_countries = "country in [\"France\", \"Japan\", \"Brazil\"]";
    let cases = [
        // 100 of 1,000 contacts reach a count over 10 interactions each.
        (
            format!("contact where not ({three_countries}) or has at least 15 interaction"),
            RootOrCounts::PerRow,
        ),
        // Every contact reaches it.
        (
            "contact where has at least 15 interaction or has no lead".to_string(),
            RootOrCounts::Groups,
        ),
        // 967 contacts reach it.
        (
            "contact where country = \"France\" or has at least 15 interaction".to_string(),
            RootOrCounts::Groups,
        ),
        // 1.5 leads a contact: too few to pay for counting who reaches it.
        (
            format!("contact where not ({three_countries}) or has at least 2 lead"),
            RootOrCounts::Groups,
        ),
    ];
    for (text, expected) in &cases {
        let plan = segql::plan(text, &segql::Options::new(&schema)).unwrap();
        assert_eq!(
            db.root_or_counts(&schema, &plan, now).unwrap(),
            *expected,
            "{text}"
        );
        let found = db.ids(&schema, &plan, now).unwrap();
        let in_memory = segql::eval::evaluate(&plan, &store, now).unwrap();
        assert_eq!(found, in_memory, "{text}");
        assert_eq!(
            db.count(&schema, &plan, now).unwrap(),
            in_memory.len() as u64,
            "{text}"
        );
        // The SQL the run chose, and the other form, select the same.
        for counts in [RootOrCounts::Groups, RootOrCounts::PerRow] {
            let options = SqlOptions {
                root_or_counts: counts,
                ..SqlOptions::new(false, now)
            };
            let query = sql::to_sql(&plan, &schema, &sql::Postgres, &options).unwrap();
            assert_eq!(
                db.query_ids(&query).unwrap(),
                in_memory,
                "{text}, {counts:?}"
            );
        }
    }
    // The per-row case selects some contacts only through its count, so
    // the correlated `COUNT(*)` decided records.
    let (text, _) = &cases[0];
    let plan = segql::plan(text, &segql::Options::new(&schema)).unwrap();
    let counted_only = segql::plan(
        &format!("contact where {three_countries} and has at least 15 interaction"),
        &segql::Options::new(&schema),
    )
    .unwrap();
    let counted_only = segql::eval::evaluate(&counted_only, &store, now).unwrap();
    assert!(!counted_only.is_empty());
    let found = db.ids(&schema, &plan, now).unwrap();
    assert!(counted_only.iter().all(|id| found.contains(id)));
    // The records that reach the count are those failing the `or`'s own
    // tests, counted by the database as the memory engine counts them.
    let question = sql::root_or_counts::question(&plan, &schema, &sql::Postgres)
        .unwrap()
        .expect("a count under a root or");
    let reach = question.reach.expect("an own-row test");
    let reach_sql =
        sql::to_sql(&reach, &schema, &sql::Postgres, &SqlOptions::new(true, now)).unwrap();
    let reaching = db.query_count(&reach_sql).unwrap();
    let three = segql::plan(
        &format!("contact where {three_countries}"),
        &segql::Options::new(&schema),
    )
    .unwrap();
    assert_eq!(
        reaching,
        segql::eval::count(&three, &store, now).unwrap() as u64
    );
    assert_eq!(reaching, 100);
}
