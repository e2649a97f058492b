//! `score` (SPEC 6) as a library call on a demo database, on SQLite and
//! PostgreSQL: `lead_score` created with the SPEC's columns and key, only
//! changed rows written (a second run writes nothing), dry runs, leads left
//! alone and counted, the sales-ready hand-off counted against the previous
//! flag, rows of dropped models kept, the lead's own fields, and the same
//! result from both databases and both engines.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use segql::db::{PostgresBackend, SqliteBackend};
use segql::demo::{copy_sqlite_to_postgres, generate_sqlite, DemoOptions};
use segql::ops::{score, ScoreEngine, ScoreOptions, ScoreReport};
use segql::schema::crm_schema;
use segql::scoring::Model;
use segql::Error;

use crate::support::pg::TestPg;

/// The demo's reference time and the scoring's.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn example_models() -> Vec<Model> {
    let text = std::fs::read_to_string(super::paused::example_models()).unwrap();
    segql::scoring::parse_and_check(&text, &crm_schema()).unwrap()
}

/// Only the `fit` model of the example file.
fn fit_only() -> Vec<Model> {
    example_models()
        .into_iter()
        .filter(|m| m.name == "fit")
        .collect()
}

enum Conn {
    Lite(rusqlite::Connection),
    Pg(postgres::Client),
}

/// A demo database (300 contacts) in SQLite or copied into PostgreSQL.
struct Db {
    conn: Conn,
    _pg: Option<TestPg>,
    _dir: tempfile::TempDir,
}

/// A `lead_score` row as text: (lead_id, model, score, grade, sales_ready,
/// scored_on).
type Row = (String, String, i64, Option<String>, bool, String);

/// The demo database on SQLite, and on PostgreSQL when a server is there.
fn databases() -> Vec<Db> {
    let mut out = vec![demo_sqlite()];
    if let Some(pg) = demo_postgres() {
        out.push(pg);
    }
    out
}

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

impl Db {
    fn name(&self) -> &'static str {
        match self.conn {
            Conn::Lite(_) => "sqlite",
            Conn::Pg(_) => "postgres",
        }
    }

    fn run(
        &mut self,
        models: &[Model],
        now: DateTime<Utc>,
        dry_run: bool,
        engine: ScoreEngine,
    ) -> Result<ScoreReport, Error> {
        let options = ScoreOptions {
            dry_run,
            now,
            engine,
        };
        let schema = crm_schema();
        match &mut self.conn {
            Conn::Lite(c) => score(&mut SqliteBackend::new(&*c), &schema, models, &options),
            Conn::Pg(c) => score(
                &mut PostgresBackend::new(&mut *c),
                &schema,
                models,
                &options,
            ),
        }
    }

    /// A real run of the example models at [`now`] by the SQL engine.
    fn score(&mut self, models: &[Model], now: DateTime<Utc>) -> ScoreReport {
        let name = self.name();
        self.run(models, now, false, ScoreEngine::Database)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn exec(&mut self, sql: &str) -> u64 {
        match &mut self.conn {
            Conn::Lite(c) => c.execute(sql, []).unwrap() as u64,
            Conn::Pg(c) => c.execute(sql, &[]).unwrap(),
        }
    }

    /// The rows of `sql`, whose columns are all text.
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

    fn one(&mut self, sql: &str) -> String {
        self.rows(sql)[0][0].clone().unwrap()
    }

    fn count(&mut self, sql: &str) -> u64 {
        self.one(&format!("SELECT CAST(count(*) AS TEXT) {sql}"))
            .parse()
            .unwrap()
    }

    fn has_lead_score(&mut self) -> bool {
        let sql = match self.conn {
            Conn::Lite(_) => {
                "SELECT CAST(count(*) AS TEXT) FROM sqlite_master WHERE name = 'lead_score'"
            }
            Conn::Pg(_) => {
                "SELECT CAST(count(*) AS TEXT) FROM pg_class WHERE relname = 'lead_score'"
            }
        };
        self.one(sql) == "1"
    }

    /// `lead_score`, sorted; empty when there is no such table.
    fn lead_score(&mut self) -> Vec<Row> {
        if !self.has_lead_score() {
            return Vec::new();
        }
        let scored_on = match self.conn {
            Conn::Lite(_) => "scored_on",
            Conn::Pg(_) => {
                "to_char(scored_on AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            }
        };
        let mut rows: Vec<Row> = self
            .rows(&format!(
                "SELECT CAST(lead_id AS TEXT), model, CAST(score AS TEXT), grade, \
                 CASE WHEN sales_ready THEN 'true' ELSE 'false' END, {scored_on} FROM lead_score"
            ))
            .into_iter()
            .map(|r| {
                (
                    r[0].clone().unwrap(),
                    r[1].clone().unwrap(),
                    r[2].clone().unwrap().parse().unwrap(),
                    r[3].clone(),
                    r[4].as_deref() == Some("true"),
                    r[5].clone().unwrap(),
                )
            })
            .collect();
        rows.sort();
        rows
    }

    /// Every lead's (score, sales_ready) by id; a missing flag is `None`.
    fn leads(&mut self) -> BTreeMap<String, (Option<i64>, Option<bool>)> {
        self.rows(
            "SELECT CAST(id AS TEXT), CAST(score AS TEXT), \
             CASE WHEN sales_ready THEN 'true' WHEN NOT sales_ready THEN 'false' END FROM lead",
        )
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                (
                    r[1].as_deref().map(|s| s.parse().unwrap()),
                    r[2].as_deref().map(|s| s == "true"),
                ),
            )
        })
        .collect()
    }

    /// The ids of the leads `where_` (on `lead AS l`) selects.
    fn lead_ids(&mut self, where_: &str) -> BTreeSet<String> {
        self.rows(&format!(
            "SELECT CAST(l.id AS TEXT) FROM lead AS l WHERE {where_}"
        ))
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
    }
}

