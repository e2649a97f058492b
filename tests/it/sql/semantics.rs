//! The SQL back end keeps SPEC §2.3's meaning: small hand-made databases with
//! NULLs, records without related records, non-ASCII text and `%`/`_`/`\` in
//! text, queried with hand-built plans; each test states the ids it expects.
//!
//! Every query also runs on PostgreSQL (when a server is installed) against
//! a copy of the same data whose text columns use a linguistic collation, so
//! the dialect's `COLLATE "C"` is what keeps code-point order and ASCII-only
//! case folding there.

use std::sync::{Mutex, OnceLock};

use crate::support::pg::TestPg;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rusqlite::Connection;
use segql::check::plan::*;
use segql::schema::{crm_schema, FieldType, Schema};
use segql::sql::{self, Dialect, SqlOptions};
use uuid::Uuid;

// ---------------------------------------------------------------- data ---

/// A stored value; NULL is a column left out of the row.
#[derive(Clone, Copy)]
enum V {
    T(&'static str),
    I(i64),
    R(f64),
    B(bool),
    /// A uuid given by its number: `Uuid::from_u128(n)`.
    U(u128),
    D(&'static str),
    Dt(&'static str),
}
use V::*;

type Row = (&'static str, Vec<(&'static str, V)>);

/// Records numbered by kind: accounts 10.., contacts 1.., leads 100..,
/// interactions 200.., subscriptions 300...
fn rows() -> Vec<Row> {
    vec![
        (
            "account",
            vec![
                ("id", U(10)),
                ("name", T("Acme")),
                ("industry", I(9)),
                ("employees", I(10)),
                ("annual_revenue", R(2.5)),
            ],
        ),
        (
            "account",
            vec![
                ("id", U(11)),
                ("name", T("Shop")),
                ("industry", I(8)),
                ("employees", I(3)),
            ],
        ),
        ("account", vec![("id", U(12)), ("name", T("Blank"))]),
        (
            "contact",
            vec![
                ("id", U(1)),
                ("first_name", T("ÉCOLE")),
                ("last_name", T("Zed")),
                ("city", T("Paris")),
                ("email", T("a%b_c\\d@x.com")),
                ("role", I(1)),
                ("birth_date", D("1990-01-01")),
                ("created_on", Dt("2026-01-10T00:00:00Z")),
                ("do_not_email", B(true)),
                ("consent_level", I(4)),
                ("account_id", U(10)),
            ],
        ),
        (
            "contact",
            vec![
                ("id", U(2)),
                ("first_name", T("école")),
                ("last_name", T("apple")),
                ("created_on", Dt("2025-12-01T08:00:00Z")),
            ],
        ),
        (
            "contact",
            vec![
                ("id", U(3)),
                ("first_name", T("Zoë")),
                ("last_name", T("zebra")),
                ("city", T("Berlin")),
                ("email", T("abc@x.com")),
                ("role", I(2)),
                ("birth_date", D("2010-06-30")),
                ("consent_level", I(1)),
                ("account_id", U(11)),
            ],
        ),
        (
            "contact",
            vec![
                ("id", U(4)),
                ("last_name", T("é")),
                ("city", T("paris")),
                ("email", T("ABC%@X.COM")),
                ("role", I(3)),
                ("do_not_bulk_email", B(true)),
                ("account_id", U(12)),
            ],
        ),
        (
            "lead",
            vec![
                ("id", U(100)),
                ("topic", T("Expo")),
                ("score", I(10)),
                ("contact_id", U(1)),
                ("account_id", U(10)),
            ],
        ),
        (
            "lead",
            vec![
                ("id", U(101)),
                ("topic", T("Web")),
                ("score", I(50)),
                ("contact_id", U(1)),
            ],
        ),
        (
            "lead",
            vec![
                ("id", U(102)),
                ("topic", T("Expo")),
                ("score", I(5)),
                ("contact_id", U(3)),
                ("account_id", U(11)),
            ],
        ),
        (
            "lead",
            vec![
                ("id", U(103)),
                ("topic", T("Orphan")),
                ("score", I(70)),
                ("account_id", U(11)),
            ],
        ),
        (
            "interaction",
            vec![
                ("id", U(200)),
                ("contact_id", U(1)),
                ("type", I(3)),
                ("occurred_on", Dt("2026-01-14T09:00:00Z")),
            ],
        ),
        (
            "interaction",
            vec![
                ("id", U(201)),
                ("contact_id", U(1)),
                ("type", I(3)),
                ("occurred_on", Dt("2025-12-20T09:00:00Z")),
            ],
        ),
        (
            "interaction",
            vec![
                ("id", U(202)),
                ("contact_id", U(1)),
                ("type", I(3)),
                ("occurred_on", Dt("2025-11-01T09:00:00Z")),
            ],
        ),
        (
            "interaction",
            vec![
                ("id", U(203)),
                ("contact_id", U(3)),
                ("type", I(3)),
                ("occurred_on", Dt("2026-01-15T11:00:00Z")),
            ],
        ),
        (
            "interaction",
            vec![
                ("id", U(204)),
                ("contact_id", U(3)),
                ("type", I(4)),
                ("occurred_on", Dt("2026-01-15T11:30:00Z")),
            ],
        ),
        (
            "interaction",
            vec![("id", U(205)), ("contact_id", U(3)), ("type", I(3))],
        ),
    ]
}

/// The SPEC §3.1 layout of `schema` in SQLite, with the data of [`rows`].
fn sqlite_db(schema: &Schema) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    segql::demo::create_tables_sqlite(&conn, schema).unwrap();
    segql::demo::create_indexes_sqlite(&conn, schema).unwrap();
    for (table, cols) in rows() {
        let names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
        let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
        let values: Vec<rusqlite::types::Value> = cols
            .iter()
            .map(|(_, v)| match *v {
                T(s) | D(s) | Dt(s) => rusqlite::types::Value::Text(s.into()),
                I(i) => rusqlite::types::Value::Integer(i),
                R(x) => rusqlite::types::Value::Real(x),
                B(b) => rusqlite::types::Value::Integer(b.into()),
                U(n) => rusqlite::types::Value::Text(Uuid::from_u128(n).to_string()),
            })
            .collect();
        conn.execute(
            &format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(", "),
                marks.join(", ")
            ),
            rusqlite::params_from_iter(values),
        )
        .unwrap();
    }
    conn
}

