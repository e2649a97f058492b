//! The documents' file lists cannot rot: every repository path written in
//! backticks in `ARCHITECTURE.md` and `README.md` (`src/…`, `tests/…`,
//! `grammar/…`, `benches/…`, `examples/…`, `scripts/…`) must exist.

use std::path::Path;

/// Where repository paths start.
const ROOTS: [&str; 6] = [
    "src/",
    "tests/",
    "grammar/",
    "benches/",
    "examples/",
    "scripts/",
];

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
    for doc in ["ARCHITECTURE.md", "README.md"] {
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
