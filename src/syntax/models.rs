//! Scoring model files (SPEC 6) from pairs to [`ModelFile`]: the part of the
//! AST builder that knows `model NAME on ENTITY { ... }`. Expressions and
//! chains are built by the query builder in `parser.rs`, so a rule's `if`
//! and `per` read exactly as a query's filter and an aggregate's chain.
//!
//! Settings may come in any order and are kept as often as written; that a
//! setting is given twice, or `sales ready` not at all, is found by the
//! checker (`crate::scoring`), which reports every such error at once.

use pest::iterators::Pair;

use crate::error::{Error, Result};

use super::ast::{
    Amount, GradeDef, GradeList, ModelDef, ModelFile, RuleDef, RuleKindDef, RuleSign, Setting,
};
use super::literal::{build_string, single_quoted};
use super::parser::{internal, Builder, Rule};

impl Builder {
    pub fn models_input(&self, pair: Pair<'_, Rule>) -> Result<ModelFile> {
        let models = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::model_def)
            .map(|p| self.model_def(p))
            .collect::<Result<_>>()?;
        Ok(ModelFile { models })
    }

    fn model_def(&self, pair: Pair<'_, Rule>) -> Result<ModelDef> {
        let span = self.span(&pair);
        let mut name = None;
        let mut entity = None;
        let mut model = ModelDef {
            name: placeholder(),
            entity: placeholder(),
            sales_ready: Vec::new(),
            grades: Vec::new(),
            max_score: Vec::new(),
            rules: Vec::new(),
            span,
        };
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::model_name => name = Some(self.name(Some(part))?),
                Rule::entity_name => entity = Some(self.name(Some(part))?),
                Rule::sales_ready => model.sales_ready.push(self.setting(part)?),
                Rule::max_score => model.max_score.push(self.setting(part)?),
                Rule::grades => model.grades.push(self.grades(part)?),
                Rule::rule_def => model.rules.push(self.rule_def(part)?),
                _ => {}
            }
        }
        model.name = name.ok_or_else(|| internal("a model without a name"))?;
        model.entity = entity.ok_or_else(|| internal("a model without an entity"))?;
        Ok(model)
    }

    fn setting(&self, pair: Pair<'_, Rule>) -> Result<Setting> {
        let span = self.span(&pair);
        Ok(Setting {
            amount: self.last_amount(pair)?,
            span,
        })
    }

    /// The amount that ends a setting (`sales ready at 100`, `max score 200`).
    fn last_amount(&self, pair: Pair<'_, Rule>) -> Result<Amount> {
        let amount = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::amount)
            .last()
            .ok_or_else(|| internal("a setting without its number"))?;
        self.amount(amount)
    }

    fn grades(&self, pair: Pair<'_, Rule>) -> Result<GradeList> {
        let span = self.span(&pair);
        let grades = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::grade)
            .map(|p| self.grade(p))
            .collect::<Result<_>>()?;
        Ok(GradeList { grades, span })
    }

    fn grade(&self, pair: Pair<'_, Rule>) -> Result<GradeDef> {
        let span = self.span(&pair);
        let mut label = None;
        let mut minimum = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::grade_label => {
                    let inner = part
                        .into_inner()
                        .next()
                        .ok_or_else(|| internal("an empty grade label"))?;
                    label = Some(match inner.as_rule() {
                        Rule::string => match build_string(self, inner)?.kind {
                            super::ast::LiteralKind::String(text) => text.into_string(),
                            _ => return Err(internal("a string that is not text")),
                        },
                        _ => return Err(single_quoted(self, &inner)),
                    });
                }
                Rule::amount => minimum = Some(self.amount(part)?),
                _ => {}
            }
        }
        Ok(GradeDef {
            label: label.ok_or_else(|| internal("a grade without a label"))?,
            minimum: minimum.ok_or_else(|| internal("a grade without a minimum"))?,
            span,
        })
    }

    fn rule_def(&self, pair: Pair<'_, Rule>) -> Result<RuleDef> {
        let span = self.span(&pair);
        let mut sign = None;
        let mut points = None;
        let mut kind = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::rule_sign => {
                    let word = part
                        .into_inner()
                        .next()
                        .ok_or_else(|| internal("an empty rule sign"))?;
                    sign = Some(if word.as_rule() == Rule::kw_add {
                        RuleSign::Add
                    } else {
                        RuleSign::Subtract
                    });
                }
                Rule::amount => points = Some(self.amount(part)?),
                Rule::rule_if => {
                    let expr = part
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::or_expr)
                        .ok_or_else(|| internal("`if` without an expression"))?;
                    kind = Some(RuleKindDef::If(self.expr(expr)?));
                }
                Rule::rule_per => {
                    let mut chain = Vec::new();
                    let mut cap = None;
                    for item in part.into_inner() {
                        match item.as_rule() {
                            Rule::hop => chain.push(self.hop(item)?),
                            Rule::rule_cap => cap = Some(self.last_amount(item)?),
                            _ => {}
                        }
                    }
                    kind = Some(RuleKindDef::Per { chain, cap });
                }
                _ => {}
            }
        }
        Ok(RuleDef {
            sign: sign.ok_or_else(|| internal("a rule without add or subtract"))?,
            points: points.ok_or_else(|| internal("a rule without points"))?,
            kind: kind.ok_or_else(|| internal("a rule without if or per"))?,
            span,
        })
    }

    /// A signed whole number; one beyond the 64-bit range is an error here,
    /// a negative one the checker's (it knows what to suggest).
    fn amount(&self, pair: Pair<'_, Rule>) -> Result<Amount> {
        let span = self.span(&pair);
        let text = pair.as_str().trim();
        let value = text.parse::<i64>().map_err(|_| Error::Syntax {
            message: format!("the number {text} is too large"),
            expected: vec!["a whole number".to_string()],
            span,
            hint: Some("scores are 64-bit integers; write a smaller number".to_string()),
        })?;
        Ok(Amount { value, span })
    }
}

/// Filled in once the model's parts are read.
fn placeholder() -> super::ast::Ident {
    super::ast::Ident {
        name: Default::default(),
        span: Default::default(),
    }
}
