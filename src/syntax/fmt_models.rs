//! The canonical text of a scoring model file (`segql fmt` on a model file,
//! SPEC 6): lowercase keywords, one setting or rule per line indented by two
//! spaces inside the braces, the settings first in a fixed order (`sales
//! ready at`, `grades`, `max score`), then the rules in written order, and a
//! blank line between models. Expressions and chains are printed by the
//! query formatter (`fmt.rs`), so a rule reads exactly as a query would; a
//! long `if` breaks at `and`/`or` with its continuation lines four spaces
//! deep, deeper than the rule.
//!
//! `parse_models(format_models(m)) == m`: the AST keeps each setting's
//! occurrences in written order and no order between different settings,
//! so moving the settings first changes nothing the parser keeps.
//!
//! Comments ([`format_models_with_comments`]) are written through the
//! printer (`printer.rs`) as for queries: each is attached to a token, and
//! comes back at that token. Since the settings move, "in place" means *with
//! the setting or rule it is attached to*: a model's settings and rules are
//! its items, and an item owns the comment lines before it, every comment
//! inside it and the comment after it on its last line. An item is taken
//! out of the source with its comments and written where the canonical
//! order puts it, so `max score 9 # cap` written after the rules still ends
//! in `# cap` when it comes first. Comments of the model's own tokens stay
//! there (after `{`, before `}`, before `model`), and comments after the
//! last model end the text as a paragraph of their own. A line that a
//! comment breaks inside an item goes on four spaces deep; comment lines
//! before `}` are indented as the items are. Each comment is written once,
//! and the output's items are in canonical order, so formatting it again
//! finds every comment attached where it was written: the text is a fixed
//! point. Without comments the output is exactly that of [`format_models`].

use super::ast::{GradeList, ModelDef, ModelFile, RuleDef, RuleKindDef, Setting};
use super::comments::SourceComments;
use super::fmt::{block, quote, write_chain, write_flat};
use super::printer::Printer;
use crate::span::Span;

/// Inside a model's braces.
const INDENT: usize = 2;
/// Where a line broken inside an item goes on: deeper than the item.
const CONTINUATION: usize = 2 * INDENT;

/// The canonical text of a model file, ending with a newline.
pub fn format_models(file: &ModelFile) -> String {
    let mut out = Printer::plain();
    write_models(&mut out, file, &[]);
    out.finish()
}

/// The canonical text of a model file parsed from `source`, with the
/// comments of `source` kept, each with the setting or rule it is attached
/// to (see the module docs); ending with a newline.
pub fn format_models_with_comments(file: &ModelFile, source: &str) -> String {
    let mut rest = SourceComments::of(source);
    // Every item's tokens and comments, taken out in the order the items
    // are written; what remains is the models' own tokens and comments.
    let parts: Vec<Vec<SourceComments>> = file
        .models
        .iter()
        .map(|model| {
            items(model)
                .iter()
                .map(|item| {
                    let span = item.span();
                    rest.take(span.start as usize, span.end as usize)
                })
                .collect()
        })
        .collect();
    let mut out = Printer::with_comments(source, &rest);
    write_models(&mut out, file, &parts);
    out.end_comments(true);
    let mut text = out.finish();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The canonical text of one model, ending with a newline.
pub fn format_model(model: &ModelDef) -> String {
    let mut out = Printer::plain();
    write_model(&mut out, model, &[]);
    out.newline(0);
    out.finish()
}

/// A rule on one line, as `fmt` writes it but never broken: the text that
/// `score --explain` shows for the rule.
pub fn format_rule(rule: &RuleDef) -> String {
    let mut out = Printer::plain();
    write_rule(&mut out, rule, true);
    out.finish()
}

/// A setting or a rule: one line of a model, in the canonical order.
enum Item<'m> {
    SalesReady(&'m Setting),
    Grades(&'m GradeList),
    MaxScore(&'m Setting),
    Rule(&'m RuleDef),
}

impl Item<'_> {
    fn span(&self) -> Span {
        match self {
            Item::SalesReady(setting) | Item::MaxScore(setting) => setting.span,
            Item::Grades(grades) => grades.span,
            Item::Rule(rule) => rule.span,
        }
    }
}

/// The items of `model` in the order `fmt` writes them.
fn items(model: &ModelDef) -> Vec<Item<'_>> {
    let settings = model.sales_ready.iter().map(Item::SalesReady);
    let grades = model.grades.iter().map(Item::Grades);
    let max = model.max_score.iter().map(Item::MaxScore);
    let rules = model.rules.iter().map(Item::Rule);
    settings.chain(grades).chain(max).chain(rules).collect()
}

/// The models with a blank line between them; `parts[m][k]` is the source
/// part of item `k` of model `m` (none without comments).
fn write_models<'a>(out: &mut Printer<'a>, file: &ModelFile, parts: &'a [Vec<SourceComments>]) {
    for (m, model) in file.models.iter().enumerate() {
        if m > 0 {
            out.newline(0);
        }
        let model_parts = parts.get(m).map_or(&[][..], Vec::as_slice);
        write_model(out, model, model_parts);
        out.newline(0);
    }
}

/// `model NAME on ENTITY {`, the items a line each, `}` (no newline after).
fn write_model<'a>(out: &mut Printer<'a>, model: &ModelDef, parts: &'a [SourceComments]) {
    out.word("model");
    out.set_margin(CONTINUATION);
    out.space();
    out.unit(&model.name.name, model.name.span);
    out.space();
    out.word("on");
    out.space();
    out.unit(&model.entity.name, model.entity.span);
    out.space();
    out.word("{");
    out.set_margin(0);
    for (k, item) in items(model).iter().enumerate() {
        out.newline(INDENT);
        let place = parts.get(k).map(|part| out.enter(part));
        write_item(out, item);
        out.set_margin(0);
        if let Some(place) = place {
            out.leave(place, INDENT);
        }
    }
    // The comment lines before `}` (which ends the model's span).
    out.comments_on_lines(model.span.end as usize, INDENT);
    out.newline(0);
    out.word("}");
}

