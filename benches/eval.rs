//! In-memory engine benchmarks on the demo database: load rate and the
//! evaluation time of typical segments (load excluded).
//!
//! `SEGQL_BENCH_CONTACTS` sets the size (default 50,000); the database is
//! generated once into `target/bench/demo-N.db` and reused, so
//! `benches/duckdb_compare.py` can time DuckDB and SQLite on the same data.
//! See benches/README.md.
//!
//! Under `cargo test` (no `--bench` argument) it generates 200 contacts into
//! a temporary directory, whatever the environment says, checks that the
//! memory engine counts what the SQL engine counts for every segment, writes
//! no counts file and times nothing (criterion runs each routine once).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rusqlite::Connection;
use segql::db::{Backend, SqliteBackend};
use segql::eval::{self, Store};
use segql::plan::Plan;
use segql::schema::crm_schema;

/// The reference time of the generated data and of every query.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

fn contacts() -> usize {
    common::size("SEGQL_BENCH_CONTACTS", 50_000, 200)
}

/// The demo database of `contacts()` contacts: when benchmarking, generated
/// once into `target/bench` and reused; in a test, generated into `scratch`.
fn database(scratch: &Path) -> PathBuf {
    let n = contacts();
    let path = if common::benchmarking() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
        std::fs::create_dir_all(&dir).expect("create target/bench");
        dir.join(format!("demo-{n}.db"))
    } else {
        scratch.join("demo.db")
    };
    if !path.exists() {
        eprintln!("generating {} ...", path.display());
        let options = segql::demo::DemoOptions::new(n, 1, now());
        segql::demo::generate_sqlite(&path, &options).expect("generate the demo database");
    }
    path
}

/// The benchmark segments; `benches/duckdb_compare.py` holds the same ones
/// as SQL under the same names.
const QUERIES: [(&str, &str); 10] = [
    (
        "spec_example",
        r#"contact where role = "decision maker" and has lead(topic = "Contoso Ltd Conference")"#,
    ),
    (
        "contact_fields",
        r#"contact where country = "Germany" and consent_level >= "Marketing" and birth_date < 1990-01-01"#,
    ),
    (
        "recent_opens",
        r#"contact where has at least 3 interaction(type = "Email Opened" and occurred_on >= now - 30d)"#,
    ),
    (
        "nested",
        r#"contact where has lead(has account(industry = "Retail"))"#,
    ),
    (
        "negations",
        r#"contact where not do_not_email and not do_not_bulk_email and city != "Berlin"
           and has no lead(status = "Disqualified") and not (role = "Employee" or is_child)"#,
    ),
    (
        "text_contains",
        r#"contact where email contains "MUELLER" or last_name contains "son""#,
    ),
    (
        "wide_or",
        r#"contact where city = "Paris" or city = "Toronto" or country = "Japan"
           or job_title = "CEO" or first_name = "Hannah" or role = "Influencer"
           or consent_level = "Tracking" or is_child or email ends with ".fr"
           or has at least 4 lead"#,
    ),
    // Aggregates (SPEC 2.5): open pipeline, last open, a lead's contact's clicks.
    (
        "agg_open_pipeline",
        r#"contact where sum(lead(status = "Open").estimated_value) > 10000"#,
    ),
    (
        "agg_last_open",
        r#"contact where max(interaction(type = "Email Opened").occurred_on) < now - 90d"#,
    ),
    (
        "agg_lead_clicks",
        r#"lead where count(contact.interaction(type = "Email Clicked" and occurred_on >= now - 30d)) >= 2"#,
    ),
];

/// The segments, parsed, checked and optimized.
fn queries() -> Vec<(&'static str, Plan)> {
    let schema = crm_schema();
    let ctx = segql::Options::new(&schema);
    QUERIES
        .iter()
        .map(|(name, text)| {
            let query = segql::syntax::parse_query(text).expect("parse");
            let plan = segql::check::check(&query, &ctx).expect("check");
            (*name, segql::optimize::optimize(plan))
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let path = database(scratch.path());
    let conn = Connection::open(&path).expect("open the demo database");
    let schema = crm_schema();

    let started = common::benchmarking().then(std::time::Instant::now);
    let store = Store::load(&mut SqliteBackend::new(&conn), &schema, None).expect("load");
    if let Some(started) = started {
        let load_secs = started.elapsed().as_secs_f64();
        eprintln!(
            "loaded {} values in {load_secs:.2} s ({:.2} M values/s)",
            store.value_count(),
            store.value_count() as f64 / load_secs / 1e6
        );
    } else {
        // The check duckdb_compare.py makes when benchmarking, on the SQL
        // engine instead: both engines count the same records.
        for (name, plan) in queries() {
            let memory = eval::count(&plan, &store, now()).expect("evaluate");
            let sql = SqliteBackend::new(&conn)
                .count(&schema, &plan, now())
                .expect("the SQL engine counts");
            assert_eq!(memory as u64, sql, "{name}: memory and SQL engines differ");
        }
    }
    let mut group = c.benchmark_group("load");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(store.value_count() as u64));
    group.bench_function("all_tables", |b| {
        b.iter(|| Store::load(&mut SqliteBackend::new(&conn), &schema, None).expect("load"))
    });
    group.finish();

    let mut group = c.benchmark_group("count");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    let mut counts = serde_json::Map::new();
    for (name, plan) in queries() {
        let n = eval::count(&plan, &store, now()).expect("evaluate");
        counts.insert(name.into(), n.into());
        group.bench_with_input(BenchmarkId::new(name, contacts()), &plan, |b, plan| {
            b.iter(|| eval::count(plan, &store, now()).expect("evaluate"))
        });
    }
    group.finish();
    // For duckdb_compare.py, which checks every engine counts the same.
    if common::benchmarking() {
        let counts_path = path.with_file_name(format!("counts-{}.json", contacts()));
        let json = serde_json::Value::Object(counts).to_string();
        std::fs::write(&counts_path, json).expect("write the counts");
    }

    let mut group = c.benchmark_group("ids");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    let (name, plan) = &queries()[4];
    group.bench_function(*name, |b| {
        b.iter(|| eval::evaluate(plan, &store, now()).expect("evaluate"))
    });
    group.finish();

    // One record at a time, as a real-time journey asks.
    let ids = store.ids("contact");
    let mut group = c.benchmark_group("contains");
    for (name, plan) in queries() {
        let program = eval::compile(&plan, &store, now()).expect("compile");
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 7919) % ids.len();
                program.contains(ids[i]).expect("contains")
            })
        });
    }
    group.finish();
}

criterion_group!(eval_benches, benches);
criterion_main!(eval_benches);
