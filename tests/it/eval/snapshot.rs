//! Loading the memory store through a cache of snapshots: the same records
//! as a fresh load for every fixture, the second load read from the
//! snapshot, every change to the database seen, damaged snapshots ignored
//! and rewritten, and a cache that cannot be written no failure.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use segql::check::check;
use segql::db::SqliteBackend;
use segql::eval::{Store, StoreCache, StoreSource};
use segql::plan::Plan;
use segql::schema::crm_schema;
use segql::syntax::parse_query;
use segql::{Engine, Found, Options, RunOptions};

use crate::support::fixture::{tests_dir, Fixture};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
}

/// A demo database file and an empty cache directory beside it.
fn setup(contacts: usize) -> (tempfile::TempDir, PathBuf, StoreCache) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    let options = segql::demo::DemoOptions::new(contacts, 3, now());
    segql::demo::generate_sqlite(&db, &options).unwrap();
    let cache = StoreCache::new(dir.path().join("cache"));
    (dir, db, cache)
}

fn plan(text: &str) -> Plan {
    segql::plan(text, &Options::new(&crm_schema())).unwrap()
}

/// The ids of `plan` on `db`, loaded through `cache` (or afresh without
/// one), and where the store came from.
fn ids(db: &Path, plan: &Plan, cache: Option<&StoreCache>) -> (Vec<uuid::Uuid>, StoreSource) {
    let schema = crm_schema();
    let conn = Connection::open(db).unwrap();
    let mut backend = SqliteBackend::new(&conn);
    let options = RunOptions {
        schema: &schema,
        now: now(),
        count: false,
    };
    let engine = match cache {
        Some(cache) => Engine::MemoryCached(&mut backend, cache),
        None => Engine::MemoryFrom(&mut backend),
    };
    let outcome = segql::run(plan, engine, &options).unwrap();
    let Found::Ids(ids) = outcome.found else {
        panic!("ids were asked for")
    };
    (ids, outcome.store.unwrap_or(StoreSource::Database))
}

fn snapshots(cache: &StoreCache) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cache.dir())
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn every_fixture_finds_the_same_records_through_the_cache() {
    let (_dir, db, cache) = setup(300);
    let schema = crm_schema();
    let conn = Connection::open(&db).unwrap();
    let fixtures = ["queries/valid", "queries/aggregates"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(tests_dir().join(dir)).unwrap());
    let mut checked = 0;
    for entry in fixtures {
        let path = entry.unwrap().path();
        let fixture = Fixture::load(&path);
        if fixture.schema_file.is_some() {
            continue;
        }
        let name = path.display().to_string();
        let library = fixture.parsed_library();
        let context = fixture.context(library.as_ref());
        let plan = check(&parse_query(&fixture.text).unwrap(), &context).unwrap();
        let fresh = Store::load(&mut SqliteBackend::new(&conn), &schema, Some(&plan)).unwrap();
        let expected = segql::eval::evaluate(&plan, &fresh, now()).unwrap();
        let mut sources = Vec::new();
        for _ in 0..2 {
            let (store, source) =
                Store::load_cached(&mut SqliteBackend::new(&conn), &schema, Some(&plan), &cache)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            let found = segql::eval::evaluate(&plan, &store, now()).unwrap();
            assert_eq!(found, expected, "{name}");
            sources.push(source);
        }
        // The first load may already find a snapshot of an earlier
        // fixture's that holds what this one needs; the second always does.
        assert!(
            matches!(sources[0], StoreSource::Saved(_) | StoreSource::Snapshot(_)),
            "{name}: {:?}",
            sources[0]
        );
        assert!(
            matches!(sources[1], StoreSource::Snapshot(_)),
            "{name}: {:?}",
            sources[1]
        );
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} fixtures checked");
}

#[test]
fn the_second_run_reads_the_snapshot_the_first_saved() {
    let (_dir, db, cache) = setup(200);
    let plan = plan(r#"contact where has lead(status = "Open") and city is not null"#);
    let (fresh, source) = ids(&db, &plan, None);
    assert_eq!(source, StoreSource::Database);
    assert!(snapshots(&cache).is_empty());
    let (first, saved) = ids(&db, &plan, Some(&cache));
    let StoreSource::Saved(file) = saved else {
        panic!("the first run saves a snapshot: {saved:?}")
    };
    assert_eq!(snapshots(&cache), vec![file.clone()]);
    let written = std::fs::metadata(&file).unwrap().modified().unwrap();
    let (second, read) = ids(&db, &plan, Some(&cache));
    assert_eq!(read, StoreSource::Snapshot(file.clone()));
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        written
    );
    assert!(!fresh.is_empty());
    assert_eq!(first, fresh);
    assert_eq!(second, fresh);
}

