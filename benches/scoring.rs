//! Lead scoring of `examples/scoring.segql` (two models) on a demo database:
//! segql against a hand-written SQL scoring script of the same models, and
//! the memory engine's computation alone.
//!
//! `cargo bench --bench scoring` (`SEGQL_BENCH_CONTACTS`, default 1,000,000;
//! `SEGQL_BENCH_RUNS`, default 5) prints medians of wall-clock times:
//!
//! - `memory compute`: the scores of both models from a loaded store
//!   (`eval::per_record` + `scoring::scores_from_values`), load excluded;
//! - `segql score (sqlite)`: the whole `ops::score` with the SQL engine, as
//!   a dry run (every statement runs, the transaction is rolled back, so
//!   each run starts from the same data);
//! - `hand-written script`: the same work as a DBA would write it — one
//!   pass over the interactions with a conditional count per rule, the
//!   leads joined once, the same upsert and update — also rolled back.
//!
//! - on PostgreSQL (a server of the test harness, the data copied over):
//!   `segql score (postgres)` and the hand-written script in PostgreSQL's
//!   spelling, both as dry runs.
//!
//! The database is the eval bench's `target/bench/demo-N.db` (seed 1,
//! reference time 2025-01-01), generated when missing. Under `cargo test`
//! it scores 200 contacts for real, both ways, and checks that the
//! hand-written script and segql (both engines) write the same rows, and
//! the same on PostgreSQL.

mod common;
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use segql::db::SqliteBackend;
use segql::ops::{score, ScoreEngine, ScoreOptions};
use segql::schema::crm_schema;
use segql::scoring::{rule_values, scores_from_values, LeadGroups, Model};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

/// The hand-written scoring of `examples/scoring.segql`: the scores into a
/// temporary table, then the writes `segql score` does. `?1`..`?4` are the
/// window starts (now - 180d, 90d, 365d) and the reference time.
const HAND_WRITTEN: &str = r#"
CREATE TEMP TABLE hw_scores AS
WITH activity AS (
  SELECT contact_id,
         SUM(type = 4 AND occurred_on >= ?1) AS clicks,
         SUM(type = 3 AND occurred_on >= ?2) AS opens,
         SUM(type IN (7, 8)) AS events,
         SUM(type = 6 AND occurred_on >= ?2) AS forms
  FROM interaction
  WHERE type IN (3, 4, 6, 7, 8) AND occurred_on >= ?3
  GROUP BY contact_id
), scored AS (
  SELECT l.id, l.source, l.estimated_value, c.role, c.do_not_email, c.is_child, a.industry,
         COALESCE(x.clicks, 0) AS clicks, COALESCE(x.opens, 0) AS opens,
         COALESCE(x.events, 0) AS events, COALESCE(x.forms, 0) AS forms
  FROM lead AS l
  JOIN contact AS c ON c.id = l.contact_id
  LEFT JOIN account AS a ON a.id = c.account_id
  LEFT JOIN activity AS x ON x.contact_id = c.id
  WHERE l.status IS NULL OR l.status NOT IN (1, 2)
), engagement AS (
  SELECT id, MIN(MAX(
           CASE WHEN source IN (6, 7) THEN 20 ELSE 0 END
         + CASE WHEN role = 1 THEN 10 ELSE 0 END
         + MIN(clicks * 10, 20) + MIN(opens * 5, 15) + MIN(events * 15, 30) + MIN(forms * 10, 10)
         - CASE WHEN do_not_email THEN 30 ELSE 0 END, 0), 100) AS score
  FROM scored
), fit AS (
  SELECT id, MAX(
           CASE WHEN role = 1 THEN 30 ELSE 0 END
         + CASE WHEN estimated_value >= 50000 THEN 20 ELSE 0 END
         + CASE WHEN industry IN (5, 9) THEN 20 ELSE 0 END
         - CASE WHEN is_child THEN 20 ELSE 0 END, 0) AS score
  FROM scored
)
SELECT id AS lead_id, 'engagement' AS model, score,
       CASE WHEN score >= 40 THEN 'A' WHEN score >= 25 THEN 'B' WHEN score >= 10 THEN 'C'
            WHEN score >= 0 THEN 'D' END AS grade,
       score >= 40 AS sales_ready
