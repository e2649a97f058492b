//! Literal values: turns the `literal` tokens of the grammar into
//! [`Literal`]s, checking what the grammar's token shapes cannot — that a
//! date exists, that an integer fits in an i64, that an escape is valid — and
//! rejecting, with a message saying what to write instead, the shapes the
//! grammar accepts only for that purpose (`'text'`, `1e3`, `30mo`).
//!
//! The checks work on a token's text and span, so that the pest builder
//! (`parser.rs`) and the recursive descent (`descent/`) share them; the
//! `build_*` functions are the pest builder's side.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use pest::iterators::Pair;

use crate::error::{Error, Result};

use crate::span::Span;

use super::ast::{Anchor, CompactString, Duration, Literal, LiteralKind, Relative, TimeUnit};
use super::parser::{internal, Builder, Rule};

/// Builds a `literal` pair (or one of its alternatives).
pub(crate) fn build_literal(b: &Builder, pair: Pair<'_, Rule>) -> Result<Literal> {
    if pair.as_rule() == Rule::literal {
        let inner = pair
            .into_inner()
            .next()
            .ok_or_else(|| internal("empty literal"))?;
        return build_literal(b, inner);
    }
    let span = b.span(&pair);
    let text = pair.as_str();
    let kind = match pair.as_rule() {
        Rule::string => return string_value(text, span),
        Rule::sq_string => return Err(single_quoted_error(text, span)),
        Rule::kw_true => LiteralKind::Bool(true),
        Rule::kw_false => LiteralKind::Bool(false),
        Rule::number => number_value(text, span)?,
        Rule::date => LiteralKind::Date(date_value(text, span)?),
        Rule::datetime => LiteralKind::DateTime(datetime_value(text, span)?),
        Rule::relative => LiteralKind::Relative(relative(b, pair)?),
        other => return Err(internal(&format!("unexpected literal rule {other:?}"))),
    };
    Ok(Literal { kind, span })
}

fn invalid(span: Span, message: String) -> Error {
    Error::InvalidValue { message, span }
}

fn syntax(span: Span, message: String, hint: String) -> Error {
    Error::Syntax {
        message,
        expected: Vec::new(),
        span,
        hint: Some(hint),
    }
}

/// A `number` token: an integer or a decimal, never an exponent.
pub(crate) fn number_value(text: &str, span: Span) -> Result<LiteralKind> {
    if text.contains(['e', 'E']) {
        let hint = match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() < 1e15 => {
                format!("write the number out in full: {}", plain_number(v))
            }
            _ => "write the number out in full".to_string(),
        };
        return Err(syntax(
            span,
            format!("exponent notation ('{text}') is not supported"),
            hint,
        ));
    }
    if text.contains('.') {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(LiteralKind::Decimal(v)),
            _ => Err(invalid(span, format!("the number {text} is too large"))),
        }
    } else {
        text.parse::<i64>().map(LiteralKind::Integer).map_err(|_| {
            invalid(
                span,
                format!(
                    "the integer {text} is out of range; integers are 64-bit ({} to {})",
                    i64::MIN,
                    i64::MAX
                ),
            )
        })
    }
}

/// A decimal written without exponent, e.g. for a hint.
fn plain_number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Digits at `range` of `text`; the grammar guarantees where they are.
fn digits(text: &str, range: std::ops::Range<usize>) -> u32 {
    text.get(range)
        .and_then(|s| s.parse().ok())
        .unwrap_or(u32::MAX)
}

/// `YYYY-MM-DD` at the start of the token `text`.
pub(crate) fn date_value(text: &str, span: Span) -> Result<NaiveDate> {
    let year = i32::try_from(digits(text, 0..4)).unwrap_or(i32::MAX);
    NaiveDate::from_ymd_opt(year, digits(text, 5..7), digits(text, 8..10)).ok_or_else(|| {
        let date = text.get(..10).unwrap_or(text);
        invalid(span, format!("{date} is not a valid date"))
    })
}

/// `YYYY-MM-DDTHH:MM:SS` then an optional fraction and zone.
pub(crate) fn datetime_value(whole: &str, span: Span) -> Result<DateTime<Utc>> {
    let day = date_value(whole, span)?;
    let time = NaiveTime::from_hms_opt(
        digits(whole, 11..13),
        digits(whole, 14..16),
        digits(whole, 17..19),
    )
    .ok_or_else(|| {
        let time = whole.get(11..19).unwrap_or(whole);
        invalid(span, format!("{time} is not a valid time of day"))
    })?;
    let rest = whole.get(19..).unwrap_or("");
    if rest.starts_with('.') {
        return Err(syntax(
            span,
            format!("fractional seconds ('{whole}') are not supported"),
            "date-times are whole seconds, e.g. 2024-05-01T10:30:00Z".to_string(),
        ));
    }
    if rest.is_empty() {
        return Err(syntax(
            span,
            format!("the date-time {whole} has no time zone"),
            format!("add `Z` for UTC ({whole}Z) or an offset such as +02:00"),
        ));
    }
    let offset_secs = zone(span, rest)?;
    let utc = day
        .and_time(time)
        .checked_sub_signed(TimeDelta::seconds(offset_secs))
        .filter(|t| (0..=9999).contains(&t.year()))
        .ok_or_else(|| {
            invalid(
                span,
                format!("{whole} falls outside the years 0000-9999 once converted to UTC"),
            )
        })?;
    Ok(utc.and_utc())
}

