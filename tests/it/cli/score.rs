//! `segql score` from the command line (SPEC 6): the table and JSON
//! reports, `--dry-run`, a second run that says nothing changed,
//! `--explain LEAD_ID`, and the exit codes of bad models, bad ids and a
//! missing database.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::run::{code, demo, segql, stderr, stdout};

const NOW: &str = "2025-06-01T12:00:00Z";

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/scoring.segql")
        .to_str()
        .expect("a UTF-8 path")
        .to_string()
}

fn score(db: &str, extra: &[&str]) -> Output {
    let models = example();
    let mut args = vec!["score", "--db", db, "--models", &models, "--now", NOW];
    args.extend_from_slice(extra);
    segql(&args)
}

fn ok(o: &Output) -> String {
    assert_eq!(code(o), 0, "{}", stderr(o));
    stdout(o)
}

/// The number after `label` on its line of a table report.
fn number(report: &str, label: &str) -> u64 {
    let line = report
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no '{label}' in:\n{report}"));
    line[label.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number on '{line}'"))
}

fn lead_score_rows(db: &str) -> Vec<(String, String, i64, Option<String>, bool)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT lead_id, model, score, grade, sales_ready FROM lead_score ORDER BY 1, 2")
        .unwrap();
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn has_lead_score(db: &str) -> bool {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name = 'lead_score'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        == 1
}

#[test]
fn the_table_report_gives_every_number_and_a_second_run_says_nothing_changed() {
    let (_dir, db) = demo();
    let report = ok(&score(&db, &[]));
    let scored = number(&report, "leads scored:");
    let no_contact = number(&report, "skipped, no contact:");
    let closed = number(&report, "skipped, closed:");
    let newly = number(&report, "newly sales-ready:");
    let no_longer = number(&report, "no longer sales-ready:");
    assert!(scored > 0 && no_contact > 0 && closed > 0, "{report}");
    assert!(newly > 0 && no_longer > 0, "{report}");
    assert!(report.contains("run link-orphans"), "{report}");
    // The count per grade of each model, summing to the leads scored.
    for (model, labels) in [
        ("engagement", &["A", "B", "C", "D"][..]),
        ("fit", &["good", "fair", "no grade"][..]),
    ] {
        let line = report
            .lines()
            .find(|l| l.starts_with(&format!("model {model}: ")))
            .unwrap_or_else(|| panic!("no model {model} in:\n{report}"));
        let grades = line.split("; ").nth(1).unwrap();
        let mut total = 0;
        for label in labels {
            let count: u64 = grades
                .split(", ")
                .find_map(|g| g.strip_prefix(&format!("{label} ")))
                .unwrap_or_else(|| panic!("no grade {label} on '{line}'"))
                .parse()
                .unwrap();
            total += count;
        }
        assert_eq!(total, scored, "{line}");
        assert!(line.contains(" sales-ready; "), "{line}");
    }
    let rows = 2 * scored;
    assert!(
        report.contains(&format!("wrote {rows} lead_score rows, updated ")),
        "{report}"
    );
    assert_eq!(lead_score_rows(&db).len() as u64, rows);

    let again = ok(&score(&db, &[]));
    assert!(
        again.contains("nothing changed: every score was already up to date"),
        "{again}"
    );
    assert_eq!(number(&again, "leads scored:"), scored);
    assert_eq!(number(&again, "newly sales-ready:"), 0);
    assert_eq!(number(&again, "no longer sales-ready:"), 0);
    assert!(!again.contains("wrote"), "{again}");
}

#[test]
fn the_json_report_carries_the_format_and_every_number() {
    let (_dir, db) = demo();
    let out = ok(&score(&db, &["--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["format"], 1);
    assert_eq!(json["dry_run"], false);
    for key in [
        "scored",
        "skipped_no_contact",
        "skipped_closed",
        "newly_sales_ready",
        "no_longer_sales_ready",
        "rows_written",
        "leads_updated",
    ] {
        assert!(json[key].is_u64(), "{key}: {out}");
    }
    let scored = json["scored"].as_u64().unwrap();
    assert_eq!(json["rows_written"].as_u64().unwrap(), 2 * scored);
    let models = json["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!(models[0]["name"], "engagement");
    for model in models {
        let sum: u64 = model["grades"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["leads"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, scored, "{model}");
    }
    // The same run again, with the memory engine: nothing to write.
    let again = ok(&score(&db, &["--format", "json", "--engine", "memory"]));
    let again: serde_json::Value = serde_json::from_str(&again).expect("JSON");
    assert_eq!(again["rows_written"], 0);
    assert_eq!(again["leads_updated"], 0);
    assert_eq!(again["models"], json["models"]);
}

#[test]
fn a_dry_run_reports_and_writes_nothing() {
    let (dir, db) = demo();
    let before = std::fs::read(&db).unwrap();
    let dry = ok(&score(&db, &["--dry-run"]));
    assert!(dry.starts_with("dry run: nothing was written\n"), "{dry}");
    assert!(dry.contains("would write "), "{dry}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file changed");
    assert!(!has_lead_score(&db));

    let json = ok(&score(&db, &["--dry-run", "--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["dry_run"], true);
    assert_eq!(std::fs::read(&db).unwrap(), before);

    // The real run reports what the dry run said it would.
    let real = ok(&score(&db, &[]));
    let expected = dry
        .trim_start_matches("dry run: nothing was written\n")
        .replace("would write ", "wrote ");
    assert_eq!(real, expected);
    drop(dir);
}

/// A scored lead's id, and the lead without a contact.
fn leads(db: &str) -> (String, String) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let one = |sql: &str| -> String { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    (
        one(
            "SELECT l.id FROM lead AS l JOIN contact AS c ON c.id = l.contact_id \
             WHERE l.status IS NULL OR l.status = 0 ORDER BY l.id LIMIT 1",
        ),
        one("SELECT id FROM lead WHERE contact_id IS NULL ORDER BY id LIMIT 1"),
    )
}

#[test]
fn explain_shows_each_rule_with_count_and_points_the_total_grade_and_threshold() {
    let (_dir, db) = demo();
    ok(&score(&db, &[]));
    let (lead, orphan) = leads(&db);
    let out = ok(&score(&db, &["--explain", &lead]));
    assert!(out.starts_with(&format!("lead {lead}\n")), "{out}");
    let models = std::fs::read_to_string(example()).unwrap();
    // Every rule of the file, as written, with its count and points.
    let rules: Vec<&str> = models
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("add ") || l.starts_with("subtract "))
        .collect();
    assert_eq!(rules.len(), 11);
    for rule in &rules {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(rule))
            .unwrap_or_else(|| panic!("no rule '{rule}' in:\n{out}"));
        assert!(line.contains(" count "), "{line}");
        assert!(line.contains(" points "), "{line}");
    }
    for expected in [
        "model engagement",
        "model fit",
        "sales ready at 40: ",
        "sales ready at 50: ",
        "(limited to 0..=100)",
        "(at least 0)",
    ] {
        assert!(out.contains(expected), "no '{expected}' in:\n{out}");
    }
    assert_eq!(out.matches("  total ").count(), 2, "{out}");
    assert_eq!(out.matches("  grade ").count(), 2, "{out}");

    // The JSON form agrees with what scoring wrote for that lead.
    let json = ok(&score(&db, &["--explain", &lead, "--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["format"], 1);
    assert_eq!(json["scored"], "yes");
    let rows = lead_score_rows(&db);
    for model in json["models"].as_array().unwrap() {
        let name = model["model"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r.0 == lead && r.1 == name)
            .unwrap_or_else(|| panic!("no row of {name}"));
        assert_eq!(model["score"].as_i64(), Some(row.2), "{name}");
        assert_eq!(model["grade"].as_str(), row.3.as_deref(), "{name}");
        assert_eq!(model["sales_ready"].as_bool(), Some(row.4), "{name}");
        let points: i64 = model["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["points"].as_i64().unwrap())
            .sum();
        assert_eq!(model["total"].as_i64(), Some(points), "{name}");
        // Same in the table form.
        assert!(
            out.contains(&format!(
                "  total {points}, score {}",
                model["score"].as_i64().unwrap()
            )),
            "{out}"
        );
    }
    // The memory engine explains the same.
    let memory = ok(&score(&db, &["--explain", &lead, "--engine", "memory"]));
    assert_eq!(memory, out);

    // A lead scoring leaves alone is explained, with a note.
    let out = ok(&score(&db, &["--explain", &orphan]));
    assert!(
        out.contains("it has no contact (run link-orphans first)"),
        "{out}"
    );
}

#[test]
fn explain_of_an_unknown_or_malformed_id_is_a_clear_error() {
    let (_dir, db) = demo();
    let unknown = "00000000-0000-4000-8000-000000000000";
    let o = score(&db, &["--explain", unknown]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("no lead has the id {unknown}")),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "");

    let o = score(&db, &["--explain", "lead-42"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--explain takes a lead id (a uuid), not 'lead-42'"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "");
    assert!(!has_lead_score(&db));
}

#[test]
fn a_model_file_with_errors_exits_1_with_file_line_column_and_caret() {
    let (dir, db) = demo();
    let path: PathBuf = dir.path().join("bad.segql");
    std::fs::write(
        &path,
        "model m on lead {\n  sales ready at 10\n  add 5 if sorce = \"Web\"\n}\n",
    )
    .unwrap();
    let before = std::fs::read(&db).unwrap();
    let o = segql(&[
        "score",
        "--db",
        &db,
        "--models",
        path.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("unknown field 'sorce' on lead"), "{err}");
    assert!(err.contains("did you mean 'source'?"), "{err}");
    assert!(err.contains("bad.segql:3:12"), "{err}");
    assert!(err.contains("add 5 if sorce = \"Web\""), "{err}");
    // The mark under the span: the line after the source line.
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("add 5 if sorce"))
        .unwrap();
    assert!(
        lines[at + 1].contains("─┬─") || lines[at + 1].contains('^'),
        "{err}"
    );
    assert_eq!(stdout(&o), "");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn a_missing_database_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let o = score(missing.to_str().unwrap(), &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(!missing.exists(), "a missing --db file was created");
    // A missing model file too.
    let (_dir, db) = demo();
    let o = segql(&["score", "--db", &db, "--models", "no-such-models.segql"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn on_postgres_the_reports_are_sqlites_and_the_memory_engine_says_what_to_do() {
    let Some(pg) = crate::support::pg::TestPg::start() else {
        return;
    };
    let (_dir, db) = demo();
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(
        &rusqlite::Connection::open(&db).unwrap(),
        &mut client,
        &segql::schema::crm_schema(),
    )
    .unwrap();
    let url = pg.url();
    let exists = |client: &mut postgres::Client| -> bool {
        client
            .query_one("SELECT to_regclass('lead_score') IS NOT NULL", &[])
            .unwrap()
            .get(0)
    };

    let o = score(&url, &["--engine", "memory"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("the memory engine loads SQLite databases"),
        "{err}"
    );
    assert!(err.contains("use --engine sqlite"), "{err}");
    assert!(!exists(&mut client), "{err}");

    let dry = ok(&score(&url, &["--dry-run"]));
    assert_eq!(dry, ok(&score(&db, &["--dry-run"])));
    assert!(!exists(&mut client));
    assert_eq!(ok(&score(&url, &[])), ok(&score(&db, &[])));
    let again = ok(&score(&url, &[]));
    assert!(again.contains("nothing changed"), "{again}");
    assert_eq!(again, ok(&score(&db, &[])));

    let (lead, orphan) = leads(&db);
    for id in [&lead, &orphan] {
        let on_pg = ok(&score(&url, &["--explain", id]));
        assert_eq!(on_pg, ok(&score(&db, &["--explain", id])));
    }
}
