//! The `segql` binary: commands, exit codes and whole workflows.

mod advise;
mod binary;
mod commands;
mod first_hour;
mod fmt_comments;
mod help_examples;
mod import;
mod models;
mod refresh;
mod run;
mod schema;
mod score;
mod shell;
mod snapshot;
mod spark;
mod table;
mod view;
mod why;
mod workflow;
