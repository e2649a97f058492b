//! How fast the demo data set is written: `cargo bench --bench demo_generate`.
//! The in-memory run measures generation and SQLite inserts; the file run adds
//! the disk, as `segql demo --out` does.
//!
//! Under `cargo test` (no `--bench` argument) each routine runs once, on 100
//! contacts instead of 1,000 and 10,000.

mod common;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use segql::demo::{self, DemoOptions};

fn generate(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let mut group = c.benchmark_group("demo");
    group.sample_size(10);
    let (sizes, file_size): (&[usize], usize) = if common::benchmarking() {
        (&[1_000, 10_000], 10_000)
    } else {
        (&[100], 100)
    };
    for &contacts in sizes {
        let options = DemoOptions::new(contacts, 1, now);
        group.throughput(Throughput::Elements(contacts as u64));
        group.bench_with_input(
            BenchmarkId::new("in_memory", contacts),
            &options,
            |b, options| {
                b.iter(|| {
                    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
                    demo::generate_into(&mut conn, options).unwrap()
                })
            },
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    let options = DemoOptions::new(file_size, 1, now);
    group.bench_function(format!("file/{file_size}"), |b| {
        b.iter(|| demo::generate_sqlite(&path, &options).unwrap())
    });
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
