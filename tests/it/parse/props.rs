//! Properties of the parser and formatter over generated input:
//! (a) no text, however malformed, makes the parser panic, and whatever
//!     parses also formats back to the same tree;
//! (b) every generated AST formats to text that parses back to it, and
//!     formatting is idempotent;
//! (c) hostile sizes and depths give the limit errors of SPEC §2.4.

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;

use segql::error::limits::{MAX_DEPTH, MAX_IN_LIST, MAX_TEXT_BYTES};
use segql::span::{SourceKind, Span};
use segql::syntax::ast::*;
use segql::syntax::{
    format_expr, format_library, format_query, parse_expr, parse_library, parse_query,
};
use segql::Error;

use crate::support::parse::check_query_spans;

// ------------------------------------------------------------------ (a)

/// The valid fixture queries, the seeds of the mutation test.
fn fixtures() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/queries/valid");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .expect("fixture directory")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    texts.sort();
    texts
}

/// Pieces that are likely to reach interesting corners of the grammar.
pub(super) const PIECES: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "\"",
    "'",
    "\\",
    "#",
    "\n",
    " ",
    "-",
    "+",
    "=",
    "==",
    "!=",
    "<",
    ">=",
    "not ",
    " and ",
    " or ",
    "has ",
    "at least ",
    "no ",
    "via ",
    "in ",
    " is ",
    "null",
    "between ",
    "contains ",
    "starts with ",
    "true",
    "now",
    "today",
    "- 30d",
    "1e3",
    "3.25",
    "2024-02-30",
    "2024-05-01T10:30:00+02:00",
    "\\u{",
    "}",
    "é",
    "日",
    "\u{0}",
    "segment ",
    "99999999999999999999",
    " . ",
    "# c\n",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, usize),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0..PIECES.len()).prop_map(|(at, p)| Edit::Insert(at, p)),
        (any::<usize>(), 1usize..12).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 1usize..20).prop_map(|(at, n)| Edit::Duplicate(at, n)),
    ]
}

/// A char boundary of `s` chosen by `seed`.
fn boundary(s: &str, seed: usize) -> usize {
    let mut at = seed % (s.len() + 1);
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &mut String, edit: &Edit) {
    match *edit {
        Edit::Insert(at, piece) => {
            let at = boundary(text, at);
            text.insert_str(at, PIECES[piece]);
        }
        Edit::Delete(at, n) => {
            let start = boundary(text, at);
            let end = boundary(text, start.saturating_add(n).min(text.len()));
            text.replace_range(start..end.max(start), "");
        }
        Edit::Duplicate(at, n) => {
            let start = boundary(text, at);
            let end = boundary(text, start.saturating_add(n).min(text.len()));
            let copy = text[start..end.max(start)].to_string();
            text.insert_str(end.max(start), &copy);
        }
    }
}

/// A valid fixture query with one to five edits.
pub(super) fn mutated_fixture() -> impl Strategy<Value = String> {
    (
        any::<prop::sample::Index>(),
        proptest::collection::vec(edit(), 1..6),
    )
        .prop_map(|(seed, edits)| {
            let texts = fixtures();
            let mut text = texts[seed.index(texts.len())].clone();
            for e in &edits {
                apply(&mut text, e);
            }
            text
        })
}

