//! Concurrent writers on SQLite and PostgreSQL: `update`, `link-orphans`, `import-leads`,
//! `score` and `refresh` (by either engine) and an outside connection holding a write lock. One run is held inside its
//! transaction at a test-only pause point (`SEGQL_TEST_PAUSE`), so the
//! overlap is certain, not a matter of timing: the other waits and both
//! effects land as if run one after the other (no lost update), or the
//! other gives up after the lock wait with a clear error and writes nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use super::kill::{refresh_at, small_demo, wait_for_no_sessions, EARLIER};
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
fn sqlite_score_waits_for_link_orphans_and_scores_the_linked_leads() {
    sqlite_serializes(Op::LinkOrphans, Op::Score);
}

/// The memory engine reads the data inside its transaction: a run that
/// waited for link-orphans scores the leads it linked (loaded before the
/// lock, it wrote no rows for them while counting them as scored).
#[test]
fn sqlite_memory_score_waits_for_link_orphans_and_scores_the_linked_leads() {
    sqlite_serializes(Op::LinkOrphans, Op::ScoreMemory);
}

#[test]
fn sqlite_score_waits_for_an_update_of_what_it_reads() {
    sqlite_serializes(Op::DoNotEmailDecisionMakers, Op::Score);
    sqlite_serializes(Op::DoNotEmailDecisionMakers, Op::ScoreMemory);
}

#[test]
fn sqlite_link_orphans_waits_for_score_and_both_land() {
    sqlite_serializes(Op::Score, Op::LinkOrphans);
}

#[test]
fn sqlite_update_waits_for_score_and_both_land() {
    let lite = Lite::new();
    let expected = lite.serial(&[Op::Score, Op::ClearMarketingOnly]);
    let db = lite.copy("crm.db");
    let held = Op::Score.start_paused(&db, Point::AfterFirstWrite, &lite.signal());
    let waiting = Op::ClearMarketingOnly.spawn(&db);
    std::thread::sleep(Duration::from_millis(300));
    assert_ok(Op::Score, &held.resume());
    assert_ok(Op::ClearMarketingOnly, &finish(waiting));
    assert_eq!(lite.settled(&db), expected);
}

