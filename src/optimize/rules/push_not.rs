//! Pushing `not` inward: De Morgan's laws, and the complement of a
//! relationship quantifier.
//!
//! Under two-valued logic `not` is the exact complement, so De Morgan holds.
//! A `not` in front of a field test stays where it is: `not (a < 5)` is not
//! `a >= 5` (a NULL `a` satisfies only the first), and `not (a = v)` *is* the
//! plan's `a != v`.

use crate::optimize::rules::negate;
use crate::optimize::{Rule, Transformed};
use crate::plan::NewNodes;
use crate::plan::{PlanExpr, Related};

/// `not (a and b)` → `not a or not b`; `not (a or b)` → `not a and not b`;
/// `not has R(e)` → `has no R(e)` and back; `not has at least N` →
/// `has at most N-1`; `not has at most N` → `has at least N+1`.
pub struct PushNot;

impl Rule for PushNot {
    fn name(&self) -> &'static str {
        "push_not"
    }

    fn looks_at(&self, expr: &PlanExpr) -> bool {
        matches!(expr, PlanExpr::Not(_))
    }

    /// The negated items are new.
    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        let PlanExpr::Not(inner) = expr else {
            return Transformed::no(expr);
        };
        let negated = |items: Vec<PlanExpr>| {
            let new = NewNodes::all(items.len(), 1);
            (items.into_iter().map(negate).collect(), new)
        };
        match *inner {
            PlanExpr::And(items) => {
                let (items, new) = negated(items);
                Transformed::with_built(PlanExpr::Or(items), new)
            }
            PlanExpr::Or(items) => {
                let (items, new) = negated(items);
                Transformed::with_built(PlanExpr::And(items), new)
            }
            PlanExpr::Related(related) => match related.quantifier.complement() {
                Some(quantifier) => Transformed::yes(PlanExpr::Related(Related {
                    quantifier,
                    ..related
                })),
                None => Transformed::no(PlanExpr::Not(Box::new(PlanExpr::Related(related)))),
            },
            other => Transformed::no(PlanExpr::Not(Box::new(other))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::{CmpOp, Direction, Quantifier};

    #[test]
    fn de_morgan() {
        let x = int_field();
        let input = not(and(vec![n(CmpOp::Lt, 5), is_null(&x)]));
        let expected = or(vec![not(n(CmpOp::Lt, 5)), not_null(&x)]);
        assert_eq!(rewrite(&PushNot, input), (expected, true));
        let input = not(or(vec![flag("a"), not(flag("b"))]));
        let expected = and(vec![not(flag("a")), flag("b")]);
        assert_eq!(rewrite(&PushNot, input), (expected, true));
    }

    #[test]
    fn names_the_negated_items_new() {
        let Transformed {
            changed,
            built: new,
            ..
        } = PushNot.rewrite(not(or(vec![flag("a"), flag("b")])));
        assert!(changed);
        assert_eq!(new, NewNodes::all(2, 1));
    }

    #[test]
    fn field_tests_keep_their_not() {
        // `not (n < 5)` is true for a NULL n, `n >= 5` is not: no flip.
        let lt = not(n(CmpOp::Lt, 5));
        assert_eq!(rewrite(&PushNot, lt.clone()), (lt, false));
        let ne = not(n(CmpOp::Eq, 5));
        assert_eq!(rewrite(&PushNot, ne.clone()), (ne, false));
    }

    #[test]
    fn quantifier_complements() {
        let l = link("kids", Direction::ToChildren);
        let cases = [
            (Quantifier::Any, Some(Quantifier::No)),
            (Quantifier::No, Some(Quantifier::Any)),
            (Quantifier::AtLeast(3), Some(Quantifier::AtMost(2))),
            (Quantifier::AtMost(3), Some(Quantifier::AtLeast(4))),
            (Quantifier::AtMost(u64::MAX), None),
            (Quantifier::Exactly(2), None),
            (Quantifier::AtLeast(0), None),
        ];
        for (q, expected) in cases {
            for count in 0..6 {
                if let Some(c) = expected {
                    assert_eq!(c.accepts(count), !q.accepts(count), "{q:?} {count}");
                }
            }
            let input = not(has(&l, q, flag("a")));
            let out = rewrite(&PushNot, input.clone());
            match expected {
                Some(c) => assert_eq!(out, (has(&l, c, flag("a")), true)),
                None => assert_eq!(out, (input, false)),
            }
        }
    }
}
