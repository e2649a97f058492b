//! Turns a pest error into an [`Error::Syntax`] a person can act on: the
//! grammar's rule names become words ("a field name", "`where`"), the message
//! says what came before and what was found, and common slips from other
//! languages (`'text'`, `==`, `&&`, `1e3`, a keyword used as a name) get a
//! hint saying what to write instead.

use pest::error::{ErrorVariant, InputLocation};

use crate::error::Error;
use crate::span::{SourceKind, Span};

use super::parser::Rule;
use super::scan::{Scanner, Token, TokenKind};

/// Words that can never be names (the `reserved` rule of the grammar).
pub(crate) const RESERVED: [&str; 16] = [
    "where", "and", "or", "not", "has", "in", "is", "null", "between", "contains", "starts",
    "ends", "true", "false", "now", "today",
];

/// What a rule stands for, in words; `None` for rules never worth naming.
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        EOI => "end of input",
        entity_name => "an entity name",
        segment_name => "a segment name",
        relation_name => "a relationship name",
        via_name => "a relationship name",
        field_name | path | predicate => "a field name",
        group | open_paren => "`(`",
        close_paren => "`)`",
        open_bracket => "`[`",
        close_bracket => "`]`",
        comma => "`,`",
        def_eq => "`=`",
        cmp_tail | cmp_op => "a comparison operator",
        null_tail | kw_is => "`is`",
        list_tail | kw_in => "`in`",
        between_tail | kw_between => "`between`",
        text_tail | text_op => "`contains`/`starts with`/`ends with`",
        kw_contains => "`contains`",
        kw_starts => "`starts with`",
        kw_ends => "`ends with`",
        kw_with => "`with`",
        literal => "a value",
        pattern | string => "a string in double quotes",
        count => "a whole number",
        quantifier => "a quantifier (`no`, `at least N`, `at most N`, `exactly N`)",
        kw_least => "`least`",
        kw_most => "`most`",
        via | kw_via => "`via`",
        has | kw_has => "`has`",
        aggregate_test | aggregate | agg_fn => "an aggregate (`count(`, `sum(`, ...)",
        hop => "a relationship name",
        member => "`in`",
        kw_not => "`not`",
        unary | or_expr | and_expr | expr_input => "a condition",
        query_input => "an entity name",
        library_input => "`segment`",
        literal_input => "a value",
        kw_true => "`true`",
        kw_false => "`false`",
        kw_where => "`where`",
        kw_and => "`and`",
        kw_or => "`or`",
        kw_null => "`null`",
        kw_segment | segment_def => "`segment`",
        query => "an entity name",
        time_sign => "`+` or `-`",
        duration => "a duration such as 30d",
        models_input | model_def | kw_model => "`model`",
        model_name => "a model name",
        kw_on => "`on`",
        open_brace => "`{`",
        close_brace => "`}`",
        sales_ready | kw_sales => "`sales ready at`",
        kw_ready => "`ready`",
        kw_at => "`at`",
        grades | kw_grades => "`grades`",
        grade | grade_label => "a grade label in double quotes",
        max_score | kw_max => "`max score`",
        kw_score => "`score`",
        rule_def | rule_sign | kw_add | kw_subtract => "a rule (`add` or `subtract`)",
        amount => "a whole number",
        rule_if | kw_if => "`if`",
        rule_per | kw_per => "`per`",
        rule_cap | kw_up => "`up to`",
        kw_to => "`to`",
        _ => return None,
    })
}

/// The words for everything that starts a condition; listed one by one they
/// make an unreadable message, so they are folded into "a condition".
const CONDITION_STARTS: [&str; 7] = [
    "`(`",
    "`true`",
    "`false`",
    "`has`",
    "a field name",
    "`not`",
    "an aggregate (`count(`, `sum(`, ...)",
];

/// Where a word goes in the list of expectations: what continues the
/// current construct first, then connectives, then the end.
fn rank(word: &str) -> u8 {
    match word {
        "a comparison operator" => 0,
        "`is`" => 1,
        "`in`" => 2,
        "`between`" => 3,
        "`contains`/`starts with`/`ends with`" => 4,
        "`and`" => 6,
        "`or`" => 7,
        "`)`" => 8,
        "end of input" => 9,
        _ => 5,
    }
}

