//! link-orphans, update, score, import-leads and refresh SIGKILLed inside their transaction, on
//! SQLite and PostgreSQL: afterwards the database is exactly as before, and
//! the next run does the whole job.
//!
//! Every run is held at a test-only pause point (`SEGQL_TEST_PAUSE`): after
//! its first write to a stored table, or just before its commit, in turn.
//! The test kills it only once the process has signalled that it is there
//! (and, while it is held, checks that it holds the write lock), so every
//! kill provably lands mid-transaction; a run that never gets there fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use segql::demo::{generate_sqlite, DemoOptions};
use segql::schema::crm_schema;

use super::paused::{example_models, Op, Point};
use crate::support::ops as ops_support;
use crate::support::pg::TestPg;

/// Kill runs per command and database: a count, not a time budget.
const SQLITE_RUNS: usize = 20;
const PG_RUNS: usize = 10;

/// A small demo database (a few thousand rows, some orphaned leads and some
/// marketing-only contacts) at `path`.
pub(super) fn small_demo(path: &Path) {
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
    let demo = generate_sqlite(path, &DemoOptions::new(300, 7, now)).unwrap();
    assert!(demo.orphaned_leads > 5, "{demo:?}");
}

fn open(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// Whether another connection is refused the write lock right now.
fn write_lock_taken(path: &Path) -> bool {
    let other = open(path);
    // rusqlite waits 5 s for a lock by default; the answer is wanted now.
    other.busy_timeout(Duration::ZERO).unwrap();
    match other.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => {
            other.execute_batch("ROLLBACK").unwrap();
            false
        }
        Err(e) => {
            assert_eq!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy),
                "{e}"
            );
            true
        }
    }
}

/// Tallies of one database's kill runs, printed as one line.
#[derive(Default)]
struct Tally {
    runs: BTreeMap<&'static str, usize>,
    proven: BTreeMap<&'static str, usize>,
    outcomes: BTreeMap<String, usize>,
}

impl Tally {
    fn add(&mut self, op: Op, point: Point, proven: bool, outcome: &str) {
        *self.runs.entry(op.name()).or_default() += 1;
        *self.proven.entry(op.name()).or_default() += usize::from(proven);
        *self
            .outcomes
            .entry(format!("{} {}: {outcome}", op.name(), point.name()))
            .or_default() += 1;
    }

    fn print(&self, database: &str, took: Duration) {
        println!(
            "kill summary {database}: runs {:?}, proven mid-transaction {:?}, outcomes {:?}, {took:.1?}",
            self.runs, self.proven, self.outcomes
        );
    }
}

#[test]
fn killed_mid_transaction_sqlite_changes_nothing() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    small_demo(&base);
    let (untouched, before_ids) = {
        let conn = open(&base);
        (
            ops_support::checksum_sqlite(&conn),
            ops_support::contact_ids_sqlite(&conn),
        )
    };
    let path = dir.path().join("run.db");
    let db = path.to_str().unwrap().to_string();
    let signal = dir.path().join("paused");
    let fresh = || {
        let _ = std::fs::remove_file(dir.path().join("run.db-journal"));
        std::fs::copy(&base, &path).unwrap();
    };
    // What an uninterrupted run leaves (new contacts known by their email).
    let done = |op: Op| -> u64 {
        let conn = open(&path);
        match op {
            Op::LinkOrphans => ops_support::settled_checksum_sqlite(&conn, &before_ids),
            Op::ClearMarketingOnly
            | Op::DoNotEmailDecisionMakers
            | Op::Score
            | Op::ScoreMemory
            | Op::ImportLeads(_)
            | Op::Refresh
            | Op::RefreshMemory => ops_support::checksum_sqlite(&conn),
        }
    };
    let mut reference = BTreeMap::new();
    for op in [Op::LinkOrphans, Op::ClearMarketingOnly] {
        fresh();
        let out = op.run_ok(&db);
        let result = done(op);
        assert_ne!(result, untouched, "{op:?} changed nothing: {out}");
        reference.insert(op.name(), (result, out));
    }

    let mut tally = Tally::default();
    for run in 0..SQLITE_RUNS {
        for op in [Op::LinkOrphans, Op::ClearMarketingOnly] {
            let point = Point::alternate(run);
            fresh();
            let mut paused = op.start_paused(&db, point, &signal);
            // Held: the process is inside its transaction, with the lock.
            let proven = paused.running() && write_lock_taken(&path);
            assert!(proven, "{op:?} at {point:?}: no write lock while held");
            paused.kill();

            // Opening the database rolls the killed transaction back.
            let conn = open(&path);
            let integrity: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(integrity, "ok", "run {run}, {op:?} at {point:?}");
            assert_eq!(
                ops_support::checksum_sqlite(&conn),
                untouched,
                "run {run}: {op:?} killed at {point:?} left changes behind"
            );
            drop(conn);

            let out = op.run_ok(&db);
            let (result, output) = &reference[op.name()];
            assert_eq!(&out, output, "run {run}: the rerun of {op:?} reported");
            assert_eq!(done(op), *result, "run {run}: the rerun of {op:?}");
            tally.add(op, point, proven, "killed: untouched, rerun: done");
        }
    }
    tally.print("sqlite", started.elapsed());
    for op in ["link-orphans", "update"] {
        assert_eq!(tally.proven[op], SQLITE_RUNS);
    }
}

