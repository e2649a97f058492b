//! Any UTF-8 text planned against the CRM schema and, when it plans,
//! evaluated in memory over a small fixed store. Never panics.
#![no_main]

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use segql::eval::{Store, StoreBuilder};
use segql::plan::Value;
use segql::schema::{crm_schema, Schema};
use uuid::Uuid;

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(crm_schema)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap()
}

fn id(n: u128) -> Value {
    Value::Uuid(Uuid::from_u128(n))
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn at(y: i32, m: u32, d: u32) -> Value {
    Value::DateTime(Utc.with_ymd_and_hms(y, m, d, 9, 30, 0).unwrap())
}

/// A few records per entity, with NULLs, shared parents and a record
/// without children, so that every kind of test has something to decide.
fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut b = StoreBuilder::new(schema());
        let mut add = |entity: &str, values: Vec<(&str, Value)>| {
            b.insert(entity, values)
                .unwrap_or_else(|e| panic!("fixed store: {entity}: {e}"));
        };
        add(
            "account",
            vec![
                ("id", id(0x100)),
                ("name", text("Contoso")),
                ("city", text("Seattle")),
                ("country", text("US")),
                ("employees", Value::Integer(250)),
                ("annual_revenue", Value::Decimal(1.5e6)),
                ("created_on", at(2020, 1, 15)),
            ],
        );
        add(
            "account",
            vec![
                ("id", id(0x101)),
                ("name", text("Fabrikam")),
                ("city", text("München")),
                ("employees", Value::Integer(-1)),
                ("annual_revenue", Value::Decimal(0.0)),
            ],
        );
        add("account", vec![("id", id(0x102))]);
        add(
            "contact",
            vec![
                ("id", id(0x200)),
                ("first_name", text("Ada")),
                ("last_name", text("Lovelace")),
                ("email", text("ada@example.com")),
                ("city", text("Seattle")),
                (
                    "birth_date",
                    Value::Date(NaiveDate::from_ymd_opt(1990, 2, 28).unwrap()),
                ),
                ("created_on", at(2024, 5, 31)),
                ("do_not_email", Value::Bool(true)),
                ("account_id", id(0x100)),
            ],
        );
        add(
            "contact",
            vec![
                ("id", id(0x201)),
                ("first_name", text("")),
                ("email", text("%_\\'\"")),
                (
                    "birth_date",
                    Value::Date(NaiveDate::from_ymd_opt(2000, 2, 29).unwrap()),
                ),
                ("account_id", id(0x100)),
            ],
        );
        add(
            "contact",
            vec![("id", id(0x202)), ("is_child", Value::Bool(true))],
        );
        add(
            "lead",
            vec![
                ("id", id(0x300)),
                ("topic", text("Renewal")),
                ("score", Value::Integer(i64::MAX)),
                ("estimated_value", Value::Decimal(-12.25)),
                ("sales_ready", Value::Bool(true)),
                ("created_on", at(2024, 6, 1)),
                ("contact_id", id(0x200)),
                ("account_id", id(0x100)),
            ],
        );
        add(
            "lead",
            vec![
                ("id", id(0x301)),
                ("score", Value::Integer(i64::MIN)),
                ("contact_id", id(0x200)),
            ],
        );
        add("lead", vec![("id", id(0x302))]);
        add(
            "interaction",
            vec![
                ("id", id(0x400)),
                ("contact_id", id(0x200)),
                ("occurred_on", at(2024, 5, 1)),
                ("detail", text("opened")),
            ],
        );
        add(
            "interaction",
            vec![("id", id(0x401)), ("contact_id", id(0x200))],
        );
        add(
            "interaction",
            vec![
                ("id", id(0x402)),
                ("contact_id", id(0x201)),
                ("occurred_on", at(1970, 1, 1)),
            ],
        );
        add(
            "subscription",
            vec![
                ("id", id(0x500)),
                ("contact_id", id(0x200)),
                ("list", text("news")),
                ("subscribed_on", at(2023, 12, 31)),
            ],
        );
        add(
            "subscription",
            vec![("id", id(0x501)), ("contact_id", id(0x201))],
        );
        b.build().expect("fixed store builds")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(plan) = segql::plan(text, &segql::Options::new(schema())) {
        let _ = segql::eval::evaluate(&plan, store(), now());
    }
});
