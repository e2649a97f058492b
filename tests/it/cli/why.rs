//! `segql why` and `segql explain --counts` from the command line (SPEC §8):
//! the first line `in` or `out` agreeing with `run`, the facts, the JSON
//! keys, the demo-data notice without `--db`, and the exit codes of an id
//! that is not a uuid (2) and of a uuid of no record (1); the counted tree,
//! its funnel, and the same counts from both engines.

use std::process::{Command, Output};

use chrono::{TimeZone, Utc};
use segql::demo::{generate_sqlite, DemoOptions};
use serde_json::Value as Json;

const NOW: &str = "2026-01-15T12:00:00Z";
const SEGMENT: &str = r#"contact where role = "Decision Maker" or has lead(status = "Open")"#;
const FUNNEL: &str = r#"contact where not do_not_email and has lead(status = "Open" or score > 50) and city is not null"#;

fn segql(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(args)
        .env("SEGQL_CACHE_DIR", super::run::test_cache_dir())
        .output()
        .expect("segql runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    stdout(o)
}

/// A demo database (200 contacts) in a fresh directory.
fn demo() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("crm.db");
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    generate_sqlite(&path, &DemoOptions::new(200, 42, now)).expect("demo");
    let db = path.to_str().expect("a UTF-8 path").to_string();
    (dir, db)
}

fn ids(db: &str, query: &str) -> Vec<String> {
    ok(&segql(&[
        "run", "--db", db, "--now", NOW, "--format", "ids", query,
    ]))
    .lines()
    .map(String::from)
    .collect()
}

#[test]
fn why_says_in_for_members_and_out_for_the_rest_on_both_engines() {
    let (_dir, db) = demo();
    let members = ids(&db, SEGMENT);
    let others = ids(&db, &format!("contact where not ({})", &SEGMENT[14..]));
    assert!(members.len() >= 3 && others.len() >= 3);
    for (expected, sample) in [("in", &members[..3]), ("out", &others[..3])] {
        for id in sample {
            for engine in ["sqlite", "memory"] {
                let out = ok(&segql(&[
                    "why", "--db", &db, "--now", NOW, "--engine", engine, id, SEGMENT,
                ]));
                let mut lines = out.lines();
                assert_eq!(lines.next(), Some(expected), "{id} on {engine}:\n{out}");
                let root = lines.next().expect("the tree");
                assert_eq!(root, format!("{:<5} or", expected == "in"), "{out}");
                assert!(out.contains("role = \"Decision Maker\"   [role "), "{out}");
                assert!(
                    out.contains("has lead via lead_parent_contact(status = \"Open\")   ["),
                    "{out}"
                );
            }
        }
    }
}

#[test]
fn why_shows_related_ids_and_missing_values() {
    let (_dir, db) = demo();
    let id = &ids(
        &db,
        r#"contact where city is null and has lead(status = "Open")"#,
    )[0];
    let leads = ids(
        &db,
        &format!(r#"lead where status = "Open" and contact.id = "{id}""#),
    );
    let out = ok(&segql(&[
        "why",
        "--db",
        &db,
        "--now",
        NOW,
        id,
        r#"contact where city = "Oslo" and has lead(status = "Open")"#,
    ]));
    assert!(out.starts_with("out\nfalse and\n"), "{out}");
    assert!(
        out.contains("false   city = \"Oslo\"   [city missing]"),
        "{out}"
    );
    let related = format!(
        "true    has lead via lead_parent_contact(status = \"Open\")   [{} lead: {}",
        leads.len(),
        leads[0]
    );
    assert!(out.contains(&related), "{out}");
}

#[test]
fn why_json_has_fixed_keys() {
    let (_dir, db) = demo();
    let id = &ids(&db, "contact where has lead")[0];
    let out = ok(&segql(&[
        "why",
        "--db",
        &db,
        "--now",
        NOW,
        "--format",
        "json",
        id,
        "contact where count(lead) >= 1 and (city is null or avg(lead.score) > 1000)",
    ]));
    let json: Json = serde_json::from_str(&out).expect("JSON");
    let keys = |v: &Json| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&json), ["entity", "id", "in", "tree"]);
    assert_eq!(json["id"], Json::String(id.clone()));
    assert_eq!(json["entity"], "contact");
    let tree = &json["tree"];
    assert_eq!(keys(tree), ["children", "fact", "holds", "node"]);
    assert_eq!(tree["node"], "and");
    assert_eq!(tree["fact"], Json::Null);
    assert_eq!(json["in"], tree["holds"]);
    let first = &tree["children"][0];
    assert_eq!(first["fact"]["kind"], "related", "{out}");
    assert_eq!(
        keys(&first["fact"]),
        ["count", "entity", "ids", "kind"],
        "{out}"
    );
    let average = &tree["children"][1]["children"][1];
    assert_eq!(average["fact"]["kind"], "aggregate", "{out}");
    assert_eq!(
        keys(&average["fact"]),
        ["count", "entity", "ids", "kind", "value"],
        "{out}"
    );
}

