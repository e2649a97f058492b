//! `segql run`: evaluate a query with the SQL engine (SQLite or PostgreSQL)
//! or the in-memory engine, and print the records.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use segql::plan::{Plan, PlanExpr};
use segql::sql;
use uuid::Uuid;

use super::args::{EngineName, RowFormat, RunArgs};
use super::compile::{plan_query, to_sql};
use super::database::Database;
use super::failure::Failure;
use super::inputs::{read_query, reference_time, Workspace};
use super::records;

/// What an engine found: all ids (ascending), or only their number.
pub enum Found {
    Ids(Vec<Uuid>),
    Count(usize),
}

pub fn run(workspace: &mut Workspace, args: &RunArgs) -> Result<(), Failure> {
    let (name, text) = read_query(&args.input)?;
    workspace.with_query(name, &text);
    let now = reference_time(args.plan.now.as_deref())?;
    let plan = plan_query(workspace, &text, &args.plan)?;

    let opened = Instant::now();
    let mut db = match &args.db {
        Some(spec) => Database::open(spec, false)?,
        None => Database::builtin_demo(now)?,
    };
    let open_time = opened.elapsed();
    let only_count = args.count && args.format != RowFormat::Ids;
    let found = evaluate(
        workspace,
        &mut db,
        &plan,
        args.engine,
        only_count,
        now,
        args.timing,
    )?;
    if args.timing {
        eprintln!("timing: open {}", ms(open_time));
    }

    let ids = match found {
        Found::Count(n) => {
            println!("{n}");
            return Ok(());
        }
        Found::Ids(ids) if args.count => {
            println!("{}", ids.len());
            return Ok(());
        }
        Found::Ids(ids) => ids,
    };
    let shown = &ids[..args.limit.unwrap_or(ids.len()).min(ids.len())];
    let entity = workspace.schema.entity(&plan.entity).ok_or_else(|| {
        workspace.fail(super::compile::internal(format!(
            "plan entity {} not in schema",
            plan.entity
        )))
    })?;
    records::print(
        &mut db,
        &workspace.schema,
        entity,
        shown,
        ids.len(),
        args.format,
    )
}

/// Run `plan` on `engine` over `db`.
pub fn evaluate(
    workspace: &Workspace,
    db: &mut Database,
    plan: &Plan,
    engine: EngineName,
    only_count: bool,
    now: DateTime<Utc>,
    timing: bool,
) -> Result<Found, Failure> {
    let schema = &workspace.schema;
    if plan.filter == PlanExpr::Const(false) {
        // The optimizer proved the segment empty: no engine needs to look.
        if timing {
            eprintln!("timing: plan is false, no scan");
        }
        return Ok(if only_count {
            Found::Count(0)
        } else {
            Found::Ids(Vec::new())
        });
    }
    let started = Instant::now();
    let found = match (engine, db) {
        (EngineName::Sqlite, Database::Sqlite(conn)) => {
            sql::verify_layout_sqlite(conn, schema, plan).map_err(|e| workspace.fail(e))?;
            let query = to_sql(workspace, plan, &sql::Sqlite, only_count, now)?;
            if only_count {
                Found::Count(sql::sqlite_exec::run_count(conn, &query).map_err(|e| workspace.fail(e))? as usize)
            } else {
                Found::Ids(sql::sqlite_exec::run_ids(conn, &query).map_err(|e| workspace.fail(e))?)
            }
        }
        (EngineName::Sqlite, Database::Postgres(client)) => {
            sql::verify_layout_postgres(client, schema, plan).map_err(|e| workspace.fail(e))?;
            let query = to_sql(workspace, plan, &sql::Postgres, only_count, now)?;
            if only_count {
                Found::Count(sql::postgres_exec::run_count(client, &query).map_err(|e| workspace.fail(e))? as usize)
            } else {
                Found::Ids(sql::postgres_exec::run_ids(client, &query).map_err(|e| workspace.fail(e))?)
            }
        }
        (EngineName::Memory, Database::Sqlite(conn)) => {
            let store = segql::eval::Store::load_sqlite(conn, schema, Some(plan)).map_err(|e| workspace.fail(e))?;
            let loaded = started.elapsed();
            let ids = segql::eval::evaluate(plan, &store, now).map_err(|e| workspace.fail(e))?;
            if timing {
                eprintln!("timing: load {}, evaluate {}", ms(loaded), ms(started.elapsed() - loaded));
            }
            return Ok(Found::Ids(ids));
        }
        (EngineName::Memory, Database::Postgres(_)) => {
            return Err(Failure::usage(
                "error: the memory engine loads SQLite databases; use --engine sqlite with a postgresql:// URL",
            ))
        }
    };
    if timing {
        eprintln!("timing: evaluate {}", ms(started.elapsed()));
    }
    Ok(found)
}

pub fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
