//! `--set FIELD=VALUE[,FIELD=VALUE]` of `segql update`: split, resolve each
//! field against the schema and type each value like a query literal.
//!
//! Values are written as in queries (`city="Oslo"`, `score=40`,
//! `marketing_only=false`, `role="decision maker"`, `created_on=now`,
//! `birth_date=2001-02-03`), plus `null` for fields that may be empty.
//! Text and choice values that are no literal may also be written bare
//! (`role=Decision Maker`), which is what arrives when a shell strips the
//! quotes of `--set role="Decision Maker"`; bare text ends at a comma.
//! Choice labels match case-insensitively; unknown ones list the valid
//! labels. The key and foreign-key fields cannot be set: an update changes
//! data, not the shape of the relationships.

use serde::Serialize;

use crate::check::{typed_value, value_type};
use crate::error::{Error, Result};
use crate::plan::{FieldRef, Value};
use crate::schema::{Entity, Field, FieldType, Schema};
use crate::span::{SourceKind, Span};

/// One checked `FIELD=VALUE`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assignment {
    /// The field, with the schema's spelling and its type.
    pub field: FieldRef,
    /// The new value; `None` sets the field to null. Relative times
    /// (`now - 1d`) are resolved at the reference time of the update.
    pub value: Option<Value>,
    /// Where `FIELD=VALUE` is in the `--set` text.
    pub span: Span,
}

/// Parse and check `--set` text against `entity` of `schema`.
///
/// Error spans are byte offsets into `text` (tagged [`SourceKind::Query`]),
/// so render them against the `--set` text, not the query.
///
/// Errors: a missing `=` or empty part, an unknown field (with the nearest
/// name), a field set twice, the key or a foreign-key field, a value of the
/// wrong type (both types named), an unknown choice label (valid labels
/// listed), `null` on a field that cannot be empty.
pub fn parse_assignments(text: &str, entity: &str, schema: &Schema) -> Result<Vec<Assignment>> {
    let whole = Span::new(0, text.len(), SourceKind::Query);
    if text.len() > crate::error::limits::MAX_TEXT_BYTES {
        return Err(Error::TooLarge {
            size: text.len(),
            limit: crate::error::limits::MAX_TEXT_BYTES,
            span: whole,
        });
    }
    let entity = schema.find_entity(entity, whole)?;
    let mut out: Vec<Assignment> = Vec::new();
    for (start, part) in split_top_level(text) {
        let assignment = parse_one(start, part, entity, schema)?;
        if out.iter().any(|a| a.field.field == assignment.field.field) {
            return Err(Error::InvalidValue {
                message: format!("{} is set twice", assignment.field.field),
                span: assignment.span,
            });
        }
        out.push(assignment);
    }
    Ok(out)
}