// --------------------------------------------------------------- plans ---

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
}

fn field_ref(entity: &str, field: &str) -> FieldRef {
    let schema = crm_schema();
    let ty = segql::check::value_type(&schema.entity(entity).unwrap().field(field).unwrap().ty);
    FieldRef {
        entity: entity.into(),
        field: field.into(),
        ty,
    }
}

fn test(entity: &str, field: &str, test: Test) -> PlanExpr {
    PlanExpr::Field(FieldTest {
        field: field_ref(entity, field),
        test,
    })
}

fn cmp(entity: &str, field: &str, op: CmpOp, value: Value) -> PlanExpr {
    test(entity, field, Test::Compare { op, value })
}

fn eq(entity: &str, field: &str, value: Value) -> PlanExpr {
    cmp(entity, field, CmpOp::Eq, value)
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn choice(code: i64) -> Value {
    Value::Choice {
        code,
        label: String::new(),
    }
}

fn not(e: PlanExpr) -> PlanExpr {
    PlanExpr::Not(Box::new(e))
}

fn matches(entity: &str, field: &str, op: TextOp, pattern: &str) -> PlanExpr {
    test(
        entity,
        field,
        Test::Text {
            op,
            pattern: pattern.into(),
        },
    )
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
            to,
        },
        quantifier,
        filter: Box::new(filter),
    })
}

// ---------------------------------------------------------------- runs ---

