//! `segql refresh`: keep the members of library segments and record who
//! joined and who left (SPEC 8).

use segql::db::Access;
use segql::ops::{RefreshEngine, RefreshOptions, RefreshReport};

use super::args::{EngineName, RefreshArgs, RefreshFormat};
use super::compile::internal;
use super::database;
use super::failure::Failure;
use super::inputs::{reference_time, Workspace};
use super::table::{render, Column, Fit};

pub fn refresh(workspace: &mut Workspace, args: &RefreshArgs) -> Result<(), Failure> {
    let Some(library) = workspace.library.as_ref() else {
        return Err(Failure::usage(
            "error: refresh keeps the segments of a library: pass it with --library FILE",
        ));
    };
    let now = reference_time(args.now.as_deref())?;
    let segments = segql::ops::segment_plans(&workspace.schema, library, &args.names, &args.guards)
        .map_err(|errors| workspace.fail_all(errors))?;
    let options = RefreshOptions {
        dry_run: args.dry_run,
        now,
        engine: match args.engine {
            EngineName::Sqlite => RefreshEngine::Database,
            EngineName::Memory => RefreshEngine::Memory,
        },
        guards: args.guards.clone(),
    };
    let mut db = database::open(&args.db, Access::ReadWrite)?;
    let report = segql::ops::refresh_segments(db.as_mut(), &workspace.schema, &segments, &options)
        .map_err(|e| workspace.fail(e))?;
    match args.format {
        RefreshFormat::Json => {
            let json =
                serde_json::to_string_pretty(&report).map_err(|e| workspace.fail(internal(e)))?;
            println!("{json}");
        }
        RefreshFormat::Text => print!("{}", report_text(&report)),
    }
    Ok(())
}

fn report_text(report: &RefreshReport) -> String {
    let mut out = String::new();
    if report.dry_run {
        out.push_str("dry run: nothing was written\n");
    }
    let column = |header: &str, right: bool| Column {
        header: header.to_string(),
        fit: Fit::Whole,
        right,
        optional: false,
    };
    let columns = [
        column("segment", false),
        column("members", true),
        column("joined", true),
        column("left", true),
    ];
    let mut rows: Vec<Vec<String>> = report
        .segments
        .iter()
        .map(|s| {
            vec![
                s.segment.clone(),
                s.members.to_string(),
                s.joined.to_string(),
                s.left.to_string(),
            ]
        })
        .collect();
    if report.segments.len() > 1 {
        rows.push(vec![
            "(total)".to_string(),
            report.total.members.to_string(),
            report.total.joined.to_string(),
            report.total.left.to_string(),
        ]);
    }
    out.push_str(&render(&columns, &rows, None).text);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if report.unchanged() {
        out.push_str("nothing changed: every segment's members were already up to date\n");
    } else {
        let verb = if report.dry_run {
            "would record"
        } else {
            "recorded"
        };
        out.push_str(&format!(
            "{verb} {} joined and {} left in segment_change\n",
            report.total.joined, report.total.left
        ));
    }
    out
}
