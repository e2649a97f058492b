//! The parser and formatter against the fixture queries: every file in
//! `queries/valid/` parses (its AST is snapshotted without spans), formats
//! to text that parses back to the same tree, and formats idempotently;
//! every `queries/invalid/syntax_*` file fails with the snapshotted error.
//! The spans of every node are checked to cover exactly that node's text.

use std::fs;

use segql::syntax::{format_library, format_query, parse_library, parse_query};

use crate::support::parse::check_query_spans;

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
    insta::glob!("../..", "queries/valid/*.segql", |path| {
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
        check_query_spans(&text, &query);
        let json = without_spans(serde_json::to_value(&query).unwrap());
        insta::assert_snapshot!(format!(
            "{formatted}\n\n{}",
            serde_json::to_string_pretty(&json).unwrap()
        ));
    });
}

#[test]
fn syntax_errors_are_reported() {
    insta::glob!("../..", "queries/invalid/syntax_*.segql", |path| {
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
    insta::glob!("../..", "libraries/*.segql", |path| {
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
