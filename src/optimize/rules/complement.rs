//! Complements: `a and not a` → `false`, `a or not a` → `true`.
//!
//! Exact because `not` is the complement (two-valued logic): in SQL's
//! three-valued logic `a or not a` would be unknown for a NULL field. So
//! `x is null or x is not null` → `true`.

use crate::check::plan::PlanExpr;
use crate::optimize::Rule;

/// An item and its negation in one `and` (`or`) make it `false` (`true`).
pub struct Complement;

impl Rule for Complement {
    fn name(&self) -> &'static str {
        "complement"
    }

    fn rewrite(&self, expr: PlanExpr) -> (PlanExpr, bool) {
        let (items, is_and) = match &expr {
            PlanExpr::And(items) => (items, true),
            PlanExpr::Or(items) => (items, false),
            _ => return (expr, false),
        };
        let clash = items.iter().any(|item| match item {
            PlanExpr::Not(inner) => items.iter().any(|other| other == inner.as_ref()),
            _ => false,
        });
        if clash {
            (PlanExpr::Const(!is_and), true)
        } else {
            (expr, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::plan::CmpOp;
    use crate::optimize::rules::build::*;

    #[test]
    fn and_or_with_a_complement() {
        let n_field = int_field();
        let input = and(vec![flag("b"), n(CmpOp::Lt, 5), not(n(CmpOp::Lt, 5))]);
        assert_eq!(Complement.rewrite(input), (PlanExpr::Const(false), true));
        let input = or(vec![is_null(&n_field), not_null(&n_field)]);
        assert_eq!(Complement.rewrite(input), (PlanExpr::Const(true), true));
    }

    #[test]
    fn opposite_comparisons_are_not_complements() {
        // `n < 5 or n >= 5` is false for a NULL n: it must stay.
        let input = or(vec![n(CmpOp::Lt, 5), n(CmpOp::Ge, 5)]);
        assert_eq!(Complement.rewrite(input.clone()), (input, false));
    }
}
