//! `segql::run`, the library's one way to run a plan: every engine gives the
//! same records, a count equals the number of ids, and a plan the optimizer
//! proved empty is answered without touching the data.

use chrono::{TimeZone, Utc};
use rusqlite::Connection;
use segql::db::SqliteBackend;
use segql::eval::Store;
use segql::schema::crm_schema;
use segql::{Engine, Found, Options, RunOptions, Timing};

#[test]
fn every_engine_finds_the_same_records_and_counts_them() {
    let schema = crm_schema();
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    let mut conn = Connection::open_in_memory().unwrap();
    segql::demo::generate_into(&mut conn, &segql::demo::DemoOptions::new(300, 5, now)).unwrap();
    let plan = segql::plan(
        r#"contact where has lead(status = "Open") and not do_not_email"#,
        &Options::new(&schema),
    )
    .unwrap();
    let store = Store::load(&mut SqliteBackend::new(&conn), &schema, None).unwrap();

    let mut answers = Vec::new();
    for count in [false, true] {
        let options = RunOptions {
            schema: &schema,
            now,
            count,
        };
        let mut db = SqliteBackend::new(&conn);
        let database = segql::run(&plan, Engine::Database(&mut db), &options).unwrap();
        assert!(matches!(database.timing, Timing::Database { .. }));
        let mut db = SqliteBackend::new(&conn);
        let loaded = segql::run(&plan, Engine::MemoryFrom(&mut db), &options).unwrap();
        assert!(matches!(loaded.timing, Timing::Memory { .. }));
        let memory = segql::run(&plan, Engine::Memory(&store), &options).unwrap();
        assert_eq!(database.found, loaded.found, "count = {count}");
        assert_eq!(database.found, memory.found, "count = {count}");
        answers.push(database.found);
    }
    let Found::Ids(ids) = &answers[0] else {
        panic!("ids were asked for")
    };
    assert!(
        !ids.is_empty(),
        "the segment should match some demo contacts"
    );
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids ascend");
    assert_eq!(answers[1], Found::Count(ids.len() as u64));
}

#[test]
fn a_plan_proved_empty_touches_no_data() {
    let schema = crm_schema();
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    let plan = segql::plan(
        r#"contact where role = "Employee" and role = "Influencer""#,
        &Options::new(&schema),
    )
    .unwrap();
    // A database without any table: reaching it would fail the layout check.
    let empty = Connection::open_in_memory().unwrap();
    for count in [false, true] {
        let options = RunOptions {
            schema: &schema,
            now,
            count,
        };
        let mut db = SqliteBackend::new(&empty);
        let outcome = segql::run(&plan, Engine::Database(&mut db), &options).unwrap();
        assert_eq!(outcome.timing, Timing::NoScan);
        let expected = if count {
            Found::Count(0)
        } else {
            Found::Ids(Vec::new())
        };
        assert_eq!(outcome.found, expected);
    }
    let mut db = SqliteBackend::new(&empty);
    let other = segql::plan(r#"contact where role = "Employee""#, &Options::new(&schema)).unwrap();
    let options = RunOptions {
        schema: &schema,
        now,
        count: false,
    };
    assert!(segql::run(&other, Engine::Database(&mut db), &options).is_err());
}