FROM engagement
UNION ALL
SELECT id, 'fit', score,
       CASE WHEN score >= 50 THEN 'good' WHEN score >= 20 THEN 'fair' END,
       score >= 50
FROM fit;

CREATE TABLE IF NOT EXISTS lead_score (lead_id TEXT NOT NULL, model TEXT NOT NULL,
  score INTEGER NOT NULL, grade TEXT, sales_ready INTEGER NOT NULL, scored_on TEXT NOT NULL,
  PRIMARY KEY (lead_id, model));

INSERT INTO lead_score (lead_id, model, score, grade, sales_ready, scored_on)
SELECT n.lead_id, n.model, n.score, n.grade, n.sales_ready, ?4
FROM hw_scores AS n
LEFT JOIN lead_score AS o ON o.lead_id = n.lead_id AND o.model = n.model
WHERE o.lead_id IS NULL OR o.score <> n.score OR o.grade IS NOT n.grade
   OR o.sales_ready <> n.sales_ready
ON CONFLICT (lead_id, model) DO UPDATE SET score = excluded.score, grade = excluded.grade,
  sales_ready = excluded.sales_ready, scored_on = excluded.scored_on;

UPDATE lead SET score = x.score, sales_ready = x.ready
FROM (SELECT lead_id, MAX(score) AS score, MAX(sales_ready) AS ready
      FROM hw_scores GROUP BY lead_id) AS x
WHERE lead.id = x.lead_id AND (lead.score IS NOT x.score OR lead.sales_ready IS NOT x.ready);

DROP TABLE hw_scores;
"#;

/// [`HAND_WRITTEN`] in PostgreSQL's spelling (`COUNT(*) FILTER`, `LEAST`,
/// `GREATEST`, booleans, `IS DISTINCT FROM`). The scores take `$1`..`$3`
/// (the window starts, as there), the write of `lead_score` `$1` (the
/// reference time).
const HAND_WRITTEN_PG: &str = r#"
CREATE TEMP TABLE hw_scores ON COMMIT DROP AS
WITH activity AS (
  SELECT contact_id,
         COUNT(*) FILTER (WHERE type = 4 AND occurred_on >= $1) AS clicks,
         COUNT(*) FILTER (WHERE type = 3 AND occurred_on >= $2) AS opens,
         COUNT(*) FILTER (WHERE type IN (7, 8)) AS events,
         COUNT(*) FILTER (WHERE type = 6 AND occurred_on >= $2) AS forms
  FROM interaction
  WHERE type IN (3, 4, 6, 7, 8) AND occurred_on >= $3
  GROUP BY contact_id
), scored AS (
  SELECT l.id, l.source, l.estimated_value, c.role, c.do_not_email, c.is_child, a.industry,
         COALESCE(x.clicks, 0) AS clicks, COALESCE(x.opens, 0) AS opens,
         COALESCE(x.events, 0) AS events, COALESCE(x.forms, 0) AS forms
  FROM lead AS l
  JOIN contact AS c ON c.id = l.contact_id
  LEFT JOIN account AS a ON a.id = c.account_id
  LEFT JOIN activity AS x ON x.contact_id = c.id
  WHERE l.status IS NULL OR l.status NOT IN (1, 2)
), engagement AS (
  SELECT id, LEAST(GREATEST(
           CASE WHEN source IN (6, 7) THEN 20 ELSE 0 END
         + CASE WHEN role = 1 THEN 10 ELSE 0 END
         + LEAST(clicks * 10, 20) + LEAST(opens * 5, 15) + LEAST(events * 15, 30) + LEAST(forms * 10, 10)
         - CASE WHEN do_not_email THEN 30 ELSE 0 END, 0), 100) AS score
  FROM scored
), fit AS (
  SELECT id, GREATEST(
           CASE WHEN role = 1 THEN 30 ELSE 0 END
         + CASE WHEN estimated_value >= 50000 THEN 20 ELSE 0 END
         + CASE WHEN industry IN (5, 9) THEN 20 ELSE 0 END
         - CASE WHEN is_child THEN 20 ELSE 0 END, 0) AS score
  FROM scored
)
SELECT id AS lead_id, 'engagement' AS model, score,
       CASE WHEN score >= 40 THEN 'A' WHEN score >= 25 THEN 'B' WHEN score >= 10 THEN 'C'
            WHEN score >= 0 THEN 'D' END AS grade,
       score >= 40 AS sales_ready
