//! `segql refresh` of the ten segments of `examples/refresh-library.segql`
//! on a demo database: on SQLite by its SQL, with the memory engine
//! computing the members (the writes go through SQL), and on PostgreSQL.
//!
//! `cargo bench --bench refresh` (`SEGQL_BENCH_CONTACTS`, default
//! 1,000,000; `SEGQL_BENCH_RUNS`, default 3) prints medians of wall-clock
//! times, each a dry run (every statement runs, the transaction is rolled
//! back, so each run starts from the same data), for two situations:
//!
//! - `first`: no `segment_member` yet, every member joins (the heaviest
//!   writes);
//! - `next day`: a refresh at the reference time committed, then one a day
//!   later (the daily case: few changes);
//!
//! each as the whole library in one refresh (`total`) and as ten refreshes
//! of one segment (`per segment`; with the memory engine each of those
//! loads what its segment reads).
//!
//! The database is the eval bench's `target/bench/demo-N.db` (seed 1,
//! reference time 2025-01-01), generated when missing. Under `cargo test` it
//! refreshes 200 contacts for real and checks that every segment's members
//! are those `segql::run` finds, that the memory engine writes the same
//! tables, and the same on PostgreSQL.

mod common;
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use segql::db::{Backend, SqliteBackend};
use segql::ops::{refresh_segments, segment_plans, RefreshEngine, RefreshOptions, SegmentPlan};
use segql::schema::{crm_schema, Schema};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

fn next_day() -> DateTime<Utc> {
    now() + chrono::Duration::days(1)
}

fn segments(schema: &Schema) -> Vec<SegmentPlan> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/refresh-library.segql");
    let text = std::fs::read_to_string(path).expect("examples/refresh-library.segql");
    let library = segql::syntax::parse_library(&text).expect("the example library parses");
    let plans = segment_plans(schema, &library, &[], &[]).expect("the example library checks");
    assert_eq!(plans.len(), 10);
    plans
}

fn options(at: DateTime<Utc>, engine: RefreshEngine, dry_run: bool) -> RefreshOptions {
    RefreshOptions {
        dry_run,
        now: at,
        engine,
        guards: Vec::new(),
    }
}

/// One refresh of `segments`; its time.
fn timed(
    db: &mut dyn Backend,
    schema: &Schema,
    segments: &[SegmentPlan],
    options: &RefreshOptions,
) -> Duration {
    let started = Instant::now();
    refresh_segments(db, schema, segments, options).expect("refresh");
    started.elapsed()
}

/// Medians over `runs` dry runs at `at`: the whole library, then each
/// segment alone; printed as lines.
fn measure(
    label: &str,
    db: &mut dyn Backend,
    schema: &Schema,
    segments: &[SegmentPlan],
    engine: RefreshEngine,
    at: DateTime<Utc>,
    runs: usize,
) {
    let options = options(at, engine, true);
    let total = common::median(
        (0..runs)
            .map(|_| timed(db, schema, segments, &options))
            .collect(),
    );
    let mut sum = Duration::ZERO;
    let mut lines = Vec::new();
    for segment in segments {
        let one = common::median(
            (0..runs)
                .map(|_| timed(db, schema, std::slice::from_ref(segment), &options))
                .collect(),
        );
        sum += one;
        lines.push(format!("    {:<18} {one:>10.2?}", segment.name));
    }
    println!(
        "{label}: total (one refresh of 10 segments) {total:.2?}; per segment (sum {sum:.2?}):"
    );
    for line in lines {
        println!("{line}");
    }
}

