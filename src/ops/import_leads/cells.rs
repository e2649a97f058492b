//! One cell of an imported file, typed by its lead field (SPEC §7): the
//! value as the database stores it (SPEC §3.1), or why it is not one.
//!
//! Cells are trimmed (of ASCII whitespace, as emails are when matched) and
//! an empty cell is missing. The other values are
//! written as in the language, without quotes around text: choices by label
//! (any case, as a query's label literal: `ChoiceSet::by_label`), bools
//! `true`/`false`, integers, decimals, dates `2024-05-01` and date-times
//! `2024-05-01T10:30:00Z` (a date in a date-time column is midnight UTC),
//! read by the language's own literal parser so a value means the same in a
//! file as in a segment. Relative times (`now - 1d`) are refused: a file's
//! meaning must not depend on when it is imported.

use crate::db::Param;
use crate::error::Error;
use crate::schema::{Entity, Field, FieldType};
use crate::sql::sqlite::{DATETIME_FORMAT, DATE_FORMAT};
use crate::syntax::ast::LiteralKind;

/// The stored value of `text` (a cell) for `field` of `entity`; `None` for
/// an empty cell. The error is the message, without the place.
pub(super) fn parse_cell(
    entity: &Entity,
    field: &Field,
    text: &str,
) -> std::result::Result<Option<Param>, String> {
    let text = trim(text);
    if text.is_empty() {
        return Ok(None);
    }
    let qualified = format!("{}.{}", entity.name, field.name);
    let value = match &field.ty {
        FieldType::Text => Param::Text(text.to_string()),
        FieldType::Choice(set) => match set.by_label(text) {
            Some(option) => Param::Int(option.code),
            None => {
                let labels: Vec<&str> = set.options.iter().map(|o| o.label.as_str()).collect();
                // The language's own message: valid labels, nearest one.
                let error = Error::UnknownChoice {
                    label: text.to_string(),
                    entity: entity.name.clone(),
                    field: field.name.clone(),
                    valid: labels.iter().map(|l| l.to_string()).collect(),
                    suggestion: crate::error::suggest(text, labels.iter().copied()),
                    span: Default::default(),
                };
                return Err(error.to_string());
            }
        },
        FieldType::Uuid => match uuid::Uuid::parse_str(text) {
            Ok(id) => Param::Text(id.hyphenated().to_string()),
            Err(_) => {
                return Err(format!(
                    "{qualified} is a uuid; write one like 0b5a3c1e-8f0d-4c8e-9a51-2f0e6b7d9c10, or leave the cell empty"
                ))
            }
        },
        FieldType::Bool => {
            if text.eq_ignore_ascii_case("true") {
                Param::Bool(true)
            } else if text.eq_ignore_ascii_case("false") {
                Param::Bool(false)
            } else {
                return Err(format!(
                    "{qualified} is a bool; write true or false, or leave the cell empty"
                ));
            }
        }
        FieldType::Integer => match literal(text) {
            Some(LiteralKind::Integer(i)) => Param::Int(i),
            _ => {
                return Err(format!(
                    "{qualified} is an integer; write a whole number like 42 or -7"
                ))
            }
        },
        FieldType::Decimal => match literal(text) {
            Some(LiteralKind::Integer(i)) => Param::Real(i as f64),
            Some(LiteralKind::Decimal(x)) => Param::Real(x),
            _ => {
                return Err(format!(
                    "{qualified} is a decimal; write a number like 3.25 (a point, no exponent, no thousands separator)"
                ))
            }
        },
        FieldType::Date => match literal(text) {
            Some(LiteralKind::Date(d)) => Param::Text(d.format(DATE_FORMAT).to_string()),
            _ => {
                return Err(format!(
                    "{qualified} is a date; write a valid date like 2024-05-01"
                ))
            }
        },
        FieldType::DateTime => match literal(text) {
            Some(LiteralKind::DateTime(t)) => Param::Text(t.format(DATETIME_FORMAT).to_string()),
            Some(LiteralKind::Date(d)) => Param::Text(
                d.and_time(chrono::NaiveTime::MIN)
                    .and_utc()
                    .format(DATETIME_FORMAT)
                    .to_string(),
            ),
            _ => {
                return Err(format!(
                    "{qualified} is a date-time; write a valid one like 2024-05-01T10:30:00Z (UTC, or with an offset like +02:00) or a date like 2024-05-01"
                ))
            }
        },
    };
    Ok(Some(value))
}

