//! Rendering an [`Error`] for people: its kind and message, `file:line:col`,
//! the source line with the span underlined, and help lines (the nearest
//! valid name, what the parser expected). Used by the command line; the
//! library itself only returns structured errors.

use std::ops::Range;

use ariadne::{CharSet, Color, Config, IndexType, Label, Report, ReportKind, Source};

use crate::check::Warning;
use crate::error::Error;
use crate::span::SourceKind;

/// The texts an error's span may point into, each with the name shown in the
/// location line (`<query>`, or a file path).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sources<'a> {
    /// `(name, text)` of the query.
    pub query: Option<(&'a str, &'a str)>,
    /// `(name, text)` of the segment library.
    pub library: Option<(&'a str, &'a str)>,
    /// `(name, text)` of the scoring model file.
    pub models: Option<(&'a str, &'a str)>,
}

/// Render `error` as a multi-line report. With `color` false the output has
/// no ANSI escapes (for logs and snapshots). An error without a span, or
/// whose source text is not given, renders as one plain line `error: ...`.
pub fn render(error: &Error, sources: &Sources, color: bool) -> String {
    let located = error.span().and_then(|span| {
        let source = match span.source {
            SourceKind::Query => sources.query,
            SourceKind::Library => sources.library,
            SourceKind::Models => sources.models,
            SourceKind::Guard => None,
        }?;
        Some((source, span.range()))
    });
    let Some(((name, text), range)) = located else {
        return plain(error);
    };
    let range = clamp(text, range);
    let kind = format!("error[{}]", error.kind());
    let config = Config::default()
        .with_color(color)
        .with_index_type(IndexType::Byte)
        .with_char_set(CharSet::Unicode);
    let mut report = Report::build(ReportKind::Custom(&kind, Color::Red), (name, range.clone()))
        .with_config(config)
        .with_message(error.to_string())
        .with_label(
            Label::new((name, range))
                .with_message(label(error))
                .with_color(Color::Red),
        );
    for help in helps(error, sources) {
        report.add_help(help);
    }
    for note in notes(error) {
        report.add_note(note);
    }
    let mut out = Vec::new();
    match report.finish().write((name, Source::from(text)), &mut out) {
        Ok(()) if color => String::from_utf8_lossy(&out).into_owned(),
        // ariadne colours a custom report kind even with colour off.
        Ok(()) => strip_ansi(&String::from_utf8_lossy(&out)),
        Err(_) => plain(error),
    }
}

/// Render a [`Warning`] like an error: `warning: ...`, its place, the
/// source line underlined and the help line. Without its source text, one
/// plain line.
pub fn render_warning(warning: &Warning, sources: &Sources, color: bool) -> String {
    let span = warning.span;
    let source = match span.source {
        SourceKind::Query => sources.query,
        SourceKind::Library => sources.library,
        SourceKind::Models => sources.models,
        SourceKind::Guard => None,
    };
    let Some((name, text)) = source else {
        return format!("warning: {}\n", warning.message);
    };
    let range = clamp(text, span.range());
    let config = Config::default()
        .with_color(color)
        .with_index_type(IndexType::Byte)
        .with_char_set(CharSet::Unicode);
    let mut report = Report::build(ReportKind::Warning, (name, range.clone()))
        .with_config(config)
        .with_message(&warning.message)
        .with_label(
            Label::new((name, range))
                .with_message("here")
                .with_color(Color::Yellow),
        );
    if let Some(help) = &warning.help {
        report.add_help(help);
    }
    let mut out = Vec::new();
    match report.finish().write((name, Source::from(text)), &mut out) {
        Ok(()) if color => String::from_utf8_lossy(&out).into_owned(),
        Ok(()) => strip_ansi(&String::from_utf8_lossy(&out)),
        Err(_) => format!("warning: {}\n", warning.message),
    }
}

/// Remove ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip `[`, parameters, up to and including the final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn plain(error: &Error) -> String {
    format!("error: {error}\n")
}

/// A byte range inside `text`, on character boundaries, without surrounding
/// whitespace, and never empty where the text has something to underline.
fn clamp(text: &str, range: Range<usize>) -> Range<usize> {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let mut start = floor(range.start);
    let mut end = floor(range.end.max(start));
    // Underline the text, not the layout around it.
    let inner = &text[start..end];
    let trimmed = inner.trim_start();
    start += inner.len() - trimmed.len();
    end = start + trimmed.trim_end().len();
    if end == start {
        // An empty span (e.g. at the end of the text) still gets a caret:
        // widen it to the next character, or the previous one at the end.
        if let Some(c) = text[start..].chars().next() {
            end = start + c.len_utf8();
        } else if let Some(c) = text[..start].chars().next_back() {
            return start - c.len_utf8()..start;
        }
    }
    start..end
}

