//! `segql explain`: the query as parsed, the checked plan, the optimized plan
//! with every rule that fired, and the SQL of each dialect; with `--counts`,
//! the optimized plan as a tree with the records each node selects
//! (`segql::counts`).

use std::time::Instant;

use segql::plan::Plan;
use segql::sql::SqlQuery;
use serde::Serialize;

use super::args::{EngineName, ExplainArgs, ExplainFormat};
use super::compile::{internal, render_sql, to_sql};
use super::database;
use super::failure::Failure;
use super::inputs::{read_query, reference_time, Workspace};
use super::run::ms;

#[derive(Serialize)]
struct Explanation {
    query: segql::syntax::ast::Query,
    plan: Plan,
    optimized: Plan,
    firings: Vec<segql::optimize::Firing>,
    /// The SQL of every dialect of the registry, keyed by its name.
    #[serde(flatten, serialize_with = "in_order")]
    sql: Vec<(&'static str, SqlQuery)>,
}

/// A list of pairs as a map, keeping their order.
fn in_order<S: serde::Serializer>(
    pairs: &[(&'static str, SqlQuery)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(pairs.iter().map(|(name, query)| (name, query)))
}

pub fn explain(workspace: &mut Workspace, args: &ExplainArgs) -> Result<(), Failure> {
    let (name, text) = read_query(&args.input)?;
    workspace.with_query(name, &text);
    let now = reference_time(args.plan.now.as_deref())?;
    let query = segql::syntax::parse_query(&text).map_err(|e| workspace.fail(e))?;
    let context = segql::Options {
        schema: &workspace.schema,
        library: workspace.library.as_ref(),
        guards: &args.plan.guards,
        optimize: !args.plan.no_optimize,
    };
    let (checked, warnings) = segql::check::check_with_warnings(&query, &context);
    if !workspace.quiet {
        super::failure::print_warnings(&warnings, &workspace.sources);
    }
    let plan = checked.map_err(|errors| workspace.fail_all(errors))?;
    let (optimized, firings) = if args.plan.no_optimize {
        (plan.clone(), Vec::new())
    } else {
        segql::optimize::optimize_traced(plan.clone())
    };
    if args.counts {
        return counts(workspace, args, &optimized, now);
    }
    let sql = segql::db::dialects()
        .map(|(name, dialect)| Ok((name, to_sql(workspace, &optimized, dialect, false, now)?)))
        .collect::<Result<Vec<_>, Failure>>()?;
    let explanation = Explanation {
        query,
        plan,
        optimized,
        firings,
        sql,
    };
    match args.format {
        ExplainFormat::Json => {
            let json = serde_json::to_string_pretty(&explanation)
                .map_err(|e| workspace.fail(internal(e)))?;
            println!("{json}");
        }
        ExplainFormat::Sql => print!("{}", render_text(&explanation)),
    }
    Ok(())
}

fn render_text(e: &Explanation) -> String {
    let mut out = String::new();
    section(&mut out, "Query", &segql::syntax::format_query(&e.query));
    section(&mut out, "Checked plan", &e.plan.to_string());
    if e.firings.is_empty() {
        section(
            &mut out,
            "Optimized plan (no rule fired)",
            &e.optimized.to_string(),
        );
    } else {
        section(&mut out, "Optimized plan", &e.optimized.to_string());
        let mut rules = String::new();
        for (i, firing) in e.firings.iter().enumerate() {
            rules.push_str(&format!(
                "{}. {}\n   before: {}\n   after:  {}\n",
                i + 1,
                firing.rule,
                firing.before,
                firing.after
            ));
        }
        section(&mut out, "Rules fired", &rules);
    }
    for ((name, query), (_, dialect)) in e.sql.iter().zip(segql::db::dialects()) {
        section(
            &mut out,
            &format!("SQL ({name})"),
            &render_sql(query, dialect),
        );
    }
    out
}

fn section(out: &mut String, title: &str, body: &str) {
    out.push_str(title);
    out.push('\n');
    for line in body.trim_end().lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
}

/// `explain --counts`: count every node on the database (or the demo data).
fn counts(
    workspace: &mut Workspace,
    args: &ExplainArgs,
    plan: &Plan,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    let mut db = database::open_or_demo(args.db.as_deref(), now, workspace.quiet)?;
    let started = Instant::now();
    // The memory store is loaded here, not by `counts`, so that `--timing`
    // can tell loading from counting.
    let cache = database::store_cache(args.no_cache);
    let store = match (args.engine, &cache) {
        (EngineName::Sqlite, _) => None,
        (EngineName::Memory, None) => Some(
            segql::eval::Store::load(db.as_mut(), &workspace.schema, Some(plan))
                .map_err(|e| workspace.fail(e))?,
        ),
        (EngineName::Memory, Some(cache)) => {
            let (store, source) =
                segql::eval::Store::load_cached(db.as_mut(), &workspace.schema, Some(plan), cache)
                    .map_err(|e| workspace.fail(e))?;
            database::report_store_source(Some(&source), workspace.quiet);
            Some(store)
        }
    };
    let load = started.elapsed();
    let engine = match &store {
        None => segql::Engine::Database(db.as_mut()),
        Some(store) => segql::Engine::Memory(store),
    };
    let counted =
        segql::counts(plan, engine, &workspace.schema, now).map_err(|e| workspace.fail(e))?;
    if args.timing {
        let count = started.elapsed() - load;
        match store {
            Some(_) => eprintln!("timing: load {}, count {}", ms(load), ms(count)),
            None => eprintln!("timing: count {}", ms(count)),
        }
    }
    match args.format {
        ExplainFormat::Json => {
            let json =
                serde_json::to_string_pretty(&counted).map_err(|e| workspace.fail(internal(e)))?;
            println!("{json}");
        }
        ExplainFormat::Sql => print!("{}", render_counts(plan, &counted)),
    }
    Ok(())
}

/// The plan, the segment's size, then one line per node: its count and
/// entity, the node indented by depth, and the funnel (`and`) or the gain
/// (`or`) where the node is an operand of one.
fn render_counts(plan: &Plan, counted: &segql::inside::Counts) -> String {
    let mut out = format!(
        "{plan}\n{} of {} {} records in the segment\n\n",
        counted.tree.count, counted.total, counted.entity
    );
    let mut stack = vec![(&counted.tree, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        out.push_str(&format!(
            "{:>10} {:<12} {}{}",
            node.count,
            node.entity,
            "  ".repeat(depth),
            node.node
        ));
        if let Some(remaining) = node.remaining {
            out.push_str(&format!("   -> {remaining} remain"));
        }
        if let Some(adds) = node.adds {
            out.push_str(&format!("   +{adds} added"));
        }
        out.push('\n');
        stack.extend(node.children.iter().rev().map(|child| (child, depth + 1)));
    }
    out
}