/// The parts of `text` between commas that are not inside a double-quoted
/// string, each with its byte offset.
fn split_top_level(text: &str) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let (mut start, mut in_string, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ',' if !in_string => {
                parts.push((start, &text[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push((start, &text[start..]));
    parts
}

/// The span of the trimmed `part` (at `start`) within the whole text.
fn trimmed_span(start: usize, part: &str) -> (Span, &str) {
    let lead = part.len() - part.trim_start().len();
    let trimmed = part.trim();
    let begin = start + lead;
    (
        Span::new(begin, begin + trimmed.len(), SourceKind::Query),
        trimmed,
    )
}

fn parse_one(start: usize, part: &str, entity: &Entity, schema: &Schema) -> Result<Assignment> {
    let (span, trimmed) = trimmed_span(start, part);
    let Some(eq) = part.find('=') else {
        return Err(Error::Syntax {
            message: if trimmed.is_empty() {
                "empty assignment".to_string()
            } else {
                format!("expected FIELD=VALUE, found '{trimmed}'")
            },
            expected: vec!["FIELD=VALUE".to_string()],
            span,
            hint: Some("separate assignments with commas: city=\"Oslo\",score=40".into()),
        });
    };
    let (name_span, name) = trimmed_span(start, &part[..eq]);
    let (value_span, value_text) = trimmed_span(start + eq + 1, &part[eq + 1..]);
    let field = resolve_field(entity, schema, name, name_span)?;
    let field_ref = FieldRef {
        entity: entity.name.as_str().into(),
        field: field.name.as_str().into(),
        ty: value_type(&field.ty),
    };
    let context = format!("{}.{}", entity.name, field.name);
    let value = if value_text.eq_ignore_ascii_case("null") {
        if !field.nullable {
            return Err(Error::InvalidValue {
                message: format!("{context} cannot be null"),
                span: value_span,
            });
        }
        None
    } else if value_text.is_empty() {
        return Err(Error::Syntax {
            message: format!("missing value for {context}"),
            expected: vec!["a value".to_string()],
            span: value_span,
            hint: Some("write null to empty a field, \"\" for empty text".into()),
        });
    } else {
        let literal = match crate::syntax::parse_literal(value_text) {
            Ok(mut literal) => {
                // The literal was parsed on its own; its errors point into --set.
                literal.span = value_span;
                literal
            }
            // `--set role="Decision Maker"` reaches segql as
            // role=Decision Maker once a shell has taken the quotes: text
            // that is no literal is, for a text or choice field, the text.
            Err(_) if is_text_like(field) => crate::syntax::ast::Literal {
                kind: crate::syntax::ast::LiteralKind::String(value_text.into()),
                span: value_span,
            },
            Err(e) => return Err(literal_error(e, value_span)),
        };
        Some(typed_value(entity, field, &literal)?)
    };
    Ok(Assignment {
        field: field_ref,
        value,
        span,
    })
}

/// Whether a field takes text: its values may be written bare.
fn is_text_like(field: &Field) -> bool {
    matches!(field.ty, FieldType::Text | FieldType::Choice(_))
}

fn resolve_field<'a>(
    entity: &'a Entity,
    schema: &Schema,
    name: &str,
    span: Span,
) -> Result<&'a Field> {
    let field = entity.find_field(name, span)?;
    if field.name.eq_ignore_ascii_case(&entity.key) {
        return Err(Error::InvalidValue {
            message: format!(
                "{} is the key of {}; it cannot be set",
                field.name, entity.name
            ),
            span,
        });
    }
    let foreign = schema.relationships.iter().find(|r| {
        r.child.eq_ignore_ascii_case(&entity.name)
            && r.child_field.eq_ignore_ascii_case(&field.name)
    });
    if let Some(rel) = foreign {
        return Err(Error::InvalidValue {
            message: format!(
                "{}.{} links to {} ({}); it cannot be set by update",
                entity.name, field.name, rel.parent, rel.name
            ),
            span,
        });
    }
    Ok(field)
}

/// An error of the literal parser, moved from the value's own text to the
/// `--set` text.
fn literal_error(e: Error, value_span: Span) -> Error {
    match e {
        Error::Syntax {
            message,
            expected,
            span,
            hint,
        } => Error::Syntax {
            message,
            expected,
            span: Span::new(
                (value_span.start + span.start.min(value_span.end - value_span.start)) as usize,
                (value_span.start + span.end.min(value_span.end - value_span.start)) as usize,
                SourceKind::Query,
            ),
            hint: hint.or_else(|| {
                Some("values are written as in queries: text in double quotes (city=\"Oslo\"), numbers, true/false, dates, now, null".into())
            }),
        },
        other => Error::InvalidValue {
            message: other.to_string(),
            span: value_span,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_inside_strings_do_not_split() {
        let parts: Vec<&str> = split_top_level(r#"a="x, \"y\", z",b=1"#)
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        assert_eq!(parts, vec![r#"a="x, \"y\", z""#, "b=1"]);
    }

    #[test]
    fn spans_point_into_the_set_text() {
        let (span, text) = trimmed_span(4, "  city  ");
        assert_eq!((span.start, span.end, text), (6, 10, "city"));
    }

    #[test]
    fn text_and_labels_may_come_without_their_quotes() {
        let schema = crate::schema::crm_schema();
        let bare = parse_assignments("role=Decision Maker, city = Saint Malo", "contact", &schema)
            .expect("bare text is accepted");
        let quoted = parse_assignments(
            r#"role="decision maker",city="Saint Malo""#,
            "contact",
            &schema,
        )
        .expect("quoted text is accepted");
        let values = |a: &[Assignment]| a.iter().map(|a| a.value.clone()).collect::<Vec<_>>();
        assert_eq!(values(&bare), values(&quoted));
        assert!(matches!(
            &bare[0].value,
            Some(Value::Choice { label, .. }) if label == "Decision Maker"
        ));
        // An unknown bare label is still an error listing the valid ones.
        let err = parse_assignments("role=Boss", "contact", &schema).unwrap_err();
        assert!(matches!(err, Error::UnknownChoice { .. }), "{err:?}");
        // Other types still need their literal form.
        assert!(parse_assignments("do_not_email=yes", "contact", &schema).is_err());
    }
}
