//! An aggregate test that fails over no records implies its chain reaches a
//! record, so it implies `has` of the chain's first hop:
//! `has lead(e) and min(lead(e).score) >= 50` → `min(lead(e).score) >= 50`.
//! (`min`, `max` and `avg` of nothing are missing, and a test on a missing
//! value is false; `sum > 0` and `count >= 2` fail on 0 likewise.)

use crate::optimize::{Rule, Transformed};
use crate::plan::{AggregateTest, PlanExpr, Quantifier, Related};

/// Drops `has R(e)` from an `and` holding an aggregate test over `R(e)...`
/// that no record reaching nothing passes.
pub struct AggregateImpliesHas;

impl Rule for AggregateImpliesHas {
    fn name(&self) -> &'static str {
        "aggregate_implies_has"
    }

    /// An `and` holding an aggregate test and a relationship test.
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        matches!(expr, PlanExpr::And(items)
            if items.iter().any(|item| matches!(item, PlanExpr::Aggregate(_)))
                && items.iter().any(|item| matches!(item, PlanExpr::Related(_))))
    }

    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        let PlanExpr::And(items) = expr else {
            return Transformed::no(expr);
        };
        let implied = |related: &Related| {
            related.quantifier == Quantifier::Any
                && items.iter().any(|item| match item {
                    PlanExpr::Aggregate(test) => reaches(test, related),
                    _ => false,
                })
        };
        let keep: Vec<bool> = items
            .iter()
            .map(|item| !matches!(item, PlanExpr::Related(r) if implied(r)))
            .collect();
        if keep.iter().all(|k| *k) {
            return Transformed::no(PlanExpr::And(items));
        }
        let kept = items
            .into_iter()
            .zip(keep)
            .filter_map(|(item, keep)| keep.then_some(item))
            .collect();
        Transformed::yes(PlanExpr::And(kept))
    }
}

/// Whether passing `test` means reaching a record of `related`'s hop that
/// passes its filter.
fn reaches(test: &AggregateTest, related: &Related) -> bool {
    let Some(first) = test.aggregate.chain.first() else {
        return false;
    };
    !test.holds_on_empty() && first.link == related.link && first.filter == *related.filter
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::{Aggregate, AggregateFn, CmpOp, Direction, Hop, Test};

    fn aggregate(function: AggregateFn, filter: PlanExpr, test: Test) -> PlanExpr {
        PlanExpr::aggregate(AggregateTest {
            aggregate: Aggregate {
                function,
                chain: vec![Hop {
                    link: link("r", Direction::ToChildren),
                    filter,
                }],
                field: Some(int_field()),
            },
            test,
        })
    }

    #[test]
    fn drops_the_has_an_aggregate_implies() {
        let l = link("r", Direction::ToChildren);
        let min_ge = aggregate(
            AggregateFn::Min,
            flag("a"),
            Test::Compare {
                op: CmpOp::Ge,
                value: int(5),
            },
        );
        let input = and(vec![
            has(&l, Quantifier::Any, flag("a")),
            min_ge.clone(),
            flag("b"),
        ]);
        assert_eq!(
            rewrite(&AggregateImpliesHas, input),
            (and(vec![min_ge.clone(), flag("b")]), true)
        );
        // A different filter, or a count that is not "some": kept.
        for kept in [
            and(vec![has(&l, Quantifier::Any, flag("c")), min_ge.clone()]),
            and(vec![has(&l, Quantifier::AtLeast(2), flag("a")), min_ge]),
        ] {
            assert_eq!(rewrite(&AggregateImpliesHas, kept.clone()), (kept, false));
        }
    }

    #[test]
    fn keeps_the_has_when_the_test_passes_over_nothing() {
        let l = link("r", Direction::ToChildren);
        // `sum(..) < 5` holds for a record with no `r` at all.
        let sum_lt = aggregate(
            AggregateFn::Sum,
            flag("a"),
            Test::Compare {
                op: CmpOp::Lt,
                value: int(5),
            },
        );
        let input = and(vec![has(&l, Quantifier::Any, flag("a")), sum_lt]);
        assert_eq!(rewrite(&AggregateImpliesHas, input.clone()), (input, false));
    }
}
