//! The SQL and parameters of every valid query fixture, for both dialects,
//! as snapshots (`tests/queries/valid/*.segql`, reference time
//! 2026-01-15T12:00:00Z). A change to the generated SQL shows up here as a
//! reviewable diff. Fixtures' directive comments (`# schema:`, `# library:`,
//! `# guard:`) mean what they mean in `check_fixtures.rs`.

use std::path::Path;

use chrono::{TimeZone, Utc};
use segql::check::{check, Context};
use segql::schema::{crm_schema, load_schema_file};
use segql::sql::{to_sql, Dialect, Postgres, SqlOptions, Sqlite};
use segql::syntax::{parse_library, parse_query};

#[test]
fn sql_of_valid_queries() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    insta::glob!("../..", "queries/valid/*.segql", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let (mut schema, mut library, mut guards) = (crm_schema(), None, Vec::new());
        for comment in text.lines().filter_map(|l| l.trim().strip_prefix('#')) {
            let comment = comment.trim();
            if let Some(file) = comment.strip_prefix("schema:") {
                schema = load_schema_file(&tests.join("schemas").join(file.trim())).unwrap();
            } else if let Some(file) = comment.strip_prefix("library:") {
                let lib = std::fs::read_to_string(tests.join("libraries").join(file.trim()));
                library = Some(parse_library(&lib.unwrap()).unwrap());
            } else if let Some(guard) = comment.strip_prefix("guard:") {
                guards.push(guard.trim().to_string());
            }
        }
        let query = parse_query(&text).unwrap();
        let context = Context {
            schema: &schema,
            library: library.as_ref(),
            guards: &guards,
        };
        let plan = check(&query, &context).unwrap();
        let mut out = String::new();
        for dialect in [&Sqlite as &dyn Dialect, &Postgres] {
            let q = to_sql(&plan, &schema, dialect, &SqlOptions { count: false, now }).unwrap();
            let params = serde_json::to_string(&q.params).unwrap();
            out.push_str(&format!(
                "-- {}\n{}\n-- params: {params}\n\n",
                dialect.name(),
                q.sql
            ));
            // The count query differs only in its first and last lines.
            let c = to_sql(&plan, &schema, dialect, &SqlOptions { count: true, now }).unwrap();
            let body = q.sql.lines().skip(1).filter(|l| !l.starts_with("ORDER BY"));
            let expected: Vec<&str> = std::iter::once("SELECT COUNT(*)").chain(body).collect();
            assert_eq!(c.sql, expected.join("\n"));
            assert_eq!(c.params, q.params);
        }
        insta::assert_snapshot!(out);
    });
}
