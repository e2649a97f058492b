//! Generated aggregate queries on generated data: SQLite, PostgreSQL and the
//! memory engine, each on the plan as checked and as optimized, must select
//! the same records (SPEC 1, 2.5). The data has NULLs, missing and dangling
//! foreign keys, records without related records, non-ASCII text and
//! decimals that sum exactly; the queries are every function over chains of
//! one to three hops in every direction, with and without hop filters
//! (nested `has` and aggregates among them), tested with every comparison,
//! `is [not] null` and `[not] between`, alone, negated or under `or`.
//! PostgreSQL's text columns are in a linguistic collation (as in
//! `crate::semantics`), so text order must come from the SQL.
//!
//! `SEGQL_AGG_SEED` replays a run (each run prints its seed).

use chrono::{DateTime, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::Connection;
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::eval::{self, Store, StoreBuilder};
use segql::plan::{Plan, Value};
use segql::schema::crm_schema;
use segql::sql::{self, SqlOptions};
use uuid::Uuid;

use crate::support::pg::TestPg;

const DATA_SETS: usize = 10;
const QUERIES: usize = 120;

fn now() -> DateTime<Utc> {
    "2026-01-15T12:00:00Z".parse().unwrap()
}

// ------------------------------------------------------------- data ---

/// Records per entity: (entity, id, fields).
type Records = Vec<(&'static str, u128, Vec<(&'static str, Value)>)>;

const INTS: &[i64] = &[-3, 0, 1, 2, 5, 10];
/// Multiples of 1/4: every engine sums them exactly.
const DECIMALS: &[f64] = &[-2.5, 0.25, 0.5, 1.0, 1.5, 3.0];
const TEXTS: &[&str] = &["", "a", "B", "Zoë", "é", "apple", "Apple"];
const TIMES: &[&str] = &[
    "2025-09-01T00:00:00Z",
    "2025-12-31T23:59:59Z",
    "2026-01-10T12:00:00Z",
    "2026-01-15T11:00:00Z",
];

/// A value of `make`, or (one time in four) none.
fn maybe(rng: &mut ChaCha8Rng, make: impl FnOnce(&mut ChaCha8Rng) -> Value) -> Option<Value> {
    rng.gen_bool(0.75).then(|| make(rng))
}

/// A foreign key to one of `ids`, missing, or dangling.
fn key(rng: &mut ChaCha8Rng, ids: &[u128]) -> Option<Value> {
    let n = match rng.gen_range(0..10) {
        0 => return None,
        1 => 0x999,
        _ => *ids.choose(rng)?,
    };
    Some(Value::Uuid(Uuid::from_u128(n)))
}

