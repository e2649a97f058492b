//! Literal typing: text, numbers, bools, uuids, choices, dates and times.

use chrono::NaiveDate;

use super::*;
use crate::plan::{FieldTest, Test, Value, ValueType};

/// The field test of a one-predicate query.
fn test_of(text: &str) -> FieldTest {
    match filter(text) {
        PlanExpr::Field(t) => t,
        PlanExpr::Not(inner) => match *inner {
            PlanExpr::Field(t) => t,
            other => panic!("{text}: {other:?}"),
        },
        other => panic!("{text}: {other:?}"),
    }
}

fn value_of(text: &str) -> Value {
    match test_of(text).test {
        Test::Compare { value, .. } => value,
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn choice_labels_resolve_ignoring_case_to_codes() {
    assert_eq!(
        value_of("contact where role = \"decision MAKER\""),
        Value::Choice {
            code: 1,
            label: "Decision Maker".into()
        }
    );
    assert_eq!(
        test_of("contact where role = \"Employee\"").field.ty,
        ValueType::Choice
    );
}

#[test]
fn unknown_labels_list_the_valid_ones_and_suggest() {
    let err = error("contact where role = \"Decision Makers\"");
    let Error::UnknownChoice {
        valid, suggestion, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(valid, &["Decision Maker", "Employee", "Influencer"]);
    assert_eq!(suggestion.as_deref(), Some("Decision Maker"));
    // Labels are strings in the language: suggested and listed in double
    // quotes, never in single quotes (which the parser refuses).
    assert_eq!(
        err.to_string(),
        "unknown label \"Decision Makers\" for contact.role; did you mean \"Decision Maker\"?; \
         valid labels: \"Decision Maker\", \"Employee\", \"Influencer\""
    );
}

#[test]
fn numbers_take_integer_or_decimal_literals() {
    assert_eq!(value_of("lead where score > 2.5"), Value::Decimal(2.5));
    // A decimal field holds doubles: an integer literal is the nearest one.
    assert_eq!(
        value_of("lead where estimated_value > 7"),
        Value::Decimal(7.0)
    );
    assert!(matches!(
        error("lead where score > \"high\""),
        Error::TypeMismatch { .. }
    ));
}

#[test]
fn type_errors_name_both_types() {
    assert_eq!(
        error("contact where birth_date < \"x\"").to_string(),
        "type mismatch: contact.birth_date expects date, found text \"x\""
    );
    let msg = error("contact where email = 42").to_string();
    assert!(
        msg.contains("expects text") && msg.contains("integer 42"),
        "{msg}"
    );
    let msg = error("contact where role = 1").to_string();
    assert!(
        msg.contains("choice label") && msg.contains("integer 1"),
        "{msg}"
    );
    let msg = error("contact where is_child = \"yes\"").to_string();
    assert!(msg.contains("expects bool"), "{msg}");
}

#[test]
fn uuids_parse_and_are_stored_lowercase() {
    let Value::Uuid(id) =
        value_of("contact where account_id = \"0B5A3C1E-8F0D-4C8E-9A51-2F0E6B7D9C10\"")
    else {
        panic!("a uuid");
    };
    assert_eq!(id.to_string(), "0b5a3c1e-8f0d-4c8e-9a51-2f0e6b7d9c10");
    assert!(matches!(
        error("contact where account_id = \"nope\""),
        Error::InvalidValue { .. }
    ));
}

#[test]
fn dates_take_dates_and_today_in_whole_days() {
    assert_eq!(
        value_of("contact where birth_date = 2000-02-29"),
        Value::Date(NaiveDate::from_ymd_opt(2000, 2, 29).expect("date"))
    );
    assert_eq!(
        value_of("contact where birth_date > today - 2w"),
        Value::TodayPlusDays(-14)
    );
    assert_eq!(
        value_of("contact where birth_date > today + 48h"),
        Value::TodayPlusDays(2)
    );
    assert_eq!(
        value_of("contact where birth_date > today"),
        Value::TodayPlusDays(0)
    );
    let err = error("contact where birth_date > today + 12h");
    assert!(err.to_string().contains("whole days"), "{err}");
    let err = error("contact where birth_date > now - 1d");
    assert!(matches!(err, Error::TypeMismatch { .. }), "{err:?}");
    assert!(matches!(
        error("contact where birth_date = 2024-05-01T10:00:00Z"),
        Error::TypeMismatch { .. }
    ));
}

#[test]
fn datetimes_take_datetimes_dates_now_and_today() {
    assert_eq!(
        value_of("contact where created_on > now - 90min"),
        Value::NowPlusSeconds {
            seconds: -5400,
            midnight: false
        }
    );
    assert_eq!(
        value_of("contact where created_on >= today - 1d"),
        Value::NowPlusSeconds {
            seconds: -86_400,
            midnight: true
        }
    );
    let Value::DateTime(t) = value_of("contact where created_on > 2024-05-01") else {
        panic!("a date-time");
    };
    assert_eq!(t.to_rfc3339(), "2024-05-01T00:00:00+00:00");
    assert!(error("contact where created_on > today + 1h")
        .to_string()
        .contains("whole days"));
}

#[test]
fn ordering_needs_an_ordered_type() {
    filter("contact where consent_level >= \"Marketing\"");
    filter("contact where city between \"A\" and \"M\"");
    assert!(matches!(
        error("contact where role > \"Employee\""),
        Error::NotOrdered { .. }
    ));
    assert!(matches!(
        error("account where industry between \"Accounting\" and \"Retail\""),
        Error::NotOrdered { .. }
    ));
    assert!(matches!(
        error("contact where is_child < true"),
        Error::TypeMismatch { .. }
    ));
    assert!(matches!(
        error("contact where id > \"0b5a3c1e-8f0d-4c8e-9a51-2f0e6b7d9c10\""),
        Error::TypeMismatch { .. }
    ));
    // Equality and lists are fine on unordered choices.
    filter("contact where role != \"Employee\" and role in [\"Influencer\"]");
}

#[test]
fn text_operators_only_on_text() {
    let t = test_of("contact where email ends with \"@EXAMPLE.com\"");
    assert!(matches!(t.test, Test::Text { ref pattern, .. } if pattern == "@EXAMPLE.com"));
    let err = error("lead where score contains \"5\"");
    assert!(
        err.to_string().contains("integer field lead.score"),
        "{err}"
    );
    assert!(matches!(
        error("contact where role starts with \"Dec\""),
        Error::TypeMismatch { .. }
    ));
}

#[test]
fn every_value_of_a_list_is_typed() {
    let t = test_of("lead where status in [\"open\", \"QUALIFIED\"]");
    let Test::InList(values) = t.test else {
        panic!("a list");
    };
    assert_eq!(values.len(), 2);
    assert!(matches!(
        error("lead where score in [1, \"two\"]"),
        Error::TypeMismatch { .. }
    ));
}
