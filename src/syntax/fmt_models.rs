//! The canonical text of a scoring model file (`segql fmt` on a model file,
//! SPEC 6): lowercase keywords, one setting or rule per line indented by two
//! spaces inside the braces, the settings first in a fixed order (`sales
//! ready at`, `grades`, `max score`), then the rules in written order, and a
//! blank line between models. Expressions and chains are printed by the
//! query formatter (`fmt.rs`), so a rule reads exactly as a query would.
//!
//! `parse_models(format_models(m)) == m`: the AST keeps each setting's
//! occurrences in written order and no order between different settings,
//! so moving the settings first changes nothing the parser keeps.

use super::ast::{Amount, GradeList, ModelDef, ModelFile, RuleDef, RuleKindDef};
use super::fmt::{format_chain, format_expr, format_expr_flat, quote};

/// Inside a model's braces.
const INDENT: &str = "  ";

/// The canonical text of a model file, ending with a newline.
pub fn format_models(file: &ModelFile) -> String {
    let mut out = String::new();
    for (i, model) in file.models.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format_model(model));
    }
    out
}

/// The canonical text of one model, ending with a newline.
pub fn format_model(model: &ModelDef) -> String {
    let mut lines = Vec::new();
    for threshold in &model.sales_ready {
        lines.push(format!("sales ready at {}", threshold.amount.value));
    }
    for grades in &model.grades {
        lines.push(format_grades(grades));
    }
    for max in &model.max_score {
        lines.push(format!("max score {}", max.amount.value));
    }
    for rule in &model.rules {
        lines.push(rule_text(rule, false));
    }
    let mut out = format!("model {} on {} {{\n", model.name.name, model.entity.name);
    for line in lines {
        // A long `if` breaks over lines: continuation lines go deeper than
        // the rule, which whitespace-free parsing does not mind.
        let line = line.replace('\n', &format!("\n{INDENT}{INDENT}"));
        out.push_str(INDENT);
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("}\n");
    out
}

/// A rule on one line, as `fmt` writes it but never broken: the text that
/// `score --explain` shows for the rule.
pub fn format_rule(rule: &RuleDef) -> String {
    rule_text(rule, true)
}

fn rule_text(rule: &RuleDef, one_line: bool) -> String {
    let head = format!("{} {}", rule.sign.keyword(), rule.points.value);
    match &rule.kind {
        RuleKindDef::If(expr) => {
            let expr = if one_line {
                format_expr_flat(expr)
            } else {
                format_expr(expr)
            };
            format!("{head} if {expr}")
        }
        RuleKindDef::Per { chain, cap } => {
            let mut text = format!("{head} per {}", format_chain(chain));
            if let Some(Amount { value, .. }) = cap {
                text.push_str(&format!(" up to {value}"));
            }
            text
        }
    }
}

fn format_grades(grades: &GradeList) -> String {
    let items: Vec<String> = grades
        .grades
        .iter()
        .map(|g| format!("{} at {}", quote(&g.label), g.minimum.value))
        .collect();
    format!("grades {}", items.join(", "))
}

#[cfg(test)]
mod tests {
    use crate::syntax::{format_models, parse_models};

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
        let rule = crate::syntax::format_rule(&parsed.models[0].rules[0]);
        assert!(!rule.contains('\n'));
    }
}