/// A data set: a few accounts and contacts, and enough leads and
/// interactions that contacts share accounts and paths meet.
fn data(rng: &mut ChaCha8Rng) -> Records {
    let accounts: Vec<u128> = (10..10 + rng.gen_range(1..4)).collect();
    let contacts: Vec<u128> = (1..1 + rng.gen_range(2..7)).collect();
    let leads: Vec<u128> = (100..100 + rng.gen_range(2..14)).collect();
    let interactions: Vec<u128> = (200..200 + rng.gen_range(0..10)).collect();
    let mut out = Records::new();
    let mut push = |entity, id, fields: Vec<(&'static str, Option<Value>)>| {
        let fields = fields
            .into_iter()
            .filter_map(|(f, v)| v.map(|v| (f, v)))
            .collect();
        out.push((entity, id, fields));
    };
    for &id in &accounts {
        let fields = vec![
            (
                "employees",
                maybe(rng, |r| Value::Integer(*INTS.choose(r).unwrap())),
            ),
            (
                "annual_revenue",
                maybe(rng, |r| Value::Decimal(*DECIMALS.choose(r).unwrap())),
            ),
            (
                "name",
                maybe(rng, |r| Value::Text(TEXTS.choose(r).unwrap().to_string())),
            ),
        ];
        push("account", id, fields);
    }
    for &id in &contacts {
        let fields = vec![
            ("account_id", key(rng, &accounts)),
            (
                "consent_level",
                maybe(rng, |r| Value::Integer(r.gen_range(0..7))),
            ),
            (
                "city",
                maybe(rng, |r| Value::Text(TEXTS.choose(r).unwrap().to_string())),
            ),
        ];
        push("contact", id, fields);
    }
    for &id in &leads {
        let fields = vec![
            ("contact_id", key(rng, &contacts)),
            ("account_id", key(rng, &accounts)),
            (
                "score",
                maybe(rng, |r| Value::Integer(*INTS.choose(r).unwrap())),
            ),
            (
                "estimated_value",
                maybe(rng, |r| Value::Decimal(*DECIMALS.choose(r).unwrap())),
            ),
            (
                "topic",
                maybe(rng, |r| Value::Text(TEXTS.choose(r).unwrap().to_string())),
            ),
            ("status", maybe(rng, |r| Value::Integer(r.gen_range(0..3)))),
        ];
        push("lead", id, fields);
    }
    for &id in &interactions {
        let at: DateTime<Utc> = TIMES.choose(rng).unwrap().parse().unwrap();
        let fields = vec![
            ("contact_id", key(rng, &contacts)),
            ("type", maybe(rng, |r| Value::Integer(r.gen_range(1..5)))),
            ("occurred_on", maybe(rng, |_| Value::DateTime(at))),
        ];
        push("interaction", id, fields);
    }
    out
}

