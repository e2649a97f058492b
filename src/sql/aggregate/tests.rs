//! The SQL of aggregate tests, per form. Their meaning on real databases
//! is tested in `tests/it/sql/aggregates.rs`.

use chrono::{TimeZone, Utc};

use crate::check::value_type;
use crate::plan::*;
use crate::schema::crm_schema;
use crate::sql::{to_sql, Dialect, Postgres, SqlOptions, SqlParam, SqlQuery, Sqlite};

/// An aggregate from `from` along `hops` (relationship, filter).
fn agg(
    function: AggregateFn,
    from: &str,
    hops: &[(&str, PlanExpr)],
    field: Option<&str>,
) -> Aggregate {
    let schema = crm_schema();
    let mut at = from.to_string();
    let chain = hops
        .iter()
        .map(|(name, filter)| {
            let rel = schema.relationship(name).unwrap();
            let (direction, to) = if rel.child == at {
                (Direction::ToParent, rel.parent.clone())
            } else {
                (Direction::ToChildren, rel.child.clone())
            };
            let link = Link {
                relationship: rel.name.as_str().into(),
                direction,
                from: std::mem::replace(&mut at, to.clone()).into(),
                to: to.into(),
            };
            Hop {
                link,
                filter: filter.clone(),
            }
        })
        .collect();
    let field = field.map(|name| FieldRef {
        entity: at.as_str().into(),
        field: name.into(),
        ty: value_type(&schema.entity(&at).unwrap().field(name).unwrap().ty),
    });
    Aggregate {
        function,
        chain,
        field,
    }
}

fn cmp(aggregate: Aggregate, op: CmpOp, value: Value) -> PlanExpr {
    PlanExpr::aggregate(AggregateTest {
        aggregate,
        test: Test::Compare { op, value },
    })
}

fn not(e: PlanExpr) -> PlanExpr {
    PlanExpr::Not(Box::new(e))
}

fn field(entity: &str, name: &str, op: CmpOp, value: Value) -> PlanExpr {
    let ty = value_type(&crm_schema().entity(entity).unwrap().field(name).unwrap().ty);
    PlanExpr::Field(FieldTest {
        field: FieldRef {
            entity: entity.into(),
            field: name.into(),
            ty,
        },
        test: Test::Compare { op, value },
    })
}

fn open_lead() -> PlanExpr {
    field(
        "lead",
        "status",
        CmpOp::Eq,
        Value::Choice {
            code: 0,
            label: "Open".into(),
        },
    )
}

fn leads() -> Vec<(&'static str, PlanExpr)> {
    vec![("lead_parent_contact", PlanExpr::Const(true))]
}

fn sql(entity: &str, filter: PlanExpr, dialect: &dyn Dialect) -> SqlQuery {
    let plan = Plan {
        entity: entity.into(),
        filter,
    };
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    to_sql(&plan, &crm_schema(), dialect, &SqlOptions::new(false, now)).unwrap()
}

/// The `WHERE` clause of the SQL, without the first two and last lines.
fn condition(entity: &str, filter: PlanExpr, dialect: &dyn Dialect) -> String {
    let q = sql(entity, filter, dialect);
    let lines: Vec<&str> = q.sql.lines().collect();
    lines[2..lines.len() - 1].join("\n")
}

/// `count(lead(status = "Open")) >= 2` from a contact.
fn two_open_leads() -> PlanExpr {
    cmp(
        agg(
            AggregateFn::Count,
            "contact",
            &[("lead_parent_contact", open_lead())],
            None,
        ),
        CmpOp::Ge,
        Value::Integer(2),
    )
}

#[test]
fn a_test_false_on_no_records_keeps_the_groups_that_pass() {
    let q = sql("contact", two_open_leads(), &Sqlite);
    assert_eq!(
        q.sql,
        "SELECT t0.id
FROM contact AS t0
WHERE t0.id IN (
    SELECT t1.contact_id
    FROM lead AS t1
    WHERE t1.status = ?1
      AND t1.contact_id IS NOT NULL
    GROUP BY +t1.contact_id
    HAVING COUNT(*) >= ?2
  )
ORDER BY t0.id"
    );
    assert_eq!(q.params, [SqlParam::Integer(0), SqlParam::Integer(2)]);
    assert!(q.integer_sums.is_empty());
}

