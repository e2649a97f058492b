//! The commands that write: `demo`, `link-orphans` and `update`.

use std::io::IsTerminal;

use segql::db::Access;
use segql::ops;

use super::args::{DemoArgs, LinkOrphansArgs, ReportFormat, UpdateArgs};
use super::compile::{internal, plan_query};
use super::database;
use super::failure::{io_failure, Failure};
use super::inputs::{read_query, reference_time, Workspace};

pub fn demo(args: &DemoArgs) -> Result<(), Failure> {
    let now = reference_time(Some(
        args.now.as_deref().unwrap_or(segql::demo::DEFAULT_DEMO_NOW),
    ))?;
    let options = segql::demo::DemoOptions {
        contacts: args.contacts,
        seed: args.seed,
        now,
        progress: std::io::stderr().is_terminal(),
        force: args.force,
    };
    let report = segql::demo::generate_sqlite(&args.out, &options).map_err(|e| match e {
        // A refusal to replace a file says all there is to say.
        segql::Error::Unavailable { message } => Failure::usage(format!("error: {message}")),
        e => io_failure(
            &format!("cannot write the demo database {}", args.out.display()),
            e,
        ),
    })?;
    let counts: Vec<String> = report
        .tables()
        .iter()
        .map(|(table, rows)| format!("{rows} {table}"))
        .collect();
    println!(
        "wrote {}: {} ({} orphaned leads)",
        args.out.display(),
        counts.join(", "),
        report.orphaned_leads
    );
    println!(
        "reference time {} (seed {}); relative dates such as now - 30d find records when run with --now {}",
        now.format("%Y-%m-%dT%H:%M:%SZ"),
        args.seed,
        now.format("%Y-%m-%dT%H:%M:%SZ"),
    );
    if let Some(csv) = &args.leads_csv {
        let rows = args.leads_csv_rows.unwrap_or(args.contacts);
        let written = segql::demo::write_leads_csv(&args.out, csv, rows, args.seed)
            .map_err(|e| io_failure(&format!("cannot write {}", csv.display()), e))?;
        println!(
            "wrote {}: {} leads ({} of open leads' email and topic, {} of existing contacts, {} of new people); import them with segql import-leads --db {} {}",
            csv.display(),
            written.rows,
            written.matching_leads,
            written.existing_contacts,
            written.new_people,
            args.out.display(),
            csv.display()
        );
    }
    Ok(())
}

pub fn link_orphans(workspace: &Workspace, args: &LinkOrphansArgs) -> Result<(), Failure> {
    let now = reference_time(args.now.as_deref())?;
    let options = ops::LinkOptions {
        dry_run: args.dry_run,
        now,
    };
    let mut db = database::open(&args.db, Access::ReadWrite)?;
    let report = ops::link_orphans(db.as_mut(), &workspace.schema, &options)
        .map_err(|e| workspace.fail(e))?;
    match args.format {
        ReportFormat::Json => {
            let json =
                serde_json::to_string_pretty(&report).map_err(|e| workspace.fail(internal(e)))?;
            println!("{json}");
        }
        ReportFormat::Table => {
            if args.dry_run {
                println!("dry run: nothing was written");
            }
            println!(
                "linked to an existing contact: {}",
                report.linked_to_existing
            );
            println!("contacts created:              {}", report.contacts_created);
            println!(
                "leads linked to them:          {}",
                report.leads_linked_to_created
            );
            println!(
                "skipped without email:         {}",
                report.skipped_without_email
            );
        }
    }
    Ok(())
}

pub fn update(workspace: &mut Workspace, args: &UpdateArgs) -> Result<(), Failure> {
    let (name, text) = read_query(&args.input)?;
    workspace.with_query(name, &text);
    let now = reference_time(args.plan.now.as_deref())?;
    let plan = plan_query(workspace, &text, &args.plan)?;
    let assignments =
        ops::parse_assignments(&args.set, &plan.entity, &workspace.schema).map_err(|e| {
            // Errors in the assignments point into the --set text, not the query.
            let mut sources = workspace.sources.clone();
            sources.query = Some(("--set".to_string(), args.set.clone()));
            Failure::from_error(e, &sources)
        })?;
    let options = ops::UpdateOptions {
        dry_run: args.dry_run,
        now,
    };
    let mut db = database::open(&args.db, Access::ReadWrite)?;
    let report = ops::update(
        db.as_mut(),
        &workspace.schema,
        &plan,
        &assignments,
        &options,
    )
    .map_err(|e| workspace.fail(e))?;
    let verb = if args.dry_run {
        "would change"
    } else {
        "changed"
    };
    if matches!(plan.filter, segql::plan::PlanExpr::Const(true)) && !workspace.quiet {
        // Like an SQL UPDATE without WHERE: legal, and seldom meant.
        eprintln!(
            "note: the query has no condition, so every {} record is {}; \
             run with --dry-run first to see how many would change",
            plan.entity,
            if args.dry_run { "matched" } else { "updated" }
        );
    }
    println!(
        "{verb} {} of {} matching {} records",
        report.changed, report.matched, plan.entity
    );
    Ok(())
}
