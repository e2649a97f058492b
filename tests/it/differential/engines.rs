//! The engines under comparison, each behind one function from a checked
//! plan to the ids it selects: SQLite through the compiled SQL, PostgreSQL
//! through the compiled SQL, and the in-memory evaluator (both `evaluate`
//! and record-by-record `contains`). Each runs the plan as checked and as
//! optimized, so an optimizer rewrite that changes an answer shows up as a
//! disagreement like any other.
//!
//! Errors are answers too: an engine that fails on a well-typed query is
//! reported with its message instead of ids.

use std::cell::RefCell;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::eval::Store;
use segql::plan::Plan;
use segql::schema::Schema;
use segql::sql::RootOrCounts;
use segql::syntax::ast::{Library, Query};
use uuid::Uuid;

/// What an engine answered: ids in its output order, or its error.
pub type Answer = Result<Vec<Uuid>, String>;

/// A query checked into its plan, and that plan optimized.
pub struct Plans {
    pub plan: Plan,
    pub optimized: Plan,
}

/// Checks (with the library and guards) and optimizes a parsed query.
pub fn plan(
    schema: &Schema,
    query: &Query,
    library: Option<&Library>,
    guards: &[String],
) -> Result<Plans, String> {
    let ctx = segql::Options {
        schema,
        library,
        guards,
        optimize: true,
    };
    let plan = segql::check::check(query, &ctx).map_err(|e| format!("check: {e}"))?;
    let optimized = segql::optimize::optimize(plan.clone());
    Ok(Plans { plan, optimized })
}

/// Parses and checks a library text.
pub fn library(schema: &Schema, text: &str) -> Result<Library, String> {
    let lib = segql::syntax::parse_library(text).map_err(|e| format!("parse library: {e}"))?;
    segql::check::check_library(&lib, schema).map_err(|e| format!("check library: {e}"))?;
    Ok(lib)
}

/// One data set loaded into every engine: an in-memory SQLite database in
/// the default layout, the evaluator's store read from it, and optionally a
/// PostgreSQL database the data was copied into.
pub struct Loaded<'a> {
    pub schema: &'a Schema,
    pub now: DateTime<Utc>,
    pub sqlite: Connection,
    pub store: Store,
    pub pg: Option<RefCell<postgres::Client>>,
}

impl<'a> Loaded<'a> {
    /// Creates the tables, lets `fill` insert the rows, loads the store and
    /// copies everything into `pg` (a fresh, empty database) when given.
    pub fn new(
        schema: &'a Schema,
        now: DateTime<Utc>,
        fill: &dyn Fn(&Connection) -> Result<(), String>,
        pg: Option<postgres::Client>,
    ) -> Result<Loaded<'a>, String> {
        let sqlite = Connection::open_in_memory().map_err(|e| e.to_string())?;
        segql::demo::create_tables(&mut SqliteBackend::new(&sqlite), schema)
            .map_err(|e| format!("create tables: {e}"))?;
        fill(&sqlite)?;
        let store = Store::load(&mut SqliteBackend::new(&sqlite), schema, None)
            .map_err(|e| format!("load the memory store: {e}"))?;
        let pg = match pg {
            Some(mut client) => {
                segql::demo::copy_sqlite_to_postgres(&sqlite, &mut client, schema)
                    .map_err(|e| format!("copy to PostgreSQL: {e}"))?;
                Some(RefCell::new(client))
            }
            None => None,
        };
        Ok(Loaded {
            schema,
            now,
            sqlite,
            store,
            pg,
        })
    }
}

fn sql_options(now: DateTime<Utc>, count: bool) -> segql::sql::SqlOptions {
    segql::sql::SqlOptions::new(count, now)
}

/// The options for the ids, with the counts under a root `or` tested as
/// `counts` says.
fn counting(now: DateTime<Utc>, counts: RootOrCounts) -> segql::sql::SqlOptions {
    segql::sql::SqlOptions {
        root_or_counts: counts,
        ..sql_options(now, false)
    }
}

/// Ids from the SQLite SQL, checked against the `count` form as well (and
/// the layout check must accept the database the plan runs on).
pub fn sqlite_ids(env: &Loaded, plan: &Plan) -> Answer {
    SqliteBackend::new(&env.sqlite)
        .verify_layout(env.schema, plan)
        .map_err(|e| format!("verify_layout_sqlite: {e}"))?;
    let q = segql::sql::to_sql(
        plan,
        env.schema,
        &segql::sql::Sqlite,
        &sql_options(env.now, false),
    )
    .map_err(|e| format!("to_sql: {e}"))?;
    let ids = SqliteBackend::new(&env.sqlite)
        .query_ids(&q)
        .map_err(|e| format!("run: {e}\nsql: {}\nparams: {:?}", q.sql, q.params))?;
    let cq = segql::sql::to_sql(
        plan,
        env.schema,
        &segql::sql::Sqlite,
        &sql_options(env.now, true),
    )
    .map_err(|e| format!("to_sql count: {e}"))?;
    let count = SqliteBackend::new(&env.sqlite)
        .query_count(&cq)
        .map_err(|e| format!("run count: {e}\nsql: {}", cq.sql))?;
    if count as usize != ids.len() {
        return Err(format!(
            "count form says {count}, ids form gives {}",
            ids.len()
        ));
    }
    Ok(ids)
}