/// SPEC 6's groups, written out in SQL independently of segql's plans.
const HAS_CONTACT: &str = "EXISTS (SELECT 1 FROM contact AS c WHERE c.id = l.contact_id)";
const OPEN: &str = "(l.status IS NULL OR l.status NOT IN (1, 2))";

fn scored_where() -> String {
    format!("{HAS_CONTACT} AND {OPEN}")
}

fn no_contact_where() -> String {
    format!("NOT {HAS_CONTACT}")
}

fn closed_where() -> String {
    format!("{HAS_CONTACT} AND NOT {OPEN}")
}

/// The report with the dry-run flag cleared, to compare a dry run with a
/// real one.
fn as_real(report: &ScoreReport) -> ScoreReport {
    ScoreReport {
        dry_run: false,
        ..report.clone()
    }
}

#[test]
fn lead_score_is_created_with_the_specs_columns_and_key() {
    for mut db in databases() {
        let name = db.name();
        assert!(!db.has_lead_score(), "{name}");
        let report = db.score(&example_models(), now());
        assert!(db.has_lead_score(), "{name}");
        let columns: Vec<String> = match db.conn {
            Conn::Lite(_) => {
                db.rows("SELECT name FROM pragma_table_info('lead_score') ORDER BY cid")
            }
            Conn::Pg(_) => db.rows(
                "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
                 WHERE table_name = 'lead_score' ORDER BY ordinal_position",
            ),
        }
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
        assert_eq!(
            columns,
            [
                "lead_id",
                "model",
                "score",
                "grade",
                "sales_ready",
                "scored_on"
            ],
            "{name}"
        );
        let key = match db.conn {
            Conn::Lite(_) => db
                .rows("SELECT name FROM pragma_table_info('lead_score') WHERE pk > 0 ORDER BY pk")
                .into_iter()
                .map(|r| r[0].clone().unwrap())
                .collect::<Vec<_>>()
                .join(", "),
            Conn::Pg(_) => db.one(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE conrelid = 'lead_score'::regclass AND contype = 'p'",
            ),
        };
        assert!(
            key == "lead_id, model" || key == "PRIMARY KEY (lead_id, model)",
            "{name}: {key}"
        );

        // One row per scored lead and model, and only for scored leads.
        let scored = db.lead_ids(&scored_where());
        assert_eq!(report.scored, scored.len() as u64, "{name}");
        let rows = db.lead_score();
        assert_eq!(rows.len(), 2 * scored.len(), "{name}");
        assert_eq!(report.rows_written, rows.len() as u64, "{name}");
        let by_lead: BTreeSet<String> = rows.iter().map(|r| r.0.clone()).collect();
        assert_eq!(by_lead, scored, "{name}");
        assert!(rows.iter().all(|r| r.5 == "2025-06-01T12:00:00Z"), "{name}");
    }
}