#[test]
fn why_without_db_uses_the_demo_data_and_says_so() {
    let id = "007dbdd2-5f5f-4935-a29d-bea0cd1c8e24";
    let o = segql(&["why", "--now", NOW, id, "contact where has lead"]);
    assert_eq!(ok(&o).lines().next(), Some("in"));
    assert!(stderr(&o).contains("note: no --db given"), "{}", stderr(&o));
    let quiet = segql(&["why", "-q", "--now", NOW, id, "contact where has lead"]);
    assert_eq!(ok(&quiet).lines().next(), Some("in"));
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn why_refuses_an_id_that_is_not_a_uuid() {
    let (_dir, db) = demo();
    let o = segql(&["why", "--db", &db, "42", "contact"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains("a uuid") && stderr(&o).contains("'42'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn why_reports_a_uuid_of_no_record() {
    let (_dir, db) = demo();
    let id = "00000000-0000-4000-8000-000000000000";
    let o = segql(&["why", "--db", &db, id, "contact where has lead"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains(&format!("no contact has the id {id}")),
        "{}",
        stderr(&o)
    );
}

/// The records-per-node column of the counted tree, node by node.
fn counted(out: &str) -> Vec<(u64, String)> {
    out.lines()
        .skip(3)
        .map(|line| {
            let mut words = line.split_whitespace();
            let count = words.next().and_then(|w| w.parse().ok()).expect("a count");
            (count, words.collect::<Vec<_>>().join(" "))
        })
        .collect()
}

#[test]
fn explain_counts_shows_the_funnel_on_both_engines() {
    let (_dir, db) = demo();
    let sqlite = ok(&segql(&[
        "explain", "--db", &db, "--now", NOW, "--counts", FUNNEL,
    ]));
    let memory = ok(&segql(&[
        "explain", "--db", &db, "--now", NOW, "--counts", "--engine", "memory", FUNNEL,
    ]));
    assert_eq!(sqlite, memory);
    let size = ids(&db, FUNNEL).len() as u64;
    assert!(
        sqlite.lines().nth(1) == Some(&format!("{size} of 200 contact records in the segment")[..]),
        "{sqlite}"
    );
    let nodes = counted(&sqlite);
    assert_eq!(nodes[0], (size, "contact and".to_string()), "{sqlite}");
    let alone = ids(&db, "contact where not do_not_email").len() as u64;
    assert_eq!(nodes[1].0, alone, "{sqlite}");
    assert!(
        nodes[1].1.ends_with(&format!("-> {alone} remain")),
        "{sqlite}"
    );
    // The `has` filter's nodes count leads.
    assert!(
        nodes
            .iter()
            .any(|(_, text)| text.starts_with("lead status = \"Open\"")),
        "{sqlite}"
    );
    assert!(nodes
        .last()
        .is_some_and(|(_, text)| text.ends_with(&format!("-> {size} remain"))));
}

#[test]
fn explain_counts_json_has_fixed_keys() {
    let (_dir, db) = demo();
    let out = ok(&segql(&[
        "explain",
        "--db",
        &db,
        "--now",
        NOW,
        "--counts",
        "--format",
        "json",
        r#"contact where role = "Decision Maker" or city is null"#,
    ]));
    let json: Json = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["entity"], "contact");
    assert_eq!(json["total"], 200);
    let tree = &json["tree"];
    let mut keys: Vec<&String> = tree.as_object().expect("an object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["adds", "children", "count", "entity", "node", "remaining"]
    );
    let gains: u64 = tree["children"]
        .as_array()
        .expect("operands")
        .iter()
        .map(|c| c["adds"].as_u64().expect("a gain"))
        .sum();
    assert_eq!(Some(gains), tree["count"].as_u64());
}

#[test]
fn explain_takes_db_only_with_counts() {
    let (_dir, db) = demo();
    let o = segql(&["explain", "--db", &db, "contact"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--counts"), "{}", stderr(&o));
}

#[test]
fn explain_counts_timing_tells_loading_from_counting() {
    let (_dir, db) = demo();
    let memory = segql(&[
        "explain", "--db", &db, "--counts", "--engine", "memory", "--timing", FUNNEL,
    ]);
    ok(&memory);
    assert!(
        stderr(&memory).starts_with("timing: load ") && stderr(&memory).contains(", count "),
        "{}",
        stderr(&memory)
    );
    let sqlite = segql(&["explain", "--db", &db, "--counts", "--timing", FUNNEL]);
    ok(&sqlite);
    assert!(
        stderr(&sqlite).starts_with("timing: count "),
        "{}",
        stderr(&sqlite)
    );
}

/// The README's library of campaign segments.
const LIBRARY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/segments.segql");

/// The lines of a text tree as (verdict, depth, node text).
fn tree_lines(out: &str) -> Vec<(bool, usize, String)> {
    out.lines()
        .skip(1)
        .map(|line| {
            let (verdict, rest) = line.split_at(5);
            let rest = &rest[1..];
            let text = rest.trim_start();
            let depth = (rest.len() - text.len()) / 2;
            (verdict.trim() == "true", depth, text.to_string())
        })
        .collect()
}

#[test]
fn why_folds_a_library_segment_under_its_name() {
    let (_dir, db) = demo();
    let query = "contact where in decision_makers and city is not null";
    let run = |query: &str| -> Vec<String> {
        ok(&segql(&[
            "run",
            "--db",
            &db,
            "--now",
            NOW,
            "--library",
            LIBRARY,
            "--format",
            "ids",
            query,
        ]))
        .lines()
        .map(String::from)
        .collect()
    };
    let members = run(query);
    let segment = run("contact where in decision_makers");
    let everyone = run("contact");
    let outside = everyone.iter().find(|id| !segment.contains(id));
    assert!(!members.is_empty(), "no member to ask about");
    for (id, expected) in [(&members[0], "in"), (outside.expect("a non-member"), "out")] {
        for engine in ["sqlite", "memory"] {
            let out = ok(&segql(&[
                "why",
                "--db",
                &db,
                "--now",
                NOW,
                "--engine",
                engine,
                "--library",
                LIBRARY,
                id,
                query,
            ]));
            assert_eq!(out.lines().next(), Some(expected), "{out}");
            let lines = tree_lines(&out);
            assert_eq!(lines[0], (expected == "in", 0, "and".to_string()), "{out}");
            // The segment is one node, its verdict the record's membership
            // in it, and its own tests are below it, one level deeper.
            let at = lines
                .iter()
                .position(|(_, depth, text)| *depth == 1 && text == "in decision_makers")
                .unwrap_or_else(|| panic!("no `in decision_makers` node:\n{out}"));
            assert_eq!(lines[at].0, segment.contains(id), "{out}");
            let below: Vec<&String> = lines[at + 1..]
                .iter()
                .take_while(|(_, depth, _)| *depth > 1)
                .map(|(_, _, text)| text)
                .collect();
            assert!(
                below
                    .iter()
                    .any(|text| text.starts_with("role = \"Decision Maker\"   [role ")),
                "{out}"
            );
            assert!(
                below
                    .iter()
                    .any(|text| text.starts_with("do_not_email != true")),
                "{out}"
            );
            assert!(
                !lines
                    .iter()
                    .any(|(_, depth, text)| *depth == 1 && text.starts_with("role")),
                "the segment's tests are spliced in:\n{out}"
            );
        }
    }
}

#[test]
fn why_folds_nested_segments_in_json() {
    let (_dir, db) = demo();
    let id = &ids(&db, "contact")[0];
    let out = ok(&segql(&[
        "why",
        "--db",
        &db,
        "--now",
        NOW,
        "--library",
        LIBRARY,
        "--format",
        "json",
        id,
        "contact where in spring_audience",
    ]));
    let json: Json = serde_json::from_str(&out).expect("JSON");
    let tree = &json["tree"];
    assert_eq!(tree["node"], "in spring_audience", "{out}");
    assert_eq!(json["in"], tree["holds"]);
    assert_eq!(tree["fact"], Json::Null);
    let inner = tree["children"].as_array().expect("children");
    assert_eq!(inner.len(), 1, "{out}");
    assert_eq!(inner[0]["node"], "and", "{out}");
    let names: Vec<&str> = inner[0]["children"]
        .as_array()
        .expect("the segment's operands")
        .iter()
        .filter_map(|child| child["node"].as_str())
        .collect();
    for name in ["in decision_makers", "in recently_engaged"] {
        assert!(names.contains(&name), "{names:?}\n{out}");
    }
}
