//! Constant folding: `true` and `false` through `and`, `or`, `not`, and a
//! relationship whose filter is `false`.

use crate::optimize::{Rule, Transformed};
use crate::plan::PlanExpr;

/// `x and false` → `false`, `x and true` → `x`, `x or true` → `true`,
/// `x or false` → `x`, `not true` → `false`; and `has R(false)` → the
/// quantifier tested on a count of zero (no related record can satisfy
/// `false`), so `has R(false)` → `false` but `has no R(false)` → `true`.
pub struct ConstantFolding;

impl Rule for ConstantFolding {
    fn name(&self) -> &'static str {
        "constant_folding"
    }

    /// A `not` of a constant, a list that is empty or holds a constant, a
    /// relationship test whose filter is `false`.
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        match expr {
            PlanExpr::Not(inner) => matches!(**inner, PlanExpr::Const(_)),
            PlanExpr::And(items) | PlanExpr::Or(items) => {
                items.is_empty() || items.iter().any(|item| matches!(item, PlanExpr::Const(_)))
            }
            PlanExpr::Related(related) => *related.filter == PlanExpr::Const(false),
            _ => false,
        }
    }

    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        match expr {
            PlanExpr::Not(inner) => match *inner {
                PlanExpr::Const(value) => Transformed::yes(PlanExpr::Const(!value)),
                other => Transformed::no(PlanExpr::Not(Box::new(other))),
            },
            PlanExpr::And(items) => fold_list(items, true, PlanExpr::And),
            PlanExpr::Or(items) => fold_list(items, false, PlanExpr::Or),
            PlanExpr::Related(related) if *related.filter == PlanExpr::Const(false) => {
                Transformed::yes(PlanExpr::Const(related.quantifier.accepts(0)))
            }
            other => Transformed::no(other),
        }
    }
}

/// Fold the constants of an `and` (`identity` = true) or `or` (`identity` =
/// false): the identity drops out, its opposite decides the whole list.
fn fold_list(
    items: Vec<PlanExpr>,
    identity: bool,
    rebuild: fn(Vec<PlanExpr>) -> PlanExpr,
) -> Transformed {
    if items.contains(&PlanExpr::Const(!identity)) {
        return Transformed::yes(PlanExpr::Const(!identity));
    }
    if items.is_empty() {
        return Transformed::yes(PlanExpr::Const(identity));
    }
    let before = items.len();
    let kept: Vec<PlanExpr> = items
        .into_iter()
        .filter(|item| *item != PlanExpr::Const(identity))
        .collect();
    if kept.is_empty() {
        return Transformed::yes(PlanExpr::Const(identity));
    }
    let changed = kept.len() != before;
    Transformed::new(rebuild(kept), changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::{Direction, Quantifier};

    fn run(expr: PlanExpr) -> (PlanExpr, bool) {
        rewrite(&ConstantFolding, expr)
    }

    #[test]
    fn and_or_not() {
        let t = PlanExpr::Const(true);
        let f = PlanExpr::Const(false);
        assert_eq!(run(and(vec![flag("a"), f.clone()])), (f.clone(), true));
        assert_eq!(
            run(and(vec![flag("a"), t.clone()])),
            (and(vec![flag("a")]), true)
        );
        assert_eq!(run(or(vec![flag("a"), t.clone()])), (t.clone(), true));
        assert_eq!(
            run(or(vec![f.clone(), flag("a")])),
            (or(vec![flag("a")]), true)
        );
        assert_eq!(run(and(vec![t.clone(), t.clone()])), (t.clone(), true));
        assert_eq!(run(or(vec![f.clone()])), (f.clone(), true));
        assert_eq!(run(and(vec![])), (t.clone(), true));
        assert_eq!(run(or(vec![])), (f.clone(), true));
        assert_eq!(run(not(t.clone())), (f.clone(), true));
        assert_eq!(run(not(f)), (t, true));
        let plain = and(vec![flag("a"), flag("b")]);
        assert_eq!(run(plain.clone()), (plain, false));
    }

    #[test]
    fn related_with_false_filter_counts_zero() {
        let l = link("kids", Direction::ToChildren);
        let f = PlanExpr::Const(false);
        let cases = [
            (Quantifier::Any, false),
            (Quantifier::No, true),
            (Quantifier::AtLeast(0), true),
            (Quantifier::AtLeast(1), false),
            (Quantifier::AtLeast(3), false),
            (Quantifier::AtMost(0), true),
            (Quantifier::AtMost(2), true),
            (Quantifier::Exactly(0), true),
            (Quantifier::Exactly(2), false),
        ];
        for (quantifier, expected) in cases {
            let out = run(has(&l, quantifier, f.clone()));
            assert_eq!(out, (PlanExpr::Const(expected), true), "{quantifier:?}");
        }
        // `has R(true)` depends on how many related records exist: kept.
        let all = has(&l, Quantifier::Any, PlanExpr::Const(true));
        assert_eq!(run(all.clone()), (all, false));
    }
}
