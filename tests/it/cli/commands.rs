//! The command line as a user sees it: exit codes, what goes to stdout and
//! stderr, every command on the built-in demo data.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const NOW: &str = "2026-01-15T12:00:00Z";

fn segql(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(args)
        .env("SEGQL_CACHE_DIR", super::run::test_cache_dir())
        .output()
        .expect("segql runs")
}

fn segql_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(args)
        .env("SEGQL_CACHE_DIR", super::run::test_cache_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("segql runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("segql finishes")
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

#[test]
fn check_accepts_a_valid_query_silently() {
    let o = segql(&[
        "check",
        r#"contact where role = "decision maker" and has lead(topic = "Contoso Ltd Conference")"#,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "");
}

#[test]
fn check_suggests_the_nearest_field_with_a_caret() {
    let o = segql(&["check", r#"contact where rol = "Employee""#]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("unknown field 'rol' on contact"), "{err}");
    assert!(err.contains("did you mean 'role'"), "{err}");
    assert!(err.contains("1:15"), "line:col missing: {err}");
    assert!(
        err.contains('^') || err.contains('─'),
        "no caret/underline: {err}"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let parens = format!("contact where {}true{}", "(".repeat(300), ")".repeat(300));
    let o = segql(&["check", &parens]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("nesting"), "{}", stderr(&o));

    let mut has = String::from("contact where ");
    for _ in 0..150 {
        has.push_str("has lead(has contact(");
    }
    has.push_str("true");
    has.push_str(&"))".repeat(150));
    let o = segql(&["check", &has]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("nesting"), "{}", stderr(&o));
}

#[test]
fn query_comes_from_an_argument_a_file_or_stdin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("q.segql");
    std::fs::write(&file, "contact where rol = 1\n").expect("write");
    let o = segql(&["check", "-f", file.to_str().expect("utf8 path")]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("q.segql"), "{}", stderr(&o));

    let o = segql_stdin(&["check", "-"], "contact where not do_not_email");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn usage_and_io_errors_exit_with_2() {
    assert_eq!(code(&segql(&["check"])), 2);
    assert_eq!(code(&segql(&["frobnicate"])), 2);
    assert_eq!(code(&segql(&["check", "-f", "/nonexistent/q.segql"])), 2);
    let o = segql(&["run", "--db", "/nonexistent/crm.db", "contact"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    let o = segql(&["check", "--schema", "/nonexistent/schema.toml", "contact"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn compile_prints_sql_with_parameters_in_both_dialects() {
    let q = r#"contact where role = "Employee" and city = "Paris""#;
    let o = segql(&["compile", q]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let sql = stdout(&o);
    assert!(sql.contains("SELECT"), "{sql}");
    assert!(sql.contains("?1"), "{sql}");
    let statement = sql.split(';').next().expect("statement");
    assert!(
        !statement.contains("Paris"),
        "literal spliced into the SQL: {sql}"
    );
    assert!(
        sql.contains("-- ?2 = \"Paris\""),
        "parameters listed after the SQL: {sql}"
    );

    let o = segql(&["compile", "--dialect", "postgres", "--format", "json", q]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json output");
    assert!(json["sql"].as_str().expect("sql").contains("$1"));
    let params = json["params"].as_array().expect("params");
    assert!(params.contains(&serde_json::json!("Paris")), "{params:?}");
    assert!(params.contains(&serde_json::json!(2)), "{params:?}");

    let o = segql(&["compile", "--count", q]);
    assert!(
        stdout(&o).to_uppercase().contains("COUNT("),
        "{}",
        stdout(&o)
    );
}

#[test]
fn run_on_the_builtin_demo_agrees_across_engines_and_formats() {
    let q = r#"contact where has lead(status = "Qualified") and not do_not_email"#;
    let sqlite = segql(&["run", "--now", NOW, "--format", "ids", q]);
    assert_eq!(code(&sqlite), 0, "{}", stderr(&sqlite));
    let memory = segql(&[
        "run", "--now", NOW, "--engine", "memory", "--format", "ids", q,
    ]);
    assert_eq!(code(&memory), 0, "{}", stderr(&memory));
    let ids = stdout(&sqlite);
    assert!(
        ids.lines().count() > 0,
        "the demo data should have such contacts"
    );
    assert_eq!(ids, stdout(&memory));
    let mut sorted: Vec<&str> = ids.lines().collect();
    sorted.sort();
    assert_eq!(
        sorted,
        ids.lines().collect::<Vec<_>>(),
        "ids must be ascending"
    );

    let count = segql(&["run", "--now", NOW, "--count", q]);
    assert_eq!(stdout(&count).trim(), ids.lines().count().to_string());

    let json = segql(&["run", "--now", NOW, "--format", "json", "--limit", "3", q]);
    let records: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json records");
    let records = records.as_array().expect("array");
    assert_eq!(records.len(), 3.min(ids.lines().count()));
    assert_eq!(records[0]["id"].as_str(), ids.lines().next());

    let csv = segql(&["run", "--now", NOW, "--format", "csv", "--limit", "2", q]);
    let text = stdout(&csv);
    assert!(text.starts_with("id,first_name,last_name,email"), "{text}");
    assert_eq!(text.lines().count(), 1 + 2.min(ids.lines().count()));

    let table = segql(&["run", "--now", NOW, "--limit", "2", q]);
    assert!(stdout(&table).contains("first_name"), "{}", stdout(&table));
}

#[test]
fn the_email_guard_removes_opted_out_contacts() {
    let all = segql(&["run", "--now", NOW, "--count", "contact"]);
    let guarded = segql(&[
        "run", "--now", NOW, "--count", "--guard", "email", "contact",
    ]);
    let opted_in = segql(&[
        "run",
        "--now",
        NOW,
        "--count",
        "contact where not do_not_email and not do_not_bulk_email",
    ]);
    let all: usize = stdout(&all).trim().parse().expect("count");
    let guarded: usize = stdout(&guarded).trim().parse().expect("count");
    assert_eq!(guarded.to_string(), stdout(&opted_in).trim());
    assert!(guarded < all);
    // A guard is named by a flag, not by the query: a usage error.
    let o = segql(&["run", "--guard", "nosuch", "contact"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown guard"), "{}", stderr(&o));
}

#[test]
fn explain_names_the_rule_that_proves_a_contradiction() {
    let o = segql(&[
        "explain",
        r#"contact where role = "Employee" and role = "Influencer""#,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("Optimized plan"), "{text}");
    assert!(text.contains("Rules fired"), "{text}");
    let optimized = text.split("Optimized plan").nth(1).expect("section");
    assert!(
        optimized
            .lines()
            .nth(1)
            .expect("plan line")
            .contains("false"),
        "{text}"
    );

    // A plan reduced to false is answered without touching the data.
    let o = segql(&[
        "run",
        "--timing",
        "--count",
        r#"contact where role = "Employee" and role = "Influencer""#,
    ]);
    assert_eq!(stdout(&o).trim(), "0");
    assert!(stderr(&o).contains("no scan"), "{}", stderr(&o));
}

#[test]
fn fmt_prints_canonical_text_with_schema_spelling() {
    let o = segql(&[
        "fmt",
        r#"CONTACT WHERE Role = "decision maker"   AND NOT do_not_email"#,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "contact where role = \"Decision Maker\" and not do_not_email\n"
    );
}

#[test]
fn library_segments_can_be_used_with_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lib = dir.path().join("segments.segql");
    std::fs::write(
        &lib,
        "segment reachable = contact where in opted_in and email is not null\n\
         segment opted_in = contact where not do_not_email\n",
    )
    .expect("write");
    let lib = lib.to_str().expect("utf8");
    let via_library = segql(&[
        "run",
        "--library",
        lib,
        "--now",
        NOW,
        "--format",
        "ids",
        "contact where in reachable",
    ]);
    assert_eq!(code(&via_library), 0, "{}", stderr(&via_library));
    let inline = segql(&[
        "run",
        "--now",
        NOW,
        "--format",
        "ids",
        "contact where not do_not_email and email is not null",
    ]);
    assert_eq!(stdout(&via_library), stdout(&inline));

    let o = segql(&["check", "--library", lib, "contact where in reachabel"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("did you mean 'reachable'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn demo_writes_a_database_that_run_reads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("crm.db");
    let db = db.to_str().expect("utf8");
    let o = segql(&[
        "demo",
        "--out",
        db,
        "--contacts",
        "300",
        "--seed",
        "7",
        "--now",
        NOW,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = segql(&["run", "--db", db, "--count", "contact"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let contacts: usize = stdout(&o).trim().parse().expect("count");
    assert!(contacts >= 300, "{contacts}");
}

#[test]
fn shell_evaluates_line_after_line_and_survives_errors() {
    let o = segql_stdin(
        &["shell", "--now", NOW],
        "contact where role = \"Employee\"\ncontact where rol = 1\ncontact where has no lead\n.quit\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    // Each query that runs prints its count first: "N contacts".
    let counts = out
        .lines()
        .filter(|l| {
            l.strip_suffix(" contacts")
                .is_some_and(|n| n.parse::<usize>().is_ok())
        })
        .count();
    assert_eq!(counts, 2, "{out}");
    assert!(stderr(&o).contains("did you mean 'role'"), "{}", stderr(&o));
}