/// SQLite would deliver the groups by walking the foreign key's index and
/// fetching each row at random for its filter or value (see
/// `Dialect::group_by_key`): `+key` makes it scan and sort. Where the index
/// alone covers the groups (`COUNT(*)` of unfiltered rows), or the one group
/// is found through it (correlated), the key stays plain; PostgreSQL's
/// planner chooses for itself.
#[test]
fn sqlite_sorts_the_groups_that_read_their_rows() {
    let group_by = |e: PlanExpr, dialect: &dyn Dialect| -> Vec<String> {
        sql("contact", e, dialect)
            .sql
            .lines()
            .filter_map(|line| line.trim().strip_prefix("GROUP BY ").map(String::from))
            .collect()
    };
    let count_all = cmp(
        agg(AggregateFn::Count, "contact", &leads(), None),
        CmpOp::Ge,
        Value::Integer(2),
    );
    let sum_all = cmp(
        agg(
            AggregateFn::Sum,
            "contact",
            &leads(),
            Some("estimated_value"),
        ),
        CmpOp::Gt,
        Value::Decimal(10.0),
    );
    assert_eq!(group_by(two_open_leads(), &Sqlite), ["+t1.contact_id"]);
    assert_eq!(group_by(sum_all.clone(), &Sqlite), ["+t1.contact_id"]);
    assert_eq!(group_by(count_all.clone(), &Sqlite), ["t1.contact_id"]);
    assert_eq!(group_by(two_open_leads(), &Postgres), ["t1.contact_id"]);
    assert_eq!(group_by(sum_all, &Postgres), ["t1.contact_id"]);
    // Pinned to one contact, the subquery is correlated on the key.
    let pinned = PlanExpr::And(vec![
        field("contact", "id", CmpOp::Eq, Value::Uuid(uuid::Uuid::nil())),
        two_open_leads(),
    ]);
    let correlated = group_by(pinned, &Sqlite);
    assert!(!correlated.is_empty());
    assert!(
        correlated.iter().all(|key| !key.starts_with('+')),
        "{correlated:?}"
    );
}

#[test]
fn a_test_true_on_no_records_drops_the_groups_that_fail() {
    // `count(lead) < 2` holds for a contact without leads.
    let e = cmp(
        agg(AggregateFn::Count, "contact", &leads(), None),
        CmpOp::Lt,
        Value::Integer(2),
    );
    assert_eq!(
        condition("contact", e, &Sqlite),
        "WHERE NOT EXISTS (
    SELECT 1
    FROM (
      SELECT t1.contact_id AS grp
      FROM lead AS t1
      WHERE t1.contact_id IS NOT NULL
      GROUP BY t1.contact_id
      HAVING COUNT(*) >= ?1
    ) AS g1
    WHERE g1.grp = t0.id
  )"
    );
}

#[test]
fn negation_swaps_in_and_not_exists() {
    let count = || agg(AggregateFn::Count, "contact", &leads(), None);
    let ge2 = condition(
        "contact",
        not(cmp(count(), CmpOp::Ge, Value::Integer(2))),
        &Sqlite,
    );
    assert!(ge2.starts_with("WHERE NOT EXISTS ("), "{ge2}");
    assert!(ge2.contains("HAVING COUNT(*) >= ?1"), "{ge2}");
    let lt2 = condition(
        "contact",
        not(cmp(count(), CmpOp::Lt, Value::Integer(2))),
        &Sqlite,
    );
    assert!(lt2.starts_with("WHERE t0.id IN ("), "{lt2}");
    assert!(lt2.contains("HAVING COUNT(*) >= ?1"), "{lt2}");
}