FROM engagement
UNION ALL
SELECT id, 'fit', score,
       CASE WHEN score >= 50 THEN 'good' WHEN score >= 20 THEN 'fair' END,
       score >= 50
FROM fit;

CREATE TABLE IF NOT EXISTS lead_score (lead_id uuid NOT NULL, model text NOT NULL,
  score bigint NOT NULL, grade text, sales_ready boolean NOT NULL, scored_on timestamptz NOT NULL,
  PRIMARY KEY (lead_id, model));

INSERT INTO lead_score (lead_id, model, score, grade, sales_ready, scored_on)
SELECT n.lead_id, n.model, n.score, n.grade, n.sales_ready, $1
FROM hw_scores AS n
LEFT JOIN lead_score AS o ON o.lead_id = n.lead_id AND o.model = n.model
WHERE o.lead_id IS NULL OR o.score <> n.score OR o.grade IS DISTINCT FROM n.grade
   OR o.sales_ready <> n.sales_ready
ON CONFLICT (lead_id, model) DO UPDATE SET score = excluded.score, grade = excluded.grade,
  sales_ready = excluded.sales_ready, scored_on = excluded.scored_on;

UPDATE lead SET score = x.score, sales_ready = x.ready
FROM (SELECT lead_id, MAX(score) AS score, bool_or(sales_ready) AS ready
      FROM hw_scores GROUP BY lead_id) AS x
WHERE lead.id = x.lead_id
  AND (lead.score IS DISTINCT FROM x.score OR lead.sales_ready IS DISTINCT FROM x.ready)
"#;

/// Runs the PostgreSQL script in a transaction, committed or rolled back.
fn hand_written_pg(client: &mut postgres::Client, at: DateTime<Utc>, commit: bool) {
    let windows = [
        at - chrono::Duration::days(180),
        at - chrono::Duration::days(90),
        at - chrono::Duration::days(365),
    ];
    let mut tx = client.transaction().expect("begin");
    for statement in HAND_WRITTEN_PG.split(";\n").map(str::trim) {
        if statement.is_empty() {
            continue;
        }
        let params: &[DateTime<Utc>] = if statement.starts_with("CREATE TEMP") {
            &windows
        } else if statement.starts_with("INSERT") {
            std::slice::from_ref(&at)
        } else {
            &[]
        };
        let values: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        tx.execute(statement, &values)
            .unwrap_or_else(|e| panic!("{e:?}: {statement}"));
    }
    if commit {
        tx.commit().expect("commit");
    } else {
        tx.rollback().expect("rollback");
    }
}

/// The rows of `lead_score` on PostgreSQL, sorted, without `scored_on`.
fn lead_score_rows_pg(
    client: &mut postgres::Client,
) -> Vec<(String, String, i64, Option<String>, bool)> {
    client
        .query(
            "SELECT lead_id::text, model, score, grade, sales_ready FROM lead_score \
             ORDER BY lead_id, model",
            &[],
        )
        .expect("lead_score")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect()
}

