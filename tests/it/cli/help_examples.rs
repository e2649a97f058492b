//! The examples in `--help` cannot rot: every line of every command's help
//! that starts with `  segql ` is run, and must exit 0. They run in a
//! scratch directory holding `crm.db` from `segql demo --contacts 200` (the
//! database the examples of the commands that need one name) and a copy of
//! `examples/`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn segql_in(dir: &Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(args)
        .current_dir(dir)
        // `segql shell` keeps its history in the home directory.
        .env("HOME", dir)
        .stdin(Stdio::null())
        .output()
        .expect("segql runs")
}

fn help_of(dir: &Path, command: Option<&str>) -> String {
    let mut args: Vec<String> = command.into_iter().map(String::from).collect();
    args.push("--help".into());
    let o = segql_in(dir, &args);
    assert_eq!(o.status.code(), Some(0), "{args:?}");
    String::from_utf8(o.stdout).expect("UTF-8 help")
}

/// The subcommands listed under `Commands:` in the top-level help.
fn commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(String::from)
        .collect()
}

/// The example command lines of a help text.
fn examples(help: &str) -> Vec<&str> {
    help.lines()
        .filter(|line| line.starts_with("  segql "))
        .map(str::trim)
        .collect()
}

/// A command line split into words as a POSIX shell would for the quoting
/// the examples use: single quotes (literal), double quotes (with `\\"`
/// and `\\\\`), backslash outside quotes.
fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(format!("unclosed ' in {line}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(format!("unclosed \" in {line}")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(format!("unclosed \" in {line}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            '|' | '>' | '<' | ';' | '&' | '$' | '`' => {
                return Err(format!("{line}: shell syntax the test cannot run"))
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[test]
fn shell_words_follow_the_shell_quoting() {
    assert_eq!(
        shell_words(r#"segql run 'contact where role = "Employee"' --limit 5"#).expect("splits"),
        [
            "segql",
            "run",
            r#"contact where role = "Employee""#,
            "--limit",
            "5"
        ]
    );
    assert_eq!(
        shell_words(r#"a "b \"c\"" d\ e ''"#).expect("splits"),
        ["a", r#"b "c""#, "d e", ""]
    );
    assert!(shell_words("segql run 'x").is_err());
    assert!(shell_words("segql run x | head").is_err());
}

#[test]
fn every_help_shows_examples_and_every_example_runs() {
    let dir = tempfile::tempdir().expect("scratch directory");
    let made = segql_in(
        dir.path(),
        &[
            "demo".into(),
            "--out".into(),
            "crm.db".into(),
            "--contacts".into(),
            "200".into(),
        ],
    );
    assert_eq!(made.status.code(), Some(0), "demo database");
    // Examples may name the files of `examples/` as the README does.
    std::fs::create_dir(dir.path().join("examples")).expect("examples directory");
    let example_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for entry in std::fs::read_dir(example_dir).expect("examples") {
        let path = entry.expect("entry").path();
        if let Some(name) = path.file_name().filter(|_| path.is_file()) {
            std::fs::copy(&path, dir.path().join("examples").join(name)).expect("copy");
        }
    }

    let top = help_of(dir.path(), None);
    let names = commands(&top);
    assert!(
        names.len() >= 10 && names.iter().any(|n| n == "schema"),
        "commands not found in the help: {names:?}"
    );
    let mut helps = vec![("segql".to_string(), top.clone())];
    for name in &names {
        helps.push((format!("segql {name}"), help_of(dir.path(), Some(name))));
    }

    let mut failures = Vec::new();
    let mut ran = 0;
    for (command, help) in &helps {
        let lines = examples(help);
        if lines.len() < 2 {
            failures.push(format!("{command} --help shows {} examples", lines.len()));
        }
        for line in lines {
            let words = match shell_words(line) {
                Ok(words) => words,
                Err(e) => {
                    failures.push(e);
                    continue;
                }
            };
            let o = segql_in(dir.path(), &words[1..]);
            ran += 1;
            if o.status.code() != Some(0) {
                failures.push(format!(
                    "{line}\n  exit {:?}: {}",
                    o.status.code(),
                    String::from_utf8_lossy(&o.stderr)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran >= 2 * helps.len(), "only {ran} examples ran");
}
