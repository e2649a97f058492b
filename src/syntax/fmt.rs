//! The canonical text of an AST (`segql fmt`). Keywords are lowercase, one
//! space surrounds every operator, strings are re-escaped, numbers and dates
//! print so they parse back to the same value, and parentheses appear only
//! where precedence needs them — or around an `and` inside an `and` (an `or`
//! inside an `or`) that the author grouped, so `parse(format(q)) == q`.
//! Lines longer than [`WIDTH`] break before `and`/`or`, nested groups indented.
//!
//! Comments are not in the AST; the `*_with_comments` functions take the
//! source text too and write its comments back at the tokens they belong to
//! (see [`super::comments`] and `printer.rs`): a comment on its own
//! line stays before its token, a comment after code stays after it, and the
//! line always ends at a comment. A node with a comment between two of its
//! tokens never goes on one line: its `and`/`or` chains and groups break as
//! if too long, and a list puts one value on each line. A blank line after
//! a comment line is kept; the text is otherwise canonical, so formatting
//! is idempotent with comments too. Without comments the output is exactly
//! that of [`format_query`] / [`format_library`]. Scoring model files are
//! written by `fmt_models.rs`, with the writers of expressions and chains
//! from here.

use super::ast::{
    AggregateCheck, AggregateTest, ChainHop, CmpOp, Expr, ExprKind, Has, Ident, Library, Literal,
    Path, Predicate, Quantifier, Query,
};
use super::comments::SourceComments;
use super::printer::Printer;

mod literal;
use literal::literal_text;
pub use literal::quote;

/// The column after which a line is broken.
pub const WIDTH: usize = 80;
const INDENT: usize = 2;

/// The canonical text of a query, without a trailing newline.
pub fn format_query(query: &Query) -> String {
    let mut out = Printer::plain();
    write_query(&mut out, query, 0);
    out.finish()
}

/// The canonical text of a query parsed from `source`, with the comments of
/// `source` kept; without a trailing newline unless it ends in a comment
/// line of its own.
pub fn format_query_with_comments(query: &Query, source: &str) -> String {
    let found = SourceComments::of(source);
    let mut out = Printer::with_comments(source, &found);
    write_query(&mut out, query, 0);
    out.end_comments(false);
    out.finish()
}

/// The canonical text of a library: one definition per paragraph, a blank
/// line between definitions, ending with a newline (empty for no segments).
pub fn format_library(library: &Library) -> String {
    let mut out = Printer::plain();
    write_library(&mut out, library);
    out.finish()
}