#[test]
fn a_negated_test_on_a_value_that_can_be_missing_is_null_safe() {
    // not (max(score) > 5): also where the max is missing, in the groups
    // of leads without scores.
    let e = not(cmp(
        agg(AggregateFn::Max, "contact", &leads(), Some("score")),
        CmpOp::Gt,
        Value::Integer(5),
    ));
    let c = condition("contact", e, &Sqlite);
    assert!(c.starts_with("WHERE NOT EXISTS ("), "{c}");
    assert!(c.contains("HAVING MAX(t1.score) > ?1"), "{c}");
}

#[test]
fn sums_and_averages_hide_the_dialects_differences() {
    let sum = |f: &str| agg(AggregateFn::Sum, "contact", &leads(), Some(f));
    let avg = |f: &str| agg(AggregateFn::Avg, "contact", &leads(), Some(f));
    let having = |e: PlanExpr, d: &dyn Dialect| {
        let c = condition("contact", e, d);
        c.lines()
            .find(|l| l.contains("HAVING"))
            .unwrap()
            .trim()
            .to_string()
    };
    let sum_score = || cmp(sum("score"), CmpOp::Gt, Value::Integer(10));
    assert_eq!(
        having(sum_score(), &Sqlite),
        "HAVING COALESCE(SUM(t1.score), 0) > ?1"
    );
    assert_eq!(
        having(sum_score(), &Postgres),
        "HAVING CAST(COALESCE(SUM(t1.score), 0) AS bigint) > $1"
    );
    let sum_value = || cmp(sum("estimated_value"), CmpOp::Gt, Value::Integer(10));
    assert_eq!(
        having(sum_value(), &Sqlite),
        "HAVING TOTAL(t1.estimated_value) > ?1"
    );
    // Doubles first; each double's exact value in `numeric` for the groups
    // their sum cannot decide, one group at a time (the values are checked
    // on a server by the semantics cases, tests/it/semantics/cases.toml).
    let checked = condition("contact", sum_value(), &Postgres);
    for part in [
        "SELECT t1.contact_id AS grp, COALESCE(SUM(CASE WHEN NOT ABS(t1.estimated_value) < "
            .to_string(),
        ") AS c1\n".to_string(),
        "WHERE CASE".to_string(),
        "THEN c1.quick".to_string(),
        format!(
            "SELECT CAST(COALESCE(SUM({}), 0) AS double precision)",
            Postgres.exact_decimal("t2.estimated_value")
        ),
        "WHERE t2.contact_id = c1.grp".to_string(),
        "END > $1".to_string(),
    ] {
        assert!(checked.contains(&part), "{part} in {checked}");
    }
    let avg_score = || cmp(avg("score"), CmpOp::Gt, Value::Integer(10));
    assert_eq!(having(avg_score(), &Sqlite), "HAVING AVG(t1.score) > ?1");
    assert_eq!(
        having(avg_score(), &Postgres),
        "HAVING CAST(AVG(CAST(t1.score AS numeric)) AS double precision) > $1"
    );
    // An integer mean compares with decimals: the literal stays 10.0.
    assert_eq!(
        sql("contact", avg_score(), &Sqlite).params,
        [SqlParam::Real(10.0)]
    );
}

#[test]
fn integer_sums_are_named_for_overflow_errors() {
    let e = PlanExpr::Or(vec![
        cmp(
            agg(AggregateFn::Sum, "contact", &leads(), Some("score")),
            CmpOp::Gt,
            Value::Integer(1),
        ),
        cmp(
            agg(
                AggregateFn::Sum,
                "contact",
                &leads(),
                Some("estimated_value"),
            ),
            CmpOp::Gt,
            Value::Integer(1),
        ),
    ]);
    let q = sql("contact", e, &Sqlite);
    assert_eq!(q.integer_sums, ["sum(lead via lead_parent_contact.score)"]);
    // A sum folded away is not computed, so not named.
    let folded = cmp(
        agg(
            AggregateFn::Sum,
            "contact",
            &[("lead_parent_contact", PlanExpr::Const(false))],
            Some("score"),
        ),
        CmpOp::Gt,
        Value::Integer(1),
    );
    assert!(sql("contact", folded, &Sqlite).integer_sums.is_empty());
}

