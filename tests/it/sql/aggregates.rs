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
    sql::to_sql(plan, &crm_schema(), dialect, &SqlOptions::new(count, now)).unwrap()
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

// ----------------------------------------------------- decimal sums ---

/// `query` on `db` as the ids it selects, with `settings`.
fn probe(
    db: &mut dyn Backend,
    sql: &str,
    settings: Vec<(&'static str, &'static str)>,
) -> Vec<Uuid> {
    let query = SqlQuery {
        sql: sql.to_string(),
        settings,
        ..SqlQuery::default()
    };
    db.query_ids(&query).unwrap()
}

#[test]
fn a_checked_decimal_sum_runs_on_postgres_with_jit_off_for_its_query_alone() {
    let checked = compile(
        &plan("contact where sum(lead.estimated_value) > 1"),
        &sql::Postgres,
        false,
    );
    assert!(checked.sql.contains("ELSE ("), "{}", checked.sql);
    assert_eq!(checked.settings, [("jit", "off")]);
    // Only where there is such a sum: an integer sum is exact as it is,
    // and SQLite sums decimals in one pass.
    for (query, dialect) in [
        (
            "contact where sum(lead.score) > 1",
            &sql::Postgres as &dyn Dialect,
        ),
        ("contact where sum(lead.estimated_value) > 1", &sql::Sqlite),
    ] {
        let q = compile(&plan(query), dialect, false);
        assert!(q.settings.is_empty(), "{query} on {}", dialect.name());
        assert!(!q.sql.contains("ELSE ("), "{}", q.sql);
    }
    // A folded sum leaves no setting behind.
    let folded = compile(
        &plan("contact where sum(lead(false).estimated_value) > 1"),
        &sql::Postgres,
        false,
    );
    assert!(folded.settings.is_empty(), "{}", folded.sql);

    let Some((_pg, mut client)) = postgres_db("decimal_sums") else {
        return;
    };
    let mut db = PostgresBackend::new(&mut client);
    let jit = "SELECT CAST(CASE WHEN current_setting('jit') = 'off' \
               THEN '00000000-0000-0000-0000-000000000001' \
               ELSE '00000000-0000-0000-0000-000000000002' END AS uuid)";
    let (off, on) = (Uuid::from_u128(1), Uuid::from_u128(2));
    assert_eq!(probe(&mut db, jit, vec![]), [on], "the server's default");
    assert_eq!(probe(&mut db, jit, vec![("jit", "off")]), [off]);
    // The setting ended with its query.
    assert_eq!(probe(&mut db, jit, vec![]), [on]);
    let count_with_jit_off = SqlQuery {
        sql: "SELECT COUNT(*) FROM contact WHERE current_setting('jit') = 'off'".into(),
        settings: vec![("jit", "off")],
        ..SqlQuery::default()
    };
    assert_eq!(db.query_count(&count_with_jit_off).unwrap(), 7);
    // Inside a command's transaction too, and as before afterwards.
    let mut after = Vec::new();
    db.transaction(true, &mut |tx| {
        assert_eq!(tx.query_count(&count_with_jit_off)?, 7);
        after = tx.query_text("SELECT current_setting('jit')", &[])?;
        Ok(())
    })
    .unwrap();
    assert_eq!(after, [[Some("on".to_string())]]);
}

/// How often the exact sum's subquery ran when PostgreSQL answered `query`
/// on `client`'s data: `EXPLAIN ANALYZE`'s loops of its `SubPlan`.
fn exact_sum_runs(client: &mut postgres::Client, query: &str) -> u64 {
    let q = compile(&plan(query), &sql::Postgres, false);
    let params: Vec<Box<dyn postgres::types::ToSql + Sync>> = q
        .params
        .iter()
        .map(|p| -> Box<dyn postgres::types::ToSql + Sync> {
            match p {
                sql::SqlParam::Integer(i) => Box::new(*i),
                sql::SqlParam::Real(x) => Box::new(*x),
                other => panic!("{query}: unexpected parameter {other:?}"),
            }
        })
        .collect();
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|p| &**p).collect();
    let lines: Vec<String> = client
        .query(
            &format!("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {}", q.sql),
            &refs,
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    // `SubPlan 1`, then its top node: `(never executed)` or `loops=N`.
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("SubPlan"))
        .unwrap_or_else(|| panic!("{query}: no subplan in\n{}", lines.join("\n")));
    let node = &lines[at + 1];
    if node.contains("never executed") {
        return 0;
    }
    let loops = node.split("loops=").nth(1).expect("loops");
    loops.trim_end_matches(')').parse().unwrap()
}

#[test]
fn the_exact_sum_runs_only_for_groups_in_doubt_on_postgres() {
    let Some(pg) = crate::support::pg::TestPg::start() else {
        return;
    };
    let mut client = pg.client();
    let mut demo = rusqlite::Connection::open_in_memory().unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    let options = segql::demo::DemoOptions::new(500, 1, now);
    segql::demo::generate_into(&mut demo, &options).unwrap();
    segql::demo::copy_sqlite_to_postgres(&demo, &mut client, &crm_schema()).unwrap();
    let nulls: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM lead WHERE estimated_value IS NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(nulls > 0, "the demo's leads include some without a value");
    // The demo's sums are far from these constants: their doubles decide.
    for query in [
        r#"contact where sum(lead(status = "Open").estimated_value) > 10000"#,
        "contact where sum(lead.estimated_value) between 5000 and 20000",
        "contact where not sum(lead.estimated_value) < 1",
    ] {
        assert_eq!(exact_sum_runs(&mut client, query), 0, "{query}");
    }
    drop(client);

    // Near 1: contact 2's 1e16 + 1 - 1e16 (its doubles' error bound is
    // about 100) and contact 3's 1.0000000000000004 (four ulps from 1);
    // contact 6 has a value too large to sum as a double. The other four
    // are far from 1.
    let Some((_pg, mut client)) = postgres_db("decimal_sums") else {
        return;
    };
    assert_eq!(
        exact_sum_runs(&mut client, "contact where sum(lead.estimated_value) = 1"),
        3
    );
}