/// `Z` or `±HH:MM`, as seconds east of UTC.
fn zone(span: Span, text: &str) -> Result<i64> {
    if text.eq_ignore_ascii_case("z") {
        return Ok(0);
    }
    let (hours, minutes) = (i64::from(digits(text, 1..3)), i64::from(digits(text, 4..6)));
    if hours > 23 || minutes > 59 {
        return Err(invalid(span, format!("{text} is not a valid UTC offset")));
    }
    let secs = hours * 3600 + minutes * 60;
    Ok(if text.starts_with('-') { -secs } else { secs })
}

fn relative(b: &Builder, pair: Pair<'_, Rule>) -> Result<Relative> {
    let mut anchor = Anchor::Now;
    let mut negative = false;
    let mut offset = None;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::kw_now => anchor = Anchor::Now,
            Rule::kw_today => anchor = Anchor::Today,
            Rule::time_sign => negative = part.as_str() == "-",
            Rule::duration => {
                offset = Some(duration_value(part.as_str(), b.span(&part), negative)?)
            }
            _ => {}
        }
    }
    Ok(Relative { anchor, offset })
}

/// A `duration` token (`30d`), after a `+` or `-` (`negative`).
pub(crate) fn duration_value(text: &str, span: Span, negative: bool) -> Result<Duration> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let too_long = || invalid(span, format!("the duration {text} is too long"));
    let amount = digits.parse::<u64>().map_err(|_| too_long())?;
    let duration = Duration {
        negative,
        amount,
        unit: time_unit(span, unit)?,
    };
    // Durations must be representable in seconds for every back end.
    if duration
        .total_seconds()
        .and_then(TimeDelta::try_seconds)
        .is_none()
    {
        return Err(too_long());
    }
    Ok(duration)
}

fn time_unit(span: Span, text: &str) -> Result<TimeUnit> {
    // Compared in place: lowercasing a copy was an allocation for every
    // relative date of a segment.
    let is = |unit: &str| text.eq_ignore_ascii_case(unit);
    const FIXED: [(&str, TimeUnit); 5] = [
        ("s", TimeUnit::Seconds),
        ("min", TimeUnit::Minutes),
        ("h", TimeUnit::Hours),
        ("d", TimeUnit::Days),
        ("w", TimeUnit::Weeks),
    ];
    const CALENDAR: [&str; 10] = [
        "mo", "mon", "mos", "month", "months", "y", "yr", "yrs", "year", "years",
    ];
    if let Some((_, unit)) = FIXED.iter().find(|(name, _)| is(name)) {
        return Ok(*unit);
    }
    if CALENDAR.iter().any(|name| is(name)) {
        return Err(syntax(
            span,
            format!("'{text}': months and years cannot be used in durations because they have no fixed length"),
            "write days or weeks instead, e.g. `now - 30d` or `today - 52w`".to_string(),
        ));
    }
    let hint = if is("m") {
        "write `min` for minutes (months have no fixed length, so there is no month unit)"
    } else {
        "the units are s, min, h, d and w"
    };
    Err(syntax(
        span,
        format!("unknown duration unit '{text}'"),
        hint.to_string(),
    ))
}

/// A quantifier's count (`at least 3`).
pub(crate) fn count_value(text: &str, span: Span) -> Result<u64> {
    text.parse()
        .map_err(|_| invalid(span, format!("the count {text} is too large")))
}

/// The error for `'text'`: segql strings use double quotes.
pub(crate) fn single_quoted(b: &Builder, pair: &Pair<'_, Rule>) -> Error {
    single_quoted_error(pair.as_str(), b.span(pair))
}

/// The error for the token `'text'`.
pub(crate) fn single_quoted_error(text: &str, span: Span) -> Error {
    let inner = text.trim_start_matches('\'').trim_end_matches('\'');
    Error::Syntax {
        message: "strings use double quotes; single quotes are not supported".to_string(),
        expected: vec!["a string in double quotes".to_string()],
        span,
        hint: Some(format!("write {}", super::fmt::quote(inner))),
    }
}

