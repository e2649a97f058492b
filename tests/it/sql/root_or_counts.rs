//! PostgreSQL's runner chooses how a counted `has` under a root `or` is
//! tested by the data (`PostgresBackend::root_or_counts`): per row where
//! few records reach it and its child table is large, over hashed groups
//! otherwise. Either form returns the records the memory engine finds,
//! and the records reaching the count are counted as it counts them,
//! whole or over a sample. (The choice's arithmetic and the SQL of each
//! form are tested in `src/sql/root_or_counts/tests.rs`; at 1,000
//! contacts the question never pays, and the choice is measured at 1M in
//! `benches/sql_vs_handwritten.rs`; the generated queries of
//! `tests/it/differential/` run in both forms.)

use chrono::{TimeZone, Utc};
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::schema::crm_schema;
use segql::sql::{self, RootOrCounts, SqlOptions};

use crate::support;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
}

/// The seed-7 demo of 1,000 contacts (about 10,200 interactions and 1,500
/// leads; 100 contacts in France, Japan or Brazil) in a PostgreSQL
/// database of its own, and the memory engine's store of it; `None`
/// without a server.
struct Demo {
    // Before the database, which is dropped with its server handle.
    client: postgres::Client,
    store: segql::eval::Store,
    _pg: support::pg::TestPg,
}

fn demo() -> Option<Demo> {
    let pg = support::pg::TestPg::start()?;
    let schema = crm_schema();
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    segql::demo::generate_into(&mut conn, &segql::demo::DemoOptions::new(1000, 7, now())).unwrap();
    let store = segql::eval::Store::load(&mut SqliteBackend::new(&conn), &schema, None).unwrap();
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &schema).unwrap();
    Some(Demo {
        _pg: pg,
        client,
        store,
    })
}

#[test]
fn postgres_runs_both_forms_of_a_root_or_count_to_the_same_records() {
    let Some(Demo {
        _pg,
        mut client,
        store,
    }) = demo()
    else {
        return;
    };
    let (schema, now) = (crm_schema(), now());
    // The choice reads the tables' sizes as `ANALYZE` leaves them.
    client.batch_execute("VACUUM ANALYZE").unwrap();
    let mut db = PostgresBackend::new(&mut client);
    let three_countries = "country in [\"France\", \"Japan\", \"Brazil\"]";
    let segments = [
        format!("contact where not ({three_countries}) or has at least 15 interaction"),
        format!(
            "contact where not ({three_countries}) or has subscription(list = \"Events\") \
             or has at most 12 interaction(type = \"Email Opened\")"
        ),
        "contact where has at least 15 interaction or has no lead".to_string(),
        format!("contact where not ({three_countries}) or has at least 2 lead"),
    ];
    for text in &segments {
        let plan = segql::plan(text, &segql::Options::new(&schema)).unwrap();
        // 1,000 contacts are too few to pay for the question: the groups.
        assert_eq!(
            db.root_or_counts(&schema, &plan, now).unwrap(),
            RootOrCounts::Groups,
            "{text}"
        );
        let in_memory = segql::eval::evaluate(&plan, &store, now).unwrap();
        assert_eq!(db.ids(&schema, &plan, now).unwrap(), in_memory, "{text}");
        assert_eq!(
            db.count(&schema, &plan, now).unwrap(),
            in_memory.len() as u64,
            "{text}"
        );
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
    // Some contacts are selected only through the count, so the
    // correlated `COUNT(*)` decided records.
    let counted_only = segql::plan(
        &format!("contact where {three_countries} and has at least 15 interaction"),
        &segql::Options::new(&schema),
    )
    .unwrap();
    assert!(!segql::eval::evaluate(&counted_only, &store, now)
        .unwrap()
        .is_empty());
}

#[test]
fn postgres_counts_the_records_reaching_a_root_or_count_whole_or_sampled() {
    let Some(Demo {
        _pg,
        mut client,
        store,
    }) = demo()
    else {
        return;
    };
    let (schema, now) = (crm_schema(), now());
    let mut db = PostgresBackend::new(&mut client);
    let three_countries = "country in [\"France\", \"Japan\", \"Brazil\"]";
    let text = format!(
        "contact where not ({three_countries}) or has subscription(list = \"Events\") \
         or has at least 15 interaction or has lead(status = \"Open\")"
    );
    let plan = segql::plan(&text, &segql::Options::new(&schema)).unwrap();
    let question = sql::root_or_counts::question(&plan, &schema, &sql::Postgres)
        .unwrap()
        .expect("a count under a root or");
    assert_eq!(question.child_tables, ["interaction"]);
    let reach = question.reach.expect("tests before the count");
    // Those records fail the field test and the `has subscription`
    // written before the count: the memory engine counts them so.
    let failing = segql::plan(
        &format!("contact where {three_countries} and not has subscription(list = \"Events\")"),
        &segql::Options::new(&schema),
    )
    .unwrap();
    let expected = segql::eval::count(&failing, &store, now).unwrap() as u64;
    assert!(expected > 0 && expected < 100, "{expected}");
    let whole = sql::root_or_counts::reach_query(&reach, &schema, now, None).unwrap();
    assert_eq!(db.query_count(&whole).unwrap(), expected);
    // A sample of every page is the whole table.
    let all_pages = sql::root_or_counts::reach_query(&reach, &schema, now, Some(100.0)).unwrap();
    assert_eq!(db.query_count(&all_pages).unwrap(), expected);
    // Half of them: the same pages every time, about half the records.
    let half = sql::root_or_counts::reach_query(&reach, &schema, now, Some(50.0)).unwrap();
    let sampled = db.query_count(&half).unwrap();
    assert_eq!(db.query_count(&half).unwrap(), sampled);
    assert!(sampled < expected, "{sampled} of {expected}");
    let estimate = sql::root_or_counts::estimate(sampled, Some(50.0));
    assert!(
        estimate > expected as f64 * 0.3 && estimate < expected as f64 * 1.7,
        "{estimate} for {expected}"
    );
}

#[test]
fn postgres_reads_the_tables_sizes_in_order_only_once_analyzed() {
    let Some(Demo {
        _pg, mut client, ..
    }) = demo()
    else {
        return;
    };
    let mut db = PostgresBackend::new(&mut client);
    // A freshly copied table has no size in the catalog yet; nor has a
    // table that does not exist.
    db.client()
        .batch_execute("CREATE TABLE never_analyzed (id integer)")
        .unwrap();
    assert_eq!(db.estimated_rows(&["never_analyzed"]).unwrap(), None);
    assert_eq!(db.estimated_rows(&["no_such_table"]).unwrap(), None);
    db.client()
        .batch_execute("VACUUM ANALYZE contact, interaction, lead")
        .unwrap();
    let rows = db
        .estimated_rows(&["interaction", "contact", "lead"])
        .unwrap()
        .expect("analyzed tables");
    assert_eq!(rows, [10_228.0, 1_000.0, 1_523.0]);
    assert_eq!(
        db.estimated_rows(&["contact", "never_analyzed"]).unwrap(),
        None
    );
}