/// The numbers of the ids `filter` selects on `entity`, checking on the
/// way that the count query agrees, the layout check passes, and PostgreSQL
/// gives the same answer.
fn ids(entity: &str, filter: PlanExpr) -> Vec<u128> {
    let schema = crm_schema();
    let conn = sqlite_db(&schema);
    let plan = Plan {
        entity: entity.into(),
        filter,
    };
    sql::verify_layout_sqlite(&conn, &schema, &plan).unwrap();
    let q = compile(&plan, &sql::Sqlite, false).unwrap();
    let found = sql::sqlite_exec::run_ids(&conn, &q).unwrap();
    let count =
        sql::sqlite_exec::run_count(&conn, &compile(&plan, &sql::Sqlite, true).unwrap()).unwrap();
    assert_eq!(
        count as usize,
        found.len(),
        "count query disagrees with\n{}",
        q.sql
    );
    if let Some(pg) = pg() {
        let q = compile(&plan, &sql::Postgres, false).unwrap();
        let c = compile(&plan, &sql::Postgres, true).unwrap();
        let (pg_found, pg_count) = {
            let mut client = pg.lock().unwrap_or_else(|e| e.into_inner());
            sql::verify_layout_postgres(&mut client, &schema, &plan).unwrap();
            (
                sql::postgres_exec::run_ids(&mut client, &q),
                sql::postgres_exec::run_count(&mut client, &c),
            )
        };
        let pg_found = pg_found.unwrap_or_else(|e| panic!("{e}\n{}", q.sql));
        assert_eq!(
            pg_found, found,
            "PostgreSQL disagrees with SQLite on\n{}",
            q.sql
        );
        assert_eq!(pg_count.unwrap() as usize, found.len(), "{}", c.sql);
    }
    found.iter().map(|u| u.as_u128()).collect()
}

/// The test data in PostgreSQL, shared by the tests of this binary; `None`
/// when no server is installed.
fn pg() -> Option<&'static Mutex<postgres::Client>> {
    static PG: OnceLock<Option<(TestPg, Mutex<postgres::Client>)>> = OnceLock::new();
    PG.get_or_init(|| {
        let pg = TestPg::start()?;
        let mut client = pg.client();
        let schema = crm_schema();
        segql::demo::copy_sqlite_to_postgres(&sqlite_db(&schema), &mut client, &schema).unwrap();
        // A linguistic collation orders "a" before "Z" and lowercases "É";
        // the generated SQL must not depend on the column's collation.
        let collation: String = client
            .query_one(
                "SELECT collname::text FROM pg_collation \
                 WHERE collname IN ('und-x-icu', 'en-x-icu', 'C.utf8', 'en_US.utf8') \
                 ORDER BY collprovider DESC LIMIT 1",
                &[],
            )
            .unwrap()
            .get(0);
        for e in &schema.entities {
            for f in e.fields.iter().filter(|f| f.ty == FieldType::Text) {
                client
                    .batch_execute(&format!(
                        "ALTER TABLE {} ALTER COLUMN {} TYPE text COLLATE \"{collation}\"",
                        e.table, f.column
                    ))
                    .unwrap();
            }
        }
        Some((pg, Mutex::new(client)))
    })
    .as_ref()
    .map(|(_, client)| client)
}

#[allow(clippy::result_large_err)]
fn compile(plan: &Plan, dialect: &dyn Dialect, count: bool) -> segql::Result<sql::SqlQuery> {
    sql::to_sql(
        plan,
        &crm_schema(),
        dialect,
        &SqlOptions { count, now: now() },
    )
}

// --------------------------------------------------------------- tests ---

#[test]
fn no_filter_selects_every_record_in_id_order() {
    assert_eq!(ids("contact", PlanExpr::Const(true)), vec![1, 2, 3, 4]);
    assert_eq!(ids("contact", PlanExpr::Const(false)), Vec::<u128>::new());
}

#[test]
fn not_equal_and_not_in_match_nulls() {
    assert_eq!(
        ids("contact", eq("contact", "city", text("Paris"))),
        vec![1]
    );
    assert_eq!(
        ids("contact", not(eq("contact", "city", text("Paris")))),
        vec![2, 3, 4]
    );
    let roles = test("contact", "role", Test::InList(vec![choice(1), choice(2)]));
    assert_eq!(ids("contact", roles.clone()), vec![1, 3]);
    assert_eq!(ids("contact", not(roles)), vec![2, 4]);
    let single = test("contact", "role", Test::InList(vec![choice(3)]));
    assert_eq!(ids("contact", not(single)), vec![1, 2, 3]);
}

#[test]
fn is_null_and_is_not_null() {
    let has_email = test("contact", "email", Test::IsNotNull);
    assert_eq!(ids("contact", has_email.clone()), vec![1, 3, 4]);
    assert_eq!(ids("contact", not(has_email)), vec![2]);
}

#[test]
fn negated_comparisons_and_between_include_nulls() {
    let ge = cmp("contact", "consent_level", CmpOp::Ge, choice(2));
    assert_eq!(ids("contact", ge.clone()), vec![1]);
    assert_eq!(ids("contact", not(ge)), vec![2, 3, 4]);
    let between = test(
        "contact",
        "consent_level",
        Test::Between {
            low: choice(1),
            high: choice(3),
        },
    );
    assert_eq!(ids("contact", between.clone()), vec![3]);
    assert_eq!(ids("contact", not(between)), vec![1, 2, 4]);
}

