//! `segql why`: whether one record is in a segment, with the plan tree of
//! verdicts and facts (`segql::why`); this file only parses and prints.

use segql::inside::{Fact, Why, WhyEngine, WhyNode};

use super::args::{EngineName, WhyArgs, WhyFormat};
use super::compile::{internal, plan_query_folded};
use super::database;
use super::failure::Failure;
use super::inputs::{read_query, reference_time, Workspace};

pub fn why(workspace: &mut Workspace, args: &WhyArgs) -> Result<(), Failure> {
    let id = uuid::Uuid::parse_str(args.id.trim()).map_err(|_| {
        Failure::usage(format!(
            "error: ID must be a record's id (a uuid such as 6f1c2d3e-0000-4000-8000-000000000001), not '{}'",
            args.id
        ))
    })?;
    let (name, text) = read_query(&args.input)?;
    workspace.with_query(name, &text);
    let now = reference_time(args.plan.now.as_deref())?;
    let plan = plan_query_folded(workspace, &text, &args.plan)?;
    let mut db = database::open_or_demo(args.db.as_deref(), now, workspace.quiet)?;
    let cache = database::store_cache(args.no_cache);
    let engine = match (args.engine, &cache) {
        (EngineName::Sqlite, _) => WhyEngine::Database,
        (EngineName::Memory, None) => WhyEngine::Memory,
        (EngineName::Memory, Some(cache)) => WhyEngine::MemoryCached(cache),
    };
    let answer = segql::why(&plan, db.as_mut(), engine, &workspace.schema, id, now).map_err(
        |e| match e {
            // About the id, not the query text: no caret under the query.
            e @ segql::Error::UnknownRecord { .. } => {
                Failure::from_error(e, &super::failure::SourceTexts::default())
            }
            e => workspace.fail(e),
        },
    )?;
    match args.format {
        WhyFormat::Json => {
            let json =
                serde_json::to_string_pretty(&answer).map_err(|e| workspace.fail(internal(e)))?;
            println!("{json}");
        }
        WhyFormat::Text => print!("{}", render(&answer)),
    }
    Ok(())
}

/// `in` or `out`, then one line per node: verdict, node, facts.
fn render(answer: &Why) -> String {
    let mut out = String::from(if answer.member { "in\n" } else { "out\n" });
    let mut stack: Vec<(&WhyNode, usize)> = vec![(&answer.tree, 0)];
    while let Some((node, depth)) = stack.pop() {
        let verdict = if node.holds { "true " } else { "false" };
        out.push_str(&format!("{verdict} {}{}", "  ".repeat(depth), node.node));
        if let Some(fact) = &node.fact {
            out.push_str(&format!("   [{}]", describe(fact)));
        }
        out.push('\n');
        stack.extend(node.children.iter().rev().map(|child| (child, depth + 1)));
    }
    out
}

fn describe(fact: &Fact) -> String {
    let listed = |count: u64, entity: &str, ids: &[uuid::Uuid]| {
        let mut text = format!("{count} {entity}");
        if !ids.is_empty() {
            let shown: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
            text.push_str(&format!(": {}", shown.join(", ")));
            if count > ids.len() as u64 {
                text.push_str(", ...");
            }
        }
        text
    };
    match fact {
        Fact::Field { field, value } => match value {
            Some(value) => format!("{field} = {value}"),
            None => format!("{field} missing"),
        },
        Fact::Related { entity, count, ids } => listed(*count, entity, ids),
        Fact::Aggregate {
            entity,
            count,
            ids,
            value,
        } => format!(
            "value {} over {}",
            value.as_deref().unwrap_or("missing"),
            listed(*count, entity, ids)
        ),
    }
}
