//! `segql check --models` and `segql fmt` on scoring model files (SPEC 6):
//! exit codes, silence when fine, every error with its file, line and caret.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn segql(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(args)
        .output()
        .expect("segql runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/scoring.segql")
}

/// `text` in a fresh file named `name`; the directory lives as long as the
/// returned guard.
fn file_with(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write the model file");
    (dir, path)
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[test]
fn the_example_model_file_checks_silently() {
    let o = segql(&["check", "--models", arg(&example())]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "");
    // Given as the input file, it is recognised as a model file.
    let o = segql(&["check", "-f", arg(&example())]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

#[test]
fn the_example_model_file_formats_to_a_fixed_point() {
    let o = segql(&["fmt", "-f", arg(&example())]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let formatted = stdout(&o);
    // Its comments are kept: the header first, each model's heading above it.
    assert!(formatted.starts_with("# Scoring models for the demo data"));
    assert!(formatted.contains(
        "\n\n# Engagement: what the lead's contact did lately, and how the lead came in.\n\
         model engagement on lead {\n  sales ready at 40\n"
    ));
    let (_dir, path) = file_with("formatted.segql", &formatted);
    let again = segql(&["fmt", "-f", arg(&path)]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(stdout(&again), formatted);
    let o = segql(&["check", "--models", arg(&path)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn every_model_error_is_reported_with_file_line_and_caret() {
    let text = "model engagement on lead {\n  add -5 if sorce = \"Trade Show\"\n}\n\
                model ENGAGEMENT on contact {\n  sales ready at 1\n}\n";
    let (_dir, path) = file_with("bad.segql", text);
    let o = segql(&["check", "--models", arg(&path)]);
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    for expected in [
        "error[missing threshold]: model 'engagement' has no `sales ready at` threshold",
        "bad.segql:1:7",
        "write `subtract 5` instead of `add -5`",
        "bad.segql:2:7",
        "unknown field 'sorce' on lead; did you mean 'source'?",
        "bad.segql:2:13",
        "model 'ENGAGEMENT' is defined twice",
        "bad.segql:4:7",
        "model 'ENGAGEMENT' is on contact, which cannot be scored",
        "write `on lead`",
        "5 errors",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    // The caret line under `sorce`.
    assert!(err.contains("──┬──"), "{err}");
}

#[test]
fn a_syntax_error_in_a_model_file_points_into_it() {
    let (_dir, path) = file_with("broken.segql", "model m on lead {\n  add 2.5 if x\n}\n");
    for args in [
        vec!["check", "--models", arg(&path)],
        vec!["fmt", "-f", arg(&path)],
    ] {
        let o = segql(&args);
        assert_eq!(code(&o), 1, "{args:?}");
        let err = stderr(&o);
        assert!(err.contains("expected a whole number"), "{err}");
        assert!(err.contains("broken.segql:2:7"), "{err}");
    }
}

#[test]
fn models_is_an_alternative_to_a_query_and_its_file_must_exist() {
    let o = segql(&["check", "--models", "/no/such/models.segql"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot read /no/such/models.segql"));
    let o = segql(&["check", "--models", arg(&example()), "contact"]);
    assert_eq!(
        code(&o),
        2,
        "--models and a query together are a usage error"
    );
    let o = segql(&["check"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn a_query_on_an_entity_called_model_is_still_a_query() {
    let o = segql(&["check", "model where x = 1"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("unknown entity 'model'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn warnings_in_rules_are_printed_but_do_not_fail_the_check() {
    let text =
        "model m on lead {\n  sales ready at 1\n  add 1 if estimated_value between 100 and 10\n}\n";
    let (_dir, path) = file_with("warn.segql", text);
    let o = segql(&["check", "--models", arg(&path)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("matches no record"), "{err}");
    assert!(err.contains("warn.segql:3:36"), "{err}");
    let quiet = segql(&["check", "--quiet", "--models", arg(&path)]);
    assert_eq!(code(&quiet), 0);
    assert_eq!(stderr(&quiet), "");
}