#[test]
fn a_second_run_at_the_same_time_writes_nothing() {
    for mut db in databases() {
        let name = db.name();
        let first = db.score(&example_models(), now());
        assert!(first.rows_written > 0 && first.leads_updated > 0, "{name}");
        let (rows, leads) = (db.lead_score(), db.leads());
        for engine in [ScoreEngine::Database, ScoreEngine::Memory] {
            if engine == ScoreEngine::Memory && name == "postgres" {
                continue;
            }
            let second = db.run(&example_models(), now(), false, engine).unwrap();
            assert_eq!(second.rows_written, 0, "{name} {engine:?}");
            assert_eq!(second.leads_updated, 0, "{name} {engine:?}");
            assert_eq!(second.newly_sales_ready, 0, "{name} {engine:?}");
            assert_eq!(second.no_longer_sales_ready, 0, "{name} {engine:?}");
            assert_eq!(second.scored, first.scored, "{name} {engine:?}");
            assert_eq!(second.models, first.models, "{name} {engine:?}");
            assert_eq!(db.lead_score(), rows, "{name} {engine:?}");
            assert_eq!(db.leads(), leads, "{name} {engine:?}");
        }
    }
}

#[test]
fn a_dry_run_reports_a_real_run_and_writes_nothing() {
    for mut db in databases() {
        let name = db.name();
        let leads = db.leads();
        let dry = db
            .run(&example_models(), now(), true, ScoreEngine::Database)
            .unwrap();
        assert!(dry.dry_run, "{name}");
        assert!(!db.has_lead_score(), "{name}: the dry run left lead_score");
        assert_eq!(db.leads(), leads, "{name}");
        let real = db.score(&example_models(), now());
        assert_eq!(as_real(&dry), real, "{name}");

        // Over existing scores too: a later time changes some rows.
        let later = now() + Duration::days(45);
        let (rows, leads) = (db.lead_score(), db.leads());
        let dry = db
            .run(&example_models(), later, true, ScoreEngine::Database)
            .unwrap();
        assert!(dry.rows_written > 0, "{name}: {dry:?}");
        assert_eq!(db.lead_score(), rows, "{name}");
        assert_eq!(db.leads(), leads, "{name}");
        assert_eq!(as_real(&dry), db.score(&example_models(), later), "{name}");
    }
}

#[test]
fn leads_without_contact_and_closed_leads_are_untouched_and_counted() {
    for mut db in databases() {
        let name = db.name();
        db.score(&example_models(), now());
        let orphan = db.lead_ids(&no_contact_where()).into_iter().next().unwrap();
        let closed = db.lead_ids(&closed_where()).into_iter().next().unwrap();
        for id in [&orphan, &closed] {
            db.exec(&format!(
                "INSERT INTO lead_score (lead_id, model, score, grade, sales_ready, scored_on) \
                 VALUES ('{id}', 'engagement', 77, 'X', TRUE, '2020-01-01T00:00:00Z')"
            ));
        }
        let hand_made: Vec<Row> = db
            .lead_score()
            .into_iter()
            .filter(|r| r.0 == orphan || r.0 == closed)
            .collect();
        assert_eq!(hand_made.len(), 2, "{name}");
        let leads = db.leads();

        let report = db.score(&example_models(), now() + Duration::days(45));
        assert!(report.rows_written > 0, "{name}");
        let after: Vec<Row> = db
            .lead_score()
            .into_iter()
            .filter(|r| r.0 == orphan || r.0 == closed)
            .collect();
        assert_eq!(after, hand_made, "{name}: hand-made rows changed");
        let after_leads = db.leads();
        for id in [&orphan, &closed] {
            assert_eq!(after_leads[id], leads[id], "{name}: lead {id}");
        }
        // No unscored lead changed at all.
        let unscored = db.lead_ids(&format!("NOT ({})", scored_where()));
        for id in &unscored {
            assert_eq!(after_leads[id], leads[id], "{name}: lead {id}");
        }
        assert_eq!(
            report.skipped_no_contact,
            db.lead_ids(&no_contact_where()).len() as u64,
            "{name}"
        );
        assert_eq!(
            report.skipped_closed,
            db.lead_ids(&closed_where()).len() as u64,
            "{name}"
        );
        assert!(
            report.skipped_no_contact > 0 && report.skipped_closed > 0,
            "{name}"
        );
        assert_eq!(
            report.scored + report.skipped_no_contact + report.skipped_closed,
            db.count("FROM lead"),
            "{name}: every lead counted once"
        );
    }
}

