//! The canonical text of one literal: numbers and dates that parse back to
//! the same value, strings re-escaped, relative times spaced.

use std::fmt::Write as _;

use crate::syntax::ast::{Anchor, Literal, LiteralKind};

/// The canonical text of `literal`.
pub(super) fn literal_text(literal: &Literal) -> String {
    let mut text = String::new();
    match &literal.kind {
        LiteralKind::String(s) => text.push_str(&quote(s)),
        LiteralKind::Integer(i) => write!(text, "{i}").unwrap_or(()),
        LiteralKind::Decimal(d) => text.push_str(&decimal(*d)),
        LiteralKind::Bool(b) => text.push_str(if *b { "true" } else { "false" }),
        LiteralKind::Date(d) => write!(text, "{}", d.format("%Y-%m-%d")).unwrap_or(()),
        LiteralKind::DateTime(t) => {
            write!(text, "{}", t.format("%Y-%m-%dT%H:%M:%SZ")).unwrap_or(())
        }
        LiteralKind::Relative(r) => {
            text.push_str(match r.anchor {
                Anchor::Now => "now",
                Anchor::Today => "today",
            });
            if let Some(d) = r.offset {
                let sign = if d.negative { '-' } else { '+' };
                write!(text, " {sign} {}{}", d.amount, d.unit.suffix()).unwrap_or(());
            }
        }
    }
    text
}

/// A decimal that parses back to the same f64 and never as an integer:
/// Rust's `Display` for f64 is the shortest round-tripping form and never
/// uses an exponent; a whole number gets `.0` so it stays a decimal.
fn decimal(d: f64) -> String {
    let text = format!("{d}");
    if text.contains('.') || !d.is_finite() {
        text
    } else {
        format!("{text}.0")
    }
}

/// `s` as a double-quoted segql string: `"` and `\` escaped, newline and
/// tab as `\n` `\t`, other control characters as `\u{HEX}`.
pub fn quote(s: &str) -> String {
    crate::plan::quoted(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_stay_decimals_and_strings_are_escaped() {
        assert_eq!(decimal(3.0), "3.0");
        assert_eq!(decimal(-0.5), "-0.5");
        assert_eq!(decimal(0.1 + 0.2), "0.30000000000000004");
        assert!(!decimal(1e300).contains('e'));
        assert!(!decimal(1e-300).contains('e'));
        assert_eq!(
            quote("a\"b\\c\nd\te\u{1}é"),
            "\"a\\\"b\\\\c\\nd\\te\\u{1}é\""
        );
    }
}
