//! The compiler's own speed: each stage of text to SQL (parse, check,
//! optimize, SQL for SQLite and for PostgreSQL) and the whole pipeline
//! (`segql::compile`, `compile_sqlite` and `compile_postgres`), through the public library API; besides, parsing
//! with the grammar alone (`parse_grammar`, `syntax::reference`: the
//! baseline of the hand-written fast path) and the front end, parse and
//! check (`front_end`); on
//!
//! - `spec` — SPEC's example, `contact where role = "decision maker" and
//!   has lead(topic = "Contoso Ltd Conference")`;
//! - `N` (100, 1,000, 10,000) — generated segments of about N AST nodes:
//!   one `or` of `and` pairs mixing field comparisons, `contains`,
//!   `starts with`, `has lead(..)` and `has at least 2 interaction(..)`;
//! - `issue_58kb` — the same shape at 625 pairs: about 58 KB and 1,700
//!   predicates (counting those inside `has (...)`), the size of the
//!   segment measured from outside in issue 19.
//!
//! A node is an [`Expr`] of the parsed tree: each `and`, `or`, `not`,
//! `has` and predicate, including those inside a `has (...)`. Names and
//! literals are parts of their predicate, not nodes. The bench prints each
//! case's node count and size before timing, and reports throughput in
//! nodes, so criterion's `elem/s` is nodes per second.
//!
//! ```text
//! cargo bench --bench compiler                   # every stage and case
//! cargo bench --bench compiler -- 'check/'       # one stage
//! ```
//!
//! Under `cargo test` (no `--bench` argument) each routine runs once, on
//! the spec example, the 100-node segment and `issue_58kb`, and the
//! bench checks its results: the stages run one after the other give what
//! `compile` gives for each dialect, and SQLite prepares the SQL of every case with as many
//! placeholders as it has parameters.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use segql::db::SqliteBackend;
use segql::schema::{crm_schema, Schema};
use segql::sql::{self, Dialect, Postgres, SqlOptions, SqlQuery, Sqlite};
use segql::syntax::ast::{Expr, ExprKind};
use segql::Options;

const SPEC_EXAMPLE: &str =
    r#"contact where role = "decision maker" and has lead(topic = "Contoso Ltd Conference")"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
        .single()
        .expect("a valid time")
}

