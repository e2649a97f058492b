//! `segql compile --dialect spark`, and what a Spark `--db` spec gets: a
//! clear refusal saying how to run the compiled SQL instead.

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

const QUERY: &str = r#"contact where city != "Paris" and created_on >= 2025-06-01"#;

#[test]
fn compile_for_spark_prints_named_markers_and_their_values() {
    let o = segql(&["compile", "--dialect", "spark", QUERY]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let (statement, listing) = out.split_once(';').expect("statement then parameters");
    assert!(statement.contains("FROM `contact` AS t0"), "{out}");
    assert!(
        statement.contains("t0.`city` IS DISTINCT FROM :p1"),
        "{out}"
    );
    assert!(
        statement.contains("t0.`created_on` >= CAST(:p2 AS TIMESTAMP)"),
        "{out}"
    );
    assert!(!statement.contains("Paris"), "literal in the SQL: {out}");
    assert!(listing.contains("-- :p1 = \"Paris\""), "{out}");
    assert!(
        listing.contains("-- :p2 = \"2025-06-01T00:00:00Z\""),
        "{out}"
    );
}

#[test]
fn compile_for_spark_as_json_gives_params_in_marker_order() {
    let o = segql(&[
        "compile",
        "--dialect",
        "spark",
        "--format",
        "json",
        "--count",
        QUERY,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json output");
    let sql = json["sql"].as_str().expect("sql");
    assert!(sql.starts_with("SELECT COUNT(*)"), "{sql}");
    assert_eq!(
        json["params"],
        serde_json::json!(["Paris", "2025-06-01T00:00:00Z"])
    );
}

/// A standalone master always; a Spark Connect URL in a build without the
/// `spark` feature, which cannot talk to it.
#[test]
fn a_spark_db_is_refused_with_what_to_do_instead() {
    let specs: &[&str] = if cfg!(feature = "spark") {
        &["spark://127.0.0.1:7077"]
    } else {
        &["sc://127.0.0.1:15002", "spark://127.0.0.1:7077"]
    };
    for &spec in specs {
        let o = segql(&["run", "--db", spec, "contact"]);
        assert_eq!(o.status.code(), Some(2), "{spec}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(spec), "{err}");
        assert!(err.contains("compile --dialect spark"), "{err}");
        assert!(err.contains("spark.sql(sql, args)"), "{err}");
        assert!(!err.contains("does not exist"), "opened as a file: {err}");
    }
}

#[test]
fn spark_is_never_written_to() {
    let o = segql(&[
        "update",
        "--db",
        "sc://127.0.0.1:15002/;token=secret",
        "--set",
        "city=Paris",
        "contact",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("only reads from Spark"), "{err}");
    assert!(!err.contains("secret"), "{err}");
}
