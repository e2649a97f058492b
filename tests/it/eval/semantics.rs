//! The in-memory evaluator against SPEC §2.3, on hand-built stores and plans:
//! NULLs and negation, quantifiers, dotted paths, text order and folding,
//! mixed numbers, relative times, and `contains` agreeing with `evaluate`.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use segql::check::plan::*;
use segql::eval::{self, Store, StoreBuilder};
use segql::schema::crm_schema;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

// Contacts are 0x100 + n, accounts 0x200 + n, leads 0x300 + n, interactions
// 0x400 + n: distinct ranges so a wrong entity shows up as a wrong id.
fn c(n: u128) -> Uuid {
    id(0x100 + n)
}
fn a(n: u128) -> Uuid {
    id(0x200 + n)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn store() -> Store {
    let mut b = StoreBuilder::new(&crm_schema());
    let acc = |b: &mut StoreBuilder, n, industry: Option<i64>, name: &str| {
        let mut v = vec![("id", Value::Uuid(a(n))), ("name", text(name))];
        if let Some(i) = industry {
            v.push(("industry", Value::Integer(i)));
        }
        b.insert("account", v).unwrap();
    };
    acc(&mut b, 1, Some(8), "Contoso");
    acc(&mut b, 2, Some(9), "Fabrikam");
    acc(&mut b, 3, None, "Nameless");
    let day = |y, m, d| Value::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap());
    let contacts: Vec<Vec<(&str, Value)>> = vec![
        vec![
            ("first_name", text("Ann")),
            ("city", text("Oslo")),
            ("role", Value::Integer(1)),
            ("account_id", Value::Uuid(a(1))),
            ("birth_date", day(1990, 1, 1)),
            ("consent_level", Value::Integer(4)),
        ],
        vec![
            ("first_name", text("bob")),
            ("role", Value::Integer(2)),
            ("account_id", Value::Uuid(a(2))),
            ("do_not_email", Value::Bool(true)),
            ("birth_date", day(2024, 6, 10)),
            ("consent_level", Value::Integer(1)),
        ],
        vec![
            ("first_name", text("ÉCOLE")),
            ("city", text("Zürich")),
            ("do_not_bulk_email", Value::Bool(true)),
        ],
        vec![
            ("first_name", text("50% off_now")),
            ("city", text("oslo")),
            ("account_id", Value::Uuid(a(3))),
            ("role", Value::Integer(1)),
        ],
        // Every nullable field missing; the account id dangles.
        vec![("account_id", Value::Uuid(id(0x999)))],
    ];
    for (i, mut fields) in contacts.into_iter().enumerate() {
        fields.push(("id", Value::Uuid(c(i as u128 + 1))));
        b.insert("contact", fields).unwrap();
    }
    let leads: Vec<Vec<(&str, Value)>> = vec![
        vec![
            ("contact_id", Value::Uuid(c(1))),
            ("account_id", Value::Uuid(a(1))),
            ("status", Value::Integer(1)),
            ("score", Value::Integer(10)),
            ("estimated_value", Value::Decimal(2.5)),
        ],
        vec![
            ("contact_id", Value::Uuid(c(1))),
            ("status", Value::Integer(0)),
            ("score", Value::Integer(3)),
            ("estimated_value", Value::Decimal(3.0)),
        ],
        vec![
            ("contact_id", Value::Uuid(c(2))),
            ("status", Value::Integer(1)),
        ],
        vec![
            ("account_id", Value::Uuid(a(2))),
            ("status", Value::Integer(1)),
        ],
    ];
    for (i, mut fields) in leads.into_iter().enumerate() {
        fields.push(("id", Value::Uuid(id(0x300 + i as u128))));
        b.insert("lead", fields).unwrap();
    }
    let days_ago = |d: i64| Value::DateTime(now() - chrono::Duration::days(d));
    let interactions = [
        (1, 3, 1),
        (1, 3, 10),
        (1, 3, 40),
        (2, 3, 1),
        (2, 3, 2),
        (2, 3, 3),
        (3, 1, 5),
    ];
    for (i, (contact, ty, ago)) in interactions.into_iter().enumerate() {
        b.insert(
            "interaction",
            [
                ("id", Value::Uuid(id(0x400 + i as u128))),
                ("contact_id", Value::Uuid(c(contact))),
                ("type", Value::Integer(ty)),
                ("occurred_on", days_ago(ago)),
            ],
        )
        .unwrap();
    }
    b.build().unwrap()
}

