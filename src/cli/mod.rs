//! The `segql` command line (README, "Command line"; `segql --help`). One module per command; errors are
//! rendered here and nowhere else.

mod advise;
mod args;
mod check_fmt;
mod columns;
mod compile;
mod data;
mod database;
mod explain;
mod export;
mod failure;
mod import;
mod inputs;
mod records;
mod refresh;
mod run;
mod schema;
mod score;
mod shell;
mod table;
mod terminal;
mod view;
mod why;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use failure::Failure;
use inputs::Workspace;

/// Parse the arguments, run the command, map the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // clap prints help/version to stdout and usage errors to stderr.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

fn dispatch(cli: Cli) -> Result<(), Failure> {
    // Commands that touch no query do not need the schema's library.
    if let Command::Demo(args) = &cli.command {
        return data::demo(args);
    }
    if let Command::Schema(args) = &cli.command {
        let mut workspace = Workspace::load(cli.schema.as_deref(), None)?;
        return schema::schema(&mut workspace, args);
    }
    let mut workspace = Workspace::load(cli.schema.as_deref(), cli.library.as_deref())?;
    workspace.quiet = cli.quiet;
    match cli.command {
        Command::Check(args) => match &args.models {
            Some(path) => check_fmt::check_models_file(&mut workspace, path),
            None => check_fmt::check(&mut workspace, &args.query_input()),
        },
        Command::Fmt(input) => check_fmt::fmt(&mut workspace, &input),
        Command::Compile(args) => compile::compile(&mut workspace, &args),
        Command::Run(args) => run::run(&mut workspace, &args),
        Command::Explain(args) => explain::explain(&mut workspace, &args),
        Command::LinkOrphans(args) => data::link_orphans(&workspace, &args),
        Command::Update(args) => data::update(&mut workspace, &args),
        Command::Shell(args) => shell::shell(&mut workspace, &args),
        Command::Score(args) => score::score(&mut workspace, &args),
        Command::View(args) => view::view(&mut workspace, &args),
        Command::Refresh(args) => refresh::refresh(&mut workspace, &args),
        Command::ImportLeads(args) => import::import_leads(&workspace, &args),
        Command::Why(args) => why::why(&mut workspace, &args),
        Command::Export(args) => export::export(&workspace, &args),
        Command::Advise(args) => advise::advise(&mut workspace, &args),
        Command::Demo(_) | Command::Schema(_) => Ok(()),
    }
}