/// Parses `text` every way there is; whatever parses must round-trip.
fn parse_every_way(text: &str) {
    if let Ok(q) = parse_query(text) {
        check_query_spans(text, &q);
        let formatted = format_query(&q);
        assert_eq!(
            parse_query(&formatted).as_ref(),
            Ok(&q),
            "{text:?}\n{formatted}"
        );
    }
    if let Ok(lib) = parse_library(text) {
        let formatted = format_library(&lib);
        assert_eq!(
            parse_library(&formatted).as_ref(),
            Ok(&lib),
            "{text:?}\n{formatted}"
        );
    }
    if let Ok(e) = parse_expr(text, SourceKind::Guard) {
        let formatted = format_expr(&e);
        assert_eq!(
            parse_expr(&formatted, SourceKind::Guard).as_ref(),
            Ok(&e),
            "{text:?}\n{formatted}"
        );
    }
    let _ = segql::syntax::parse_literal(text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        parse_every_way(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_strings_never_panic(text in "\\PC{0,120}") {
        parse_every_way(&text);
    }

    #[test]
    fn mutated_fixtures_never_panic(text in mutated_fixture()) {
        parse_every_way(&text);
    }
}

// ------------------------------------------------------------------ (b)

pub(super) fn sp() -> Span {
    Span::default()
}

/// Names that are never keywords, so any position accepts them.
pub(super) fn name() -> impl Strategy<Value = Ident> {
    const KEYWORDS: &[&str] = &[
        "where", "and", "or", "not", "has", "no", "at", "least", "most", "exactly", "via", "in",
        "is", "null", "between", "contains", "starts", "ends", "with", "true", "false", "now",
        "today", "segment",
    ];
    "[A-Za-z_][A-Za-z0-9_]{0,10}"
        .prop_filter("not a keyword", |s| {
            !KEYWORDS.contains(&s.to_ascii_lowercase().as_str())
        })
        .prop_map(|name| Ident {
            name: name.into(),
            span: sp(),
        })
}

fn path() -> impl Strategy<Value = Path> {
    proptest::collection::vec(name(), 1..4).prop_map(|segments| Path {
        segments,
        span: sp(),
    })
}

fn literal() -> impl Strategy<Value = Literal> {
    let unit = prop_oneof![
        Just(TimeUnit::Seconds),
        Just(TimeUnit::Minutes),
        Just(TimeUnit::Hours),
        Just(TimeUnit::Days),
        Just(TimeUnit::Weeks),
    ];
    let duration =
        (any::<bool>(), 0u64..10_000_000, unit).prop_map(|(negative, amount, unit)| Duration {
            negative,
            amount,
            unit,
        });
    let anchor = prop_oneof![Just(Anchor::Now), Just(Anchor::Today)];
    let min_day = NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
    let max_day = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
    let (lo, hi) = (
        min_day.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp(),
        max_day
            .and_hms_opt(23, 59, 59)
            .unwrap()
            .and_utc()
            .timestamp(),
    );
    let kind = prop_oneof![
        any::<String>().prop_map(|s| LiteralKind::String(s.into())),
        any::<i64>().prop_map(LiteralKind::Integer),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(LiteralKind::Decimal),
        any::<bool>().prop_map(LiteralKind::Bool),
        (lo..=hi).prop_map(|t| {
            LiteralKind::Date(DateTime::<Utc>::from_timestamp(t, 0).unwrap().date_naive())
        }),
        (lo..=hi).prop_map(|t| LiteralKind::DateTime(DateTime::from_timestamp(t, 0).unwrap())),
        (anchor, proptest::option::of(duration))
            .prop_map(|(anchor, offset)| LiteralKind::Relative(Relative { anchor, offset })),
    ];
    kind.prop_map(|kind| Literal { kind, span: sp() })
}

fn string_literal() -> impl Strategy<Value = Literal> {
    any::<String>().prop_map(|s| Literal {
        kind: LiteralKind::String(s.into()),
        span: sp(),
    })
}

fn predicate() -> impl Strategy<Value = Predicate> {
    let cmp = prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge),
    ];
    let text_op = prop_oneof![
        Just(TextOp::Contains),
        Just(TextOp::StartsWith),
        Just(TextOp::EndsWith),
    ];
    prop_oneof![
        (path(), cmp, literal()).prop_map(|(path, op, value)| Predicate::Compare {
            path,
            op,
            value
        }),
        (path(), any::<bool>()).prop_map(|(path, negated)| Predicate::IsNull { path, negated }),
        (
            path(),
            any::<bool>(),
            proptest::collection::vec(literal(), 1..5)
        )
            .prop_map(|(path, negated, values)| Predicate::InList {
                path,
                negated,
                values
            }),
        (path(), any::<bool>(), literal(), literal()).prop_map(|(path, negated, low, high)| {
            Predicate::Between {
                path,
                negated,
                low: Box::new(low),
                high: Box::new(high),
            }
        }),
        (path(), any::<bool>(), text_op, string_literal()).prop_map(
            |(path, negated, op, pattern)| Predicate::Text {
                path,
                negated,
                op,
                pattern
            }
        ),
        path().prop_map(|path| Predicate::BoolField { path }),
    ]
}

fn quantifier() -> impl Strategy<Value = Quantifier> {
    prop_oneof![
        Just(Quantifier::Any),
        Just(Quantifier::No),
        any::<u64>().prop_map(Quantifier::AtLeast),
        any::<u64>().prop_map(Quantifier::AtMost),
        any::<u64>().prop_map(Quantifier::Exactly),
    ]
}

pub(super) fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(ExprKind::Bool),
        name().prop_map(ExprKind::InSegment),
        predicate().prop_map(ExprKind::Predicate),
        (quantifier(), name(), proptest::option::of(name())).prop_map(
            |(quantifier, relation, via)| ExprKind::Has(Has {
                quantifier,
                relation,
                via,
                filter: None,
            })
        ),
    ]
    .prop_map(|kind| Expr { kind, span: sp() });
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| ExprKind::Not(Box::new(e))),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(ExprKind::And),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(ExprKind::Or),
            (quantifier(), name(), proptest::option::of(name()), inner).prop_map(
                |(quantifier, relation, via, filter)| ExprKind::Has(Has {
                    quantifier,
                    relation,
                    via,
                    filter: Some(Box::new(filter)),
                })
            ),
        ]
        .prop_map(|kind| Expr { kind, span: sp() })
    })
}

