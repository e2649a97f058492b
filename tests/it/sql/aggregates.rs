//! Aggregates over related records (SPEC 2.5) on SQLite and PostgreSQL:
//! hand-checked answers on the `aggregates` data set of
//! `tests/it/semantics/cases.toml` (its comment describes the records),
//! each case as written and negated, and integer sums beyond i64 as
//! [`segql::Error::SumOverflow`]. The plans are built here, so these tests
//! do not depend on the parser or the memory engine.

use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::plan::*;
use segql::schema::crm_schema;
use segql::sql::{self, Dialect, SqlOptions, SqlQuery};
use uuid::Uuid;

use crate::semantics::{now, postgres_db, sqlite_db};
use crate::support::pg::TestPg;

const DATA: &str = "aggregates";

// ------------------------------------------------------------ plans ---

/// `function(hop.hop...field) test` from `from`; each hop is a
/// relationship's name and the filter on the records it reaches.
fn aggregate(
    from: &str,
    function: AggregateFn,
    hops: &[(&str, PlanExpr)],
    field: Option<&str>,
    test: Test,
) -> PlanExpr {
    let schema = crm_schema();
    let mut at = from.to_string();
    let chain = hops
        .iter()
        .map(|(name, filter)| {
            let link = link(&at, name);
            at = link.to.clone();
            Hop {
                link,
                filter: filter.clone(),
            }
        })
        .collect();
    let field = field.map(|name| FieldRef {
        entity: at.clone(),
        field: name.into(),
        ty: segql::check::value_type(&schema.entity(&at).unwrap().field(name).unwrap().ty),
    });
    PlanExpr::Aggregate(AggregateTest {
        aggregate: Aggregate {
            function,
            chain,
            field,
        },
        test,
    })
}

/// The hop along relationship `name` from entity `from`.
fn link(from: &str, name: &str) -> Link {
    let schema = crm_schema();
    let rel = schema.relationship(name).unwrap();
    let (direction, to) = if rel.child == from {
        (Direction::ToParent, rel.parent.clone())
    } else {
        (Direction::ToChildren, rel.child.clone())
    };
    Link {
        relationship: rel.name.clone(),
        direction,
        from: from.into(),
        to,
    }
}

fn cmp(op: CmpOp, value: Value) -> Test {
    Test::Compare { op, value }
}

fn between(low: Value, high: Value) -> Test {
    Test::Between { low, high }
}

fn int(i: i64) -> Value {
    Value::Integer(i)
}

