//! The checks made on one query over one data set.
//!
//! 1. Agreement: every engine, on the plan as checked and as optimized,
//!    returns the same ids, ascending and without duplicates.
//! 2. Ternary logic partitioning: for a filter `p`, `p` and `not p` split the
//!    unfiltered records exactly — their union is all records and they share
//!    none — on every engine. Under SPEC's two-valued logic nothing may fall
//!    between the two, so a NULL handled as "unknown" anywhere shows up here
//!    even when all engines make the same mistake.
//!
//! An integer `sum` out of the i64 range is an error (SPEC 2.5), but which
//! sums an engine computes differs: a database sums every group, also those
//! of foreign keys that name no record, and SQLite refuses a running total
//! that leaves the range even when the final sum is back in it; the memory
//! engine sums only what the answer needs. So an overflow is set aside here:
//! the engines that answer must agree. That every engine raises it where the
//! sum itself is out of range is `semantics::integer_sums_beyond_i64_are_an_error`.

use segql::schema::Schema;
use segql::syntax::ast::{Expr, ExprKind, Library, Query};
use uuid::Uuid;

use super::engines::{self, Answer, Loaded};

/// Runs the query `text`, its negation and the unfiltered query on every
/// engine and returns a readable account of the first thing that does not
/// hold. On success, the agreed ids of the query itself.
pub fn check_text(
    env: &Loaded,
    library: Option<&Library>,
    text: &str,
    guards: &[String],
) -> Result<Vec<Uuid>, String> {
    let schema: &Schema = env.schema;
    let query =
        segql::syntax::parse_query(text).map_err(|e| format!("query: {text}\nparse: {e}"))?;
    let entity = schema
        .entity(&query.entity.name)
        .ok_or_else(|| format!("query: {text}\nno entity {}", query.entity.name))?;
    let all_ids = engines::all_keys(&env.sqlite, &entity.table, &entity.key)?;
    let mut runs = Vec::new();
    for (label, q) in [
        ("the query", query.clone()),
        ("its negation", negated(&query)),
        ("unfiltered", unfiltered(&query)),
    ] {
        let plans = engines::plan(schema, &q, library, guards)
            .map_err(|e| format!("query: {text}\n({label}) guards: {guards:?}\n{e}"))?;
        let answers = engines::answers(env, &plans, &all_ids);
        // Fixture directives and comments would only clutter the report.
        let shown: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let name = format!("{label}: {}", shown.join("\n"));
        agree(&name, &answers)?;
        runs.push((name, answers));
    }
    partition(&runs)?;
    let answers = runs.first().map(|(_, a)| a.as_slice()).unwrap_or_default();
    match answers.iter().find_map(|(_, a)| a.as_ref().ok()) {
        Some(ids) => Ok(ids.clone()),
        // Every engine refused an out-of-range sum: nothing to compare.
        None if answers.iter().all(|(_, a)| is_overflow(a)) => Ok(Vec::new()),
        None => Err("no answer".to_string()),
    }
}

/// Whether an engine refused an integer sum out of the i64 range.
fn is_overflow(answer: &Answer) -> bool {
    matches!(answer, Err(e) if e.contains("does not fit in a 64-bit integer"))
}

/// `query` with its filter negated (`not true` when it has none).
fn negated(query: &Query) -> Query {
    let inner = query.filter.clone().unwrap_or(Expr {
        kind: ExprKind::Bool(true),
        span: query.span,
    });
    let span = inner.span;
    Query {
        filter: Some(Expr {
            kind: ExprKind::Not(Box::new(inner)),
            span,
        }),
        ..query.clone()
    }
}

/// `query` without its filter: every record (guards still apply).
fn unfiltered(query: &Query) -> Query {
    Query {
        filter: None,
        ..query.clone()
    }
}

fn describe(text: &str, answers: &[(String, Answer)]) -> String {
    let mut out = format!("{text}\n");
    for (engine, answer) in answers {
        out.push_str(&format!("  {engine:<20} {}\n", engines::show(answer)));
    }
    out
}

fn agree(text: &str, answers: &[(String, Answer)]) -> Result<(), String> {
    let answered = || answers.iter().filter(|(_, a)| !is_overflow(a));
    let Some((_, first)) = answered().next() else {
        return Ok(());
    };
    for (engine, answer) in answered() {
        if let Ok(ids) = answer {
            if ids.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!(
                    "{engine} output is not strictly ascending\n{}",
                    describe(text, answers)
                ));
            }
        }
        if answer.is_err() || answer != first {
            return Err(format!("engines disagree\n{}", describe(text, answers)));
        }
    }
    Ok(())
}

fn partition(runs: &[(String, Vec<(String, Answer)>)]) -> Result<(), String> {
    let [(_, pos), (_, neg), (_, all)] = runs else {
        return Err("expected three runs".to_string());
    };
    for (((engine, p), (_, n)), (_, a)) in pos.iter().zip(neg).zip(all) {
        let (Ok(p), Ok(n), Ok(a)) = (p, n, a) else {
            continue;
        };
        let mut union: Vec<Uuid> = p.iter().chain(n.iter()).copied().collect();
        union.sort();
        let overlap = union.windows(2).any(|w| w[0] == w[1]);
        union.dedup();
        if overlap || &union != a {
            let mut out = format!("{engine}: p and not p do not partition all records\n");
            for (text, answers) in runs {
                out.push_str(&describe(text, answers));
            }
            return Err(out);
        }
    }
    Ok(())
}
