//! Loading the in-memory store from SQLite in the default layout: values in
//! their stored forms, loading only what a plan needs, and clear errors for a
//! missing table or column or an unreadable value.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use segql::db::SqliteBackend;
use segql::eval::{self, Store};
use segql::plan::*;
use segql::schema::crm_schema;

const C1: &str = "00000000-0000-4000-8000-000000000001";
const C2: &str = "00000000-0000-4000-8000-000000000002";
const C3: &str = "0000000a-0000-4000-8000-000000000003";
const A1: &str = "10000000-0000-4000-8000-000000000001";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0).unwrap()
}

fn db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        r#"
        CREATE TABLE account (id TEXT PRIMARY KEY, name TEXT, industry INTEGER, city TEXT,
            country TEXT, employees INTEGER, annual_revenue REAL, created_on TEXT);
        CREATE TABLE contact (id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT,
            job_title TEXT, role INTEGER, city TEXT, country TEXT, birth_date TEXT, created_on TEXT,
            marketing_only INTEGER NOT NULL DEFAULT 0, do_not_email INTEGER NOT NULL DEFAULT 0,
            do_not_bulk_email INTEGER NOT NULL DEFAULT 0, allow_prefill INTEGER NOT NULL DEFAULT 0,
            consent_level INTEGER, is_child INTEGER NOT NULL DEFAULT 0, account_id TEXT);
        CREATE TABLE lead (id TEXT PRIMARY KEY, topic TEXT, first_name TEXT, last_name TEXT,
            email TEXT, company_name TEXT, status INTEGER, source INTEGER, score INTEGER,
            sales_ready INTEGER, estimated_value REAL, created_on TEXT, contact_id TEXT,
            account_id TEXT);
        CREATE TABLE interaction (id TEXT PRIMARY KEY, contact_id TEXT, type INTEGER,
            occurred_on TEXT, detail TEXT);
        CREATE TABLE subscription (id TEXT PRIMARY KEY, contact_id TEXT, list TEXT,
            subscribed_on TEXT);
        "#,
    )
    .unwrap();
    conn.execute(
        "INSERT INTO account (id, name, industry, annual_revenue) VALUES (?1, 'Contoso', 8, 1e6)",
        [A1],
    )
    .unwrap();
    // Inserted out of key order: the store sorts by key.
    conn.execute(
        "INSERT INTO contact (id, first_name, role, created_on, birth_date, account_id, do_not_email)
         VALUES (?1, 'Ann', 1, '2024-06-02T08:00:00Z', '1990-02-03', ?2, 0)",
        [C3, A1],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO contact (id, first_name, role, do_not_email) VALUES (?1, 'Bob', 2, 1)",
        [C2],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO contact (id, first_name) VALUES (?1, NULL)",
        [C1],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO lead (id, topic, status, contact_id, account_id)
         VALUES ('20000000-0000-4000-8000-000000000001', 'Contoso Ltd Conference', 1, ?1, ?2)",
        [C3, A1],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO interaction (id, contact_id, type, occurred_on)
         VALUES ('30000000-0000-4000-8000-000000000001', ?1, 3, '2024-06-14T23:59:59Z')",
        [C2],
    )
    .unwrap();
    conn
}

fn cmp(entity: &str, field: &str, ty: ValueType, op: CmpOp, value: Value) -> PlanExpr {
    PlanExpr::Field(FieldTest {
        field: FieldRef {
            entity: entity.into(),
            field: field.into(),
            ty,
        },
        test: Test::Compare { op, value },
    })
}

fn spec_example() -> Plan {
    // contact where role = "decision maker" and has lead(topic = "Contoso Ltd Conference")
    Plan {
        entity: "contact".into(),
        filter: PlanExpr::And(vec![
            cmp(
                "contact",
                "role",
                ValueType::Choice,
                CmpOp::Eq,
                Value::Integer(1),
            ),
            PlanExpr::Related(Related {
                link: Link {
                    relationship: "lead_parent_contact".into(),
                    direction: Direction::ToChildren,
                    from: "contact".into(),
                    to: "lead".into(),
                },
                quantifier: Quantifier::Any,
                filter: Box::new(cmp(
                    "lead",
                    "topic",
                    ValueType::Text,
                    CmpOp::Eq,
                    Value::Text("Contoso Ltd Conference".into()),
                )),
            }),
        ]),
    }
}

