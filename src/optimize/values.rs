//! Comparing literal values at optimization time.
//!
//! The optimizer may only decide `a < b` or `a = b` between two literals when
//! every back end would decide it the same way. So it compares values of the
//! same kind only: an `Integer` never meets a `Decimal` here (an `i64` does not
//! always survive a trip through `f64`), and relative times are compared only
//! with relative times of the same form, which resolve against the same
//! reference time and so keep their order.

use std::cmp::Ordering;

use crate::plan::Value;

/// The kind of a value as far as ordering is concerned: two values can be
/// ordered at optimization time only when their classes are equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Text,
    Integer,
    Decimal,
    Bool,
    Uuid,
    Choice,
    Date,
    DateTime,
    TodayPlusDays,
    /// `now ± seconds`; the flag is `midnight`.
    NowPlusSeconds(bool),
}

/// The ordering class of `value`; `None` for a value nothing can be compared
/// with (a NaN decimal).
pub fn class(value: &Value) -> Option<Class> {
    Some(match value {
        Value::Text(_) => Class::Text,
        Value::Integer(_) => Class::Integer,
        Value::Decimal(d) if d.is_nan() => return None,
        Value::Decimal(_) => Class::Decimal,
        Value::Bool(_) => Class::Bool,
        Value::Uuid(_) => Class::Uuid,
        Value::Choice { .. } => Class::Choice,
        Value::Date(_) => Class::Date,
        Value::DateTime(_) => Class::DateTime,
        Value::TodayPlusDays(_) => Class::TodayPlusDays,
        Value::NowPlusSeconds { midnight, .. } => Class::NowPlusSeconds(*midnight),
    })
}

/// The order of two values of the same class, as every back end sees it:
/// numbers numerically, text by code point (which is the byte order of
/// UTF-8), uuids as numbers, choices by code, booleans false < true.
/// `None` when the classes differ or the values are not comparable.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Integer(x), Value::Integer(y)) => Some(x.cmp(y)),
        (Value::Decimal(x), Value::Decimal(y)) => x.partial_cmp(y),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Uuid(x), Value::Uuid(y)) => Some(x.cmp(y)),
        (Value::Choice { code: x, .. }, Value::Choice { code: y, .. }) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        (Value::TodayPlusDays(x), Value::TodayPlusDays(y)) => Some(x.cmp(y)),
        (
            Value::NowPlusSeconds {
                seconds: x,
                midnight: mx,
            },
            Value::NowPlusSeconds {
                seconds: y,
                midnight: my,
            },
        ) if mx == my => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_decimals_do_not_mix() {
        assert_eq!(compare(&Value::Integer(1), &Value::Decimal(1.0)), None);
        assert_eq!(
            compare(&Value::Decimal(1.5), &Value::Decimal(2.0)),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare(&Value::Decimal(f64::NAN), &Value::Decimal(1.0)),
            None
        );
        assert_eq!(class(&Value::Decimal(f64::NAN)), None);
    }

    #[test]
    fn text_orders_by_code_point() {
        // "Z" (U+005A) < "a" (U+0061) < "é" (U+00E9) < "😀" (U+1F600).
        let order = ["Z", "a", "é", "\u{FFFD}", "😀"];
        for pair in order.windows(2) {
            let a = Value::Text(pair[0].into());
            let b = Value::Text(pair[1].into());
            assert_eq!(compare(&a, &b), Some(Ordering::Less), "{pair:?}");
        }
    }

    #[test]
    fn relative_times_compare_only_in_the_same_form() {
        let now = |seconds, midnight| Value::NowPlusSeconds { seconds, midnight };
        assert_eq!(
            compare(&now(-5, false), &now(3, false)),
            Some(Ordering::Less)
        );
        assert_eq!(compare(&now(-5, true), &now(3, false)), None);
        assert_eq!(compare(&Value::TodayPlusDays(0), &now(0, true)), None);
        assert_eq!(
            compare(&Value::TodayPlusDays(2), &Value::TodayPlusDays(1)),
            Some(Ordering::Greater)
        );
        let date = Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default());
        assert_eq!(compare(&Value::TodayPlusDays(0), &date), None);
    }

    #[test]
    fn choices_compare_by_code() {
        let a = Value::Choice {
            code: 1,
            label: "Z".into(),
        };
        let b = Value::Choice {
            code: 2,
            label: "A".into(),
        };
        assert_eq!(compare(&a, &b), Some(Ordering::Less));
        assert_eq!(compare(&a, &a), Some(Ordering::Equal));
    }
}
