//! `segql shell` driven through standard input (not a terminal: no prompts,
//! no history, the same entries as typed): multi-line queries, dot-commands,
//! results printed as `run` prints them.

use super::binary::{code, segql_at, stderr, stdout, NOW};

fn shell(input: &str) -> (String, String) {
    let o = segql_at(Some(80), &["shell", "--now", NOW], input);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    (stdout(&o), stderr(&o))
}

/// Lines of the form `N contacts`: one per query that ran.
fn counts(out: &str) -> Vec<usize> {
    out.lines()
        .filter_map(|l| l.strip_suffix(" contacts")?.parse().ok())
        .collect()
}

fn run_count(query: &str) -> usize {
    let o = segql_at(None, &["run", "--now", NOW, "--count", query], "");
    stdout(&o).trim().parse().expect("a count")
}

#[test]
fn a_query_pasted_over_two_lines_runs_once() {
    let (out, err) = shell("contact where role = \"Employee\" and\n  city = \"Paris\"\n");
    let expected = run_count(r#"contact where role = "Employee" and city = "Paris""#);
    assert_eq!(counts(&out), [expected], "{out}{err}");
    assert!(!err.contains("error"), "{err}");

    let (out, _) = shell("contact where has lead(\n  status = \"Open\"\n)\n.quit\n");
    assert_eq!(
        counts(&out),
        [run_count(r#"contact where has lead(status = "Open")"#)]
    );
}

#[test]
fn results_are_run_s_table() {
    let query = r#"contact where city = "Paris""#;
    let (out, _) = shell(&format!("{query}\n"));
    let run = segql_at(Some(80), &["run", "--now", NOW, query], "");
    // The same lines, up to the hint that names the shell's own commands.
    let table = |text: &str| -> Vec<String> {
        text.lines()
            .take_while(|l| !l.starts_with('…') && !l.starts_with('('))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(table(&out), table(&stdout(&run)));
    assert!(
        out.contains("more (.limit N to see more, .format ids or csv for all)"),
        "{out}"
    );
}

#[test]
fn help_lists_the_dot_commands() {
    let (out, _) = shell(".help\n");
    for command in [
        ".schema", ".format", ".columns", ".limit", ".timing", ".quit",
    ] {
        assert!(out.contains(command), "{command} missing from {out}");
    }
    assert!(!out.contains("loaded in"), "the banner is not help: {out}");
}

#[test]
fn format_columns_and_limit_change_what_is_printed() {
    let (out, _) = shell(".format ids\n.limit 3\ncontact\n");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines.iter().all(|l| uuid::Uuid::parse_str(l).is_ok()),
        "{out}"
    );

    let (out, _) = shell(".columns email,id\n.limit 2\ncontact\n.columns\ncontact\n");
    let headers: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with("email") || l.starts_with("id "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(headers[0], ["email", "id"], "{out}");
    assert_eq!(headers[1], ["id", "first_name", "last_name"], "{out}");
}

#[test]
fn an_unknown_dot_command_is_an_error_never_a_query() {
    let (out, err) = shell(".fromat table\n.format xml\ncontact where false\n");
    assert!(
        err.contains("unknown command '.fromat'; did you mean '.format'?"),
        "{err}"
    );
    assert!(err.contains("commands: .help, .schema"), "{err}");
    assert!(err.contains("table, ids, json or csv"), "{err}");
    assert!(!err.contains("expected an entity name"), "{err}");
    assert_eq!(out, "0 contacts\n");
}

#[test]
fn quit_stops_reading() {
    let (out, _) = shell("contact where false\n.quit\ncontact\n");
    assert_eq!(counts(&out), [0]);
    let (out, _) = shell("contact where false\n.exit\ncontact\n");
    assert_eq!(counts(&out), [0]);
}

#[test]
fn schema_lists_entities_and_fields() {
    let (out, err) = shell(".schema\n.schema lead\n.schema leed\n");
    // The same description as `segql schema [ENTITY]`.
    assert!(out.contains("contact       key id, 17 fields"), "{out}");
    assert!(
        out.contains("\"Open\", \"Qualified\", \"Disqualified\""),
        "{out}"
    );
    assert!(
        err.contains("unknown entity 'leed'; did you mean 'lead'?"),
        "{err}"
    );
}

#[test]
fn query_errors_are_reported_and_the_shell_goes_on() {
    let (out, err) = shell("contact where rol = 1\ncontact where (\ncontact where false\n");
    assert!(err.contains("did you mean 'role'"), "{err}");
    // The unclosed parenthesis swallows the next line; the parser then says so.
    assert!(counts(&out).is_empty(), "{out}");
    assert!(err.matches("error").count() >= 2, "{err}");
}

#[test]
fn the_first_settings_come_from_the_flags() {
    let o = segql_at(
        Some(80),
        &[
            "shell",
            "--now",
            NOW,
            "--format",
            "csv",
            "--columns",
            "id,city",
            "--show",
            "2",
        ],
        "contact where city = \"Paris\"\n.format\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "id,city");
    assert!(
        lines[1].ends_with(",Paris") && lines[2].ends_with(",Paris"),
        "{out}"
    );
    assert_eq!(lines[3], "format csv, columns id,city, limit 2, timing on");
}