/// A lead of the demo with an engagement score in 1..=90 whose contact
/// clicked no email in the last 180 days: one more click adds exactly 10.
fn lead_to_click(db: &mut Db) -> (String, String) {
    let rows = db.rows(&format!(
        "SELECT CAST(l.id AS TEXT), CAST(l.contact_id AS TEXT) FROM lead AS l \
         JOIN lead_score AS s ON s.lead_id = l.id AND s.model = 'engagement' \
         WHERE {} AND s.score BETWEEN 1 AND 90 AND NOT EXISTS (SELECT 1 FROM interaction AS i \
         WHERE i.contact_id = l.contact_id AND i.type = 4) ORDER BY 1",
        scored_where()
    ));
    let row = rows.first().expect("a lead to click");
    (row[0].clone().unwrap(), row[1].clone().unwrap())
}

#[test]
fn a_changed_datum_changes_exactly_the_affected_rows() {
    for mut db in databases() {
        let name = db.name();
        db.score(&example_models(), now());
        // Mark every row, to see which ones the next run writes.
        let marker = "2000-01-01T00:00:00Z";
        db.exec(&format!("UPDATE lead_score SET scored_on = '{marker}'"));
        let before = db.lead_score();
        let (lead, contact) = lead_to_click(&mut db);
        // Every scored lead of that contact is affected, in `engagement` only.
        let affected = db.lead_ids(&format!(
            "{} AND CAST(l.contact_id AS TEXT) = '{contact}'",
            scored_where()
        ));
        assert!(affected.contains(&lead), "{name}");
        db.exec(&format!(
            "INSERT INTO interaction (id, contact_id, type, occurred_on) VALUES \
             ('00000000-0000-4000-8000-00000000c11c', '{contact}', 4, '2025-05-31T12:00:00Z')"
        ));
        let leads = db.leads();

        let report = db.score(&example_models(), now());
        let after = db.lead_score();
        let changed: Vec<&Row> = after.iter().filter(|r| r.5 != marker).collect();
        assert_eq!(report.rows_written, changed.len() as u64, "{name}");
        let changed_ids: BTreeSet<String> = changed.iter().map(|r| r.0.clone()).collect();
        assert!(changed_ids.contains(&lead), "{name}");
        assert!(changed_ids.is_subset(&affected), "{name}: {changed_ids:?}");
        for row in &changed {
            assert_eq!(row.1, "engagement", "{name}: {row:?}");
            assert_eq!(row.5, "2025-06-01T12:00:00Z", "{name}");
            let old = before
                .iter()
                .find(|r| r.0 == row.0 && r.1 == row.1)
                .unwrap();
            assert_ne!((row.2, &row.3, row.4), (old.2, &old.3, old.4), "{name}");
            if row.0 == lead {
                assert_eq!(row.2, old.2 + 10, "{name}: one click, 10 points: {row:?}");
            }
        }
        // Unchanged rows are exactly as they were, marker included.
        let unchanged: Vec<&Row> = after.iter().filter(|r| r.5 == marker).collect();
        assert_eq!(unchanged.len() + changed.len(), before.len(), "{name}");
        for row in unchanged {
            assert!(before.contains(row), "{name}: {row:?}");
        }
        // The leads' own fields changed only for the affected leads.
        let after_leads = db.leads();
        let moved: BTreeSet<String> = after_leads
            .iter()
            .filter(|(id, v)| leads[*id] != **v)
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(report.leads_updated, moved.len() as u64, "{name}");
        assert!(moved.is_subset(&affected), "{name}");

        // Moving `now` so the 180-day window no longer holds the click
        // (and other windows move too) changes rows again; the same rows a
        // fresh table would get.
        let later = now() + Duration::days(200);
        db.exec(&format!("UPDATE lead_score SET scored_on = '{marker}'"));
        let before = db.lead_score();
        let report = db.score(&example_models(), later);
        let moved_on = db.lead_score();
        let value = |r: &Row| (r.2, r.3.clone(), r.4);
        let mut differ = 0;
        for (old, new) in before.iter().zip(&moved_on) {
            assert_eq!((&old.0, &old.1), (&new.0, &new.1), "{name}");
            // Written exactly when a value differs, and only then re-dated.
            let changed = value(old) != value(new);
            differ += usize::from(changed);
            let expected = if changed {
                "2025-12-18T12:00:00Z"
            } else {
                marker
            };
            assert_eq!(new.5, expected, "{name}: {new:?}");
        }
        assert!(differ > 0, "{name}");
        assert_eq!(report.rows_written, differ as u64, "{name}");
        // The click has left the 180-day window: the lead loses its 10 points.
        let clicked = |rows: &[Row]| {
            rows.iter()
                .find(|r| r.0 == lead && r.1 == "engagement")
                .map(|r| r.2)
                .unwrap()
        };
        assert!(clicked(&moved_on) < clicked(&before), "{name}");
        db.exec("DELETE FROM lead_score");
        db.score(&example_models(), later);
        let strip = |rows: &[Row]| -> Vec<(String, String, i64, Option<String>, bool)> {
            rows.iter()
                .map(|r| (r.0.clone(), r.1.clone(), r.2, r.3.clone(), r.4))
                .collect()
        };
        assert_eq!(strip(&moved_on), strip(&db.lead_score()), "{name}");
    }
}

