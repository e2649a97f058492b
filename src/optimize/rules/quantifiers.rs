//! Quantifier normal forms: `has at least 0` → `true`, `has at least 1` →
//! `has`, `has at most 0` / `has exactly 0` → `has no`; and, along a
//! many-to-one hop (at most one parent), counts above one collapse.

use crate::optimize::{Rule, Transformed};
use crate::plan::{Direction, PlanExpr, Quantifier, Related};

/// Rewrites a relationship's quantifier into the simplest equivalent one.
pub struct SimplifyQuantifier;

impl Rule for SimplifyQuantifier {
    fn name(&self) -> &'static str {
        "simplify_quantifier"
    }

    /// A relationship test with a quantifier that has a simpler form.
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        matches!(expr, PlanExpr::Related(related) if simpler(related).is_some())
    }

    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        let PlanExpr::Related(related) = expr else {
            return Transformed::no(expr);
        };
        let Some(simpler) = simpler(&related) else {
            return Transformed::no(PlanExpr::Related(related));
        };
        Transformed::yes(match simpler {
            Ok(quantifier) => PlanExpr::Related(Related {
                quantifier,
                ..related
            }),
            Err(constant) => PlanExpr::Const(constant),
        })
    }
}

/// The simpler form of `related`'s quantifier: another quantifier, or the
/// constant the test always is; `None` when it is as simple as it gets.
fn simpler(related: &Related) -> Option<Result<Quantifier, bool>> {
    let to_parent = related.link.direction == Direction::ToParent;
    Some(match related.quantifier {
        Quantifier::AtLeast(0) => Err(true),
        Quantifier::AtLeast(1) => Ok(Quantifier::Any),
        Quantifier::AtMost(0) | Quantifier::Exactly(0) => Ok(Quantifier::No),
        // A record has zero or one parent: the count is 0 or 1.
        Quantifier::AtLeast(_) if to_parent => Err(false),
        Quantifier::AtMost(_) if to_parent => Err(true),
        Quantifier::Exactly(1) if to_parent => Ok(Quantifier::Any),
        Quantifier::Exactly(_) if to_parent => Err(false),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;

    fn check(direction: Direction, q: Quantifier, expected: Option<PlanExpr>) {
        let l = link("r", direction);
        let input = has(&l, q, flag("a"));
        let out = rewrite(&SimplifyQuantifier, input.clone());
        match expected {
            Some(e) => assert_eq!(out, (e, true), "{q:?}"),
            None => assert_eq!(out, (input, false), "{q:?}"),
        }
    }

    #[test]
    fn to_children() {
        let d = Direction::ToChildren;
        let l = link("r", d);
        let with = |q| Some(has(&l, q, flag("a")));
        check(d, Quantifier::AtLeast(0), Some(PlanExpr::Const(true)));
        check(d, Quantifier::AtLeast(1), with(Quantifier::Any));
        check(d, Quantifier::AtMost(0), with(Quantifier::No));
        check(d, Quantifier::Exactly(0), with(Quantifier::No));
        check(d, Quantifier::AtLeast(2), None);
        check(d, Quantifier::AtMost(1), None);
        check(d, Quantifier::Exactly(1), None);
        check(d, Quantifier::Any, None);
        check(d, Quantifier::No, None);
    }

    #[test]
    fn to_parent_counts_are_zero_or_one() {
        let d = Direction::ToParent;
        let l = link("r", d);
        check(d, Quantifier::AtLeast(2), Some(PlanExpr::Const(false)));
        check(d, Quantifier::AtMost(1), Some(PlanExpr::Const(true)));
        check(
            d,
            Quantifier::Exactly(1),
            Some(has(&l, Quantifier::Any, flag("a"))),
        );
        check(d, Quantifier::Exactly(3), Some(PlanExpr::Const(false)));
        check(d, Quantifier::Any, None);
    }
}
