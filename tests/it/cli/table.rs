//! `segql run`'s output: a table that fits (count first, chosen columns, a
//! screenful, ids and emails whole), JSON keys in column order, `--limit`.

use super::binary::{code, segql_at, stderr, stdout, NOW};

const EMPLOYEES: &str = r#"contact where role = "Employee""#;

fn run(columns: Option<u16>, args: &[&str]) -> (String, String, i32) {
    let mut all = vec!["run", "--now", NOW];
    all.extend_from_slice(args);
    let o = segql_at(columns, &all, "");
    (stdout(&o), stderr(&o), code(&o))
}

fn ids(query: &str) -> Vec<String> {
    let (out, err, status) = run(None, &["--format", "ids", query]);
    assert_eq!(status, 0, "{err}");
    out.lines().map(str::to_string).collect()
}

#[test]
fn the_count_comes_first_then_a_screenful_then_how_many_more() {
    let all = ids(EMPLOYEES);
    assert!(all.len() > 20, "the demo has many employees");
    let (out, err, status) = run(Some(80), &[EMPLOYEES]);
    assert_eq!(status, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("{} contacts", all.len()));
    // Header and rule, then 20 rows.
    let rows: Vec<&str> = lines[3..23].to_vec();
    for (row, id) in rows.iter().zip(&all) {
        assert!(row.starts_with(id.as_str()), "{row} should start with {id}");
    }
    let more = format!("… {} more (--limit N to see more", all.len() - 20);
    let last = lines.last().expect("lines");
    assert!(
        last.starts_with(&more),
        "the last line says how many more: {out}"
    );
}

#[test]
fn at_80_columns_every_line_fits_and_uuids_stay_whole() {
    for query in [EMPLOYEES, "contact", r#"lead where status = "Open""#] {
        let (out, err, status) = run(Some(80), &[query]);
        assert_eq!(status, 0, "{err}");
        for line in out.lines() {
            assert!(line.chars().count() <= 80, "{query}: too wide: {line}");
        }
        let first = ids(query).into_iter().next().expect("some records");
        let row = out.lines().nth(3).expect("a first row");
        let id = row.split_whitespace().next().expect("an id");
        assert_eq!(id, first, "{out}");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
}

#[test]
fn a_wide_terminal_shows_whole_emails_and_a_narrow_one_cuts_only_free_text() {
    let (wide, _, _) = run(Some(200), &["--limit", "3", EMPLOYEES]);
    let header: Vec<&str> = wide
        .lines()
        .nth(1)
        .expect("header")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["id", "first_name", "last_name", "email", "role"]);
    assert!(wide.lines().nth(3).expect("row").contains('@'), "{wide}");

    let (narrow, _, _) = run(
        Some(80),
        &[
            "--limit",
            "50",
            "--columns",
            "id,job_title,email",
            "contact",
        ],
    );
    assert!(narrow.contains('…'), "a long job title is cut: {narrow}");
    let (emails, _, _) = run(
        None,
        &[
            "--format",
            "csv",
            "--limit",
            "50",
            "--columns",
            "email",
            "contact",
        ],
    );
    let rows = narrow.lines().skip(3).take(50);
    for (line, email) in rows.zip(emails.lines().skip(1)) {
        // A lone empty field is written `""` in csv.
        let email = email.trim_matches('"');
        assert!(line.ends_with(email), "{email} is not whole in {line}");
    }
}

#[test]
fn the_table_shows_the_fields_the_query_tests_on_its_entity() {
    let query =
        r#"contact where city = "Paris" and not do_not_email and has lead(status = "Open")"#;
    let (out, err, status) = run(Some(200), &["--limit", "2", query]);
    assert_eq!(status, 0, "{err}");
    let header: Vec<&str> = out
        .lines()
        .nth(1)
        .expect("header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "id",
            "first_name",
            "last_name",
            "email",
            "city",
            "do_not_email"
        ],
        "{out}"
    );
}

#[test]
fn columns_choose_exactly_and_unknown_ones_are_usage_errors() {
    let (out, err, status) = run(
        Some(80),
        &["--limit", "2", "--columns", "email,id,city", EMPLOYEES],
    );
    assert_eq!(status, 0, "{err}");
    let header: Vec<&str> = out
        .lines()
        .nth(1)
        .expect("header")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["email", "id", "city"]);

    let (csv, _, _) = run(
        None,
        &[
            "--format",
            "csv",
            "--limit",
            "1",
            "--columns",
            "id,role",
            EMPLOYEES,
        ],
    );
    assert!(csv.starts_with("id,role\n"), "{csv}");
    assert!(
        csv.lines().nth(1).expect("row").ends_with(",Employee"),
        "{csv}"
    );

    let (out, err, status) = run(None, &["--columns", "id,emial", EMPLOYEES]);
    assert_eq!(status, 2);
    assert_eq!(out, "");
    assert!(
        err.contains("unknown column 'emial' of contact; did you mean 'email'?"),
        "{err}"
    );
    assert!(
        err.contains("valid columns: id, first_name, last_name, email"),
        "{err}"
    );
}

#[test]
fn other_formats_print_every_record_unless_limited() {
    let all = ids(EMPLOYEES);
    let (csv, _, _) = run(None, &["--format", "csv", EMPLOYEES]);
    assert_eq!(csv.lines().count(), all.len() + 1);
    let (limited, _, _) = run(None, &["--format", "ids", "--limit", "4", EMPLOYEES]);
    assert_eq!(limited.lines().collect::<Vec<_>>(), all[..4]);
    let (table, _, _) = run(None, &["--limit", "0", EMPLOYEES]);
    assert!(table.contains(&format!("… {} more", all.len())), "{table}");
}

#[test]
fn json_keys_come_in_column_order_with_the_id_first() {
    let (out, err, status) = run(None, &["--format", "json", "--limit", "1", "lead"]);
    assert_eq!(status, 0, "{err}");
    let keys: Vec<&str> = out
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix('"')?
                .split_once("\":")
                .map(|(k, _)| k)
        })
        .collect();
    let schema = segql::schema::crm_schema();
    let lead = schema.entity("lead").expect("lead");
    let expected: Vec<&str> = lead.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(keys, expected);
    assert_eq!(keys[0], "id");

    let (chosen, _, _) = run(
        None,
        &[
            "--format",
            "json",
            "--limit",
            "1",
            "--columns",
            "score,id",
            "lead",
        ],
    );
    let record: serde_json::Value = serde_json::from_str(&chosen).expect("json");
    assert_eq!(record[0].as_object().expect("object").len(), 2);
    assert!(chosen.find("\"score\"") < chosen.find("\"id\""), "{chosen}");
}

#[test]
fn a_negative_limit_is_refused_plainly() {
    for bad in ["-1", "x", "1.5"] {
        let (out, err, status) = run(None, &["--limit", bad, "contact"]);
        assert_eq!(status, 2, "{bad}");
        assert_eq!(out, "");
        assert!(err.contains("--limit must be a whole number ≥ 0"), "{err}");
        assert!(!err.contains("-- -1"), "{err}");
    }
}

#[test]
fn an_empty_result_is_just_its_count() {
    let (out, _, status) = run(Some(80), &["contact where false"]);
    assert_eq!(status, 0);
    assert_eq!(out, "0 contacts\n");
}

#[test]
fn a_table_at_80_columns_looks_like_this() {
    let query = r#"contact where city = "Paris" and role = "Decision Maker""#;
    let (out, err, status) = run(Some(80), &["--limit", "5", query]);
    assert_eq!(status, 0, "{err}");
    insta::assert_snapshot!(out);
}
