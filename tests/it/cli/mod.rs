//! The `segql` binary: commands, exit codes and whole workflows.

mod binary;
mod commands;
mod first_hour;
mod models;
mod shell;
mod table;
mod workflow;
