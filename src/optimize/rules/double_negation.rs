//! Double negation: `not not x` → `x`, exact under two-valued logic.

use crate::check::plan::PlanExpr;
use crate::optimize::Rule;

/// `not not x` → `x`.
pub struct DoubleNegation;

impl Rule for DoubleNegation {
    fn name(&self) -> &'static str {
        "double_negation"
    }

    fn rewrite(&self, expr: PlanExpr) -> (PlanExpr, bool) {
        match expr {
            PlanExpr::Not(inner) => match *inner {
                PlanExpr::Not(x) => (*x, true),
                other => (PlanExpr::Not(Box::new(other)), false),
            },
            other => (other, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;

    #[test]
    fn removes_two_nots_only() {
        let n = int_field();
        // `not (x is null)` is `x is not null`: Not(Not(IsNotNull)).
        assert_eq!(
            DoubleNegation.rewrite(not(is_null(&n))),
            (not_null(&n), true)
        );
        let once = not(flag("a"));
        assert_eq!(DoubleNegation.rewrite(once.clone()), (once, false));
        assert_eq!(
            DoubleNegation.rewrite(not(not(not(flag("a"))))),
            (not(flag("a")), true)
        );
    }
}
