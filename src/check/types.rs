//! Typing of literals against the field they are compared with: strings to
//! text, uuids or choice codes, numbers to numbers, dates and relative times
//! to the values the back ends compare.
//!
//! Relative times stay relative in the plan ([`Value::TodayPlusDays`],
//! [`Value::NowPlusSeconds`]) and are resolved against the reference time by
//! the back ends, so one plan gives the same answer everywhere.

use chrono::NaiveTime;

use crate::error::{suggest, Error, Result};
use crate::schema::{ChoiceSet, Entity, Field, FieldType};
use crate::span::Span;
use crate::syntax::ast::{Anchor, CompactString, Literal, LiteralKind, Relative};

use crate::plan::{Value, ValueType};

const SECONDS_PER_DAY: i64 = 86_400;

/// The plan type of a schema field type.
pub fn value_type(ty: &FieldType) -> ValueType {
    match ty {
        FieldType::Uuid => ValueType::Uuid,
        FieldType::Text => ValueType::Text,
        FieldType::Integer => ValueType::Integer,
        FieldType::Decimal => ValueType::Decimal,
        FieldType::Bool => ValueType::Bool,
        FieldType::Date => ValueType::Date,
        FieldType::DateTime => ValueType::DateTime,
        FieldType::Choice(_) => ValueType::Choice,
    }
}

/// The typed value of `literal` for `field` of `entity`, by the rules of
/// query literals (SPEC §2.3): what `update --set` and other writers use so a
/// value means the same as in a query.
pub fn typed_value(entity: &Entity, field: &Field, literal: &Literal) -> Result<Value> {
    Target { entity, field }.value(literal)
}

/// A field together with its entity, for typing values and naming the field
/// in messages.
#[derive(Clone, Copy)]
pub(crate) struct Target<'s> {
    pub entity: &'s Entity,
    pub field: &'s Field,
}

impl Target<'_> {
    /// `entity.field`, as messages name it.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.entity.name, self.field.name)
    }

    /// `bool field contact.is_child`, for messages about the field's type.
    pub fn described(&self) -> String {
        format!("{} field {}", self.field.ty.name(), self.qualified())
    }

    fn mismatch(&self, literal: &Literal) -> Error {
        Error::TypeMismatch {
            expected: match &self.field.ty {
                FieldType::Choice(_) => "a choice label in double quotes".to_string(),
                other => other.name().to_string(),
            },
            found: describe_literal(&literal.kind),
            context: self.qualified(),
            span: literal.span,
        }
    }

    /// The typed value of `literal` compared with this field.
    pub fn value(&self, literal: &Literal) -> Result<Value> {
        use LiteralKind as L;
        let value = match (&self.field.ty, &literal.kind) {
            (FieldType::Text, L::String(s)) => Value::Text(s.to_string()),
            (FieldType::Uuid, L::String(s)) => Value::Uuid(uuid(s, self, literal.span)?),
            (FieldType::Integer, L::Integer(i)) => Value::Integer(*i),
            // A decimal field holds doubles, and every engine compares it with
            // the double nearest to an integer literal; typing the literal as
            // that double says so, and lets the optimizer reason in the same
            // arithmetic (`between 2^63-1 and 2^63-2` is not empty there).
            (FieldType::Decimal, L::Integer(i)) => Value::Decimal(*i as f64),
            (FieldType::Integer | FieldType::Decimal, L::Decimal(d)) => Value::Decimal(*d),
            (FieldType::Bool, L::Bool(b)) => Value::Bool(*b),
            (FieldType::Choice(set), L::String(label)) => self.choice(set, label, literal.span)?,
            (FieldType::Date, L::Date(d)) => Value::Date(*d),
            (FieldType::Date, L::Relative(rel)) if rel.anchor == Anchor::Today => {
                Value::TodayPlusDays(whole_days(rel, self, literal.span)?)
            }
            (FieldType::DateTime, L::DateTime(t)) => Value::DateTime(*t),
            // SPEC §2.3: a date compared with a date-time means 00:00:00Z.
            (FieldType::DateTime, L::Date(d)) => {
                Value::DateTime(d.and_time(NaiveTime::MIN).and_utc())
            }
            (FieldType::DateTime, L::Relative(rel)) => date_time_relative(rel, self, literal.span)?,
            _ => return Err(self.mismatch(literal)),
        };
        Ok(value)
    }

    fn choice(&self, set: &ChoiceSet, label: &str, span: Span) -> Result<Value> {
        match set.by_label(label) {
            Some(option) => Ok(Value::Choice {
                code: option.code,
                label: CompactString::from(option.label.as_str()),
            }),
            None => Err(Error::UnknownChoice {
                label: label.to_string(),
                entity: self.entity.name.clone(),
                field: self.field.name.clone(),
                valid: set.options.iter().map(|o| o.label.clone()).collect(),
                suggestion: suggest(label, set.options.iter().map(|o| o.label.as_str())),
                span,
            }),
        }
    }
}

