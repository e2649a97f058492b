//! Concurrent writers on SQLite and PostgreSQL: `update`, `link-orphans` and
//! an outside connection holding a write lock. One run is held inside its
//! transaction at a test-only pause point (`SEGQL_TEST_PAUSE`), so the
//! overlap is certain, not a matter of timing: the other waits and both
//! effects land as if run one after the other (no lost update), or the
//! other gives up after the lock wait with a clear error and writes nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use super::kill::{small_demo, wait_for_no_sessions};
use super::paused::{finish, stderr, Op, Point};
use crate::support::ops as ops_support;
use crate::support::pg::TestPg;

fn open(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// Panics unless `out` is the lock-wait failure: exit code 2 and a message
/// that says what happened and what to do.
fn assert_busy(op: Op, out: &Output) {
    let message = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{op:?}: {message}");
    assert!(message.contains("locked by another writer"), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    assert!(message.contains("try again"), "{message}");
}

fn assert_ok(op: Op, out: &Output) -> String {
    assert!(out.status.success(), "{op:?}: {}", stderr(out));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The SQLite part: a demo database, a copy per scenario and the serial
/// results to compare with.
struct Lite {
    dir: tempfile::TempDir,
    before_ids: BTreeSet<String>,
}

impl Lite {
    fn new() -> Lite {
        let dir = tempfile::tempdir().unwrap();
        small_demo(&dir.path().join("base.db"));
        let before_ids = ops_support::contact_ids_sqlite(&open(&dir.path().join("base.db")));
        Lite { dir, before_ids }
    }

    /// A fresh copy of the demo database named `name`; its path as text.
    fn copy(&self, name: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::copy(self.dir.path().join("base.db"), &path).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn settled(&self, db: &str) -> u64 {
        ops_support::settled_checksum_sqlite(&open(Path::new(db)), &self.before_ids)
    }

    /// The result of `ops` run one after the other on a fresh copy.
    fn serial(&self, ops: &[Op]) -> u64 {
        let db = self.copy("serial.db");
        for op in ops {
            op.run_ok(&db);
        }
        self.settled(&db)
    }

    fn signal(&self) -> std::path::PathBuf {
        self.dir.path().join("paused")
    }
}

/// `first` held just before its commit, `second` started meanwhile: it
/// waits for the lock, then sees `first`'s changes.
fn sqlite_serializes(first: Op, second: Op) {
    let lite = Lite::new();
    let expected = lite.serial(&[first, second]);
    let db = lite.copy("crm.db");
    let held = first.start_paused(&db, Point::BeforeCommit, &lite.signal());
    let waiting = second.spawn(&db);
    // SQLite shows no waiters; give the second run time to reach the lock.
    std::thread::sleep(Duration::from_millis(300));
    assert_ok(first, &held.resume());
    assert_ok(second, &finish(waiting));
    assert_eq!(lite.settled(&db), expected, "{first:?} then {second:?}");
    assert_ne!(lite.serial(&[second, first]), expected, "the order matters");
}

#[test]
fn sqlite_update_waits_for_link_orphans_and_both_land() {
    sqlite_serializes(Op::LinkOrphans, Op::ClearMarketingOnly);
}

#[test]
fn sqlite_link_orphans_waits_for_update_and_both_land() {
    sqlite_serializes(Op::ClearMarketingOnly, Op::LinkOrphans);
}

#[test]
fn sqlite_a_writer_holding_the_lock_too_long_gets_a_clear_error() {
    let lite = Lite::new();
    let db = lite.copy("crm.db");
    let untouched = ops_support::checksum_sqlite(&open(Path::new(&db)));

    // An outside connection with an open, written transaction.
    let outside = open(Path::new(&db));
    outside
        .execute_batch("BEGIN IMMEDIATE; UPDATE contact SET city = 'Held'")
        .unwrap();
    let started = Instant::now();
    let runs = [Op::ClearMarketingOnly, Op::LinkOrphans].map(|op| (op, op.spawn(&db)));
    for (op, child) in runs {
        assert_busy(op, &finish(child));
    }
    assert!(started.elapsed() >= segql::ops::LOCK_WAIT);
    assert!(started.elapsed() < segql::ops::LOCK_WAIT * 3);
    outside.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        ops_support::checksum_sqlite(&open(Path::new(&db))),
        untouched
    );

    // A link-orphans run held after its first write: the update gives up
    // and leaves no trace; the held run then commits alone.
    let held = Op::LinkOrphans.start_paused(&db, Point::AfterFirstWrite, &lite.signal());
    assert_busy(Op::ClearMarketingOnly, &Op::ClearMarketingOnly.run(&db));
    assert_ok(Op::LinkOrphans, &held.resume());
    assert_eq!(lite.settled(&db), lite.serial(&[Op::LinkOrphans]));
}

/// The PostgreSQL part: the demo data copied into the test's database.
struct Pg {
    pg: TestPg,
    sqlite: rusqlite::Connection,
    client: postgres::Client,
    before_ids: BTreeSet<String>,
    signal: tempfile::TempDir,
}

impl Pg {
    fn new() -> Option<Pg> {
        let pg = TestPg::start()?;
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base.db");
        small_demo(&base);
        let sqlite = open(&base);
        let mut me = Pg {
            before_ids: BTreeSet::new(),
            client: pg.client(),
            pg,
            sqlite,
            signal: dir,
        };
        me.reload();
        me.before_ids = ops_support::contact_ids_postgres(&mut me.client);
        Some(me)
    }

    fn url(&self) -> String {
        self.pg.url()
    }

    fn reload(&mut self) {
        self.client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {} CASCADE",
                ops_support::TABLES.join(", ")
            ))
            .unwrap();
        segql::demo::copy_sqlite_to_postgres(
            &self.sqlite,
            &mut self.client,
            &segql::schema::crm_schema(),
        )
        .unwrap();
    }

    fn settled(&mut self) -> ops_support::Canonical {
        ops_support::canonical_postgres(&mut self.client, &self.before_ids)
    }

    /// The result of `ops` run one after the other on freshly loaded data;
    /// the data is reloaded afterwards.
    fn serial(&mut self, ops: &[Op]) -> ops_support::Canonical {
        for op in ops {
            op.run_ok(&self.url());
        }
        let result = self.settled();
        self.reload();
        result
    }

    fn signal(&self) -> std::path::PathBuf {
        self.signal.path().join("paused")
    }

    /// Waits until a session of the test's database waits for a lock.
    fn wait_for_a_lock_waiter(&mut self) {
        let started = Instant::now();
        loop {
            let n: i64 = self
                .client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND wait_event_type = 'Lock'",
                    &[],
                )
                .unwrap()
                .get(0);
            if n > 0 {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "nobody waits");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn postgres_serializes(first: Op, second: Op) {
    let Some(mut pg) = Pg::new() else { return };
    let expected = pg.serial(&[first, second]);
    assert_ne!(pg.serial(&[second, first]), expected, "the order matters");
    let url = pg.url();
    let held = first.start_paused(&url, Point::BeforeCommit, &pg.signal());
    let waiting = second.spawn(&url);
    pg.wait_for_a_lock_waiter();
    assert_ok(first, &held.resume());
    assert_ok(second, &finish(waiting));
    assert_eq!(pg.settled(), expected, "{first:?} then {second:?}");
}

#[test]
fn postgres_update_waits_for_link_orphans_and_both_land() {
    postgres_serializes(Op::LinkOrphans, Op::ClearMarketingOnly);
}

#[test]
fn postgres_link_orphans_waits_for_update_and_both_land() {
    postgres_serializes(Op::ClearMarketingOnly, Op::LinkOrphans);
}

#[test]
fn postgres_a_writer_holding_the_lock_too_long_gets_a_clear_error() {
    let Some(mut pg) = Pg::new() else { return };
    let url = pg.url();
    let untouched = ops_support::dump_postgres(&mut pg.client);

    let mut outside = pg.pg.client();
    let mut holding = outside.transaction().unwrap();
    holding
        .batch_execute("UPDATE contact SET city = 'Held'")
        .unwrap();
    let started = Instant::now();
    let runs = [Op::ClearMarketingOnly, Op::LinkOrphans].map(|op| (op, op.spawn(&url)));
    for (op, child) in runs {
        assert_busy(op, &finish(child));
    }
    assert!(started.elapsed() >= segql::ops::LOCK_WAIT);
    assert!(started.elapsed() < segql::ops::LOCK_WAIT * 3);
    holding.rollback().unwrap();
    drop(outside);
    assert_eq!(ops_support::dump_postgres(&mut pg.client), untouched);
    wait_for_no_sessions(&mut pg.client);

    let link_only = pg.serial(&[Op::LinkOrphans]);
    let held = Op::LinkOrphans.start_paused(&url, Point::AfterFirstWrite, &pg.signal());
    assert_busy(Op::ClearMarketingOnly, &Op::ClearMarketingOnly.run(&url));
    assert_ok(Op::LinkOrphans, &held.resume());
    assert_eq!(pg.settled(), link_only);
}