/// `text` without leading and trailing ASCII whitespace: the trimming of
/// emails when they are matched (SPEC §5), so a trimmed cell and a stored
/// email compare alike.
pub(super) fn trim(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_ascii_whitespace())
}

/// `text` read as a literal of the language, when it is one. Strings are
/// never wanted here (text cells are taken as they are), so a quote is no
/// literal either.
///
/// The plain forms a file is made of (`42`, `-7`, `3.25`, `2024-05-01`) are
/// read directly, a million cells in a blink; they mean what the language's
/// parser gives them. Anything else goes to that parser.
fn literal(text: &str) -> Option<LiteralKind> {
    if text.starts_with('"') {
        return None;
    }
    if let Some(kind) = plain_number(text) {
        return Some(kind);
    }
    if let Some(kind) = plain_date(text) {
        return Some(kind);
    }
    crate::syntax::parse_literal(text).ok().map(|l| l.kind)
}

/// An optional `-`, digits, and optionally `.` and digits: an integer (when
/// it fits in an i64) or a decimal. `None` for any other text (or an integer
/// out of range, which the parser reports).
fn plain_number(text: &str) -> Option<LiteralKind> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !fraction.is_none_or(all_digits) {
        return None;
    }
    match fraction {
        None => text.parse().ok().map(LiteralKind::Integer),
        Some(_) => text.parse().ok().map(LiteralKind::Decimal),
    }
}

/// `YYYY-MM-DD`, a valid date. `None` for any other text.
fn plain_date(text: &str) -> Option<LiteralKind> {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(LiteralKind::Date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(field: &str, text: &str) -> std::result::Result<Option<Param>, String> {
        let schema = crate::schema::crm_schema();
        let lead = schema.entity("lead").unwrap();
        parse_cell(lead, lead.field(field).unwrap(), text)
    }

    #[test]
    fn values_are_typed_like_literals_of_the_language() {
        assert_eq!(
            cell("topic", "  Expo  "),
            Ok(Some(Param::Text("Expo".into())))
        );
        assert_eq!(cell("topic", "   "), Ok(None));
        assert_eq!(cell("source", "trade show"), Ok(Some(Param::Int(7))));
        assert_eq!(cell("score", "-7"), Ok(Some(Param::Int(-7))));
        assert_eq!(cell("estimated_value", "12"), Ok(Some(Param::Real(12.0))));
        assert_eq!(cell("estimated_value", "3.25"), Ok(Some(Param::Real(3.25))));
        assert_eq!(cell("sales_ready", "TRUE"), Ok(Some(Param::Bool(true))));
        assert_eq!(
            cell("created_on", "2024-05-01"),
            Ok(Some(Param::Text("2024-05-01T00:00:00Z".into())))
        );
        assert_eq!(
            cell("created_on", "2024-05-01T12:30:00+02:00"),
            Ok(Some(Param::Text("2024-05-01T10:30:00Z".into())))
        );
        assert_eq!(
            cell("contact_id", "00000000-0000-4000-8000-00000000000A"),
            Ok(Some(Param::Text(
                "00000000-0000-4000-8000-00000000000a".into()
            )))
        );
    }

    #[test]
    fn plain_forms_read_as_the_language_reads_them() {
        for text in [
            "42",
            "-7",
            "0",
            "3.25",
            "-0.5",
            "007",
            "2024-05-01",
            "2024-02-30",
            "1.",
            ".5",
        ] {
            let direct = plain_number(text).or_else(|| plain_date(text));
            let parsed = crate::syntax::parse_literal(text).ok().map(|l| l.kind);
            if direct.is_some() {
                assert_eq!(direct, parsed, "{text}");
            }
        }
        assert_eq!(plain_number("1e3"), None);
        assert_eq!(plain_number("+4"), None);
        assert_eq!(plain_number("99999999999999999999"), None);
    }

    #[test]
    fn wrong_values_say_what_is_expected() {
        let err = cell("source", "Trade Shw").unwrap_err();
        assert!(err.contains("did you mean \"Trade Show\""), "{err}");
        assert!(err.contains("\"Web\""), "{err}");
        assert!(cell("score", "4.5").unwrap_err().contains("integer"));
        assert!(cell("score", "1e3").is_err());
        assert!(cell("sales_ready", "yes")
            .unwrap_err()
            .contains("true or false"));
        assert!(cell("created_on", "2024-02-30")
            .unwrap_err()
            .contains("date-time"));
        assert!(cell("created_on", "now").is_err(), "no relative times");
        assert!(cell("contact_id", "abc").unwrap_err().contains("uuid"));
    }
}