#[test]
fn newly_and_no_longer_sales_ready_count_against_the_previous_flag() {
    for mut db in databases() {
        let name = db.name();
        let scored = db.lead_ids(&scored_where());
        let before = db.leads();
        // The demo has leads with a missing flag: they count as not ready.
        assert!(scored.iter().any(|id| before[id].1.is_none()), "{name}");
        let report = db.score(&example_models(), now());
        let after = db.leads();
        let was = |id: &String| before[id].1 == Some(true);
        let is = |id: &String| after[id].1 == Some(true);
        let newly = scored.iter().filter(|id| is(id) && !was(id)).count() as u64;
        let no_longer = scored.iter().filter(|id| !is(id) && was(id)).count() as u64;
        assert!(newly > 0 && no_longer > 0, "{name}: {report:?}");
        assert_eq!(report.newly_sales_ready, newly, "{name}");
        assert_eq!(report.no_longer_sales_ready, no_longer, "{name}");
        let null_then_ready = scored
            .iter()
            .filter(|id| before[*id].1.is_none() && is(id))
            .count();
        assert!(null_then_ready > 0, "{name}: a missing flag becoming ready");

        // A lead set back by hand is newly sales-ready again next time.
        let ready: Vec<&String> = scored.iter().filter(|id| is(id)).take(3).collect();
        for (i, id) in ready.iter().enumerate() {
            let value = if i == 0 { "NULL" } else { "FALSE" };
            db.exec(&format!(
                "UPDATE lead SET sales_ready = {value} WHERE CAST(id AS TEXT) = '{id}'"
            ));
        }
        let again = db.score(&example_models(), now());
        assert_eq!(again.newly_sales_ready, ready.len() as u64, "{name}");
        assert_eq!(again.no_longer_sales_ready, 0, "{name}");
        assert_eq!(again.leads_updated, ready.len() as u64, "{name}");
        assert_eq!(again.rows_written, 0, "{name}");
    }
}