fn fref(entity: &str, field: &str, ty: ValueType) -> FieldRef {
    FieldRef {
        entity: entity.into(),
        field: field.into(),
        ty,
    }
}

fn test(entity: &str, field: &str, ty: ValueType, test: Test) -> PlanExpr {
    PlanExpr::Field(FieldTest {
        field: fref(entity, field, ty),
        test,
    })
}

fn cmp(entity: &str, field: &str, ty: ValueType, op: CmpOp, value: Value) -> PlanExpr {
    test(entity, field, ty, Test::Compare { op, value })
}

fn not(e: PlanExpr) -> PlanExpr {
    PlanExpr::Not(Box::new(e))
}

fn related(
    rel: &str,
    dir: Direction,
    from: &str,
    to: &str,
    q: Quantifier,
    f: PlanExpr,
) -> PlanExpr {
    PlanExpr::Related(Related {
        link: Link {
            relationship: rel.into(),
            direction: dir,
            from: from.into(),
            to: to.into(),
        },
        quantifier: q,
        filter: Box::new(f),
    })
}

/// Evaluates a contact plan; checks `contains` and `count` agree on every
/// record; returns the matching contact numbers.
fn contacts(filter: PlanExpr) -> Vec<u128> {
    run("contact", filter, 0x100)
}

fn run(entity: &str, filter: PlanExpr, base: u128) -> Vec<u128> {
    let store = store();
    let plan = Plan {
        entity: entity.into(),
        filter,
    };
    let ids = eval::evaluate(&plan, &store, now()).unwrap();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending");
    assert_eq!(eval::count(&plan, &store, now()).unwrap(), ids.len());
    for record in store.ids(entity) {
        assert_eq!(
            eval::contains(&plan, &store, record, now()).unwrap(),
            ids.contains(&record),
            "contains() disagrees with evaluate() on {record}"
        );
    }
    ids.iter().map(|u| u.as_u128() - base).collect()
}

#[test]
fn null_is_false_and_not_is_the_complement() {
    let city_oslo = || cmp("contact", "city", ValueType::Text, CmpOp::Eq, text("Oslo"));
    assert_eq!(contacts(city_oslo()), [1]);
    // `city != "Oslo"` matches the NULL cities (2 and 5).
    assert_eq!(contacts(not(city_oslo())), [2, 3, 4, 5]);
    let in_list = || {
        test(
            "contact",
            "city",
            ValueType::Text,
            Test::InList(vec![text("Oslo"), text("Zürich")]),
        )
    };
    assert_eq!(contacts(in_list()), [1, 3]);
    assert_eq!(contacts(not(in_list())), [2, 4, 5]);
    let is_null = not(test("contact", "city", ValueType::Text, Test::IsNotNull));
    assert_eq!(contacts(is_null), [2, 5]);
}

#[test]
fn choices_compare_by_code_and_order() {
    assert_eq!(
        contacts(cmp(
            "contact",
            "role",
            ValueType::Choice,
            CmpOp::Eq,
            Value::Choice {
                code: 1,
                label: "Decision Maker".into()
            }
        )),
        [1, 4]
    );
    let ge = cmp(
        "contact",
        "consent_level",
        ValueType::Choice,
        CmpOp::Ge,
        Value::Integer(2),
    );
    assert_eq!(contacts(ge.clone()), [1]);
    assert_eq!(contacts(not(ge)), [2, 3, 4, 5]);
}

