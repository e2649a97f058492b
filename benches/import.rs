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
//! Under `cargo test` (no `--bench` argument) it imports 200 rows once and
//! checks the report.

mod common;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use segql::db::SqliteBackend;
use segql::demo::{generate_sqlite, write_leads_csv, DemoOptions};
use segql::ops::{import_leads, ImportOptions, MatchMode};
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
    group.bench_function(format!("{contacts} rows, dry run"), |b| {
        b.iter(|| {
            let report = import_leads(&mut SqliteBackend::new(&conn), &schema, &bytes, &options)
                .expect("import");
            assert_eq!(report.rows_read as usize, list.rows);
            assert!(report.leads_updated > 0 && report.leads_created > 0);
            assert!(report.contacts_linked > 0 && report.contacts_created > 0);
            report
        })
    });
    group.finish();
}

criterion_group!(benches, import);

criterion_main!(benches);
