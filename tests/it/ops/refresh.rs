//! `refresh` (SPEC 8) as a library call on a demo database, on SQLite and
//! PostgreSQL and with the memory engine: the first refresh records every
//! member as joined; changed data records exactly who joined and who left,
//! `seq` increasing; a second refresh writes nothing; dry runs, a named
//! subset, segments no longer in the library, unknown and broken segments
//! (nothing written), guards; the same tables from every engine and both
//! databases. Expected members come from `segql::run` of `in NAME`.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::demo::{copy_sqlite_to_postgres, generate_sqlite, DemoOptions};
use segql::ops::{RefreshEngine, RefreshOptions, RefreshReport};
use segql::schema::crm_schema;
use segql::syntax::ast::Library;
use segql::{Engine, Error, Found, RunOptions};

use crate::support::pg::TestPg;

/// The demo's reference time and the first refresh's.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

/// Segments on contacts and leads, one with a sliding time window (its
/// members change with the reference time alone) and one using another.
const LIBRARY: &str = r#"
segment decision_makers = contact where role = "Decision Maker" and not do_not_email
segment recently_engaged = contact
  where has interaction(type = "Email Opened" and occurred_on >= now - 30d)
segment engaged_deciders = contact where in decision_makers and in recently_engaged
segment open_leads = lead where status = "Open" and created_on >= now - 120d
segment nobody = contact where false
"#;

fn library(text: &str) -> Library {
    segql::syntax::parse_library(text).unwrap()
}

enum Conn {
    Lite(rusqlite::Connection),
    Pg(postgres::Client),
}

struct Db {
    conn: Conn,
    _pg: Option<TestPg>,
    _dir: tempfile::TempDir,
}

/// A `segment_change` row: (seq, segment, record_id, change, at).
type Change = (i64, String, String, String, String);
/// A `segment_member` row: (segment, record_id, since).
type Member = (String, String, String);

fn demo_sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    generate_sqlite(&path, &DemoOptions::new(300, 7, now())).unwrap();
    Db {
        conn: Conn::Lite(rusqlite::Connection::open(&path).unwrap()),
        _pg: None,
        _dir: dir,
    }
}

fn demo_postgres() -> Option<Db> {
    let pg = TestPg::start()?;
    let lite = demo_sqlite();
    let Conn::Lite(sqlite) = &lite.conn else {
        unreachable!()
    };
    let mut client = pg.client();
    copy_sqlite_to_postgres(sqlite, &mut client, &crm_schema()).unwrap();
    Some(Db {
        conn: Conn::Pg(client),
        _pg: Some(pg),
        _dir: tempfile::tempdir().unwrap(),
    })
}

/// The demo database on SQLite, and on PostgreSQL when a server is there.
fn databases() -> Vec<Db> {
    let mut out = vec![demo_sqlite()];
    out.extend(demo_postgres());
    out
}

fn options(now: DateTime<Utc>) -> RefreshOptions {
    RefreshOptions {
        dry_run: false,
        now,
        engine: RefreshEngine::Database,
        guards: Vec::new(),
    }
}