#[test]
fn bools_default_to_false_and_negate() {
    let dne = || {
        cmp(
            "contact",
            "do_not_email",
            ValueType::Bool,
            CmpOp::Eq,
            Value::Bool(true),
        )
    };
    assert_eq!(contacts(dne()), [2]);
    let guard = PlanExpr::And(vec![
        not(dne()),
        not(cmp(
            "contact",
            "do_not_bulk_email",
            ValueType::Bool,
            CmpOp::Eq,
            Value::Bool(true),
        )),
    ]);
    assert_eq!(contacts(guard), [1, 4, 5]);
    let is_false = cmp(
        "contact",
        "do_not_email",
        ValueType::Bool,
        CmpOp::Eq,
        Value::Bool(false),
    );
    assert_eq!(contacts(is_false), [1, 3, 4, 5]);
}

#[test]
fn quantifiers_count_children_including_none() {
    let leads = |q, f| {
        related(
            "lead_parent_contact",
            Direction::ToChildren,
            "contact",
            "lead",
            q,
            f,
        )
    };
    let qualified = || {
        cmp(
            "lead",
            "status",
            ValueType::Choice,
            CmpOp::Eq,
            Value::Integer(1),
        )
    };
    assert_eq!(
        contacts(leads(Quantifier::Any, PlanExpr::Const(true))),
        [1, 2]
    );
    assert_eq!(
        contacts(leads(Quantifier::No, PlanExpr::Const(true))),
        [3, 4, 5]
    );
    assert_eq!(contacts(leads(Quantifier::Any, qualified())), [1, 2]);
    assert_eq!(contacts(leads(Quantifier::No, qualified())), [3, 4, 5]);
    assert_eq!(
        contacts(leads(Quantifier::AtLeast(0), qualified())),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        contacts(leads(Quantifier::AtLeast(2), PlanExpr::Const(true))),
        [1]
    );
    assert_eq!(
        contacts(leads(Quantifier::AtMost(0), qualified())),
        [3, 4, 5]
    );
    assert_eq!(
        contacts(leads(Quantifier::Exactly(0), not(qualified()))),
        [2, 3, 4, 5]
    );
    assert_eq!(
        contacts(leads(Quantifier::Exactly(1), not(qualified()))),
        [1]
    );
    assert_eq!(
        contacts(leads(Quantifier::AtMost(1), PlanExpr::Const(true))),
        [2, 3, 4, 5]
    );
    // NULL score is not `< 5`, so contact 2's lead does not count.
    let low = cmp(
        "lead",
        "score",
        ValueType::Integer,
        CmpOp::Lt,
        Value::Integer(5),
    );
    assert_eq!(contacts(leads(Quantifier::Any, low.clone())), [1]);
    assert_eq!(contacts(leads(Quantifier::Any, not(low))), [1, 2]);
}

#[test]
fn recent_interactions_use_the_reference_time() {
    let recent = PlanExpr::And(vec![
        cmp(
            "interaction",
            "type",
            ValueType::Choice,
            CmpOp::Eq,
            Value::Integer(3),
        ),
        cmp(
            "interaction",
            "occurred_on",
            ValueType::DateTime,
            CmpOp::Ge,
            Value::NowPlusSeconds {
                seconds: -30 * 86_400,
                midnight: false,
            },
        ),
    ]);
    let q = |n| {
        related(
            "interaction_contact",
            Direction::ToChildren,
            "contact",
            "interaction",
            Quantifier::AtLeast(n),
            recent.clone(),
        )
    };
    assert_eq!(contacts(q(3)), [2]);
    assert_eq!(contacts(q(2)), [1, 2]);
    let young = cmp(
        "contact",
        "birth_date",
        ValueType::Date,
        CmpOp::Gt,
        Value::TodayPlusDays(-10),
    );
    assert_eq!(contacts(young), [2]);
}