/// `segment_member` and `segment_change` of SQLite, as text, changes in
/// `seq` order.
fn tables_sqlite(conn: &Connection) -> (Vec<String>, Vec<String>) {
    let rows = |sql: &str| -> Vec<String> {
        conn.prepare(sql)
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    (
        rows("SELECT segment || '|' || record_id || '|' || since FROM segment_member ORDER BY 1"),
        rows(
            "SELECT seq || '|' || segment || '|' || record_id || '|' || change || '|' || at \
             FROM segment_change ORDER BY seq",
        ),
    )
}

fn tables_pg(client: &mut postgres::Client) -> (Vec<String>, Vec<String>) {
    let mut rows = |sql: &str| -> Vec<String> {
        client
            .query(sql, &[])
            .expect("rows")
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let time =
        |c: &str| format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
    (
        rows(&format!(
            "SELECT concat_ws('|', segment, record_id, {}) FROM segment_member ORDER BY 1",
            time("since")
        )),
        rows(&format!(
            "SELECT concat_ws('|', seq, segment, record_id, change, {}) FROM segment_change \
             ORDER BY segment_change.seq",
            time("at")
        )),
    )
}

/// A first refresh and one a day later, committed, by `engine` on a copy of
/// the database at `path`; the tables afterwards. Checks each segment's
/// members against `segql::run`.
fn history_sqlite(
    path: &Path,
    schema: &Schema,
    segments: &[SegmentPlan],
    engine: RefreshEngine,
) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let copy = dir.path().join("copy.db");
    std::fs::copy(path, &copy).expect("copy");
    let conn = Connection::open(&copy).expect("open");
    for at in [now(), next_day()] {
        let report = refresh_segments(
            &mut SqliteBackend::new(&conn),
            schema,
            segments,
            &options(at, engine, false),
        )
        .expect("refresh");
        for (segment, row) in segments.iter().zip(&report.segments) {
            let run = segql::run(
                &segment.plan,
                segql::Engine::Database(&mut SqliteBackend::new(&conn)),
                &segql::RunOptions {
                    schema,
                    now: at,
                    count: true,
                },
            )
            .expect("run");
            assert_eq!(
                run.found,
                segql::Found::Count(row.members),
                "{} at {at}",
                segment.name
            );
        }
    }
    tables_sqlite(&conn)
}

fn main() {
    let contacts = common::size("SEGQL_BENCH_CONTACTS", 1_000_000, 200);
    let runs = common::size("SEGQL_BENCH_RUNS", 3, 1).max(1);
    let schema = crm_schema();
    let segments = segments(&schema);
    let (_keep, path) = common::demo_database(contacts, now());

    if !common::benchmarking() {
        let by_sql = history_sqlite(&path, &schema, &segments, RefreshEngine::Database);
        assert!(by_sql.1.len() > 50, "the example segments are nearly empty");
        let by_memory = history_sqlite(&path, &schema, &segments, RefreshEngine::Memory);
        assert_eq!(by_memory, by_sql, "the memory engine writes other tables");
        if let Some(pg) = support::pg::TestPg::start() {
            let mut client = pg.fresh_database("bench_refresh");
            let conn = Connection::open(&path).expect("open");
            segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &schema).expect("copied");
            let mut backend =
                segql::db::open(&pg.url_for("bench_refresh"), segql::db::Access::ReadWrite)
                    .expect("open postgres");
            for at in [now(), next_day()] {
                refresh_segments(
                    backend.as_mut(),
                    &schema,
                    &segments,
                    &options(at, RefreshEngine::Database, false),
                )
                .expect("refresh on postgres");
            }
            assert_eq!(
                tables_pg(&mut client),
                by_sql,
                "PostgreSQL writes other tables"
            );
            println!("refresh: SQLite, memory engine and PostgreSQL agree");
        } else {
            println!("refresh: SQLite and the memory engine agree");
        }
        return;
    }

    println!("refresh of examples/refresh-library.segql, {contacts} contacts, medians of {runs} dry runs");
    let dir = tempfile::tempdir().expect("temporary directory");
    let copy = dir.path().join("refresh.db");
    std::fs::copy(&path, &copy).expect("copy");
    let conn = Connection::open(&copy).expect("open");
    for (engine, name) in [
        (RefreshEngine::Database, "sqlite"),
        (RefreshEngine::Memory, "memory engine (sqlite)"),
    ] {
        let mut db = SqliteBackend::new(&conn);
        conn.execute_batch(
            "DROP TABLE IF EXISTS segment_member; DROP TABLE IF EXISTS segment_change",
        )
        .expect("drop");
        measure(
            &format!("{name}, first"),
            &mut db,
            &schema,
            &segments,
            engine,
            now(),
            runs,
        );
        refresh_segments(&mut db, &schema, &segments, &options(now(), engine, false))
            .expect("refresh");
        measure(
            &format!("{name}, next day"),
            &mut db,
            &schema,
            &segments,
            engine,
            next_day(),
            runs,
        );
    }

    let Some(pg) = support::pg::TestPg::start() else {
        println!("no PostgreSQL server: the PostgreSQL part is skipped");
        return;
    };
    let mut client = pg.fresh_database("bench_refresh");
    let started = Instant::now();
    segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &schema).expect("copied");
    client.batch_execute("VACUUM ANALYZE").expect("vacuumed");
    println!("PostgreSQL: data copied in {:.1?}", started.elapsed());
    let mut backend = segql::db::open(&pg.url_for("bench_refresh"), segql::db::Access::ReadWrite)
        .expect("open postgres");
    let engine = RefreshEngine::Database;
    measure(
        "postgres, first",
        backend.as_mut(),
        &schema,
        &segments,
        engine,
        now(),
        runs,
    );
    refresh_segments(
        backend.as_mut(),
        &schema,
        &segments,
        &options(now(), engine, false),
    )
    .expect("refresh");
    client
        .batch_execute("VACUUM ANALYZE segment_member, segment_change")
        .expect("vacuumed");
    measure(
        "postgres, next day",
        backend.as_mut(),
        &schema,
        &segments,
        engine,
        next_day(),
        runs,
    );
}
