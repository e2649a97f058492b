//! The question a runner asks before choosing how counts under a root `or`
//! are tested, the choice, and the SQL of each form. That both forms give
//! the same records on PostgreSQL is tested in
//! `tests/it/sql/root_or_counts.rs`.

use chrono::{TimeZone, Utc};

use super::*;
use crate::plan::PlanExpr;
use crate::schema::crm_schema;
use crate::sql::{to_sql, Postgres, SqlOptions, Sqlite};

fn plan(text: &str) -> Plan {
    crate::plan(text, &crate::Options::new(&crm_schema())).expect("the segment checks")
}

/// The plan as checked, negations where the text has them.
fn unoptimized_plan(text: &str) -> Plan {
    let schema = crm_schema();
    let options = crate::Options {
        optimize: false,
        ..crate::Options::new(&schema)
    };
    crate::plan(text, &options).expect("the segment checks")
}

fn postgres_question(text: &str) -> Option<CountQuestion> {
    question(&plan(text), &crm_schema(), &Postgres).unwrap()
}

/// The plan's root `or` operands that test fields only.
fn field_operands(plan: &Plan) -> Vec<PlanExpr> {
    let PlanExpr::Or(items) = &plan.filter else {
        panic!("not an or: {:?}", plan.filter)
    };
    items
        .iter()
        .filter(|item| matches!(item, PlanExpr::Field(_)))
        .cloned()
        .collect()
}

#[test]
fn question_names_each_counted_child_and_the_records_failing_the_own_row_tests() {
    let text = "contact where country = \"France\" or has at least 3 interaction \
                or is_child or has at most 2 lead(status = \"Open\") or has subscription";
    let question = postgres_question(text).expect("counts under a root or");
    let mut tables = question.child_tables.clone();
    tables.sort();
    assert_eq!(tables, ["interaction", "lead"]);
    assert_eq!(question.root_table, "contact");
    let own = field_operands(&plan(text));
    assert_eq!(own.len(), 2);
    assert_eq!(
        question.reach,
        Some(Plan {
            entity: "contact".into(),
            filter: PlanExpr::Not(Box::new(PlanExpr::Or(own))),
        })
    );
}

#[test]
fn the_operands_written_before_the_first_count_are_tested_before_it() {
    let text = "contact where has lead(status = \"Open\") or country = \"France\" \
                or has at least 3 interaction or has subscription";
    let question = postgres_question(text).expect("a count under a root or");
    let checked = plan(text);
    let PlanExpr::Or(items) = &checked.filter else {
        panic!("not an or")
    };
    let field = items.iter().find(|item| matches!(item, PlanExpr::Field(_)));
    let has_lead = items.iter().find(|item| match item {
        PlanExpr::Related(related) => related.link.to.as_str() == "lead",
        _ => false,
    });
    // The field test first (the SQL moves it ahead), then the `has lead`
    // written before the count; not the `has subscription` after it.
    assert_eq!(
        question.reach.expect("tests before the count").filter,
        PlanExpr::Not(Box::new(PlanExpr::Or(vec![
            field.expect("the field test").clone(),
            has_lead.expect("the has lead").clone(),
        ])))
    );
}

#[test]
fn a_negated_and_is_an_or_of_negated_operands() {
    let text = "contact where not (country = \"France\" and has at most 4 interaction)";
    let negated = unoptimized_plan(text);
    let question = question(&negated, &crm_schema(), &Postgres)
        .unwrap()
        .expect("a count under a root or");
    assert_eq!(question.child_tables, ["interaction"]);
    let PlanExpr::Not(and) = &negated.filter else {
        panic!("not a negation")
    };
    let PlanExpr::And(items) = &**and else {
        panic!("not an and")
    };
    let field = items
        .iter()
        .find(|item| matches!(item, PlanExpr::Field(_)))
        .expect("the field test")
        .clone();
    // `not (not field)`: the records that pass the field test reach the
    // count, since `not field` is false for them.
    assert_eq!(
        question.reach.expect("a field test").filter,
        PlanExpr::Not(Box::new(PlanExpr::Not(Box::new(field))))
    );
}

#[test]
fn an_or_without_own_row_tests_is_reached_by_every_record() {
    let question = postgres_question("contact where has at least 3 interaction or has no lead")
        .expect("a count under a root or");
    assert_eq!(question.reach, None);
}

#[test]
fn no_question_without_a_count_under_a_root_or_written_for_a_scan() {
    for text in [
        // A `has` that needs one related record, not a count.
        "contact where country = \"France\" or has lead",
        // No root `or`.
        "contact where country = \"France\" and has at least 3 interaction",
        // A count of a lead's children: under the `has`, not the root.
        "contact where country = \"France\" or has account(has at least 2 lead)",
    ] {
        assert_eq!(postgres_question(text), None, "{text}");
    }
    let counted = plan("contact where country = \"France\" or has at least 3 interaction");
    assert_eq!(question(&counted, &crm_schema(), &Sqlite).unwrap(), None);
}