#[test]
fn relative_times_out_of_range_are_an_error() {
    let plan = Plan {
        entity: "contact".into(),
        filter: cmp(
            "contact",
            "birth_date",
            ValueType::Date,
            CmpOp::Gt,
            Value::TodayPlusDays(-10_000_000),
        ),
    };
    let err = eval::evaluate(&plan, &store(), now()).unwrap_err();
    assert_eq!(err.kind(), "invalid value");
}

#[test]
fn dotted_paths_with_missing_parents() {
    let retail = || {
        cmp(
            "account",
            "industry",
            ValueType::Choice,
            CmpOp::Eq,
            Value::Integer(8),
        )
    };
    let to_account = |q, f| {
        related(
            "contact_parent_account",
            Direction::ToParent,
            "contact",
            "account",
            q,
            f,
        )
    };
    assert_eq!(contacts(to_account(Quantifier::Any, retail())), [1]);
    // No account (3), a dangling id (5) and a NULL industry (4) all satisfy the negation.
    assert_eq!(
        contacts(not(to_account(Quantifier::Any, retail()))),
        [2, 3, 4, 5]
    );
    assert_eq!(contacts(to_account(Quantifier::Any, not(retail()))), [2, 4]);
    assert_eq!(
        contacts(to_account(Quantifier::No, PlanExpr::Const(true))),
        [3, 5]
    );
    // Nested: contacts with a lead whose account is Retail.
    let nested = related(
        "lead_parent_contact",
        Direction::ToChildren,
        "contact",
        "lead",
        Quantifier::Any,
        related(
            "lead_parent_account",
            Direction::ToParent,
            "lead",
            "account",
            Quantifier::Any,
            retail(),
        ),
    );
    assert_eq!(contacts(nested), [1]);
    // From leads: `contact.account.industry != "Retail"`; orphan lead 3 matches.
    let lead_path = not(related(
        "lead_parent_contact",
        Direction::ToParent,
        "lead",
        "contact",
        Quantifier::Any,
        to_account(Quantifier::Any, retail()),
    ));
    assert_eq!(run("lead", lead_path, 0x300), [2, 3]);
}

#[test]
fn text_orders_by_code_point() {
    // Code point order: "Oslo" < "Zürich" < "a" < "oslo", and "Zürich" > "Zz".
    let lt = cmp("contact", "city", ValueType::Text, CmpOp::Lt, text("a"));
    assert_eq!(contacts(lt), [1, 3]);
    let lt = cmp("contact", "city", ValueType::Text, CmpOp::Lt, text("Zz"));
    assert_eq!(contacts(lt), [1]);
    let lt = cmp(
        "contact",
        "city",
        ValueType::Text,
        CmpOp::Lt,
        text("Zürich"),
    );
    assert_eq!(contacts(lt), [1]);
    let gt = cmp(
        "contact",
        "first_name",
        ValueType::Text,
        CmpOp::Gt,
        text("z"),
    );
    assert_eq!(contacts(gt), [3]);
    let between = test(
        "contact",
        "first_name",
        ValueType::Text,
        Test::Between {
            low: text("A"),
            high: text("b"),
        },
    );
    assert_eq!(contacts(between), [1]);
}

#[test]
fn text_search_folds_ascii_only_and_is_literal() {
    let t = |op, p: &str| {
        test(
            "contact",
            "first_name",
            ValueType::Text,
            Test::Text {
                op,
                pattern: p.into(),
            },
        )
    };
    assert_eq!(contacts(t(TextOp::Contains, "é")), Vec::<u128>::new());
    assert_eq!(contacts(t(TextOp::Contains, "cole")), [3]);
    assert_eq!(contacts(t(TextOp::Contains, "%")), [4]);
    assert_eq!(contacts(t(TextOp::Contains, "0_o")), Vec::<u128>::new());
    assert_eq!(contacts(t(TextOp::Contains, "f_N")), [4]);
    assert_eq!(contacts(t(TextOp::StartsWith, "B")), [2]);
    assert_eq!(contacts(t(TextOp::EndsWith, "NN")), [1]);
    assert_eq!(contacts(not(t(TextOp::Contains, ""))), [5]);
}