/// A double-quoted string with its escapes decoded.
pub(crate) fn build_string(b: &Builder, pair: Pair<'_, Rule>) -> Result<Literal> {
    string_value(pair.as_str(), b.span(&pair))
}

/// The token `body` (quotes included) with its escapes decoded.
pub(crate) fn string_value(body: &str, span: Span) -> Result<Literal> {
    // Strip the quotes; the grammar guarantees both are there.
    let raw = body.get(1..body.len().saturating_sub(1)).unwrap_or("");
    let value = unescape(raw).map_err(|(offset, len, message, hint)| {
        let start = span.start as usize + 1 + offset;
        Error::Syntax {
            message,
            expected: Vec::new(),
            span: Span::new(start, start + len, span.source),
            hint: Some(hint),
        }
    })?;
    Ok(Literal {
        kind: LiteralKind::String(value),
        span,
    })
}

type EscapeError = (usize, usize, String, String);

/// Decodes `\"` `\\` `\n` `\t` `\u{HEX}`. An error gives the byte offset and
/// length of the bad escape within `raw`, a message and a hint.
fn unescape(raw: &str) -> std::result::Result<CompactString, EscapeError> {
    const HINT: &str = "the escapes are \\\" \\\\ \\n \\t and \\u{HEX}";
    if !raw.contains('\\') {
        // Most literals hold no escape: copied as they are, inline when short.
        return Ok(raw.into());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            return Err((
                at,
                1,
                "a string ends with a lone backslash".into(),
                HINT.into(),
            ));
        };
        match e {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'u' => {
                let rest = &raw[at..];
                let close = rest.find('}');
                let (hex, close) = match (rest.get(2..3), close) {
                    (Some("{"), Some(close)) => (&rest[3..close], close),
                    _ => {
                        return Err((
                            at,
                            2,
                            "a \\u escape must be written \\u{HEX}".into(),
                            "e.g. \\u{e9} for é".into(),
                        ))
                    }
                };
                let len = close + 1;
                let valid_hex =
                    !hex.is_empty() && hex.len() <= 6 && hex.chars().all(|h| h.is_ascii_hexdigit());
                let ch = valid_hex
                    .then(|| u32::from_str_radix(hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32);
                let Some(ch) = ch else {
                    return Err((
                        at,
                        len,
                        format!("\\u{{{hex}}} is not a Unicode character"),
                        "write 1 to 6 hex digits of a Unicode scalar value, e.g. \\u{e9}".into(),
                    ));
                };
                out.push(ch);
                // Skip the rest of the escape: `{`, the digits and `}`.
                while chars.peek().is_some_and(|(i, _)| *i < at + len) {
                    chars.next();
                }
            }
            other => {
                return Err((
                    at,
                    1 + other.len_utf8(),
                    format!("unknown escape '\\{other}' in a string"),
                    HINT.into(),
                ))
            }
        }
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use crate::error::Error;
    use crate::syntax::ast::{Anchor, Duration, LiteralKind, Relative, TimeUnit};
    use crate::syntax::parse_literal;

    fn lit(text: &str) -> LiteralKind {
        parse_literal(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .kind
    }

    fn err(text: &str) -> Error {
        parse_literal(text).expect_err(text)
    }

    #[test]
    fn numbers() {
        assert_eq!(lit("42"), LiteralKind::Integer(42));
        assert_eq!(lit("-7"), LiteralKind::Integer(-7));
        assert_eq!(lit("-9223372036854775808"), LiteralKind::Integer(i64::MIN));
        assert_eq!(lit("3.25"), LiteralKind::Decimal(3.25));
        assert_eq!(lit("-0.5"), LiteralKind::Decimal(-0.5));
        assert!(matches!(
            err("9223372036854775808"),
            Error::InvalidValue { .. }
        ));
        assert!(matches!(err("1e3"), Error::Syntax { hint: Some(h), .. } if h.contains("1000")));
        assert!(matches!(err("1."), Error::Syntax { .. }));
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            lit(r#""a\"b\\c\nd\te\u{e9}\u{1F600}""#),
            LiteralKind::String("a\"b\\c\nd\te\u{e9}\u{1F600}".into())
        );
        assert_eq!(lit("\"日本\""), LiteralKind::String("日本".into()));
        for bad in [
            r#""\q""#,
            r#""\u{D800}""#,
            r#""\u{110000}""#,
            r#""\u00e9""#,
            r#""\u{}""#,
        ] {
            assert!(matches!(err(bad), Error::Syntax { .. }), "{bad}");
        }
        let Error::Syntax { message, .. } = err("'x'") else {
            panic!()
        };
        assert!(message.contains("double quotes"));
    }

    #[test]
    fn booleans() {
        assert_eq!(lit("true"), LiteralKind::Bool(true));
        assert_eq!(lit("FALSE"), LiteralKind::Bool(false));
    }

    #[test]
    fn dates_and_datetimes() {
        assert_eq!(
            lit("2024-05-01"),
            LiteralKind::Date(NaiveDate::from_ymd_opt(2024, 5, 1).unwrap())
        );
        assert_eq!(
            lit("2024-05-01T10:30:00Z"),
            LiteralKind::DateTime(Utc.with_ymd_and_hms(2024, 5, 1, 10, 30, 0).unwrap())
        );
        assert_eq!(
            lit("2024-05-01T01:30:00+02:00"),
            LiteralKind::DateTime(Utc.with_ymd_and_hms(2024, 4, 30, 23, 30, 0).unwrap())
        );
        assert_eq!(
            lit("2024-05-01t10:30:00-01:15"),
            LiteralKind::DateTime(Utc.with_ymd_and_hms(2024, 5, 1, 11, 45, 0).unwrap())
        );
        assert!(matches!(lit("0000-01-01"), LiteralKind::Date(_)));
        for bad in [
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "2024-05-01T24:00:00Z",
            "2024-05-01T10:30:00+24:00",
            "0000-01-01T00:30:00+01:00",
            "9999-12-31T23:30:00-01:00",
        ] {
            assert!(matches!(err(bad), Error::InvalidValue { .. }), "{bad}");
        }
        for bad in ["2024-05-01T10:30:00", "2024-05-01T10:30:00.5Z", "2024-5-1"] {
            assert!(matches!(err(bad), Error::Syntax { .. }), "{bad}");
        }
    }

    #[test]
    fn relative_times() {
        let rel = |anchor, offset| LiteralKind::Relative(Relative { anchor, offset });
        let d = |negative, amount, unit| {
            Some(Duration {
                negative,
                amount,
                unit,
            })
        };
        assert_eq!(lit("now"), rel(Anchor::Now, None));
        assert_eq!(lit("TODAY"), rel(Anchor::Today, None));
        assert_eq!(
            lit("now - 30d"),
            rel(Anchor::Now, d(true, 30, TimeUnit::Days))
        );
        assert_eq!(
            lit("today+1w"),
            rel(Anchor::Today, d(false, 1, TimeUnit::Weeks))
        );
        assert_eq!(
            lit("now - 12h"),
            rel(Anchor::Now, d(true, 12, TimeUnit::Hours))
        );
        assert_eq!(
            lit("now - 90min"),
            rel(Anchor::Now, d(true, 90, TimeUnit::Minutes))
        );
        assert_eq!(
            lit("now + 5s"),
            rel(Anchor::Now, d(false, 5, TimeUnit::Seconds))
        );
        for bad in [
            "now - 3mo",
            "now - 1y",
            "now - 2 months",
            "now - 5m",
            "now - 5x",
            "now - 5",
        ] {
            assert!(matches!(err(bad), Error::Syntax { .. }), "{bad}");
        }
        let Error::Syntax { message, .. } = err("now - 3months") else {
            panic!()
        };
        assert!(message.contains("no fixed length"), "{message}");
        assert!(matches!(
            err("now - 99999999999999999999d"),
            Error::InvalidValue { .. }
        ));
        assert!(matches!(
            err("now - 9999999999999999w"),
            Error::InvalidValue { .. }
        ));
    }

    #[test]
    fn time_units_in_any_case_and_the_hint_for_each_wrong_one() {
        for (text, unit) in [
            ("now - 1S", TimeUnit::Seconds),
            ("now - 1Min", TimeUnit::Minutes),
            ("now - 1MIN", TimeUnit::Minutes),
            ("now - 1H", TimeUnit::Hours),
            ("now - 1D", TimeUnit::Days),
            ("now - 1W", TimeUnit::Weeks),
        ] {
            let LiteralKind::Relative(Relative {
                offset: Some(duration),
                ..
            }) = lit(text)
            else {
                panic!("{text}: not a relative time")
            };
            assert_eq!(duration.unit, unit, "{text}");
        }
        let hint = |text: &str| match err(text) {
            Error::Syntax { hint, .. } => hint.unwrap_or_default(),
            other => panic!("{text}: {other:?}"),
        };
        for calendar in [
            "MO", "Mon", "MOS", "Month", "MONTHS", "Y", "yr", "YRS", "Year", "yEaRs",
        ] {
            assert!(
                hint(&format!("now - 2{calendar}")).contains("days or weeks"),
                "{calendar}"
            );
        }
        assert!(hint("now - 5M").contains("`min` for minutes"));
        assert!(hint("now - 5ms").contains("the units are"));
    }
}
