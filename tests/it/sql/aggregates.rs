//! Aggregates (SPEC 2.5) in the SQL back end beyond the shared cases: an
//! integer sum out of range names its aggregate on SQLite and PostgreSQL,
//! and aggregates nested as deep as a plan may be compile. Their meaning on
//! every engine is in `tests/it/semantics/cases.toml` (the `aggregates_*`
//! groups) and `aggregates_random.rs`; the SQL of each form is snapshotted
//! from `tests/queries/aggregates/`.

use chrono::{TimeZone, Utc};
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::plan::{Plan, PlanExpr};
use segql::schema::crm_schema;
use segql::sql::{self, Dialect, SqlOptions, SqlQuery};
use uuid::Uuid;

use crate::semantics::{postgres_db, sqlite_db};

/// The checked plan of `query`.
fn plan(query: &str) -> Plan {
    let ast = segql::syntax::parse_query(query).unwrap_or_else(|e| panic!("`{query}`: {e}"));
    let schema = crm_schema();
    let options = segql::Options {
        optimize: false,
        ..segql::Options::new(&schema)
    };
    segql::check::check(&ast, &options).unwrap_or_else(|e| panic!("`{query}`: {e}"))
}

fn compile(plan: &Plan, dialect: &dyn Dialect, count: bool) -> SqlQuery {
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    sql::to_sql(plan, &crm_schema(), dialect, &SqlOptions { count, now }).unwrap()
}

// --------------------------------------------------------- overflow ---

/// What `query` gives on `db` (the `overflow` data set of `cases.toml`,
/// where contact 1's lead scores add up beyond i64::MAX), by ids and by
/// count.
#[allow(clippy::result_large_err)]
fn answers(db: &mut dyn Backend, query: &str) -> [segql::Result<()>; 2] {
    let plan = plan(query);
    let ids = compile(&plan, db.dialect(), false);
    let count = compile(&plan, db.dialect(), true);
    [
        db.query_ids(&ids).map(|_: Vec<Uuid>| ()),
        db.query_count(&count).map(|_| ()),
    ]
}

fn assert_overflows(db: &mut dyn Backend) {
    let name = "sum(lead via lead_parent_contact.score)";
    for (query, named) in [
        ("contact where sum(lead.score) > 0", name.to_string()),
        // The database cannot say which sum left the range: both are named.
        (
            "contact where sum(lead.score) > 0 or sum(lead(score > 1).score) < 0",
            format!("{name} or sum(lead via lead_parent_contact(score > 1).score)"),
        ),
    ] {
        for answer in answers(db, query) {
            match answer {
                Err(segql::Error::SumOverflow { aggregate }) => assert_eq!(aggregate, named),
                other => panic!("`{query}`: expected a sum overflow, got {other:?}"),
            }
        }
    }
    // Another database error stays what it is.
    let mut broken = compile(
        &plan("contact where sum(lead.score) > 0"),
        db.dialect(),
        false,
    );
    broken.sql = broken.sql.replace("FROM lead", "FROM no_such_table");
    match db.query_ids(&broken) {
        Err(segql::Error::Database { .. }) => {}
        other => panic!("expected a database error, got {other:?}"),
    }
}

#[test]
fn an_integer_sum_beyond_i64_names_its_aggregate_on_sqlite() {
    let conn = sqlite_db("overflow");
    assert_overflows(&mut SqliteBackend::new(&conn));
}

#[test]
fn an_integer_sum_beyond_i64_names_its_aggregate_on_postgres() {
    let Some((_pg, mut client)) = postgres_db("overflow") else {
        return;
    };
    assert_overflows(&mut PostgresBackend::new(&mut client));
}

// ------------------------------------------------------------ depth ---

#[test]
fn aggregates_nested_as_deep_as_the_checker_allows_compile() {
    use segql::error::limits::MAX_PLAN_DEPTH;
    use segql::plan::depth;
    // Alternately from a contact to its leads and from a lead to its
    // contact, each aggregate in the filter of the one outside it.
    let template = |query: &str| match plan(query).filter {
        PlanExpr::Aggregate(test) => test,
        other => panic!("not an aggregate: {other}"),
    };
    let from_contact = template("contact where count(lead) >= 1");
    let from_lead = template("lead where count(contact) >= 1");
    let levels = MAX_PLAN_DEPTH - 1;
    let mut filter = PlanExpr::Const(true);
    for i in 0..levels {
        let mut test = if i % 2 == 0 {
            from_contact.clone()
        } else {
            from_lead.clone()
        };
        test.aggregate.chain[0].filter = filter;
        filter = PlanExpr::Aggregate(test);
    }
    assert_eq!(depth(&filter), levels + 1);
    let plan = Plan {
        entity: if levels % 2 == 1 { "contact" } else { "lead" }.into(),
        filter,
    };
    // A thread with the default stack of test threads (2 MiB).
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            compile(&plan, &sql::Postgres, false)
                .sql
                .matches("SELECT")
                .count()
        });
    // Each level is one grouped `SELECT`.
    assert_eq!(handle.unwrap().join().unwrap(), levels + 1);
}