pub(super) fn query() -> impl Strategy<Value = Query> {
    (name(), proptest::option::of(expr())).prop_map(|(entity, filter)| Query {
        entity,
        filter,
        span: sp(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_queries_round_trip(q in query()) {
        let text = format_query(&q);
        let back = parse_query(&text);
        prop_assert_eq!(back.as_ref(), Ok(&q), "{}", text);
        check_query_spans(&text, &back.unwrap());
        prop_assert_eq!(format_query(&q), text);
    }

    #[test]
    fn generated_libraries_round_trip(
        defs in proptest::collection::vec((name(), query()), 0..4),
    ) {
        let library = Library {
            segments: defs
                .into_iter()
                .map(|(name, query)| SegmentDef { name, query, span: sp() })
                .collect(),
        };
        let text = format_library(&library);
        let back = parse_library(&text);
        prop_assert_eq!(back.as_ref(), Ok(&library), "{}", text);
        prop_assert_eq!(format_library(&back.unwrap()), text);
    }

    #[test]
    fn generated_expressions_round_trip(e in expr()) {
        let text = format_expr(&e);
        let back = parse_expr(&text, SourceKind::Guard);
        prop_assert_eq!(back.as_ref(), Ok(&e), "{}", text);
    }
}

// ------------------------------------------------------------------ (c)

fn too_deep(text: &str) -> bool {
    matches!(parse_query(text), Err(Error::TooDeep { limit, .. }) if limit == MAX_DEPTH)
}

#[test]
fn a_hundred_thousand_parentheses_are_too_deep() {
    let n = 100_000;
    let text = format!("contact where {}x = 1{}", "(".repeat(n), ")".repeat(n));
    assert!(too_deep(&text));
    // Unbalanced, too: the limit is checked before the grammar.
    assert!(too_deep(&format!("contact where {}", "(".repeat(n))));
}

#[test]
fn a_hundred_thousand_nots_are_too_deep() {
    let text = format!("contact where {}x", "not ".repeat(100_000));
    assert!(too_deep(&text));
    let text = format!("contact where {}x", "not (".repeat(100_000));
    assert!(too_deep(&text));
}

#[test]
fn three_hundred_nested_has_are_too_deep() {
    let text = format!(
        "contact where {}x = 1{}",
        "has lead(".repeat(300),
        ")".repeat(300)
    );
    assert!(too_deep(&text));
}

#[test]
fn the_limit_error_points_where_the_limit_is_crossed() {
    let prefix = "contact where ";
    let text = format!("{prefix}{}x", "not ".repeat(MAX_DEPTH + 1));
    let Err(Error::TooDeep { span, .. }) = parse_query(&text) else {
        panic!("expected TooDeep")
    };
    assert_eq!(span.start as usize, prefix.len() + 4 * MAX_DEPTH);
}

/// The deepest query allowed parses on an ordinary 2 MiB test thread (the
/// parser moves deep parses to a thread with a large stack), and its tree can
/// be compared, formatted and dropped here.
#[test]
fn exactly_the_depth_limit_parses() {
    let kinds = [
        format!(
            "contact where {}x = 1{}",
            "(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        ),
        format!("contact where {}x", "not ".repeat(MAX_DEPTH)),
        format!(
            "contact where {}x = 1{}",
            "has lead(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        ),
        format!(
            "contact where {}(a or b){}",
            "not (x and ".repeat(MAX_DEPTH / 2 - 1),
            ")".repeat(MAX_DEPTH / 2 - 1)
        ),
    ];
    for text in &kinds {
        let q = parse_query(text).unwrap_or_else(|e| panic!("{e}: {}", &text[..60]));
        let formatted = format_query(&q);
        assert_eq!(parse_query(&formatted).unwrap(), q);
        let over = format!("contact where not ({}))", &text["contact where ".len()..]);
        assert!(too_deep(&over), "{}", &over[..60]);
    }
}

#[test]
fn text_over_one_mebibyte_is_too_large() {
    let base = "contact where city = \"";
    let filler = "x".repeat(MAX_TEXT_BYTES + 1 - base.len() - 1);
    let text = format!("{base}{filler}\"");
    assert_eq!(text.len(), MAX_TEXT_BYTES + 1);
    assert!(matches!(
        parse_query(&text),
        Err(Error::TooLarge { size, limit, .. }) if size == MAX_TEXT_BYTES + 1 && limit == MAX_TEXT_BYTES
    ));
    assert!(matches!(parse_library(&text), Err(Error::TooLarge { .. })));
    // One byte less is within the limit.
    let text = format!("{base}{}\"", &filler[1..]);
    assert!(parse_query(&text).is_ok());
}

#[test]
fn in_lists_stop_at_ten_thousand_values() {
    let list = |n: usize| {
        let values: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        format!("account where employees in [{}]", values.join(", "))
    };
    match parse_query(&list(MAX_IN_LIST))
        .unwrap()
        .filter
        .map(|f| f.kind)
    {
        Some(ExprKind::Predicate(Predicate::InList { values, .. })) => {
            assert_eq!(values.len(), MAX_IN_LIST)
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_query(&list(MAX_IN_LIST + 1)),
        Err(Error::TooManyValues { count, limit, .. }) if count == MAX_IN_LIST + 1 && limit == MAX_IN_LIST
    ));
}
