//! `segql advise`: the indexes (and `ANALYZE`) a database needs for
//! segments, printed as SQL to run; the work is `segql::ops::advise`.

use segql::db::Access;
use segql::ops::{Advice, AdviseQuery};

use super::args::{AdviseArgs, QueryInput, SqlFormat};
use super::compile::{internal, plan_query};
use super::database;
use super::failure::Failure;
use super::inputs::{read_query, reference_time, Workspace};

pub fn advise(workspace: &mut Workspace, args: &AdviseArgs) -> Result<(), Failure> {
    let now = reference_time(args.plan.now.as_deref())?;
    let mut queries = Vec::new();
    if args.queries.is_empty() && args.files.is_empty() {
        if let Some(library) = workspace.library.as_ref() {
            let segments =
                segql::ops::segment_plans(&workspace.schema, library, &[], &args.plan.guards)
                    .map_err(|errors| workspace.fail_all(errors))?;
            queries.extend(segments.into_iter().map(|s| AdviseQuery {
                name: s.name,
                plan: s.plan,
            }));
        }
    }
    let inputs = args
        .queries
        .iter()
        .map(|text| QueryInput {
            query: Some(text.clone()),
            file: None,
        })
        .chain(args.files.iter().map(|path| QueryInput {
            query: None,
            file: Some(path.clone()),
        }));
    for (i, input) in inputs.enumerate() {
        let (name, text) = read_query(&input)?;
        workspace.with_query(name, &text);
        let plan = plan_query(workspace, &text, &args.plan)?;
        queries.push(AdviseQuery {
            name: format!("query {}", i + 1),
            plan,
        });
    }
    let mut db = database::open(&args.db, Access::ReadOnly)?;
    let advice = segql::ops::advise(db.as_mut(), &workspace.schema, &queries, now)
        .map_err(|e| workspace.fail(e))?;
    match args.format {
        SqlFormat::Sql => print!("{}", render(&advice)),
        SqlFormat::Json => {
            let json = serde_json::json!({ "format": 1, "advice": advice });
            let text =
                serde_json::to_string_pretty(&json).map_err(|e| workspace.fail(internal(e)))?;
            println!("{text}");
        }
    }
    Ok(())
}

/// The advice as SQL a shell can pipe to the database: the statements,
/// each after `--` comments saying why.
fn render(advice: &Advice) -> String {
    let mut out = String::new();
    for index in &advice.indexes {
        for reason in &index.reasons {
            out.push_str(&comment(&format!("{}: {}", reason.query, reason.predicate)));
        }
        out.push_str(&index.statement);
        out.push('\n');
    }
    if let Some(why) = &advice.analyze {
        out.push_str(&comment(why));
        out.push_str("ANALYZE;\n");
    }
    if advice.indexes.is_empty() && advice.analyze.is_none() {
        out.push_str("-- nothing to advise: the database has every index these segments search\n");
    }
    for served in &advice.existing {
        out.push_str(&comment(&format!(
            "already indexed: {} ({}) by {}",
            served.table,
            served.columns.join(", "),
            served.index
        )));
    }
    out
}

/// `text` as SQL comment lines (a predicate may span lines).
fn comment(text: &str) -> String {
    text.lines().map(|line| format!("-- {line}\n")).collect()
}