#[test]
fn negation_distributes_over_and_and_or_exactly() {
    // city = "Paris" or role = "Employee": 1, 3; its complement keeps NULLs.
    let either = PlanExpr::Or(vec![
        eq("contact", "city", text("Paris")),
        eq("contact", "role", choice(2)),
    ]);
    assert_eq!(ids("contact", either.clone()), vec![1, 3]);
    assert_eq!(ids("contact", not(either)), vec![2, 4]);
    let both = PlanExpr::And(vec![
        not(eq("contact", "city", text("Berlin"))),
        not(not(test("contact", "role", Test::IsNotNull))),
    ]);
    assert_eq!(ids("contact", both.clone()), vec![1, 4]);
    assert_eq!(ids("contact", not(both)), vec![2, 3]);
}

#[test]
fn text_order_is_by_code_point() {
    // "Zed" < "a" because 'Z' is U+005A; "é" (U+00E9) sorts after "z".
    assert_eq!(
        ids("contact", cmp("contact", "last_name", CmpOp::Lt, text("a"))),
        vec![1]
    );
    assert_eq!(
        ids("contact", cmp("contact", "last_name", CmpOp::Gt, text("z"))),
        vec![3, 4]
    );
    assert_eq!(
        ids(
            "contact",
            not(cmp("contact", "last_name", CmpOp::Le, text("zebra")))
        ),
        vec![4]
    );
    let range = test(
        "contact",
        "last_name",
        Test::Between {
            low: text("Z"),
            high: text("b"),
        },
    );
    assert_eq!(ids("contact", range), vec![1, 2]);
}

#[test]
fn text_matching_folds_ascii_letters_only() {
    use TextOp::*;
    assert_eq!(
        ids("contact", matches("contact", "first_name", Contains, "é")),
        vec![2]
    );
    assert_eq!(
        ids("contact", matches("contact", "first_name", Contains, "É")),
        vec![1]
    );
    assert_eq!(
        ids(
            "contact",
            matches("contact", "first_name", Contains, "COLE")
        ),
        vec![1, 2]
    );
    assert_eq!(
        ids(
            "contact",
            matches("contact", "first_name", StartsWith, "éC")
        ),
        vec![2]
    );
    assert_eq!(
        ids("contact", matches("contact", "email", EndsWith, "X.COM")),
        vec![1, 3, 4]
    );
    assert_eq!(
        ids(
            "contact",
            not(matches("contact", "email", EndsWith, "@x.com"))
        ),
        vec![2]
    );
    assert_eq!(
        ids(
            "contact",
            matches("contact", "last_name", EndsWith, "zebra!")
        ),
        Vec::<u128>::new()
    );
}

#[test]
fn text_matching_treats_wildcards_literally() {
    use TextOp::*;
    assert_eq!(
        ids("contact", matches("contact", "email", Contains, "%")),
        vec![1, 4]
    );
    assert_eq!(
        ids("contact", matches("contact", "email", Contains, "_")),
        vec![1]
    );
    assert_eq!(
        ids("contact", matches("contact", "email", Contains, "\\")),
        vec![1]
    );
    assert_eq!(
        ids("contact", matches("contact", "email", StartsWith, "a%")),
        vec![1]
    );
    assert_eq!(
        ids("contact", matches("contact", "email", StartsWith, "abc%")),
        vec![4]
    );
    assert_eq!(
        ids("contact", matches("contact", "email", StartsWith, "a_")),
        Vec::<u128>::new()
    );
    assert_eq!(
        ids("contact", not(matches("contact", "email", Contains, "%"))),
        vec![2, 3]
    );
    // The empty pattern is in every text, but not in a missing one.
    assert_eq!(
        ids("contact", matches("contact", "email", EndsWith, "")),
        vec![1, 3, 4]
    );
    assert_eq!(
        ids("contact", not(matches("contact", "email", Contains, ""))),
        vec![2]
    );
}

