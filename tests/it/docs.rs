//! The documents cannot rot: every repository path written in backticks in
//! `ARCHITECTURE.md`, `README.md` and `docs/language.md` (`src/…`, `tests/…`,
//! `grammar/…`, `benches/…`, `examples/…`, `scripts/…`, `docs/…`) must
//! exist, and every example query of the language reference must check
//! (those marked as errors must not).

use std::path::Path;

use segql::schema::crm_schema;
use segql::syntax::{parse_library, parse_query};

/// Where repository paths start.
const ROOTS: [&str; 7] = [
    "src/",
    "tests/",
    "grammar/",
    "benches/",
    "examples/",
    "scripts/",
    "docs/",
];

/// The documents whose paths are checked.
const DOCUMENTS: [&str; 3] = ["ARCHITECTURE.md", "README.md", "docs/language.md"];

/// The backticked spans of `text` that name a repository path. A span may
/// end in `/` (a directory) or hold `*` (a file pattern: its directory must
/// exist).
fn repository_paths(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| ROOTS.iter().any(|root| span.starts_with(root)))
        .filter(|span| !span.contains(char::is_whitespace))
        .collect()
}

#[test]
fn paths_in_the_documents_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    let mut checked = 0;
    for doc in DOCUMENTS {
        let text = std::fs::read_to_string(root.join(doc)).expect("document readable");
        for path in repository_paths(&text) {
            // A pattern stands for files in the directory before its `*`.
            let existing = match path.find('*') {
                Some(star) => &path[..path[..star].rfind('/').map_or(0, |slash| slash + 1)],
                None => path,
            };
            if !root.join(existing).exists() {
                missing.push(format!("{doc}: `{path}`"));
            }
            checked += 1;
        }
    }
    assert!(
        missing.is_empty(),
        "paths that do not exist:\n{}",
        missing.join("\n")
    );
    assert!(
        checked >= 5,
        "only {checked} paths found: is the extraction broken?"
    );
}

#[test]
fn backticked_paths_are_found() {
    let text = "see `src/lib.rs` and `tests/queries/*.segql`, not `segql run` or `a/b`";
    assert_eq!(
        repository_paths(text),
        ["src/lib.rs", "tests/queries/*.segql"]
    );
}

/// The paragraphs (separated by blank lines) of the fenced blocks of `text`
/// whose info string is exactly `tag`: one query or library each.
fn examples(text: &str, tag: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut inside = false;
    let mut paragraph = String::new();
    for line in text.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (inside, fence) {
            (false, Some(info)) if info.trim() == tag => inside = true,
            (true, Some(_)) => {
                inside = false;
                found.extend(take_paragraph(&mut paragraph));
            }
            (true, None) if line.trim().is_empty() => {
                found.extend(take_paragraph(&mut paragraph));
            }
            (true, None) => {
                paragraph.push_str(line);
                paragraph.push('\n');
            }
            (false, _) => {}
        }
    }
    found
}

fn take_paragraph(paragraph: &mut String) -> Option<String> {
    let text = std::mem::take(paragraph);
    // A paragraph of comments alone is no query.
    let code = text
        .lines()
        .any(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'));
    code.then_some(text)
}

/// Whether an example is a library (its first word is `segment`).
fn is_library(text: &str) -> bool {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .find(|line| !line.is_empty())
        .is_some_and(|line| line.to_lowercase().starts_with("segment "))
}

/// The language reference's examples: the libraries check, every query
/// checks against the built-in schema and those libraries (and compiles to
/// SQL), and every query shown as an error fails to check.
#[test]
fn language_reference_examples_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docs/language.md")).expect("docs/language.md");
    let schema = crm_schema();

    let valid = examples(&text, "segql");
    let (libraries, queries): (Vec<String>, Vec<String>) =
        valid.into_iter().partition(|e| is_library(e));
    let library_text = libraries.concat();
    let library = parse_library(&library_text).expect("the reference's library parses");
    segql::check::check_library(&library, &schema).expect("the reference's library checks");

    let options = segql::Options {
        library: Some(&library),
        optimize: false,
        ..segql::Options::new(&schema)
    };
    let mut failures = Vec::new();
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-15T12:00:00Z")
        .expect("reference time")
        .to_utc();
    for query in &queries {
        let checked = parse_query(query).and_then(|q| segql::check::check(&q, &options));
        if let Err(e) = checked {
            failures.push(format!("{query}  -> {e}"));
            continue;
        }
        // What checks also compiles, optimized, for a database.
        let optimized = segql::Options {
            optimize: true,
            ..options
        };
        if let Err(e) = segql::compile(query, &optimized, &segql::sql::Sqlite, now) {
            failures.push(format!("{query}  -> does not compile: {e}"));
        }
    }
    let errors = examples(&text, "segql-error");
    for query in &errors {
        let checked = parse_query(query).and_then(|q| segql::check::check(&q, &options));
        if checked.is_ok() {
            failures.push(format!("{query}  -> checks, but is shown as an error"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        queries.len() >= 40 && errors.len() >= 5 && !libraries.is_empty(),
        "only {} queries, {} errors and {} libraries found: is the extraction broken?",
        queries.len(),
        errors.len(),
        libraries.len()
    );
}

#[test]
fn examples_are_the_paragraphs_of_tagged_blocks() {
    let text = "intro\n```segql\na\nb\n\n# only a comment\n\nc\n```\n```text\nd\n```\n```segql-error\ne\n```\n";
    assert_eq!(examples(text, "segql"), ["a\nb\n", "c\n"]);
    assert_eq!(examples(text, "segql-error"), ["e\n"]);
    assert!(is_library("# defs\nsegment a = contact"));
    assert!(!is_library("contact where in a"));
}
