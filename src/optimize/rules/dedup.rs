//! Removing duplicate items of an `and` or `or`: `a and a` → `a`.

use crate::optimize::fingerprint::{worth_an_index, EqualItems};
use crate::optimize::{Rule, Transformed};
use crate::plan::PlanExpr;

/// Keeps the first of equal items of an `and` or `or`.
pub struct RemoveDuplicates;

impl Rule for RemoveDuplicates {
    fn name(&self) -> &'static str {
        "remove_duplicates"
    }

    /// A list of two items or more; a short one only if it repeats an
    /// item (comparing its few pairs costs less than moving the list
    /// through [`Rule::rewrite`]).
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        match expr {
            PlanExpr::And(items) | PlanExpr::Or(items) if items.len() > 1 => {
                !searched_pairwise(items) || (1..items.len()).any(|i| repeats_earlier(items, i))
            }
            _ => false,
        }
    }

    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        match expr {
            PlanExpr::And(items) => dedup(items, PlanExpr::And),
            PlanExpr::Or(items) => dedup(items, PlanExpr::Or),
            other => Transformed::no(other),
        }
    }
}

fn dedup(items: Vec<PlanExpr>, rebuild: fn(Vec<PlanExpr>) -> PlanExpr) -> Transformed {
    let Some(repeats) = repeats(&items) else {
        return Transformed::no(rebuild(items));
    };
    let kept = items
        .into_iter()
        .zip(repeats)
        .filter(|(_, repeat)| !repeat)
        .map(|(item, _)| item)
        .collect();
    Transformed::yes(rebuild(kept))
}

/// Whether `items` is short enough to compare pair by pair.
fn searched_pairwise(items: &[PlanExpr]) -> bool {
    let pairs = items.len() * items.len().saturating_sub(1) / 2;
    !worth_an_index(pairs)
}

/// Whether an item before the one at `index` equals it.
fn repeats_earlier(items: &[PlanExpr], index: usize) -> bool {
    items[..index].contains(&items[index])
}

/// For each item, whether an earlier one equals it; `None` when none does.
fn repeats(items: &[PlanExpr]) -> Option<Vec<bool>> {
    if searched_pairwise(items) {
        let repeat = |i: usize| repeats_earlier(items, i);
        (0..items.len())
            .any(repeat)
            .then(|| (0..items.len()).map(repeat).collect())
    } else {
        let mut seen = EqualItems::with_capacity(items.len());
        let repeats: Vec<bool> = items.iter().map(|item| !seen.insert_new(item)).collect();
        repeats.contains(&true).then_some(repeats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::CmpOp;

    #[test]
    fn keeps_first_occurrence() {
        let input = or(vec![flag("a"), flag("b"), flag("a"), flag("b")]);
        assert_eq!(
            rewrite(&RemoveDuplicates, input),
            (or(vec![flag("a"), flag("b")]), true)
        );
        let distinct = and(vec![n(CmpOp::Lt, 1), not(n(CmpOp::Lt, 1))]);
        assert_eq!(
            rewrite(&RemoveDuplicates, distinct.clone()),
            (distinct, false)
        );
    }

    #[test]
    fn long_lists_keep_first_occurrence() {
        // Long enough to be searched through an index.
        let items: Vec<PlanExpr> = (0..120).map(|i| n(CmpOp::Lt, i % 50)).collect();
        let expected: Vec<PlanExpr> = (0..50).map(|i| n(CmpOp::Lt, i)).collect();
        assert_eq!(
            rewrite(&RemoveDuplicates, and(items)),
            (and(expected.clone()), true)
        );
        assert_eq!(
            rewrite(&RemoveDuplicates, and(expected.clone())),
            (and(expected), false)
        );
    }
}
