//! link-orphans killed with SIGKILL at random moments on a 100,000-contact
//! demo database: afterwards the database is always either untouched or
//! completely done, never half-done.
//!
//! The test re-runs its own binary as the child process (selected by an
//! environment variable), so it needs no other program.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{TimeZone, Utc};
use rand::Rng;
use segql::db::SqliteBackend;
use segql::demo::{generate_sqlite, DemoOptions};
use segql::ops::{link_orphans, LinkOptions};
use segql::schema::crm_schema;

use crate::support::ops as ops_support;

const CHILD_ENV: &str = "SEGQL_OPS_KILL_CHILD_DB";
const TEST_NAME: &str = "ops::kill::link_orphans_is_all_or_nothing_under_sigkill";
/// Kill attempts per test run: a count, not a time budget, so a slow or
/// loaded machine takes longer but checks the same thing.
const RUNS: usize = 12;

fn options() -> LinkOptions {
    LinkOptions {
        dry_run: false,
        now: Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap(),
    }
}

fn run_in_process(path: &Path) {
    let mut conn = rusqlite::Connection::open(path).expect("open");
    link_orphans(
        &mut SqliteBackend::new(&mut conn),
        &crm_schema(),
        &options(),
    )
    .expect("link-orphans");
}

fn spawn_child(path: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().expect("own binary"))
        .args([TEST_NAME, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD_ENV, path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child")
}

#[test]
fn link_orphans_is_all_or_nothing_under_sigkill() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        run_in_process(Path::new(&path));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    let demo = generate_sqlite(&base, &DemoOptions::new(100_000, 7, options().now)).unwrap();
    assert!(demo.orphaned_leads > 1000, "{demo:?}");
    let conn = rusqlite::Connection::open(&base).unwrap();
    let untouched = ops_support::checksum_sqlite(&conn);
    let before_ids = ops_support::contact_ids_sqlite(&conn);
    drop(conn);

    // The reference: an uninterrupted run in a child, timed.
    let reference = dir.path().join("reference.db");
    std::fs::copy(&base, &reference).unwrap();
    let started = Instant::now();
    let status = spawn_child(&reference).wait().unwrap();
    let full_run = started.elapsed();
    assert!(status.success(), "reference run failed: {status}");
    let done = ops_support::settled_checksum_sqlite(
        &rusqlite::Connection::open(&reference).unwrap(),
        &before_ids,
    );
    let base_bytes = std::fs::read(&base).unwrap();
    assert_ne!(
        ops_support::checksum_sqlite(&rusqlite::Connection::open(&reference).unwrap()),
        untouched
    );

    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rng = rand::thread_rng();
    for runs in 1..=RUNS {
        let path = dir.path().join(format!("run{runs}.db"));
        std::fs::copy(&base, &path).unwrap();
        let mut child = spawn_child(&path);
        let delay = full_run.mul_f64(rng.gen_range(0.0..1.4));
        std::thread::sleep(delay);
        let exited = child.try_wait().unwrap().is_some();
        if !exited {
            child.kill().unwrap(); // SIGKILL
        }
        child.wait().unwrap();

        // Opening the database rolls back a half-written transaction.
        let conn = rusqlite::Connection::open(&path).unwrap();
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok", "run {runs} after {delay:?}");
        // A rolled-back transaction restores every page, so the file is
        // usually byte-identical; the checksum decides otherwise.
        let same_file = std::fs::read(&path).unwrap() == base_bytes;
        let outcome = if same_file || ops_support::checksum_sqlite(&conn) == untouched {
            "untouched"
        } else {
            assert!(
                ops_support::settled_checksum_sqlite(&conn, &before_ids) == done,
                "run {runs} killed after {delay:?} left a half-done database"
            );
            "done"
        };
        eprintln!(
            "run {runs}: killed after {delay:.2?}, exited first: {exited}, same file: {same_file}, {outcome}"
        );
        let key = match (exited, outcome) {
            (true, _) => "finished before the kill",
            (false, "untouched") => "killed: untouched",
            (false, _) => "killed: done",
        };
        *outcomes.entry(key).or_default() += 1;
        drop(conn);
        std::fs::remove_file(&path).unwrap();
    }
    eprintln!("full run {full_run:?}; {RUNS} runs: {outcomes:?}");
    assert!(
        outcomes.get("killed: untouched").copied().unwrap_or(0) > 0,
        "no kill landed before the commit: {outcomes:?}"
    );
}
