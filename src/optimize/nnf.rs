//! Negation normal form in one top-down pass: every `not` is pushed down to
//! a field test or a relationship test it cannot pass, in time linear in the
//! plan and without recursion.
//!
//! The [`PushNot`](super::rules::PushNot) rule does the same one level at a
//! time, bottom-up, so a `not` above a long alternating chain of `and` and
//! `or` would need a pass per level; this walk settles it at once. The
//! walk itself is the plan's fold (`src/plan/fold.rs`), which can also push
//! negations while it folds: the driver's fold does, so that the negations
//! rules introduce (merging parents negates filters) move down as soon as
//! they appear.

use crate::plan::{fold_normalizing, Fold, PlanExpr};

/// The name of the walk in a trace of firings.
pub const NAME: &str = "negation_normal_form";

/// A fold that keeps every node as the walk rebuilt it.
struct Keep;

impl Fold for Keep {}

/// `expr` with its negations pushed down as far as they go, and whether
/// anything moved.
pub fn negation_normal_form(expr: PlanExpr) -> (PlanExpr, bool) {
    fold_normalizing(&mut Keep, expr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::{CmpOp, Direction, Quantifier};

    #[test]
    fn pushes_through_alternating_lists_at_once() {
        let input = not(and(vec![
            flag("a"),
            or(vec![
                flag("b"),
                and(vec![not(flag("c")), PlanExpr::Const(true)]),
            ]),
        ]));
        let expected = or(vec![
            not(flag("a")),
            and(vec![
                not(flag("b")),
                or(vec![flag("c"), PlanExpr::Const(false)]),
            ]),
        ]);
        assert_eq!(negation_normal_form(input), (expected, true));
    }

    #[test]
    fn relationship_tests() {
        let l = link("kids", Direction::ToChildren);
        let input = not(or(vec![
            has(&l, Quantifier::Any, not(not(flag("a")))),
            has(&l, Quantifier::Exactly(2), flag("b")),
            has(&l, Quantifier::AtLeast(3), flag("c")),
        ]));
        let expected = and(vec![
            has(&l, Quantifier::No, flag("a")),
            not(has(&l, Quantifier::Exactly(2), flag("b"))),
            has(&l, Quantifier::AtMost(2), flag("c")),
        ]);
        assert_eq!(negation_normal_form(input), (expected, true));
    }

    #[test]
    fn double_negations_vanish() {
        let x = int_field();
        // `not (x is null)` is `x is not null`: Not(Not(IsNotNull)).
        assert_eq!(negation_normal_form(not(is_null(&x))), (not_null(&x), true));
        assert_eq!(
            negation_normal_form(not(not(not(flag("a"))))),
            (not(flag("a")), true)
        );
        assert_eq!(
            negation_normal_form(not(PlanExpr::Const(true))),
            (PlanExpr::Const(false), true)
        );
    }

    #[test]
    fn settled_plans_are_unchanged() {
        let l = link("kids", Direction::ToChildren);
        let settled = and(vec![
            not(n(CmpOp::Lt, 5)),
            or(vec![]),
            not(has(&l, Quantifier::Exactly(1), not(flag("a")))),
        ]);
        assert_eq!(negation_normal_form(settled.clone()), (settled, false));
        assert_eq!(negation_normal_form(not(and(vec![]))), (or(vec![]), true));
    }
}
