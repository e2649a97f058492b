//! The `segql` binary: commands, exit codes and whole workflows.

mod commands;
mod schema;
mod workflow;
