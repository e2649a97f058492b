//! Running the `segql` binary with an environment and standard input, for
//! the table and shell tests (which depend on `COLUMNS`).

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub const NOW: &str = "2026-01-15T12:00:00Z";

/// `segql ARGS` with `COLUMNS` set to `columns` (or removed), `input` on
/// standard input (a pipe: not a terminal).
pub fn segql_at(columns: Option<u16>, args: &[&str], input: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_segql"));
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match columns {
        Some(width) => command.env("COLUMNS", width.to_string()),
        None => command.env_remove("COLUMNS"),
    };
    let mut child = command.spawn().expect("segql runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("segql finishes")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}
