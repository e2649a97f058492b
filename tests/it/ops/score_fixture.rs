//! Lead scoring (SPEC 6) on a small hand-made data set whose every score,
//! grade and sales-ready flag is worked out by hand below, with the report:
//! the same on SQLite with the database engine and with the memory engine,
//! and on PostgreSQL. The leads cover no contact, a contact id that names
//! no contact, both closed statuses, a missing status, interactions inside
//! and outside the 30-day window at the fixed reference time (also exactly
//! on its edge, and without a date), a cap hit and not, subtractions below
//! 0, `max score` reached, every grade and none.

use rusqlite::Connection;
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::ops::{GradeCount, ModelReport, ScoreEngine, ScoreOptions, ScoreReport};
use segql::schema::{crm_schema, Schema};

use crate::support::ops::id;
use crate::support::pg::TestPg;

/// The reference time: the 30-day window starts at 2025-12-16T12:00:00Z.
const NOW: &str = "2026-01-15T12:00:00Z";

const MODELS: &str = r#"
model engagement on lead {
  sales ready at 100
  grades "A" at 80, "B" at 50, "C" at 20
  add 30 if source = "Trade Show"
  add 10 per contact.interaction(type = "Email Opened" and occurred_on >= now - 30d) up to 40
  add 25 per contact.interaction(type = "Event Attended")
  subtract 50 if contact.do_not_email
  max score 110
}

model fit on lead {
  sales ready at 50
  add 40 if contact.role = "Decision Maker"
  add 20 if estimated_value > 10000
  subtract 5 per contact.interaction(type = "Email Sent") up to 10
}
"#;

/// Contacts 0x101..0x104, interactions 0x2xx, leads 1..10 (see `id`).
/// Codes: role Decision Maker 1, Employee 2, Influencer 3; interaction
/// type Email Sent 1, Email Opened 3, Event Attended 8; lead status Open
/// 0, Qualified 1, Disqualified 2; source Trade Show 7, Web 8.
fn data_sql() -> String {
    let c = |n: u64| id(0x100 + n);
    let mut sql = String::new();
    for (n, role, do_not_email) in [(1, "1", 0), (2, "2", 1), (3, "3", 0), (4, "NULL", 0)] {
        sql.push_str(&format!(
            "INSERT INTO contact (id, role, marketing_only, do_not_email, do_not_bulk_email, \
             allow_prefill, is_child) VALUES ('{}', {role}, 0, {do_not_email}, 0, 0, 0);\n",
            c(n)
        ));
    }
    let interactions: [(u64, &str, i64, &str); 16] = [
        // Contact 1: five opens inside the window (one at now, one on its
        // first second), two outside; two events; one email sent.
        (1, &c(1), 3, "'2026-01-15T12:00:00Z'"),
        (2, &c(1), 3, "'2026-01-10T08:00:00Z'"),
        (3, &c(1), 3, "'2026-01-01T00:00:00Z'"),
        (4, &c(1), 3, "'2025-12-20T09:30:00Z'"),
        (5, &c(1), 3, "'2025-12-16T12:00:00Z'"),
        (6, &c(1), 3, "'2025-12-16T11:59:59Z'"),
        (7, &c(1), 3, "'2025-11-01T00:00:00Z'"),
        (8, &c(1), 8, "'2025-06-01T18:00:00Z'"),
        (9, &c(1), 8, "'2025-06-02T18:00:00Z'"),
        (10, &c(1), 1, "'2026-01-02T10:00:00Z'"),
        // Contact 2: one open inside, one outside; three emails sent.
        (11, &c(2), 3, "'2026-01-05T00:00:00Z'"),
        (12, &c(2), 3, "'2025-10-01T00:00:00Z'"),
        (13, &c(2), 1, "'2026-01-03T00:00:00Z'"),
        (14, &c(2), 1, "'2026-01-04T00:00:00Z'"),
        (15, &c(2), 1, "'2026-01-05T00:00:00Z'"),
        // Contact 3: one event; an open without a date counts nowhere.
        (16, &c(3), 8, "'2025-09-09T09:09:09Z'"),
    ];
    let mut rows: Vec<(u64, String, i64, String)> = interactions
        .iter()
        .map(|(n, contact, ty, at)| (*n, contact.to_string(), *ty, at.to_string()))
        .collect();
    rows.push((17, c(3), 3, "NULL".into()));
    // An open of a contact that does not exist: nobody's.
    rows.push((18, id(0x1ff), 3, "'2026-01-14T00:00:00Z'".into()));
    for (n, contact, ty, at) in rows {
        sql.push_str(&format!(
            "INSERT INTO interaction (id, contact_id, type, occurred_on) \
             VALUES ('{}', '{contact}', {ty}, {at});\n",
            id(0x200 + n)
        ));
    }
    // lead, contact, status, source, estimated value, score, sales_ready
    type LeadLine<'a> = (
        u64,
        Option<String>,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
    );
    let leads: [LeadLine; 10] = [
        (1, Some(c(1)), "0", "7", "20000", "NULL", "NULL"),
        (2, Some(c(2)), "NULL", "8", "5000", "70", "1"),
        (3, Some(c(3)), "0", "7", "NULL", "NULL", "0"),
        (4, Some(c(4)), "0", "7", "15000", "0", "0"),
        (5, Some(c(1)), "1", "7", "20000", "999", "1"),
        (6, Some(c(2)), "2", "8", "NULL", "NULL", "NULL"),
        (7, None, "0", "7", "20000", "5", "NULL"),
        (8, Some(id(0x1ff)), "1", "7", "NULL", "NULL", "0"),
        (9, Some(c(1)), "0", "8", "10000", "150", "1"),
        (10, Some(c(1)), "NULL", "7", "50000", "110", "1"),
    ];
    for (n, contact, status, source, value, score, ready) in leads {
        let contact = contact.map_or("NULL".to_string(), |c| format!("'{c}'"));
        sql.push_str(&format!(
            "INSERT INTO lead (id, topic, contact_id, status, source, estimated_value, score, \
             sales_ready) VALUES ('{}', 'Topic {n}', {contact}, {status}, {source}, {value}, \
             {score}, {ready});\n",
            id(n)
        ));
    }
    sql
}