#[test]
fn a_snapshot_holding_more_serves_a_plan_needing_less() {
    let (_dir, db, cache) = setup(200);
    let wide = plan(r#"contact where has lead(status = "Open" and score > 10) and city = "Paris""#);
    let narrow = plan(r#"contact where has lead(status = "Open")"#);
    let (_, saved) = ids(&db, &wide, Some(&cache));
    let StoreSource::Saved(wide_file) = saved else {
        panic!("{saved:?}")
    };
    // The lead table is reached only as a child: read without keys, its
    // rows in the order SQLite gives for the columns read. The narrow plan
    // reads other lead columns than the wide one, so the wide snapshot
    // does not serve it.
    let (found, source) = ids(&db, &narrow, Some(&cache));
    assert!(matches!(source, StoreSource::Saved(_)), "{source:?}");
    assert_eq!(found, ids(&db, &narrow, None).0);
    // A plan needing a subset of the contact fields and the same lead
    // columns is served by the wide snapshot.
    let subset = plan(r#"contact where has lead(status = "Open" and score > 10)"#);
    let (found, source) = ids(&db, &subset, Some(&cache));
    assert_eq!(source, StoreSource::Snapshot(wide_file));
    assert_eq!(found, ids(&db, &subset, None).0);
}

/// Runs `change` on the database, then checks that the next run through
/// the cache loads afresh and finds what a run without the cache finds.
fn assert_seen(db: &Path, cache: &StoreCache, plan: &Plan, change: &str, keep_mtime: bool) {
    let before = std::fs::metadata(db).unwrap();
    let (old, _) = ids(db, plan, Some(cache));
    let conn = Connection::open(db).unwrap();
    let changed = conn.execute(change, []).unwrap();
    assert_eq!(changed, 1, "{change}");
    drop(conn);
    if keep_mtime {
        // Only the header's change counter tells this state from the last.
        let file = std::fs::File::options().write(true).open(db).unwrap();
        file.set_modified(before.modified().unwrap()).unwrap();
        let after = std::fs::metadata(db).unwrap();
        assert_eq!(after.len(), before.len(), "{change}");
        assert_eq!(after.modified().unwrap(), before.modified().unwrap());
    }
    let (new, source) = ids(db, plan, Some(cache));
    assert!(
        matches!(source, StoreSource::Saved(_)),
        "{change}: {source:?}"
    );
    assert_ne!(new, old, "{change}");
    assert_eq!(new, ids(db, plan, None).0, "{change}");
    // The snapshot of the old state is gone, replaced by the new one.
    assert_eq!(snapshots(cache).len(), 1, "{change}");
    let (again, source) = ids(db, plan, Some(cache));
    assert!(
        matches!(source, StoreSource::Snapshot(_)),
        "{change}: {source:?}"
    );
    assert_eq!(again, new);
}

#[test]
fn every_change_to_the_database_is_seen_by_the_next_run() {
    let (_dir, db, cache) = setup(200);
    let plan =
        plan(r#"contact where city = "Snapshot City" or has lead(topic = "Snapshot topic")"#);
    let conn = Connection::open(&db).unwrap();
    let (contact, lead): (String, String) = conn
        .query_row(
            "SELECT c.id, l.id FROM contact c JOIN lead l ON l.contact_id = c.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(conn);
    assert_seen(
        &db,
        &cache,
        &plan,
        &format!("UPDATE contact SET city = 'Snapshot City' WHERE id = '{contact}'"),
        false,
    );
    // The same size, the same modification time: the change counter.
    assert_seen(
        &db,
        &cache,
        &plan,
        &format!("UPDATE contact SET city = 'Snapshot Citz' WHERE id = '{contact}'"),
        true,
    );
    assert_seen(
        &db,
        &cache,
        &plan,
        &format!("UPDATE lead SET topic = 'Snapshot topic' WHERE id = '{lead}'"),
        false,
    );
    assert_seen(
        &db,
        &cache,
        &plan,
        &format!("DELETE FROM lead WHERE id = '{lead}'"),
        false,
    );
    assert_seen(
        &db,
        &cache,
        &plan,
        "INSERT INTO contact (id, city) VALUES ('00000000-0000-4000-8000-0000000000aa', 'Snapshot City')",
        false,
    );
}

#[test]
fn a_damaged_snapshot_is_ignored_and_rewritten() {
    let (_dir, db, cache) = setup(200);
    let plan = plan(
        r#"contact where has at least 2 interaction(occurred_on >= now - 90d) and city is not null"#,
    );
    let (expected, saved) = ids(&db, &plan, Some(&cache));
    let StoreSource::Saved(file) = saved else {
        panic!("{saved:?}")
    };
    let good = std::fs::read(&file).unwrap();
    let len = good.len();
    let mut damages: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("cut in the header", good[..40].to_vec()),
        ("cut in half", good[..len / 2].to_vec()),
        ("one byte short", good[..len - 1].to_vec()),
        ("one byte more", [&good[..], &[0]].concat()),
    ];
    for at in [9, 20, 60, len / 2, len - 3] {
        let mut bad = good.clone();
        bad[at] ^= 0x10;
        damages.push(("a flipped bit", bad));
    }
    for (what, bytes) in damages {
        std::fs::write(&file, &bytes).unwrap();
        let (found, source) = ids(&db, &plan, Some(&cache));
        assert_eq!(found, expected, "{what}");
        assert_eq!(source, StoreSource::Saved(file.clone()), "{what}");
        assert_eq!(std::fs::read(&file).unwrap(), good, "{what}: rewritten");
    }
}

#[test]
fn a_cache_that_cannot_be_written_does_not_fail_the_run() {
    let (dir, db, _) = setup(100);
    // A file where the directory should be: nothing can be created in it.
    let blocked = dir.path().join("not-a-directory");
    std::fs::write(&blocked, "x").unwrap();
    let cache = StoreCache::new(blocked.join("cache"));
    let plan = plan(r#"contact where has lead"#);
    let (found, source) = ids(&db, &plan, Some(&cache));
    assert_eq!(found, ids(&db, &plan, None).0);
    let StoreSource::NotSaved(why) = source else {
        panic!("{source:?}")
    };
    assert!(why.contains("not-a-directory"), "{why}");
}

#[test]
fn a_database_in_wal_mode_gets_no_snapshot() {
    let (_dir, db, cache) = setup(100);
    let writer = Connection::open(&db).unwrap();
    writer.pragma_update(None, "journal_mode", "WAL").unwrap();
    writer
        .execute("UPDATE contact SET city = 'Walled' WHERE rowid = 1", [])
        .unwrap();
    let plan = plan(r#"contact where city = "Walled""#);
    let (found, source) = ids(&db, &plan, Some(&cache));
    assert_eq!(source, StoreSource::Database);
    assert_eq!(found.len(), 1);
    // Still in WAL mode with the log checkpointed and gone.
    drop(writer);
    let (again, source) = ids(&db, &plan, Some(&cache));
    assert_eq!(source, StoreSource::Database);
    assert_eq!(again, found);
    assert!(snapshots(&cache).is_empty());
    // Back in rollback-journal mode, the file alone holds the data.
    let conn = Connection::open(&db).unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(conn);
    let (again, source) = ids(&db, &plan, Some(&cache));
    assert!(matches!(source, StoreSource::Saved(_)), "{source:?}");
    assert_eq!(again, found);
}

#[test]
fn a_connection_inside_a_transaction_loads_afresh() {
    let (_dir, db, cache) = setup(100);
    let schema = crm_schema();
    let plan = plan(r#"contact where city = "Inside""#);
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch("BEGIN; UPDATE contact SET city = 'Inside' WHERE rowid = 1;")
        .unwrap();
    let (store, source) =
        Store::load_cached(&mut SqliteBackend::new(&conn), &schema, Some(&plan), &cache).unwrap();
    assert_eq!(source, StoreSource::Database);
    assert_eq!(
        segql::eval::evaluate(&plan, &store, now()).unwrap().len(),
        1
    );
    assert!(snapshots(&cache).is_empty());
}