/// The demo tables of `sqlite`, freshly copied into the test's database.
fn reload(client: &mut postgres::Client, sqlite: &rusqlite::Connection) {
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {} CASCADE",
            ops_support::TABLES.join(", ")
        ))
        .unwrap();
    segql::demo::copy_sqlite_to_postgres(sqlite, client, &crm_schema()).unwrap();
}

/// Other sessions of the test's database inside a transaction that has
/// written (holds a transaction id).
pub(super) fn writing_sessions(client: &mut postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND state = 'idle in transaction' \
             AND backend_xid IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0)
}

/// Waits until no other session is connected to the test's database (the
/// server notices a killed client's closed socket on its own time).
pub(super) fn wait_for_no_sessions(client: &mut postgres::Client) {
    let started = Instant::now();
    loop {
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0);
        if n == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "a killed client's session is still open"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn killed_mid_transaction_postgres_commits_nothing() {
    let Some(pg) = TestPg::start() else { return };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    small_demo(&base);
    let sqlite = open(&base);
    let mut client = pg.client();
    let url = pg.url();
    let signal = dir.path().join("paused");
    reload(&mut client, &sqlite);
    let untouched = ops_support::dump_postgres(&mut client);
    let before_ids: BTreeSet<String> = ops_support::contact_ids_postgres(&mut client);

    let mut reference = BTreeMap::new();
    for op in [Op::LinkOrphans, Op::ClearMarketingOnly] {
        let out = op.run_ok(&url);
        let result = ops_support::canonical_postgres(&mut client, &before_ids);
        reference.insert(op.name(), (result, out));
        reload(&mut client, &sqlite);
    }

    let mut tally = Tally::default();
    for run in 0..PG_RUNS {
        for op in [Op::LinkOrphans, Op::ClearMarketingOnly] {
            let point = Point::alternate(run);
            let mut paused = op.start_paused(&url, point, &signal);
            let proven = paused.running() && writing_sessions(&mut client) == 1;
            assert!(proven, "{op:?} at {point:?}: no open writing transaction");
            paused.kill();
            assert_eq!(
                ops_support::dump_postgres(&mut client),
                untouched,
                "run {run}: {op:?} killed at {point:?} committed something"
            );
            wait_for_no_sessions(&mut client);
            assert_eq!(ops_support::dump_postgres(&mut client), untouched);

            let out = op.run_ok(&url);
            let (result, output) = &reference[op.name()];
            assert_eq!(&out, output, "run {run}: the rerun of {op:?} reported");
            assert_eq!(
                &ops_support::canonical_postgres(&mut client, &before_ids),
                result,
                "run {run}: the rerun of {op:?}"
            );
            tally.add(op, point, proven, "killed: untouched, rerun: done");
            reload(&mut client, &sqlite);
        }
    }
    tally.print("postgres", started.elapsed());
    for op in ["link-orphans", "update"] {
        assert_eq!(tally.proven[op], PG_RUNS);
    }
}

/// Kill runs of `score` per starting state and engine on SQLite, and per
/// starting state on PostgreSQL.
const SCORE_SQLITE_RUNS: usize = 6;
const SCORE_PG_RUNS: usize = 6;

/// A reference time before [`super::paused::NOW`]: scores of it differ from
/// those at `NOW` (the rules' time windows see other interactions), so a
/// run at `NOW` over them changes existing `lead_score` rows.
pub(super) const EARLIER: &str = "2025-01-15T12:00:00Z";

/// `segql score` with the example models at `now`, run to its end.
fn score_at(db: &str, now: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(["score", "--db", db, "--now", now, "--models"])
        .arg(example_models())
        .env_remove("SEGQL_TEST_PAUSE")
        .env_remove("SEGQL_TEST_PAUSE_FILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "score at {now}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What scoring writes, spelled out: whether `lead_score` exists, its rows,
/// and every lead's `score` and `sales_ready`.
#[derive(Debug, PartialEq, Eq)]
struct ScoreState {
    lead_score: Option<Vec<String>>,
    leads: Vec<String>,
}

fn score_state_sqlite(conn: &rusqlite::Connection) -> ScoreState {
    let rows = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        let width = stmt.column_count();
        stmt.query_map([], |r| {
            Ok((0..width)
                .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    };
    let exists: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'lead_score'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    ScoreState {
        lead_score: (exists == 1).then(|| rows("SELECT * FROM lead_score ORDER BY lead_id, model")),
        leads: rows("SELECT id, score, sales_ready FROM lead ORDER BY id"),
    }
}

#[test]
fn killed_score_mid_transaction_sqlite_changes_nothing() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let unscored = dir.path().join("unscored.db");
    small_demo(&unscored);
    let scored = dir.path().join("scored.db");
    std::fs::copy(&unscored, &scored).unwrap();
    score_at(scored.to_str().unwrap(), EARLIER);
    let path = dir.path().join("run.db");
    let db = path.to_str().unwrap().to_string();
    let signal = dir.path().join("paused");
    let fresh = |base: &Path| {
        let _ = std::fs::remove_file(dir.path().join("run.db-journal"));
        std::fs::copy(base, &path).unwrap();
    };
    let engines = [Op::Score, Op::ScoreMemory];

    let mut tally = Tally::default();
    for base in [&unscored, &scored] {
        let (untouched, state) = {
            let conn = open(base);
            (
                ops_support::checksum_sqlite(&conn),
                score_state_sqlite(&conn),
            )
        };
        assert_eq!(state.lead_score.is_some(), base == &scored);
        let mut reference = BTreeMap::new();
        for op in engines {
            fresh(base);
            let out = op.run_ok(&db);
            let result = ops_support::checksum_sqlite(&open(&path));
            assert_ne!(result, untouched, "{op:?} changed nothing: {out}");
            reference.insert(op.name(), (result, out));
        }
        assert_eq!(
            reference["score"], reference["score --engine memory"],
            "both engines write the same"
        );

        for run in 0..SCORE_SQLITE_RUNS {
            for op in engines {
                let point = Point::alternate(run);
                fresh(base);
                let mut paused = op.start_paused(&db, point, &signal);
                let proven = paused.running() && write_lock_taken(&path);
                assert!(proven, "{op:?} at {point:?}: no write lock while held");
                paused.kill();

                let conn = open(&path);
                let integrity: String = conn
                    .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(integrity, "ok", "run {run}, {op:?} at {point:?}");
                assert_eq!(
                    score_state_sqlite(&conn),
                    state,
                    "run {run}: {op:?} killed at {point:?} changed scores"
                );
                assert_eq!(
                    ops_support::checksum_sqlite(&conn),
                    untouched,
                    "run {run}: {op:?} killed at {point:?} left changes behind"
                );
                drop(conn);

                let out = op.run_ok(&db);
                let (result, output) = &reference[op.name()];
                assert_eq!(&out, output, "run {run}: the rerun of {op:?} reported");
                assert_eq!(
                    ops_support::checksum_sqlite(&open(&path)),
                    *result,
                    "run {run}: the rerun of {op:?}"
                );
                tally.add(op, point, proven, "killed: untouched, rerun: done");
            }
        }
    }
    tally.print("sqlite score", started.elapsed());
    for op in engines {
        assert_eq!(tally.proven[op.name()], 2 * SCORE_SQLITE_RUNS);
    }
}

/// [`ops_support::dump_postgres`] and the `lead_score` rows (`None`: no
/// such table).
fn dump_scores_postgres(
    client: &mut postgres::Client,
) -> (BTreeMap<String, Vec<String>>, Option<Vec<String>>) {
    let exists: bool = client
        .query_one("SELECT to_regclass('lead_score') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    let scores = exists.then(|| {
        client
            .query(
                "SELECT CAST(t AS TEXT) FROM lead_score AS t ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    });
    (ops_support::dump_postgres(client), scores)
}

/// The demo data freshly copied, `lead_score` dropped, and scored at
/// [`EARLIER`] when `scored`.
fn reload_for_score(
    pg: &TestPg,
    client: &mut postgres::Client,
    sqlite: &rusqlite::Connection,
    scored: bool,
) {
    client
        .batch_execute("DROP TABLE IF EXISTS lead_score")
        .unwrap();
    reload(client, sqlite);
    if scored {
        score_at(&pg.url(), EARLIER);
    }
}

#[test]
fn killed_score_mid_transaction_postgres_commits_nothing() {
    let Some(pg) = TestPg::start() else { return };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    small_demo(&base);
    let sqlite = open(&base);
    let mut client = pg.client();
    let url = pg.url();
    let signal = dir.path().join("paused");

    let mut tally = Tally::default();
    for scored in [false, true] {
        reload_for_score(&pg, &mut client, &sqlite, scored);
        let untouched = dump_scores_postgres(&mut client);
        assert_eq!(untouched.1.is_some(), scored);
        let output = Op::Score.run_ok(&url);
        let result = dump_scores_postgres(&mut client);
        assert_ne!(result, untouched, "score changed nothing: {output}");
        reload_for_score(&pg, &mut client, &sqlite, scored);
        assert_eq!(dump_scores_postgres(&mut client), untouched);

        for run in 0..SCORE_PG_RUNS {
            let point = Point::alternate(run);
            let mut paused = Op::Score.start_paused(&url, point, &signal);
            let proven = paused.running() && writing_sessions(&mut client) == 1;
            assert!(proven, "score at {point:?}: no open writing transaction");
            paused.kill();
            assert_eq!(
                dump_scores_postgres(&mut client),
                untouched,
                "run {run}: score killed at {point:?} committed something"
            );
            wait_for_no_sessions(&mut client);
            assert_eq!(dump_scores_postgres(&mut client), untouched);

            let out = Op::Score.run_ok(&url);
            assert_eq!(out, output, "run {run}: the rerun of score reported");
            assert_eq!(
                dump_scores_postgres(&mut client),
                result,
                "run {run}: the rerun of score"
            );
            tally.add(Op::Score, point, proven, "killed: untouched, rerun: done");
            reload_for_score(&pg, &mut client, &sqlite, scored);
        }
    }
    tally.print("postgres score", started.elapsed());
    assert_eq!(tally.proven["score"], 2 * SCORE_PG_RUNS);
}

/// Kill runs of `import-leads` per database.
const IMPORT_RUNS: usize = 6;

/// A list of 60 leads made from the demo database `base` (rows matching
/// open leads, existing contacts' emails, new people), written beside it;
/// its path, for [`Op::ImportLeads`].
fn import_list(base: &Path) -> &'static str {
    let csv = base.with_extension("csv");
    segql::demo::write_leads_csv(base, &csv, 60, 1).unwrap();
    Box::leak(csv.to_str().unwrap().to_string().into_boxed_str())
}

/// The leads and contacts of a SQLite database, counted.
fn lead_and_contact_counts(conn: &rusqlite::Connection) -> (i64, i64) {
    let n = |t: &str| {
        conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    };
    (n("lead"), n("contact"))
}

#[test]
fn killed_import_mid_transaction_sqlite_changes_nothing() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    small_demo(&base);
    let op = Op::ImportLeads(import_list(&base));
    let (untouched, counts_before) = {
        let conn = open(&base);
        (
            ops_support::checksum_sqlite(&conn),
            lead_and_contact_counts(&conn),
        )
    };
    let path = dir.path().join("run.db");
    let db = path.to_str().unwrap().to_string();
    let signal = dir.path().join("paused");
    let fresh = || {
        let _ = std::fs::remove_file(dir.path().join("run.db-journal"));
        std::fs::copy(&base, &path).unwrap();
    };
    fresh();
    let output = op.run_ok(&db);
    let counts_after = lead_and_contact_counts(&open(&path));
    assert!(counts_after.0 > counts_before.0, "{output}");
    assert!(counts_after.1 > counts_before.1, "{output}");

    let mut tally = Tally::default();
    for run in 0..IMPORT_RUNS {
        let point = Point::alternate(run);
        fresh();
        let mut paused = op.start_paused(&db, point, &signal);
        let proven = paused.running() && write_lock_taken(&path);
        assert!(proven, "import at {point:?}: no write lock while held");
        paused.kill();
        let conn = open(&path);
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok", "run {run} at {point:?}");
        assert_eq!(
            ops_support::checksum_sqlite(&conn),
            untouched,
            "run {run}: import killed at {point:?} left changes behind"
        );
        drop(conn);
        let out = op.run_ok(&db);
        assert_eq!(out, output, "run {run}: the rerun reported");
        assert_eq!(lead_and_contact_counts(&open(&path)), counts_after);
        tally.add(op, point, proven, "killed: untouched, rerun: done");
    }
    tally.print("sqlite import", started.elapsed());
    assert_eq!(tally.proven["import-leads"], IMPORT_RUNS);
}

#[test]
fn killed_import_mid_transaction_postgres_commits_nothing() {
    let Some(pg) = TestPg::start() else { return };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    small_demo(&base);
    let op = Op::ImportLeads(import_list(&base));
    let sqlite = open(&base);
    let mut client = pg.client();
    let url = pg.url();
    let signal = dir.path().join("paused");
    reload(&mut client, &sqlite);
    let untouched = ops_support::dump_postgres(&mut client);
    let output = op.run_ok(&url);
    let done = ops_support::dump_postgres(&mut client);
    let rows = |dump: &BTreeMap<String, Vec<String>>| {
        (
            dump.get("lead").map(Vec::len),
            dump.get("contact").map(Vec::len),
        )
    };
    assert_ne!(rows(&done), rows(&untouched), "{output}");
    reload(&mut client, &sqlite);

    let mut tally = Tally::default();
    for run in 0..IMPORT_RUNS {
        let point = Point::alternate(run);
        let mut paused = op.start_paused(&url, point, &signal);
        let proven = paused.running() && writing_sessions(&mut client) == 1;
        assert!(proven, "import at {point:?}: no open writing transaction");
        paused.kill();
        assert_eq!(
            ops_support::dump_postgres(&mut client),
            untouched,
            "run {run}: import killed at {point:?} committed something"
        );
        wait_for_no_sessions(&mut client);
        let out = op.run_ok(&url);
        assert_eq!(out, output, "run {run}: the rerun reported");
        assert_eq!(rows(&ops_support::dump_postgres(&mut client)), rows(&done));
        tally.add(op, point, proven, "killed: untouched, rerun: done");
        reload(&mut client, &sqlite);
    }
    tally.print("postgres import", started.elapsed());
    assert_eq!(tally.proven["import-leads"], IMPORT_RUNS);
}

/// Kill runs of `refresh` per starting state and engine on SQLite, and per
/// starting state on PostgreSQL.
const REFRESH_SQLITE_RUNS: usize = 6;
const REFRESH_PG_RUNS: usize = 6;

/// `segql refresh` of the example library at `now`, run to its end.
pub(super) fn refresh_at(db: &str, now: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(["refresh", "--db", db, "--now", now, "--library"])
        .arg(super::paused::example_library())
        .env_remove("SEGQL_TEST_PAUSE")
        .env_remove("SEGQL_TEST_PAUSE_FILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "refresh at {now}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The rows of `segment_member` and `segment_change` of a SQLite database
/// (`None`: no such table).
fn refresh_state_sqlite(conn: &rusqlite::Connection) -> Vec<Option<Vec<String>>> {
    ["segment_member", "segment_change"]
        .iter()
        .map(|table| {
            let exists: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .unwrap();
            (exists == 1).then(|| {
                let mut stmt = conn
                    .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))
                    .unwrap();
                let width = stmt.column_count();
                stmt.query_map([], |r| {
                    (0..width)
                        .map(|i| {
                            r.get::<_, rusqlite::types::Value>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map(|cells| cells.join("|"))
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
            })
        })
        .collect()
}

#[test]
fn killed_refresh_mid_transaction_sqlite_changes_nothing() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let fresh_base = dir.path().join("fresh.db");
    small_demo(&fresh_base);
    let refreshed = dir.path().join("refreshed.db");
    std::fs::copy(&fresh_base, &refreshed).unwrap();
    refresh_at(refreshed.to_str().unwrap(), EARLIER);
    let path = dir.path().join("run.db");
    let db = path.to_str().unwrap().to_string();
    let signal = dir.path().join("paused");
    let fresh = |base: &Path| {
        let _ = std::fs::remove_file(dir.path().join("run.db-journal"));
        std::fs::copy(base, &path).unwrap();
    };
    let engines = [Op::Refresh, Op::RefreshMemory];

    let mut tally = Tally::default();
    for base in [&fresh_base, &refreshed] {
        let (untouched, state) = {
            let conn = open(base);
            (
                ops_support::checksum_sqlite(&conn),
                refresh_state_sqlite(&conn),
            )
        };
        assert_eq!(state[0].is_some(), base == &refreshed);
        let mut reference = BTreeMap::new();
        for op in engines {
            fresh(base);
            let out = op.run_ok(&db);
            let result = ops_support::checksum_sqlite(&open(&path));
            assert_ne!(result, untouched, "{op:?} changed nothing: {out}");
            reference.insert(op.name(), (result, out));
        }
        assert_eq!(
            reference["refresh"], reference["refresh --engine memory"],
            "both engines write the same"
        );

        for run in 0..REFRESH_SQLITE_RUNS {
            for op in engines {
                let point = Point::alternate(run);
                fresh(base);
                let mut paused = op.start_paused(&db, point, &signal);
                let proven = paused.running() && write_lock_taken(&path);
                assert!(proven, "{op:?} at {point:?}: no write lock while held");
                paused.kill();

                let conn = open(&path);
                let integrity: String = conn
                    .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(integrity, "ok", "run {run}, {op:?} at {point:?}");
                assert_eq!(
                    refresh_state_sqlite(&conn),
                    state,
                    "run {run}: {op:?} killed at {point:?} changed the segment tables"
                );
                assert_eq!(
                    ops_support::checksum_sqlite(&conn),
                    untouched,
                    "run {run}: {op:?} killed at {point:?} left changes behind"
                );
                drop(conn);

                let out = op.run_ok(&db);
                let (result, output) = &reference[op.name()];
                assert_eq!(&out, output, "run {run}: the rerun of {op:?} reported");
                assert_eq!(
                    ops_support::checksum_sqlite(&open(&path)),
                    *result,
                    "run {run}: the rerun of {op:?}"
                );
                tally.add(op, point, proven, "killed: untouched, rerun: done");
            }
        }
    }
    tally.print("sqlite refresh", started.elapsed());
    for op in engines {
        assert_eq!(tally.proven[op.name()], 2 * REFRESH_SQLITE_RUNS);
    }
}

/// The rows of `segment_member` and `segment_change` (`None`: no such
/// table), and the demo tables.
type RefreshDump = (Vec<Option<Vec<String>>>, BTreeMap<String, Vec<String>>);

/// [`RefreshDump`] of PostgreSQL.
fn dump_refresh_postgres(client: &mut postgres::Client) -> RefreshDump {
    let mut segments = Vec::new();
    // A sequence is not rolled back: a killed run leaves a gap in `seq`,
    // which only has to increase. Changes are compared by their rank.
    for (table, rows) in [
        ("segment_member", "SELECT CAST(t AS TEXT) FROM segment_member AS t ORDER BY 1"),
        (
            "segment_change",
            "SELECT CAST((row_number() OVER (ORDER BY seq), segment, record_id, change, at) AS TEXT) \
             FROM segment_change ORDER BY seq",
        ),
    ] {
        let exists: bool = client
            .query_one(&format!("SELECT to_regclass('{table}') IS NOT NULL"), &[])
            .unwrap()
            .get(0);
        segments.push(exists.then(|| {
            client
                .query(rows, &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
        }));
    }
    (segments, ops_support::dump_postgres(client))
}

/// The demo data freshly copied, the segment tables dropped, and refreshed
/// at [`EARLIER`] when `refreshed`.
fn reload_for_refresh(
    pg: &TestPg,
    client: &mut postgres::Client,
    sqlite: &rusqlite::Connection,
    refreshed: bool,
) {
    client
        .batch_execute("DROP TABLE IF EXISTS segment_member, segment_change")
        .unwrap();
    reload(client, sqlite);
    if refreshed {
        refresh_at(&pg.url(), EARLIER);
    }
}

#[test]
fn killed_refresh_mid_transaction_postgres_commits_nothing() {
    let Some(pg) = TestPg::start() else { return };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    small_demo(&base);
    let sqlite = open(&base);
    let mut client = pg.client();
    let url = pg.url();
    let signal = dir.path().join("paused");

    let mut tally = Tally::default();
    for refreshed in [false, true] {
        reload_for_refresh(&pg, &mut client, &sqlite, refreshed);
        let untouched = dump_refresh_postgres(&mut client);
        assert_eq!(untouched.0[0].is_some(), refreshed);
        let output = Op::Refresh.run_ok(&url);
        let result = dump_refresh_postgres(&mut client);
        assert_ne!(result, untouched, "refresh changed nothing: {output}");
        reload_for_refresh(&pg, &mut client, &sqlite, refreshed);
        assert_eq!(dump_refresh_postgres(&mut client), untouched);

        for run in 0..REFRESH_PG_RUNS {
            let point = Point::alternate(run);
            let mut paused = Op::Refresh.start_paused(&url, point, &signal);
            let proven = paused.running() && writing_sessions(&mut client) == 1;
            assert!(proven, "refresh at {point:?}: no open writing transaction");
            paused.kill();
            assert_eq!(
                dump_refresh_postgres(&mut client),
                untouched,
                "run {run}: refresh killed at {point:?} committed something"
            );
            wait_for_no_sessions(&mut client);
            assert_eq!(dump_refresh_postgres(&mut client), untouched);

            let out = Op::Refresh.run_ok(&url);
            assert_eq!(out, output, "run {run}: the rerun of refresh reported");
            assert_eq!(
                dump_refresh_postgres(&mut client),
                result,
                "run {run}: the rerun of refresh"
            );
            tally.add(Op::Refresh, point, proven, "killed: untouched, rerun: done");
            reload_for_refresh(&pg, &mut client, &sqlite, refreshed);
        }
    }
    tally.print("postgres refresh", started.elapsed());
    assert_eq!(tally.proven["refresh"], 2 * REFRESH_PG_RUNS);
}
