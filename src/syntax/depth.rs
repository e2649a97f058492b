//! The nesting-depth limit (SPEC §2.4), checked *before* the recursive pest
//! parse so that a hostile query (a hundred thousand `(` or `not`) is refused
//! cheaply instead of overflowing the stack.
//!
//! Depth counts what nests: every parenthesized group (including the one
//! after `has R`), every `not` in a chain (`not not x` is depth 2), and every
//! hop of a dotted path (`contact.account.industry` adds 2, because the
//! checker turns each hop into a nested relationship test). The scan is a
//! single loop over tokens with an explicit stack, so it cannot recurse.

use crate::error::{limits::MAX_DEPTH, Error, Result};
use crate::span::{SourceKind, Span};

use super::scan::{Scanner, TokenKind};

/// Fails with [`Error::TooDeep`] at the token where the nesting first
/// exceeds `limit`; otherwise returns the deepest nesting seen.
pub(crate) fn check_depth(text: &str, source: SourceKind, limit: usize) -> Result<usize> {
    // Depth of the enclosing groups, innermost last.
    let mut groups: Vec<usize> = Vec::new();
    let mut base = 0usize;
    // `not`s seen since the current operand began; they stay open until the
    // operand ends, which is at the latest the next `and`, `or`, `)` or
    // `segment`.
    let mut nots = 0usize;
    // Dots of the dotted path being read.
    let mut dots = 0usize;
    let mut prev_was_word = false;
    let mut deepest = 0usize;

    let mut tokens = Scanner::new(text).peekable();
    while let Some(token) = tokens.next() {
        let word_before = std::mem::replace(&mut prev_was_word, false);
        let depth = match token.kind {
            // `add 5` / `subtract 5` starts the next rule of a model file,
            // which ends the operand of the rule before. A name followed by
            // a number never parses in an expression, so no query nests here.
            TokenKind::Word
                if (token.is_word(text, "add") || token.is_word(text, "subtract"))
                    && tokens.peek().is_some_and(|next| {
                        next.kind == TokenKind::Number
                            || (next.kind == TokenKind::Punct && next.text(text) == "-")
                    }) =>
            {
                nots = 0;
                dots = 0;
                base
            }
            // `segment` starts the next library definition, which ends the
            // operand (and its `not` chain) of the one before.
            TokenKind::Word
                if token.is_word(text, "and")
                    || token.is_word(text, "or")
                    || token.is_word(text, "segment") =>
            {
                nots = 0;
                dots = 0;
                base
            }
            TokenKind::Word if token.is_word(text, "not") => {
                nots += 1;
                dots = 0;
                base + nots
            }
            TokenKind::Word => {
                prev_was_word = true;
                base + nots + dots
            }
            TokenKind::Punct => match token.text(text) {
                "(" => {
                    groups.push(base);
                    base += nots + 1;
                    nots = 0;
                    dots = 0;
                    base
                }
                ")" => {
                    base = groups.pop().unwrap_or(0);
                    nots = 0;
                    dots = 0;
                    base
                }
                "." if word_before => {
                    dots += 1;
                    base + nots + dots
                }
                _ => {
                    dots = 0;
                    base + nots
                }
            },
            TokenKind::Number | TokenKind::String { .. } | TokenKind::SingleQuoted => {
                dots = 0;
                base + nots
            }
        };
        if depth > limit {
            return Err(Error::TooDeep {
                limit,
                span: Span::new(token.start, token.end, source),
            });
        }
        deepest = deepest.max(depth);
    }
    Ok(deepest)
}

/// [`check_depth`] with the limit of SPEC §2.4.
pub(crate) fn check_default_depth(text: &str, source: SourceKind) -> Result<usize> {
    check_depth(text, source, MAX_DEPTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(text: &str) -> usize {
        check_depth(text, SourceKind::Query, usize::MAX).unwrap()
    }

    #[test]
    fn counts_groups_nots_and_path_hops() {
        assert_eq!(depth("contact where a = 1 and b = 2"), 0);
        assert_eq!(depth("contact where ((a = 1))"), 2);
        assert_eq!(depth("contact where not not a"), 2);
        assert_eq!(depth("contact where not a and not b and not c"), 1);
        assert_eq!(depth("contact where not (not a)"), 3);
        assert_eq!(depth("lead where contact.account.industry = \"Retail\""), 2);
        assert_eq!(depth("contact where has lead(has account(x = 1))"), 2);
        assert_eq!(
            depth("contact where x = 3.25 and y = 2024-05-01T10:00:00Z"),
            0
        );
    }

    #[test]
    fn each_rule_of_a_model_starts_afresh() {
        let rule = "add 1 if not not a\n";
        assert_eq!(
            depth(&format!("model m on lead {{\n{}}}", rule.repeat(300))),
            2
        );
        assert_eq!(
            depth("model m on lead { subtract -1 if not a add 2 if b }"),
            1
        );
        // A field called `add` is still a name inside an expression.
        assert_eq!(depth("contact where not add = 1 and not (not add)"), 3);
    }

    #[test]
    fn ignores_strings_and_comments() {
        assert_eq!(depth("contact where a = \"((((not\" # ((((\n"), 0);
    }

    #[test]
    fn points_at_the_token_that_crosses_the_limit() {
        let text = "contact where (((a)))";
        let err = check_depth(text, SourceKind::Query, 2).unwrap_err();
        match err {
            Error::TooDeep { limit, span } => {
                assert_eq!(limit, 2);
                assert_eq!(span.start as usize, text.find("(((").unwrap() + 2);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
