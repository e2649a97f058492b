//! The shape of the scoring SQL (`scoring::score_sql` over
//! `sql::per_record_select`): what makes it as fast as a hand-written
//! scoring script. Each parent a rule reads is joined once, counts over the
//! contact's interactions share one pass over the interaction table, and
//! nothing is sorted. The snapshots show the whole statement per dialect.

use chrono::{TimeZone, Utc};
use segql::schema::crm_schema;
use segql::scoring::{parse_and_check, score_sql, LeadGroups};
use segql::sql::{Dialect, Postgres, Sqlite};

const EXAMPLE_MODELS: &str = include_str!("../../../examples/scoring.segql");

fn score_sql_of(dialect: &dyn Dialect) -> Vec<(String, String)> {
    let schema = crm_schema();
    let models = parse_and_check(EXAMPLE_MODELS, &schema).expect("the example models check");
    let groups = LeadGroups::of(&schema, "lead").expect("the built-in lead");
    let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    models
        .iter()
        .map(|m| {
            let q = score_sql(m, &groups.scored, &schema, dialect, now).expect("compiles");
            (m.name.clone(), q.sql)
        })
        .collect()
}

fn occurrences(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn each_parent_is_joined_once_and_read_by_every_rule() {
    for dialect in [&Sqlite as &dyn Dialect, &Postgres] {
        for (model, sql) in score_sql_of(dialect) {
            let contact_join = format!("LEFT JOIN {} AS", dialect.quote_ident("contact"));
            assert_eq!(occurrences(&sql, &contact_join), 1, "{model}:\n{sql}");
            // No rule reads the contact through a subquery of its own.
            let contact_from = format!("FROM {} AS", dialect.quote_ident("contact"));
            assert_eq!(occurrences(&sql, &contact_from), 0, "{model}:\n{sql}");
        }
    }
}

#[test]
fn the_interaction_counts_share_one_pass() {
    for dialect in [&Sqlite as &dyn Dialect, &Postgres] {
        let (model, sql) = score_sql_of(dialect).swap_remove(0);
        assert_eq!(model, "engagement");
        let interaction = format!("FROM {} AS", dialect.quote_ident("interaction"));
        // Four `per contact.interaction(..)` rules, one scan.
        assert_eq!(occurrences(&sql, &interaction), 1, "{sql}");
        assert_eq!(occurrences(&sql, "SUM(x"), 4, "{sql}");
    }
}

#[test]
fn the_scores_are_not_sorted() {
    for (model, sql) in score_sql_of(&Sqlite) {
        assert!(!sql.contains("ORDER BY"), "{model}:\n{sql}");
    }
}

#[test]
fn snapshots_of_the_example_models() {
    for (name, dialect) in [("sqlite", &Sqlite as &dyn Dialect), ("postgres", &Postgres)] {
        for (model, sql) in score_sql_of(dialect) {
            insta::assert_snapshot!(format!("score_sql_{name}_{model}"), sql);
        }
    }
}
