//! The `segql` binary: commands, exit codes and whole workflows.

mod commands;
mod first_hour;
mod workflow;