/// The canonical text of a library parsed from `source`, with the comments
/// of `source` kept; comments after the last definition end the text as a
/// paragraph of their own.
pub fn format_library_with_comments(library: &Library, source: &str) -> String {
    let found = SourceComments::of(source);
    let mut out = Printer::with_comments(source, &found);
    write_library(&mut out, library);
    out.end_comments(true);
    let mut text = out.finish();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The canonical text of an expression (e.g. a guard), on as many lines as
/// its width needs.
pub fn format_expr(expr: &Expr) -> String {
    let mut out = Printer::plain();
    block(&mut out, expr, 0, 0);
    out.finish()
}

/// The canonical text of a literal.
pub fn format_literal(literal: &Literal) -> String {
    let mut out = Printer::plain();
    write_literal(&mut out, literal);
    out.finish()
}

fn write_library(out: &mut Printer, library: &Library) {
    for (i, def) in library.segments.iter().enumerate() {
        if i > 0 {
            out.newline(0);
        }
        out.word("segment");
        out.space();
        write_ident(out, &def.name);
        out.space();
        out.word("=");
        out.space();
        let column = "segment ".len() + def.name.name.chars().count() + " = ".len();
        write_query(out, &def.query, column);
        out.newline(0);
    }
}

/// `query` starting at column `column` of its first line.
fn write_query(out: &mut Printer, query: &Query, column: usize) {
    write_ident(out, &query.entity);
    let Some(filter) = &query.filter else {
        return;
    };
    let column = column + query.entity.name.chars().count();
    // A comment at `where` also puts the filter on lines of its own.
    let one_line = fits(out, column, |line| {
        line.space();
        line.word("where");
        line.space();
        write_flat(line, filter);
    });
    out.space();
    out.word("where");
    if one_line {
        out.space();
        write_flat(out, filter);
        out.comments_until(filter.span.end as usize);
    } else {
        out.newline(INDENT);
        block(out, filter, INDENT, INDENT);
    }
}

/// Whether what `write` writes fits on one line starting at `column`, with
/// no comment between two of its tokens. `write` runs on a trial printer.
fn fits(out: &Printer, column: usize, write: impl FnOnce(&mut Printer)) -> bool {
    let Some(budget) = WIDTH.checked_sub(column) else {
        return false;
    };
    // A character takes at most 4 bytes: past this many bytes it cannot fit.
    let mut line = out.trial(budget * 4);
    write(&mut line);
    line.fits_line().is_some_and(|width| width <= budget)
}

/// `expr` starting at column `column`, continuation lines indented by
/// `indent`; broken over lines only when the flat form does not fit (or
/// holds a comment). Comments after `expr` up to its end (after parentheses
/// dropped around it) are written after it.
pub(super) fn block(out: &mut Printer, expr: &Expr, column: usize, indent: usize) {
    layout(out, expr, column, indent);
    out.comments_until(expr.span.end as usize);
}

/// [`block`] without the comments after `expr`: a [`group`] writes those
/// after its `)`, which the span of `expr` takes in.
fn layout(out: &mut Printer, expr: &Expr, column: usize, indent: usize) {
    if fits(out, column, |line| write_flat(line, expr)) {
        write_flat(out, expr);
        return;
    }
    match &expr.kind {
        ExprKind::And(items) | ExprKind::Or(items) => {
            let word = if matches!(expr.kind, ExprKind::And(_)) {
                "and"
            } else {
                "or"
            };
            for (i, item) in items.iter().enumerate() {
                let col = if i == 0 {
                    column
                } else {
                    out.newline(indent);
                    out.word(word);
                    out.space();
                    indent + word.len() + 1
                };
                if !needs_parens(expr, item) {
                    block(out, item, col, indent);
                } else if fits(out, col, |line| write_operand(line, expr, item)) {
                    write_operand(out, expr, item);
                    out.comments_until(item.span.end as usize);
                } else {
                    group(out, item, indent);
                }
            }
        }
        ExprKind::Not(inner) => {
            out.word("not");
            out.space();
            if is_chain(inner) {
                group(out, inner, indent);
            } else {
                block(out, inner, column + 4, indent);
            }
        }
        ExprKind::Has(has) if has.filter.is_some() => {
            write_has_head(out, has);
            if let Some(filter) = &has.filter {
                group(out, filter, indent);
            }
        }
        ExprKind::Predicate(Predicate::InList {
            path,
            negated,
            values,
        }) if holds_comment(out, |line| write_flat(line, expr)) => {
            write_list_lines(out, path, *negated, values, indent);
        }
        ExprKind::Aggregate(test) => write_aggregate_test(out, test, Some(indent)),
        _ => write_flat(out, expr),
    }
}

/// Whether a comment falls between two tokens of what `write` writes.
fn holds_comment(out: &Printer, write: impl FnOnce(&mut Printer)) -> bool {
    let mut line = out.trial(usize::MAX);
    write(&mut line);
    line.fits_line().is_none()
}

/// `(expr)` on one line.
fn write_in_parens(out: &mut Printer, expr: &Expr) {
    out.word("(");
    write_flat(out, expr);
    out.word(")");
}

/// `path [not] in [` + one value a line, each with its comma and comments,
/// + `]`: a list that holds comments.
fn write_list_lines(
    out: &mut Printer,
    path: &Path,
    negated: bool,
    values: &[Literal],
    indent: usize,
) {
    write_path(out, path);
    out.space();
    if negated {
        out.word("not");
        out.space();
    }
    out.word("in");
    out.space();
    out.word("[");
    for value in values {
        out.newline(indent + INDENT);
        out.unit_held(&literal_text(value), value.span);
        out.glued(",", value.span.end as usize);
    }
    out.newline(indent);
    out.word("]");
}

/// `(` + `expr` on its own indented lines + `)`.
fn group(out: &mut Printer, expr: &Expr, indent: usize) {
    let inner = indent + INDENT;
    out.word("(");
    out.newline(inner);
    layout(out, expr, inner, inner);
    out.newline(indent);
    out.word(")");
    out.comments_until(expr.span.end as usize);
}

fn is_chain(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::And(_) | ExprKind::Or(_))
}