/// The short text under the underlined span.
fn label(error: &Error) -> String {
    match error {
        Error::Syntax { expected, .. } if !expected.is_empty() => {
            format!("expected {}", words(expected))
        }
        Error::Syntax { .. } => "here".into(),
        Error::TooLarge { .. } | Error::TooDeep { .. } | Error::TooManyNodes { .. } => {
            "limit exceeded here".into()
        }
        Error::TooManyValues { count, .. } => format!("{count} values"),
        Error::UnknownEntity { .. } => "not an entity of the schema".into(),
        Error::UnknownField { entity, .. } => format!("not a field of {entity}"),
        Error::UnknownRelationship { entity, .. } => format!("not related to {entity}"),
        Error::UnknownVia { .. } => "not one of the relationships".into(),
        Error::AmbiguousRelationship { choices, .. } => {
            format!("{} relationships lead here", choices.len())
        }
        Error::NotManyToOne { .. } => "not a many-to-one relationship".into(),
        Error::UnknownChoice { entity, field, .. } => format!("not a label of {entity}.{field}"),
        Error::TypeMismatch { found, .. } => format!("this is {found}"),
        Error::NotOrdered { .. } => "unordered choice".into(),
        Error::InvalidValue { .. } => "invalid value".into(),
        Error::UnknownSegment { .. } => "no segment of this name".into(),
        Error::SegmentEntityMismatch { found, .. } => format!("selects {found} records"),
        Error::SegmentCycle { .. } => "this reference closes the cycle".into(),
        Error::DuplicateSegment { .. } => "defined again here".into(),
        Error::BrokenSegment { .. } => "this segment has errors".into(),
        Error::DuplicateModel { .. } => "defined again here".into(),
        Error::DuplicateSetting { .. } => "set again here".into(),
        Error::MissingThreshold { .. } => "this model needs `sales ready at`".into(),
        Error::NotScorable { .. } => "not the lead entity".into(),
        Error::GradeOrder { .. } => "not below the grade before".into(),
        Error::DuplicateGrade { .. } => "listed again here".into(),
        Error::ReadsScore { .. } => "written by scoring".into(),
        Error::UnknownGuard { .. }
        | Error::BadImportRow { .. }
        | Error::UnknownRecord { .. }
        | Error::Schema { .. }
        | Error::Database { .. }
        | Error::Unavailable { .. }
        | Error::SumOverflow { .. }
        | Error::Internal { .. } => "here".into(),
    }
}

fn helps(error: &Error, sources: &Sources) -> Vec<String> {
    let mut helps = Vec::new();
    if matches!(error, Error::UnknownSegment { .. }) && sources.library.is_none() {
        helps.push("segments come from a library file: pass it with --library FILE".to_string());
    }
    match error {
        Error::Syntax {
            hint: Some(hint), ..
        } => helps.push(hint.clone()),
        Error::UnknownChoice {
            suggestion: Some(s),
            ..
        } => helps.push(format!("did you mean {}?", crate::syntax::fmt::quote(s))),
        Error::UnknownEntity { suggestion, .. }
        | Error::UnknownField { suggestion, .. }
        | Error::UnknownRelationship { suggestion, .. }
        | Error::UnknownVia { suggestion, .. }
        | Error::UnknownSegment { suggestion, .. } => {
            if let Some(s) = suggestion {
                helps.push(format!("did you mean '{s}'?"));
            }
        }
        Error::TypeMismatch {
            expected, found, ..
        } if expected == "date" => helps.extend(today_for_now(found)),
        Error::BrokenSegment { name, .. } => helps.push(format!(
            "fix the definition of '{name}' (its errors are reported with their places); \
             queries that do not use it are not affected"
        )),
        Error::NotScorable { scorable, .. } => helps.push(match scorable.as_slice() {
            [] => "no entity of the schema has an integer `score` and a bool `sales_ready` field"
                .to_string(),
            [one] => format!("write `on {one}`: the entity with `score` and `sales_ready`"),
            many => format!("write `on` one of: {}", many.join(", ")),
        }),
        Error::GradeOrder { .. } => helps.push(
            "list the grades from the highest minimum down, each minimum below the one before"
                .to_string(),
        ),
        Error::ReadsScore { .. } => helps.push(
            "score by what leads and their contacts do and are; `score` and `sales_ready` \
             are the result"
                .to_string(),
        ),
        Error::AmbiguousRelationship { name, choices, .. } => {
            if let Some(first) = choices.first() {
                helps.push(format!("for example: has {name} via {first}"));
            }
        }
        _ => {}
    }
    match error {
        Error::UnknownField {
            elsewhere, entity, ..
        } => {
            for place in elsewhere {
                helps.push(format!(
                    "{} has a field '{}': reach it with `{}`",
                    place.entity, place.field, place.example
                ));
            }
            helps.push(format!(
                "`segql schema {entity}` lists the fields and relationships of {entity}"
            ));
        }
        Error::UnknownEntity { .. } => {
            helps.push("`segql schema` lists the entities and their relationships".to_string());
        }
        Error::UnknownRelationship { entity, .. } => helps.push(format!(
            "`segql schema {entity}` lists the relationships of {entity}"
        )),
        _ => {}
    }
    helps
}