/// Builds the syntax error for a failed parse of `text`.
pub(crate) fn syntax_error(
    text: &str,
    source: SourceKind,
    err: &pest::error::Error<Rule>,
) -> Error {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((start, _)) => start,
    }
    .min(text.len());
    let mut expected: Vec<&str> = Vec::new();
    if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        for word in positives.iter().filter_map(|r| describe(*r)) {
            if !expected.contains(&word) {
                expected.push(word);
            }
        }
    }
    if CONDITION_STARTS.iter().all(|w| expected.contains(w)) {
        expected.retain(|w| !CONDITION_STARTS.contains(w) && *w != "`in`");
        expected.insert(0, "a condition");
    }
    expected.sort_by_key(|w| rank(w));
    let found = Scanner::at(text, pos).next();
    let previous = Scanner::new(text.get(..pos).unwrap_or(text)).last();
    // At the end of the text, point just after the last token rather than
    // after trailing blank lines and comments.
    let pos = match (found, previous) {
        (None, Some(prev)) => prev.end,
        _ => pos,
    };

    let found_words = match found {
        None => "end of input".to_string(),
        Some(t) => describe_token(text, &t),
    };
    let mut message = match &expected[..] {
        [] => format!("unexpected {found_words}"),
        _ => format!("expected {}", list(&expected)),
    };
    if let Some(prev) = previous {
        message.push_str(&format!(" after '{}'", clip(prev.text(text))));
    }
    if !expected.is_empty() {
        message.push_str(&format!(", found {found_words}"));
    }

    let (span_end, hint, override_message) = match found {
        None => (pos, None, None),
        Some(t) => {
            let (hint, msg) = slip(text, &t, &expected, previous.as_ref());
            (t.end, hint, msg)
        }
    };
    Error::Syntax {
        message: override_message.unwrap_or(message),
        expected: expected.iter().map(|s| s.to_string()).collect(),
        span: Span::new(pos, span_end, source),
        hint,
    }
}

/// Recognizes habits from other languages in the token where parsing failed;
/// returns a hint and, when the slip *is* the error, a message replacing the
/// generic one.
fn slip(
    text: &str,
    found: &Token,
    expected: &[&str],
    previous: Option<&Token>,
) -> (Option<String>, Option<String>) {
    let word = found.text(text);
    let lower = word.to_ascii_lowercase();
    match found.kind {
        TokenKind::SingleQuoted => (
            Some(format!(
                "write {}",
                super::fmt::quote(word.trim_matches('\''))
            )),
            Some("strings use double quotes; single quotes are not supported".into()),
        ),
        TokenKind::String { closed: false } => (
            Some("add the closing `\"`; write `\\\"` for a quote inside a string".into()),
            Some("unterminated string: the closing `\"` is missing".into()),
        ),
        TokenKind::Punct if word == "==" => (Some("use `=` to compare".into()), None),
        TokenKind::Punct if word == "&&" => (Some("use `and`".into()), None),
        TokenKind::Punct if word == "||" => (Some("use `or`".into()), None),
        TokenKind::Punct if word == "!" => (Some("use `not` or `!=`".into()), None),
        TokenKind::Punct if word == "." && next_is_digit(text, found.end) => (
            Some("write a digit before the decimal point, e.g. 0.5".into()),
            None,
        ),
        TokenKind::Punct
            if word == "-"
                && text.get(found.end..).is_some_and(|rest| {
                    rest.trim_start().starts_with(|c: char| c.is_ascii_digit())
                }) =>
        {
            (
                Some("write a negative number without a space, e.g. -5".into()),
                None,
            )
        }
        TokenKind::Punct if !word.is_ascii() => (
            Some(
                "names are made of ASCII letters, digits and `_`; other text goes in double quotes"
                    .into(),
            ),
            None,
        ),
        TokenKind::Number if word.ends_with('.') => (
            Some("write a digit after the decimal point, e.g. 1.0".into()),
            None,
        ),
        TokenKind::Number if looks_like_exponent(word) => (
            Some("exponents are not supported; write the number out in full".into()),
            None,
        ),
        TokenKind::Number if word.contains('-') || word.contains(':') => (
            Some("dates are written YYYY-MM-DD and date-times YYYY-MM-DDTHH:MM:SSZ".into()),
            None,
        ),
        TokenKind::Word if lower == "null" && expected.contains(&"a value") => (
            Some("use `is null` or `is not null` to test for a missing value".into()),
            None,
        ),
        TokenKind::Word if RESERVED.contains(&lower.as_str()) && wants_name(expected) => (
            Some(format!(
                "`{lower}` is a keyword and cannot be used as a name"
            )),
            None,
        ),
        TokenKind::Word
            if previous.is_some_and(|p| p.kind == TokenKind::Number)
                && expected.iter().any(|e| e.contains("duration")) =>
        {
            (Some("the units are s, min, h, d and w".into()), None)
        }
        _ => (None, None),
    }
}

fn next_is_digit(text: &str, at: usize) -> bool {
    text.as_bytes().get(at).is_some_and(u8::is_ascii_digit)
}

