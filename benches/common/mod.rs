//! What the bench binaries share: whether `cargo bench` is running them, and
//! the data sizes that follow from it.
//!
//! `cargo bench` passes `--bench` to every bench binary; `cargo test --benches`
//! (and `--all-targets`) runs the same binaries without it. Run as a test, a
//! bench does one tiny pass that still checks its results, builds no large
//! database and times nothing; criterion benches get the same from criterion,
//! which runs each routine once in that mode, provided their own setup is
//! tiny too. That setup size is this module's [`size`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// True under `cargo bench`; false under `cargo test`.
pub fn benchmarking() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

/// A data size: under `cargo bench`, the number in the environment variable
/// `var` (`_` separators allowed), else `bench_default`; under `cargo test`,
/// always `test_size`, whatever the environment says, so that no variable
/// left set for a measurement makes a test run build a large database.
#[allow(dead_code)] // Benches with fixed sizes use only `benchmarking`.
pub fn size(var: &str, bench_default: usize, test_size: usize) -> usize {
    if !benchmarking() {
        return test_size;
    }
    std::env::var(var)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(bench_default)
}

/// The demo database of `contacts` contacts (seed 1, dated at `now`):
/// under `cargo bench` `target/bench/demo-N.db`, generated when missing and
/// kept; under `cargo test` a fresh one in a temporary directory, returned
/// with it so that it lives as long as the caller keeps it.
#[allow(dead_code)] // Not every bench reads a demo database.
pub fn demo_database(contacts: usize, now: DateTime<Utc>) -> (Option<tempfile::TempDir>, PathBuf) {
    let options = segql::demo::DemoOptions::new(contacts, 1, now);
    if benchmarking() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
        std::fs::create_dir_all(&dir).expect("target/bench");
        let path = dir.join(format!("demo-{contacts}.db"));
        if !path.exists() {
            segql::demo::generate_sqlite(&path, &options).expect("demo");
        }
        return (None, path);
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("demo.db");
    segql::demo::generate_sqlite(&path, &options).expect("demo");
    (Some(dir), path)
}

/// The median of `times` (the upper one of an even count).
#[allow(dead_code)] // Criterion benches report their own.
pub fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