/// For `now ...` where a date is expected: the `today ...` to write
/// instead (a date field takes whole days and weeks only).
fn today_for_now(found: &str) -> Option<String> {
    let rest = found.strip_prefix("datetime now")?;
    if rest.is_empty() || rest.ends_with('d') || rest.ends_with('w') {
        Some(format!(
            "for a date, write today{rest} (today is the UTC date of the reference time)"
        ))
    } else {
        Some("a date takes whole days: write today ± Nd or today ± Nw".to_string())
    }
}

fn notes(error: &Error) -> Vec<String> {
    match error {
        Error::UnknownChoice { valid, .. } => {
            vec![format!(
                "valid labels: {}",
                crate::error::quoted_list(valid)
            )]
        }
        _ => Vec::new(),
    }
}

/// `a`, `a or b`, `a, b or c`.
fn words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Names;
    use crate::span::Span;

    fn unknown_field() -> Error {
        Error::UnknownField {
            name: "rol".into(),
            entity: "contact".into(),
            suggestion: Some("role".into()),
            fields: Names::default(),
            elsewhere: Vec::new(),
            span: Span::query(14, 17),
        }
    }

    #[test]
    fn renders_location_source_line_caret_and_help() {
        let text = "contact where rol = \"Employee\"";
        let sources = Sources {
            query: Some(("<query>", text)),
            library: None,
            models: None,
        };
        let out = render(&unknown_field(), &sources, false);
        assert!(out.contains("unknown field 'rol' on contact; did you mean 'role'?"));
        assert!(out.contains("<query>:1:15"), "{out}");
        assert!(out.contains(text));
        assert!(out.contains("did you mean 'role'?"));
        assert!(!out.contains('\u{1b}'));
    }

    #[test]
    fn labels_are_suggested_as_strings_and_fields_elsewhere_are_reached() {
        let text = "contact where role = \"Employe\"";
        let sources = Sources {
            query: Some(("<query>", text)),
            library: None,
            models: None,
        };
        let label = Error::UnknownChoice {
            label: "Employe".into(),
            entity: "contact".into(),
            field: "role".into(),
            valid: vec!["Decision Maker".into(), "Employee".into()],
            suggestion: Some("Employee".into()),
            span: Span::query(21, 30),
        };
        let out = render(&label, &sources, false);
        assert!(out.contains("Help: did you mean \"Employee\"?"), "{out}");
        assert!(
            out.contains("Note: valid labels: \"Decision Maker\", \"Employee\""),
            "{out}"
        );
        assert!(!out.contains("'Employee'"), "{out}");

        let elsewhere = Error::UnknownField {
            name: "score".into(),
            entity: "contact".into(),
            suggestion: None,
            fields: Names::default(),
            elsewhere: vec![crate::error::Elsewhere {
                entity: "lead".into(),
                field: "score".into(),
                example: "has lead(score >= 50)".into(),
            }],
            span: Span::query(14, 19),
        };
        let out = render(&elsewhere, &sources, false);
        assert!(
            out.contains("lead has a field 'score': reach it with `has lead(score >= 50)`"),
            "{out}"
        );
        assert!(out.contains("`segql schema contact`"), "{out}");
    }

    #[test]
    fn color_adds_escapes() {
        let text = "contact where rol = \"Employee\"";
        let sources = Sources {
            query: Some(("<query>", text)),
            library: None,
            models: None,
        };
        assert!(render(&unknown_field(), &sources, true).contains('\u{1b}'));
    }

    #[test]
    fn errors_without_span_or_source_are_one_line() {
        let e = Error::Schema {
            message: "bad".into(),
        };
        assert_eq!(
            render(&e, &Sources::default(), false),
            "error: invalid schema: bad\n"
        );
        let no_text = render(&unknown_field(), &Sources::default(), false);
        assert_eq!(no_text.lines().count(), 1);
    }

    #[test]
    fn spans_outside_the_text_do_not_panic() {
        let e = Error::UnknownField {
            name: "x".into(),
            entity: "contact".into(),
            suggestion: None,
            fields: Names::default(),
            elsewhere: Vec::new(),
            span: Span::query(50, 90),
        };
        let text = "contact where é";
        let sources = Sources {
            query: Some(("<query>", text)),
            library: None,
            models: None,
        };
        assert!(render(&e, &sources, false).contains("<query>:1:"));
        let inside_char = Error::UnknownField {
            name: "x".into(),
            entity: "contact".into(),
            suggestion: None,
            fields: Names::default(),
            elsewhere: Vec::new(),
            span: Span::query(15, 15),
        };
        assert!(render(&inside_char, &sources, false).contains("unknown field"));
        assert!(render(
            &inside_char,
            &Sources {
                query: Some(("q", "")),
                library: None,
                models: None,
            },
            false
        )
        .contains("unknown field"));
    }
}
