//! `segql run`: evaluate a query with the SQL engine (on SQLite or
//! PostgreSQL) or the in-memory engine, and print the records.

use std::time::{Duration, Instant};

use segql::eval::StoreSource;
use segql::{Engine, Found, RunOptions, Timing};

use super::args::{EngineName, RowFormat, RunArgs};
use super::compile::plan_query;
use super::database;
use super::failure::Failure;
use super::inputs::{read_query, reference_time, Workspace};
use super::records;

pub fn run(workspace: &mut Workspace, args: &RunArgs) -> Result<(), Failure> {
    let (name, text) = read_query(&args.input)?;
    workspace.with_query(name, &text);
    let now = reference_time(args.plan.now.as_deref())?;
    let plan = plan_query(workspace, &text, &args.plan)?;

    let entity = workspace.schema.entity(&plan.entity).ok_or_else(|| {
        workspace.fail(super::compile::internal(format!(
            "plan entity {} not in schema",
            plan.entity
        )))
    })?;
    let view = records::View {
        format: args.format,
        columns: args.columns.clone(),
        limit: args.limit,
    };
    records::check_columns(entity, &view)?;

    let opened = Instant::now();
    let mut db = database::open_or_demo(args.db.as_deref(), now, workspace.quiet)?;
    let open_time = opened.elapsed();
    let cache = database::store_cache(args.no_cache);
    let engine = match (args.engine, &cache) {
        (EngineName::Sqlite, _) => Engine::Database(db.as_mut()),
        (EngineName::Memory, None) => Engine::MemoryFrom(db.as_mut()),
        (EngineName::Memory, Some(cache)) => Engine::MemoryCached(db.as_mut(), cache),
    };
    let options = RunOptions {
        schema: &workspace.schema,
        now,
        count: args.count && args.format != RowFormat::Ids,
    };
    let outcome = segql::run(&plan, engine, &options).map_err(|e| workspace.fail(e))?;
    database::report_store_source(outcome.store.as_ref(), workspace.quiet);
    if args.timing {
        match outcome.timing {
            Timing::NoScan => eprintln!("timing: plan is false, no scan"),
            Timing::Database { evaluate } => eprintln!("timing: evaluate {}", ms(evaluate)),
            Timing::Memory { load, evaluate } => {
                let from = match &outcome.store {
                    Some(StoreSource::Snapshot(_)) => " (snapshot)",
                    _ => "",
                };
                eprintln!("timing: load{from} {}, evaluate {}", ms(load), ms(evaluate))
            }
        }
        eprintln!("timing: open {}", ms(open_time));
    }

    let ids = match outcome.found {
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
    records::print(
        db.as_mut(),
        &workspace.schema,
        entity,
        &segql::plan::root_fields(&plan),
        &ids,
        &view,
        records::Hint::Run,
    )
}

pub fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