#[test]
fn integer_and_decimal_mix() {
    let lead = |f| run("lead", f, 0x300);
    let score = |op, v| cmp("lead", "score", ValueType::Integer, op, v);
    assert_eq!(lead(score(CmpOp::Gt, Value::Decimal(3.5))), [0]);
    assert_eq!(lead(score(CmpOp::Ge, Value::Decimal(3.0))), [0, 1]);
    assert_eq!(
        lead(score(CmpOp::Eq, Value::Decimal(3.5))),
        Vec::<u128>::new()
    );
    let value = |op, v| cmp("lead", "estimated_value", ValueType::Decimal, op, v);
    assert_eq!(lead(value(CmpOp::Eq, Value::Integer(3))), [1]);
    assert_eq!(lead(value(CmpOp::Lt, Value::Integer(3))), [0]);
    let list = test(
        "lead",
        "score",
        ValueType::Integer,
        Test::InList(vec![Value::Decimal(10.0), Value::Decimal(3.5)]),
    );
    assert_eq!(lead(list), [0]);
}

#[test]
fn unknown_records_are_not_contained() {
    let plan = Plan {
        entity: "contact".into(),
        filter: PlanExpr::Const(true),
    };
    assert!(!eval::contains(&plan, &store(), id(0xdead), now()).unwrap());
    assert_eq!(eval::evaluate(&plan, &store(), now()).unwrap().len(), 5);
}

#[test]
fn builder_rejects_bad_values() {
    let mut b = StoreBuilder::new(&crm_schema());
    let bad_type = b.insert(
        "contact",
        [("id", Value::Uuid(id(1))), ("city", Value::Integer(3))],
    );
    assert!(bad_type.unwrap_err().to_string().contains("contact.city"));
    assert!(b.insert("contact", [("city", text("x"))]).is_err());
    assert!(b.insert("nobody", [("id", Value::Uuid(id(1)))]).is_err());
    b.insert("contact", [("id", Value::Uuid(id(1)))]).unwrap();
    b.insert("contact", [("id", Value::Uuid(id(1)))]).unwrap();
    assert!(b.build().unwrap_err().to_string().contains("two records"));
}

#[test]
fn programs_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let store = store();
    let plan = Plan {
        entity: "contact".into(),
        filter: test("contact", "city", ValueType::Text, Test::IsNotNull),
    };
    let program = eval::compile(&plan, &store, now()).unwrap();
    shareable(&program);
    let counted = std::thread::scope(|s| s.spawn(|| program.count()).join().unwrap());
    assert_eq!(counted, 3);
}