/// Ids from the PostgreSQL SQL, as `compile` writes it.
pub fn postgres_ids(env: &Loaded, plan: &Plan) -> Option<Answer> {
    postgres_counting_ids(env, plan, RootOrCounts::Groups)
}

/// Ids from the PostgreSQL SQL with the counts under its root `or` tested
/// per row, where it has such counts (`None` where the SQL would be the
/// same, or without a server).
pub fn postgres_per_row_count_ids(env: &Loaded, plan: &Plan) -> Option<Answer> {
    let question = segql::sql::root_or_counts::question(plan, env.schema, &segql::sql::Postgres);
    match question {
        Ok(None) => None,
        Ok(Some(_)) => postgres_counting_ids(env, plan, RootOrCounts::PerRow),
        Err(e) => env.pg.as_ref().map(|_| Err(format!("question: {e}"))),
    }
}

fn postgres_counting_ids(env: &Loaded, plan: &Plan, counts: RootOrCounts) -> Option<Answer> {
    let mut client = env.pg.as_ref()?.borrow_mut();
    let mut run = || -> Answer {
        let q = segql::sql::to_sql(
            plan,
            env.schema,
            &segql::sql::Postgres,
            &counting(env.now, counts),
        )
        .map_err(|e| format!("to_sql: {e}"))?;
        PostgresBackend::new(&mut *client)
            .query_ids(&q)
            .map_err(|e| format!("run: {e}\nsql: {}\nparams: {:?}", q.sql, q.params))
    };
    Some(run())
}

/// Ids from the in-memory evaluator.
pub fn memory_ids(env: &Loaded, plan: &Plan) -> Answer {
    segql::eval::evaluate(plan, &env.store, env.now).map_err(|e| format!("evaluate: {e}"))
}

/// Ids from the in-memory evaluator over a store loaded for this plan only
/// (the tables and columns the plan needs, as a command would load it).
pub fn memory_plan_loaded_ids(env: &Loaded, plan: &Plan) -> Answer {
    let store = Store::load(&mut SqliteBackend::new(&env.sqlite), env.schema, Some(plan))
        .map_err(|e| format!("load_sqlite for the plan: {e}"))?;
    segql::eval::evaluate(plan, &store, env.now).map_err(|e| format!("evaluate: {e}"))
}

/// Ids for which `eval::contains` says yes, asking about every key of the
/// root table plus one id that names no record.
pub fn memory_contains_ids(env: &Loaded, plan: &Plan, all_ids: &[Uuid]) -> Answer {
    let mut out = Vec::new();
    for id in all_ids {
        if segql::eval::contains(plan, &env.store, *id, env.now)
            .map_err(|e| format!("contains: {e}"))?
        {
            out.push(*id);
        }
    }
    let stranger = Uuid::from_u128(0x5e91_0000_0000_4000_8000_0000_0000_0001);
    if !all_ids.contains(&stranger)
        && segql::eval::contains(plan, &env.store, stranger, env.now).unwrap_or(false)
    {
        return Err(format!(
            "contains says yes for {stranger}, which is no record"
        ));
    }
    Ok(out)
}

/// Every engine's answer for both plans, labelled.
pub fn answers(env: &Loaded, plans: &Plans, all_ids: &[Uuid]) -> Vec<(String, Answer)> {
    let mut out = Vec::new();
    for (label, plan) in [("", &plans.plan), ("optimized ", &plans.optimized)] {
        out.push((format!("{label}sqlite"), sqlite_ids(env, plan)));
        out.push((format!("{label}memory"), memory_ids(env, plan)));
        out.push((
            format!("{label}memory, plan-loaded"),
            memory_plan_loaded_ids(env, plan),
        ));
        if let Some(answer) = postgres_ids(env, plan) {
            out.push((format!("{label}postgres"), answer));
        }
        if let Some(answer) = postgres_per_row_count_ids(env, plan) {
            out.push((format!("{label}postgres, counts per row"), answer));
        }
    }
    out.push((
        "memory contains".to_string(),
        memory_contains_ids(env, &plans.plan, all_ids),
    ));
    out
}

/// All keys of `table`, ascending.
pub fn all_keys(conn: &Connection, table: &str, key: &str) -> Result<Vec<Uuid>, String> {
    let mut stmt = conn
        .prepare(&format!("SELECT \"{key}\" FROM \"{table}\""))
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| e.to_string())?;
    let mut ids = Vec::new();
    for row in rows {
        let text = row.map_err(|e| e.to_string())?;
        ids.push(Uuid::parse_str(&text).map_err(|e| e.to_string())?);
    }
    ids.sort();
    Ok(ids)
}

/// Renders an answer for a report.
pub fn show(answer: &Answer) -> String {
    match answer {
        Ok(ids) => {
            let ids: Vec<String> = ids.iter().map(|u| u.to_string()).collect();
            format!("[{}]", ids.join(", "))
        }
        Err(e) => format!("ERROR {e}"),
    }
}