/// The `lead_score` rows, by hand: (lead, model, score, grade, sales_ready).
fn expected_rows() -> Vec<(String, String, i64, Option<String>, bool)> {
    let row = |n: u64, model: &str, score: i64, grade: Option<&str>, ready: bool| {
        (
            id(n),
            model.to_string(),
            score,
            grade.map(str::to_string),
            ready,
        )
    };
    vec![
        // Lead 1: 30 (Trade Show) + 40 (five opens, 50 capped at 40) + 50
        // (two events) = 120, limited to max score 110: A, ready.
        row(1, "engagement", 110, Some("A"), true),
        // 40 (Decision Maker) + 20 (20000 > 10000) - 5 (one sent) = 55 >= 50.
        row(1, "fit", 55, None, true),
        // Lead 2 (status missing): 10 (one open inside) - 50 (do not email)
        // = -40, so 0: no grade.
        row(2, "engagement", 0, None, false),
        // -10 (three sent, 15 capped at 10), so 0.
        row(2, "fit", 0, None, false),
        // Lead 3: 30 + 0 (the open has no date) + 25 (one event) = 55: B.
        row(3, "engagement", 55, Some("B"), false),
        // An Influencer, no value, no email sent.
        row(3, "fit", 0, None, false),
        // Lead 4: 30, no interactions: C.
        row(4, "engagement", 30, Some("C"), false),
        // 20 (15000 > 10000); no role.
        row(4, "fit", 20, None, false),
        // Lead 9 (Web): 40 + 50 = 90: A, below 100.
        row(9, "engagement", 90, Some("A"), false),
        // 40 + 0 (10000 is not > 10000) - 5 = 35.
        row(9, "fit", 35, None, false),
        // Lead 10 (status missing): as lead 1.
        row(10, "engagement", 110, Some("A"), true),
        row(10, "fit", 55, None, true),
    ]
}

/// Every lead's `score` and `sales_ready` after scoring: the highest model
/// score and any model's flag for the scored ones, the rest as they were.
fn expected_leads() -> Vec<(String, Option<i64>, Option<bool>)> {
    [
        (1, Some(110), Some(true)),
        (2, Some(0), Some(false)),
        (3, Some(55), Some(false)),
        (4, Some(30), Some(false)),
        (5, Some(999), Some(true)),
        (6, None, None),
        (7, Some(5), None),
        (8, None, Some(false)),
        (9, Some(90), Some(false)),
        (10, Some(110), Some(true)),
    ]
    .into_iter()
    .map(|(n, score, ready)| (id(n), score, ready))
    .collect()
}