fn dec(x: f64) -> Value {
    Value::Decimal(x)
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// `entity.name test`.
fn field(entity: &str, name: &str, test: Test) -> PlanExpr {
    let ty = crm_schema()
        .entity(entity)
        .unwrap()
        .field(name)
        .unwrap()
        .ty
        .clone();
    PlanExpr::Field(FieldTest {
        field: FieldRef {
            entity: entity.into(),
            field: name.into(),
            ty: segql::check::value_type(&ty),
        },
        test,
    })
}

fn not(e: PlanExpr) -> PlanExpr {
    PlanExpr::Not(Box::new(e))
}

const ALL: PlanExpr = PlanExpr::Const(true);

/// The hops from a contact to its leads, and on to their accounts.
fn leads() -> Vec<(&'static str, PlanExpr)> {
    vec![("lead_parent_contact", ALL)]
}

fn lead_accounts() -> Vec<(&'static str, PlanExpr)> {
    vec![("lead_parent_contact", ALL), ("lead_parent_account", ALL)]
}

use AggregateFn::{Avg, Count, Max, Min, Sum};

/// Every case: the entity, the expression, and the ids (as the data set
/// numbers them) it selects. Each also runs negated, selecting the rest.
fn cases() -> Vec<(&'static str, PlanExpr, Vec<u128>)> {
    let c = "contact";
    vec![
        // count: records without any count 0, both ways round.
        (
            c,
            aggregate(c, Count, &leads(), None, cmp(CmpOp::Ge, int(2))),
            vec![1, 2],
        ),
        (
            c,
            aggregate(c, Count, &leads(), None, cmp(CmpOp::Lt, int(2))),
            vec![3, 4, 5],
        ),
        (
            c,
            aggregate(c, Count, &leads(), None, cmp(CmpOp::Eq, int(0))),
            vec![3, 5],
        ),
        (
            c,
            aggregate(c, Count, &leads(), None, between(dec(0.5), dec(2.5))),
            vec![2, 4],
        ),
        (
            c,
            aggregate(c, Count, &leads(), None, Test::IsNotNull),
            vec![1, 2, 3, 4, 5],
        ),
        (
            c,
            aggregate(
                c,
                Count,
                &[(
                    "lead_parent_contact",
                    field("lead", "score", cmp(CmpOp::Gt, int(1))),
                )],
                None,
                cmp(CmpOp::Ge, int(1)),
            ),
            vec![1, 4],
        ),
        // sum: 0 over no records and over missing values only.
        (
            c,
            aggregate(c, Sum, &leads(), Some("score"), cmp(CmpOp::Eq, int(0))),
            vec![2, 3, 5],
        ),
        (
            c,
            aggregate(c, Sum, &leads(), Some("score"), cmp(CmpOp::Gt, int(2))),
            vec![1, 4],
        ),
        (
            c,
            aggregate(c, Sum, &leads(), Some("score"), cmp(CmpOp::Le, int(3))),
            vec![1, 2, 3, 5],
        ),
        (
            c,
            aggregate(
                c,
                Sum,
                &leads(),
                Some("estimated_value"),
                cmp(CmpOp::Eq, dec(0.75)),
            ),
            vec![1],
        ),
        (
            c,
            aggregate(
                c,
                Sum,
                &leads(),
                Some("estimated_value"),
                cmp(CmpOp::Eq, int(0)),
            ),
            vec![2, 3, 5],
        ),
        // Every digit of a double counts (PostgreSQL's cast to `numeric`
        // alone keeps 15 and would make this 0.3).
        (
            c,
            aggregate(
                c,
                Sum,
                &leads(),
                Some("estimated_value"),
                cmp(CmpOp::Eq, dec(0.30000000000000004)),
            ),
            vec![4],
        ),
        (
            c,
            aggregate(c, Sum, &leads(), Some("score"), Test::IsNotNull),
            vec![1, 2, 3, 4, 5],
        ),
        // avg: a decimal even over integers, missing over no values.
        (
            c,
            aggregate(c, Avg, &leads(), Some("score"), cmp(CmpOp::Eq, dec(1.5))),
            vec![1],
        ),
        (
            c,
            aggregate(c, Avg, &leads(), Some("score"), cmp(CmpOp::Gt, int(1))),
            vec![1, 4],
        ),
        (
            c,
            aggregate(c, Avg, &leads(), Some("score"), cmp(CmpOp::Lt, int(2))),
            vec![1],
        ),
        (
            c,
            aggregate(c, Avg, &leads(), Some("score"), Test::IsNotNull),
            vec![1, 4],
        ),
        (
            c,
            aggregate(
                c,
                Avg,
                &leads(),
                Some("estimated_value"),
                cmp(CmpOp::Eq, dec(0.375)),
            ),
            vec![1],
        ),
        (
            c,
            aggregate(
                c,
                Avg,
                &leads(),
                Some("estimated_value"),
                cmp(CmpOp::Eq, dec(0.30000000000000004)),
            ),
            vec![4],
        ),
        // min and max: missing over no values; text by code point.
        (
            c,
            aggregate(c, Max, &leads(), Some("score"), cmp(CmpOp::Lt, int(100))),
            vec![1, 4],
        ),
        (
            c,
            aggregate(c, Min, &leads(), Some("score"), between(int(1), int(5))),
            vec![1],
        ),
        (
            c,
            aggregate(
                c,
                Min,
                &leads(),
                Some("topic"),
                cmp(CmpOp::Eq, text("Zebra")),
            ),
            vec![1],
        ),
        (
            c,
            aggregate(
                c,
                Max,
                &leads(),
                Some("topic"),
                cmp(CmpOp::Eq, text("école")),
            ),
            vec![1],
        ),
        (
            c,
            aggregate(c, Min, &leads(), Some("topic"), cmp(CmpOp::Lt, text("a"))),
            vec![1],
        ),
        (
            c,
            aggregate(
                c,
                Max,
                &[("interaction_contact", ALL)],
                Some("occurred_on"),
                cmp(
                    CmpOp::Lt,
                    Value::NowPlusSeconds {
                        seconds: -90 * 86_400,
                        midnight: false,
                    },
                ),
            ),
            vec![2],
        ),
        // Fan-in: a contact's leads reach account 10 twice; it counts once.
        (
            c,
            aggregate(c, Count, &lead_accounts(), None, cmp(CmpOp::Eq, int(2))),
            vec![1],
        ),
        (
            c,
            aggregate(c, Count, &lead_accounts(), None, cmp(CmpOp::Eq, int(1))),
            vec![4],
        ),
        (
            c,
            aggregate(
                c,
                Sum,
                &lead_accounts(),
                Some("employees"),
                cmp(CmpOp::Eq, int(55)),
            ),
            vec![1],
        ),
        (
            c,
            aggregate(
                c,
                Avg,
                &lead_accounts(),
                Some("employees"),
                cmp(CmpOp::Eq, dec(27.5)),
            ),
            vec![1],
        ),
        (
            c,
            aggregate(
                c,
                Max,
                &lead_accounts(),
                Some("employees"),
                cmp(CmpOp::Eq, int(50)),
            ),
            vec![1],
        ),
        // A first hop to the parent: a missing or dangling one reaches nothing.
        (
            c,
            aggregate(
                c,
                Count,
                &[("contact_parent_account", ALL)],
                None,
                cmp(CmpOp::Eq, int(0)),
            ),
            vec![4, 5],
        ),
        // Back to the current record, and three hops.
        (
            c,
            aggregate(
                c,
                Count,
                &[
                    ("contact_parent_account", ALL),
                    ("contact_parent_account", ALL),
                ],
                None,
                cmp(CmpOp::Ge, int(2)),
            ),
            vec![1, 2],
        ),
        (
            c,
            aggregate(
                c,
                Sum,
                &[
                    ("contact_parent_account", ALL),
                    ("contact_parent_account", ALL),
                    ("lead_parent_contact", ALL),
                ],
                Some("score"),
                cmp(CmpOp::Eq, int(3)),
            ),
            vec![1, 2],
        ),
        (
            c,
            aggregate(
                c,
                Count,
                &[
                    ("lead_parent_contact", ALL),
                    ("lead_parent_account", ALL),
                    ("contact_parent_account", ALL),
                ],
                None,
                cmp(CmpOp::Eq, int(3)),
            ),
            vec![1],
        ),
        // Filters on hops, nested tests in them, and ordered choices.
        (
            "account",
            aggregate(
                "account",
                Count,
                &[(
                    "contact_parent_account",
                    aggregate(c, Count, &leads(), None, cmp(CmpOp::Ge, int(2))),
                )],
                None,
                cmp(CmpOp::Ge, int(2)),
            ),
            vec![10],
        ),
        (
            "account",
            aggregate(
                "account",
                Max,
                &[("contact_parent_account", ALL)],
                Some("consent_level"),
                cmp(
                    CmpOp::Ge,
                    Value::Choice {
                        code: 4,
                        label: "Marketing".into(),
                    },
                ),
            ),
            vec![10],
        ),
        (
            "lead",
            aggregate(
                "lead",
                Count,
                &[("lead_parent_contact", ALL), ("lead_parent_contact", ALL)],
                None,
                cmp(CmpOp::Eq, int(3)),
            ),
            vec![100, 101, 102],
        ),
        // Under OR (PostgreSQL then tests membership with EXISTS).
        (
            c,
            PlanExpr::Or(vec![
                field(c, "city", cmp(CmpOp::Eq, text("Nowhere"))),
                aggregate(c, Count, &leads(), None, cmp(CmpOp::Ge, int(2))),
            ]),
            vec![1, 2],
        ),
        (
            c,
            PlanExpr::Or(vec![
                field(c, "city", cmp(CmpOp::Eq, text("Nowhere"))),
                aggregate(c, Count, &leads(), None, cmp(CmpOp::Lt, int(2))),
            ]),
            vec![3, 4, 5],
        ),
    ]
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

/// Runs every case, and its negation, on `db`; the wrong answers.
fn wrong_answers(db: &mut dyn Backend) -> Vec<String> {
    let mut wrong = Vec::new();
    for (entity, filter, want) in cases() {
        let every: Vec<u128> = match entity {
            "contact" => (1..=5).collect(),
            "account" => (10..=12).collect(),
            _ => (100..=106).collect(),
        };
        let rest: Vec<u128> = every.into_iter().filter(|n| !want.contains(n)).collect();
        for (filter, want) in [(filter.clone(), want), (not(filter), rest)] {
            let plan = Plan {
                entity: entity.into(),
                filter,
            };
            let name = db.dialect().name();
            match run(db, &plan) {
                Ok(found) if found == ids(&want) => {}
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
    let plan = |field: &str| Plan {
        entity: "contact".into(),
        filter: aggregate(
            "contact",
            Sum,
            &leads(),
            Some(field),
            cmp(CmpOp::Gt, int(0)),
        ),
    };
    (run(db, &plan("score")), run(db, &plan("estimated_value")))
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
