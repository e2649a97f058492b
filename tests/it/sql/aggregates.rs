//! Aggregates over related records (SPEC 2.5) on SQLite and PostgreSQL:
//! hand-checked answers on the `aggregates` data set of
//! `tests/it/semantics/cases.toml` (its comment describes the records),
//! each case as written and negated, checked and optimized, and integer
//! sums beyond i64 as [`segql::Error::SumOverflow`].

use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::plan::{Plan, PlanExpr};
use segql::schema::crm_schema;
use segql::sql::{self, Dialect, SqlOptions, SqlQuery};
use uuid::Uuid;

use crate::semantics::{now, postgres_db, sqlite_db};
use crate::support::pg::TestPg;

const DATA: &str = "aggregates";

// ------------------------------------------------------------ cases ---

/// Every case: a query and the ids (as the data set numbers them) it
/// selects. Each also runs negated, selecting the rest.
const CASES: &[(&str, &[u128])] = &[
    // count: a record without related records counts 0, both ways round.
    ("contact where count(lead) >= 2", &[1, 2]),
    ("contact where count(lead) < 2", &[3, 4, 5]),
    ("contact where count(lead) = 0", &[3, 5]),
    ("contact where count(lead) between 0.5 and 2.5", &[2, 4]),
    ("contact where count(lead) < 0.5", &[3, 5]),
    ("contact where count(lead) is not null", &[1, 2, 3, 4, 5]),
    ("contact where count(lead(score > 1)) >= 1", &[1, 4]),
    // sum: 0 over no records, and over missing values only.
    ("contact where sum(lead.score) = 0", &[2, 3, 5]),
    ("contact where sum(lead.score) > 2", &[1, 4]),
    ("contact where sum(lead.score) <= 3", &[1, 2, 3, 5]),
    ("contact where sum(lead.score) is null", &[]),
    ("contact where sum(lead.estimated_value) = 0.75", &[1]),
    ("contact where sum(lead.estimated_value) = 0", &[2, 3, 5]),
    // Every digit of a double counts (PostgreSQL's cast to `numeric`
    // alone keeps 15 and would make this 0.3).
    (
        "contact where sum(lead.estimated_value) = 0.30000000000000004",
        &[4],
    ),
    // avg: a decimal even of integers; missing over no values.
    ("contact where avg(lead.score) = 1.5", &[1]),
    ("contact where avg(lead.score) > 1", &[1, 4]),
    ("contact where avg(lead.score) < 2", &[1]),
    ("contact where avg(lead.score) is not null", &[1, 4]),
    ("contact where avg(lead.estimated_value) = 0.375", &[1]),
    (
        "contact where avg(lead.estimated_value) = 0.30000000000000004",
        &[4],
    ),
    // min and max: missing over no values; text by code point.
    ("contact where max(lead.score) < 100", &[1, 4]),
    ("contact where min(lead.score) between 1 and 5", &[1]),
    ("contact where max(lead.score) is null", &[2, 3, 5]),
    (r#"contact where min(lead.topic) = "Zebra""#, &[1]),
    (r#"contact where max(lead.topic) = "école""#, &[1]),
    (r#"contact where min(lead.topic) < "a""#, &[1]),
    (
        "contact where max(interaction.occurred_on) < now - 90d",
        &[2],
    ),
    (
        r#"account where max(contact.consent_level) >= "Marketing""#,
        &[10],
    ),
    // Fan-in: contact 1's leads reach account 10 twice; it counts once.
    ("contact where count(lead.account) = 2", &[1]),
    ("contact where count(lead.account) = 1", &[4]),
    ("contact where sum(lead.account.employees) = 55", &[1]),
    ("contact where avg(lead.account.employees) = 27.5", &[1]),
    ("contact where max(lead.account.employees) = 50", &[1]),
    ("contact where count(lead.account.contact) = 3", &[1]),
    // A first hop to the parent: a missing or dangling one reaches nothing.
    ("contact where count(account) = 0", &[4, 5]),
    ("contact where max(account.employees) > 10", &[1, 2]),
    // Back to the current record, and three hops.
    ("contact where count(account.contact) >= 2", &[1, 2]),
    ("contact where sum(account.contact.lead.score) = 3", &[1, 2]),
    ("lead where count(contact.lead) = 3", &[100, 101, 102]),
    // Filters on hops, with tests of their own.
    ("account where count(contact(count(lead) >= 2)) >= 2", &[10]),
    (
        "contact where count(lead(has account(employees > 10))) = 2",
        &[1],
    ),
    // Under OR (PostgreSQL then tests membership with EXISTS).
    (
        r#"contact where city = "Nowhere" or count(lead) >= 2"#,
        &[1, 2],
    ),
    (
        r#"contact where city = "Nowhere" or count(lead) < 2"#,
        &[3, 4, 5],
    ),
];

/// The plan of `query`, checked.
fn plan(query: &str) -> Plan {
    let ast = segql::syntax::parse_query(query).unwrap_or_else(|e| panic!("`{query}`: {e}"));
    let schema = crm_schema();
    let options = segql::Options {
        optimize: false,
        ..segql::Options::new(&schema)
    };
    segql::check::check(&ast, &options).unwrap_or_else(|e| panic!("`{query}`: {e}"))
}

// ---------------------------------------------------------- engines ---

fn ids(numbers: &[u128]) -> Vec<Uuid> {
    numbers.iter().map(|&n| Uuid::from_u128(n)).collect()
}

fn compile(plan: &Plan, dialect: &dyn Dialect, count: bool) -> SqlQuery {
    let options = SqlOptions {
        count,
        now: now(DATA),
    };
    sql::to_sql(plan, &crm_schema(), dialect, &options).unwrap()
}

/// The ids `plan` selects on `db`, checking the layout and the count query.
#[allow(clippy::result_large_err)]
fn run(db: &mut dyn Backend, plan: &Plan) -> segql::Result<Vec<Uuid>> {
    db.verify_layout(&crm_schema(), plan)?;
    let found = db.query_ids(&compile(plan, db.dialect(), false))?;
    let count = db.query_count(&compile(plan, db.dialect(), true))?;
    assert_eq!(count as usize, found.len(), "count of {plan}");
    Ok(found)
}

/// Runs every case, and its negation, as checked and optimized, on `db`;
/// the wrong answers.
fn wrong_answers(db: &mut dyn Backend) -> Vec<String> {
    let mut wrong = Vec::new();
    for &(query, want) in CASES {
        let plan = plan(query);
        let every: &[u128] = match plan.entity.as_str() {
            "contact" => &[1, 2, 3, 4, 5],
            "account" => &[10, 11, 12],
            _ => &[100, 101, 102, 103, 104, 105, 106],
        };
        let rest: Vec<u128> = every
            .iter()
            .copied()
            .filter(|n| !want.contains(n))
            .collect();
        let negated = Plan {
            entity: plan.entity.clone(),
            filter: PlanExpr::Not(Box::new(plan.filter.clone())),
        };
        for (plan, want) in [(plan, want), (negated, rest.as_slice())] {
            let optimized = segql::optimize::optimize(plan.clone());
            for plan in [plan, optimized] {
                let name = db.dialect().name();
                match run(db, &plan) {
                    Ok(found) if found == ids(want) => {}
                    Ok(found) => {
                        let got: Vec<u128> = found.iter().map(|u| u.as_u128()).collect();
                        let q = compile(&plan, db.dialect(), false);
                        wrong.push(format!(
                            "{name}: `{plan}`: want {want:?}, got {got:?}\n{}",
                            q.sql
                        ));
                    }
                    Err(e) => wrong.push(format!("{name}: `{plan}`: {e}")),
                }
            }
        }
    }
    wrong
}

#[test]
fn aggregates_give_the_hand_checked_records_on_sqlite() {
    let conn = sqlite_db(DATA);
    let wrong = wrong_answers(&mut SqliteBackend::new(&conn));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn aggregates_give_the_hand_checked_records_on_postgres() {
    let Some((_pg, mut client)) = postgres_db(DATA) else {
        return;
    };
    let wrong = wrong_answers(&mut PostgresBackend::new(&mut client));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// --------------------------------------------------------- overflow ---

/// Contact 3 gets two leads whose scores add up beyond i64::MAX.
fn overflowing(conn: &rusqlite::Connection) {
    conn.execute_batch(&format!(
        "INSERT INTO lead (id, contact_id, score) VALUES \
         ('{}', '{}', {}), ('{}', '{}', 1)",
        Uuid::from_u128(900),
        Uuid::from_u128(3),
        i64::MAX,
        Uuid::from_u128(901),
        Uuid::from_u128(3),
    ))
    .unwrap();
}

/// What running `sum(lead.score) > 0` and `sum(lead.estimated_value) > 0`
/// on contacts gives.
#[allow(clippy::result_large_err)]
fn sums(db: &mut dyn Backend) -> (segql::Result<Vec<Uuid>>, segql::Result<Vec<Uuid>>) {
    (
        run(db, &plan("contact where sum(lead.score) > 0")),
        run(db, &plan("contact where sum(lead.estimated_value) > 0")),
    )
}

fn assert_overflow(answer: segql::Result<Vec<Uuid>>) {
    match answer {
        Err(segql::Error::SumOverflow { aggregate }) => {
            assert_eq!(aggregate, "sum(lead via lead_parent_contact.score)")
        }
        other => panic!("expected a sum overflow, got {other:?}"),
    }
}

#[test]
fn an_integer_sum_beyond_i64_is_an_overflow_error_on_sqlite() {
    let conn = sqlite_db(DATA);
    overflowing(&conn);
    let (score, value) = sums(&mut SqliteBackend::new(&conn));
    assert_overflow(score);
    assert_eq!(value.unwrap(), ids(&[1, 4]));
}

#[test]
fn an_integer_sum_beyond_i64_is_an_overflow_error_on_postgres() {
    let Some(pg) = TestPg::start() else {
        return;
    };
    let conn = sqlite_db(DATA);
    overflowing(&conn);
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &crm_schema()).unwrap();
    let (score, value) = sums(&mut PostgresBackend::new(&mut client));
    assert_overflow(score);
    assert_eq!(value.unwrap(), ids(&[1, 4]));
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