/// segql and the hand-written script on PostgreSQL: the same rows (under
/// `cargo test`), or their medians (when benchmarking). `None` without a
/// PostgreSQL server (only outside CI: there the harness fails instead).
fn postgres_part(conn: &Connection, models: &[Model], runs: usize) -> Option<String> {
    let pg = support::pg::TestPg::start()?;
    let mut client = pg.fresh_database("bench_scoring");
    let url = pg.url_for("bench_scoring");
    let schema = crm_schema();
    let started = Instant::now();
    segql::demo::copy_sqlite_to_postgres(conn, &mut client, &schema).expect("copied");
    client.batch_execute("VACUUM ANALYZE").expect("vacuumed");
    let copied = started.elapsed();
    let mut backend = segql::db::open(&url, segql::db::Access::ReadWrite).expect("open postgres");
    let segql_run = |backend: &mut Box<dyn segql::db::Backend>, dry_run: bool| {
        let options = ScoreOptions {
            dry_run,
            now: now(),
            engine: ScoreEngine::Database,
        };
        score(backend.as_mut(), &schema, models, &options).expect("score on postgres");
    };
    if !common::benchmarking() {
        hand_written_pg(&mut client, now(), true);
        let by_hand = lead_score_rows_pg(&mut client);
        assert!(!by_hand.is_empty(), "the PostgreSQL script scored nothing");
        client
            .batch_execute(
                "DROP TABLE lead_score; UPDATE lead SET score = NULL, sales_ready = NULL",
            )
            .expect("reset");
        segql_run(&mut backend, false);
        assert_eq!(
            lead_score_rows_pg(&mut client),
            by_hand,
            "segql on PostgreSQL differs from the hand-written script"
        );
        return Some("PostgreSQL agrees".into());
    }
    let mut segql_times = Vec::new();
    let mut hand_times = Vec::new();
    for run in 1..=runs {
        let started = Instant::now();
        segql_run(&mut backend, true);
        segql_times.push(started.elapsed());
        let started = Instant::now();
        hand_written_pg(&mut client, now(), false);
        hand_times.push(started.elapsed());
        println!(
            "run {run}: segql score (postgres, dry run) {:.2?}, hand-written script {:.2?}",
            segql_times[run - 1],
            hand_times[run - 1]
        );
    }
    let (s, h) = (common::median(segql_times), common::median(hand_times));
    Some(format!(
        "PostgreSQL (copied in {copied:.1?}), medians of {runs}: segql score (postgres, dry run) \
         {s:.2?}, hand-written script {h:.2?}, ratio {:.2}",
        s.as_secs_f64() / h.as_secs_f64()
    ))
}

/// Runs the hand-written script in a transaction, committed or rolled back.
fn hand_written(conn: &mut Connection, at: DateTime<Utc>, commit: bool) {
    let stamp = |days: i64| {
        (at - chrono::Duration::days(days))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let tx = conn.transaction().expect("begin");
    let statements: Vec<&str> = HAND_WRITTEN
        .split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let params = [stamp(180), stamp(90), stamp(365), stamp(0)];
    for statement in statements {
        let mut stmt = tx.prepare(statement).expect("prepare");
        let wanted = stmt.parameter_count();
        stmt.execute(rusqlite::params_from_iter(&params[..wanted]))
            .unwrap_or_else(|e| panic!("{e}: {statement}"));
    }
    if commit {
        tx.commit().expect("commit");
    } else {
        tx.rollback().expect("rollback");
    }
}

fn models() -> Vec<Model> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/scoring.segql");
    let text = std::fs::read_to_string(path).expect("examples/scoring.segql");
    segql::scoring::parse_and_check(&text, &crm_schema()).expect("the example models check")
}

/// The rows of `lead_score`, sorted, without `scored_on`.
fn lead_score_rows(conn: &Connection) -> Vec<(String, String, i64, Option<String>, bool)> {
    let mut stmt = conn
        .prepare(
            "SELECT lead_id, model, score, grade, sales_ready FROM lead_score \
             ORDER BY lead_id, model",
        )
        .expect("lead_score");
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .expect("rows")
    .collect::<Result<_, _>>()
    .expect("rows")
}

