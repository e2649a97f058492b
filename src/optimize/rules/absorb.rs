//! Absorption: `a or (a and b)` → `a`, and `a and (a or b)` → `a`.
//!
//! Common after inlining segments: `in engaged_decision_makers or in
//! decision_makers` holds the second segment's test on both sides.

use crate::optimize::fingerprint::{worth_an_index, EqualItems};
use crate::optimize::{Rule, Transformed};
use crate::plan::PlanExpr;

/// Drops an inner `and` (`or`) of an `or` (`and`) that contains another of
/// the outer list's items.
pub struct Absorb;

impl Rule for Absorb {
    fn name(&self) -> &'static str {
        "absorb"
    }

    /// An `or` holding an `and` and an item that is none, or the reverse.
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        let (items, inner_is_and) = match expr {
            PlanExpr::Or(items) => (items, true),
            PlanExpr::And(items) => (items, false),
            _ => return false,
        };
        let is_inner = |item: &PlanExpr| match item {
            PlanExpr::And(_) => inner_is_and,
            PlanExpr::Or(_) => !inner_is_and,
            _ => false,
        };
        items.iter().any(is_inner) && !items.iter().all(is_inner)
    }

    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        match expr {
            PlanExpr::Or(items) => {
                let (items, changed) = absorb(items, |e| match e {
                    PlanExpr::And(inner) => Some(inner),
                    _ => None,
                });
                Transformed::new(PlanExpr::Or(items), changed)
            }
            PlanExpr::And(items) => {
                let (items, changed) = absorb(items, |e| match e {
                    PlanExpr::Or(inner) => Some(inner),
                    _ => None,
                });
                Transformed::new(PlanExpr::And(items), changed)
            }
            other => Transformed::no(other),
        }
    }
}

/// Remove every item whose `inner` list contains one of the items that has
/// no inner list (those are never removed, so the result does not depend
/// on the order of removal).
fn absorb(
    items: Vec<PlanExpr>,
    inner: impl Fn(&PlanExpr) -> Option<&Vec<PlanExpr>>,
) -> (Vec<PlanExpr>, bool) {
    let parts: usize = items.iter().filter_map(&inner).map(Vec::len).sum();
    if parts == 0 {
        return (items, false);
    }
    let plain: Vec<&PlanExpr> = items.iter().filter(|item| inner(item).is_none()).collect();
    let absorbed: Vec<bool> = if !worth_an_index(parts * plain.len()) {
        items
            .iter()
            .map(|item| inner(item).is_some_and(|parts| parts.iter().any(|p| plain.contains(&p))))
            .collect()
    } else {
        let plain = EqualItems::new(plain);
        items
            .iter()
            .map(|item| inner(item).is_some_and(|parts| parts.iter().any(|p| plain.contains(p))))
            .collect()
    };
    if !absorbed.contains(&true) {
        return (items, false);
    }
    let kept = items
        .into_iter()
        .zip(absorbed)
        .filter(|(_, gone)| !gone)
        .map(|(item, _)| item)
        .collect();
    (kept, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;

    #[test]
    fn or_absorbs_and() {
        let input = or(vec![
            and(vec![flag("a"), flag("b")]),
            flag("a"),
            and(vec![flag("c"), flag("b")]),
        ]);
        let expected = or(vec![flag("a"), and(vec![flag("c"), flag("b")])]);
        assert_eq!(rewrite(&Absorb, input), (expected.clone(), true));
        assert_eq!(rewrite(&Absorb, expected.clone()), (expected, false));
    }

    #[test]
    fn and_absorbs_or() {
        let input = and(vec![flag("a"), or(vec![flag("b"), flag("a")])]);
        assert_eq!(rewrite(&Absorb, input), (and(vec![flag("a")]), true));
        // `a and (not a or b)` is not `a`: only equal items absorb.
        let kept = and(vec![flag("a"), or(vec![not(flag("a")), flag("b")])]);
        assert_eq!(rewrite(&Absorb, kept.clone()), (kept, false));
    }

    #[test]
    fn long_lists() {
        use crate::plan::CmpOp;
        // Enough pairs to be searched through an index.
        let mut items: Vec<PlanExpr> = (0..40).map(|i| n(CmpOp::Lt, i)).collect();
        items.extend((0..40).map(|i| and(vec![flag("x"), n(CmpOp::Gt, i)])));
        assert_eq!(
            rewrite(&Absorb, or(items.clone())),
            (or(items.clone()), false)
        );
        items.push(and(vec![flag("y"), n(CmpOp::Lt, 39)]));
        let (out, changed) = rewrite(&Absorb, or(items.clone()));
        items.pop();
        assert_eq!((out, changed), (or(items), true));
    }
}
