//! The fast path of parsing (the hand-written descent) against the grammar
//! (`syntax::reference`, pest alone). On every text the descent must answer
//! exactly the grammar's tree, spans included, where the grammar parses it,
//! and `None` (leave it to the grammar) where it does not; and the public
//! parsers, which try the descent first, must give what the grammar gives,
//! errors included.
//!
//! Trees are compared by their `Debug` text: `Span`'s `PartialEq` holds for
//! any two spans, and the spans are what a caret points with.

use proptest::prelude::*;

use segql::span::SourceKind;
use segql::syntax::reference::{
    descend_expr, descend_library, descend_literal, descend_query, parse_expr as grammar_expr,
    parse_library as grammar_library, parse_literal as grammar_literal,
    parse_query as grammar_query,
};
use segql::syntax::{format_query, parse_expr, parse_library, parse_literal, parse_query};
use segql::Error;

use super::props::{mutated_fixture, query, PIECES};

fn debug<T: std::fmt::Debug>(value: &T) -> String {
    format!("{value:?}")
}

/// The grammar's answer as the descent should give it. The limits of text
/// size and depth are checked before either parser runs, so a text over
/// them is not the descent's to answer: `None` says to skip the comparison.
fn expected<T>(grammar: &segql::Result<T>) -> Option<Option<&T>> {
    match grammar {
        Err(Error::TooDeep { .. } | Error::TooLarge { .. }) => None,
        other => Some(other.as_ref().ok()),
    }
}

/// `text` cut short for a failure's message.
fn shown(text: &str) -> String {
    text.chars().take(300).collect()
}

/// The descent's answer, the public parser's and the grammar's on `text`
/// read as a `what` agree; gives whether it parsed.
fn agree<T: std::fmt::Debug>(
    what: &str,
    text: &str,
    descended: Option<T>,
    public: segql::Result<T>,
    grammar: segql::Result<T>,
) -> bool {
    if let Some(expected) = expected(&grammar) {
        assert!(
            debug(&descended.as_ref()) == debug(&expected),
            "the descent and the grammar differ on the {what} {:?}",
            shown(text)
        );
    }
    assert!(
        debug(&public) == debug(&grammar),
        "the parser and the grammar differ on the {what} {:?}",
        shown(text)
    );
    grammar.is_ok()
}

fn agree_as_query(text: &str) -> bool {
    agree(
        "query",
        text,
        descend_query(text),
        parse_query(text),
        grammar_query(text),
    )
}

fn agree_as_library(text: &str) -> bool {
    agree(
        "library",
        text,
        descend_library(text),
        parse_library(text),
        grammar_library(text),
    )
}

fn agree_as_expr(text: &str) -> bool {
    let guard = SourceKind::Guard;
    agree(
        "expression",
        text,
        descend_expr(text, guard),
        parse_expr(text, guard),
        grammar_expr(text, guard),
    )
}

fn agree_as_literal(text: &str) -> bool {
    agree(
        "literal",
        text,
        descend_literal(text),
        parse_literal(text),
        grammar_literal(text),
    )
}

fn agree_every_way(text: &str) {
    agree_as_query(text);
    agree_as_library(text);
    agree_as_expr(text);
    agree_as_literal(text);
}

/// The `.segql` files under `dir` of the repository, sorted.
fn files(dir: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "segql").then(|| {
                let text = std::fs::read_to_string(&path).expect("a fixture");
                (path.display().to_string(), text)
            })
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_query_fixture_descends_to_the_grammars_tree() {
    let mut parsed = 0;
    let mut refused = 0;
    for dir in [
        "tests/queries/valid",
        "tests/queries/aggregates",
        "tests/queries/optimize",
        "tests/queries/invalid",
    ] {
        for (_, text) in files(dir) {
            if agree_as_query(&text) {
                parsed += 1;
            } else {
                refused += 1;
            }
        }
    }
    // Both sides of the contract are exercised, not only one.
    assert!(parsed >= 150, "{parsed} fixtures parsed");
    assert!(refused >= 40, "{refused} fixtures refused");
}

#[test]
fn every_library_descends_to_the_grammars_tree() {
    let mut parsed = 0;
    for dir in ["tests/libraries", "examples"] {
        for (path, text) in files(dir) {
            if path.ends_with("scoring.segql") {
                continue; // a scoring model file, parsed by pest alone
            }
            parsed += usize::from(agree_as_library(&text));
        }
    }
    assert!(parsed >= 8, "{parsed} libraries parsed");
}