/// Whether `child`, an operand of `parent`, must be parenthesized to parse
/// back as the same tree.
fn needs_parens(parent: &Expr, child: &Expr) -> bool {
    match (&parent.kind, &child.kind) {
        // An `or` binds looser than `and`; a nested same-operator group was
        // grouped by its author (the parser flattens ungrouped chains).
        (ExprKind::And(_), ExprKind::And(_) | ExprKind::Or(_)) => true,
        (ExprKind::Or(_), ExprKind::Or(_)) => true,
        (ExprKind::Not(_), ExprKind::And(_) | ExprKind::Or(_)) => true,
        _ => false,
    }
}

/// `expr` token by token on one line (broken only after a comment).
pub(super) fn write_flat(out: &mut Printer, expr: &Expr) {
    if out.full() {
        return;
    }
    match &expr.kind {
        ExprKind::Bool(b) => out.word(if *b { "true" } else { "false" }),
        ExprKind::Not(inner) => {
            out.word("not");
            out.space();
            write_operand(out, expr, inner);
        }
        ExprKind::And(items) | ExprKind::Or(items) => {
            let (word, empty) = if matches!(expr.kind, ExprKind::And(_)) {
                ("and", "true")
            } else {
                ("or", "false")
            };
            // An empty chain is what it means: `and` of nothing is true.
            if items.is_empty() {
                out.word(empty);
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.space();
                    out.word(word);
                    out.space();
                }
                write_operand(out, expr, item);
            }
        }
        ExprKind::Has(has) => {
            write_has_head(out, has);
            if let Some(filter) = &has.filter {
                write_in_parens(out, filter);
            }
        }
        ExprKind::InSegment(name) => {
            out.word("in");
            out.space();
            write_ident(out, name);
        }
        ExprKind::Predicate(p) => write_predicate(out, p),
        ExprKind::Aggregate(test) => write_aggregate_test(out, test, None),
    }
}

/// `count(lead(status = "Open").account) >= 2`: hops as written, the
/// test as a predicate's. With `lines` (an indentation), a hop's filter that
/// holds a comment goes on lines of its own.
fn write_aggregate_test(out: &mut Printer, test: &AggregateTest, lines: Option<usize>) {
    let aggregate = &test.aggregate;
    out.word(aggregate.function.keyword());
    out.word("(");
    for (i, hop) in aggregate.chain.iter().enumerate() {
        if i > 0 {
            out.word(".");
        }
        write_relation(out, &hop.relation, hop.via.as_ref());
        let Some(filter) = &hop.filter else {
            continue;
        };
        match lines {
            Some(indent) if holds_comment(out, |line| write_in_parens(line, filter)) => {
                group(out, filter, indent);
            }
            _ => write_in_parens(out, filter),
        }
    }
    if let Some(field) = &aggregate.field {
        out.word(".");
        write_ident(out, field);
    }
    out.word(")");
    match &test.test {
        AggregateCheck::Compare { op, value } => write_compare(out, *op, value),
        AggregateCheck::IsNull { negated } => write_is_null(out, *negated),
        AggregateCheck::Between { negated, low, high } => write_between(out, *negated, low, high),
    }
}

