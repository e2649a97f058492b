//! What a new analyst meets in the first hour: no silent demo data, library
//! errors with places, a `demo` that keeps other files, and the small
//! things (bare `--set` text, connection errors with their cause, guard
//! usage errors, warnings for `between` written backwards).

use std::path::Path;
use std::process::Output;

use super::binary::{code, segql_at, stderr, stdout, NOW};

fn segql(args: &[&str]) -> Output {
    segql_at(None, args, "")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

#[test]
fn without_db_one_line_says_the_demo_data_is_used() {
    let o = segql(&["run", "--now", NOW, "--count", "contact"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "2000");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("built-in demo data"), "{err}");
    assert!(err.contains("--db"), "{err}");

    let quiet = segql(&["run", "--quiet", "--now", NOW, "--count", "contact"]);
    assert_eq!(code(&quiet), 0);
    assert_eq!(stdout(&quiet), stdout(&o));
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn with_db_there_is_no_demo_note() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("crm.db");
    let made = segql(&["demo", "--out", path_str(&db), "--contacts", "50"]);
    assert_eq!(code(&made), 0, "{}", stderr(&made));
    let o = segql(&["run", "--db", path_str(&db), "--count", "contact"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "50");
    assert_eq!(stderr(&o), "");
}

const LIBRARY: &str = "# segments of the spring campaign\n\
                       segment broken = contact where rol = \"Employee\"\n\
                       segment uses_broken = contact where in broken\n\
                       segment employees = contact where role = \"Employee\"\n";

#[test]
fn a_library_checked_as_a_file_has_places_and_carets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lib = dir.path().join("spring.segql");
    std::fs::write(&lib, LIBRARY).expect("write library");
    let o = segql(&["check", "-f", path_str(&lib)]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("spring.segql:2:"),
        "no file:line:col in\n{err}"
    );
    assert!(err.contains("did you mean 'role'?"), "{err}");
    assert!(
        err.contains("│ segment broken = contact where rol"),
        "no source line in\n{err}"
    );
    assert!(err.contains("┬"), "no caret in\n{err}");
    // The segment that uses the broken one is named as broken too.
    assert!(err.contains("segment 'broken' does not check"), "{err}");
}

#[test]
fn a_broken_segment_fails_only_the_queries_that_use_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lib = dir.path().join("spring.segql");
    std::fs::write(&lib, LIBRARY).expect("write library");
    let lib = path_str(&lib);

    let fine = segql(&[
        "run",
        "-q",
        "--now",
        NOW,
        "--library",
        lib,
        "--count",
        "contact where in employees",
    ]);
    assert_eq!(code(&fine), 0, "{}", stderr(&fine));
    let direct = segql(&[
        "run",
        "-q",
        "--now",
        NOW,
        "--count",
        "contact where role = \"Employee\"",
    ]);
    assert_eq!(stdout(&fine), stdout(&direct));

    let broken = segql(&[
        "run",
        "-q",
        "--now",
        NOW,
        "--library",
        lib,
        "contact where in uses_broken",
    ]);
    assert_eq!(code(&broken), 1);
    let err = stderr(&broken);
    assert!(
        err.contains("segment 'uses_broken' does not check"),
        "{err}"
    );
    assert!(err.contains("segment 'broken' does not check"), "{err}");
    // The error inside the definition, at its place in the library file.
    assert!(err.contains("unknown field 'rol' on contact"), "{err}");
    assert!(err.contains("spring.segql:2:"), "{err}");
}

#[test]
fn demo_keeps_files_that_are_not_demo_databases() {
    let dir = tempfile::tempdir().expect("temp dir");
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "call Contoso on Monday\n").expect("write notes");
    let o = segql(&["demo", "--out", path_str(&notes), "--contacts", "10"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("is not a segql demo database"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&notes).expect("notes"),
        "call Contoso on Monday\n"
    );
    // A directory is refused too.
    let o = segql(&["demo", "--out", path_str(dir.path()), "--contacts", "10"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));

    let forced = segql(&[
        "demo",
        "--out",
        path_str(&notes),
        "--contacts",
        "10",
        "--force",
    ]);
    assert_eq!(code(&forced), 0, "{}", stderr(&forced));
    let count = segql(&["run", "--db", path_str(&notes), "--count", "contact"]);
    assert_eq!(stdout(&count).trim(), "10");
}