/// One item; a line a comment breaks goes on at [`CONTINUATION`].
fn write_item(out: &mut Printer, item: &Item) {
    match item {
        Item::SalesReady(setting) => {
            out.word("sales");
            out.set_margin(CONTINUATION);
            words(out, &["ready", "at"]);
            out.space();
            write_amount(out, setting.amount.value, setting.amount.span);
        }
        Item::Grades(grades) => {
            out.word("grades");
            out.set_margin(CONTINUATION);
            for (i, grade) in grades.grades.iter().enumerate() {
                if i > 0 {
                    out.word(",");
                }
                out.space();
                out.token_at(&quote(&grade.label), grade.span.start as usize);
                words(out, &["at"]);
                out.space();
                write_amount(out, grade.minimum.value, grade.minimum.span);
            }
        }
        Item::MaxScore(setting) => {
            out.word("max");
            out.set_margin(CONTINUATION);
            words(out, &["score"]);
            out.space();
            write_amount(out, setting.amount.value, setting.amount.span);
        }
        Item::Rule(rule) => {
            write_rule(out, rule, false);
            out.comments_until(rule.span.end as usize);
        }
    }
}

/// `add N if EXPR` or `subtract N per CHAIN [up to M]`; the condition on
/// one line if `one_line`, else broken as a query's filter is when long.
fn write_rule(out: &mut Printer, rule: &RuleDef, one_line: bool) {
    out.word(rule.sign.keyword());
    out.set_margin(CONTINUATION);
    out.space();
    write_amount(out, rule.points.value, rule.points.span);
    match &rule.kind {
        RuleKindDef::If(expr) => {
            words(out, &["if"]);
            out.space();
            if one_line {
                write_flat(out, expr);
            } else {
                // Laid out as if from column 0, as `format_expr` does: the
                // margin puts its continuation lines under the rule.
                block(out, expr, 0, 0);
            }
        }
        RuleKindDef::Per { chain, cap } => {
            words(out, &["per"]);
            out.space();
            write_chain(out, chain);
            if let Some(cap) = cap {
                words(out, &["up", "to"]);
                out.space();
                write_amount(out, cap.value, cap.span);
            }
        }
    }
}

/// Keywords, each after a space.
fn words(out: &mut Printer, words: &[&str]) {
    for word in words {
        out.space();
        out.word(word);
    }
}

fn write_amount(out: &mut Printer, value: i64, span: Span) {
    out.unit(&value.to_string(), span);
}

#[cfg(test)]
mod tests {
    use crate::syntax::{format_models, format_models_with_comments, parse_models};

