//! `segql advise`: the SQL it prints runs, it changes nothing, and bad
//! input gets the usual diagnostics.

use super::run::{code, demo, segql, stderr, stdout};

const OPENS: &str = r#"contact where has at least 3 interaction(type = "Email Opened" and occurred_on >= now - 30d)"#;

#[test]
fn advise_prints_runnable_sql_and_changes_nothing() {
    let (_dir, db) = demo();
    let before = std::fs::read(&db).unwrap();
    let o = segql(&[
        "advise",
        "--db",
        &db,
        "--now",
        "2025-06-01T12:00:00Z",
        OPENS,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let sql = stdout(&o);
    assert!(
        sql.contains(
            "CREATE INDEX IF NOT EXISTS interaction_type_contact_id_occurred_on_idx \
             ON interaction (type, contact_id, occurred_on);"
        ),
        "{sql}"
    );
    assert!(
        sql.contains("-- query 1: has at least 3 interaction via interaction_contact("),
        "{sql}"
    );
    assert!(sql.contains("ANALYZE;"), "{sql}");
    // The demo has the foreign key's index: said, not advised.
    assert!(
        sql.contains("-- already indexed: interaction (contact_id) by interaction_contact_id_idx"),
        "{sql}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "advise wrote to the database"
    );

    // What it prints runs, and then nothing is left to advise.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&sql).unwrap();
    drop(conn);
    let again = segql(&[
        "advise",
        "--db",
        &db,
        "--now",
        "2025-06-01T12:00:00Z",
        OPENS,
    ]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert!(
        stdout(&again).starts_with("-- nothing to advise"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn advise_as_json_names_queries_and_predicates() {
    let (_dir, db) = demo();
    let o = segql(&[
        "advise",
        "--db",
        &db,
        "--format",
        "json",
        r#"contact where has lead(topic = "Contoso Ltd Conference")"#,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["format"], 1);
    let indexes = json["advice"]["indexes"].as_array().unwrap();
    assert_eq!(indexes.len(), 1, "{json}");
    assert_eq!(indexes[0]["table"], "lead");
    assert_eq!(
        indexes[0]["columns"],
        serde_json::json!(["topic", "contact_id"])
    );
    assert_eq!(indexes[0]["reasons"][0]["query"], "query 1");
    assert_eq!(
        indexes[0]["reasons"][0]["predicate"],
        r#"has lead via lead_parent_contact(topic = "Contoso Ltd Conference")"#
    );
}

#[test]
fn advise_without_queries_covers_every_relationship_or_the_library() {
    let (dir, db) = demo();
    // The demo has an index on every foreign key already.
    let o = segql(&["advise", "--db", &db]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("-- nothing to advise"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        stdout(&o).matches("-- already indexed:").count(),
        5,
        "{}",
        stdout(&o)
    );

    let library = dir.path().join("segments.segql");
    std::fs::write(
        &library,
        "segment openers = contact where has interaction(type = \"Email Opened\")\n",
    )
    .unwrap();
    let o = segql(&[
        "advise",
        "--db",
        &db,
        "--library",
        library.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains(
            "-- openers: has interaction via interaction_contact(type = \"Email Opened\")\n\
             CREATE INDEX IF NOT EXISTS interaction_type_contact_id_idx ON interaction (type, contact_id);"
        ),
        "{}",
        stdout(&o)
    );
}

#[test]
fn advise_reports_bad_queries_and_databases() {
    let (dir, db) = demo();
    let o = segql(&[
        "advise",
        "--db",
        &db,
        "contact where has lead(colour = \"red\")",
    ]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stderr(&o).contains("colour"), "{}", stderr(&o));

    let missing = dir.path().join("missing.db");
    let o = segql(&["advise", "--db", missing.to_str().unwrap(), OPENS]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(!missing.exists(), "advise created a database");

    let o = segql(&[
        "advise",
        "--db",
        "postgresql://segql@127.0.0.1:1/none",
        OPENS,
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("cannot connect to PostgreSQL"),
        "{}",
        stderr(&o)
    );
}