#[test]
fn demo_replaces_its_own_databases_and_repeats_itself() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = dir.path().join("first.db");
    let second = dir.path().join("second.db");
    let o = segql(&["demo", "--out", path_str(&first), "--contacts", "30"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // The fixed reference time is printed, so the data can be queried as of it.
    assert!(
        stdout(&o).contains("reference time 2026-01-15T12:00:00Z"),
        "{}",
        stdout(&o)
    );
    let o = segql(&["demo", "--out", path_str(&second), "--contacts", "30"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&first).expect("first"),
        std::fs::read(&second).expect("second"),
        "two runs without --now differ"
    );
    // Its own database is replaced without --force.
    let o = segql(&["demo", "--out", path_str(&first), "--contacts", "40"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let count = segql(&["run", "--db", path_str(&first), "--count", "contact"]);
    assert_eq!(stdout(&count).trim(), "40");
    // --now still changes the data.
    let o = segql(&[
        "demo",
        "--out",
        path_str(&second),
        "--contacts",
        "30",
        "--now",
        "2025-06-01T00:00:00Z",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("reference time 2025-06-01T00:00:00Z"));
}

#[test]
fn set_takes_labels_whose_quotes_the_shell_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("crm.db");
    let db = path_str(&db);
    assert_eq!(code(&segql(&["demo", "--out", db, "--contacts", "60"])), 0);
    let query = "contact where role = \"Employee\"";
    let employees = segql(&["run", "--db", db, "--count", query]);
    // What `--set role="Decision Maker"` becomes after a POSIX shell.
    let o = segql(&["update", "--db", db, "--set", "role=Decision Maker", query]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let changed = format!("changed {} of", stdout(&employees).trim());
    assert!(stdout(&o).starts_with(&changed), "{}", stdout(&o));
    let left = segql(&["run", "--db", db, "--count", query]);
    assert_eq!(stdout(&left).trim(), "0");
}

#[test]
fn an_update_without_condition_says_it_touches_every_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("crm.db");
    let db = path_str(&db);
    assert_eq!(code(&segql(&["demo", "--out", db, "--contacts", "20"])), 0);
    let o = segql(&[
        "update",
        "--db",
        db,
        "--dry-run",
        "--set",
        "marketing_only=false",
        "contact",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("no condition"), "{}", stderr(&o));
    let o = segql(&[
        "update",
        "--db",
        db,
        "--dry-run",
        "--set",
        "marketing_only=false",
        "contact where city = \"Paris\"",
    ]);
    assert_eq!(stderr(&o), "");
}

#[test]
fn a_failed_postgres_connection_says_why_and_hides_the_password() {
    // Port 1 on the loopback: nothing listens there, the connection is refused.
    let o = segql(&[
        "run",
        "--db",
        "postgresql://ann:s3cret@127.0.0.1:1/crm",
        "contact",
    ]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("cannot connect to PostgreSQL"), "{err}");
    assert!(err.to_lowercase().contains("refused"), "no cause in: {err}");
    assert!(!err.contains("s3cret"), "password leaked: {err}");
    assert!(err.contains("ann:***@127.0.0.1:1"), "{err}");
}

#[test]
fn an_unknown_guard_is_a_usage_error() {
    let o = segql(&["run", "-q", "--guard", "emial", "contact"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did you mean 'email'?"),
        "{}",
        stderr(&o)
    );
    let o = segql(&["compile", "--guard", "emial", "contact"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn between_written_backwards_is_warned_about() {
    let query = "contact where birth_date between 1999-12-31 and 1980-01-01";
    let o = segql(&["check", query]);
    assert_eq!(code(&o), 0, "a warning is not an error");
    let err = stderr(&o);
    assert!(err.contains("matches no record"), "{err}");
    assert!(err.contains("between 1980-01-01 and 1999-12-31"), "{err}");
    let o = segql(&["run", "--quiet", "--now", NOW, "--count", query]);
    assert_eq!(stdout(&o).trim(), "0");
    assert_eq!(stderr(&o), "");
    // In the right order, nothing to say.
    let o = segql(&[
        "check",
        "contact where birth_date between 1980-01-01 and 1999-12-31",
    ]);
    assert_eq!(stderr(&o), "");
    // Ordered labels are compared in their order, `not between` too.
    let o = segql(&[
        "check",
        "contact where consent_level not between \"Subscriptions\" and \"Consent Given\"",
    ]);
    assert!(
        stderr(&o).contains("matches every record"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn now_on_a_date_field_suggests_today() {
    let o = segql(&["check", "contact where birth_date >= now - 1w"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("write today - 1w"), "{}", stderr(&o));
}

#[test]
fn the_shell_says_so_too_unless_quiet() {
    let shell = |extra: &[&str]| {
        let mut args = vec!["shell", "--now", NOW];
        args.extend_from_slice(extra);
        segql_at(None, &args, ".quit\n")
    };
    let o = shell(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("built-in demo data"), "{}", stderr(&o));
    let o = shell(&["--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stderr(&o).contains("built-in demo data"), "{}", stderr(&o));
}