    const EXAMPLE: &str = r#"model engagement on lead {
  sales ready at 100
  grades "A" at 80, "B" at 50, "C" at 20, "D" at 0
  max score 200
  add 25 if source = "Trade Show"
  add 10 per contact.interaction(type = "Email Opened" and occurred_on >= now - 30d) up to 50
  add 15 per contact.interaction(type = "Event Attended")
  add 20 if contact.role = "Decision Maker"
  subtract 40 if contact.do_not_email
}
"#;

    #[test]
    fn the_canonical_text_is_a_fixed_point() {
        let parsed = parse_models(EXAMPLE).unwrap();
        assert_eq!(format_models(&parsed), EXAMPLE);
        assert_eq!(format_models_with_comments(&parsed, EXAMPLE), EXAMPLE);
    }

    #[test]
    fn settings_come_first_keywords_lowercase_and_layout_canonical() {
        let messy = "# scoring\nMODEL  m ON Lead{ADD 5 IF x   # a rule\n Max Score 9 \
                     SUBTRACT 2 Per interaction  UP TO 4 Sales Ready At 3}\
                     model n on lead { sales ready at 1 grades \"B\" at 2,\"A\"at 1 }";
        let parsed = parse_models(messy).unwrap();
        let text = format_models(&parsed);
        assert_eq!(
            text,
            "model m on Lead {\n  sales ready at 3\n  max score 9\n  add 5 if x\n  \
             subtract 2 per interaction up to 4\n}\n\n\
             model n on lead {\n  sales ready at 1\n  grades \"B\" at 2, \"A\" at 1\n}\n"
        );
        assert_eq!(parse_models(&text).unwrap(), parsed);
        // With its comments, each stays with what it was written at.
        assert_eq!(
            format_models_with_comments(&parsed, messy),
            "# scoring\nmodel m on Lead {\n  sales ready at 3\n  max score 9\n  \
             add 5 if x # a rule\n  subtract 2 per interaction up to 4\n}\n\n\
             model n on lead {\n  sales ready at 1\n  grades \"B\" at 2, \"A\" at 1\n}\n"
        );
    }

    #[test]
    fn long_conditions_break_inside_the_model_and_parse_back() {
        let long = format!(
            "model m on lead {{ sales ready at 1 add 1 if {} }}",
            (0..12)
                .map(|i| format!("field_number_{i} = {i}"))
                .collect::<Vec<_>>()
                .join(" and ")
        );
        let parsed = parse_models(&long).unwrap();
        let text = format_models(&parsed);
        assert!(text.lines().count() > 4, "{text}");
        let continued = text.lines().skip(3).take_while(|l| *l != "}");
        assert!(
            continued.clone().all(|l| l.starts_with("    and ")),
            "{text}"
        );
        assert_eq!(continued.count(), 11, "{text}");
        assert_eq!(parse_models(&text).unwrap(), parsed);
        assert_eq!(format_models(&parse_models(&text).unwrap()), text);
        assert_eq!(format_models_with_comments(&parsed, &long), text);
        let rule = crate::syntax::format_rule(&parsed.models[0].rules[0]);
        assert!(!rule.contains('\n'));
        assert!(rule.starts_with("add 1 if field_number_0 = 0 and field_number_1 = 1"));
    }

    #[test]
    fn a_tree_from_another_text_loses_and_repeats_no_comment_of_the_source() {
        let tree = parse_models("model m on lead { add 1 if x sales ready at 1 }").unwrap();
        let source = "# one\nmodel # two\nq on lead { # three\n sales ready at 9 # four\n\
                      add 2 if a and # five\n b\n # six\n max score 3 } # seven\n# eight";
        let text = format_models_with_comments(&tree, source);
        for n in [
            "one", "two", "three", "four", "five", "six", "seven", "eight",
        ] {
            assert_eq!(text.matches(&format!("# {n}")).count(), 1, "{n}:\n{text}");
        }
        assert_eq!(parse_models(&text).unwrap(), tree, "{text}");
    }

    #[test]
    fn a_line_broken_by_a_comment_goes_on_deeper_than_its_item() {
        let text = "model m on lead {\n  sales ready # when\n at 3\n  \
                    grades \"A\" at 2, # top\n \"B\" at 1\n  add 1 if # why\n x\n}\n";
        let parsed = parse_models(text).unwrap();
        let formatted = format_models_with_comments(&parsed, text);
        assert_eq!(
            formatted,
            "model m on lead {\n  sales ready # when\n    at 3\n  \
             grades \"A\" at 2, # top\n    \"B\" at 1\n  add 1 if # why\n    x\n}\n"
        );
        assert_eq!(format_models_with_comments(&parsed, &formatted), formatted);
    }
}