#[test]
fn is_not_null_of_avg_min_max_is_an_existence_test() {
    let max = || {
        PlanExpr::aggregate(AggregateTest {
            aggregate: agg(AggregateFn::Max, "contact", &leads(), Some("score")),
            test: Test::IsNotNull,
        })
    };
    assert_eq!(
        condition("contact", max(), &Sqlite),
        "WHERE t0.id IN (
    SELECT t1.contact_id
    FROM lead AS t1
    WHERE t1.score IS NOT NULL
  )"
    );
    assert_eq!(
        condition("contact", not(max()), &Postgres),
        "WHERE NOT EXISTS (
    SELECT 1
    FROM lead AS t1
    WHERE t1.contact_id = t0.id
      AND t1.score IS NOT NULL
  )"
    );
    // `count` and `sum` always have a value.
    let count = PlanExpr::aggregate(AggregateTest {
        aggregate: agg(AggregateFn::Count, "contact", &leads(), None),
        test: Test::IsNotNull,
    });
    assert_eq!(condition("contact", not(count), &Sqlite), "WHERE FALSE");
}

#[test]
fn chains_join_their_tables_and_fan_in_counts_records_once() {
    // From a contact, the accounts of its leads: one account may be reached
    // through several leads.
    let hops = [
        ("lead_parent_contact", open_lead()),
        (
            "lead_parent_account",
            field("account", "employees", CmpOp::Gt, Value::Integer(5)),
        ),
    ];
    let count = cmp(
        agg(AggregateFn::Count, "contact", &hops, None),
        CmpOp::Ge,
        Value::Integer(2),
    );
    assert_eq!(
        condition("contact", count, &Postgres),
        "WHERE t0.id IN (
    SELECT t1.contact_id
    FROM lead AS t1
    JOIN account AS t2 ON t2.id = t1.account_id
    WHERE t1.status = $1
      AND t2.employees > $2
      AND t1.contact_id IS NOT NULL
    GROUP BY t1.contact_id
    HAVING COUNT(DISTINCT t2.id) >= $3
  )"
    );
    let sum = cmp(
        agg(AggregateFn::Sum, "contact", &hops, Some("annual_revenue")),
        CmpOp::Gt,
        Value::Decimal(1.5),
    );
    assert_eq!(
        condition("contact", sum, &Sqlite),
        "WHERE t0.id IN (
    SELECT d1.grp
    FROM (
      SELECT DISTINCT t1.contact_id AS grp, t2.id AS rec, t2.annual_revenue AS val
      FROM lead AS t1
      JOIN account AS t2 ON t2.id = t1.account_id
      WHERE t1.status = ?1
        AND t2.employees > ?2
        AND t1.contact_id IS NOT NULL
    ) AS d1
    GROUP BY d1.grp
    HAVING TOTAL(d1.val) > ?3
  )"
    );
    // Three hops, from a lead: its contact's account's contacts.
    let three = [
        ("lead_parent_contact", PlanExpr::Const(true)),
        ("contact_parent_account", PlanExpr::Const(true)),
        ("contact_parent_account", PlanExpr::Const(true)),
    ];
    let e = cmp(
        agg(AggregateFn::Count, "lead", &three, None),
        CmpOp::Ge,
        Value::Integer(3),
    );
    assert_eq!(
        condition("lead", e, &Sqlite),
        "WHERE t0.contact_id IN (
    SELECT t1.id
    FROM contact AS t1
    JOIN account AS t2 ON t2.id = t1.account_id
    JOIN contact AS t3 ON t3.account_id = t2.id
    GROUP BY +t1.id
    HAVING COUNT(*) >= ?1
  )"
    );
}

