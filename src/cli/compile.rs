//! `segql compile`: a query to SQL and its bind parameters.

use chrono::{DateTime, Utc};
use segql::plan::Plan;
use segql::sql::{self, Dialect, SqlOptions, SqlQuery};

use super::args::{CompileArgs, PlanArgs, SqlFormat};
use super::failure::{Failure, SourceTexts};
use super::inputs::{read_query, reference_time, Workspace};

pub fn compile(workspace: &mut Workspace, args: &CompileArgs) -> Result<(), Failure> {
    let (name, text) = read_query(&args.input)?;
    workspace.with_query(name, &text);
    let now = reference_time(args.plan.now.as_deref())?;
    let plan = plan_query(workspace, &text, &args.plan)?;
    let dialect = segql::db::dialect(&args.dialect)
        .ok_or_else(|| workspace.fail(internal(format!("no dialect '{}'", args.dialect))))?;
    let query = to_sql(workspace, &plan, dialect, args.count, now)?;
    match args.format {
        SqlFormat::Sql => print!("{}", render_sql(&query, dialect)),
        SqlFormat::Json => {
            let json =
                serde_json::to_string_pretty(&query).map_err(|e| workspace.fail(internal(e)))?;
            println!("{json}");
        }
    }
    Ok(())
}

/// Parse, check (with guards) and, unless turned off, optimize. Every
/// error is reported (a query's and those of the library segments it uses),
/// and warnings are printed unless `--quiet`.
pub fn plan_query(workspace: &Workspace, text: &str, args: &PlanArgs) -> Result<Plan, Failure> {
    plan_text(
        workspace,
        &workspace.sources,
        text,
        &args.guards,
        !args.no_optimize,
    )
}

/// [`plan_query`] keeping each `in NAME` as a node of its own
/// ([`segql::check::check_keeping_segments`]), for `why`.
pub fn plan_query_folded(
    workspace: &Workspace,
    text: &str,
    args: &PlanArgs,
) -> Result<Plan, Failure> {
    plan_with(
        workspace,
        &workspace.sources,
        text,
        &args.guards,
        !args.no_optimize,
        true,
    )
}

/// [`plan_query`] with the texts errors are rendered against given, for
/// callers whose query is not the command's (the shell's entries).
pub fn plan_text(
    workspace: &Workspace,
    sources: &SourceTexts,
    text: &str,
    guards: &[String],
    optimize: bool,
) -> Result<Plan, Failure> {
    plan_with(workspace, sources, text, guards, optimize, false)
}

fn plan_with(
    workspace: &Workspace,
    sources: &SourceTexts,
    text: &str,
    guards: &[String],
    optimize: bool,
    keep_segment_names: bool,
) -> Result<Plan, Failure> {
    let options = segql::Options {
        schema: &workspace.schema,
        library: workspace.library.as_ref(),
        guards,
        optimize,
    };
    let query = segql::syntax::parse_query(text).map_err(|e| Failure::from_error(e, sources))?;
    let (checked, warnings) = if keep_segment_names {
        segql::check::check_keeping_segments(&query, &options)
    } else {
        segql::check::check_with_warnings(&query, &options)
    };
    if !workspace.quiet {
        super::failure::print_warnings(&warnings, sources);
    }
    let plan = checked.map_err(|errors| Failure::from_errors(errors, sources))?;
    Ok(if optimize {
        segql::optimize::optimize(plan)
    } else {
        plan
    })
}

pub fn to_sql(
    workspace: &Workspace,
    plan: &Plan,
    dialect: &dyn Dialect,
    count: bool,
    now: DateTime<Utc>,
) -> Result<SqlQuery, Failure> {
    sql::to_sql(
        plan,
        &workspace.schema,
        dialect,
        &SqlOptions::new(count, now),
    )
    .map_err(|e| workspace.fail(e))
}

/// The SQL, then its parameters as SQL comments so the output stays valid SQL.
pub fn render_sql(query: &SqlQuery, dialect: &dyn Dialect) -> String {
    let mut out = query.sql.trim_end().to_string();
    out.push_str(";\n");
    for (i, param) in query.params.iter().enumerate() {
        let value = serde_json::to_string(param).unwrap_or_else(|_| "?".to_string());
        out.push_str(&format!("-- {} = {}\n", dialect.placeholder(i + 1), value));
    }
    out
}

pub fn internal(e: impl std::fmt::Display) -> segql::Error {
    segql::Error::Internal {
        message: e.to_string(),
    }
}
