//! Scoring model files through the parser and formatter: generated model
//! files round-trip (`parse_models(format_models(m)) == m`, formatting is
//! idempotent), mangled model text never panics, and the limits of SPEC
//! §2.4 hold for model files too.

use proptest::prelude::*;

use segql::error::limits::MAX_TEXT_BYTES;
use segql::span::SourceKind;
use segql::syntax::ast::*;
use segql::syntax::{format_models, parse_models};
use segql::Error;

use super::props::{expr, name, sp};

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![0i64..1000, any::<i64>()].prop_map(|value| Amount { value, span: sp() })
}

fn setting() -> impl Strategy<Value = Setting> {
    amount().prop_map(|amount| Setting { amount, span: sp() })
}

fn grades() -> impl Strategy<Value = GradeList> {
    proptest::collection::vec((any::<String>(), amount()), 1..5).prop_map(|items| GradeList {
        grades: items
            .into_iter()
            .map(|(label, minimum)| GradeDef {
                label,
                minimum,
                span: sp(),
            })
            .collect(),
        span: sp(),
    })
}

fn hop() -> impl Strategy<Value = ChainHop> {
    (
        name(),
        proptest::option::of(name()),
        proptest::option::of(expr()),
    )
        .prop_map(|(relation, via, filter)| ChainHop {
            relation,
            via,
            filter: filter.map(Box::new),
            span: sp(),
        })
}

fn rule() -> impl Strategy<Value = RuleDef> {
    let sign = prop_oneof![Just(RuleSign::Add), Just(RuleSign::Subtract)];
    let kind = prop_oneof![
        expr().prop_map(RuleKindDef::If),
        (
            proptest::collection::vec(hop(), 1..4),
            proptest::option::of(amount())
        )
            .prop_map(|(chain, cap)| RuleKindDef::Per { chain, cap }),
    ];
    (sign, amount(), kind).prop_map(|(sign, points, kind)| RuleDef {
        sign,
        points,
        kind,
        span: sp(),
    })
}

fn model() -> impl Strategy<Value = ModelDef> {
    (
        name(),
        name(),
        proptest::collection::vec(setting(), 0..3),
        proptest::collection::vec(grades(), 0..3),
        proptest::collection::vec(setting(), 0..3),
        proptest::collection::vec(rule(), 0..5),
    )
        .prop_map(
            |(name, entity, sales_ready, grades, max_score, rules)| ModelDef {
                name,
                entity,
                sales_ready,
                grades,
                max_score,
                rules,
                span: sp(),
            },
        )
}

fn model_file() -> impl Strategy<Value = ModelFile> {
    proptest::collection::vec(model(), 1..4).prop_map(|models| ModelFile { models })
}

const EXAMPLE: &str = include_str!("../../../examples/scoring.segql");

/// Pieces likely to reach the corners of the model grammar.
const PIECES: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    ".",
    ",",
    "\"",
    "-",
    "#",
    "\n",
    " ",
    "model ",
    "on ",
    "add ",
    "subtract ",
    "if ",
    "per ",
    "up to ",
    "sales ready at ",
    "grades ",
    "max score ",
    "at ",
    "1",
    "-5",
    "x",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_model_files_round_trip(file in model_file()) {
        let text = format_models(&file);
        let back = parse_models(&text);
        prop_assert_eq!(back.as_ref(), Ok(&file), "{}", text);
        prop_assert_eq!(format_models(&back.unwrap()), text);
    }

    #[test]
    fn mangled_model_text_never_panics(
        cut in 0usize..4096,
        piece in proptest::sample::select(PIECES),
        keep in any::<bool>(),
    ) {
        let mut text = EXAMPLE.to_string();
        let mut at = cut % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        if keep {
            text.insert_str(at, piece);
        } else {
            text.truncate(at);
        }
        if let Ok(file) = parse_models(&text) {
            // Whatever parses formats back to the same tree.
            prop_assert_eq!(parse_models(&format_models(&file)), Ok(file));
        }
    }
}

#[test]
fn spans_point_into_the_model_file() {
    let text = "model m on lead {\n  sales ready at 5\n  add 1 if x = 2\n}\n";
    let file = parse_models(text).unwrap();
    let model = &file.models[0];
    assert!(matches!(model.span.source, SourceKind::Models));
    let setting = &model.sales_ready[0];
    assert_eq!(&text[setting.span.range()], "sales ready at 5");
    assert_eq!(&text[setting.amount.span.range()], "5");
    let rule = &model.rules[0];
    assert_eq!(&text[rule.span.range()], "add 1 if x = 2");
    let RuleKindDef::If(condition) = &rule.kind else {
        panic!("an if rule")
    };
    assert!(matches!(condition.span.source, SourceKind::Models));
    assert_eq!(&text[condition.span.range()], "x = 2");
}

#[test]
fn model_files_have_the_limits_of_queries() {
    let big = format!(
        "model m on lead {{ sales ready at 1 }}\n{}",
        "#".repeat(MAX_TEXT_BYTES)
    );
    assert!(matches!(parse_models(&big), Err(Error::TooLarge { .. })));
    let deep = format!(
        "model m on lead {{ add 1 if {}x{} }}",
        "(".repeat(300),
        ")".repeat(300)
    );
    assert!(matches!(parse_models(&deep), Err(Error::TooDeep { .. })));
    // Many rules, each shallow, are not deep together.
    let many = format!(
        "model m on lead {{ sales ready at 1 {} }}",
        "add 1 if not not x ".repeat(1000)
    );
    assert_eq!(parse_models(&many).unwrap().models[0].rules.len(), 1000);
    let overflow = "model m on lead { max score 9223372036854775808 }";
    assert!(matches!(parse_models(overflow), Err(Error::Syntax { .. })));
}
