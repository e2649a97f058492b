//! Every `segql` command the README shows works as shown: each line of its
//! `sh` blocks that starts with `segql` is run, in order, in a scratch
//! directory holding a copy of `examples/`, with the binary under test
//! first on `PATH`. A command whose comment says `exit 1` must exit 1; every
//! other one must succeed.

use std::path::Path;
use std::process::Command;

/// One command of the README and the exit code it must give.
#[derive(Debug, PartialEq)]
struct Shown {
    line: String,
    code: i32,
}

/// The `segql` commands of the README's `sh` blocks, continuation lines
/// (`\` at the end) joined, trailing comments removed.
fn shown_commands(readme: &str) -> Vec<Shown> {
    let mut shown = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_sh = !in_sh && trimmed.trim_start_matches('`').trim() == "sh";
            pending.clear();
            continue;
        }
        if !in_sh {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => {
                pending.push_str(start);
                continue;
            }
            None => pending.push_str(line),
        }
        let whole = std::mem::take(&mut pending);
        let (command, comment) = split_comment(&whole);
        let command = command.split_whitespace().collect::<Vec<_>>().join(" ");
        if command.starts_with("segql ") {
            shown.push(Shown {
                line: command,
                code: if comment.contains("exit 1") { 1 } else { 0 },
            });
        }
    }
    shown
}

/// A shell line and its comment: a `#` outside quotes after a blank.
fn split_comment(line: &str) -> (&str, &str) {
    let (mut single, mut double) = (false, false);
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && previous.is_whitespace() => {
                return (&line[..i], &line[i..]);
            }
            _ => {}
        }
        previous = c;
    }
    (line, "")
}

#[test]
fn comments_and_continuations_are_read_like_a_shell_reads_them() {
    let readme =
        "text\n```sh\nsegql check 'a # b' # exit 1: no\nsegql run \\\n   --db x 'q'\nls\n```\n\
                  ```rust\nsegql not_shell\n```\n";
    assert_eq!(
        shown_commands(readme),
        [
            Shown {
                line: "segql check 'a # b'".into(),
                code: 1
            },
            Shown {
                line: "segql run --db x 'q'".into(),
                code: 0
            },
        ]
    );
}

#[test]
fn every_readme_command_works_as_shown() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let commands = shown_commands(&readme);
    assert!(
        commands.len() >= 15,
        "only {} commands found: is the extraction broken?",
        commands.len()
    );
    let scratch = tempfile::tempdir().expect("scratch directory");
    std::fs::create_dir(scratch.path().join("examples")).expect("examples directory");
    for entry in std::fs::read_dir(root.join("examples")).expect("examples") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let name = path.file_name().expect("file name");
            std::fs::copy(&path, scratch.path().join("examples").join(name)).expect("copy");
        }
    }
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_segql"))
        .parent()
        .expect("binary directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failures = Vec::new();
    for shown in &commands {
        let output = Command::new("sh")
            .arg("-c")
            .arg(&shown.line)
            .current_dir(scratch.path())
            .env("PATH", &path)
            // Memory-store snapshots in the scratch directory, not the
            // user's cache.
            .env("SEGQL_CACHE_DIR", scratch.path().join("cache"))
            .env_remove("COLUMNS")
            .output()
            .expect("sh runs");
        let code = output.status.code().unwrap_or(-1);
        if code != shown.code {
            failures.push(format!(
                "{}\n  exit {code}, expected {}\n  {}",
                shown.line,
                shown.code,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
