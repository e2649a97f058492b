//! Warnings: text that checks and has a meaning, but almost certainly not
//! the one its author meant. They never change a plan or an exit code; the
//! command line prints them (unless `--quiet`) so a segment that silently
//! selects nothing does not go unnoticed.

use serde::Serialize;

use crate::optimize::values::compare;
use crate::plan::Value;
use crate::span::Span;
use crate::syntax::ast::Literal;
use crate::syntax::format_literal;

/// One warning, at a place in the query or library text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Warning {
    /// What is wrong, in one line.
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
    pub span: Span,
}

/// `between low and high` whose low bound is above its high bound matches no
/// value (and `not between` every one): the bounds were most likely written
/// the wrong way round. Compared as the back ends compare them (choices by
/// their order, relative times by their offset); bounds of different kinds
/// (`today` and a fixed date) are not compared.
pub(crate) fn reversed_between(
    (low_literal, low): (&Literal, &Value),
    (high_literal, high): (&Literal, &Value),
    negated: bool,
) -> Option<Warning> {
    if compare(low, high) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let (low_text, high_text) = (format_literal(low_literal), format_literal(high_literal));
    let (keyword, outcome) = if negated {
        ("not between", "matches every record")
    } else {
        ("between", "matches no record")
    };
    Some(Warning {
        message: format!(
            "`{keyword} {low_text} and {high_text}` {outcome}: its first bound is above its second"
        ),
        help: Some(format!(
            "write the lower bound first: {keyword} {high_text} and {low_text}"
        )),
        span: low_literal.span.to(high_literal.span),
    })
}
