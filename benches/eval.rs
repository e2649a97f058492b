//! In-memory engine benchmarks on the demo database: load rate and the
//! evaluation time of typical segments (load excluded).
//!
//! `SEGQL_BENCH_CONTACTS` sets the size (default 50,000); the database is
//! generated once into `target/bench/demo-N.db` and reused, so
//! `benches/duckdb_compare.py` can time DuckDB and SQLite on the same data.
//! See benches/README.md.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rusqlite::Connection;
use segql::check::plan::*;
use segql::eval::{self, Store};
use segql::schema::crm_schema;

/// The reference time of the generated data and of every query.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

fn contacts() -> usize {
    std::env::var("SEGQL_BENCH_CONTACTS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(50_000)
}

/// The demo database of `contacts()` contacts, generated when missing.
fn database() -> PathBuf {
    let n = contacts();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let path = dir.join(format!("demo-{n}.db"));
    if !path.exists() {
        std::fs::create_dir_all(&dir).expect("create target/bench");
        eprintln!("generating {} ...", path.display());
        let options = segql::demo::DemoOptions::new(n, 1, now());
        segql::demo::generate_sqlite(&path, &options).expect("generate the demo database");
    }
    path
}

fn field(entity: &str, name: &str, ty: ValueType, test: Test) -> PlanExpr {
    PlanExpr::Field(FieldTest {
        field: FieldRef {
            entity: entity.into(),
            field: name.into(),
            ty,
        },
        test,
    })
}

fn eq(entity: &str, name: &str, ty: ValueType, value: Value) -> PlanExpr {
    field(
        entity,
        name,
        ty,
        Test::Compare {
            op: CmpOp::Eq,
            value,
        },
    )
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

fn has(rel: &str, dir: Direction, from: &str, to: &str, q: Quantifier, f: PlanExpr) -> PlanExpr {
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

fn contact(filter: PlanExpr) -> Plan {
    Plan {
        entity: "contact".into(),
        filter,
    }
}

/// The benchmark segments; `benches/duckdb_compare.py` holds the same ones
/// as SQL under the same names.
fn queries() -> Vec<(&'static str, Plan)> {
    use ValueType::*;
    let leads = |q, f| {
        has(
            "lead_parent_contact",
            Direction::ToChildren,
            "contact",
            "lead",
            q,
            f,
        )
    };
    let bool_true = |name| eq("contact", name, Bool, Value::Bool(true));
    vec![
        // contact where role = "decision maker" and has lead(topic = "Contoso Ltd Conference")
        (
            "spec_example",
            contact(PlanExpr::And(vec![
                eq("contact", "role", Choice, choice(1)),
                leads(
                    Quantifier::Any,
                    eq("lead", "topic", Text, text("Contoso Ltd Conference")),
                ),
            ])),
        ),
        // contact where country = "Germany" and consent_level >= "Marketing"
        //   and birth_date < 1990-01-01
        (
            "contact_fields",
            contact(PlanExpr::And(vec![
                eq("contact", "country", Text, text("Germany")),
                field(
                    "contact",
                    "consent_level",
                    Choice,
                    Test::Compare {
                        op: CmpOp::Ge,
                        value: choice(4),
                    },
                ),
                field(
                    "contact",
                    "birth_date",
                    Date,
                    Test::Compare {
                        op: CmpOp::Lt,
                        value: Value::Date(chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()),
                    },
                ),
            ])),
        ),
        // contact where has at least 3 interaction(type = "Email Opened" and occurred_on >= now - 30d)
        (
            "recent_opens",
            contact(has(
                "interaction_contact",
                Direction::ToChildren,
                "contact",
                "interaction",
                Quantifier::AtLeast(3),
                PlanExpr::And(vec![
                    eq("interaction", "type", Choice, choice(3)),
                    field(
                        "interaction",
                        "occurred_on",
                        DateTime,
                        Test::Compare {
                            op: CmpOp::Ge,
                            value: Value::NowPlusSeconds {
                                seconds: -30 * 86_400,
                                midnight: false,
                            },
                        },
                    ),
                ]),
            )),
        ),
        // contact where has lead(has account(industry = "Retail"))
        (
            "nested",
            contact(leads(
                Quantifier::Any,
                has(
                    "lead_parent_account",
                    Direction::ToParent,
                    "lead",
                    "account",
                    Quantifier::Any,
                    eq("account", "industry", Choice, choice(8)),
                ),
            )),
        ),
        // contact where not do_not_email and not do_not_bulk_email and city != "Berlin"
        //   and not has lead(status = "Disqualified") and not (role = "Employee" or is_child)
        (
            "negations",
            contact(PlanExpr::And(vec![
                not(bool_true("do_not_email")),
                not(bool_true("do_not_bulk_email")),
                not(eq("contact", "city", Text, text("Berlin"))),
                leads(Quantifier::No, eq("lead", "status", Choice, choice(2))),
                not(PlanExpr::Or(vec![
                    eq("contact", "role", Choice, choice(2)),
                    bool_true("is_child"),
                ])),
            ])),
        ),
        // contact where email contains "MÜLLER" or last_name contains "son"
        (
            "text_contains",
            contact(PlanExpr::Or(vec![
                field(
                    "contact",
                    "email",
                    Text,
                    Test::Text {
                        op: TextOp::Contains,
                        pattern: "MUELLER".into(),
                    },
                ),
                field(
                    "contact",
                    "last_name",
                    Text,
                    Test::Text {
                        op: TextOp::Contains,
                        pattern: "son".into(),
                    },
                ),
            ])),
        ),
        // contact where city = "Paris" or city = "Toronto" or ... (ten branches over several fields)
        (
            "wide_or",
            contact(PlanExpr::Or(vec![
                eq("contact", "city", Text, text("Paris")),
                eq("contact", "city", Text, text("Toronto")),
                eq("contact", "country", Text, text("Japan")),
                eq("contact", "job_title", Text, text("CEO")),
                eq("contact", "first_name", Text, text("Hannah")),
                eq("contact", "role", Choice, choice(3)),
                eq("contact", "consent_level", Choice, choice(6)),
                bool_true("is_child"),
                field(
                    "contact",
                    "email",
                    Text,
                    Test::Text {
                        op: TextOp::EndsWith,
                        pattern: ".fr".into(),
                    },
                ),
                leads(Quantifier::AtLeast(4), PlanExpr::Const(true)),
            ])),
        ),
    ]
}

fn benches(c: &mut Criterion) {
    let path = database();
    let conn = Connection::open(&path).expect("open the demo database");
    let schema = crm_schema();

    let store = Store::load_sqlite(&conn, &schema, None).expect("load");
    let mut group = c.benchmark_group("load");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(store.value_count() as u64));
    group.bench_function("all_tables", |b| {
        b.iter(|| Store::load_sqlite(&conn, &schema, None).expect("load"))
    });
    group.finish();

    let mut group = c.benchmark_group("count");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    let mut counts = serde_json::Map::new();
    for (name, plan) in queries() {
        let n = eval::count(&plan, &store, now()).expect("evaluate");
        counts.insert(name.into(), n.into());
        group.bench_with_input(BenchmarkId::from_parameter(name), &plan, |b, plan| {
            b.iter(|| eval::count(plan, &store, now()).expect("evaluate"))
        });
    }
    group.finish();
    // For duckdb_compare.py, which checks every engine counts the same.
    let counts_path = path.with_file_name(format!("counts-{}.json", contacts()));
    let json = serde_json::Value::Object(counts).to_string();
    std::fs::write(&counts_path, json).expect("write the counts");

    let mut group = c.benchmark_group("ids");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    let (name, plan) = &queries()[4];
    group.bench_function(*name, |b| {
        b.iter(|| eval::evaluate(plan, &store, now()).expect("evaluate"))
    });
    group.finish();

    // One record at a time, as a real-time journey asks.
    let ids = store.ids("contact");
    let mut group = c.benchmark_group("contains");
    for (name, plan) in queries() {
        let program = eval::compile(&plan, &store, now()).expect("compile");
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 7919) % ids.len();
                program.contains(ids[i])
            })
        });
    }
    group.finish();
}

criterion_group!(eval_benches, benches);
criterion_main!(eval_benches);