#[test]
fn every_corner_of_the_grammar_is_met_the_same_way() {
    let texts = [
        // Names that look like keywords, keywords in any case.
        "CONTACT WHERE NOT Order AND nowhere Or isbn",
        "contact where has no lead and has no(x) and has no",
        "contact where has at least 2 interaction and has at(x) and has exactly(y)",
        "contact where has at most 0 lead via lead_contact (status = \"Open\")",
        "contact where has at least 2x lead",
        "contact where has exactly 99999999999999999999999 lead",
        "contact where in vip or in",
        "contact where count(lead) >= 2 and count = 3 and count(lead)",
        "contact where max(interaction.occurred_on) is not null",
        "contact where sum(lead(status = \"Open\").estimated_value) between 1 and 2",
        "contact where avg(lead) > 1",
        "contact where min(lead.account(x).employees) > 1",
        "contact where count(lead) in [1, 2]",
        "contact where count(lead) contains \"x\"",
        // Tails.
        "contact where a = 1 and b != 2 and c < 3 and d <= 4 and e > 5 and f >= 6",
        "contact where a == 1",
        "contact where a <> 1 or a => 1 or a =< 1",
        "contact where a is null and b is not null and c is",
        "contact where a in [1, 2, ] and b not in [\"x\"] and c in []",
        "contact where a between 1 and 2 and 3",
        "contact where a not between now - 1d and today + 2w",
        "contact where a contains \"x\" and b not starts with \"y\" and c ends  with \"z\"",
        "contact where a starts \"x\"",
        "contact where a contains 'x'",
        "contact where a . b . c = 1 and a.",
        "contact where a not",
        // Literals.
        "contact where a = 2024-05-01 and b = 2024-05-01T10:30:00Z",
        "contact where a = 2024-05-01t10:30:00z and b = 2024-05-01T10:30:00+02:00",
        "contact where a = 2024-02-30",
        "contact where a = 2024-05-01T10:30:00",
        "contact where a = 2024-05-01T10:30:00.5Z",
        "contact where a = 2024-05-01T25:30:00Z",
        "contact where a = 2024-05-01T10:30:00+24:00",
        "contact where a = 2024-05-01T10:30:00+0200",
        "contact where a = 2024-05-01T",
        "contact where a = 2024-05-1",
        "contact where a = 1e3 or a = 1. or a = -0.5 or a = -7",
        "contact where a = 9223372036854775808",
        "contact where a = 1and b",
        "contact where a = \"a\\\"b\\\\c\\nd\\te\\u{e9}\" and b = \"\\q\"",
        "contact where a = \"unterminated",
        "contact where a = \"ends with a backslash\\",
        "contact where a = now - 30d and b = now-30D and c = today + 1w",
        "contact where a = now - 30mo",
        "contact where a = now - 30m",
        "contact where a = now - 30d5",
        "contact where a = now - ",
        "contact where a = true and b = FALSE and c",
        // Layout.
        "\u{feff}contact\r\nwhere\ta=1 # a comment\n and b # last",
        "# leading comment\ncontact where a=1 and#x\nb",
        "contact where ((a)) and (b or (c and not not d))",
        "contact where (a",
        "contact where",
        "contact where é = 1",
        "contact where x = \"é\" or in seg",
        "",
        "   ",
    ];
    for text in texts {
        agree_every_way(text);
    }
    let libraries = [
        "segment a = contact where x segment b = lead",
        "segment a = contact segment b = contact where in a",
        "segment a == contact",
        "segment = contact",
        "# only a comment\n",
    ];
    for text in libraries {
        agree_every_way(text);
    }
}

/// Tokens of every kind, with the blanks between them chosen at random:
/// text that the grammar takes apart at every corner.
const TOKENS: &[&str] = &[
    "contact",
    "lead",
    "x",
    "count",
    "sum",
    "max",
    "no",
    "at",
    "least",
    "most",
    "exactly",
    "via",
    "segment",
    "where",
    "and",
    "or",
    "not",
    "has",
    "in",
    "is",
    "null",
    "between",
    "contains",
    "starts",
    "ends",
    "with",
    "true",
    "false",
    "now",
    "today",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "<>",
    "-",
    "+",
    "1",
    "2",
    "-3",
    "4.5",
    "1e3",
    "30d",
    "2mo",
    "2024-05-01",
    "2024-05-01T10:00:00Z",
    "\"s\"",
    "'q'",
    "#c\n",
    "\n",
];

fn token_soup() -> impl Strategy<Value = String> {
    let piece = (0..TOKENS.len(), 0..4usize).prop_map(|(token, blank)| {
        let blank = [" ", "", "  ", "\t"][blank];
        format!("{blank}{}", TOKENS[token])
    });
    proptest::collection::vec(piece, 0..14).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn token_soups_are_met_the_same_way(soup in token_soup()) {
        agree_as_expr(&soup);
        agree_as_query(&format!("contact where {soup}"));
        agree_as_library(&format!("segment s = contact where {soup}"));
        agree_as_literal(&soup);
    }

    #[test]
    fn mutated_fixtures_are_met_the_same_way(text in mutated_fixture()) {
        agree_every_way(&text);
    }

    #[test]
    fn generated_queries_descend(q in query()) {
        let text = format_query(&q);
        prop_assert!(agree_as_query(&text), "{}", text);
        prop_assert!(descend_query(&text).is_some());
    }
}

/// The pieces the mutations insert, each alone and after a valid query.
#[test]
fn every_mutation_piece_is_met_the_same_way() {
    for piece in PIECES {
        agree_every_way(piece);
        agree_every_way(&format!("contact where a = {piece}"));
        agree_every_way(&format!("contact where has lead({piece})"));
    }
}
