//! Generated SQL against the SQL a DBA would write by hand for the same
//! segment, on a demo database in SQLite. Both run through the same
//! execution path (`sqlite_exec::run_ids`), and must return the same ids.
//!
//! `SEGQL_BENCH_CONTACTS` sets the demo size (default 20,000 contacts, about
//! 210,000 interactions). For the million-contact figures:
//! `SEGQL_BENCH_CONTACTS=1000000 cargo bench --bench sql_vs_handwritten`
//! (the demo database then takes a few minutes to build and ~1 GB of disk).
//! After criterion's own report, a summary line per case gives both medians
//! and their ratio.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use rusqlite::Connection;
use segql::check::plan::*;
use segql::schema::crm_schema;
use segql::sql::{self, sqlite_exec, SqlOptions, SqlParam, SqlQuery};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
        .single()
        .expect("a valid time")
}

struct Case {
    name: &'static str,
    /// The segment, for the report.
    segment: &'static str,
    plan: Plan,
    hand: SqlQuery,
}

fn field(entity: &str, field: &str, ty: ValueType, test: Test) -> PlanExpr {
    PlanExpr::Field(FieldTest {
        field: FieldRef {
            entity: entity.into(),
            field: field.into(),
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

fn hand(sql: &str, params: Vec<SqlParam>) -> SqlQuery {
    SqlQuery {
        sql: sql.into(),
        params,
    }
}

fn text(s: &str) -> SqlParam {
    SqlParam::Text(s.into())
}

fn cases() -> Vec<Case> {
    use Direction::*;
    use ValueType as T;
    let thirty_days_ago = (now() - chrono::Duration::days(30))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    vec![
        Case {
            name: "spec_example",
            segment: r#"contact where role = "decision maker" and has lead(topic = "Contoso Ltd Conference")"#,
            plan: Plan {
                entity: "contact".into(),
                filter: PlanExpr::And(vec![
                    eq("contact", "role", T::Choice, choice(1)),
                    has("lead_parent_contact", ToChildren, "contact", "lead", Quantifier::Any,
                        eq("lead", "topic", T::Text, Value::Text("Contoso Ltd Conference".into()))),
                ]),
            },
            hand: hand(
                "SELECT c.id FROM contact c WHERE c.role = ?1 AND EXISTS \
                 (SELECT 1 FROM lead l WHERE l.contact_id = c.id AND l.topic = ?2) ORDER BY c.id",
                vec![SqlParam::Integer(1), text("Contoso Ltd Conference")],
            ),
        },
        Case {
            name: "contact_fields",
            segment: r#"contact where country = "France" and consent_level >= "Marketing" and not do_not_email"#,
            plan: Plan {
                entity: "contact".into(),
                filter: PlanExpr::And(vec![
                    eq("contact", "country", T::Text, Value::Text("France".into())),
                    field("contact", "consent_level", T::Choice, Test::Compare { op: CmpOp::Ge, value: choice(4) }),
                    not(eq("contact", "do_not_email", T::Bool, Value::Bool(true))),
                ]),
            },
            hand: hand(
                "SELECT id FROM contact WHERE country = ?1 AND consent_level >= ?2 \
                 AND do_not_email = 0 ORDER BY id",
                vec![text("France"), SqlParam::Integer(4)],
            ),
        },
        Case {
            name: "recent_opens",
            segment: r#"contact where has at least 3 interaction(type = "Email Opened" and occurred_on >= now - 30d)"#,
            plan: Plan {
                entity: "contact".into(),
                filter: has("interaction_contact", ToChildren, "contact", "interaction", Quantifier::AtLeast(3),
                    PlanExpr::And(vec![
                        eq("interaction", "type", T::Choice, choice(3)),
                        field("interaction", "occurred_on", T::DateTime, Test::Compare {
                            op: CmpOp::Ge,
                            value: Value::NowPlusSeconds { seconds: -30 * 86400, midnight: false },
                        }),
                    ])),
            },
            hand: hand(
                "SELECT id FROM contact WHERE id IN (SELECT contact_id FROM interaction \
                 WHERE type = ?1 AND occurred_on >= ?2 GROUP BY contact_id HAVING COUNT(*) >= 3) \
                 ORDER BY id",
                vec![SqlParam::Integer(3), text(&thirty_days_ago)],
            ),
        },
        Case {
            name: "nested",
            segment: r#"contact where has lead(has account(industry = "Retail"))"#,
            plan: Plan {
                entity: "contact".into(),
                filter: has("lead_parent_contact", ToChildren, "contact", "lead", Quantifier::Any,
                    has("lead_parent_account", ToParent, "lead", "account", Quantifier::Any,
                        eq("account", "industry", T::Choice, choice(8)))),
            },
            hand: hand(
                "SELECT id FROM contact WHERE id IN (SELECT l.contact_id FROM lead l \
                 JOIN account a ON a.id = l.account_id WHERE a.industry = ?1) ORDER BY id",
                vec![SqlParam::Integer(8)],
            ),
        },
        Case {
            name: "negations",
            segment: r#"contact where city != "Paris" and role not in ["Employee", "Influencer"] and not has interaction(type = "Email Clicked") and email is not null and not email ends with "@example.com""#,
            plan: Plan {
                entity: "contact".into(),
                filter: PlanExpr::And(vec![
                    not(eq("contact", "city", T::Text, Value::Text("Paris".into()))),
                    not(field("contact", "role", T::Choice, Test::InList(vec![choice(2), choice(3)]))),
                    not(has("interaction_contact", ToChildren, "contact", "interaction", Quantifier::Any,
                        eq("interaction", "type", T::Choice, choice(4)))),
                    field("contact", "email", T::Text, Test::IsNotNull),
                    not(field("contact", "email", T::Text, Test::Text {
                        op: TextOp::EndsWith,
                        pattern: "@example.com".into(),
                    })),
                ]),
            },
            hand: hand(
                "SELECT c.id FROM contact c WHERE (c.city <> ?1 OR c.city IS NULL) \
                 AND (c.role NOT IN (2, 3) OR c.role IS NULL) \
                 AND NOT EXISTS (SELECT 1 FROM interaction i WHERE i.contact_id = c.id AND i.type = 4) \
                 AND c.email IS NOT NULL AND c.email NOT LIKE '%@example.com' ORDER BY c.id",
                vec![text("Paris")],
            ),
        },
    ]
}

/// The median time of `runs` runs of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn bench(c: &mut Criterion) {
    let contacts: usize = std::env::var("SEGQL_BENCH_CONTACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("demo.db");
    let started = Instant::now();
    let report =
        segql::demo::generate_sqlite(&path, &segql::demo::DemoOptions::new(contacts, 7, now()))
            .expect("the demo database");
    eprintln!("demo database: {report:?} in {:.1?}", started.elapsed());
    let conn = Connection::open(&path).expect("the demo database opens");
    let schema = crm_schema();
    let mut summary = Vec::new();
    for case in cases() {
        let options = SqlOptions {
            count: false,
            now: now(),
        };
        let generated = sql::to_sql(&case.plan, &schema, &sql::Sqlite, &options).expect("compiles");
        let ours = sqlite_exec::run_ids(&conn, &generated).expect("generated SQL runs");
        let theirs = sqlite_exec::run_ids(&conn, &case.hand).expect("hand-written SQL runs");
        assert_eq!(
            ours, theirs,
            "different answers for {}\n{}",
            case.segment, generated.sql
        );
        let mut group = c.benchmark_group(case.name);
        group.sample_size(20);
        group.bench_function("generated", |b| {
            b.iter(|| sqlite_exec::run_ids(&conn, &generated))
        });
        group.bench_function("hand_written", |b| {
            b.iter(|| sqlite_exec::run_ids(&conn, &case.hand))
        });
        group.finish();
        let g = median(15, || drop(sqlite_exec::run_ids(&conn, &generated)));
        let h = median(15, || drop(sqlite_exec::run_ids(&conn, &case.hand)));
        summary.push(format!(
            "{:<15} {:>7} ids  generated {:>10.2?}  hand-written {:>10.2?}  ratio {:.2}",
            case.name,
            ours.len(),
            g,
            h,
            g.as_secs_f64() / h.as_secs_f64()
        ));
    }
    eprintln!("\n{contacts} contacts, medians of 15 runs:");
    for line in summary {
        eprintln!("{line}");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
