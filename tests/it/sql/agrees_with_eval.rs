//! Both back ends must return exactly the same records (SPEC §1): every
//! valid query fixture (`tests/queries/valid/`, and `tests/queries/aggregates/`)
//! runs on a demo database through the SQLite SQL, the PostgreSQL SQL (when
//! a server is installed) and the in-memory evaluator, before and after
//! optimization, and all answers must agree.

use chrono::{TimeZone, Utc};
use segql::check::check;
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::plan::Plan;
use segql::schema::crm_schema;
use segql::sql::{self, SqlOptions};
use segql::syntax::parse_query;

use crate::support;
use crate::support::fixture::{tests_dir, Fixture};

#[test]
fn sql_and_evaluator_agree_on_every_valid_fixture() {
    let schema = crm_schema();
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    segql::demo::generate_into(&mut conn, &segql::demo::DemoOptions::new(400, 11, now)).unwrap();
    let store = segql::eval::Store::load(&mut SqliteBackend::new(&conn), &schema, None).unwrap();
    let mut pg = support::pg::TestPg::start().map(|pg| {
        let mut client = pg.client();
        segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &schema).unwrap();
        (pg, client)
    });
    let mut checked = 0;
    let mut non_empty = 0;
    let fixtures = ["queries/valid", "queries/aggregates"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(tests_dir().join(dir)).unwrap());
    for entry in fixtures {
        let path = entry.unwrap().path();
        let name = path.display().to_string();
        let fixture = Fixture::load(&path);
        if fixture.schema_file.is_some() {
            // The demo data is in the default layout only.
            continue;
        }
        let library = fixture.parsed_library();
        let context = fixture.context(library.as_ref());
        let plan = check(&parse_query(&fixture.text).unwrap(), &context).unwrap();
        let optimized = segql::optimize::optimize(plan.clone());
        let expected =
            segql::eval::evaluate(&plan, &store, now).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (which, plan) in [("checked", &plan), ("optimized", &optimized)] {
            let sqlite = run_sqlite(&conn, plan, now);
            assert_eq!(sqlite, expected, "SQLite, {which} plan of {name}");
            if let Some((_, client)) = pg.as_mut() {
                let options = SqlOptions::new(false, now);
                let q = sql::to_sql(plan, &schema, &sql::Postgres, &options).unwrap();
                let found = PostgresBackend::new(client)
                    .query_ids(&q)
                    .unwrap_or_else(|e| panic!("{name}: {e}\n{}", q.sql));
                assert_eq!(
                    found, expected,
                    "PostgreSQL, {which} plan of {name}\n{}",
                    q.sql
                );
            }
        }
        checked += 1;
        non_empty += usize::from(!expected.is_empty());
    }
    assert!(checked >= 50, "only {checked} fixtures checked");
    // Most fixtures should select something, or agreement proves little.
    assert!(
        non_empty * 2 >= checked,
        "{non_empty} of {checked} fixtures select records"
    );
}

fn run_sqlite(
    conn: &rusqlite::Connection,
    plan: &Plan,
    now: chrono::DateTime<Utc>,
) -> Vec<uuid::Uuid> {
    let options = SqlOptions::new(false, now);
    let q = sql::to_sql(plan, &crm_schema(), &sql::Sqlite, &options).unwrap();
    SqliteBackend::new(conn)
        .query_ids(&q)
        .unwrap_or_else(|e| panic!("{e}\n{}", q.sql))
}
