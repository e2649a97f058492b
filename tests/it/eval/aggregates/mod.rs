//! Aggregates (SPEC §2.5) in the memory engine, on plans built by hand: the
//! values of nothing, NULLs, distinct records where paths meet, chains of
//! several hops with filters, exact arithmetic and integer overflow. Each
//! case is also checked one record at a time (`build::run`). `random.rs`
//! compares many generated aggregates with a plain reference.

mod build;
mod random;

use chrono::{DateTime, NaiveDate, Utc};
use segql::eval::{self, Store, StoreBuilder};
use segql::plan::*;
use segql::schema::crm_schema;
use segql::Error;
use uuid::Uuid;

use build::*;
use AggregateFn::{Avg, Max, Min, Sum};
use CmpOp::{Eq, Ge, Gt, Lt};

fn now() -> DateTime<Utc> {
    "2026-01-15T12:00:00Z".parse().unwrap()
}

fn uuid(n: u128) -> Value {
    Value::Uuid(Uuid::from_u128(n))
}

fn at(date: &str) -> Value {
    Value::DateTime(format!("{date}T00:00:00Z").parse().unwrap())
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// Accounts 0x201.., contacts 0x101.., leads 0x301.., interactions 0x401..
///
/// | contact | account | leads (account, score, status, value, topic)                      |
/// |---------|---------|-------------------------------------------------------------------|
/// | 0x101   | 0x201   | 0x301 (201, 10, Open, 100.5, Expo), 0x302 (201, 20, Qualified, 50, apple), 0x303 (202, -, Open, -, Été) |
/// | 0x102   | 0x202   | 0x304 (202, 5, Open)                                              |
/// | 0x103   | -       | 0x305 (-, -, -)                                                   |
/// | 0x104   | 0x201   | none                                                              |
///
/// Lead 0x306 has no contact (account 0x203, score 70). Accounts: 0x201
/// has 10 employees, 0x202 has 20, 0x203 none. Interactions: 0x401 and
/// 0x402 of 0x101 (opened, 2026-01-14 and 2025-09-01), 0x403 of 0x102
/// (clicked, 2026-01-10), 0x404 of 0x104 (opened, 2025-10-01).
fn crm() -> Store {
    let mut b = StoreBuilder::new(&crm_schema());
    for (id, employees) in [(0x201, Some(10)), (0x202, Some(20)), (0x203, None)] {
        let mut row = vec![("id", uuid(id))];
        if let Some(n) = employees {
            row.push(("employees", Value::Integer(n)));
        }
        b.insert("account", row).unwrap();
    }
    for (id, account, role) in [
        (0x101, Some(0x201), 1),
        (0x102, Some(0x202), 2),
        (0x103, None, 1),
        (0x104, Some(0x201), 2),
    ] {
        let mut row = vec![("id", uuid(id)), ("role", Value::Integer(role))];
        if let Some(a) = account {
            row.push(("account_id", uuid(a)));
        }
        b.insert("contact", row).unwrap();
    }
    type Lead = (
        u128,
        Option<u128>,
        Option<u128>,
        Option<i64>,
        Option<i64>,
        Option<f64>,
        Option<&'static str>,
    );
    let leads: [Lead; 6] = [
        (
            0x301,
            Some(0x101),
            Some(0x201),
            Some(10),
            Some(0),
            Some(100.5),
            Some("Expo"),
        ),
        (
            0x302,
            Some(0x101),
            Some(0x201),
            Some(20),
            Some(1),
            Some(50.0),
            Some("apple"),
        ),
        (
            0x303,
            Some(0x101),
            Some(0x202),
            None,
            Some(0),
            None,
            Some("Été"),
        ),
        (
            0x304,
            Some(0x102),
            Some(0x202),
            Some(5),
            Some(0),
            None,
            None,
        ),
        (0x305, Some(0x103), None, None, None, None, None),
        (0x306, None, Some(0x203), Some(70), None, None, None),
    ];
    for (id, contact, account, score, status, value, topic) in leads {
        let mut row = vec![("id", uuid(id))];
        if let Some(c) = contact {
            row.push(("contact_id", uuid(c)));
        }
        if let Some(a) = account {
            row.push(("account_id", uuid(a)));
        }
        if let Some(s) = score {
            row.push(("score", Value::Integer(s)));
        }
        if let Some(s) = status {
            row.push(("status", Value::Integer(s)));
        }
        if let Some(v) = value {
            row.push(("estimated_value", Value::Decimal(v)));
        }
        if let Some(t) = topic {
            row.push(("topic", text(t)));
        }
        b.insert("lead", row).unwrap();
    }
    for (id, contact, ty, on) in [
        (0x401, 0x101, 3, "2026-01-14"),
        (0x402, 0x101, 3, "2025-09-01"),
        (0x403, 0x102, 4, "2026-01-10"),
        (0x404, 0x104, 3, "2025-10-01"),
    ] {
        b.insert(
            "interaction",
            [
                ("id", uuid(id)),
                ("contact_id", uuid(contact)),
                ("type", Value::Integer(ty)),
                ("occurred_on", at(on)),
            ],
        )
        .unwrap();
    }
    b.build().unwrap()
}

fn contacts(filter: PlanExpr) -> Vec<u128> {
    run(&crm(), now(), "contact", filter)
}

fn leads_of_contact() -> Vec<(&'static str, PlanExpr)> {
    vec![("lead_parent_contact", any())]
}

fn over_leads(function: AggregateFn, field: &str) -> Aggregate {
    aggregate(function, "contact", leads_of_contact(), Some(field))
}

#[test]
fn a_sum_of_nothing_is_zero() {
    let sum = over_leads(Sum, "score");
    // 0x103's one lead has no score, 0x104 has no lead.
    assert_eq!(contacts(cmp(&sum, Eq, Value::Integer(0))), [0x103, 0x104]);
    assert_eq!(contacts(cmp(&sum, Gt, Value::Integer(0))), [0x101, 0x102]);
    assert_eq!(contacts(cmp(&sum, Eq, Value::Integer(30))), [0x101]);
    let value = over_leads(Sum, "estimated_value");
    assert_eq!(
        contacts(cmp(&value, Eq, Value::Decimal(0.0))),
        [0x102, 0x103, 0x104]
    );
    assert_eq!(contacts(cmp(&value, Eq, Value::Decimal(150.5))), [0x101]);
    // `is not null` on a sum is always true, so `is null` never is.
    assert_eq!(contacts(test(&sum, Test::IsNotNull)).len(), 4);
    assert!(contacts(not(test(&value, Test::IsNotNull))).is_empty());
}

#[test]
fn avg_min_max_of_nothing_are_missing_and_their_not_holds() {
    for function in [Avg, Min, Max] {
        let a = over_leads(function, "score");
        assert_eq!(contacts(test(&a, Test::IsNotNull)), [0x101, 0x102], "{a}");
        assert_eq!(contacts(not(test(&a, Test::IsNotNull))), [0x103, 0x104]);
        // Every comparison with a missing value is false, whatever it says…
        let below = cmp(&a, Lt, Value::Integer(1000));
        assert_eq!(contacts(below.clone()), [0x101, 0x102], "{a}");
        let between = test(
            &a,
            Test::between(Value::Integer(-1000), Value::Integer(1000)),
        );
        assert_eq!(contacts(between.clone()), [0x101, 0x102], "{a}");
        // …so its `not` is true.
        assert_eq!(contacts(not(below)), [0x103, 0x104], "{a}");
        assert_eq!(contacts(not(between)), [0x103, 0x104], "{a}");
    }
    assert_eq!(
        contacts(cmp(&over_leads(Avg, "score"), Eq, Value::Integer(15))),
        [0x101]
    );
    assert_eq!(
        contacts(cmp(&over_leads(Min, "score"), Eq, Value::Integer(5))),
        [0x102]
    );
    assert_eq!(
        contacts(cmp(&over_leads(Max, "score"), Eq, Value::Decimal(20.0))),
        [0x101]
    );
}

#[test]
fn a_column_of_nulls_sums_to_zero_and_has_no_average() {
    // Every lead of 0x103 (and every lead in this store) lacks a value.
    let mut b = StoreBuilder::new(&crm_schema());
    b.insert("contact", [("id", uuid(1))]).unwrap();
    for id in [10, 11] {
        b.insert("lead", [("id", uuid(id)), ("contact_id", uuid(1))])
            .unwrap();
    }
    let store = b.build().unwrap();
    let run = |e| run(&store, now(), "contact", e);
    assert_eq!(
        run(cmp(
            &count("contact", leads_of_contact()),
            Eq,
            Value::Integer(2)
        )),
        [1]
    );
    for field in ["score", "estimated_value"] {
        let sum = over_leads(Sum, field);
        assert_eq!(run(cmp(&sum, Eq, Value::Integer(0))), [1], "{sum}");
        for function in [Avg, Min, Max] {
            let a = over_leads(function, field);
            assert!(run(test(&a, Test::IsNotNull)).is_empty(), "{a}");
            assert_eq!(run(not(cmp(&a, Ge, Value::Integer(0)))), [1], "{a}");
        }
    }
    for (field, value) in [("topic", text("")), ("created_on", at("2020-01-01"))] {
        let max = over_leads(Max, field);
        assert!(run(cmp(&max, Ge, value)).is_empty(), "{max}");
    }
}

#[test]
fn records_reached_along_several_paths_count_once() {
    // 0x101's three leads are on accounts 0x201, 0x201 and 0x202.
    let accounts = vec![
        ("lead_parent_contact", any()),
        ("lead_parent_account", any()),
    ];
    let distinct = count("contact", accounts.clone());
    assert_eq!(contacts(cmp(&distinct, Eq, Value::Integer(2))), [0x101]);
    assert_eq!(contacts(cmp(&distinct, Eq, Value::Integer(1))), [0x102]);
    assert_eq!(
        contacts(cmp(&distinct, Eq, Value::Integer(0))),
        [0x103, 0x104]
    );
    // Each account's employees once: 10 + 20, not 10 + 10 + 20.
    let employees = aggregate(Sum, "contact", accounts.clone(), Some("employees"));
    assert_eq!(contacts(cmp(&employees, Eq, Value::Integer(30))), [0x101]);
    let avg = aggregate(Avg, "contact", accounts, Some("employees"));
    assert_eq!(contacts(cmp(&avg, Eq, Value::Integer(15))), [0x101]);
    // A chain may come back to the record itself.
    let colleagues = count(
        "contact",
        vec![
            ("contact_parent_account", any()),
            ("contact_parent_account", any()),
        ],
    );
    assert_eq!(
        contacts(cmp(&colleagues, Eq, Value::Integer(2))),
        [0x101, 0x104]
    );
    assert_eq!(contacts(cmp(&colleagues, Eq, Value::Integer(0))), [0x103]);
}

#[test]
fn chains_of_three_hops_with_filters() {
    let store = crm();
    let open = || field("lead", "status", Eq, choice(0));
    // Accounts → contacts → open leads → their accounts (paths meet).
    let reach = count(
        "account",
        vec![
            ("contact_parent_account", any()),
            ("lead_parent_contact", open()),
            ("lead_parent_account", any()),
        ],
    );
    let on_accounts = |e| run(&store, now(), "account", e);
    assert_eq!(on_accounts(cmp(&reach, Eq, Value::Integer(2))), [0x201]);
    assert_eq!(on_accounts(cmp(&reach, Eq, Value::Integer(1))), [0x202]);
    assert_eq!(on_accounts(cmp(&reach, Eq, Value::Integer(0))), [0x203]);
    // Interactions → their decision-maker contact → its account → leads
    // scoring over 5: two parents, then children.
    let scored = count(
        "interaction",
        vec![
            (
                "interaction_contact",
                field("contact", "role", Eq, choice(1)),
            ),
            ("contact_parent_account", any()),
            (
                "lead_parent_account",
                field("lead", "score", Gt, Value::Integer(5)),
            ),
        ],
    );
    let on_interactions = |e| run(&store, now(), "interaction", e);
    assert_eq!(
        on_interactions(cmp(&scored, Eq, Value::Integer(2))),
        [0x401, 0x402]
    );
    assert_eq!(
        on_interactions(cmp(&scored, Eq, Value::Integer(0))),
        [0x403, 0x404]
    );
    let top = aggregate(
        Max,
        "interaction",
        vec![
            ("interaction_contact", any()),
            ("contact_parent_account", any()),
            ("lead_parent_account", any()),
        ],
        Some("score"),
    );
    assert_eq!(
        on_interactions(cmp(&top, Eq, Value::Integer(20))),
        [0x401, 0x402, 0x404]
    );
    assert_eq!(on_interactions(cmp(&top, Eq, Value::Integer(5))), [0x403]);
    // Accounts → contacts → their opened interactions: children only.
    let opened = count(
        "account",
        vec![
            ("contact_parent_account", any()),
            (
                "interaction_contact",
                field("interaction", "type", Eq, choice(3)),
            ),
        ],
    );
    assert_eq!(on_accounts(cmp(&opened, Eq, Value::Integer(3))), [0x201]);
    assert_eq!(
        on_accounts(cmp(&opened, Eq, Value::Integer(0))),
        [0x202, 0x203]
    );
}

#[test]
fn from_a_lead_through_its_contact() {
    // SPEC: from a lead, `count(contact.interaction(type = "Email Opened"))`.
    let opened = count(
        "lead",
        vec![
            ("lead_parent_contact", any()),
            (
                "interaction_contact",
                field("interaction", "type", Eq, choice(3)),
            ),
        ],
    );
    let leads = |e| run(&crm(), now(), "lead", e);
    assert_eq!(
        leads(cmp(&opened, Ge, Value::Integer(1))),
        [0x301, 0x302, 0x303]
    );
    // No contact, or a contact failing the hop's filter: a count of 0.
    assert_eq!(
        leads(cmp(&opened, Eq, Value::Integer(0))),
        [0x304, 0x305, 0x306]
    );
    let of_employees = count(
        "lead",
        vec![
            (
                "lead_parent_contact",
                field("contact", "role", Eq, choice(2)),
            ),
            ("interaction_contact", any()),
        ],
    );
    assert_eq!(leads(cmp(&of_employees, Eq, Value::Integer(1))), [0x304]);
    assert_eq!(leads(cmp(&of_employees, Eq, Value::Integer(0))).len(), 5);
    // One hop to the parent: the parent's own value, or nothing.
    let employees = aggregate(
        Sum,
        "lead",
        vec![("lead_parent_account", any())],
        Some("employees"),
    );
    assert_eq!(
        leads(cmp(&employees, Eq, Value::Integer(0))),
        [0x305, 0x306]
    );
    let most = aggregate(
        Max,
        "lead",
        vec![("lead_parent_account", any())],
        Some("employees"),
    );
    assert_eq!(leads(not(test(&most, Test::IsNotNull))), [0x305, 0x306]);
}

#[test]
fn dates_choices_and_text_order_as_their_fields_do() {
    // "Last open more than 90 days ago": now - 90d is 2025-10-17T12:00Z.
    let last_open = aggregate(
        Max,
        "contact",
        vec![(
            "interaction_contact",
            field("interaction", "type", Eq, choice(3)),
        )],
        Some("occurred_on"),
    );
    let long_ago = Value::NowPlusSeconds {
        seconds: -90 * 86_400,
        midnight: false,
    };
    assert_eq!(contacts(cmp(&last_open, Lt, long_ago.clone())), [0x104]);
    assert_eq!(
        contacts(not(cmp(&last_open, Lt, long_ago))),
        [0x101, 0x102, 0x103]
    );
    let first = aggregate(
        Min,
        "contact",
        vec![("interaction_contact", any())],
        Some("occurred_on"),
    );
    assert_eq!(
        contacts(cmp(
            &first,
            Lt,
            Value::Date(NaiveDate::from_ymd_opt(2025, 10, 1).unwrap())
        )),
        [0x101]
    );
    // Choices by code.
    let status = over_leads(Max, "status");
    assert_eq!(contacts(cmp(&status, Eq, choice(1))), [0x101]);
    assert_eq!(
        contacts(cmp(&over_leads(Min, "status"), Eq, choice(0))),
        [0x101, 0x102]
    );
    // Text by code point: "Expo" < "apple" < "Été".
    assert_eq!(
        contacts(cmp(&over_leads(Min, "topic"), Eq, text("Expo"))),
        [0x101]
    );
    assert_eq!(
        contacts(cmp(&over_leads(Max, "topic"), Eq, text("Été"))),
        [0x101]
    );
    assert_eq!(
        contacts(cmp(&over_leads(Max, "topic"), Gt, text("z"))),
        [0x101]
    );
}

#[test]
fn text_extremes_of_a_column_that_does_not_repeat() {
    // Unique values are stored as plain text, not a dictionary.
    let mut b = StoreBuilder::new(&crm_schema());
    for c in 0..300u128 {
        b.insert("contact", [("id", uuid(c))]).unwrap();
        for (i, topic) in [format!("t{c:03}"), format!("T{c:03}é")]
            .into_iter()
            .enumerate()
        {
            let id = 1000 + 2 * c + i as u128;
            b.insert(
                "lead",
                [
                    ("id", uuid(id)),
                    ("contact_id", uuid(c)),
                    ("topic", text(&topic)),
                ],
            )
            .unwrap();
        }
    }
    let store = b.build().unwrap();
    assert!(store.columns("lead").contains(&("topic".into(), "text")));
    let run = |e| run(&store, now(), "contact", e);
    assert_eq!(run(cmp(&over_leads(Max, "topic"), Eq, text("t007"))), [7]);
    assert_eq!(
        run(cmp(&over_leads(Min, "topic"), Eq, text("T123é"))),
        [123]
    );
    assert_eq!(
        run(cmp(&over_leads(Min, "topic"), Lt, text("T002"))),
        [0, 1]
    );
}

#[test]
fn aggregates_inside_filters() {
    // Accounts with a contact that has at least two leads.
    let busy = count(
        "account",
        vec![(
            "contact_parent_account",
            cmp(&count("contact", leads_of_contact()), Ge, Value::Integer(2)),
        )],
    );
    assert_eq!(
        run(&crm(), now(), "account", cmp(&busy, Ge, Value::Integer(1))),
        [0x201]
    );
}

#[test]
fn counts_agree_with_has_quantifiers() {
    let open = field("lead", "status", Eq, choice(0));
    let n = count("contact", vec![("lead_parent_contact", open.clone())]);
    let link = hop("contact", "lead_parent_contact", any()).link;
    for (quantifier, test) in [
        (Quantifier::Any, cmp(&n, Ge, Value::Integer(1))),
        (Quantifier::No, not(cmp(&n, Ge, Value::Integer(1)))),
        (Quantifier::AtLeast(2), cmp(&n, Ge, Value::Integer(2))),
        (Quantifier::AtMost(1), not(cmp(&n, Gt, Value::Integer(1)))),
        (Quantifier::Exactly(1), cmp(&n, Eq, Value::Integer(1))),
    ] {
        let has = PlanExpr::Related(Related {
            link: link.clone(),
            quantifier,
            filter: Box::new(open.clone()),
        });
        assert_eq!(contacts(test), contacts(has), "{quantifier:?}");
    }
    // A decimal literal compares exactly with a count.
    assert_eq!(contacts(cmp(&n, Gt, Value::Decimal(1.5))), [0x101]);
}

/// One contact (id 1) with a lead per value of `field`.
fn one_contact_with(field: &str, values: &[Value]) -> Store {
    let mut b = StoreBuilder::new(&crm_schema());
    b.insert("contact", [("id", uuid(1))]).unwrap();
    b.insert("contact", [("id", uuid(2))]).unwrap();
    for (i, v) in values.iter().enumerate() {
        b.insert(
            "lead",
            [
                ("id", uuid(100 + i as u128)),
                ("contact_id", uuid(1)),
                (field, v.clone()),
            ],
        )
        .unwrap();
    }
    b.build().unwrap()
}

#[test]
fn an_average_of_integers_is_a_decimal_rounded_once() {
    let scores = |v: &[i64]| {
        one_contact_with(
            "score",
            &v.iter().map(|&i| Value::Integer(i)).collect::<Vec<_>>(),
        )
    };
    let avg = over_leads(Avg, "score");
    let store = scores(&[1, 2]);
    let run1 = |store: &Store, e| run(store, now(), "contact", e);
    assert_eq!(run1(&store, cmp(&avg, Eq, Value::Decimal(1.5))), [1]);
    assert!(run1(&store, cmp(&avg, Eq, Value::Integer(1))).is_empty());
    assert_eq!(run1(&store, cmp(&avg, Gt, Value::Integer(1))), [1]);
    // Their sum leaves i64, their average does not: no error, and the exact
    // average i64::MAX - 0.5 rounds to 2^63.
    let store = scores(&[i64::MAX, i64::MAX - 1]);
    assert_eq!(
        run1(
            &store,
            cmp(&avg, Eq, Value::Decimal(9_223_372_036_854_775_808.0))
        ),
        [1]
    );
    // Three scores summing to 25220179569764179, whose exact average
    // 8406726523254726.33… rounds to …726; rounding the sum to a double
    // first (…180) would make it …726.67 and round to …727.
    let store = scores(&[
        8_406_726_523_254_726,
        8_406_726_523_254_726,
        8_406_726_523_254_727,
    ]);
    assert_eq!(
        run1(
            &store,
            cmp(&avg, Eq, Value::Decimal(8_406_726_523_254_726.0))
        ),
        [1]
    );
}

#[test]
fn an_integer_sum_outside_i64_is_an_error_naming_it() {
    let sum = over_leads(Sum, "score");
    let store = one_contact_with("score", &[Value::Integer(i64::MAX), Value::Integer(1)]);
    let plan = Plan {
        entity: "contact".into(),
        filter: cmp(&sum, Gt, Value::Integer(0)),
    };
    let want = Error::SumOverflow {
        aggregate: "sum(lead via lead_parent_contact.score)".into(),
    };
    assert_eq!(eval::evaluate(&plan, &store, now()), Err(want.clone()));
    assert_eq!(eval::count(&plan, &store, now()), Err(want.clone()));
    assert_eq!(
        eval::contains(&plan, &store, Uuid::from_u128(1), now()),
        Err(want.clone())
    );
    // Under `not` too.
    let negated = Plan {
        entity: "contact".into(),
        filter: not(plan.filter.clone()),
    };
    assert_eq!(eval::evaluate(&negated, &store, now()), Err(want));
    // Contact 2's own sum is fine.
    assert_eq!(
        eval::contains(&plan, &store, Uuid::from_u128(2), now()),
        Ok(false)
    );
    // Only the final value must fit: i64::MAX + 1 - 1 is i64::MAX.
    let store = one_contact_with(
        "score",
        &[
            Value::Integer(i64::MAX),
            Value::Integer(1),
            Value::Integer(-1),
        ],
    );
    assert_eq!(
        run(
            &store,
            now(),
            "contact",
            cmp(&sum, Eq, Value::Integer(i64::MAX))
        ),
        [1]
    );
    let store = one_contact_with("score", &[Value::Integer(i64::MIN), Value::Integer(-1)]);
    assert!(matches!(
        try_run(&store, now(), "contact", cmp(&sum, Lt, Value::Integer(0))),
        Err(Error::SumOverflow { .. })
    ));
}

#[test]
fn decimal_sums_are_the_double_nearest_the_exact_sum() {
    let sum = over_leads(Sum, "estimated_value");
    let avg = over_leads(Avg, "estimated_value");
    let decimals = |v: &[f64]| {
        one_contact_with(
            "estimated_value",
            &v.iter().map(|&x| Value::Decimal(x)).collect::<Vec<_>>(),
        )
    };
    let is = |store: &Store, a: &Aggregate, x: f64| {
        run(store, now(), "contact", cmp(a, Eq, Value::Decimal(x))) == [1]
    };
    // Summed naively, 1e16 + 1 rounds back to 1e16 and the total is 0.
    let store = decimals(&[1e16, 1.0, -1e16]);
    assert!(is(&store, &sum, 1.0));
    assert!(is(&store, &avg, 1.0 / 3.0));
    // Compensation alone loses the 1 under 1e200's rounding error.
    let store = decimals(&[1e300, 1e200, 1.0, -1e300, -1e200]);
    assert!(is(&store, &sum, 1.0));
    assert!(is(&store, &avg, 0.2));
    let store = decimals(&[0.1; 10]);
    assert!(is(&store, &sum, 1.0));
    // The nearest double to 2^53 + 1 + 2^-60 is 2^53 + 2, not the tie's even 2^53.
    let store = decimals(&[9_007_199_254_740_992.0, 1.0, 2f64.powi(-60)]);
    assert!(is(&store, &sum, 9_007_199_254_740_994.0));
}

/// `text`'s records in the fixture, as checked and as optimized (which
/// rewrites some aggregates into `has`): both must agree.
fn query(text: &str) -> Vec<u128> {
    let schema = crm_schema();
    let mut answers = [false, true].map(|optimize| {
        let options = segql::Options {
            optimize,
            ..segql::Options::new(&schema)
        };
        let plan = segql::plan(text, &options).unwrap_or_else(|e| panic!("{text}: {e}"));
        run(&crm(), now(), &plan.entity, plan.filter)
    });
    assert_eq!(answers[0], answers[1], "{text}: optimized");
    std::mem::take(&mut answers[0])
}

#[test]
fn segments_written_as_text() {
    for (text, want) in [
        (
            r#"contact where count(lead(status = "Open")) >= 2"#,
            &[0x101][..],
        ),
        ("contact where sum(lead.score) > 10", &[0x101]),
        (
            r#"contact where max(interaction(type = "Email Opened").occurred_on) < now - 90d"#,
            &[0x104],
        ),
        (
            r#"lead where count(contact.interaction(type = "Email Opened")) >= 1"#,
            &[0x301, 0x302, 0x303],
        ),
        (
            r#"lead where count(contact.interaction(type = "Email Opened")) = 0"#,
            &[0x304, 0x305, 0x306],
        ),
        ("contact where count(lead.account) = 2", &[0x101]),
        ("contact where avg(lead.score) is null", &[0x103, 0x104]),
        (r#"contact where min(lead.topic) = "Expo""#, &[0x101]),
        (
            r#"account where count(contact.lead(status = "Open").account) = 2"#,
            &[0x201],
        ),
        (
            "contact where sum(lead.estimated_value) between 150 and 151",
            &[0x101],
        ),
        (
            "contact where not (max(lead.score) >= 10)",
            &[0x102, 0x103, 0x104],
        ),
        ("contact where has lead and sum(lead.score) = 0", &[0x103]),
        ("contact where count(lead) >= 1", &[0x101, 0x102, 0x103]),
        ("contact where count(account.contact) = 2", &[0x101, 0x104]),
    ] {
        assert_eq!(query(text), want, "{text}");
    }
}

#[test]
fn a_store_loaded_for_the_plan_answers_as_a_full_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    let at = now();
    segql::demo::generate_sqlite(&path, &segql::demo::DemoOptions::new(300, 3, at)).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut db = segql::db::SqliteBackend::new(&conn);
    let schema = crm_schema();
    let full = Store::load(&mut db, &schema, None).unwrap();
    let mut selective = 0;
    for text in [
        r#"contact where count(lead(status = "Open")) >= 2"#,
        "contact where sum(lead.estimated_value) > 10000",
        "contact where avg(lead.score) >= 50",
        r#"contact where max(interaction(type = "Email Opened").occurred_on) < now - 90d"#,
        r#"lead where count(contact.interaction(type = "Email Clicked")) >= 1"#,
        "contact where count(lead.account) >= 2",
        "account where sum(contact.lead.score) > 100",
        r#"account where min(contact.consent_level) >= "Marketing""#,
        r#"interaction where max(contact.lead.topic) < "M""#,
    ] {
        let plan = segql::plan(text, &segql::Options::new(&schema))
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let restricted = Store::load(&mut db, &schema, Some(&plan)).unwrap();
        let want = run(&full, at, &plan.entity, plan.filter.clone());
        assert_eq!(
            run(&restricted, at, &plan.entity, plan.filter.clone()),
            want,
            "{text}"
        );
        selective += usize::from(!want.is_empty() && want.len() < full.len(&plan.entity).unwrap());
    }
    assert!(selective >= 6, "{selective}");
}
