//! Complements: `a and not a` → `false`, `a or not a` → `true`.
//!
//! Exact because `not` is the complement (two-valued logic): in SQL's
//! three-valued logic `a or not a` would be unknown for a NULL field. So
//! `x is null or x is not null` → `true`.

use crate::optimize::fingerprint::{worth_an_index, EqualItems};
use crate::optimize::{Rule, Transformed};
use crate::plan::PlanExpr;

/// An item and its negation in one `and` (`or`) make it `false` (`true`).
pub struct Complement;

impl Rule for Complement {
    fn name(&self) -> &'static str {
        "complement"
    }

    /// A list holding a `not`.
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        matches!(expr, PlanExpr::And(items) | PlanExpr::Or(items)
            if items.iter().any(|item| matches!(item, PlanExpr::Not(_))))
    }

    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        let (items, is_and) = match &expr {
            PlanExpr::And(items) => (items, true),
            PlanExpr::Or(items) => (items, false),
            _ => return Transformed::no(expr),
        };
        let negated = || {
            items.iter().filter_map(|item| match item {
                PlanExpr::Not(inner) => Some(inner.as_ref()),
                _ => None,
            })
        };
        let clash = if !worth_an_index(negated().count() * items.len()) {
            negated().any(|inner| items.contains(inner))
        } else {
            let all = EqualItems::new(items);
            negated().any(|inner| all.contains(inner))
        };
        if clash {
            Transformed::yes(PlanExpr::Const(!is_and))
        } else {
            Transformed::no(expr)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::CmpOp;

    #[test]
    fn and_or_with_a_complement() {
        let n_field = int_field();
        let input = and(vec![flag("b"), n(CmpOp::Lt, 5), not(n(CmpOp::Lt, 5))]);
        assert_eq!(rewrite(&Complement, input), (PlanExpr::Const(false), true));
        let input = or(vec![is_null(&n_field), not_null(&n_field)]);
        assert_eq!(rewrite(&Complement, input), (PlanExpr::Const(true), true));
    }

    #[test]
    fn opposite_comparisons_are_not_complements() {
        // `n < 5 or n >= 5` is false for a NULL n: it must stay.
        let input = or(vec![n(CmpOp::Lt, 5), n(CmpOp::Ge, 5)]);
        assert_eq!(rewrite(&Complement, input.clone()), (input, false));
    }

    #[test]
    fn long_lists() {
        // Long enough to be searched through an index.
        let mut items: Vec<PlanExpr> = (0..60).map(|i| n(CmpOp::Lt, i)).collect();
        items.extend((60..120).map(|i| not(n(CmpOp::Lt, i))));
        assert_eq!(
            rewrite(&Complement, or(items.clone())),
            (or(items.clone()), false)
        );
        items.push(not(n(CmpOp::Lt, 7)));
        assert_eq!(
            rewrite(&Complement, or(items)),
            (PlanExpr::Const(true), true)
        );
    }
}
