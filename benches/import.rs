//! `import-leads` of the demo's trade-show list (`segql demo --leads-csv`:
//! a third of the rows match open leads, a third carry existing contacts'
//! emails, a third are new people) into the demo database it was made from.
//!
//! `cargo bench --bench import` (`SEGQL_BENCH_CONTACTS`, default 10,000: a
//! list of as many rows into a database of as many contacts). Each sample is
//! a dry run: every statement runs and the transaction is rolled back, so
//! every sample starts from the same data. The target is 1,000,000 rows into
//! the 1,000,000-contact database within 60 s on SQLite.
//!
//! Then the same import on PostgreSQL: the database is copied into a
//! fresh PostgreSQL database of the test harness's cluster and imported
//! into `SEGQL_BENCH_PG_RUNS` times (default 3), each a dry run; the median
//! is printed. Without a PostgreSQL server it says so and stops (outside
//! CI; under `CI=true` the harness fails instead).
//!
//! Under `cargo test` (no `--bench` argument) it imports 200 rows once on
//! each database and checks that the two reports are equal.

mod common;
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use segql::db::SqliteBackend;
use segql::demo::{generate_sqlite, write_leads_csv, DemoOptions};
use segql::ops::{import_leads, ImportOptions, ImportReport, MatchMode};
use segql::schema::crm_schema;

fn import(c: &mut Criterion) {
    let contacts = common::size("SEGQL_BENCH_CONTACTS", 10_000, 200);
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("demo.db");
    let csv = dir.path().join("leads.csv");
    generate_sqlite(&db, &DemoOptions::new(contacts, 1, now)).expect("demo");
    let list = write_leads_csv(&db, &csv, contacts, 1).expect("list");
    let bytes = std::fs::read(&csv).expect("read the list");
    let conn = rusqlite::Connection::open(&db).expect("open");
    // As `segql import-leads` opens it (`db::open`).
    segql::db::sqlite::tune(&conn).expect("page cache");
    let schema = crm_schema();
    let options = ImportOptions {
        dry_run: true,
        now,
        matching: MatchMode::EmailTopic,
        progress: false,
    };

    let mut group = c.benchmark_group("import-leads");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(if common::benchmarking() {
        60
    } else {
        1
    }));
    let check = |report: &ImportReport| {
        assert_eq!(report.rows_read as usize, list.rows);
        assert!(report.leads_updated > 0 && report.leads_created > 0);
        assert!(report.contacts_linked > 0 && report.contacts_created > 0);
    };
    let mut on_sqlite = None;
    group.bench_function(format!("{contacts} rows, dry run"), |b| {
        b.iter(|| {
            let report = import_leads(&mut SqliteBackend::new(&conn), &schema, &bytes, &options)
                .expect("import");
            check(&report);
            on_sqlite = Some(report);
        })
    });
    group.finish();

    let on_sqlite = on_sqlite.expect("criterion ran the import");
    match postgres_part(&conn, &bytes, &options) {
        None => println!("import-leads on PostgreSQL: no server, skipped"),
        Some((report, times)) => {
            assert_eq!(
                report, on_sqlite,
                "the import reports differently on PostgreSQL and SQLite"
            );
            if common::benchmarking() {
                let runs = times.len();
                let median = common::median(times);
                println!(
                    "import-leads/{contacts} rows, dry run, PostgreSQL: median of {runs} {median:.2?}"
                );
            } else {
                println!("import-leads on PostgreSQL: the same report as on SQLite");
            }
        }
    }
}

/// The import on a PostgreSQL copy of `conn`'s database: the last report
/// and the time of each run. `None` without a PostgreSQL server.
fn postgres_part(
    conn: &rusqlite::Connection,
    csv: &[u8],
    options: &ImportOptions,
) -> Option<(ImportReport, Vec<Duration>)> {
    let pg = support::pg::TestPg::start()?;
    let mut client = pg.fresh_database("bench_import");
    let schema = crm_schema();
    let started = Instant::now();
    segql::demo::copy_sqlite_to_postgres(conn, &mut client, &schema).expect("copied");
    client.batch_execute("VACUUM ANALYZE").expect("vacuumed");
    if common::benchmarking() {
        println!("copied to PostgreSQL in {:.1?}", started.elapsed());
    }
    let url = pg.url_for("bench_import");
    let mut backend = segql::db::open(&url, segql::db::Access::ReadWrite).expect("open postgres");
    let runs = if common::benchmarking() {
        std::env::var("SEGQL_BENCH_PG_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3)
    } else {
        1
    };
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let report =
            import_leads(backend.as_mut(), &schema, csv, options).expect("import on postgres");
        times.push(started.elapsed());
        last = Some(report);
    }
    Some((last.expect("at least one run"), times))
}

criterion_group!(benches, import);

criterion_main!(benches);
