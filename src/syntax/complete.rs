//! Whether a piece of query text is obviously unfinished, so a line-by-line
//! reader (the shell) keeps reading instead of running half a query: an
//! open `(` or `[`, an unterminated string, or a last word `and`/`or`.
//! Comments and strings are skipped by the same rough tokenizer the error
//! messages use, so `"(" # (` counts no open parenthesis.

use super::scan::{Scanner, TokenKind};

/// True when `text` cannot be a whole query yet and more lines should be
/// read: a parenthesis or bracket is still open, a double-quoted string is
/// not closed, or the last word is `and` or `or` (any case). Anything else,
/// even a query with errors, is complete: the parser then says what is wrong.
pub fn is_incomplete(text: &str) -> bool {
    let mut open = 0usize;
    let mut last = None;
    for token in Scanner::new(text) {
        match (token.kind, token.text(text)) {
            (TokenKind::String { closed: false }, _) => return true,
            (TokenKind::Punct, "(" | "[") => open += 1,
            (TokenKind::Punct, ")" | "]") => open = open.saturating_sub(1),
            _ => {}
        }
        last = Some(token);
    }
    let dangling = last.is_some_and(|t| t.is_word(text, "and") || t.is_word(text, "or"));
    open > 0 || dangling
}

#[cfg(test)]
mod tests {
    use super::is_incomplete;

    #[test]
    fn open_parentheses_and_brackets_continue() {
        assert!(is_incomplete("contact where has lead("));
        assert!(is_incomplete("contact where role in [\"Employee\","));
        assert!(is_incomplete("contact where ((true)"));
        assert!(!is_incomplete("contact where has lead(status = \"Open\")"));
        assert!(!is_incomplete("contact where city in [\"Paris\"]"));
    }

    #[test]
    fn a_trailing_and_or_continues_in_any_case() {
        assert!(is_incomplete("contact where role = \"Employee\" and"));
        assert!(is_incomplete("contact where role = \"Employee\" OR\n"));
        assert!(is_incomplete("contact where true And  # more below\n"));
        assert!(!is_incomplete("contact where brand = \"and\""));
        assert!(!is_incomplete("contact where android"));
        assert!(!is_incomplete("contact where true # and"));
    }

    #[test]
    fn unterminated_strings_continue_and_brackets_in_strings_and_comments_do_not_count() {
        assert!(is_incomplete("contact where city = \"Pa"));
        assert!(is_incomplete("contact where city = \"a\\\""));
        assert!(!is_incomplete("contact where city = \"((\""));
        assert!(!is_incomplete("contact where true # ((\n"));
    }

    #[test]
    fn complete_or_broken_text_is_left_to_the_parser() {
        assert!(!is_incomplete(""));
        assert!(!is_incomplete("contact"));
        assert!(!is_incomplete("contact where )) and true"));
        assert!(!is_incomplete("contact where 'single'"));
    }
}
