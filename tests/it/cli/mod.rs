//! The `segql` binary: commands, exit codes and whole workflows.

mod commands;
mod help_examples;
mod schema;
mod workflow;