#[test]
fn counts_of_related_records_include_zero() {
    let lead = |q| has("contact", "lead_parent_contact", q, PlanExpr::Const(true));
    assert_eq!(ids("contact", lead(Quantifier::Any)), vec![1, 3]);
    assert_eq!(ids("contact", lead(Quantifier::No)), vec![2, 4]);
    assert_eq!(
        ids("contact", lead(Quantifier::AtLeast(0))),
        vec![1, 2, 3, 4]
    );
    assert_eq!(ids("contact", lead(Quantifier::AtMost(0))), vec![2, 4]);
    assert_eq!(ids("contact", lead(Quantifier::Exactly(0))), vec![2, 4]);
    assert_eq!(ids("contact", lead(Quantifier::AtLeast(2))), vec![1]);
    assert_eq!(ids("contact", lead(Quantifier::AtMost(1))), vec![2, 3, 4]);
    assert_eq!(ids("contact", lead(Quantifier::Exactly(1))), vec![3]);
    assert_eq!(
        ids("contact", not(lead(Quantifier::Exactly(1)))),
        vec![1, 2, 4]
    );
    assert_eq!(
        ids("contact", not(lead(Quantifier::AtLeast(0)))),
        Vec::<u128>::new()
    );
    let expo = |q| {
        has(
            "contact",
            "lead_parent_contact",
            q,
            eq("lead", "topic", text("Expo")),
        )
    };
    assert_eq!(ids("contact", expo(Quantifier::Exactly(1))), vec![1, 3]);
    assert_eq!(ids("contact", expo(Quantifier::AtMost(0))), vec![2, 4]);
    assert_eq!(ids("contact", not(expo(Quantifier::AtMost(0)))), vec![1, 3]);
}

#[test]
fn relative_times_use_the_reference_time() {
    // now = 2026-01-15T12:00:00Z; now - 30d = 2025-12-16T12:00:00Z.
    let recent_opened = PlanExpr::And(vec![
        eq("interaction", "type", choice(3)),
        cmp(
            "interaction",
            "occurred_on",
            CmpOp::Ge,
            Value::NowPlusSeconds {
                seconds: -30 * 86400,
                midnight: false,
            },
        ),
    ]);
    let q = |n| {
        has(
            "contact",
            "interaction_contact",
            Quantifier::AtLeast(n),
            recent_opened.clone(),
        )
    };
    assert_eq!(ids("contact", q(2)), vec![1]);
    assert_eq!(ids("contact", q(1)), vec![1, 3]);
    assert_eq!(ids("contact", not(q(2))), vec![2, 3, 4]);
    // today - 7d on a date-time field is 2026-01-08T00:00:00Z.
    let created = cmp(
        "contact",
        "created_on",
        CmpOp::Ge,
        Value::NowPlusSeconds {
            seconds: -7 * 86400,
            midnight: true,
        },
    );
    assert_eq!(ids("contact", created), vec![1]);
    // A date literal on a date-time field means midnight UTC.
    let since = cmp(
        "contact",
        "created_on",
        CmpOp::Ge,
        Value::Date(NaiveDate::from_ymd_opt(2026, 1, 10).unwrap()),
    );
    assert_eq!(ids("contact", since), vec![1]);
    // today - 5844d = 2010-01-16 on a date field.
    let born = cmp(
        "contact",
        "birth_date",
        CmpOp::Lt,
        Value::TodayPlusDays(-5844),
    );
    assert_eq!(ids("contact", born), vec![1]);
    let born_after = not(cmp(
        "contact",
        "birth_date",
        CmpOp::Lt,
        Value::TodayPlusDays(-5844),
    ));
    assert_eq!(ids("contact", born_after), vec![2, 3, 4]);
}

#[test]
fn relative_times_out_of_range_are_invalid_values() {
    let plan = Plan {
        entity: "contact".into(),
        filter: cmp(
            "contact",
            "birth_date",
            CmpOp::Lt,
            Value::TodayPlusDays(-9_000_000),
        ),
    };
    let err = compile(&plan, &sql::Sqlite, false).unwrap_err();
    assert!(matches!(err, segql::Error::InvalidValue { .. }), "{err:?}");
}