fn uuid(text: &str, target: &Target, span: Span) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(text.trim()).map_err(|_| Error::InvalidValue {
        message: format!(
            "{:?} is not a uuid ({} is uuid; write e.g. \"0b5a3c1e-8f0d-4c8e-9a51-2f0e6b7d9c10\")",
            truncate(text),
            target.qualified()
        ),
        span,
    })
}

/// The signed offset of `today ± d` in whole days.
fn whole_days(rel: &Relative, target: &Target, span: Span) -> Result<i64> {
    let seconds = offset_seconds(rel, span)?;
    if seconds % SECONDS_PER_DAY != 0 {
        let message = match target.field.ty {
            FieldType::Date => format!(
                "durations on dates must be whole days: {} is date, found {}",
                target.qualified(),
                describe_relative(rel)
            ),
            _ => format!(
                "durations on `today` must be whole days (use `now` for hours and minutes): found {} for {}",
                describe_relative(rel),
                target.qualified()
            ),
        };
        return Err(Error::InvalidValue { message, span });
    }
    Ok(seconds / SECONDS_PER_DAY)
}

/// A relative time on a date-time field.
///
/// `now ± d` is that instant. `today ± whole days` is also accepted, meaning
/// midnight (00:00:00Z) of the reference date moved by those days — the same
/// reading SPEC §2.3 gives a date literal on a date-time field, so
/// `created_on >= today` means "since the start of today". Durations on
/// `today` must be whole days here too, as everywhere `today` is used.
fn date_time_relative(rel: &Relative, target: &Target, span: Span) -> Result<Value> {
    match rel.anchor {
        Anchor::Now => Ok(Value::NowPlusSeconds {
            seconds: offset_seconds(rel, span)?,
            midnight: false,
        }),
        Anchor::Today => Ok(Value::NowPlusSeconds {
            seconds: whole_days(rel, target, span)? * SECONDS_PER_DAY,
            midnight: true,
        }),
    }
}

fn offset_seconds(rel: &Relative, span: Span) -> Result<i64> {
    match &rel.offset {
        None => Ok(0),
        Some(d) => d.total_seconds().ok_or_else(|| Error::InvalidValue {
            message: format!("the duration in {} is too large", describe_relative(rel)),
            span,
        }),
    }
}

/// A literal as messages show it: its type, then its text.
pub(crate) fn describe_literal(kind: &LiteralKind) -> String {
    match kind {
        LiteralKind::String(s) => format!("text {:?}", truncate(s)),
        LiteralKind::Integer(i) => format!("integer {i}"),
        LiteralKind::Decimal(d) => format!("decimal {d}"),
        LiteralKind::Bool(b) => format!("bool {b}"),
        LiteralKind::Date(d) => format!("date {d}"),
        LiteralKind::DateTime(t) => format!("datetime {}", t.format("%Y-%m-%dT%H:%M:%SZ")),
        LiteralKind::Relative(rel) => match rel.anchor {
            Anchor::Now => format!("datetime {}", describe_relative(rel)),
            Anchor::Today => format!("date {}", describe_relative(rel)),
        },
    }
}

fn describe_relative(rel: &Relative) -> String {
    let anchor = match rel.anchor {
        Anchor::Now => "now",
        Anchor::Today => "today",
    };
    match &rel.offset {
        None => anchor.to_string(),
        Some(d) => format!(
            "{anchor} {} {}{}",
            if d.negative { '-' } else { '+' },
            d.amount,
            d.unit.suffix()
        ),
    }
}

/// Long strings shortened for messages.
fn truncate(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut short: String = s.chars().take(MAX).collect();
        short.push('…');
        short
    }
}