fn wants_name(expected: &[&str]) -> bool {
    expected
        .iter()
        .any(|e| e.ends_with(" name") || *e == "a condition")
}

fn looks_like_exponent(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    match lower.split_once('e') {
        Some((mantissa, exp)) => {
            !mantissa.is_empty()
                && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
                && !exp.is_empty()
                && exp
                    .trim_start_matches(['+', '-'])
                    .chars()
                    .all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

fn describe_token(text: &str, token: &Token) -> String {
    let word = token.text(text);
    match token.kind {
        TokenKind::Word if RESERVED.contains(&word.to_ascii_lowercase().as_str()) => {
            format!("the keyword '{}'", clip(word))
        }
        _ => format!("'{}'", clip(word)),
    }
}

/// At most 30 characters of a token, for messages.
fn clip(word: &str) -> String {
    let mut chars = word.chars();
    let head: String = chars.by_ref().take(30).collect();
    if chars.next().is_some() {
        format!("{head}...")
    } else {
        head
    }
}

/// `a`, `a or b`, `a, b or c`.
fn list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use crate::error::Error;
    use crate::syntax::parse_query;

    /// Message and hint of the syntax error of `text`.
    fn error(text: &str) -> (String, Option<String>, Vec<String>) {
        match parse_query(text) {
            Err(Error::Syntax {
                message,
                hint,
                expected,
                ..
            }) => (message, hint, expected),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn names_what_was_expected_after_what() {
        assert!(
            parse_query("contact where role").is_ok(),
            "a bare path is valid"
        );
        let (message, _, expected) = error("contact where role ?");
        assert!(
            message.starts_with("expected a comparison operator, `is`, `in`, `between`"),
            "{message}"
        );
        assert!(message.ends_with("after 'role', found '?'"), "{message}");
        assert!(expected.contains(&"end of input".to_string()));
    }

    #[test]
    fn folds_everything_that_starts_a_condition() {
        let (message, _, expected) = error("contact where x = 1 and");
        assert_eq!(
            message,
            "expected a condition after 'and', found end of input"
        );
        assert_eq!(expected, vec!["a condition"]);
    }

    #[test]
    fn hints_at_habits_from_other_languages() {
        for (text, hint) in [
            ("contact where a = 1 && b", "use `and`"),
            ("contact where a = 1 || b", "use `or`"),
            ("contact where a = null", "is null"),
            ("contact where where = 1", "keyword"),
            ("contact where a = .5", "0.5"),
            ("contact where a = - 5", "-5"),
            ("contact where é = 1", "ASCII"),
            ("contact where a = 2024-5-1", "YYYY-MM-DD"),
        ] {
            let (message, got, _) = error(text);
            let got = got.unwrap_or_else(|| panic!("{text}: no hint; {message}"));
            assert!(got.contains(hint), "{text}: {got}");
        }
    }

    #[test]
    fn the_slip_itself_can_be_the_message() {
        let (message, hint, _) = error("contact where a = 'x");
        assert!(message.contains("double quotes"), "{message}");
        assert_eq!(hint.as_deref(), Some("write \"x\""));
        let (message, _, _) = error("contact where a = \"x");
        assert!(message.starts_with("unterminated string"), "{message}");
    }

    #[test]
    fn an_error_at_the_end_points_after_the_last_token() {
        let text = "contact where a =\n\n# trailing comment\n";
        let err = parse_query(text).unwrap_err();
        let span = err.span().unwrap();
        assert_eq!(span.start as usize, text.find('=').unwrap() + 1);
    }

    /// The words of the grammar's `reserved` rule: its `^"word"` literals.
    fn grammar_reserved_words() -> std::collections::BTreeSet<String> {
        let grammar = include_str!("../../grammar/segql.pest");
        let start = grammar
            .find("\nreserved = _{")
            .expect("the grammar has a `reserved` rule");
        let rule = &grammar[start..];
        let rule = &rule[..rule.find('}').expect("the rule ends")];
        rule.split("^\"")
            .skip(1)
            .map(|literal| literal[..literal.find('"').expect("a closed literal")].to_string())
            .collect()
    }

    #[test]
    fn reserved_words_are_the_grammars() {
        let grammar = grammar_reserved_words();
        assert!(grammar.len() >= 10, "too few words found: {grammar:?}");
        let listed: std::collections::BTreeSet<String> =
            super::RESERVED.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            listed.len(),
            super::RESERVED.len(),
            "RESERVED repeats a word"
        );
        assert_eq!(
            listed, grammar,
            "RESERVED in src/syntax/expected.rs and the `reserved` rule of grammar/segql.pest differ"
        );
    }
}
