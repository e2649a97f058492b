//! `segql score`: score every lead by the models of a file (SPEC 6), or
//! explain one lead's scores (`--explain LEAD_ID`).

use std::path::Path;

use segql::db::Access;
use segql::ops::{ScoreEngine, ScoreOptions, ScoreReport};
use segql::scoring::{LeadExplanation, Model, Scored};
use segql::Engine;

use super::args::{EngineName, ReportFormat, ScoreArgs};
use super::compile::internal;
use super::database;
use super::failure::{print_warnings, Failure};
use super::inputs::{read_file, reference_time, Workspace};

pub fn score(workspace: &mut Workspace, args: &ScoreArgs) -> Result<(), Failure> {
    let models = load_models(workspace, &args.models)?;
    let now = reference_time(args.now.as_deref())?;
    if let Some(id) = &args.explain {
        let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| {
            Failure::usage(format!(
                "error: --explain takes a lead id (a uuid), not '{id}'"
            ))
        })?;
        let mut db = database::open(&args.db, Access::ReadOnly)?;
        let engine = match args.engine {
            EngineName::Sqlite => Engine::Database(db.as_mut()),
            EngineName::Memory => Engine::MemoryFrom(db.as_mut()),
        };
        let (scored, explained) =
            segql::scoring::explain(engine, &workspace.schema, &models, id, now)
                .map_err(|e| workspace.fail(e))?;
        return print_explanation(workspace, args.format, id, scored, &explained);
    }
    let options = ScoreOptions {
        dry_run: args.dry_run,
        now,
        engine: match args.engine {
            EngineName::Sqlite => ScoreEngine::Database,
            EngineName::Memory => ScoreEngine::Memory,
        },
    };
    let mut db = database::open(&args.db, Access::ReadWrite)?;
    let report = segql::ops::score(db.as_mut(), &workspace.schema, &models, &options)
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

/// The checked models of FILE; errors point into it.
fn load_models(workspace: &mut Workspace, path: &Path) -> Result<Vec<Model>, Failure> {
    let text = read_file(path)?;
    workspace.with_models_input(path.display().to_string(), &text);
    let file = segql::syntax::parse_models(&text).map_err(|e| workspace.fail(e))?;
    let (checked, warnings) = segql::scoring::check_models_with_warnings(&file, &workspace.schema);
    if !workspace.quiet {
        print_warnings(&warnings, &workspace.sources);
    }
    checked.map_err(|errors| workspace.fail_all(errors))
}

fn report_text(report: &ScoreReport) -> String {
    let mut out = String::new();
    if report.dry_run {
        out.push_str("dry run: nothing was written\n");
    }
    out.push_str(&format!("leads scored:             {}\n", report.scored));
    out.push_str(&format!(
        "skipped, no contact:      {} (run link-orphans to give them one)\n",
        report.skipped_no_contact
    ));
    out.push_str(&format!(
        "skipped, closed:          {}\n",
        report.skipped_closed
    ));
    out.push_str(&format!(
        "newly sales-ready:        {}\n",
        report.newly_sales_ready
    ));
    out.push_str(&format!(
        "no longer sales-ready:    {}\n",
        report.no_longer_sales_ready
    ));
    for model in &report.models {
        let grades: Vec<String> = model
            .grades
            .iter()
            .filter(|g| g.grade.is_some() || g.leads > 0)
            .map(|g| format!("{} {}", g.grade.as_deref().unwrap_or("no grade"), g.leads))
            .collect();
        out.push_str(&format!(
            "model {}: {} sales-ready; {}\n",
            model.name,
            model.sales_ready,
            grades.join(", ")
        ));
    }
    if report.rows_written == 0 && report.leads_updated == 0 {
        out.push_str("nothing changed: every score was already up to date\n");
    } else {
        let verb = if report.dry_run {
            "would write"
        } else {
            "wrote"
        };
        out.push_str(&format!(
            "{verb} {} lead_score rows, updated {} leads\n",
            report.rows_written, report.leads_updated
        ));
    }
    out
}

fn print_explanation(
    workspace: &Workspace,
    format: ReportFormat,
    id: uuid::Uuid,
    scored: Scored,
    explained: &[LeadExplanation],
) -> Result<(), Failure> {
    if format == ReportFormat::Json {
        let json = serde_json::json!({
            "format": 1,
            "lead": id,
            "scored": scored,
            "models": explained,
        });
        let text = serde_json::to_string_pretty(&json).map_err(|e| workspace.fail(internal(e)))?;
        println!("{text}");
        return Ok(());
    }
    println!("lead {id}");
    match scored {
        Scored::Yes => {}
        Scored::NoContact => println!("not scored by `segql score`: it has no contact (run link-orphans first); as it would score:"),
        Scored::Closed => println!("not scored by `segql score`: it is Qualified or Disqualified; as it would score:"),
    }
    for model in explained {
        println!("model {}", model.model);
        let width = model
            .rules
            .iter()
            .map(|r| r.rule.chars().count())
            .max()
            .unwrap_or(0);
        for rule in &model.rules {
            println!(
                "  {:width$}  count {:>4}  points {:>+5}",
                rule.rule, rule.count, rule.points
            );
        }
        let limits = match model.max_score {
            Some(max) => format!("limited to 0..={max}"),
            None => "at least 0".to_string(),
        };
        println!("  total {}, score {} ({limits})", model.total, model.score);
        println!(
            "  grade {}; sales ready at {}: {}",
            model.grade.as_deref().unwrap_or("none"),
            model.sales_ready_at,
            if model.sales_ready { "yes" } else { "no" }
        );
    }
    Ok(())
}