/// The records in a new SQLite database of the default layout.
fn sqlite(records: &Records) -> Connection {
    let schema = crm_schema();
    let conn = Connection::open_in_memory().unwrap();
    segql::demo::create_tables(&mut SqliteBackend::new(&conn), &schema).unwrap();
    for (table, id, fields) in records {
        let mut names = vec!["id"];
        let mut values = vec![rusqlite::types::Value::Text(
            Uuid::from_u128(*id).to_string(),
        )];
        for (name, value) in fields {
            use rusqlite::types::Value as S;
            names.push(name);
            values.push(match value {
                Value::Text(s) => S::Text(s.clone()),
                Value::Integer(i) => S::Integer(*i),
                Value::Decimal(x) => S::Real(*x),
                Value::Uuid(u) => S::Text(u.to_string()),
                Value::DateTime(t) => S::Text(t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                other => panic!("not generated: {other:?}"),
            });
        }
        let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
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

/// The records in the memory engine.
fn store(records: &Records) -> Store {
    let schema = crm_schema();
    let mut builder = StoreBuilder::new(&schema);
    for (entity, id, fields) in records {
        let id = ("id", Value::Uuid(Uuid::from_u128(*id)));
        let values = std::iter::once(id).chain(fields.iter().cloned());
        builder.insert(entity, values).unwrap();
    }
    builder.build().unwrap()
}

// ---------------------------------------------------------- queries ---

/// Chains from each entity, with the entity they end at. (Each hop's name
/// is also the entity it reaches.)
fn chains(from: &str) -> &'static [(&'static [&'static str], &'static str)] {
    match from {
        "contact" => &[
            (&["lead"], "lead"),
            (&["interaction"], "interaction"),
            (&["account"], "account"),
            (&["lead", "account"], "account"),
            (&["account", "contact"], "contact"),
            (&["account", "lead"], "lead"),
            (&["account", "contact", "lead"], "lead"),
            (&["lead", "account", "contact"], "contact"),
            (&["lead", "contact", "interaction"], "interaction"),
        ],
        "account" => &[
            (&["contact"], "contact"),
            (&["lead"], "lead"),
            (&["contact", "lead"], "lead"),
            (&["lead", "contact"], "contact"),
            (&["lead", "contact", "account"], "account"),
            (&["contact", "interaction"], "interaction"),
        ],
        _ => &[
            (&["contact"], "contact"),
            (&["account"], "account"),
            (&["contact", "lead"], "lead"),
            (&["account", "contact", "lead"], "lead"),
            (&["contact", "interaction"], "interaction"),
        ],
    }
}

/// A filter on the records of `entity` a hop reaches: a field test, a
/// `has`, or (not too deep) an aggregate test of its own.
fn hop_filter(rng: &mut ChaCha8Rng, entity: &str, depth: u32) -> String {
    let simple: &[&str] = match entity {
        "lead" => &[
            "score > 1",
            "status = \"Open\"",
            "has account",
            "topic >= \"a\"",
        ],
        "contact" => &["city = \"a\"", "consent_level >= \"Marketing\"", "has lead"],
        "account" => &["employees > 2", "annual_revenue < 1"],
        _ => &["type = \"Email Opened\"", "occurred_on >= now - 7d"],
    };
    if depth < 1 && rng.gen_bool(0.3) {
        return aggregate_test(rng, entity, depth + 1);
    }
    simple.choose(rng).unwrap().to_string()
}

/// Orderable fields of `entity` with their kind.
fn fields(entity: &str) -> &'static [(&'static str, &'static str)] {
    match entity {
        "lead" => &[
            ("score", "int"),
            ("estimated_value", "dec"),
            ("topic", "text"),
            ("created_on", "time"),
        ],
        "contact" => &[("consent_level", "choice"), ("city", "text")],
        "account" => &[
            ("employees", "int"),
            ("annual_revenue", "dec"),
            ("name", "text"),
        ],
        _ => &[("occurred_on", "time")],
    }
}

/// A literal of a value of `kind` (as `fields` names them).
fn literal(rng: &mut ChaCha8Rng, kind: &str) -> String {
    match kind {
        "int" => [-1, 0, 1, 2, 3, 5, 12].choose(rng).unwrap().to_string(),
        "dec" => ["0", "0.5", "1.25", "2.5", "-1", "3"]
            .choose(rng)
            .unwrap()
            .to_string(),
        "text" => format!("{:?}", TEXTS.choose(rng).unwrap()),
        "time" => ["now - 7d", "now - 100d", "2026-01-10", "now"]
            .choose(rng)
            .unwrap()
            .to_string(),
        _ => format!(
            "{:?}",
            ["Not Set", "Consent Given", "Marketing", "Tracking"]
                .choose(rng)
                .unwrap()
        ),
    }
}

/// An aggregate test on records of `from`: a chain with random hop
/// filters, a function with a field of the right kind, and a test with
/// literals of the value's kind.
fn aggregate_test(rng: &mut ChaCha8Rng, from: &str, depth: u32) -> String {
    let (hops, end) = *chains(from).choose(rng).unwrap();
    let chain: Vec<String> = hops
        .iter()
        .map(|hop| {
            if rng.gen_bool(0.3) {
                format!("{hop}({})", hop_filter(rng, hop, depth))
            } else {
                hop.to_string()
            }
        })
        .collect();
    let chain = chain.join(".");
    let (aggregate, kind) = match rng.gen_range(0..5) {
        0 => (format!("count({chain})"), "int"),
        n => {
            let numeric: Vec<&(&str, &str)> = fields(end)
                .iter()
                .filter(|(_, k)| *k == "int" || *k == "dec")
                .collect();
            if n <= 2 && !numeric.is_empty() {
                let (field, kind) = **numeric.choose(rng).unwrap();
                let function = if n == 1 { "sum" } else { "avg" };
                let kind = if function == "avg" { "dec" } else { kind };
                (format!("{function}({chain}.{field})"), kind)
            } else {
                let (field, kind) = *fields(end).choose(rng).unwrap();
                let function = if n == 3 { "min" } else { "max" };
                (format!("{function}({chain}.{field})"), kind)
            }
        }
    };
    let op = ["=", "!=", "<", "<=", ">", ">="].choose(rng).unwrap();
    match rng.gen_range(0..8) {
        0 => format!("{aggregate} is null"),
        1 => format!("{aggregate} is not null"),
        2 => format!(
            "{aggregate} between {} and {}",
            literal(rng, kind),
            literal(rng, kind)
        ),
        3 => format!(
            "{aggregate} not between {} and {}",
            literal(rng, kind),
            literal(rng, kind)
        ),
        _ => format!("{aggregate} {op} {}", literal(rng, kind)),
    }
}

/// A query: an aggregate test alone, negated, or beside a field test under
/// `or` (where PostgreSQL writes membership with `EXISTS`).
fn query(rng: &mut ChaCha8Rng) -> String {
    let entity = *["contact", "contact", "account", "lead"]
        .choose(rng)
        .unwrap();
    let test = aggregate_test(rng, entity, 0);
    let other = match entity {
        "contact" => "city = \"a\"",
        "account" => "employees > 2",
        _ => "score > 1",
    };
    let expr = match rng.gen_range(0..5) {
        0 => format!("not ({test})"),
        1 => format!("{other} or {test}"),
        2 => format!("{other} or not ({test})"),
        _ => test,
    };
    format!("{entity} where {expr}")
}

// ----------------------------------------------------------- engines ---

/// The checked plan of `text`; `None` when the checker refuses it (a
/// `between` of two kinds, say): the generator does not know every rule.
fn plan(text: &str) -> Option<Plan> {
    let schema = crm_schema();
    let ast = segql::syntax::parse_query(text).unwrap_or_else(|e| panic!("`{text}`: {e}"));
    let options = segql::Options {
        optimize: false,
        ..segql::Options::new(&schema)
    };
    segql::check::check(&ast, &options).ok()
}

/// The ids `plan` selects on `db`, or the error.
fn ids_on(db: &mut dyn Backend, plan: &Plan) -> Result<Vec<Uuid>, String> {
    let options = SqlOptions::new(false, now());
    let q = sql::to_sql(plan, &crm_schema(), db.dialect(), &options).map_err(|e| e.to_string())?;
    db.query_ids(&q).map_err(|e| format!("{e}\n{}", q.sql))
}

#[test]
fn generated_aggregates_agree_on_every_engine() {
    let seed = std::env::var("SEGQL_AGG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen::<u64>());
    println!("SEGQL_AGG_SEED={seed}");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pg = TestPg::start();
    let mut checked = 0;
    for _ in 0..DATA_SETS {
        let records = data(&mut rng);
        let conn = sqlite(&records);
        let store = store(&records);
        let mut client = pg.as_ref().map(|pg| {
            let mut client = pg.fresh_database("aggregates_random");
            segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &crm_schema()).unwrap();
            crate::semantics::linguistic_text(&mut client, &crm_schema());
            client
        });
        for _ in 0..QUERIES {
            let text = query(&mut rng);
            let Some(plan) = plan(&text) else {
                continue;
            };
            let optimized = segql::optimize::optimize(plan.clone());
            let want = eval::evaluate(&plan, &store, now()).map_err(|e| e.to_string());
            for (which, plan) in [("checked", &plan), ("optimized", &optimized)] {
                let mut answers = vec![
                    (
                        "memory",
                        eval::evaluate(plan, &store, now()).map_err(|e| e.to_string()),
                    ),
                    ("SQLite", ids_on(&mut SqliteBackend::new(&conn), plan)),
                ];
                if let Some(client) = client.as_mut() {
                    answers.push((
                        "PostgreSQL",
                        ids_on(&mut PostgresBackend::new(client), plan),
                    ));
                }
                for (engine, answer) in answers {
                    assert_eq!(
                        answer, want,
                        "seed {seed}: {engine}, {which}: `{text}`\ndata: {records:?}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(
        checked > DATA_SETS * QUERIES / 2,
        "only {checked} queries checked"
    );
}
