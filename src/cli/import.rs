//! `segql import-leads`: add leads from a CSV file (SPEC §7). The work is
//! `segql::ops::import_leads`; this reads the file and prints the report.

use segql::db::Access;
use segql::ops::{self, ImportOptions, ImportReport, MatchMode};

use super::args::{ImportLeadsArgs, MatchArg, ReportFormat};
use super::compile::internal;
use super::database;
use super::failure::{io_failure, Failure};
use super::inputs::{reference_time, Workspace};

pub fn import_leads(workspace: &Workspace, args: &ImportLeadsArgs) -> Result<(), Failure> {
    let now = reference_time(args.now.as_deref())?;
    // A file that cannot be read is an I/O error (exit 2); what it holds is
    // judged by the import (exit 1).
    let bytes = std::fs::read(&args.file)
        .map_err(|e| io_failure(&format!("cannot read {}", args.file.display()), e))?;
    let options = ImportOptions {
        dry_run: args.dry_run,
        now,
        matching: match args.matching {
            MatchArg::EmailTopic => MatchMode::EmailTopic,
            MatchArg::Email => MatchMode::Email,
            MatchArg::None => MatchMode::None,
        },
        progress: !workspace.quiet,
    };
    let mut db = database::open(&args.db, Access::ReadWrite)?;
    let report = ops::import_leads(db.as_mut(), &workspace.schema, &bytes, &options)
        .map_err(|e| workspace.fail(e))?;
    match args.format {
        ReportFormat::Json => {
            let json =
                serde_json::to_string_pretty(&report).map_err(|e| workspace.fail(internal(e)))?;
            println!("{json}");
        }
        ReportFormat::Table => print!("{}", report_text(&report)),
    }
    Ok(())
}

fn report_text(report: &ImportReport) -> String {
    let mut out = String::new();
    if report.dry_run {
        out.push_str("dry run: nothing was written\n");
    }
    let lines = [
        ("rows read", report.rows_read),
        ("leads created", report.leads_created),
        ("leads updated", report.leads_updated),
        ("contacts linked", report.contacts_linked),
        ("contacts created", report.contacts_created),
    ];
    for (label, value) in lines {
        out.push_str(&format!("{:<18}{value}\n", format!("{label}:")));
    }
    if report.skipped_without_email > 0 {
        out.push_str(&format!(
            "{} imported leads have no email and no contact (give them an email, then run link-orphans)\n",
            report.skipped_without_email
        ));
    }
    out
}
