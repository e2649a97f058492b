//! The checked scoring model: what [`super::check_models`] produces and the
//! scoring engines (SQL and in memory) consume. Names are the schema's,
//! amounts validated, rule conditions and counts typed plans, so an engine
//! only computes.
//!
//! The arithmetic of SPEC 6 lives here once ([`Rule::points_for`],
//! [`Model::score_of`], [`Model::grade_of`], [`Model::is_sales_ready`]),
//! so every engine means the same thing by a score.

use serde::Serialize;

use crate::plan::{Aggregate, AggregateTest, CmpOp, Plan, PlanExpr, Test, Value};

/// One checked model of a model file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Model {
    /// As written in the model file (names compare case-insensitively).
    pub name: String,
    /// The canonical name of the scored (lead) entity.
    pub entity: String,
    /// A lead is sales-ready when its score is at least this (>= 0).
    pub sales_ready_at: i64,
    /// Highest minimum first, each minimum strictly below the one before.
    pub grades: Vec<Grade>,
    /// The score's upper limit (>= 0); `None`: no upper limit.
    pub max_score: Option<i64>,
    /// In written order.
    pub rules: Vec<Rule>,
}

/// `"A" at 80`: a lead whose score is at least `minimum` (and below the
/// minimum of the grade before) gets `label`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Grade {
    pub label: String,
    /// >= 0.
    pub minimum: i64,
}

/// One checked rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// The rule as `fmt` writes it, on one line (for `score --explain`).
    pub text: String,
    /// Points per match: positive for `add`, negative for `subtract`.
    pub points: i64,
    pub kind: RuleKind,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// `if EXPR`: the condition on the model's entity, checked and
    /// optimized like a query's filter.
    If(PlanExpr),
    /// `per CHAIN [up to M]`: `points` for each record `count` counts.
    Per {
        /// `count` over the chain, from the model's entity.
        count: Aggregate,
        /// The most the rule adds (or, for `subtract`, takes away), in
        /// points, >= 0.
        cap: Option<i64>,
    },
}

impl Rule {
    /// The rule's points for a lead: `count` is the number of records the
    /// `per` chain counts, or for an `if` rule 1 when the condition holds
    /// and 0 when not. `points × count`, its size capped at `cap`, and
    /// saturated to the 64-bit range.
    pub fn points_for(&self, count: u64) -> i64 {
        let count = match self.kind {
            RuleKind::If(_) => count.min(1),
            RuleKind::Per { .. } => count,
        };
        let magnitude = i128::from(self.points).abs() * i128::from(count);
        let magnitude = match self.kind {
            RuleKind::Per { cap: Some(cap), .. } => magnitude.min(i128::from(cap)),
            _ => magnitude,
        };
        let signed = if self.points < 0 {
            -magnitude
        } else {
            magnitude
        };
        signed.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// The leads this rule gives points to, as a plan on `entity` (the
    /// model's): the condition of an `if` rule, `count(chain) >= 1` for a
    /// `per` rule.
    pub fn plan(&self, entity: &str) -> Plan {
        let filter = match &self.kind {
            RuleKind::If(condition) => condition.clone(),
            RuleKind::Per { count, .. } => PlanExpr::aggregate(AggregateTest {
                aggregate: count.clone(),
                test: Test::Compare {
                    op: CmpOp::Ge,
                    value: Value::Integer(1),
                },
            }),
        };
        Plan {
            entity: entity.to_string(),
            filter,
        }
    }
}

impl Model {
    /// The plan of rule `i` on the model's entity (see [`Rule::plan`]).
    pub fn plan_for_rule(&self, i: usize) -> Option<Plan> {
        self.rules.get(i).map(|rule| rule.plan(&self.entity))
    }

    /// The score from the rules' points (each from [`Rule::points_for`]):
    /// their exact sum limited to `0 ..= max score` (SPEC 6).
    pub fn score_of(&self, points: impl IntoIterator<Item = i64>) -> i64 {
        let total: i128 = points.into_iter().map(i128::from).sum();
        let max = self.max_score.unwrap_or(i64::MAX);
        total.clamp(0, i128::from(max)) as i64
    }

    /// The label with the highest minimum not above `score`, if any.
    pub fn grade_of(&self, score: i64) -> Option<&str> {
        self.grades
            .iter()
            .find(|grade| grade.minimum <= score)
            .map(|grade| grade.label.as_str())
    }

    /// Whether a lead with `score` is sales-ready.
    pub fn is_sales_ready(&self, score: i64) -> bool {
        score >= self.sales_ready_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AggregateFn, Direction, Hop, Link};

    fn per(points: i64, cap: Option<i64>) -> Rule {
        Rule {
            text: String::new(),
            points,
            kind: RuleKind::Per {
                count: Aggregate {
                    function: AggregateFn::Count,
                    chain: vec![Hop {
                        link: Link {
                            relationship: "r".into(),
                            direction: Direction::ToChildren,
                            from: "lead".into(),
                            to: "x".into(),
                        },
                        filter: PlanExpr::Const(true),
                    }],
                    field: None,
                },
                cap,
            },
        }
    }

    fn model(max_score: Option<i64>) -> Model {
        Model {
            name: "m".into(),
            entity: "lead".into(),
            sales_ready_at: 50,
            grades: vec![
                Grade {
                    label: "A".into(),
                    minimum: 80,
                },
                Grade {
                    label: "B".into(),
                    minimum: 20,
                },
            ],
            max_score,
            rules: Vec::new(),
        }
    }

    #[test]
    fn per_rules_multiply_and_cap_by_size() {
        assert_eq!(per(10, Some(50)).points_for(3), 30);
        assert_eq!(per(10, Some(50)).points_for(9), 50);
        assert_eq!(per(-10, Some(25)).points_for(9), -25);
        assert_eq!(per(-10, None).points_for(9), -90);
        assert_eq!(per(7, Some(0)).points_for(9), 0);
        assert_eq!(per(i64::MAX, None).points_for(u64::MAX), i64::MAX);
        assert_eq!(per(-i64::MAX, None).points_for(3), i64::MIN);
    }

    #[test]
    fn if_rules_count_once() {
        let rule = Rule {
            text: String::new(),
            points: -40,
            kind: RuleKind::If(PlanExpr::Const(true)),
        };
        assert_eq!(rule.points_for(0), 0);
        assert_eq!(rule.points_for(1), -40);
        assert_eq!(rule.points_for(5), -40);
    }

    #[test]
    fn scores_are_clamped_graded_and_compared_with_the_threshold() {
        let m = model(Some(100));
        assert_eq!(m.score_of([30, 90]), 100);
        assert_eq!(m.score_of([30, -90]), 0);
        assert_eq!(m.score_of([i64::MAX, i64::MAX, i64::MIN]), 100);
        assert_eq!(model(None).score_of([i64::MAX, 5]), i64::MAX);
        assert_eq!(m.grade_of(80), Some("A"));
        assert_eq!(m.grade_of(79), Some("B"));
        assert_eq!(m.grade_of(19), None);
        assert!(m.is_sales_ready(50) && !m.is_sales_ready(49));
    }
}
