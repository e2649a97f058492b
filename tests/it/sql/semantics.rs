//! The SQL back end beyond the shared semantic cases (`crate::semantics`,
//! which run every case on SQLite and PostgreSQL too): a database in the
//! wrong layout is named, and plans as deep as the checker allows compile.

use chrono::{DateTime, TimeZone, Utc};
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::plan::*;
use segql::schema::{crm_schema, Schema};
use segql::sql::{self, Dialect, SqlOptions};

use crate::semantics::{plan_text, sqlite_db};
use crate::support::pg::TestPg;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
}

/// A contact plan in the notation of [`plan_text`].
fn contact_plan(text: &str, schema: &Schema) -> Plan {
    Plan {
        entity: "contact".into(),
        filter: plan_text::parse(text, "contact", schema).unwrap(),
    }
}

/// `has [quantifier] relationship(filter)` from `from`.
fn has(from: &str, relationship: &str, quantifier: Quantifier, filter: PlanExpr) -> PlanExpr {
    let schema = crm_schema();
    let rel = schema.relationship(relationship).unwrap();
    let (direction, to) = if rel.child == from {
        (Direction::ToParent, rel.parent.clone())
    } else {
        (Direction::ToChildren, rel.child.clone())
    };
    PlanExpr::Related(Related {
        link: Link {
            relationship: relationship.into(),
            direction,
            from: from.into(),
            to: to.into(),
        },
        quantifier,
        filter: Box::new(filter),
    })
}

#[allow(clippy::result_large_err)]
fn compile(plan: &Plan, dialect: &dyn Dialect, count: bool) -> segql::Result<sql::SqlQuery> {
    sql::to_sql(plan, &crm_schema(), dialect, &SqlOptions::new(count, now()))
}

// --------------------------------------------------------------- tests ---

#[test]
fn a_database_in_the_wrong_layout_is_named() {
    let schema = crm_schema();
    let conn = sqlite_db("crm");
    conn.execute_batch("ALTER TABLE lead DROP COLUMN score; DROP TABLE interaction;")
        .unwrap();
    let plan = contact_plan(
        "(has lead_parent_contact=>lead(lead.score > 1) \
          and has interaction_contact=>interaction(true))",
        &schema,
    );
    let err = SqliteBackend::new(&conn)
        .verify_layout(&schema, &plan)
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, segql::Error::Database { .. }));
    assert!(message.contains("no table 'interaction'"), "{message}");
    assert!(
        message.contains("table 'lead' has no column 'score'"),
        "{message}"
    );
    // A plan that does not use them is fine.
    let fine = contact_plan(r#"contact.city = "Paris""#, &schema);
    SqliteBackend::new(&conn)
        .verify_layout(&schema, &fine)
        .unwrap();
}

#[test]
fn a_postgres_database_in_the_wrong_layout_is_named() {
    let Some(pg) = TestPg::start() else {
        return;
    };
    let schema = crm_schema();
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(&sqlite_db("crm"), &mut client, &schema).unwrap();
    client
        .batch_execute(
            "ALTER TABLE lead DROP COLUMN score; DROP TABLE interaction; \
             ALTER TABLE contact ALTER COLUMN role TYPE integer;",
        )
        .unwrap();
    let plan = contact_plan(
        r##"(contact.role = ""#1 and has lead_parent_contact=>lead(lead.score > 1)
            and has interaction_contact=>interaction(true))"##,
        &schema,
    );
    let message = PostgresBackend::new(&mut client)
        .verify_layout(&schema, &plan)
        .unwrap_err()
        .to_string();
    assert!(message.contains("no table 'interaction'"), "{message}");
    assert!(
        message.contains("table 'lead' has no column 'score'"),
        "{message}"
    );
    assert!(
        message.contains("'contact.role' has type integer"),
        "{message}"
    );
    let fine = contact_plan(r#"contact.city = "Paris""#, &schema);
    PostgresBackend::new(&mut client)
        .verify_layout(&schema, &fine)
        .unwrap();
}

