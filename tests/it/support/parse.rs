//! Checks shared by the parser's test files: that every span of a parsed
//! tree covers exactly the text of its node.

#![allow(dead_code)]

use segql::span::{SourceKind, Span};
use segql::syntax::ast::{AggregateCheck, Expr, ExprKind, Ident, Literal, Path, Predicate, Query};
use segql::syntax::{parse_expr, parse_literal, parse_query};

pub fn cut(text: &str, span: Span) -> &str {
    &text[span.range()]
}

pub fn check_ident(text: &str, ident: &Ident) {
    assert_eq!(cut(text, ident.span), ident.name);
}

fn check_literal(text: &str, literal: &Literal) {
    assert_eq!(parse_literal(cut(text, literal.span)).as_ref(), Ok(literal));
}

fn check_path(text: &str, path: &Path) {
    // Blanks and comments may sit between the segments of a path, so compare
    // parsed paths rather than text.
    let parsed = parse_expr(cut(text, path.span), SourceKind::Query);
    match parsed.map(|e| e.kind) {
        Ok(ExprKind::Predicate(Predicate::BoolField { path: back })) => assert_eq!(&back, path),
        other => panic!("{:?} is not a path: {other:?}", cut(text, path.span)),
    }
    path.segments.iter().for_each(|s| check_ident(text, s));
}

/// Every span of `expr` covers exactly the text of its node: the text under
/// an expression's span parses back to that expression, and so on down.
pub fn check_spans(text: &str, expr: &Expr) {
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
        ExprKind::Aggregate(test) => {
            let aggregate = &test.aggregate;
            let written = cut(text, aggregate.span);
            assert!(
                written
                    .to_ascii_lowercase()
                    .starts_with(aggregate.function.keyword())
                    && written.ends_with(')'),
                "{written:?} is not the whole aggregate"
            );
            for hop in &aggregate.chain {
                check_ident(text, &hop.relation);
                assert!(cut(text, hop.span).starts_with(hop.relation.name.as_str()));
                if let Some(via) = &hop.via {
                    check_ident(text, via);
                }
                if let Some(filter) = &hop.filter {
                    check_spans(text, filter);
                }
            }
            if let Some(field) = &aggregate.field {
                check_ident(text, field);
            }
            match &test.test {
                AggregateCheck::Compare { value, .. } => check_literal(text, value),
                AggregateCheck::IsNull { .. } => {}
                AggregateCheck::Between { low, high, .. } => {
                    check_literal(text, low);
                    check_literal(text, high);
                }
            }
        }
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

/// [`check_spans`] for a whole query.
pub fn check_query_spans(text: &str, query: &Query) {
    check_ident(text, &query.entity);
    assert_eq!(parse_query(cut(text, query.span)).as_ref(), Ok(query));
    if let Some(filter) = &query.filter {
        check_spans(text, filter);
    }
}