#[test]
fn dotted_paths_with_missing_parents_and_their_negation() {
    // contact.account.industry = "Retail" from a contact: only contact 3.
    let retail = has(
        "contact",
        "contact_parent_account",
        Quantifier::Any,
        eq("account", "industry", choice(8)),
    );
    assert_eq!(ids("contact", retail.clone()), vec![3]);
    // Contact 2 has no account, contact 4's account has no industry.
    assert_eq!(ids("contact", not(retail)), vec![1, 2, 4]);
    // Two hops from lead: lead.contact.account.industry = "Technology".
    let tech = has(
        "lead",
        "lead_parent_contact",
        Quantifier::Any,
        has(
            "contact",
            "contact_parent_account",
            Quantifier::Any,
            eq("account", "industry", choice(9)),
        ),
    );
    assert_eq!(ids("lead", tech.clone()), vec![100, 101]);
    assert_eq!(ids("lead", not(tech)), vec![102, 103]);
    // A parent is unique: at least 2 parents never, at most 1 always.
    let parents = |q| has("lead", "lead_parent_contact", q, PlanExpr::Const(true));
    assert_eq!(
        ids("lead", parents(Quantifier::AtLeast(2))),
        Vec::<u128>::new()
    );
    assert_eq!(
        ids("lead", parents(Quantifier::AtMost(1))),
        vec![100, 101, 102, 103]
    );
    assert_eq!(
        ids("lead", parents(Quantifier::Exactly(1))),
        vec![100, 101, 102]
    );
    assert_eq!(ids("lead", parents(Quantifier::No)), vec![103]);
}

#[test]
fn nested_relationships() {
    // has lead(has account(industry = "Retail")).
    let q = has(
        "contact",
        "lead_parent_contact",
        Quantifier::Any,
        has(
            "lead",
            "lead_parent_account",
            Quantifier::Any,
            eq("account", "industry", choice(8)),
        ),
    );
    assert_eq!(ids("contact", q.clone()), vec![3]);
    assert_eq!(ids("contact", not(q)), vec![1, 2, 4]);
    // Accounts with a lead whose contact has no email.
    let q = has(
        "account",
        "lead_parent_account",
        Quantifier::Any,
        has(
            "lead",
            "lead_parent_contact",
            Quantifier::No,
            test("contact", "email", Test::IsNotNull),
        ),
    );
    assert_eq!(ids("account", q), vec![11]);
}

#[test]
fn integer_fields_compare_numerically_with_decimals() {
    let emp = |op, x| cmp("account", "employees", op, Value::Decimal(x));
    assert_eq!(ids("account", emp(CmpOp::Gt, 2.5)), vec![10, 11]);
    assert_eq!(ids("account", emp(CmpOp::Lt, 3.5)), vec![11]);
    assert_eq!(ids("account", emp(CmpOp::Le, 3.0)), vec![11]);
    assert_eq!(ids("account", emp(CmpOp::Ge, 3.01)), vec![10]);
    assert_eq!(ids("account", emp(CmpOp::Eq, 3.0)), vec![11]);
    assert_eq!(ids("account", emp(CmpOp::Eq, 3.5)), Vec::<u128>::new());
    assert_eq!(ids("account", not(emp(CmpOp::Eq, 3.5))), vec![10, 11, 12]);
    assert_eq!(ids("account", not(emp(CmpOp::Gt, 2.5))), vec![12]);
    assert_eq!(ids("account", emp(CmpOp::Lt, 1e300)), vec![10, 11]);
    assert_eq!(ids("account", emp(CmpOp::Gt, -1e300)), vec![10, 11]);
    assert_eq!(ids("account", emp(CmpOp::Gt, 1e300)), Vec::<u128>::new());
    let between = test(
        "account",
        "employees",
        Test::Between {
            low: Value::Decimal(2.5),
            high: Value::Decimal(3.5),
        },
    );
    assert_eq!(ids("account", between.clone()), vec![11]);
    assert_eq!(ids("account", not(between)), vec![10, 12]);
    let list = test(
        "account",
        "employees",
        Test::InList(vec![Value::Decimal(3.0), Value::Decimal(10.5)]),
    );
    assert_eq!(ids("account", list.clone()), vec![11]);
    assert_eq!(ids("account", not(list)), vec![10, 12]);
    // Decimal fields with integer literals.
    assert_eq!(
        ids(
            "account",
            cmp("account", "annual_revenue", CmpOp::Gt, Value::Integer(2))
        ),
        vec![10]
    );
}