/// The hops of a chain as written, on one line: `contact.interaction(type = "Email Opened")`.
pub(super) fn write_chain(out: &mut Printer, chain: &[ChainHop]) {
    for (i, hop) in chain.iter().enumerate() {
        if i > 0 {
            out.word(".");
        }
        write_relation(out, &hop.relation, hop.via.as_ref());
        if let Some(filter) = &hop.filter {
            write_in_parens(out, filter);
        }
    }
}

/// ` op value`: a comparison's tail, after a path or an aggregate.
fn write_compare(out: &mut Printer, op: CmpOp, value: &Literal) {
    out.space();
    out.word(op.symbol());
    out.space();
    write_literal(out, value);
}

/// ` is [not] null`.
fn write_is_null(out: &mut Printer, negated: bool) {
    words(out, if negated { " is not null" } else { " is null" });
}

/// ` [not] between low and high`.
fn write_between(out: &mut Printer, negated: bool, low: &Literal, high: &Literal) {
    words(
        out,
        if negated {
            " not between "
        } else {
            " between "
        },
    );
    write_literal(out, low);
    words(out, " and ");
    write_literal(out, high);
}

/// Keywords separated (and surrounded, where `text` has them) by spaces.
fn words(out: &mut Printer, text: &str) {
    let mut first = true;
    for word in text.split(' ') {
        if !first {
            out.space();
        }
        first = false;
        if !word.is_empty() {
            out.word(word);
        }
    }
}

fn write_operand(out: &mut Printer, parent: &Expr, child: &Expr) {
    if needs_parens(parent, child) {
        write_in_parens(out, child);
    } else {
        write_flat(out, child);
    }
}

/// `has [quantifier] relation [via name]`, without the filter.
fn write_has_head(out: &mut Printer, has: &Has) {
    out.word("has");
    out.space();
    let count = |out: &mut Printer, words_before: &str, n: u64| {
        words(out, words_before);
        out.word(&n.to_string());
        out.space();
    };
    match has.quantifier {
        Quantifier::Any => {}
        Quantifier::No => words(out, "no "),
        Quantifier::AtLeast(n) => count(out, "at least ", n),
        Quantifier::AtMost(n) => count(out, "at most ", n),
        Quantifier::Exactly(n) => count(out, "exactly ", n),
    }
    write_relation(out, &has.relation, has.via.as_ref());
}

/// `relation [via name]`, in `has` and in an aggregate's chain.
fn write_relation(out: &mut Printer, relation: &Ident, via: Option<&Ident>) {
    write_ident(out, relation);
    if let Some(via) = via {
        words(out, " via ");
        write_ident(out, via);
    }
}

fn write_predicate(out: &mut Printer, predicate: &Predicate) {
    let not = |out: &mut Printer, negated: bool| {
        if negated {
            out.word("not");
            out.space();
        }
    };
    match predicate {
        Predicate::Compare { path, op, value } => {
            write_path(out, path);
            write_compare(out, *op, value);
        }
        Predicate::IsNull { path, negated } => {
            write_path(out, path);
            write_is_null(out, *negated);
        }
        Predicate::InList {
            path,
            negated,
            values,
        } => {
            write_path(out, path);
            out.space();
            not(out, *negated);
            out.word("in");
            out.space();
            out.word("[");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.word(",");
                    out.space();
                }
                write_literal(out, v);
            }
            out.word("]");
        }
        Predicate::Between {
            path,
            negated,
            low,
            high,
        } => {
            write_path(out, path);
            write_between(out, *negated, low, high);
        }
        Predicate::Text {
            path,
            negated,
            op,
            pattern,
        } => {
            write_path(out, path);
            out.space();
            not(out, *negated);
            words(out, op.keyword());
            out.space();
            write_literal(out, pattern);
        }
        Predicate::BoolField { path } => write_path(out, path),
    }
}

fn write_path(out: &mut Printer, path: &Path) {
    for (i, segment) in path.segments.iter().enumerate() {
        if i > 0 {
            out.word(".");
        }
        write_ident(out, segment);
    }
}

fn write_ident(out: &mut Printer, ident: &Ident) {
    out.unit(&ident.name, ident.span);
}

