//! Comments survive `fmt` on scoring model files. Every model fixture under
//! `tests/queries/models/` that parses, and `examples/scoring.segql`, gets
//! comments inserted at token boundaries chosen by the seeded generator of
//! `comments_fixtures.rs` (some texts also with CRLF line endings), and
//! formatting must keep every comment once, each with the setting or rule it
//! was written at (the settings move before the rules), keep the tree, and be
//! idempotent. Without comments the text is exactly [`format_models`]'s, and
//! that is the layout model files always had (a reference copy of it is
//! kept here). Generated models reach conditions and chains the fixtures do
//! not; the focused cases pin the layout of each kind of comment.

use std::fs;
use std::path::{Path, PathBuf};

use segql::span::Span;
use segql::syntax::ast::{
    Aggregate, AggregateCheck, AggregateFn, AggregateTest, Amount, ChainHop, Expr, ExprKind, Ident,
    ModelDef, ModelFile, RuleDef, RuleKindDef, RuleSign, Setting,
};
use segql::syntax::comments::SourceComments;
use segql::syntax::fmt::quote;
use segql::syntax::{format_expr, format_models, format_models_with_comments, parse_models};

use super::comments_fixtures::{comment_texts, seed_of, stripped, with_comments, Rng};

/// Every model file that parses: the fixtures (the `syntax_*` ones are
/// there for their syntax errors) and the example.
fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["tests/queries/models/valid", "tests/queries/models/invalid"] {
        let mut found: Vec<PathBuf> = fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "segql"))
            .filter(|path| {
                !path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("syntax_"))
            })
            .collect();
        found.sort();
        files.extend(found);
    }
    files.push(root.join("examples/scoring.segql"));
    assert!(files.len() >= 10, "model fixtures not found: {files:?}");
    files
}

/// The spans of a model's settings and rules, in the order `fmt` writes
/// them.
fn item_spans(model: &ModelDef) -> Vec<Span> {
    let settings = model.sales_ready.iter().map(|s| s.span);
    let grades = model.grades.iter().map(|g| g.span);
    let max = model.max_score.iter().map(|s| s.span);
    let rules = model.rules.iter().map(|r| r.span);
    settings.chain(grades).chain(max).chain(rules).collect()
}