#[test]
fn bools_and_uuids() {
    assert_eq!(
        ids("contact", eq("contact", "do_not_email", Value::Bool(true))),
        vec![1]
    );
    assert_eq!(
        ids(
            "contact",
            not(eq("contact", "do_not_email", Value::Bool(true)))
        ),
        vec![2, 3, 4]
    );
    let guard = PlanExpr::And(vec![
        not(eq("contact", "do_not_email", Value::Bool(true))),
        not(eq("contact", "do_not_bulk_email", Value::Bool(true))),
    ]);
    assert_eq!(ids("contact", guard), vec![2, 3]);
    let account = Value::Uuid(Uuid::from_u128(11));
    assert_eq!(
        ids("contact", eq("contact", "account_id", account.clone())),
        vec![3]
    );
    assert_eq!(
        ids("contact", not(eq("contact", "account_id", account))),
        vec![1, 2, 4]
    );
    assert_eq!(
        ids(
            "contact",
            eq("contact", "id", Value::Uuid(Uuid::from_u128(2)))
        ),
        vec![2]
    );
}

#[test]
fn a_database_in_the_wrong_layout_is_named() {
    let schema = crm_schema();
    let conn = sqlite_db(&schema);
    conn.execute_batch("ALTER TABLE lead DROP COLUMN score; DROP TABLE interaction;")
        .unwrap();
    let plan = Plan {
        entity: "contact".into(),
        filter: PlanExpr::And(vec![
            has(
                "contact",
                "lead_parent_contact",
                Quantifier::Any,
                cmp("lead", "score", CmpOp::Gt, Value::Integer(1)),
            ),
            has(
                "contact",
                "interaction_contact",
                Quantifier::Any,
                PlanExpr::Const(true),
            ),
        ]),
    };
    let err = sql::verify_layout_sqlite(&conn, &schema, &plan).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, segql::Error::Database { .. }));
    assert!(message.contains("no table 'interaction'"), "{message}");
    assert!(
        message.contains("table 'lead' has no column 'score'"),
        "{message}"
    );
    // A plan that does not use them is fine.
    let fine = Plan {
        entity: "contact".into(),
        filter: eq("contact", "city", text("Paris")),
    };
    sql::verify_layout_sqlite(&conn, &schema, &fine).unwrap();
}