impl Db {
    fn name(&self) -> &'static str {
        match self.conn {
            Conn::Lite(_) => "sqlite",
            Conn::Pg(_) => "postgres",
        }
    }

    fn with_backend<T>(&mut self, work: impl FnOnce(&mut dyn Backend) -> T) -> T {
        match &mut self.conn {
            Conn::Lite(c) => work(&mut SqliteBackend::new(&*c)),
            Conn::Pg(c) => work(&mut PostgresBackend::new(&mut *c)),
        }
    }

    fn try_refresh(
        &mut self,
        lib: &Library,
        names: &[&str],
        options: &RefreshOptions,
    ) -> Result<RefreshReport, Error> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let schema = crm_schema();
        self.with_backend(|db| segql::refresh(db, &schema, lib, &names, options))
    }

    fn refresh(
        &mut self,
        lib: &Library,
        names: &[&str],
        options: &RefreshOptions,
    ) -> RefreshReport {
        let name = self.name();
        self.try_refresh(lib, names, options)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// The ids of `in NAME` (with `guards`), by `segql::run` on the database.
    fn expected(
        &mut self,
        lib: &Library,
        segment: &str,
        guards: &[String],
        now: DateTime<Utc>,
    ) -> BTreeSet<String> {
        let schema = crm_schema();
        let def = lib
            .segments
            .iter()
            .find(|d| d.name.name == segment)
            .unwrap();
        let text = format!("{} where in {segment}", def.query.entity.name);
        let plan = segql::plan(
            &text,
            &segql::Options {
                schema: &schema,
                library: Some(lib),
                guards,
                optimize: true,
            },
        )
        .unwrap();
        let run = RunOptions {
            schema: &schema,
            now,
            count: false,
        };
        let outcome = self
            .with_backend(|db| segql::run(&plan, Engine::Database(db), &run))
            .unwrap();
        let Found::Ids(ids) = outcome.found else {
            panic!("no ids")
        };
        ids.iter().map(|id| id.hyphenated().to_string()).collect()
    }

    fn exec(&mut self, sql: &str) -> u64 {
        match &mut self.conn {
            Conn::Lite(c) => c.execute(sql, []).unwrap() as u64,
            Conn::Pg(c) => c.execute(sql, &[]).unwrap(),
        }
    }

    fn rows(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
        match &mut self.conn {
            Conn::Lite(c) => {
                let mut stmt = c.prepare(sql).unwrap();
                let width = stmt.column_count();
                stmt.query_map([], |r| (0..width).map(|i| r.get(i)).collect())
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap()
            }
            Conn::Pg(c) => c
                .query(sql, &[])
                .unwrap()
                .iter()
                .map(|r| (0..r.len()).map(|i| r.get(i)).collect())
                .collect(),
        }
    }

    fn has_table(&mut self, table: &str) -> bool {
        let sql = match self.conn {
            Conn::Lite(_) => format!(
                "SELECT CAST(count(*) AS TEXT) FROM sqlite_master WHERE name = '{table}'"
            ),
            Conn::Pg(_) => format!(
                "SELECT CAST(count(*) AS TEXT) FROM pg_class WHERE relname = '{table}' AND relkind = 'r'"
            ),
        };
        self.rows(&sql)[0][0].as_deref() == Some("1")
    }

    fn time(&self, column: &str) -> String {
        match self.conn {
            Conn::Lite(_) => column.to_string(),
            Conn::Pg(_) => {
                format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
            }
        }
    }

    /// `segment_change` in `seq` order; empty when there is no such table.
    fn changes(&mut self) -> Vec<Change> {
        if !self.has_table("segment_change") {
            return Vec::new();
        }
        let at = self.time("at");
        self.rows(&format!(
            "SELECT CAST(seq AS TEXT), segment, CAST(record_id AS TEXT), change, {at} \
             FROM segment_change ORDER BY segment_change.seq"
        ))
        .into_iter()
        .map(|r| {
            let text = |i: usize| r[i].clone().unwrap();
            (text(0).parse().unwrap(), text(1), text(2), text(3), text(4))
        })
        .collect()
    }

    /// `segment_member`, sorted; empty when there is no such table.
    fn members(&mut self) -> Vec<Member> {
        if !self.has_table("segment_member") {
            return Vec::new();
        }
        let since = self.time("since");
        self.rows(&format!(
            "SELECT segment, CAST(record_id AS TEXT), {since} FROM segment_member \
             ORDER BY segment, CAST(record_id AS TEXT)"
        ))
        .into_iter()
        .map(|r| {
            let text = |i: usize| r[i].clone().unwrap();
            (text(0), text(1), text(2))
        })
        .collect()
    }

    fn member_ids(&mut self, segment: &str) -> BTreeSet<String> {
        self.members()
            .into_iter()
            .filter(|m| m.0 == segment)
            .map(|m| m.1)
            .collect()
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn names(lib: &Library) -> Vec<String> {
    lib.segments
        .iter()
        .map(|d| d.name.name.to_string())
        .collect()
}

fn assert_increasing(changes: &[Change], what: &str) {
    for pair in changes.windows(2) {
        assert!(
            pair[0].0 < pair[1].0,
            "{what}: seq not increasing: {pair:?}"
        );
    }
}

#[test]
fn the_first_refresh_records_every_member_as_joined() {
    let lib = library(LIBRARY);
    for mut db in databases() {
        let name = db.name();
        let report = db.refresh(&lib, &[], &options(now()));
        assert_eq!(report.segments.len(), 5, "{name}");
        let changes = db.changes();
        assert_increasing(&changes, name);
        let mut total = 0;
        for segment in names(&lib) {
            let expected = db.expected(&lib, &segment, &[], now());
            let row = report
                .segments
                .iter()
                .find(|s| s.segment == segment)
                .unwrap();
            assert_eq!(row.members, expected.len() as u64, "{name} {segment}");
            assert_eq!(row.joined, expected.len() as u64, "{name} {segment}");
            assert_eq!(row.left, 0, "{name} {segment}");
            assert_eq!(db.member_ids(&segment), expected, "{name} {segment}");
            let joined: BTreeSet<String> = changes
                .iter()
                .filter(|c| c.1 == segment)
                .map(|c| {
                    assert_eq!(
                        (c.3.as_str(), c.4.as_str()),
                        ("joined", stamp(now()).as_str())
                    );
                    c.2.clone()
                })
                .collect();
            assert_eq!(joined, expected, "{name} {segment}");
            total += expected.len();
        }
        assert!(total > 50, "{name}: the demo data should fill the segments");
        assert_eq!(changes.len(), total, "{name}");
        assert_eq!(report.total.joined, total as u64);
        assert!(db.members().iter().all(|m| m.2 == stamp(now())));
        assert!(db.member_ids("nobody").is_empty());
    }
}

#[test]
fn changed_data_records_exactly_who_joined_and_who_left() {
    let lib = library(LIBRARY);
    for mut db in databases() {
        let name = db.name();
        db.refresh(&lib, &[], &options(now()));
        let first = db.changes();
        let before: Vec<BTreeSet<String>> = names(&lib)
            .iter()
            .map(|s| db.expected(&lib, s, &[], now()))
            .collect();
        // Some decision makers stop being emailable, some employees become
        // decision makers; and the next refresh is ten days later, so the
        // time windows move.
        let stopped = db.exec(
            "UPDATE contact SET do_not_email = TRUE WHERE id IN \
             (SELECT id FROM contact WHERE role = 1 AND NOT do_not_email ORDER BY id LIMIT 5)",
        );
        let promoted = db.exec(
            "UPDATE contact SET role = 1 WHERE id IN \
             (SELECT id FROM contact WHERE role <> 1 AND NOT do_not_email ORDER BY id LIMIT 4)",
        );
        assert_eq!((stopped, promoted), (5, 4), "{name}");
        let later = now() + Duration::days(10);
        let report = db.refresh(&lib, &[], &options(later));
        let all = db.changes();
        assert_eq!(&all[..first.len()], &first[..], "{name}: old changes kept");
        let new = &all[first.len()..];
        assert_increasing(&all, name);
        let mut moved = 0;
        for (i, segment) in names(&lib).iter().enumerate() {
            let after = db.expected(&lib, segment, &[], later);
            let joined: BTreeSet<String> = after.difference(&before[i]).cloned().collect();
            let left: BTreeSet<String> = before[i].difference(&after).cloned().collect();
            let pick = |change: &str| -> BTreeSet<String> {
                new.iter()
                    .filter(|c| &c.1 == segment && c.3 == change)
                    .map(|c| c.2.clone())
                    .collect()
            };
            assert_eq!(pick("joined"), joined, "{name} {segment} joined");
            assert_eq!(pick("left"), left, "{name} {segment} left");
            let row = report
                .segments
                .iter()
                .find(|s| &s.segment == segment)
                .unwrap();
            assert_eq!(
                (row.members, row.joined, row.left),
                (after.len() as u64, joined.len() as u64, left.len() as u64),
                "{name} {segment}"
            );
            assert_eq!(db.member_ids(segment), after, "{name} {segment}");
            // Members who stayed keep the time they joined at.
            for member in db.members().iter().filter(|m| &m.0 == segment) {
                let since = if joined.contains(&member.1) {
                    later
                } else {
                    now()
                };
                assert_eq!(member.2, stamp(since), "{name} {segment} {}", member.1);
            }
            moved += joined.len() + left.len();
        }
        assert!(new.iter().all(|c| c.4 == stamp(later)), "{name}");
        assert_eq!(new.len(), moved, "{name}");
        assert!(
            report.total.joined > 0 && report.total.left > 0,
            "{name}: {report:?}"
        );
    }
}

#[test]
fn a_second_refresh_with_the_same_data_and_time_changes_nothing() {
    let lib = library(LIBRARY);
    for mut db in databases() {
        let name = db.name();
        let first = db.refresh(&lib, &[], &options(now()));
        let (changes, members) = (db.changes(), db.members());
        let second = db.refresh(&lib, &[], &options(now()));
        assert!(second.unchanged(), "{name}: {second:?}");
        for (a, b) in first.segments.iter().zip(&second.segments) {
            assert_eq!((a.members, b.joined, b.left), (b.members, 0, 0), "{name}");
        }
        assert_eq!(db.changes(), changes, "{name}");
        assert_eq!(db.members(), members, "{name}");
    }
}

#[test]
fn a_dry_run_reports_the_same_and_writes_nothing() {
    let lib = library(LIBRARY);
    for mut db in databases() {
        let name = db.name();
        let mut dry = options(now());
        dry.dry_run = true;
        let report = db.refresh(&lib, &[], &dry);
        assert!(report.dry_run);
        assert!(!db.has_table("segment_member"), "{name}");
        assert!(!db.has_table("segment_change"), "{name}");
        let real = db.refresh(&lib, &[], &options(now()));
        assert_eq!(report.segments, real.segments, "{name}");
        let (changes, members) = (db.changes(), db.members());
        let later = now() + Duration::days(10);
        let mut dry = options(later);
        dry.dry_run = true;
        let would = db.refresh(&lib, &[], &dry);
        assert!(!would.unchanged(), "{name}: the window moved: {would:?}");
        assert_eq!(db.changes(), changes, "{name}");
        assert_eq!(db.members(), members, "{name}");
    }
}

#[test]
fn named_segments_alone_are_refreshed_and_others_left_as_they_are() {
    let lib = library(LIBRARY);
    for mut db in databases() {
        let name = db.name();
        let report = db.refresh(&lib, &["RECENTLY_ENGAGED", "open_leads"], &options(now()));
        let refreshed: Vec<&str> = report.segments.iter().map(|s| s.segment.as_str()).collect();
        assert_eq!(refreshed, ["recently_engaged", "open_leads"], "{name}");
        let segments: BTreeSet<String> = db.members().into_iter().map(|m| m.0).collect();
        assert_eq!(
            segments,
            BTreeSet::from(["recently_engaged".to_string(), "open_leads".to_string()]),
            "{name}"
        );
        assert_eq!(report.segments[1].entity, "lead");
        // A library without `recently_engaged`: its rows stay as they are,
        // even though its time window has moved.
        let (changes, engaged) = (db.changes(), db.member_ids("recently_engaged"));
        let smaller = library(
            r#"segment open_leads = lead where status = "Open" and created_on >= now - 120d"#,
        );
        let later = now() + Duration::days(10);
        db.refresh(&smaller, &[], &options(later));
        assert_eq!(db.member_ids("recently_engaged"), engaged, "{name}");
        assert!(db.changes()[changes.len()..]
            .iter()
            .all(|c| c.1 == "open_leads"));
    }
}

#[test]
fn an_unknown_name_fails_and_writes_nothing() {
    let lib = library(LIBRARY);
    for mut db in databases() {
        let name = db.name();
        let err = db
            .try_refresh(
                &lib,
                &["decision_makers", "decison_makers"],
                &options(now()),
            )
            .unwrap_err();
        match &err {
            Error::UnknownSegment {
                name: unknown,
                suggestion,
                ..
            } => {
                assert_eq!(unknown, "decison_makers");
                assert_eq!(suggestion.as_deref(), Some("decision_makers"));
            }
            other => panic!("{name}: {other:?}"),
        }
        assert!(!db.has_table("segment_member"), "{name}");
        assert!(!db.has_table("segment_change"), "{name}");
    }
}

#[test]
fn a_segment_that_does_not_check_fails_the_whole_refresh() {
    let broken = library(&format!(
        "{LIBRARY}\nsegment broken = contact where shoe_size > 42\n"
    ));
    for mut db in databases() {
        let name = db.name();
        db.refresh(&library(LIBRARY), &[], &options(now()));
        let (changes, members) = (db.changes(), db.members());
        let later = now() + Duration::days(10);
        let err = db.try_refresh(&broken, &[], &options(later)).unwrap_err();
        assert!(
            matches!(&err, Error::BrokenSegment { name, .. } if name == "broken"),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains("'broken'"), "{err}");
        assert_eq!(db.changes(), changes, "{name}");
        assert_eq!(db.members(), members, "{name}");
        // All the errors, for the command line: the segment, then why.
        let all = segql::ops::segment_plans(&crm_schema(), &broken, &[], &[]).unwrap_err();
        assert!(
            matches!(&all[0], Error::BrokenSegment { name, errors: 1, .. } if name == "broken")
        );
        assert!(matches!(&all[1], Error::UnknownField { .. }), "{all:?}");
        // Segments named without the broken one refresh.
        assert!(db
            .try_refresh(&broken, &["decision_makers"], &options(later))
            .is_ok());
    }
}

#[test]
fn a_guard_applies_to_every_segment() {
    let lib = library(LIBRARY);
    let contacts = ["decision_makers", "recently_engaged", "engaged_deciders"];
    for mut db in databases() {
        let name = db.name();
        let guards = vec!["email".to_string()];
        let mut guarded = options(now());
        guarded.guards = guards.clone();
        let report = db.refresh(&lib, &contacts, &guarded);
        let mut narrower = false;
        for segment in contacts {
            let expected = db.expected(&lib, segment, &guards, now());
            narrower |= expected != db.expected(&lib, segment, &[], now());
            assert_eq!(db.member_ids(segment), expected, "{name} {segment}");
            let row = report
                .segments
                .iter()
                .find(|s| s.segment == segment)
                .unwrap();
            assert_eq!(row.members, expected.len() as u64);
        }
        assert!(narrower, "{name}: the guard should remove someone");
        // A guard the lead segment's entity lacks is an error.
        let err = db.try_refresh(&lib, &[], &guarded).unwrap_err();
        assert!(
            matches!(&err, Error::UnknownGuard { entity, .. } if entity == "lead"),
            "{name}: {err:?}"
        );
    }
}

/// Refreshes at three times, with a data change in between, by `engine`;
/// the tables afterwards.
fn history(db: &mut Db, engine: RefreshEngine) -> (Vec<Change>, Vec<Member>, Vec<RefreshReport>) {
    let lib = library(LIBRARY);
    let mut reports = Vec::new();
    for (day, change) in [
        (0, None),
        (
            10,
            Some("UPDATE contact SET do_not_email = NOT do_not_email WHERE id IN (SELECT id FROM contact ORDER BY id LIMIT 40)"),
        ),
        (25, None),
    ] {
        if let Some(sql) = change {
            db.exec(sql);
        }
        let mut options = options(now() + Duration::days(day));
        options.engine = engine;
        reports.push(db.refresh(&lib, &[], &options));
    }
    (db.changes(), db.members(), reports)
}

#[test]
fn the_memory_engine_writes_the_same_tables_as_sql() {
    let by_sql = history(&mut demo_sqlite(), RefreshEngine::Database);
    let by_memory = history(&mut demo_sqlite(), RefreshEngine::Memory);
    assert!(by_sql.0.iter().any(|c| c.3 == "left"));
    assert_eq!(by_memory, by_sql);
}

#[test]
fn postgres_writes_the_same_tables_as_sqlite() {
    let Some(mut pg) = demo_postgres() else {
        return;
    };
    let by_pg = history(&mut pg, RefreshEngine::Database);
    let by_sqlite = history(&mut demo_sqlite(), RefreshEngine::Database);
    assert_eq!(by_pg, by_sqlite);
    // The memory engine reads SQLite only: a clear error, nothing written.
    let lib = library(LIBRARY);
    let mut memory = options(now() + Duration::days(40));
    memory.engine = RefreshEngine::Memory;
    let err = pg.try_refresh(&lib, &[], &memory).unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert_eq!(pg.changes(), by_pg.0);
}

#[test]
fn record_id_has_the_key_type_of_the_entity() {
    for mut db in databases() {
        let name = db.name();
        db.refresh(&library(LIBRARY), &["nobody"], &options(now()));
        let ty = match db.conn {
            Conn::Lite(_) => db.rows(
                "SELECT type FROM pragma_table_info('segment_member') WHERE name = 'record_id'",
            ),
            Conn::Pg(_) => db.rows(
                "SELECT CAST(data_type AS TEXT) FROM information_schema.columns \
                 WHERE table_name = 'segment_change' AND column_name = 'record_id'",
            ),
        };
        let expected = if name == "sqlite" { "TEXT" } else { "uuid" };
        assert_eq!(ty[0][0].as_deref(), Some(expected), "{name}");
    }
}