fn main() {
    let contacts = common::size("SEGQL_BENCH_CONTACTS", 1_000_000, 200);
    let runs = common::size("SEGQL_BENCH_RUNS", 5, 1).max(1);
    let schema = crm_schema();
    let models = models();
    let (_keep, path) = common::demo_database(contacts, now());
    let mut conn = Connection::open(&path).expect("open");

    // The memory engine's computation, load excluded.
    let groups = LeadGroups::of(&schema, "lead").expect("lead groups");
    let started = Instant::now();
    let store = segql::eval::Store::load(&mut SqliteBackend::new(&conn), &schema, None)
        .expect("load the store");
    let load = started.elapsed();
    let mut compute = Vec::new();
    let mut computed = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        computed = models
            .iter()
            .map(|m| {
                let values =
                    segql::eval::per_record("lead", &groups.scored, &rule_values(m), &store, now())
                        .expect("per-record values");
                scores_from_values(m, &values)
            })
            .collect::<Vec<_>>();
        compute.push(started.elapsed());
    }
    drop(store);

    if !common::benchmarking() {
        check_agreement(&mut conn, &schema, &models, &computed);
        let pg = postgres_part(&conn, &models, runs);
        println!(
            "{}",
            pg.as_deref()
                .unwrap_or("PostgreSQL: no server installed, skipped")
        );
        return;
    }
    if std::env::var_os("SEGQL_BENCH_SQLITE").is_some_and(|v| v == "0") {
        // Only the PostgreSQL part (the SQLite part takes many minutes at 1M).
        let pg = postgres_part(&conn, &models, runs);
        println!(
            "{}",
            pg.as_deref().unwrap_or("PostgreSQL: no server installed")
        );
        return;
    }
    println!(
        "memory compute, median of {runs}: {:.3?} (store load {load:.2?})",
        common::median(compute.clone())
    );
    let mut segql_times = Vec::new();
    let mut hand_times = Vec::new();
    for run in 1..=runs {
        let started = Instant::now();
        let options = ScoreOptions {
            dry_run: true,
            now: now(),
            engine: ScoreEngine::Database,
        };
        score(
            &mut SqliteBackend::new(&mut conn),
            &schema,
            &models,
            &options,
        )
        .expect("score");
        segql_times.push(started.elapsed());
        let started = Instant::now();
        hand_written(&mut conn, now(), false);
        hand_times.push(started.elapsed());
        // Each run takes a while at 1M contacts: show it as it comes.
        println!(
            "run {run}: segql score (sqlite, dry run) {:.2?}, hand-written script {:.2?}",
            segql_times[run - 1],
            hand_times[run - 1]
        );
    }
    let (s, h) = (common::median(segql_times), common::median(hand_times));
    println!(
        "scoring {contacts} contacts, medians of {runs}: memory compute {:.3?} (store load {load:.2?}), \
         segql score (sqlite, dry run) {s:.2?}, hand-written script {h:.2?}, ratio {:.2}",
        common::median(compute),
        s.as_secs_f64() / h.as_secs_f64()
    );
    let pg = postgres_part(&conn, &models, runs);
    println!(
        "{}",
        pg.as_deref().unwrap_or("PostgreSQL: no server installed")
    );
}

/// Under `cargo test`: segql's SQL engine, its memory engine and the
/// hand-written script write the same rows.
fn check_agreement(
    conn: &mut Connection,
    schema: &segql::schema::Schema,
    models: &[Model],
    computed: &[Vec<segql::scoring::LeadScore>],
) {
    hand_written(conn, now(), true);
    let by_hand = lead_score_rows(conn);
    assert!(
        !by_hand.is_empty(),
        "the hand-written script scored nothing"
    );
    conn.execute_batch("DROP TABLE lead_score; UPDATE lead SET score = NULL, sales_ready = NULL")
        .expect("reset");
    for engine in [ScoreEngine::Database, ScoreEngine::Memory] {
        let options = ScoreOptions {
            dry_run: false,
            now: now(),
            engine,
        };
        score(
            &mut SqliteBackend::new(&mut *conn),
            schema,
            models,
            &options,
        )
        .expect("score");
        assert_eq!(
            lead_score_rows(conn),
            by_hand,
            "{engine:?} differs from the hand-written script"
        );
        conn.execute_batch("DROP TABLE lead_score").expect("reset");
    }
    let rows: usize = computed.iter().map(Vec::len).sum();
    assert_eq!(
        rows,
        by_hand.len(),
        "the timed computation scored other leads"
    );
}