#[test]
fn under_or_postgres_tests_membership_with_exists() {
    let e = || {
        PlanExpr::Or(vec![
            field("contact", "city", CmpOp::Eq, Value::Text("Oslo".into())),
            cmp(
                agg(AggregateFn::Count, "contact", &leads(), None),
                CmpOp::Ge,
                Value::Integer(2),
            ),
        ])
    };
    let pg = condition("contact", e(), &Postgres);
    assert!(pg.contains("OR EXISTS (\n"), "{pg}");
    assert!(pg.contains("WHERE g1.grp = t0.id"), "{pg}");
    let sqlite = condition("contact", e(), &Sqlite);
    assert!(sqlite.contains("OR t0.id IN (\n"), "{sqlite}");
}

#[test]
fn text_min_and_max_order_by_code_point() {
    let e = cmp(
        agg(AggregateFn::Min, "contact", &leads(), Some("topic")),
        CmpOp::Lt,
        Value::Text("M".into()),
    );
    let c = condition("contact", e, &Postgres);
    assert!(c.contains("HAVING MIN(t1.topic COLLATE \"C\") < $1"), "{c}");
}

#[test]
fn a_false_hop_filter_decides_on_no_records_and_binds_nothing() {
    let none = || {
        agg(
            AggregateFn::Count,
            "contact",
            &[(
                "lead_parent_contact",
                PlanExpr::And(vec![open_lead(), PlanExpr::Const(false)]),
            )],
            None,
        )
    };
    let lt = sql(
        "contact",
        cmp(none(), CmpOp::Lt, Value::Integer(2)),
        &Sqlite,
    );
    assert!(!lt.sql.contains("WHERE"), "{}", lt.sql);
    assert!(lt.params.is_empty());
    let ge = sql(
        "contact",
        cmp(none(), CmpOp::Ge, Value::Integer(2)),
        &Sqlite,
    );
    assert!(ge.sql.contains("WHERE FALSE"), "{}", ge.sql);
    assert!(ge.params.is_empty());
}

#[test]
fn relative_times_are_parameters_at_the_reference_time() {
    let e = cmp(
        agg(
            AggregateFn::Max,
            "contact",
            &[("interaction_contact", PlanExpr::Const(true))],
            Some("occurred_on"),
        ),
        CmpOp::Lt,
        Value::NowPlusSeconds {
            seconds: -90 * 86400,
            midnight: false,
        },
    );
    let q = sql("contact", e, &Sqlite);
    assert!(
        q.sql.contains("HAVING MAX(t1.occurred_on) < ?1"),
        "{}",
        q.sql
    );
    assert_eq!(q.params, [SqlParam::Text("2025-10-17T12:00:00Z".into())]);
}

#[test]
fn subqueries_in_hop_filters_take_aliases_past_the_chain() {
    let account = PlanExpr::Related(Related {
        link: Link {
            relationship: "lead_parent_account".into(),
            direction: Direction::ToParent,
            from: "lead".into(),
            to: "account".into(),
        },
        quantifier: Quantifier::Any,
        filter: Box::new(PlanExpr::Const(true)),
    });
    let hops = [
        ("lead_parent_contact", account),
        ("lead_parent_contact", PlanExpr::Const(true)),
        ("interaction_contact", PlanExpr::Const(true)),
    ];
    let e = cmp(
        agg(AggregateFn::Count, "contact", &hops, None),
        CmpOp::Ge,
        Value::Integer(2),
    );
    assert_eq!(
        condition("contact", e, &Sqlite),
        "WHERE t0.id IN (
    SELECT t1.contact_id
    FROM lead AS t1
    JOIN contact AS t2 ON t2.id = t1.contact_id
    JOIN interaction AS t3 ON t3.contact_id = t2.id
    WHERE t1.account_id IN (
        SELECT t4.id
        FROM account AS t4
      )
      AND t1.contact_id IS NOT NULL
    GROUP BY +t1.contact_id
    HAVING COUNT(DISTINCT t3.id) >= ?1
  )"
    );
}