fn expected_report() -> ScoreReport {
    let grade = |label: Option<&str>, leads: u64| GradeCount {
        grade: label.map(str::to_string),
        leads,
    };
    ScoreReport {
        format: 1,
        dry_run: false,
        // Leads 1, 2, 3, 4, 9, 10.
        scored: 6,
        // Lead 7 (no contact id) and lead 8 (a contact id of no contact;
        // Qualified too, but no contact comes first).
        skipped_no_contact: 2,
        // Leads 5 (Qualified) and 6 (Disqualified).
        skipped_closed: 2,
        // Lead 1 (was missing).
        newly_sales_ready: 1,
        // Leads 2 and 9.
        no_longer_sales_ready: 2,
        rows_written: 12,
        // All scored leads but 10, which had 110 and true already.
        leads_updated: 5,
        models: vec![
            ModelReport {
                name: "engagement".into(),
                sales_ready: 2,
                grades: vec![
                    grade(Some("A"), 3),
                    grade(Some("B"), 1),
                    grade(Some("C"), 1),
                    grade(None, 1),
                ],
            },
            ModelReport {
                name: "fit".into(),
                sales_ready: 2,
                grades: vec![grade(None, 6)],
            },
        ],
    }
}

fn options(engine: ScoreEngine) -> ScoreOptions {
    ScoreOptions {
        dry_run: false,
        now: NOW.parse().expect("a valid reference time"),
        engine,
    }
}

fn sqlite_data(schema: &Schema) -> Connection {
    let conn = Connection::open_in_memory().expect("open");
    segql::demo::create_tables(&mut SqliteBackend::new(&conn), schema).expect("create tables");
    conn.execute_batch(&data_sql()).expect("insert the fixture");
    conn
}

type Rows = (
    Vec<(String, String, i64, Option<String>, bool)>,
    Vec<(String, Option<i64>, Option<bool>)>,
);

fn sqlite_rows(conn: &Connection) -> Rows {
    let mut stmt = conn
        .prepare("SELECT lead_id, model, score, grade, sales_ready FROM lead_score ORDER BY 1, 2")
        .expect("read lead_score");
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, i64>(4)? != 0,
            ))
        })
        .expect("read lead_score")
        .collect::<rusqlite::Result<_>>()
        .expect("read lead_score");
    let mut stmt = conn
        .prepare("SELECT id, score, sales_ready FROM lead ORDER BY id")
        .expect("read leads");
    let leads = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get::<_, Option<i64>>(2)?.map(|b| b != 0),
            ))
        })
        .expect("read leads")
        .collect::<rusqlite::Result<_>>()
        .expect("read leads");
    (rows, leads)
}

fn postgres_rows(client: &mut postgres::Client) -> Rows {
    let rows = client
        .query(
            "SELECT lead_id::text, model, score, grade, sales_ready FROM lead_score \
             ORDER BY lead_id::text COLLATE \"C\", model COLLATE \"C\"",
            &[],
        )
        .expect("read lead_score")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    let leads = client
        .query(
            "SELECT id::text, score, sales_ready FROM lead ORDER BY id::text COLLATE \"C\"",
            &[],
        )
        .expect("read leads")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    (rows, leads)
}

/// Scores, checks the report, and scores again, which must write nothing
/// (the caller then reads the rows).
fn score_and_check(db: &mut dyn Backend, schema: &Schema, engine: ScoreEngine, label: &str) {
    let models = segql::scoring::parse_and_check(MODELS, schema).expect("the fixture checks");
    let report = segql::ops::score(db, schema, &models, &options(engine)).expect("score");
    assert_eq!(report, expected_report(), "{label}: the report");
    let again = segql::ops::score(db, schema, &models, &options(engine)).expect("score again");
    assert_eq!(
        (
            again.rows_written,
            again.leads_updated,
            again.newly_sales_ready
        ),
        (0, 0, 0),
        "{label}: scoring again changed something"
    );
    assert_eq!(again.models, report.models, "{label}: the second report");
}

#[test]
fn the_fixture_scores_as_worked_out_by_hand_on_sqlite() {
    let schema = crm_schema();
    for (engine, label) in [
        (ScoreEngine::Database, "sqlite"),
        (ScoreEngine::Memory, "memory"),
    ] {
        let conn = sqlite_data(&schema);
        score_and_check(&mut SqliteBackend::new(&conn), &schema, engine, label);
        let (rows, leads) = sqlite_rows(&conn);
        assert_eq!(rows, expected_rows(), "{label}: lead_score");
        assert_eq!(leads, expected_leads(), "{label}: the leads");
    }
}

#[test]
fn the_fixture_scores_as_worked_out_by_hand_on_postgres() {
    let Some(pg) = TestPg::start() else {
        return;
    };
    let schema = crm_schema();
    let conn = sqlite_data(&schema);
    let mut client = pg.fresh_database("score_fixture");
    segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &schema).expect("copy");
    score_and_check(
        &mut PostgresBackend::new(&mut client),
        &schema,
        ScoreEngine::Database,
        "postgres",
    );
    let (rows, leads) = postgres_rows(&mut client);
    assert_eq!(rows, expected_rows(), "postgres: lead_score");
    assert_eq!(leads, expected_leads(), "postgres: the leads");
}
