//! `count(..)` and `sum(..)` always have a value (0 over no records), so
//! `is not null` on them is `true` (and `is null`, its `not`, `false`).

use crate::optimize::{Rule, Transformed};
use crate::plan::{AggregateTest, PlanExpr, Test};

/// Folds `is not null` on aggregates that are never missing.
pub struct NeverMissing;

impl Rule for NeverMissing {
    fn name(&self) -> &'static str {
        "never_missing"
    }

    /// `is not null` on a `count` or `sum`.
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        matches!(expr, PlanExpr::Aggregate(test) if always_has_a_value(test))
    }

    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        match &expr {
            PlanExpr::Aggregate(test) if always_has_a_value(test) => {
                Transformed::yes(PlanExpr::Const(true))
            }
            _ => Transformed::no(expr),
        }
    }
}

/// Whether `test` asks whether an aggregate that is never missing has a
/// value.
fn always_has_a_value(test: &AggregateTest) -> bool {
    test.test == Test::IsNotNull && !test.aggregate.can_be_missing()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::{Aggregate, AggregateFn, AggregateTest, Direction, Hop};

    fn of(function: AggregateFn) -> PlanExpr {
        PlanExpr::aggregate(AggregateTest {
            aggregate: Aggregate {
                function,
                chain: vec![Hop {
                    link: link("r", Direction::ToChildren),
                    filter: PlanExpr::Const(true),
                }],
                field: (function != AggregateFn::Count).then(int_field),
            },
            test: Test::IsNotNull,
        })
    }

    #[test]
    fn count_and_sum_are_never_missing() {
        for function in [AggregateFn::Count, AggregateFn::Sum] {
            assert_eq!(
                rewrite(&NeverMissing, of(function)),
                (PlanExpr::Const(true), true)
            );
        }
        for function in [AggregateFn::Avg, AggregateFn::Min, AggregateFn::Max] {
            assert_eq!(rewrite(&NeverMissing, of(function)), (of(function), false));
        }
    }
}