fn ids(plan: &Plan, store: &Store) -> Vec<String> {
    eval::evaluate(plan, store, now())
        .unwrap()
        .iter()
        .map(|u| u.to_string())
        .collect()
}

#[test]
fn loads_everything_in_key_order() {
    let conn = db();
    let store = Store::load(&mut SqliteBackend::new(&conn), &crm_schema(), None).unwrap();
    let all = Plan {
        entity: "contact".into(),
        filter: PlanExpr::Const(true),
    };
    assert_eq!(ids(&all, &store), [C1, C2, C3]);
    assert_eq!(ids(&spec_example(), &store), [C3]);
    let recent = Plan {
        entity: "contact".into(),
        filter: cmp(
            "contact",
            "created_on",
            ValueType::DateTime,
            CmpOp::Ge,
            Value::NowPlusSeconds {
                seconds: -14 * 86_400,
                midnight: false,
            },
        ),
    };
    assert_eq!(ids(&recent, &store), [C3]);
    let dne = Plan {
        entity: "contact".into(),
        filter: PlanExpr::Not(Box::new(cmp(
            "contact",
            "do_not_email",
            ValueType::Bool,
            CmpOp::Eq,
            Value::Bool(true),
        ))),
    };
    assert_eq!(ids(&dne, &store), [C1, C3]);
    let rich = Plan {
        entity: "account".into(),
        filter: cmp(
            "account",
            "annual_revenue",
            ValueType::Decimal,
            CmpOp::Gt,
            Value::Integer(999_999),
        ),
    };
    assert_eq!(ids(&rich, &store), [A1]);
}

#[test]
fn a_plan_loads_only_what_it_needs() {
    let conn = db();
    let plan = spec_example();
    let store = Store::load(&mut SqliteBackend::new(&conn), &crm_schema(), Some(&plan)).unwrap();
    assert_eq!(ids(&plan, &store), [C3]);
    let contact_cols: Vec<String> = store
        .columns("contact")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(contact_cols, ["role"]);
    let lead_cols: Vec<String> = store.columns("lead").into_iter().map(|(n, _)| n).collect();
    assert_eq!(lead_cols, ["topic", "contact_id"]);
    assert_eq!(store.len("account"), None);
    // A different plan needs a column that was not loaded: a clear error.
    let other = Plan {
        entity: "contact".into(),
        filter: cmp(
            "contact",
            "city",
            ValueType::Text,
            CmpOp::Eq,
            Value::Text("x".into()),
        ),
    };
    let err = eval::evaluate(&other, &store, now()).unwrap_err();
    assert!(err.to_string().contains("contact.city"), "{err}");
}

#[test]
fn a_missing_table_or_column_is_named() {
    let conn = db();
    conn.execute_batch("DROP TABLE interaction; ALTER TABLE lead DROP COLUMN topic;")
        .unwrap();
    let err = Store::load(&mut SqliteBackend::new(&conn), &crm_schema(), None).unwrap_err();
    assert_eq!(err.kind(), "database error");
    let msg = err.to_string();
    assert!(msg.contains("interaction"), "{msg}");
    let plan = spec_example();
    let msg = Store::load(&mut SqliteBackend::new(&conn), &crm_schema(), Some(&plan))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("'lead'") && msg.contains("'topic'"), "{msg}");
}

#[test]
fn an_unreadable_value_names_table_column_and_record() {
    let conn = db();
    conn.execute(
        "UPDATE contact SET birth_date = '2024-13-01' WHERE id = ?1",
        [C2],
    )
    .unwrap();
    let msg = Store::load(&mut SqliteBackend::new(&conn), &crm_schema(), None)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("contact") && msg.contains("birth_date") && msg.contains(C2),
        "{msg}"
    );
    assert!(msg.contains("2024-13-01"), "{msg}");
    let conn = db();
    conn.execute("UPDATE contact SET id = 'NOT-A-UUID' WHERE id = ?1", [C2])
        .unwrap();
    let msg = Store::load(&mut SqliteBackend::new(&conn), &crm_schema(), None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("NOT-A-UUID"), "{msg}");
}