/// Parses, checks (with `guards`) and evaluates a query over the fixture
/// store, before and after optimization (which must not change the answer);
/// returns the record numbers.
fn q_guarded(text: &str, guards: &[String]) -> Vec<u128> {
    let schema = crm_schema();
    let query = segql::syntax::parse_query(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let ctx = segql::check::Context {
        schema: &schema,
        library: None,
        guards,
    };
    let plan = segql::check::check(&query, &ctx).unwrap_or_else(|e| panic!("{text}: {e}"));
    let base = match plan.entity.as_str() {
        "contact" => 0x100,
        "account" => 0x200,
        "lead" => 0x300,
        _ => 0x400,
    };
    let got = run(&plan.entity, plan.filter.clone(), base);
    let optimized = segql::optimize::optimize(plan);
    assert_eq!(
        run(&optimized.entity, optimized.filter, base),
        got,
        "{text} optimized"
    );
    got
}

fn q(text: &str) -> Vec<u128> {
    q_guarded(text, &[])
}

const NONE: [u128; 0] = [];

#[test]
fn queries_nulls_and_negation() {
    assert_eq!(q(r#"contact where city = "Oslo""#), [1]);
    assert_eq!(q(r#"contact where city != "Oslo""#), [2, 3, 4, 5]);
    assert_eq!(
        q(r#"contact where city not in ["Oslo", "Zürich"]"#),
        [2, 4, 5]
    );
    assert_eq!(q(r#"contact where city is null"#), [2, 5]);
    assert_eq!(
        q(r#"contact where not (city is not null and role = "employee")"#),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(q(r#"contact where consent_level >= "Transactional""#), [1]);
    assert_eq!(
        q(r#"contact where consent_level not between "not set" and "transactional""#),
        [1, 3, 4, 5]
    );
    assert_eq!(q("contact where do_not_email"), [2]);
    assert_eq!(q("contact"), [1, 2, 3, 4, 5]);
    assert_eq!(q("contact where false or not true"), NONE);
}

#[test]
fn queries_quantifiers() {
    assert_eq!(q("contact where has lead"), [1, 2]);
    assert_eq!(
        q(r#"contact where has no lead(status = "qualified")"#),
        [3, 4, 5]
    );
    assert_eq!(
        q(r#"contact where has at least 0 lead(status = "Qualified")"#),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        q(r#"contact where has exactly 1 lead(status != "Qualified")"#),
        [1]
    );
    assert_eq!(q(r#"contact where has at most 1 lead"#), [2, 3, 4, 5]);
    assert_eq!(
        q(r#"contact where has exactly 0 lead(score is null)"#),
        [1, 3, 4, 5]
    );
    assert_eq!(
        q(
            r#"contact where has at least 2 interaction(type = "Email Opened" and occurred_on >= now - 30d)"#
        ),
        [1, 2]
    );
    assert_eq!(q("contact where birth_date > today - 10d"), [2]);
    assert_eq!(q("interaction where occurred_on < now - 7d"), [1, 2]);
}

#[test]
fn queries_paths_and_nesting() {
    assert_eq!(q(r#"contact where account.industry = "Retail""#), [1]);
    assert_eq!(
        q(r#"contact where account.industry != "Retail""#),
        [2, 3, 4, 5]
    );
    assert_eq!(
        q(r#"contact where has account(industry != "Retail")"#),
        [2, 4]
    );
    assert_eq!(q(r#"contact where account.name is null"#), [3, 5]);
    assert_eq!(
        q(r#"lead where contact.account.industry != "Retail""#),
        [2, 3]
    );
    assert_eq!(
        q(r#"contact where has lead(has account(industry = "Retail"))"#),
        [1]
    );
    assert_eq!(
        q(r#"account where has lead via lead_parent_account"#),
        [1, 2]
    );
}

#[test]
fn queries_text() {
    assert_eq!(q(r#"contact where first_name contains "é""#), NONE);
    assert_eq!(q(r#"contact where first_name contains "COLE""#), [3]);
    assert_eq!(q(r#"contact where first_name contains "%""#), [4]);
    assert_eq!(q(r#"contact where first_name contains "0_o""#), NONE);
    assert_eq!(
        q(r#"contact where first_name starts with "b" or first_name ends with "NN""#),
        [1, 2]
    );
    assert_eq!(q(r#"contact where city < "Zz""#), [1]);
    assert_eq!(q(r#"contact where city >= "a""#), [4]);
    assert_eq!(
        q(r#"contact where first_name in ["ann", "Ann", "BOB"]"#),
        [1]
    );
}

#[test]
fn queries_numbers_and_guards() {
    assert_eq!(q("lead where score > 3.5"), [0]);
    assert_eq!(q("lead where score between 2.5 and 3"), [1]);
    assert_eq!(q("lead where estimated_value = 3"), [1]);
    assert_eq!(q("lead where estimated_value < 3 or score in [3]"), [0, 1]);
    assert_eq!(q_guarded("contact", &["email".to_string()]), [1, 4, 5]);
}