/// Two scoring runs at once, by either engine: the second waits, finds the
/// first's scores and writes nothing; the table is a single run's.
#[test]
fn sqlite_two_scores_at_once_end_as_one() {
    let lite = Lite::new();
    let once = lite.serial(&[Op::Score]);
    assert_eq!(lite.serial(&[Op::ScoreMemory]), once);
    for (first, second) in [
        (Op::Score, Op::Score),
        (Op::ScoreMemory, Op::Score),
        (Op::Score, Op::ScoreMemory),
    ] {
        let db = lite.copy("crm.db");
        let held = first.start_paused(&db, Point::BeforeCommit, &lite.signal());
        let waiting = second.spawn(&db);
        std::thread::sleep(Duration::from_millis(300));
        let report = assert_ok(first, &held.resume());
        assert!(!report.contains("nothing changed"), "{report}");
        let again = assert_ok(second, &finish(waiting));
        assert!(
            again.contains("nothing changed"),
            "{first:?} then {second:?}: {again}"
        );
        assert_eq!(lite.settled(&db), once, "{first:?} then {second:?}");
    }
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
    let runs = [
        Op::ClearMarketingOnly,
        Op::LinkOrphans,
        Op::Score,
        Op::ScoreMemory,
    ]
    .map(|op| (op, op.spawn(&db)));
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

    // A score run held after its first write: a second one gives up.
    let db = lite.copy("crm.db");
    let held = Op::Score.start_paused(&db, Point::AfterFirstWrite, &lite.signal());
    assert_busy(Op::ScoreMemory, &Op::ScoreMemory.run(&db));
    assert_busy(Op::Score, &Op::Score.run(&db));
    assert_ok(Op::Score, &held.resume());
    assert_eq!(lite.settled(&db), lite.serial(&[Op::Score]));
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
                "DROP TABLE IF EXISTS lead_score, segment_member, segment_change, {} CASCADE",
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

    fn settled(&mut self) -> Settled {
        Settled {
            records: ops_support::canonical_postgres(&mut self.client, &self.before_ids),
            scores: scores_postgres(&mut self.client),
        }
    }

    /// The result of `ops` run one after the other on freshly loaded data;
    /// the data is reloaded afterwards.
    fn serial(&mut self, ops: &[Op]) -> Settled {
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

/// A PostgreSQL database's contacts and leads (new contacts by email), and
/// what scoring writes.
#[derive(Debug, PartialEq, Eq)]
struct Settled {
    records: ops_support::Canonical,
    scores: Scores,
}

/// Every lead's `score` and `sales_ready`, and the `lead_score` rows
/// (`None`: no such table), as text.
#[derive(Debug, PartialEq, Eq)]
struct Scores {
    leads: Vec<String>,
    lead_score: Option<Vec<String>>,
}

fn scores_postgres(client: &mut postgres::Client) -> Scores {
    let mut rows = |sql: &str| -> Vec<String> {
        client
            .query(sql, &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let leads = rows("SELECT concat_ws('|', id, score, sales_ready) FROM lead ORDER BY id");
    let exists = rows("SELECT CAST(to_regclass('lead_score') IS NOT NULL AS TEXT)");
    Scores {
        leads,
        lead_score: (exists == ["true"])
            .then(|| rows("SELECT CAST(t AS TEXT) FROM lead_score AS t ORDER BY 1")),
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

#[test]
fn postgres_score_waits_for_link_orphans_and_scores_the_linked_leads() {
    postgres_serializes(Op::LinkOrphans, Op::Score);
}

#[test]
fn postgres_link_orphans_waits_for_score_and_both_land() {
    postgres_serializes(Op::Score, Op::LinkOrphans);
}

/// Two scoring runs at once: the second waits for the first's lock on the
/// leads, finds its scores and writes nothing.
#[test]
fn postgres_two_scores_at_once_end_as_one() {
    let Some(mut pg) = Pg::new() else { return };
    let once = pg.serial(&[Op::Score]);
    let url = pg.url();
    let held = Op::Score.start_paused(&url, Point::BeforeCommit, &pg.signal());
    let waiting = Op::Score.spawn(&url);
    pg.wait_for_a_lock_waiter();
    let report = assert_ok(Op::Score, &held.resume());
    assert!(!report.contains("nothing changed"), "{report}");
    let again = assert_ok(Op::Score, &finish(waiting));
    assert!(again.contains("nothing changed"), "{again}");
    assert_eq!(pg.settled(), once);
}

/// A writer holding rows of the lead table: score gives up after the lock
/// wait with the clear error, and nothing (not even `lead_score`) is left.
#[test]
fn postgres_score_gives_up_on_a_writer_holding_the_leads() {
    let Some(mut pg) = Pg::new() else { return };
    let url = pg.url();
    let untouched = pg.settled();
    assert_eq!(untouched.scores.lead_score, None);

    let mut outside = pg.pg.client();
    let mut holding = outside.transaction().unwrap();
    holding
        .batch_execute("UPDATE lead SET topic = 'Held'")
        .unwrap();
    let started = Instant::now();
    assert_busy(Op::Score, &Op::Score.run(&url));
    assert!(started.elapsed() >= segql::ops::LOCK_WAIT);
    assert!(started.elapsed() < segql::ops::LOCK_WAIT * 3);
    holding.rollback().unwrap();
    drop(outside);
    assert_eq!(pg.settled(), untouched);
    wait_for_no_sessions(&mut pg.client);

    let link_only = pg.serial(&[Op::LinkOrphans]);
    let held = Op::LinkOrphans.start_paused(&url, Point::AfterFirstWrite, &pg.signal());
    let started = Instant::now();
    assert_busy(Op::Score, &Op::Score.run(&url));
    assert!(started.elapsed() >= segql::ops::LOCK_WAIT);
    assert_ok(Op::LinkOrphans, &held.resume());
    assert_eq!(pg.settled(), link_only);
}

/// An update of contacts the models read, held before its commit: score
/// locks only the leads, so it does not wait; it scores the committed data
/// (without the held change) and commits first. The result is that of
/// score, then the update, one after the other.
#[test]
fn postgres_score_reads_the_committed_data_beside_a_held_update_of_contacts() {
    let Some(mut pg) = Pg::new() else { return };
    let expected = pg.serial(&[Op::Score, Op::DoNotEmailDecisionMakers]);
    assert_ne!(
        pg.serial(&[Op::DoNotEmailDecisionMakers, Op::Score]),
        expected,
        "the order matters"
    );
    let url = pg.url();
    let held = Op::DoNotEmailDecisionMakers.start_paused(&url, Point::BeforeCommit, &pg.signal());
    let out = assert_ok(Op::Score, &Op::Score.run(&url));
    assert!(!out.contains("nothing changed"), "{out}");
    assert_ok(Op::DoNotEmailDecisionMakers, &held.resume());
    assert_eq!(pg.settled(), expected);
}

/// A list of leads with the emails of the demo's orphaned leads that no
/// contact has, under a new topic, written into `dir`: `import-leads` and
/// `link-orphans` would both make a contact for each of these emails. The
/// path (for [`Op::ImportLeads`]) and the emails, normalized.
fn orphan_email_list(base: &rusqlite::Connection, dir: &Path) -> (&'static str, Vec<String>) {
    let mut stmt = base
        .prepare(
            "SELECT DISTINCT lower(trim(email)) FROM lead WHERE contact_id IS NULL \
             AND trim(email) <> '' AND lower(trim(email)) NOT IN \
             (SELECT lower(trim(email)) FROM contact WHERE email IS NOT NULL) ORDER BY 1",
        )
        .unwrap();
    let emails: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(!emails.is_empty(), "the demo has orphans with new emails");
    let mut csv = String::from("email,topic,source\n");
    for email in &emails {
        csv.push_str(&format!("{email},Concurrent Expo,Trade Show\n"));
    }
    let path = dir.join("orphan-emails.csv");
    std::fs::write(&path, csv).unwrap();
    (
        Box::leak(path.to_str().unwrap().to_string().into_boxed_str()),
        emails,
    )
}

/// For each of `emails`: how many contacts have it, and how many leads with
/// it have no contact. Both runs done, that is `(1, 0)` for every one.
fn contacts_and_orphans(rows: Vec<(i64, i64)>, emails: &[String]) {
    assert_eq!(rows.len(), emails.len());
    for (email, (contacts, orphans)) in emails.iter().zip(rows) {
        assert_eq!((contacts, orphans), (1, 0), "{email}");
    }
}

const PER_EMAIL: &str = "SELECT (SELECT count(*) FROM contact WHERE lower(trim(email)) = e), \
     (SELECT count(*) FROM lead WHERE lower(trim(email)) = e AND contact_id IS NULL)";

#[test]
fn sqlite_import_and_link_orphans_at_once_make_one_contact_per_email() {
    let lite = Lite::new();
    let base = open(&lite.dir.path().join("base.db"));
    let (csv, emails) = orphan_email_list(&base, lite.dir.path());
    let import = Op::ImportLeads(csv);
    for (first, second) in [(import, Op::LinkOrphans), (Op::LinkOrphans, import)] {
        let db = lite.copy("crm.db");
        let held = first.start_paused(&db, Point::BeforeCommit, &lite.signal());
        let waiting = second.spawn(&db);
        std::thread::sleep(Duration::from_millis(300));
        let report = assert_ok(first, &held.resume());
        let later = assert_ok(second, &finish(waiting));
        let conn = open(Path::new(&db));
        let rows = emails
            .iter()
            .map(|e| {
                conn.query_row(&PER_EMAIL.replace(" = e", " = ?1"), [e], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap()
            })
            .collect();
        contacts_and_orphans(rows, &emails);
        if first == import {
            assert!(
                report.contains(&format!("contacts created: {}", emails.len())),
                "{report}"
            );
        } else {
            // link-orphans made the contacts; the import found them.
            assert!(
                later.contains(&format!("contacts linked:  {}", emails.len())),
                "{later}"
            );
            assert!(later.contains("contacts created: 0"), "{later}");
        }
    }
}

#[test]
fn postgres_import_and_link_orphans_at_once_make_one_contact_per_email() {
    let Some(mut pg) = Pg::new() else { return };
    let (csv, emails) = orphan_email_list(&pg.sqlite, pg.signal.path());
    let import = Op::ImportLeads(csv);
    for (first, second) in [(import, Op::LinkOrphans), (Op::LinkOrphans, import)] {
        let url = pg.url();
        let held = first.start_paused(&url, Point::BeforeCommit, &pg.signal());
        let waiting = second.spawn(&url);
        pg.wait_for_a_lock_waiter();
        assert_ok(first, &held.resume());
        assert_ok(second, &finish(waiting));
        let rows = emails
            .iter()
            .map(|e| {
                let row = pg
                    .client
                    .query_one(&PER_EMAIL.replace(" = e", " = $1"), &[e])
                    .unwrap();
                (row.get(0), row.get(1))
            })
            .collect();
        contacts_and_orphans(rows, &emails);
        pg.reload();
    }
}

/// `segment_member` and `segment_change` as text, changes in `seq` order
/// (`seq` itself left out: it only has to increase), empty without the
/// tables; panics unless `seq` strictly increases and each record's changes
/// of a segment alternate, starting with `joined`, ending as its
/// membership says (no change lost or recorded twice).
#[derive(Debug, PartialEq, Eq)]
struct Segments {
    members: Vec<String>,
    changes: Vec<String>,
}

fn check_segments(
    members: Vec<(String, String, String)>,
    changes: Vec<(i64, String, String, String, String)>,
) -> Segments {
    use std::collections::BTreeMap;
    let mut last: BTreeMap<(String, String), String> = BTreeMap::new();
    for pair in changes.windows(2) {
        assert!(pair[0].0 < pair[1].0, "seq does not increase: {pair:?}");
    }
    for (_, segment, record, change, _) in &changes {
        let before = last.insert((segment.clone(), record.clone()), change.clone());
        let expected = match before.as_deref() {
            None | Some("left") => "joined",
            _ => "left",
        };
        assert_eq!(
            change, expected,
            "{segment} {record}: {before:?} then {change}"
        );
    }
    let joined: BTreeSet<(String, String)> = last
        .into_iter()
        .filter(|(_, change)| change == "joined")
        .map(|(key, _)| key)
        .collect();
    let kept: BTreeSet<(String, String)> = members
        .iter()
        .map(|(segment, record, _)| (segment.clone(), record.clone()))
        .collect();
    assert_eq!(
        kept, joined,
        "the members are those whose last change is joined"
    );
    Segments {
        members: members
            .into_iter()
            .map(|(a, b, c)| format!("{a}|{b}|{c}"))
            .collect(),
        changes: changes
            .into_iter()
            .map(|(_, a, b, c, d)| format!("{a}|{b}|{c}|{d}"))
            .collect(),
    }
}

fn segments_sqlite(db: &str) -> Segments {
    let conn = open(Path::new(db));
    let exists: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('segment_member', 'segment_change')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if exists == 0 {
        return check_segments(Vec::new(), Vec::new());
    }
    let members = conn
        .prepare("SELECT segment, record_id, since FROM segment_member ORDER BY 1, 2")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let changes = conn
        .prepare("SELECT seq, segment, record_id, change, at FROM segment_change ORDER BY seq")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    check_segments(members, changes)
}

fn segments_postgres(client: &mut postgres::Client) -> Segments {
    let exists: bool = client
        .query_one("SELECT to_regclass('segment_change') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    if !exists {
        return check_segments(Vec::new(), Vec::new());
    }
    let time =
        |c: &str| format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
    let members = client
        .query(
            &format!(
                "SELECT segment, CAST(record_id AS TEXT), {} FROM segment_member ORDER BY 1, 2",
                time("since")
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let changes = client
        .query(
            &format!(
                "SELECT seq, segment, CAST(record_id AS TEXT), change, {} FROM segment_change \
                 ORDER BY segment_change.seq",
                time("at")
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    check_segments(members, changes)
}

/// Two refreshes at once, by either engine, with and without an earlier
/// refresh: the second waits, finds the first's changes and writes
/// nothing; the tables are a single run's.
#[test]
fn sqlite_two_refreshes_at_once_end_as_one() {
    let lite = Lite::new();
    for earlier in [false, true] {
        let base = lite.copy("base-refresh.db");
        if earlier {
            refresh_at(&base, EARLIER);
        }
        let fresh = || {
            let db = lite.dir.path().join("crm.db");
            std::fs::copy(&base, &db).unwrap();
            db.to_str().unwrap().to_string()
        };
        let db = fresh();
        Op::Refresh.run_ok(&db);
        let once = segments_sqlite(&db);
        assert!(!once.changes.is_empty());
        for (first, second) in [
            (Op::Refresh, Op::Refresh),
            (Op::RefreshMemory, Op::Refresh),
            (Op::Refresh, Op::RefreshMemory),
        ] {
            let db = fresh();
            let held = first.start_paused(&db, Point::BeforeCommit, &lite.signal());
            let waiting = second.spawn(&db);
            std::thread::sleep(Duration::from_millis(300));
            let report = assert_ok(first, &held.resume());
            assert!(!report.contains("nothing changed"), "{report}");
            let again = assert_ok(second, &finish(waiting));
            assert!(
                again.contains("nothing changed"),
                "{first:?} then {second:?}: {again}"
            );
            assert_eq!(segments_sqlite(&db), once, "{first:?} then {second:?}");
        }
    }
}

/// A refresh started while an update of what it reads is inside its
/// transaction waits for it and records its effect, by either engine.
#[test]
fn sqlite_refresh_waits_for_an_update_and_records_it() {
    let lite = Lite::new();
    let base = lite.copy("base-refresh.db");
    refresh_at(&base, EARLIER);
    for refresh in [Op::Refresh, Op::RefreshMemory] {
        let serial = lite.dir.path().join("serial.db");
        std::fs::copy(&base, &serial).unwrap();
        let serial = serial.to_str().unwrap().to_string();
        Op::DoNotEmailDecisionMakers.run_ok(&serial);
        refresh.run_ok(&serial);
        let expected = segments_sqlite(&serial);
        let db = lite.dir.path().join("crm.db");
        std::fs::copy(&base, &db).unwrap();
        let db = db.to_str().unwrap().to_string();
        let without_update = {
            refresh.run_ok(&db);
            segments_sqlite(&db)
        };
        assert_ne!(without_update, expected, "the update changes the segments");
        std::fs::copy(&base, &db).unwrap();
        let held =
            Op::DoNotEmailDecisionMakers.start_paused(&db, Point::BeforeCommit, &lite.signal());
        let waiting = refresh.spawn(&db);
        std::thread::sleep(Duration::from_millis(300));
        assert_ok(Op::DoNotEmailDecisionMakers, &held.resume());
        assert_ok(refresh, &finish(waiting));
        assert_eq!(segments_sqlite(&db), expected, "{refresh:?}");
    }
}

/// Two refreshes at once on PostgreSQL, with and without an earlier
/// refresh (then both find the tables missing: the second waits on the
/// entity tables the first locked to create them, and must not fail).
#[test]
fn postgres_two_refreshes_at_once_end_as_one() {
    let Some(mut pg) = Pg::new() else { return };
    let url = pg.url();
    for earlier in [false, true] {
        let prepare = |pg: &mut Pg| {
            pg.reload();
            if earlier {
                refresh_at(&pg.url(), EARLIER);
            }
        };
        prepare(&mut pg);
        Op::Refresh.run_ok(&url);
        let once = segments_postgres(&mut pg.client);
        assert!(!once.changes.is_empty());
        prepare(&mut pg);
        let held = Op::Refresh.start_paused(&url, Point::BeforeCommit, &pg.signal());
        let waiting = Op::Refresh.spawn(&url);
        pg.wait_for_a_lock_waiter();
        let report = assert_ok(Op::Refresh, &held.resume());
        assert!(!report.contains("nothing changed"), "{report}");
        let again = assert_ok(Op::Refresh, &finish(waiting));
        assert!(
            again.contains("nothing changed"),
            "earlier {earlier}: {again}"
        );
        assert_eq!(segments_postgres(&mut pg.client), once, "earlier {earlier}");
    }
}

/// Beside an update held inside its transaction, a refresh reads the
/// committed data (it locks only its own tables, so it does not wait);
/// the next refresh records the update.
#[test]
fn postgres_refresh_beside_a_held_update_records_it_next_time() {
    let Some(mut pg) = Pg::new() else { return };
    let url = pg.url();
    refresh_at(&url, EARLIER);
    Op::Refresh.run_ok(&url);
    let before_update = segments_postgres(&mut pg.client);
    Op::DoNotEmailDecisionMakers.run_ok(&url);
    Op::Refresh.run_ok(&url);
    let after_update = segments_postgres(&mut pg.client);
    assert_ne!(after_update, before_update);

    pg.reload();
    refresh_at(&url, EARLIER);
    let held = Op::DoNotEmailDecisionMakers.start_paused(&url, Point::BeforeCommit, &pg.signal());
    assert_ok(Op::Refresh, &Op::Refresh.run(&url));
    assert_eq!(segments_postgres(&mut pg.client), before_update);
    assert_ok(Op::DoNotEmailDecisionMakers, &held.resume());
    assert_ok(Op::Refresh, &Op::Refresh.run(&url));
    assert_eq!(segments_postgres(&mut pg.client), after_update);
}