#[test]
fn counting_pays_only_where_the_hash_is_dear() {
    // 1M contacts, 10,000 of them sampled: the hash of 10M interactions
    // or of 1.5M leads is worth the sample, of 500,000 leads not.
    assert!(worth_counting(1e6, &[1e7]));
    assert!(worth_counting(1e6, &[1.5e6]));
    assert!(!worth_counting(1e6, &[5e5]));
    // 1,000 contacts, counted whole: 10,000 interactions hash in a moment.
    assert!(!worth_counting(1000.0, &[10_000.0]));
    // The line: the hash at four times the count.
    let line = COUNT_PAYS_AT * SAMPLED_RECORDS * COUNT_NS_PER_ROOT_RECORD / HASH_NS_PER_CHILD_ROW;
    assert!(worth_counting(1e6, &[line * 1.01]));
    assert!(!worth_counting(1e6, &[line * 0.99]));
}

#[test]
fn large_tables_are_sampled_and_the_sample_scaled_up() {
    assert_eq!(sample_percent(1000.0), None);
    assert_eq!(sample_percent(COUNTED_WHOLE_UP_TO), None);
    assert_eq!(sample_percent(1e6), Some(1.0));
    assert_eq!(sample_percent(1e7), Some(0.1));
    assert_eq!(estimate(560, Some(1.0)), 56_000.0);
    assert_eq!(estimate(560, None), 560.0);
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    let reach = plan("contact where not (country = \"France\")");
    let sampled = reach_query(&reach, &crm_schema(), now, Some(1.0)).unwrap();
    assert!(
        sampled.sql.starts_with(
            "SELECT COUNT(*)\nFROM contact AS t0 TABLESAMPLE SYSTEM (1.0000) REPEATABLE (0)\n"
        ),
        "{}",
        sampled.sql
    );
    let whole = reach_query(&reach, &crm_schema(), now, None).unwrap();
    assert!(!whole.sql.contains("TABLESAMPLE"), "{}", whole.sql);
    assert_eq!(whole.params, sampled.params);
}

#[test]
fn few_reaching_records_are_counted_per_row() {
    // `wide_or_50` at 1M: 103,578 contacts fail its own-row tests.
    assert_eq!(choose(103_578.0, &[1e7]), RootOrCounts::PerRow);
    // `wide_or`: 226,831 reach a count over 1.5M leads.
    assert_eq!(choose(226_831.0, &[1.5e6]), RootOrCounts::Groups);
    // Every one of 1M contacts reaching a count over 10M interactions.
    assert_eq!(choose(1e6, &[1e7]), RootOrCounts::Groups);
    // Each count is probed: two of them need half the records.
    assert_eq!(choose(100_000.0, &[1e7, 1e7]), RootOrCounts::PerRow);
    assert_eq!(choose(150_000.0, &[1e7, 1e6]), RootOrCounts::Groups);
}

fn postgres_sql(text: &str, counts: RootOrCounts) -> String {
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    let options = SqlOptions {
        root_or_counts: counts,
        ..SqlOptions::new(false, now)
    };
    to_sql(&plan(text), &crm_schema(), &Postgres, &options)
        .unwrap()
        .sql
}

#[test]
fn per_row_counts_are_correlated_counts_and_groups_are_grouped() {
    let text =
        "contact where country = \"France\" or has at least 3 interaction(type = \"Email Opened\")";
    let groups = postgres_sql(text, RootOrCounts::Groups);
    assert!(groups.contains("GROUP BY"), "{groups}");
    let per_row = postgres_sql(text, RootOrCounts::PerRow);
    assert!(!per_row.contains("GROUP BY"), "{per_row}");
    assert!(per_row.contains("SELECT COUNT(*)"), "{per_row}");
    assert!(per_row.contains("= t0.id"), "correlated: {per_row}");
    // The field test still comes first, so the count is probed only for
    // the rows it leaves.
    let country = per_row.find("country").expect("the field test");
    assert!(country < per_row.find("COUNT(*)").unwrap(), "{per_row}");
}

#[test]
fn the_choice_changes_nothing_but_a_count_under_a_root_or() {
    for text in [
        "contact where country = \"France\" and has at least 3 interaction",
        "contact where country = \"France\" or has account(has at least 2 lead)",
        "contact where country = \"France\" or has interaction",
    ] {
        assert_eq!(
            postgres_sql(text, RootOrCounts::Groups),
            postgres_sql(text, RootOrCounts::PerRow),
            "{text}"
        );
    }
}