fn write_literal(out: &mut Printer, literal: &Literal) {
    out.unit(&literal_text(literal), literal.span);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse_library, parse_query};

    fn canon(text: &str) -> String {
        format_query(&parse_query(text).unwrap())
    }

    #[test]
    fn keywords_lowercase_and_single_spaces() {
        assert_eq!(
            canon("CONTACT   WHERE City='x'".replace('\'', "\"").as_str()),
            "CONTACT where City = \"x\""
        );
        assert_eq!(
            canon("lead WHERE created_on>=NOW-30D and score NOT BETWEEN 1 AND 2"),
            "lead where created_on >= now - 30d and score not between 1 and 2"
        );
        assert_eq!(
            canon("contact where x In [1,2,]"),
            "contact where x in [1, 2]"
        );
    }

    #[test]
    fn aggregates_print_canonically_and_parse_back() {
        for (text, canonical) in [
            (
                "contact WHERE Sum( lead (status=\"Open\") . estimated_value )>10000",
                "contact where sum(lead(status = \"Open\").estimated_value) > 10000",
            ),
            (
                "lead where COUNT(contact.interaction via interaction_contact(type = \"Email Clicked\" and occurred_on >= now-30d)) >= 2",
                // Too long for one line: the condition moves to the next.
                "lead where\n  count(contact.interaction via interaction_contact(type = \"Email Clicked\" and occurred_on >= now - 30d)) >= 2",
            ),
            (
                "contact where not max(interaction.occurred_on) is not null or avg(lead.score) not between 1 and 2.5",
                "contact where\n  not max(interaction.occurred_on) is not null\n  or avg(lead.score) not between 1 and 2.5",
            ),
        ] {
            assert_eq!(canon(text), canonical);
            assert_eq!(parse_query(canonical).unwrap(), parse_query(text).unwrap());
        }
    }

    #[test]
    fn parentheses_only_where_needed() {
        assert_eq!(
            canon("contact where (a and b) or c"),
            "contact where a and b or c"
        );
        assert_eq!(
            canon("contact where (a or b) and c"),
            "contact where (a or b) and c"
        );
        assert_eq!(canon("contact where not (a)"), "contact where not a");
        assert_eq!(
            canon("contact where not (a and b)"),
            "contact where not (a and b)"
        );
        assert_eq!(
            canon("contact where a and (b and c)"),
            "contact where a and (b and c)"
        );
        assert_eq!(
            canon("contact where has lead((a))"),
            "contact where has lead(a)"
        );
    }

    #[test]
    fn literals_print_canonically() {
        assert_eq!(
            canon("contact where t = 2024-05-01T10:30:00+02:00 and d = 2024-05-01"),
            "contact where t = 2024-05-01T08:30:00Z and d = 2024-05-01"
        );
        assert_eq!(canon("contact where x = 007"), "contact where x = 7");
    }

    #[test]
    fn long_queries_break_at_and_or_with_indentation() {
        let text = "contact where (role = \"Decision Maker\" or role = \"Influencer\") and \
                    has at least 2 interaction(type = \"Email Clicked\" or type = \"Email Opened\" \
                    or type = \"Website Visited\") and not has subscription";
        let formatted = canon(text);
        assert_eq!(
            formatted,
            "contact where\n  (role = \"Decision Maker\" or role = \"Influencer\")\n  and has at least 2 interaction(\n    type = \"Email Clicked\" or type = \"Email Opened\" or type = \"Website Visited\"\n  )\n  and not has subscription"
        );
        assert!(formatted.lines().all(|l| l.chars().count() <= WIDTH));
        assert_eq!(parse_query(&formatted).unwrap(), parse_query(text).unwrap());
    }

    #[test]
    fn libraries_put_a_blank_line_between_definitions() {
        let lib = parse_library("segment a = contact segment b = lead where x # c\n").unwrap();
        assert_eq!(
            format_library(&lib),
            "segment a = contact\n\nsegment b = lead where x\n"
        );
        assert_eq!(format_library(&Library::default()), "");
    }
}
