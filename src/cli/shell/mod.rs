//! `segql shell`: load a database into the in-memory engine once, then
//! evaluate segment after segment typed at a prompt — the analyst's fast
//! feedback loop. Results print as `run` prints them (same columns, same
//! limit); dot-commands change how.
//!
//! | file         | concern                                                 |
//! |--------------|---------------------------------------------------------|
//! | `mod.rs`     | the loop: read an entry, run a command or a query       |
//! | `entry.rs`   | lines to entries (multi-line queries)                   |
//! | `command.rs` | the dot-commands                                        |
//! | `lines.rs`   | the line editor and its history, or plain standard input |
//! | `listing.rs` | `.schema`                                               |

mod command;
mod entry;
mod lines;
mod listing;

use std::time::Instant;

use chrono::{DateTime, Utc};
use segql::db::Backend;
use segql::eval::Store;

use super::args::{RowFormat, ShellArgs};
use super::compile::plan_text;
use super::database;
use super::failure::{Failure, SourceTexts};
use super::inputs::{reference_time, Workspace};
use super::records::{self, Hint, View};
use super::run::ms;
use command::Command;
use entry::{Entry, Pending};
use lines::{Lines, Read};

const PROMPT: &str = "segql> ";
const MORE: &str = "  ...> ";

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
    eprintln!(
        "loaded in {}. Type a query; .help lists the commands, .quit leaves.",
        ms(loading.elapsed())
    );

    let mut session = Session {
        view: View {
            format: args.format,
            columns: args.columns.clone(),
            limit: args.limit,
        },
        timing: true,
        now,
    };
    let mut lines = Lines::open()?;
    let mut pending = Pending::default();
    loop {
        let prompt = if pending.is_open() { MORE } else { PROMPT };
        let (entry, last) = match lines.read(prompt)? {
            Read::Line(line) => match pending.push(&line) {
                Some(entry) => (entry, false),
                None => continue,
            },
            Read::Interrupted => {
                pending.clear();
                continue;
            }
            Read::End => match pending.finish() {
                Some(entry) => (entry, true),
                None => break,
            },
        };
        match entry {
            Entry::Command(text) => match command::parse(&text) {
                Ok(Command::Quit) => break,
                Ok(command) => {
                    lines.remember(&text);
                    session.apply(command, workspace);
                }
                Err(message) => {
                    lines.remember(&text);
                    eprintln!("error: {message}");
                }
            },
            Entry::Query(text) => {
                lines.remember(&text);
                session.evaluate(workspace, &store, db.as_mut(), &text);
            }
        }
        if last {
            break;
        }
    }
    lines.close();
    Ok(())
}

/// What the dot-commands set.
struct Session {
    view: View,
    timing: bool,
    now: DateTime<Utc>,
}

impl Session {
    fn apply(&mut self, command: Command, workspace: &Workspace) {
        match command {
            Command::Help => println!("{}", command::HELP),
            Command::Schema(entity) => {
                match listing::describe(&workspace.schema, entity.as_deref()) {
                    Ok(text) => println!("{text}"),
                    Err(message) => eprintln!("error: {message}"),
                }
            }
            Command::Format(Some(format)) => self.view.format = format,
            Command::Format(None) => println!("{}", self.settings()),
            Command::Columns(columns) => self.view.columns = columns,
            Command::Limit(limit) => self.view.limit = limit,
            Command::Timing(on) => self.timing = on,
            // Handled by the loop, which owns the leaving.
            Command::Quit => {}
        }
    }

    /// The current settings, for `.format` alone.
    fn settings(&self) -> String {
        let format = match self.view.format {
            RowFormat::Table => "table",
            RowFormat::Ids => "ids",
            RowFormat::Json => "json",
            RowFormat::Csv => "csv",
        };
        let columns = self
            .view
            .columns
            .as_ref()
            .map_or("default".to_string(), |c| c.join(","));
        let limit = self
            .view
            .limit
            .map_or("a screenful (table) or all".to_string(), |n| n.to_string());
        let timing = if self.timing { "on" } else { "off" };
        format!("format {format}, columns {columns}, limit {limit}, timing {timing}")
    }

    /// Evaluate one query in memory and print its records; errors are
    /// printed and the shell goes on.
    fn evaluate(&self, workspace: &Workspace, store: &Store, db: &mut dyn Backend, text: &str) {
        let started = Instant::now();
        let sources = SourceTexts {
            query: Some(("<shell>".to_string(), text.to_string())),
            library: workspace.sources.library.clone(),
            models: None,
        };
        let plan = match plan_text(workspace, &sources, text, &[], true) {
            Ok(plan) => plan,
            Err(failure) => {
                // Report, then carry on with the next entry.
                let _ = failure.report();
                return;
            }
        };
        let Some(entity) = workspace.schema.entity(&plan.entity) else {
            eprintln!("error: internal: plan entity {} not in schema", plan.entity);
            return;
        };
        // A mistyped column is reported before any work is done.
        if let Err(failure) = records::check_columns(entity, &self.view) {
            let _ = failure.report();
            return;
        }
        let ids = match segql::eval::evaluate(&plan, store, self.now) {
            Ok(ids) => ids,
            Err(error) => {
                let _ = Failure::from_error(error, &sources).report();
                return;
            }
        };
        let elapsed = started.elapsed();
        let printed = records::print(
            db,
            &workspace.schema,
            entity,
            &segql::plan::root_fields(&plan),
            &ids,
            &self.view,
            Hint::Shell,
        );
        if let Err(failure) = printed {
            let _ = failure.report();
        }
        if self.timing {
            eprintln!("time: {}", ms(elapsed));
        }
    }
}