/// One test of a generated segment and its number of nodes; `k` makes its
/// literal unique, so that the optimizer finds no duplicates or
/// contradictions to fold and the plan keeps its size.
fn test(rng: &mut ChaCha8Rng, k: usize) -> (String, usize) {
    match rng.gen_range(0..8) {
        0 => (format!(r#"city = "City {k}""#), 1),
        1 => (format!("created_on >= now - {}d", k % 900 + 1), 1),
        2 => (format!("birth_date < {}-01-01", 1900 + k % 120), 1),
        3 => (format!(r#"email contains "user{k}""#), 1),
        4 => (format!(r#"job_title starts with "Head {k}""#), 1),
        // `has`, the `and` and its two predicates.
        5 => (
            format!(r#"has lead(topic = "Topic {k}" and status = "Open")"#),
            4,
        ),
        _ => (
            format!(
                r#"has at least 2 interaction(type = "Email Opened" and occurred_on >= now - {}d)"#,
                k % 900 + 1
            ),
            4,
        ),
    }
}

/// A segment of `and` pairs under one `or`, from a fixed seed: `pairs`
/// pairs, or as many as reach `nodes` nodes; and its node count.
fn generated(pairs: Option<usize>, nodes: usize) -> (String, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let mut text = String::from("contact where ");
    let mut count = 1; // the `or`
    let mut i = 0;
    while pairs.map_or(count < nodes, |pairs| i < pairs) {
        if i > 0 {
            text.push_str(" or ");
        }
        let ((a, a_nodes), (b, b_nodes)) = (test(&mut rng, 2 * i), test(&mut rng, 2 * i + 1));
        text.push_str(&format!("({a} and {b})"));
        count += 1 + a_nodes + b_nodes;
        i += 1;
    }
    (text, count)
}

/// The number of [`Expr`] nodes of `expr` (see the module docs) for which
/// `counts` holds.
fn count(expr: &Expr, counts: fn(&ExprKind) -> bool) -> usize {
    let inner = match &expr.kind {
        ExprKind::Not(inner) => count(inner, counts),
        ExprKind::And(items) | ExprKind::Or(items) => {
            items.iter().map(|item| count(item, counts)).sum()
        }
        ExprKind::Has(has) => has.filter.as_deref().map_or(0, |f| count(f, counts)),
        ExprKind::Aggregate(test) => test
            .aggregate
            .chain
            .iter()
            .filter_map(|hop| hop.filter.as_deref())
            .map(|f| count(f, counts))
            .sum(),
        ExprKind::Bool(_) | ExprKind::InSegment(_) | ExprKind::Predicate(_) => 0,
    };
    inner + usize::from(counts(&expr.kind))
}

struct Case {
    name: String,
    text: String,
    nodes: usize,
}

fn cases() -> Vec<Case> {
    let sizes: &[usize] = if common::benchmarking() {
        &[100, 1_000, 10_000]
    } else {
        &[100]
    };
    let mut cases = vec![Case {
        name: "spec".into(),
        text: SPEC_EXAMPLE.into(),
        nodes: 4,
    }];
    for &n in sizes {
        let (text, nodes) = generated(None, n);
        cases.push(Case {
            name: n.to_string(),
            text,
            nodes,
        });
    }
    let (text, nodes) = generated(Some(625), 0);
    cases.push(Case {
        name: "issue_58kb".into(),
        text,
        nodes,
    });
    for case in &cases {
        let query = segql::parse(&case.text).expect("the segment parses");
        let filter = query.filter.as_ref().expect("a filter");
        assert_eq!(count(filter, |_| true), case.nodes, "{}: nodes", case.name);
        let predicates = count(filter, |kind| matches!(kind, ExprKind::Predicate(_)));
        eprintln!(
            "case {}: {} nodes, {predicates} predicates, {} bytes",
            case.name,
            case.nodes,
            case.text.len()
        );
    }
    cases
}

fn sql_options() -> SqlOptions {
    SqlOptions::new(false, now())
}

/// The stages one after the other: the optimized plan's SQL for `dialect`.
fn staged(text: &str, schema: &Schema, dialect: &dyn Dialect) -> SqlQuery {
    let query = segql::parse(text).expect("parse");
    let plan = segql::check::check(&query, &Options::new(schema)).expect("check");
    let plan = segql::optimize::optimize(plan);
    sql::to_sql(&plan, schema, dialect, &sql_options()).expect("sql")
}

/// What the bench asserts of every case, benchmarking or not: the stages
/// compose to `compile`, and SQLite accepts the SQL with every parameter.
fn verify(case: &Case, schema: &Schema) {
    // The fast parser and the grammar alone build the same tree, spans
    // included (`Span`'s equality ignores positions; `Debug` shows them).
    assert_eq!(
        format!("{:?}", segql::parse(&case.text)),
        format!("{:?}", segql::syntax::reference::parse_query(&case.text)),
        "{}",
        case.name
    );
    let compiled = segql::compile(&case.text, &Options::new(schema), &Sqlite, now())
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    assert_eq!(
        staged(&case.text, schema, &Sqlite),
        compiled,
        "{}",
        case.name
    );
    let mut db = SqliteBackend::new(rusqlite::Connection::open_in_memory().expect("sqlite"));
    segql::demo::create_tables(&mut db, schema).expect("tables");
    let statement = db
        .connection()
        .prepare(&compiled.sql)
        .unwrap_or_else(|e| panic!("{}: SQLite refuses the SQL: {e}", case.name));
    assert_eq!(
        statement.parameter_count(),
        compiled.params.len(),
        "{}",
        case.name
    );
    assert!(!compiled.params.is_empty(), "{}", case.name);
    // Each dialect binds what its SQL uses (SQLite's `contains` binds a
    // `LIKE` pattern beside the needle): every `$N` has its parameter.
    let postgres = staged(&case.text, schema, &Postgres);
    let compiled = segql::compile(&case.text, &Options::new(schema), &Postgres, now())
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    assert_eq!(postgres, compiled, "{}", case.name);
    let highest = postgres
        .sql
        .split('$')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<usize>().ok()
        })
        .max();
    assert_eq!(highest, Some(postgres.params.len()), "{}", case.name);
}

fn bench(c: &mut Criterion) {
    let schema = crm_schema();
    let options = Options::new(&schema);
    let cases = cases();
    for case in &cases {
        verify(case, &schema);
    }
    let queries: Vec<_> = cases
        .iter()
        .map(|case| segql::parse(&case.text).expect("parse"))
        .collect();
    let checked: Vec<_> = queries
        .iter()
        .map(|query| segql::check::check(query, &options).expect("check"))
        .collect();
    let optimized: Vec<_> = checked
        .iter()
        .map(|plan| segql::optimize::optimize(plan.clone()))
        .collect();

    from_text(c, "parse", &cases, |text| {
        segql::parse(text).expect("parse");
    });
    from_text(c, "parse_grammar", &cases, |text| {
        segql::syntax::reference::parse_query(text).expect("parse");
    });
    from_text(c, "front_end", &cases, |text| {
        let query = segql::parse(text).expect("parse");
        segql::check::check(&query, &options).expect("check");
    });

    let mut group = c.benchmark_group("check");
    for (case, query) in cases.iter().zip(&queries) {
        group.throughput(Throughput::Elements(case.nodes as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(&case.name),
            query,
            |b, query| b.iter(|| segql::check::check(query, &options).expect("check")),
        );
    }
    group.finish();

    let mut group = c.benchmark_group("optimize");
    for (case, plan) in cases.iter().zip(&checked) {
        group.throughput(Throughput::Elements(case.nodes as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&case.name), plan, |b, plan| {
            b.iter_batched(
                || plan.clone(),
                segql::optimize::optimize,
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();

    for (stage, dialect) in [
        ("sql_sqlite", &Sqlite as &dyn Dialect),
        ("sql_postgres", &Postgres),
    ] {
        let mut group = c.benchmark_group(stage);
        for (case, plan) in cases.iter().zip(&optimized) {
            group.throughput(Throughput::Elements(case.nodes as u64));
            group.bench_with_input(BenchmarkId::from_parameter(&case.name), plan, |b, plan| {
                b.iter(|| sql::to_sql(plan, &schema, dialect, &sql_options()).expect("sql"))
            });
        }
        group.finish();
    }

    for (name, dialect) in [
        ("compile_sqlite", &Sqlite as &dyn Dialect),
        ("compile_postgres", &Postgres),
    ] {
        from_text(c, name, &cases, |text| {
            segql::compile(text, &options, dialect, now()).expect("compile");
        });
    }
}

/// The group `name`: `run` on each case's text, per node of the case.
fn from_text(c: &mut Criterion, name: &str, cases: &[Case], run: impl Fn(&str)) {
    let mut group = c.benchmark_group(name);
    for case in cases {
        group.throughput(Throughput::Elements(case.nodes as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(&case.name),
            &case.text,
            |b, text| b.iter(|| run(text)),
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
