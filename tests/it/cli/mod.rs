//! The `segql` binary: commands, exit codes and whole workflows.

mod commands;
mod fmt_comments;
mod workflow;
