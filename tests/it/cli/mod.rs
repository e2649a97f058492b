//! The `segql` binary: commands, exit codes and whole workflows.

mod binary;
mod commands;
mod shell;
mod table;
mod workflow;
