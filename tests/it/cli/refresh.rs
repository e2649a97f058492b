//! `segql refresh` from the command line (SPEC 8): the text and JSON
//! reports, `--dry-run`, a second run that says nothing changed, named
//! segments, `--guard`, `--engine memory`, and the exit codes of unknown and
//! broken segments, a missing library and a missing database.

use std::path::Path;
use std::process::Output;

use super::run::{code, demo, segql, stderr, stdout};

const NOW: &str = "2025-06-01T12:00:00Z";
const LATER: &str = "2025-06-20T12:00:00Z";

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/refresh-library.segql")
        .to_str()
        .expect("a UTF-8 path")
        .to_string()
}

fn refresh(db: &str, library: &str, extra: &[&str]) -> Output {
    let mut args = vec!["refresh", "--db", db, "--library", library];
    args.extend_from_slice(extra);
    segql(&args)
}

fn ok(o: &Output) -> String {
    assert_eq!(code(o), 0, "{}", stderr(o));
    stdout(o)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(o)).expect("JSON report")
}

/// The number of a segment's row in the text report, in column `column`
/// (1: members, 2: joined, 3: left).
fn cell(text: &str, segment: &str, column: usize) -> u64 {
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(segment))
        .unwrap_or_else(|| panic!("no row {segment} in\n{text}"));
    line.split_whitespace()
        .nth(column)
        .unwrap()
        .parse()
        .unwrap()
}

fn count(db: &str, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn has_tables(db: &str) -> bool {
    count(
        db,
        "SELECT count(*) FROM sqlite_master WHERE name IN ('segment_member', 'segment_change')",
    ) > 0
}

#[test]
fn the_text_report_has_a_row_per_segment_and_a_total() {
    let (_dir, db) = demo();
    let lib = example();
    let text = ok(&refresh(&db, &lib, &["--now", NOW]));
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["segment", "members", "joined", "left"], "{text}");
    let expected = ok(&segql(&[
        "run",
        "--db",
        &db,
        "--library",
        &lib,
        "--now",
        NOW,
        "--count",
        "contact where in decision_makers",
    ]));
    let members = cell(&text, "decision_makers", 1);
    assert_eq!(members.to_string(), expected.trim());
    assert_eq!(cell(&text, "decision_makers", 2), members);
    assert_eq!(cell(&text, "decision_makers", 3), 0);
    assert!(cell(&text, "fresh_event_leads", 1) > 0, "{text}");
    let total = cell(&text, "(total)", 2);
    assert_eq!(
        total as i64,
        count(&db, "SELECT count(*) FROM segment_change")
    );
    assert!(
        text.contains(&format!("recorded {total} joined and 0 left")),
        "{text}"
    );

    let again = ok(&refresh(&db, &lib, &["--now", NOW]));
    assert!(again.contains("nothing changed"), "{again}");
    assert_eq!(cell(&again, "(total)", 2), 0);
    assert_eq!(cell(&again, "decision_makers", 1), members);
}

#[test]
fn the_json_report_has_fixed_keys() {
    let (_dir, db) = demo();
    let lib = example();
    ok(&refresh(&db, &lib, &["--now", NOW]));
    let report = json(&refresh(&db, &lib, &["--now", LATER, "--format", "json"]));
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&report), ["dry_run", "format", "segments", "total"]);
    assert_eq!(report["format"], 1);
    assert_eq!(report["dry_run"], false);
    let segments = report["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 10);
    for s in segments {
        assert_eq!(keys(s), ["entity", "joined", "left", "members", "segment"]);
    }
    assert_eq!(
        keys(&report["total"]),
        ["joined", "left", "members", "segments"]
    );
    let sum = |key: &str| -> u64 { segments.iter().map(|s| s[key].as_u64().unwrap()).sum() };
    for key in ["members", "joined", "left"] {
        assert_eq!(report["total"][key].as_u64(), Some(sum(key)), "{key}");
    }
    // The windows moved by nineteen days: someone left a segment.
    assert!(sum("left") > 0, "{report}");
    let changes = count(
        &db,
        "SELECT count(*) FROM segment_change WHERE at = '2025-06-20T12:00:00Z'",
    );
    assert_eq!(changes as u64, sum("joined") + sum("left"));
}

#[test]
fn a_dry_run_reports_and_writes_nothing() {
    let (_dir, db) = demo();
    let lib = example();
    let dry = ok(&refresh(&db, &lib, &["--now", NOW, "--dry-run"]));
    assert!(dry.starts_with("dry run: nothing was written"), "{dry}");
    assert!(dry.contains("would record"), "{dry}");
    assert!(!has_tables(&db));
    let real = ok(&refresh(&db, &lib, &["--now", NOW]));
    assert_eq!(
        dry.lines().skip(1).take(12).collect::<Vec<_>>(),
        real.lines().take(12).collect::<Vec<_>>()
    );
}

#[test]
fn named_segments_guards_and_the_memory_engine() {
    let (_dir, db) = demo();
    let lib = example();
    let report = json(&refresh(
        &db,
        &lib,
        &[
            "--now",
            NOW,
            "--format",
            "json",
            "--guard",
            "email",
            "--engine",
            "memory",
            "gone_quiet",
            "decision_makers",
        ],
    ));
    let names: Vec<&str> = report["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["segment"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gone_quiet", "decision_makers"]);
    let guarded = ok(&segql(&[
        "run",
        "--db",
        &db,
        "--library",
        &lib,
        "--now",
        NOW,
        "--count",
        "--guard",
        "email",
        "contact where in gone_quiet",
    ]));
    assert_eq!(report["segments"][0]["members"].to_string(), guarded.trim());
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM segment_member WHERE segment = 'gone_quiet'"
        )
        .to_string(),
        guarded.trim()
    );
    assert_eq!(
        count(&db, "SELECT count(DISTINCT segment) FROM segment_member"),
        2
    );
}

#[test]
fn errors_exit_with_their_codes_and_write_nothing() {
    let (dir, db) = demo();
    let lib = example();

    let unknown = refresh(&db, &lib, &["--now", NOW, "decision_maker"]);
    assert_eq!(code(&unknown), 1, "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("unknown segment 'decision_maker'"));
    assert!(stderr(&unknown).contains("decision_makers"), "a suggestion");

    let broken = dir.path().join("broken.segql");
    std::fs::write(
        &broken,
        "segment fine = contact where city = \"Berlin\"\nsegment bad = contact where shoe_size > 3\n",
    )
    .unwrap();
    let out = refresh(&db, broken.to_str().unwrap(), &["--now", NOW]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("segment 'bad' does not check"),
        "{message}"
    );
    assert!(message.contains("shoe_size"), "{message}");

    let guard = refresh(&db, &lib, &["--now", NOW, "--guard", "email"]);
    assert_eq!(code(&guard), 2, "a guard lead lacks: {}", stderr(&guard));
    assert!(stderr(&guard).contains("email"), "{}", stderr(&guard));
    assert!(!has_tables(&db));

    let no_library = segql(&["refresh", "--db", &db, "--now", NOW]);
    assert_eq!(code(&no_library), 2);
    assert!(stderr(&no_library).contains("--library"));

    let missing = dir.path().join("missing.db");
    let out = refresh(missing.to_str().unwrap(), &lib, &["--now", NOW]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(!missing.exists());

    let bad_now = refresh(&db, &lib, &["--now", "yesterday"]);
    assert_eq!(code(&bad_now), 2);
    assert!(!has_tables(&db));
}