/// For each model and each of its settings and rules, the comments of
/// `text` it owns: those attached from its first byte to its last (the
/// comment lines before it, those inside, the one after it on its line).
fn owned(text: &str, file: &ModelFile) -> Vec<Vec<Vec<String>>> {
    let found = SourceComments::of(text);
    file.models
        .iter()
        .map(|model| {
            item_spans(model)
                .into_iter()
                .map(|span| {
                    found
                        .comments
                        .iter()
                        .filter(|c| (span.start as usize..=span.end as usize).contains(&c.anchor))
                        .map(|c| c.text.clone())
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn sorted(mut texts: Vec<String>) -> Vec<String> {
    texts.sort();
    texts
}

/// Formats `text` with its comments, checks the properties, and returns
/// the output.
fn check_round_trip(name: &str, text: &str, markers: &[usize]) -> String {
    round_trip(name, text, markers, true)
}

/// [`check_round_trip`]; with `same_owners` false, a comment may end up
/// attached to another setting or rule (see the last focused case).
fn round_trip(name: &str, text: &str, markers: &[usize], same_owners: bool) -> String {
    let tree = parse_models(text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
    let formatted = format_models_with_comments(&tree, text);
    let back = parse_models(&formatted)
        .unwrap_or_else(|e| panic!("{name}: output fails: {e}\n{text}\n---\n{formatted}"));
    assert_eq!(back, tree, "{name}: tree changed\n{text}\n---\n{formatted}");
    for k in markers {
        let marker = format!("note<{k}>");
        assert_eq!(
            formatted.matches(&marker).count(),
            1,
            "{name}: {marker} not kept once\n{text}\n---\n{formatted}"
        );
    }
    assert_eq!(
        sorted(comment_texts(&formatted)),
        sorted(comment_texts(text)),
        "{name}: comments lost or changed\n{text}\n---\n{formatted}"
    );
    assert!(
        !same_owners || owned(&formatted, &back) == owned(text, &tree),
        "{name}: a comment left its setting or rule\n{text}\n---\n{formatted}"
    );
    let again = format_models_with_comments(&back, &formatted);
    assert_eq!(
        again, formatted,
        "{name}: not idempotent\n{text}\n---\n{formatted}"
    );
    assert!(!formatted.contains('\r'), "{name}: CR kept\n{formatted}");
    assert!(
        formatted.lines().all(|line| !line.ends_with(' ')),
        "{name}: trailing blanks\n{formatted}"
    );
    assert!(formatted.ends_with('\n'), "{name}: no final newline");
    formatted
}

#[test]
fn every_model_fixture_keeps_comments_inserted_at_random_token_boundaries() {
    for path in fixtures() {
        let name = path.display().to_string();
        let original = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_round_trip(&name, &original, &[]);
        let mut rng = Rng::new(seed_of(&name));
        for variant in 0..24 {
            let percent = [10, 30, 60, 100][variant % 4];
            let (text, markers) = with_comments(&original, &mut rng, percent);
            let text = if variant % 3 == 2 {
                text.replace('\n', "\r\n")
            } else {
                text
            };
            check_round_trip(&format!("{name} #{variant}"), &text, &markers);
        }
    }
}

// ------------------------------------------------- the layout without comments

/// The layout of model files as it was before they were written through
/// the printer, from the public formatting functions: settings first, one
/// item a line, continuation lines of a long `if` four spaces deep.
fn reference_layout(file: &ModelFile) -> String {
    let models: Vec<String> = file.models.iter().map(reference_model).collect();
    models.join("\n")
}

fn reference_model(model: &ModelDef) -> String {
    let mut lines = Vec::new();
    for setting in &model.sales_ready {
        lines.push(format!("sales ready at {}", setting.amount.value));
    }
    for grades in &model.grades {
        let items: Vec<String> = grades
            .grades
            .iter()
            .map(|g| format!("{} at {}", quote(&g.label), g.minimum.value))
            .collect();
        lines.push(format!("grades {}", items.join(", ")));
    }
    for setting in &model.max_score {
        lines.push(format!("max score {}", setting.amount.value));
    }
    for rule in &model.rules {
        let head = format!("{} {}", rule.sign.keyword(), rule.points.value);
        lines.push(match &rule.kind {
            RuleKindDef::If(expr) => format!("{head} if {}", format_expr(expr)),
            RuleKindDef::Per { chain, cap } => {
                let cap = cap
                    .as_ref()
                    .map_or(String::new(), |c| format!(" up to {}", c.value));
                format!("{head} per {}{cap}", chain_text(chain))
            }
        });
    }
    let mut out = format!("model {} on {} {{\n", model.name.name, model.entity.name);
    for line in lines {
        out.push_str("  ");
        out.push_str(&line.replace('\n', "\n    "));
        out.push('\n');
    }
    out.push_str("}\n");
    out
}

/// A chain as an aggregate prints it: the text between `count(` and `)`.
fn chain_text(chain: &[ChainHop]) -> String {
    let test = AggregateTest {
        aggregate: Aggregate {
            function: AggregateFn::Count,
            chain: chain.to_vec(),
            field: None,
            span: Span::default(),
        },
        test: AggregateCheck::IsNull { negated: false },
    };
    let text = format_expr(&Expr {
        kind: ExprKind::Aggregate(Box::new(test)),
        span: Span::default(),
    });
    text.strip_prefix("count(")
        .and_then(|t| t.strip_suffix(") is null"))
        .unwrap_or_else(|| panic!("an aggregate prints as count(...) is null: {text}"))
        .to_string()
}

#[test]
fn every_model_fixture_without_comments_formats_as_format_models_does() {
    for path in fixtures() {
        let name = path.display().to_string();
        let original = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let bare = stripped(&original);
        let tree = parse_models(&bare).unwrap_or_else(|e| panic!("{name}: {e}"));
        let plain = format_models(&tree);
        assert_eq!(plain, reference_layout(&tree), "{name}");
        assert_eq!(format_models_with_comments(&tree, &bare), plain, "{name}");
        // The comments are all that the comments add.
        let full = parse_models(&original).unwrap_or_else(|e| panic!("{name}: {e}"));
        let woven = format_models_with_comments(&full, &original);
        let unwoven: String = stripped(&woven)
            .lines()
            .map(str::trim_end)
            .filter(|line| !line.is_empty())
            .map(|line| format!("{line}\n"))
            .collect();
        let plain_lines: String = plain
            .lines()
            .filter(|line| !line.is_empty())
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(unwoven, plain_lines, "{name}");
    }
    // The example is canonical as it is, comments and all.
    let example = fixtures().pop().expect("the example");
    let text = fs::read_to_string(&example).expect("the example");
    let tree = parse_models(&text).expect("the example parses");
    assert_eq!(format_models_with_comments(&tree, &text), text);
}

// ------------------------------------------------------- generated models

fn ident(name: &str) -> Ident {
    Ident {
        name: name.into(),
        span: Span::default(),
    }
}

fn amount(value: i64) -> Amount {
    Amount {
        value,
        span: Span::default(),
    }
}

/// A model whose rules are `conditions` (as `if` rules) and one `per` rule
/// over `chain`; a setting written after them in the generated text's AST
/// order comes first in any case.
fn model_with(conditions: Vec<Expr>, chain: Vec<ChainHop>, cap: Option<i64>) -> ModelFile {
    let mut rules: Vec<RuleDef> = conditions
        .into_iter()
        .enumerate()
        .map(|(i, expr)| RuleDef {
            sign: if i % 2 == 0 {
                RuleSign::Add
            } else {
                RuleSign::Subtract
            },
            points: amount(i as i64 + 1),
            kind: RuleKindDef::If(expr),
            span: Span::default(),
        })
        .collect();
    rules.push(RuleDef {
        sign: RuleSign::Add,
        points: amount(7),
        kind: RuleKindDef::Per {
            chain,
            cap: cap.map(amount),
        },
        span: Span::default(),
    });
    ModelFile {
        models: vec![ModelDef {
            name: ident("generated"),
            entity: ident("lead"),
            sales_ready: vec![Setting {
                amount: amount(10),
                span: Span::default(),
            }],
            grades: Vec::new(),
            max_score: vec![Setting {
                amount: amount(99),
                span: Span::default(),
            }],
            rules,
            span: Span::default(),
        }],
    }
}

fn chain() -> impl proptest::strategy::Strategy<Value = Vec<ChainHop>> {
    use proptest::prelude::*;
    let hop = (
        super::props::name(),
        proptest::option::of(super::props::name()),
        proptest::option::of(super::props::expr()),
    )
        .prop_map(|(relation, via, filter)| ChainHop {
            relation,
            via,
            filter: filter.map(Box::new),
            span: Span::default(),
        });
    proptest::collection::vec(hop, 1..3)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Generated conditions and chains, long enough to break over lines:
    /// the layout is the reference one, and comments at random boundaries
    /// keep the same properties as on the fixtures.
    #[test]
    fn generated_models_keep_comments_inserted_at_random_token_boundaries(
        conditions in proptest::collection::vec(super::props::expr(), 1..3),
        chain in chain(),
        cap in proptest::option::of(0i64..100),
        seed in proptest::prelude::any::<u64>(),
        percent in 5u64..=100,
        crlf in proptest::prelude::any::<bool>(),
    ) {
        let file = model_with(conditions, chain, cap);
        let plain = format_models(&file);
        proptest::prop_assert_eq!(&plain, &reference_layout(&file));
        let back = parse_models(&plain);
        proptest::prop_assert!(back.is_ok(), "{:?}\n{}", back, plain);
        proptest::prop_assert_eq!(back.ok(), Some(file));
        let (text, markers) = with_comments(&plain, &mut Rng::new(seed), percent);
        let text = if crlf { text.replace('\n', "\r\n") } else { text };
        check_round_trip("generated", &text, &markers);
    }
}

// ------------------------------------------------------- focused cases

/// The output for `text`, after checking the round-trip properties.
fn fmt(text: &str) -> String {
    check_round_trip("focused", text, &[])
}

#[test]
fn a_comment_line_before_a_model_stays_above_it() {
    assert_eq!(
        fmt(
            "# Scoring.\n\n# The first.\nmodel a on lead { sales ready at 1 }\n\
             # The second,\n# on two lines.\nmodel b on lead { sales ready at 2 }\n"
        ),
        "# Scoring.\n\n# The first.\nmodel a on lead {\n  sales ready at 1\n}\n\n\
         # The second,\n# on two lines.\nmodel b on lead {\n  sales ready at 2\n}\n"
    );
}

#[test]
fn a_trailing_comment_stays_after_its_rule() {
    assert_eq!(
        fmt(
            "model m on lead {\n  sales ready at 1\n  add 5 if x # the x bonus\n  \
             subtract 2 per interaction up to 4 # capped\n}\n"
        ),
        "model m on lead {\n  sales ready at 1\n  add 5 if x # the x bonus\n  \
         subtract 2 per interaction up to 4 # capped\n}\n"
    );
}

#[test]
fn comments_inside_a_condition_break_it_under_its_rule() {
    assert_eq!(
        fmt(
            "model m on lead { sales ready at 1\n  add 5 if a = 1 # first\n  and b\n  \
             # or else\n  or c }"
        ),
        "model m on lead {\n  sales ready at 1\n  add 5 if a = 1 # first\n    and b\n    \
         # or else\n    or c\n}\n"
    );
    // In a `per` rule's filter, the line goes on after the comment.
    assert_eq!(
        fmt(
            "model m on lead { sales ready at 1 add 1 per interaction(type = \"A\" # a\n\
             and x) up to 2 }"
        ),
        "model m on lead {\n  sales ready at 1\n  add 1 per interaction(type = \"A\" # a\n    \
         and x) up to 2\n}\n"
    );
}

#[test]
fn a_setting_moved_first_takes_its_comments_along() {
    let text = "model m on lead {\n  # Rules first, as written.\n  add 5 if x # x\n\
                # The cap,\n  max score 9 # at most\n  add 1 if y\n\
                # the threshold.\n  sales ready at 3 # ready\n}\n";
    assert_eq!(
        fmt(text),
        "model m on lead {\n  # the threshold.\n  sales ready at 3 # ready\n  \
         # The cap,\n  max score 9 # at most\n  \
         # Rules first, as written.\n  add 5 if x # x\n  add 1 if y\n}\n"
    );
}

#[test]
fn comments_at_the_end_of_the_file_end_it() {
    assert_eq!(
        fmt("model m on lead { sales ready at 1 } # after the model\n# the end\n\n# really"),
        "model m on lead {\n  sales ready at 1\n} # after the model\n\n# the end\n\n# really\n"
    );
    assert_eq!(
        fmt("model m on lead { sales ready at 1 }\n\n# the end\n"),
        "model m on lead {\n  sales ready at 1\n}\n\n# the end\n"
    );
}

#[test]
fn comments_of_the_braces_stay_at_the_braces() {
    assert_eq!(
        fmt("model m on lead { # opens\n  sales ready at 1\n  # nothing more\n} # closes\n"),
        "model m on lead { # opens\n  sales ready at 1\n  # nothing more\n} # closes\n"
    );
    // A model without items: the comment lines inside stay inside.
    assert_eq!(
        fmt("model m on lead {\n# empty for now\n}\n"),
        "model m on lead {\n  # empty for now\n}\n"
    );
}

#[test]
fn a_comment_before_a_dropped_parenthesis_ends_its_rule() {
    // The `)` is not written: its comment line goes after the rule, and
    // then leads the next one, which is where it already is, so formatting
    // again changes nothing.
    let text = "model m on lead { sales ready at 1 add 1 if (x\n# about x\n) add 2 if y }";
    let formatted = round_trip("dropped", text, &[], false);
    assert_eq!(
        formatted,
        "model m on lead {\n  sales ready at 1\n  add 1 if x\n  # about x\n  add 2 if y\n}\n"
    );
}
