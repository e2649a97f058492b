//! Removing duplicate items of an `and` or `or`: `a and a` → `a`.

use crate::check::plan::PlanExpr;
use crate::optimize::Rule;

/// Keeps the first of equal items of an `and` or `or`.
pub struct RemoveDuplicates;

impl Rule for RemoveDuplicates {
    fn name(&self) -> &'static str {
        "remove_duplicates"
    }

    fn rewrite(&self, expr: PlanExpr) -> (PlanExpr, bool) {
        match expr {
            PlanExpr::And(items) => dedup(items, PlanExpr::And),
            PlanExpr::Or(items) => dedup(items, PlanExpr::Or),
            other => (other, false),
        }
    }
}

fn dedup(items: Vec<PlanExpr>, rebuild: fn(Vec<PlanExpr>) -> PlanExpr) -> (PlanExpr, bool) {
    let before = items.len();
    let mut kept: Vec<PlanExpr> = Vec::with_capacity(before);
    for item in items {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    let changed = kept.len() != before;
    (rebuild(kept), changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::plan::CmpOp;
    use crate::optimize::rules::build::*;

    #[test]
    fn keeps_first_occurrence() {
        let input = or(vec![flag("a"), flag("b"), flag("a"), flag("b")]);
        assert_eq!(
            RemoveDuplicates.rewrite(input),
            (or(vec![flag("a"), flag("b")]), true)
        );
        let distinct = and(vec![n(CmpOp::Lt, 1), not(n(CmpOp::Lt, 1))]);
        assert_eq!(
            RemoveDuplicates.rewrite(distinct.clone()),
            (distinct, false)
        );
    }
}
