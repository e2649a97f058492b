//! Aggregates (SPEC 2.5): chains, fields, value types and the test.

use super::*;
use crate::plan::{AggregateFn, AggregateTest, CmpOp, Direction, Test, Value, ValueType};

/// The aggregate test of a one-aggregate query and whether it was negated.
fn aggregate_of(text: &str) -> (AggregateTest, bool) {
    match filter(text) {
        PlanExpr::Aggregate(test) => (*test, false),
        PlanExpr::Not(inner) => match *inner {
            PlanExpr::Aggregate(test) => (*test, true),
            other => panic!("{text}: {other:?}"),
        },
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn chains_resolve_hop_by_hop_in_both_directions() {
    let (test, negated) = aggregate_of(
        "lead where count(contact.interaction(type = \"Email Clicked\" and occurred_on >= now - 30d)) >= 2",
    );
    assert!(!negated);
    let aggregate = &test.aggregate;
    assert_eq!(aggregate.function, AggregateFn::Count);
    let hops: Vec<(&str, Direction, &str)> = aggregate
        .chain
        .iter()
        .map(|h| {
            (
                h.link.relationship.as_str(),
                h.link.direction,
                h.link.to.as_str(),
            )
        })
        .collect();
    assert_eq!(
        hops,
        [
            ("lead_parent_contact", Direction::ToParent, "contact"),
            ("interaction_contact", Direction::ToChildren, "interaction"),
        ]
    );
    assert_eq!(aggregate.chain[0].filter, PlanExpr::Const(true));
    assert!(matches!(aggregate.chain[1].filter, PlanExpr::And(_)));
    assert_eq!(aggregate.field, None);
    assert_eq!(aggregate.value_type(), ValueType::Integer);
    assert_eq!(
        test.test,
        Test::Compare {
            op: CmpOp::Ge,
            value: Value::Integer(2)
        }
    );
    assert!(!aggregate.fans_in());
}

#[test]
fn values_take_the_aggregates_type() {
    // `sum` of a decimal field compares as a decimal.
    let (test, _) =
        aggregate_of("contact where sum(lead(status = \"Open\").estimated_value) > 10000");
    assert_eq!(test.aggregate.value_type(), ValueType::Decimal);
    assert_eq!(
        test.test,
        Test::Compare {
            op: CmpOp::Gt,
            value: Value::Decimal(10000.0)
        }
    );
    // `avg` is a decimal even over integers.
    let (test, _) = aggregate_of("contact where avg(lead.score) = 3");
    assert_eq!(test.aggregate.value_type(), ValueType::Decimal);
    assert!(matches!(test.test, Test::Compare { value: Value::Decimal(v), .. } if v == 3.0));
    // `max` of a date-time takes relative times, resolved later.
    let (test, _) = aggregate_of(
        "contact where max(interaction(type = \"Email Opened\").occurred_on) < now - 90d",
    );
    assert_eq!(test.aggregate.value_type(), ValueType::DateTime);
    assert!(matches!(
        test.test,
        Test::Compare {
            op: CmpOp::Lt,
            value: Value::NowPlusSeconds {
                seconds: -7_776_000,
                midnight: false
            }
        }
    ));
    // `min` of an ordered choice compares by label, resolved to its code.
    let (test, _) = aggregate_of("account where min(contact.consent_level) >= \"marketing\"");
    assert!(matches!(
        test.test,
        Test::Compare {
            value: Value::Choice { code: 4, .. },
            ..
        }
    ));
}

#[test]
fn negative_forms_are_the_complement_of_positive_tests() {
    let (test, negated) = aggregate_of("contact where count(lead) != 2");
    assert!(negated);
    assert!(matches!(test.test, Test::Compare { op: CmpOp::Eq, .. }));
    let (test, negated) = aggregate_of("contact where avg(lead.score) is null");
    assert!(negated);
    assert_eq!(test.test, Test::IsNotNull);
    let (test, negated) = aggregate_of("contact where avg(lead.score) is not null");
    assert!(!negated);
    assert_eq!(test.test, Test::IsNotNull);
    let (_, negated) = aggregate_of("contact where sum(lead.score) not between 1 and 5");
    assert!(negated);
}

#[test]
fn fan_in_is_known_from_the_chain() {
    let (test, _) = aggregate_of("contact where count(lead.account) = 1");
    assert!(test.aggregate.fans_in());
    let (test, _) = aggregate_of("account where count(contact.lead) = 1");
    assert!(!test.aggregate.fans_in());
}

#[test]
fn errors_name_the_fields_type() {
    let message = error("contact where sum(lead.topic) > 1").to_string();
    assert!(message.contains("text field lead.topic"), "{message}");
    let message = error("contact where avg(lead.created_on) > 1").to_string();
    assert!(
        message.contains("datetime field lead.created_on"),
        "{message}"
    );
    let message = error("contact where count(lead.score) > 1").to_string();
    assert!(message.contains("integer field lead.score"), "{message}");
    assert!(matches!(
        error("contact where count(lead via nothing) > 1"),
        Error::UnknownVia { .. }
    ));
}

#[test]
fn each_hop_is_a_level_of_depth() {
    // The aggregate, then hop i's filter at i + 1 levels below it.
    let plan = plan("contact where count(lead(score > 1).account(employees > 2)) > 1").unwrap();
    assert_eq!(crate::plan::depth(&plan.filter), 3);
}
