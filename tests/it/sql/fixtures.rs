//! The SQL and parameters of every valid query fixture, for every dialect,
//! as snapshots (`tests/queries/valid/*.segql`, reference time
//! 2026-01-15T12:00:00Z). A change to the generated SQL shows up here as a
//! reviewable diff. Fixtures' directive comments (`# schema:`, `# library:`,
//! `# guard:`) are read by [`crate::support::fixture`]. Spark SQL has
//! snapshots of its own (`spark_sql_of_*`), beside those of the two
//! databases segql runs on.
//!
//! `tests/queries/aggregates/*.segql` are valid queries with aggregates
//! (SPEC 2.5), in a directory of their own while the plan notation of the
//! semantics tests (`crate::semantics::plan_text`), which every fixture of
//! `valid/` must round-trip, cannot write aggregates; then they belong in
//! `valid/`.

use std::path::Path;

use chrono::{TimeZone, Utc};
use segql::check::check;
use segql::sql::{to_sql, Dialect, Postgres, Spark, SqlOptions, Sqlite};
use segql::syntax::parse_query;

use crate::support::fixture::Fixture;

/// The databases segql runs on.
const RUN_ON: [&dyn Dialect; 2] = [&Sqlite, &Postgres];

#[test]
fn sql_of_valid_queries() {
    insta::glob!("../..", "queries/valid/*.segql", |path| {
        insta::assert_snapshot!(sql_of(path, &RUN_ON));
    });
}

#[test]
fn sql_of_aggregate_queries() {
    insta::glob!("../..", "queries/aggregates/*.segql", |path| {
        insta::assert_snapshot!(sql_of(path, &RUN_ON));
    });
}

#[test]
fn spark_sql_of_valid_queries() {
    insta::glob!("../..", "queries/valid/*.segql", |path| {
        insta::assert_snapshot!(sql_of(path, &[&Spark]));
    });
}

#[test]
fn spark_sql_of_aggregate_queries() {
    insta::glob!("../..", "queries/aggregates/*.segql", |path| {
        insta::assert_snapshot!(sql_of(path, &[&Spark]));
    });
}

/// The SQL and parameters of fixture `path` in `dialects`, after checking
/// that its count query differs only where it should.
fn sql_of(path: &Path, dialects: &[&dyn Dialect]) -> String {
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    let fixture = Fixture::load(path);
    let schema = &fixture.schema;
    let library = fixture.parsed_library();
    let query = parse_query(&fixture.text).unwrap();
    let plan = check(&query, &fixture.context(library.as_ref())).unwrap();
    let mut out = String::new();
    for &dialect in dialects {
        let q = to_sql(&plan, schema, dialect, &SqlOptions::new(false, now)).unwrap();
        let params = serde_json::to_string(&q.params).unwrap();
        out.push_str(&format!(
            "-- {}\n{}\n-- params: {params}\n\n",
            dialect.name(),
            q.sql
        ));
        // The count query differs only in its first and last lines.
        let c = to_sql(&plan, schema, dialect, &SqlOptions::new(true, now)).unwrap();
        let body = q.sql.lines().skip(1).filter(|l| !l.starts_with("ORDER BY"));
        let expected: Vec<&str> = std::iter::once("SELECT COUNT(*)").chain(body).collect();
        assert_eq!(c.sql, expected.join("\n"));
        assert_eq!(c.params, q.params);
    }
    out
}
