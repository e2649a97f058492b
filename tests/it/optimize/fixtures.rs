//! The optimizer on fixture queries: every file in `queries/valid/` and
//! `queries/optimize/` (the latter written to exercise the rules) is parsed,
//! checked and optimized. The snapshot shows the checked plan, the optimized
//! plan and the rules that fired, in a compact notation; optimizing the
//! result again must change nothing.
//!
//! Fixtures may carry the directive comments of the check fixtures
//! (`# schema:`, `# library:`, `# guard:`; see [`crate::support::fixture`]).

use std::fmt::Write;
use std::path::Path;

use segql::check::check;
use segql::optimize::{optimize, optimize_traced};
use segql::plan::*;
use segql::syntax::parse_query;

use crate::support::fixture::Fixture;

fn run_fixture(path: &Path) -> String {
    let fixture = Fixture::load(path);
    let text = &fixture.text;
    let library = fixture.parsed_library();
    let ctx = fixture.context(library.as_ref());
    let query = parse_query(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let plan = check(&query, &ctx).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (optimized, firings) = optimize_traced(plan.clone());
    assert_eq!(
        optimize(optimized.clone()),
        optimized,
        "{}: optimizing twice changed the plan",
        path.display()
    );
    let mut out = String::new();
    let query_text: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(str::trim)
        .collect();
    let _ = writeln!(out, "query:     {}", query_text.join(" ").trim());
    let _ = writeln!(out, "checked:   {}", show(&plan.filter));
    let _ = writeln!(out, "optimized: {}", show(&optimized.filter));
    let _ = writeln!(out, "firings:");
    for firing in &firings {
        let _ = writeln!(
            out,
            "  {}: {}  =>  {}",
            firing.rule,
            show(&firing.before),
            show(&firing.after)
        );
    }
    out
}

#[test]
fn valid_queries_optimize() {
    insta::glob!("../..", "queries/valid/*.segql", |path| {
        insta::assert_snapshot!(run_fixture(path));
    });
}

#[test]
fn optimizer_queries_optimize() {
    insta::glob!("../..", "queries/optimize/*.segql", |path| {
        insta::assert_snapshot!(run_fixture(path));
    });
}

/// A compact, unambiguous rendering of a plan expression (also read back by
/// `crate::semantics::plan_text`).
pub(crate) fn show(expr: &PlanExpr) -> String {
    match expr {
        PlanExpr::Const(b) => b.to_string(),
        PlanExpr::Not(inner) => format!("not {}", show(inner)),
        PlanExpr::Segment(segment) => format!("in {}({})", segment.name, show(&segment.filter)),
        PlanExpr::And(items) => list(items, " and "),
        PlanExpr::Or(items) => list(items, " or "),
        PlanExpr::Related(r) => {
            let q = match r.quantifier {
                Quantifier::Any => "has".to_string(),
                Quantifier::No => "has no".to_string(),
                Quantifier::AtLeast(n) => format!("has at least {n}"),
                Quantifier::AtMost(n) => format!("has at most {n}"),
                Quantifier::Exactly(n) => format!("has exactly {n}"),
            };
            let arrow = match r.link.direction {
                Direction::ToParent => "->",
                Direction::ToChildren => "=>",
            };
            format!(
                "{q} {}{arrow}{}({})",
                r.link.relationship,
                r.link.to,
                show(&r.filter)
            )
        }
        // The plan's own printing: every hop names its relationship.
        PlanExpr::Aggregate(_) => expr.to_string(),
        PlanExpr::Field(t) => {
            let f = format!("{}.{}", t.field.entity, t.field.field);
            match &t.test {
                Test::Compare { op, value } => {
                    let op = match op {
                        CmpOp::Eq => "=",
                        CmpOp::Lt => "<",
                        CmpOp::Le => "<=",
                        CmpOp::Gt => ">",
                        CmpOp::Ge => ">=",
                    };
                    format!("{f} {op} {}", value_text(value))
                }
                Test::IsNotNull => format!("{f} is not null"),
                Test::InList(values) => format!(
                    "{f} in [{}]",
                    values.iter().map(value_text).collect::<Vec<_>>().join(", ")
                ),
                Test::Between { low, high } => {
                    format!("{f} between {} and {}", value_text(low), value_text(high))
                }
                Test::Text { op, pattern } => format!("{f} {op:?} {pattern:?}"),
            }
        }
    }
}

fn list(items: &[PlanExpr], sep: &str) -> String {
    let parts: Vec<String> = items.iter().map(show).collect();
    format!("({})", parts.join(sep))
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Text(s) => format!("{s:?}"),
        Value::Integer(n) => n.to_string(),
        Value::Decimal(d) => format!("{d:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Uuid(u) => u.to_string(),
        Value::Choice { code, label } => format!("{label:?}#{code}"),
        Value::Date(d) => d.to_string(),
        Value::DateTime(t) => t.to_rfc3339(),
        Value::TodayPlusDays(n) => format!("today{n:+}d"),
        Value::NowPlusSeconds { seconds, midnight } => {
            let base = if *midnight { "today" } else { "now" };
            format!("{base}{seconds:+}s")
        }
    }
}
