//! `segql view`: create or replace a database view of a segment, or drop
//! one (SPEC §7). The work is `segql::ops::create_view` / `drop_view`; this
//! only reads the arguments and prints the report.

use segql::db::Access;
use segql::ops::{self, ViewAction, ViewOptions, ViewReport};

use super::args::{ReportFormat, ViewArgs};
use super::compile::{internal, plan_query};
use super::database;
use super::failure::Failure;
use super::inputs::{read_query, reference_time, Workspace};

pub fn view(workspace: &mut Workspace, args: &ViewArgs) -> Result<(), Failure> {
    // A bad name is a usage error, found before the query is even read.
    ops::check_view_name(&args.name).map_err(|e| workspace.fail(e))?;
    let report = if args.drop {
        let mut db = database::open(&args.db, Access::ReadWrite)?;
        ops::drop_view(db.as_mut(), &args.name, args.dry_run).map_err(|e| workspace.fail(e))?
    } else {
        let (name, text) = read_query(&args.query_input())?;
        workspace.with_query(name, &text);
        let plan = plan_query(workspace, &text, &args.plan_args())?;
        let options = ViewOptions {
            dry_run: args.dry_run,
            now: reference_time(None)?,
        };
        let mut db = database::open(&args.db, Access::ReadWrite)?;
        ops::create_view(db.as_mut(), &workspace.schema, &args.name, &plan, &options)
            .map_err(|e| workspace.fail(e))?
    };
    match args.format {
        ReportFormat::Json => {
            let json =
                serde_json::to_string_pretty(&report).map_err(|e| workspace.fail(internal(e)))?;
            println!("{json}");
        }
        ReportFormat::Table => println!("{}", describe(&report)),
    }
    Ok(())
}

/// `created view sales_contact (1234 rows now)`, in the conditional on a
/// dry run.
fn describe(report: &ViewReport) -> String {
    let verb = match (&report.action, report.dry_run) {
        (ViewAction::Created, false) => "created",
        (ViewAction::Replaced, false) => "replaced",
        (ViewAction::Dropped, false) => "dropped",
        (ViewAction::Created, true) => "dry run: would create",
        (ViewAction::Replaced, true) => "dry run: would replace",
        (ViewAction::Dropped, true) => "dry run: would drop",
    };
    match report.rows {
        Some(rows) => format!(
            "{verb} view {} ({rows} {} now)",
            report.view,
            if rows == 1 { "row" } else { "rows" }
        ),
        None => format!("{verb} view {}", report.view),
    }
}
