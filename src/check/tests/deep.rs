//! Deep input: the checker recurses once per level and must stay within a
//! small stack (2 MiB, as a spawned thread has by default) at the parser's
//! depth limit, and refuse hand-built trees deeper than the plan limit.

use super::*;
use crate::error::limits::MAX_PLAN_DEPTH;
use crate::span::Span;
use crate::syntax::ast::{Expr, ExprKind, Query};

fn on_small_stack<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("thread starts")
        .join()
        .expect("no stack overflow");
}

fn nested(prefix: &str, suffix: &str, depth: usize, core: &str) -> String {
    format!("{}{core}{}", prefix.repeat(depth), suffix.repeat(depth))
}

#[test]
fn deep_queries_check_on_a_small_stack() {
    on_small_stack(|| {
        let schema = crm_schema();
        let texts = [
            format!("contact where {}", nested("not ", "", 250, "is_child")),
            format!("contact where {}", nested("(not ", ")", 125, "is_child")),
            format!(
                "contact where {}",
                nested("has lead(has contact(", "))", 125, "is_child")
            ),
            format!(
                "contact where {}",
                nested("is_child or marketing_only and (", ")", 250, "is_child")
            ),
        ];
        for text in texts {
            let query = syntax::parse_query(&text).expect("within the parser's depth limit");
            check(&query, &Options::new(&schema)).expect("checks");
        }
    });
}

#[test]
fn hand_built_trees_deeper_than_the_plan_limit_are_refused() {
    on_small_stack(|| {
        let schema = crm_schema();
        let mut expr = Expr {
            kind: ExprKind::Bool(true),
            span: Span::default(),
        };
        for _ in 0..MAX_PLAN_DEPTH + 10 {
            expr = Expr {
                kind: ExprKind::Not(Box::new(expr)),
                span: Span::default(),
            };
        }
        let query = Query {
            entity: crate::syntax::ast::Ident {
                name: "contact".into(),
                span: Span::default(),
            },
            filter: Some(expr),
            span: Span::default(),
        };
        let err = check(&query, &Options::new(&schema)).expect_err("too deep");
        assert!(matches!(err, Error::TooDeep { .. }), "{err:?}");
        // Dropping the tree is the caller's business; do it iteratively here
        // so the test measures the checker alone.
        let mut next = query.filter;
        while let Some(Expr {
            kind: ExprKind::Not(inner),
            ..
        }) = next
        {
            next = Some(*inner);
        }
    });
}