#[test]
fn rows_of_a_model_no_longer_in_the_file_are_left() {
    for mut db in databases() {
        let name = db.name();
        db.score(&example_models(), now());
        let engagement: Vec<Row> = db
            .lead_score()
            .into_iter()
            .filter(|r| r.1 == "engagement")
            .collect();
        assert!(!engagement.is_empty(), "{name}");
        let report = db.score(&fit_only(), now() + Duration::days(45));
        assert_eq!(report.models.len(), 1, "{name}");
        let left: Vec<Row> = db
            .lead_score()
            .into_iter()
            .filter(|r| r.1 == "engagement")
            .collect();
        assert_eq!(left, engagement, "{name}");
        // The lead's own score now follows the models of the file only.
        let fit: BTreeMap<String, (i64, bool)> = db
            .lead_score()
            .into_iter()
            .filter(|r| r.1 == "fit")
            .map(|r| (r.0, (r.2, r.4)))
            .collect();
        let leads = db.leads();
        for (id, (score, ready)) in &fit {
            assert_eq!(leads[id], (Some(*score), Some(*ready)), "{name}: {id}");
        }
    }
}

#[test]
fn the_leads_score_is_the_highest_model_score_and_ready_when_any_model_says_so() {
    for mut db in databases() {
        let name = db.name();
        db.score(&example_models(), now());
        let mut best: BTreeMap<String, (i64, bool)> = BTreeMap::new();
        let mut models_per_lead: BTreeMap<String, usize> = BTreeMap::new();
        for row in db.lead_score() {
            let entry = best.entry(row.0.clone()).or_insert((i64::MIN, false));
            entry.0 = entry.0.max(row.2);
            entry.1 |= row.4;
            *models_per_lead.entry(row.0).or_default() += 1;
        }
        assert!(models_per_lead.values().all(|&n| n == 2), "{name}");
        // Both models matter somewhere: neither is always the highest.
        let rows = db.lead_score();
        let score_of = |id: &str, model: &str| {
            rows.iter()
                .find(|r| r.0 == id && r.1 == model)
                .map(|r| r.2)
                .unwrap()
        };
        assert!(best
            .keys()
            .any(|id| score_of(id, "fit") > score_of(id, "engagement")));
        assert!(best
            .keys()
            .any(|id| score_of(id, "fit") < score_of(id, "engagement")));
        let leads = db.leads();
        for (id, (score, ready)) in &best {
            assert_eq!(leads[id], (Some(*score), Some(*ready)), "{name}: {id}");
        }
    }
}

#[test]
fn sqlite_and_postgres_give_the_same_rows_and_reports() {
    let Some(mut pg) = demo_postgres() else {
        return;
    };
    let mut lite = demo_sqlite();
    for now in [now(), now() + Duration::days(45)] {
        let a = lite.score(&example_models(), now);
        let b = pg.score(&example_models(), now);
        assert_eq!(a, b, "reports at {now}");
        assert_eq!(lite.lead_score(), pg.lead_score(), "lead_score at {now}");
        assert_eq!(lite.leads(), pg.leads(), "leads at {now}");
    }
}

#[test]
fn the_memory_engine_gives_the_sql_engines_result() {
    for now in [now(), now() + Duration::days(45)] {
        let mut by_sql = demo_sqlite();
        let mut by_memory = demo_sqlite();
        let dry = by_memory
            .run(&example_models(), now, true, ScoreEngine::Memory)
            .unwrap();
        let a = by_sql.score(&example_models(), now);
        let b = by_memory
            .run(&example_models(), now, false, ScoreEngine::Memory)
            .unwrap();
        assert_eq!(a, b, "reports at {now}");
        assert_eq!(as_real(&dry), b, "dry run at {now}");
        assert_eq!(by_sql.lead_score(), by_memory.lead_score(), "at {now}");
        assert_eq!(by_sql.leads(), by_memory.leads(), "at {now}");
    }

    // PostgreSQL: the memory engine reads SQLite only, and says so; nothing
    // is written.
    let Some(mut pg) = demo_postgres() else {
        return;
    };
    let leads = pg.leads();
    let err = pg
        .run(&example_models(), now(), false, ScoreEngine::Memory)
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("memory engine"), "{message}");
    assert!(message.contains("--engine sqlite"), "{message}");
    assert!(!pg.has_lead_score(), "{message}");
    assert_eq!(pg.leads(), leads);
}