#[test]
fn plans_as_deep_as_the_checker_allows_compile() {
    use segql::error::limits::MAX_PLAN_DEPTH;
    // Alternating parent and child hops, as deep as a plan may be.
    let mut filter =
        plan_text::parse(r#"contact.city = "Paris""#, "contact", &crm_schema()).unwrap();
    for i in 0..MAX_PLAN_DEPTH / 2 {
        let (entity, rel) = if i % 2 == 0 {
            ("lead", "lead_parent_contact")
        } else {
            ("contact", "lead_parent_contact")
        };
        filter = PlanExpr::Not(Box::new(has(entity, rel, Quantifier::Any, filter)));
    }
    let plan = Plan {
        entity: "contact".into(),
        filter,
    };
    // A thread with the default stack of test threads (2 MiB).
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let q = compile(&plan, &sql::Sqlite, false).unwrap();
            q.sql.matches("SELECT").count()
        });
    assert_eq!(handle.unwrap().join().unwrap(), MAX_PLAN_DEPTH / 2 + 1);
}

#[test]
fn junctions_of_thousands_of_items_run_on_sqlite() {
    // SQLite refuses expression trees deeper than 1,000; a flat chain of
    // 3,000 `OR`s (or `AND`s, here inside a subquery) would be one.
    let pairs: Vec<String> = (0..3_000)
        .map(|i| format!(r#"(city = "c{i}" and email contains "u{i}")"#))
        .collect();
    let tests: Vec<String> = (0..3_000)
        .map(|i| format!(r#"topic not contains "t{i}""#))
        .collect();
    let text = format!(
        "contact where {} or has lead({})",
        pairs.join(" or "),
        tests.join(" and ")
    );
    let schema = crm_schema();
    let query = segql::compile(&text, &segql::Options::new(&schema), &sql::Sqlite, now()).unwrap();
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let mut db = SqliteBackend::new(&conn);
    segql::demo::create_tables(&mut db, &schema).unwrap();
    assert_eq!(db.query_ids(&query).unwrap(), Vec::<uuid::Uuid>::new());
}

#[test]
fn an_or_of_hundreds_of_lists_runs_on_sqlite() {
    // Unoptimized, each `has` keeps its own list, and the lists of one
    // column under one `OR` are merged: SQLite refuses a compound `SELECT`
    // of more than 500, so a list takes at most 64.
    let branches: Vec<String> = (0..600)
        .map(|i| format!(r#"has lead(topic = "t{i}")"#))
        .collect();
    let text = format!(
        r#"contact where {} or city = "Oslo""#,
        branches.join(" or ")
    );
    let schema = crm_schema();
    let options = segql::Options {
        optimize: false,
        ..segql::Options::new(&schema)
    };
    let query = segql::compile(&text, &options, &sql::Sqlite, now()).unwrap();
    let lists = query.sql.matches(" IN (").count();
    assert_eq!(lists, 10, "600 `SELECT`s in lists of at most 64");
    assert_eq!(query.sql.matches("UNION ALL").count(), 600 - 10);
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let mut db = SqliteBackend::new(&conn);
    segql::demo::create_tables(&mut db, &schema).unwrap();
    assert_eq!(db.query_ids(&query).unwrap(), Vec::<uuid::Uuid>::new());
    // A list merged under an inner `or` keeps its `SELECT`s when merged
    // into the outer one's.
    let nested = "contact where has lead or (has subscription or has interaction)";
    let query = segql::compile(nested, &options, &sql::Sqlite, now()).unwrap();
    assert_eq!(query.sql.matches(" IN (").count(), 1, "{}", query.sql);
    for table in ["lead", "subscription", "interaction"] {
        assert!(
            query.sql.contains(&format!("FROM {table} AS")),
            "{}",
            query.sql
        );
    }
}
