//! `in NAME` kept as a node (`check_keeping_segments`, for `why`) against
//! the default check, which inlines the segment: the default plans hold no
//! such node, the kept ones mean the same, and the optimizer simplifies a
//! kept segment's filter without merging it with the nodes around it.
#![allow(clippy::result_large_err)] // the library's Error is large by design

use segql::plan::{Plan, PlanExpr};
use segql::schema::crm_schema;
use segql::syntax::{parse_library, parse_query};
use segql::Options;

const LIBRARY: &str = include_str!("../../../examples/segments.segql");

/// The names of the `in NAME` nodes of `expr`, outermost first.
fn segment_names(expr: &PlanExpr) -> Vec<String> {
    let mut names = Vec::new();
    let mut stack = vec![expr];
    while let Some(expr) = stack.pop() {
        match expr {
            PlanExpr::Segment(segment) => {
                names.push(segment.name.clone());
                stack.push(&segment.filter);
            }
            PlanExpr::Not(inner) => stack.push(inner),
            PlanExpr::And(items) | PlanExpr::Or(items) => stack.extend(items.iter().rev()),
            PlanExpr::Related(related) => stack.push(&related.filter),
            PlanExpr::Aggregate(test) => {
                stack.extend(test.aggregate.chain.iter().map(|hop| &hop.filter))
            }
            PlanExpr::Const(_) | PlanExpr::Field(_) => {}
        }
    }
    names
}

fn kept(text: &str, options: &Options) -> Plan {
    let query = parse_query(text).expect("query parses");
    segql::check::check_keeping_segments(&query, options)
        .0
        .expect("query checks")
}

#[test]
fn the_default_check_inlines_segments_and_keeping_them_means_the_same() {
    let schema = crm_schema();
    let library = parse_library(LIBRARY).expect("the example library parses");
    let mut options = Options::new(&schema);
    options.library = Some(&library);
    for text in [
        "contact where in spring_audience",
        r#"contact where not in decision_makers or city = "Paris""#,
    ] {
        for optimize in [true, false] {
            options.optimize = optimize;
            let plan = segql::plan(text, &options).expect("query checks");
            assert!(!plan.filter.has_segments(), "{text}: {plan:?}");
        }
        options.optimize = false;
        let inlined = segql::plan(text, &options).expect("query checks");
        let with_names = kept(text, &options);
        assert!(with_names.filter.has_segments(), "{text}");
        assert_eq!(
            with_names.filter.clone().without_segments(),
            inlined.filter,
            "{text}"
        );
        assert_eq!(
            with_names.filter,
            segql::plan_keeping_segments(text, &options)
                .expect("query checks")
                .filter
        );
    }
    // Nested segments are kept at every level, each named as defined.
    let with_names = kept("contact where in spring_audience", &options);
    assert_eq!(
        segment_names(&with_names.filter),
        ["spring_audience", "decision_makers", "recently_engaged"]
    );
    assert_eq!(with_names.to_string(), "contact where in spring_audience");
}

#[test]
fn the_optimizer_keeps_a_kept_segment_apart() {
    let schema = crm_schema();
    let library = parse_library(
        r#"segment paris_staff = contact where city = "Paris" and (role = "Employee" and city is not null)"#,
    )
    .expect("library parses");
    let mut options = Options::new(&schema);
    options.library = Some(&library);
    let text = r#"contact where in paris_staff and city = "Paris""#;
    // Inlined, the `and`s merge and the tests on city become one.
    let inlined = segql::plan(text, &options).expect("query checks");
    assert_eq!(
        inlined.to_string(),
        r#"contact where city = "Paris" and role = "Employee""#
    );
    // Kept, the segment stays one operand, its own filter simplified.
    let plan = segql::plan_keeping_segments(text, &options).expect("query checks");
    let PlanExpr::And(items) = &plan.filter else {
        panic!("{plan}")
    };
    assert_eq!(items.len(), 2, "{plan}");
    let segment = items
        .iter()
        .find_map(|item| match item {
            PlanExpr::Segment(segment) => Some(segment),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no `in paris_staff` in {plan}"));
    assert_eq!(segment.name, "paris_staff");
    assert_eq!(
        segment.filter.to_string(),
        r#"city = "Paris" and role = "Employee""#
    );
    // A negated segment keeps its `not` above the node.
    let plan = segql::plan_keeping_segments("contact where not in paris_staff", &options)
        .expect("query checks");
    assert!(
        matches!(&plan.filter, PlanExpr::Not(inner) if matches!(**inner, PlanExpr::Segment(_))),
        "{plan}"
    );
}