/// The ids a query text selects (parsed and checked against the default
/// schema, with `guards` ANDed in), on SQLite and PostgreSQL.
fn query(text: &str, guards: &[&str]) -> Vec<u128> {
    let schema = crm_schema();
    let guards: Vec<String> = guards.iter().map(|g| g.to_string()).collect();
    let context = segql::check::Context {
        schema: &schema,
        library: None,
        guards: &guards,
    };
    let parsed = segql::syntax::parse_query(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let plan = segql::check::check(&parsed, &context).unwrap_or_else(|e| panic!("{text}: {e}"));
    ids(&plan.entity, plan.filter)
}

#[test]
fn query_texts_keep_the_two_valued_meaning() {
    let cases: &[(&str, &[u128])] = &[
        (r#"contact where city != "Paris""#, &[2, 3, 4]),
        (
            r#"contact where role not in ["decision maker", "employee"]"#,
            &[2, 4],
        ),
        (
            r#"contact where not (city = "Paris" or role = "Employee")"#,
            &[2, 4],
        ),
        ("contact where email is null", &[2]),
        (
            r#"contact where consent_level not between "Consent Given" and "Subscriptions""#,
            &[1, 2, 4],
        ),
        ("contact where has at least 0 lead", &[1, 2, 3, 4]),
        ("contact where has at most 0 lead", &[2, 4]),
        ("contact where has exactly 0 lead", &[2, 4]),
        ("contact where not has exactly 0 lead", &[1, 3]),
        ("contact where has at most 1 lead(score > 6)", &[2, 3, 4]),
        (
            r#"contact where has exactly 1 lead(topic = "Expo")"#,
            &[1, 3],
        ),
        (r#"contact where account.industry = "Retail""#, &[3]),
        (
            r#"contact where not account.industry = "Retail""#,
            &[1, 2, 4],
        ),
        (
            r#"lead where contact.account.industry = "Technology""#,
            &[100, 101],
        ),
        (
            r#"lead where not contact.account.industry = "Technology""#,
            &[102, 103],
        ),
        (
            r#"contact where has lead(has account(industry = "Retail"))"#,
            &[3],
        ),
        (r#"contact where last_name < "a""#, &[1]),
        (r#"contact where last_name > "z""#, &[3, 4]),
        (r#"contact where first_name contains "é""#, &[2]),
        (r#"contact where first_name contains "cole""#, &[1, 2]),
        (r#"contact where email contains "_""#, &[1]),
        (r#"contact where email starts with "ABC%""#, &[4]),
        (r#"contact where not email contains "\\""#, &[2, 3, 4]),
        (
            r#"contact where has at least 2 interaction(type = "Email Opened" and occurred_on >= now - 30d)"#,
            &[1],
        ),
        ("contact where created_on >= today - 7d", &[1]),
        ("contact where not created_on >= now - 7d", &[2, 3, 4]),
        ("account where employees > 2.5", &[10, 11]),
        ("account where not employees = 3.5", &[10, 11, 12]),
        ("account where annual_revenue >= 2", &[10]),
    ];
    for (text, expected) in cases {
        assert_eq!(&query(text, &[]), expected, "{text}");
    }
}

#[test]
fn guards_are_anded_in() {
    assert_eq!(query("contact", &["email"]), vec![2, 3]);
    assert_eq!(
        query(r#"contact where city != "Berlin""#, &["email"]),
        vec![2]
    );
}

#[test]
fn a_postgres_database_in_the_wrong_layout_is_named() {
    let Some(pg) = TestPg::start() else {
        return;
    };
    let schema = crm_schema();
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(&sqlite_db(&schema), &mut client, &schema).unwrap();
    client
        .batch_execute(
            "ALTER TABLE lead DROP COLUMN score; DROP TABLE interaction; \
             ALTER TABLE contact ALTER COLUMN role TYPE integer;",
        )
        .unwrap();
    let plan = Plan {
        entity: "contact".into(),
        filter: PlanExpr::And(vec![
            eq("contact", "role", choice(1)),
            has(
                "contact",
                "lead_parent_contact",
                Quantifier::Any,
                cmp("lead", "score", CmpOp::Gt, Value::Integer(1)),
            ),
            has(
                "contact",
                "interaction_contact",
                Quantifier::Any,
                PlanExpr::Const(true),
            ),
        ]),
    };
    let message = sql::verify_layout_postgres(&mut client, &schema, &plan)
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
    let fine = Plan {
        entity: "contact".into(),
        filter: eq("contact", "city", text("Paris")),
    };
    sql::verify_layout_postgres(&mut client, &schema, &fine).unwrap();
}

#[test]
fn plans_as_deep_as_the_checker_allows_compile() {
    use segql::error::limits::MAX_PLAN_DEPTH;
    // Alternating parent and child hops, as deep as a plan may be.
    let mut filter = eq("contact", "city", text("Paris"));
    for i in 0..MAX_PLAN_DEPTH / 2 {
        let (entity, rel) = if i % 2 == 0 {
            ("lead", "lead_parent_contact")
        } else {
            ("contact", "lead_parent_contact")
        };
        filter = not(has(entity, rel, Quantifier::Any, filter));
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
fn parts_that_fold_to_constants_leave_no_parameters_behind() {
    // Unused parameters: SQLite rejects one past the last used placeholder,
    // PostgreSQL one whose type it cannot infer (an integer).
    let always = has(
        "contact",
        "lead_parent_contact",
        Quantifier::AtLeast(0),
        cmp("lead", "score", CmpOp::Gt, Value::Integer(5)),
    );
    let never = PlanExpr::And(vec![
        eq("contact", "role", choice(2)),
        PlanExpr::Const(false),
    ]);
    let filter = PlanExpr::And(vec![
        eq("contact", "city", text("Paris")),
        PlanExpr::Or(vec![never.clone(), eq("contact", "last_name", text("Zed"))]),
        always.clone(),
    ]);
    assert_eq!(ids("contact", filter), vec![1]);
    assert_eq!(ids("contact", not(always)), Vec::<u128>::new());
    assert_eq!(ids("contact", not(never)), vec![1, 2, 3, 4]);
    // An integer between whose upper bound is below every integer.
    let between = test(
        "account",
        "employees",
        Test::Between {
            low: Value::Decimal(2.5),
            high: Value::Decimal(-1e300),
        },
    );
    assert_eq!(
        ids(
            "account",
            PlanExpr::Or(vec![between, eq("account", "name", text("Shop"))])
        ),
        vec![11]
    );
}
