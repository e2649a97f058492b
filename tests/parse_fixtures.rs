//! The parser and formatter against the fixture queries: every file in
//! `queries/valid/` parses (its AST is snapshotted without spans), formats
//! to text that parses back to the same tree, and formats idempotently;
//! every `queries/invalid/syntax_*` file fails with the snapshotted error.
//! The spans of every node are checked to cover exactly that node's text.

use std::fs;

use segql::span::{SourceKind, Span};
use segql::syntax::ast::{Expr, ExprKind, Ident, Literal, Path, Predicate};
use segql::syntax::{
    format_library, format_query, parse_expr, parse_library, parse_literal, parse_query,
};

fn cut(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

fn check_ident(text: &str, ident: &Ident) {
    assert_eq!(cut(text, ident.span), ident.name);
}

fn check_literal(text: &str, literal: &Literal) {
    assert_eq!(parse_literal(cut(text, literal.span)).as_ref(), Ok(literal));
}

fn check_path(text: &str, path: &Path) {
    let dotted: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(cut(text, path.span).replace(' ', ""), dotted.join("."));
    path.segments.iter().for_each(|s| check_ident(text, s));
}

/// Every span of `expr` covers exactly the text of its node: the text under
/// an expression's span parses back to that expression, and so on down.
fn check_spans(text: &str, expr: &Expr) {
    assert_eq!(
        parse_expr(cut(text, expr.span), SourceKind::Query).as_ref(),
        Ok(expr),
        "{:?}",
        cut(text, expr.span)
    );
    match &expr.kind {
        ExprKind::Bool(_) => {}
        ExprKind::Not(inner) => check_spans(text, inner),
        ExprKind::And(items) | ExprKind::Or(items) => {
            items.iter().for_each(|e| check_spans(text, e))
        }
        ExprKind::Has(has) => {
            check_ident(text, &has.relation);
            if let Some(via) = &has.via {
                check_ident(text, via);
            }
            if let Some(filter) = &has.filter {
                check_spans(text, filter);
            }
        }
        ExprKind::InSegment(name) => check_ident(text, name),
        ExprKind::Predicate(p) => match p {
            Predicate::Compare { path, value, .. } => {
                check_path(text, path);
                check_literal(text, value);
            }
            Predicate::IsNull { path, .. } | Predicate::BoolField { path } => {
                check_path(text, path)
            }
            Predicate::InList { path, values, .. } => {
                check_path(text, path);
                values.iter().for_each(|v| check_literal(text, v));
            }
            Predicate::Between {
                path, low, high, ..
            } => {
                check_path(text, path);
                check_literal(text, low);
                check_literal(text, high);
            }
            Predicate::Text { path, pattern, .. } => {
                check_path(text, path);
                check_literal(text, pattern);
            }
        },
    }
}

/// The AST as JSON without spans, so layout changes do not move snapshots.
fn without_spans(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k != "span")
                .map(|(k, v)| (k, without_spans(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_spans).collect()),
        other => other,
    }
}

#[test]
fn valid_queries_parse_and_round_trip() {
    insta::glob!("queries/valid/*.segql", |path| {
        let text = fs::read_to_string(path).unwrap();
        let query = parse_query(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let formatted = format_query(&query);
        let reparsed = parse_query(&formatted).unwrap_or_else(|e| {
            panic!("{}: formatted text fails: {e}\n{formatted}", path.display())
        });
        assert_eq!(
            reparsed,
            query,
            "{}: format changed the tree\n{formatted}",
            path.display()
        );
        assert_eq!(
            format_query(&reparsed),
            formatted,
            "{}: format is not idempotent",
            path.display()
        );
        check_ident(&text, &query.entity);
        assert_eq!(parse_query(cut(&text, query.span)).as_ref(), Ok(&query));
        if let Some(filter) = &query.filter {
            check_spans(&text, filter);
        }
        let json = without_spans(serde_json::to_value(&query).unwrap());
        insta::assert_snapshot!(format!(
            "{formatted}\n\n{}",
            serde_json::to_string_pretty(&json).unwrap()
        ));
    });
}

#[test]
fn syntax_errors_are_reported() {
    insta::glob!("queries/invalid/syntax_*.segql", |path| {
        let text = fs::read_to_string(path).unwrap();
        // The first line is a comment saying what the file covers.
        let err = parse_query(&text).expect_err(&path.display().to_string());
        let span = err.span().expect("syntax errors have a span");
        let (line, col) = span.line_col(&text);
        let mut report = format!("[{}] {}\nat {line}:{col}", err.kind(), err);
        if let segql::Error::Syntax {
            hint: Some(hint),
            expected,
            ..
        } = &err
        {
            report.push_str(&format!("\nhint: {hint}"));
            if !expected.is_empty() {
                report.push_str(&format!("\nexpected: {}", expected.join(" | ")));
            }
        } else if let segql::Error::Syntax { expected, .. } = &err {
            if !expected.is_empty() {
                report.push_str(&format!("\nexpected: {}", expected.join(" | ")));
            }
        }
        insta::assert_snapshot!(report);
    });
}

#[test]
fn library_fixtures_parse_and_round_trip() {
    insta::glob!("libraries/*.segql", |path| {
        let text = fs::read_to_string(path).unwrap();
        let library = parse_library(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!library.segments.is_empty());
        for def in &library.segments {
            assert!(matches!(def.span.source, segql::span::SourceKind::Library));
            assert!(matches!(
                def.query.span.source,
                segql::span::SourceKind::Library
            ));
        }
        let formatted = format_library(&library);
        let reparsed = parse_library(&formatted).unwrap();
        assert_eq!(reparsed, library, "{}\n{formatted}", path.display());
        assert_eq!(format_library(&reparsed), formatted);
        insta::assert_snapshot!(formatted);
    });
}
