//! `segql shell`: load a database into the in-memory engine once, then
//! evaluate segment after segment typed at a prompt — the analyst's fast
//! feedback loop.

use std::time::Instant;

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

use super::args::ShellArgs;
use super::database;
use super::failure::{io_failure, Failure, SourceTexts};
use super::inputs::{reference_time, Workspace};
use super::run::ms;

const HELP: &str = "Type a query (e.g. contact where role = \"Employee\") and press Enter.\n\
                    .help shows this, .quit (or Ctrl-D) leaves.";

pub fn shell(workspace: &mut Workspace, args: &ShellArgs) -> Result<(), Failure> {
    let now = reference_time(args.now.as_deref())?;
    let loading = Instant::now();
    let mut db = database::open_or_demo(args.db.as_deref(), now, workspace.quiet)?;
    let store = match db.load_store(&workspace.schema, None) {
        Err(segql::Error::Unavailable { .. }) => {
            return Err(Failure::usage(
                "error: the shell loads SQLite databases only",
            ))
        }
        loaded => loaded.map_err(|e| workspace.fail(e))?,
    };
    eprintln!("loaded in {}. {HELP}", ms(loading.elapsed()));

    let mut editor =
        DefaultEditor::new().map_err(|e| io_failure("cannot start the line editor", e))?;
    let history =
        std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".segql_history"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    loop {
        let line = match editor.readline("segql> ") {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(io_failure("cannot read the prompt", e)),
        };
        let text = line.trim();
        match text {
            "" => continue,
            ".quit" | ".exit" => break,
            ".help" => {
                println!("{HELP}");
                continue;
            }
            _ => {}
        }
        let _ = editor.add_history_entry(text);
        evaluate_line(workspace, &store, text, now, args.show);
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(())
}

/// Evaluate one query and print its count, first ids and time; errors are
/// printed and the shell goes on.
fn evaluate_line(
    workspace: &Workspace,
    store: &segql::eval::Store,
    text: &str,
    now: chrono::DateTime<chrono::Utc>,
    show: usize,
) {
    let started = Instant::now();
    let options = segql::Options {
        schema: &workspace.schema,
        library: workspace.library.as_ref(),
        guards: &[],
        optimize: true,
    };
    let result =
        segql::plan(text, &options).and_then(|plan| segql::eval::evaluate(&plan, store, now));
    match result {
        Ok(ids) => {
            let elapsed = started.elapsed();
            println!("{} records in {}", ids.len(), ms(elapsed));
            for id in ids.iter().take(show) {
                println!("  {id}");
            }
            if ids.len() > show {
                println!("  ...");
            }
        }
        Err(error) => {
            let sources = SourceTexts {
                query: Some(("<shell>".to_string(), text.to_string())),
                library: workspace.sources.library.clone(),
            };
            // Report, then carry on with the next line.
            let _ = Failure::from_error(error, &sources).report();
        }
    }
}
