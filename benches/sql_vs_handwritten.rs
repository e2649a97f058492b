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

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use rusqlite::Connection;
use segql::check::plan::*;
use segql::schema::crm_schema;
use segql::sql::{self, postgres_exec, sqlite_exec, SqlOptions, SqlParam, SqlQuery};

/// Runs per query for the summary's medians.
const RUNS: usize = 31;

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
    /// The hand-written SQL for PostgreSQL where it is not `hand`'s with
    /// `$N` placeholders (booleans, case-insensitive LIKE).
    hand_pg: Option<&'static str>,
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
    let year_ago = (now() - chrono::Duration::days(365))
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
            hand_pg: None,
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
            hand_pg: Some(
                "SELECT id FROM contact WHERE country = $1 AND consent_level >= $2 \
                 AND NOT do_not_email ORDER BY id",
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
            hand_pg: None,
        },
        Case {
            name: "opens_year",
            segment: r#"contact where has at least 3 interaction(type = "Email Opened" and occurred_on >= now - 365d)"#,
            plan: Plan {
                entity: "contact".into(),
                filter: has("interaction_contact", ToChildren, "contact", "interaction", Quantifier::AtLeast(3),
                    PlanExpr::And(vec![
                        eq("interaction", "type", T::Choice, choice(3)),
                        field("interaction", "occurred_on", T::DateTime, Test::Compare {
                            op: CmpOp::Ge,
                            value: Value::NowPlusSeconds { seconds: -365 * 86400, midnight: false },
                        }),
                    ])),
            },
            hand: hand(
                "SELECT id FROM contact WHERE id IN (SELECT contact_id FROM interaction \
                 WHERE type = ?1 AND occurred_on >= ?2 GROUP BY contact_id HAVING COUNT(*) >= 3) \
                 ORDER BY id",
                vec![SqlParam::Integer(3), text(&year_ago)],
            ),
            hand_pg: None,
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
            hand_pg: None,
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
            hand_pg: Some(
                "SELECT c.id FROM contact c WHERE (c.city <> $1 OR c.city IS NULL) \
                 AND (c.role NOT IN (2, 3) OR c.role IS NULL) \
                 AND NOT EXISTS (SELECT 1 FROM interaction i WHERE i.contact_id = c.id AND i.type = 4) \
                 AND c.email IS NOT NULL AND c.email NOT ILIKE '%@example.com' ORDER BY c.id",
            ),
        },
    ]
}

/// Median times of `runs` runs of `a` and of `b`, interleaved so that a
/// change in the machine's load affects both alike.
fn medians(runs: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed()
    };
    let (mut ta, mut tb): (Vec<Duration>, Vec<Duration>) =
        (0..runs).map(|_| (time(&mut a), time(&mut b))).unzip();
    ta.sort();
    tb.sort();
    (ta[runs / 2], tb[runs / 2])
}

fn ratio_line(name: &str, ids: usize, (g, h): (Duration, Duration)) -> String {
    format!(
        "{name:<15} {ids:>7} ids  generated {g:>10.2?}  hand-written {h:>10.2?}  ratio {:.2}",
        g.as_secs_f64() / h.as_secs_f64()
    )
}

/// The same cases on PostgreSQL, when a server is installed: the demo data
/// copied over, each query checked for the same ids and timed.
fn postgres_summary(sqlite: &Connection, runs: usize) -> Vec<String> {
    let Some(pg) = support::pg::TestPg::start() else {
        return vec!["PostgreSQL: no server installed, skipped".into()];
    };
    let mut client = pg.client();
    let schema = crm_schema();
    segql::demo::copy_sqlite_to_postgres(sqlite, &mut client, &schema).expect("copied");
    let mut lines = Vec::new();
    for case in cases() {
        let options = SqlOptions {
            count: false,
            now: now(),
        };
        let generated =
            sql::to_sql(&case.plan, &schema, &sql::Postgres, &options).expect("compiles");
        let hand = SqlQuery {
            sql: match case.hand_pg {
                Some(sql) => sql.to_string(),
                None => postgres_placeholders(&case.hand.sql),
            },
            params: case.hand.params.iter().map(postgres_param).collect(),
        };
        let ours = postgres_exec::run_ids(&mut client, &generated).expect("generated SQL runs");
        let theirs = postgres_exec::run_ids(&mut client, &hand).expect("hand-written SQL runs");
        assert_eq!(
            ours, theirs,
            "different answers for {}\n{}",
            case.segment, generated.sql
        );
        let client = std::cell::RefCell::new(&mut client);
        let times = medians(
            runs,
            || drop(postgres_exec::run_ids(&mut client.borrow_mut(), &generated)),
            || drop(postgres_exec::run_ids(&mut client.borrow_mut(), &hand)),
        );
        lines.push(ratio_line(case.name, ours.len(), times));
    }
    lines
}

/// `?N` placeholders as `$N`.
fn postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// A hand-written SQLite parameter as PostgreSQL takes it: the only text
/// parameters that are not text in PostgreSQL here are date-times.
fn postgres_param(p: &SqlParam) -> SqlParam {
    match p {
        SqlParam::Text(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(at) => SqlParam::DateTime(at.with_timezone(&Utc)),
            Err(_) => p.clone(),
        },
        other => other.clone(),
    }
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
            b.iter(|| sqlite_exec::run_ids(&conn, &generated).expect("runs"))
        });
        group.bench_function("hand_written", |b| {
            b.iter(|| sqlite_exec::run_ids(&conn, &case.hand).expect("runs"))
        });
        group.finish();
        let times = medians(
            RUNS,
            || drop(sqlite_exec::run_ids(&conn, &generated)),
            || drop(sqlite_exec::run_ids(&conn, &case.hand)),
        );
        summary.push(ratio_line(case.name, ours.len(), times));
    }
    eprintln!("\n{contacts} contacts, SQLite, medians of {RUNS} interleaved runs:");
    for line in summary {
        eprintln!("{line}");
    }
    let pg = postgres_summary(&conn, RUNS);
    eprintln!("\n{contacts} contacts, PostgreSQL, medians of {RUNS} interleaved runs:");
    for line in pg {
        eprintln!("{line}");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
