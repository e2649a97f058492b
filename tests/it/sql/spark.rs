//! The Spark SQL dialect's own spellings of SPEC §2.3: what the compiled
//! text must say for Spark to keep segql's meaning where its functions
//! differ from SQLite's and PostgreSQL's. That Spark 4 then returns the
//! same ids is checked by running it: `scripts/spark/agree.py`.

use chrono::{TimeZone, Utc};
use segql::schema::{crm_schema, load_schema_toml, Schema};
use segql::sql::{Spark, SqlParam, SqlQuery};
use segql::Options;

fn spark(schema: &Schema, query: &str) -> SqlQuery {
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    segql::compile(query, &Options::new(schema), &Spark, now)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
}

fn text(s: &str) -> SqlParam {
    SqlParam::Text(s.to_string())
}

#[test]
fn case_folding_is_ascii_only() {
    // Spark's lower() would fold É too, and "ÉCOLE" would contain "é".
    let q = spark(&crm_schema(), r#"contact where job_title contains "ÉCOLE""#);
    assert!(!q.sql.contains("lower("), "{}", q.sql);
    assert!(
        q.sql.contains(
            "translate(t0.`job_title`, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', \
             'abcdefghijklmnopqrstuvwxyz')"
        ),
        "{}",
        q.sql
    );
    // The pattern is folded the same way: É is kept.
    assert_eq!(q.params, [text("École")]);
}

#[test]
fn percent_and_underscore_in_patterns_are_literal() {
    for (query, function) in [
        (r#"contact where email contains "100%_""#, "contains("),
        (r#"contact where email starts with "100%_""#, "startswith("),
        (r#"contact where email ends with "100%_""#, "endswith("),
    ] {
        let q = spark(&crm_schema(), query);
        assert!(q.sql.contains(function), "{query}: {}", q.sql);
        assert!(!q.sql.to_uppercase().contains("LIKE"), "{query}: {}", q.sql);
        assert_eq!(q.params, [text("100%_")], "{query}");
    }
}

#[test]
fn identifiers_come_from_the_schema_in_backticks() {
    let schema = load_schema_toml(
        r#"
        [[entity]]
        name = "person"
        table = "odd`table"
        fields = [
          { name = "id", type = "uuid" },
          { name = "nick", column = "nick`name", type = "text" },
        ]
        "#,
    )
    .unwrap();
    let q = spark(&schema, r#"person where nick = "x` OR 1=1 --""#);
    assert_eq!(
        q.sql,
        "SELECT t0.`id`\nFROM `odd``table` AS t0\nWHERE t0.`nick``name` = :p1\nORDER BY t0.`id`"
    );
    assert_eq!(q.params, [text("x` OR 1=1 --")]);
}

#[test]
fn negated_comparisons_match_nulls() {
    let q = spark(&crm_schema(), r#"contact where city != "Paris""#);
    assert!(
        q.sql.contains("t0.`city` IS DISTINCT FROM :p1"),
        "{}",
        q.sql
    );
    let q = spark(&crm_schema(), "lead where not (score > 3)");
    assert!(
        q.sql.contains("(t0.`score` <= :p1 OR t0.`score` IS NULL)"),
        "{}",
        q.sql
    );
    let q = spark(
        &crm_schema(),
        r#"contact where not job_title contains "ceo""#,
    );
    assert!(q.sql.contains("OR t0.`job_title` IS NULL)"), "{}", q.sql);
}

#[test]
fn markers_are_named_and_dates_cast_from_their_text() {
    let q = spark(
        &crm_schema(),
        "contact where birth_date < today - 30d and created_on >= now - 1h",
    );
    assert!(
        q.sql.contains("t0.`birth_date` < CAST(:p1 AS DATE)"),
        "{}",
        q.sql
    );
    assert!(
        q.sql.contains("t0.`created_on` >= CAST(:p2 AS TIMESTAMP)"),
        "{}",
        q.sql
    );
    let json = serde_json::to_value(&q.params).unwrap();
    assert_eq!(
        json,
        serde_json::json!(["2025-12-16", "2026-01-15T11:00:00Z"])
    );
}

#[test]
fn uuids_are_strings_and_no_literal_is_in_the_text() {
    let id = "0e0c1a4e-3c1b-4a8e-9d55-5a6f6c9e2b11";
    let q = spark(
        &crm_schema(),
        &format!(r#"contact where id = "{id}" or email in ["a'b@x.example", "c@x.example"]"#),
    );
    assert_eq!(q.params[0], text(id));
    assert!(
        !q.sql.contains(id) && !q.sql.contains("x.example"),
        "{}",
        q.sql
    );
    assert!(q.sql.contains("IN (:p2, :p3)"), "{}", q.sql);
}

#[test]
fn integer_sums_are_exact_and_decimal_sums_compensated() {
    let q = spark(&crm_schema(), "contact where sum(lead.score) > 10");
    assert!(
        q.sql
            .contains("CAST(COALESCE(SUM(CAST(t1.`score` AS DECIMAL(38, 0))), 0) AS BIGINT) > :p1"),
        "{}",
        q.sql
    );
    assert_eq!(q.integer_sums.len(), 1, "{:?}", q.integer_sums);
    let q = spark(
        &crm_schema(),
        "contact where avg(lead.estimated_value) > 10",
    );
    assert!(q.sql.contains("aggregate(collect_list("), "{}", q.sql);
    assert!(q.sql.contains("/ NULLIF(COUNT("), "{}", q.sql);
}
