//! Merging relationship tests over the same link: `has R(a) or has R(b)` →
//! `has R(a or b)`, and `has no R(a) and has no R(b)` → `has no R(a or b)`.
//!
//! Only these two forms: `has R(a) and has R(b)` may be met by two different
//! related records, so it is *not* `has R(a and b)` (except for a parent,
//! see [`MergeParent`](super::MergeParent)); and counting quantifiers do not
//! add up this way.

use crate::optimize::rules::merge_hops::{merge_by_link, rewrite_list};
use crate::optimize::{Rule, Transformed};
use crate::plan::{PlanExpr, Quantifier, Related};

/// Merges `has` over one link inside `or`, and `has no` inside `and`.
pub struct MergeRelated;

impl Rule for MergeRelated {
    fn name(&self) -> &'static str {
        "merge_related"
    }

    /// A list that may hold two relationship tests over one link.
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        super::merge_hops::may_have_two_over_one_link(expr)
    }

    /// A merged item and the `or` of its filters are new.
    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        rewrite_list(expr, Quantifier::No, Quantifier::Any, merge_same)
    }
}

/// Replace every group of two or more `Related` items with quantifier `q`
/// over one link by one whose filter is the `or` of theirs, at the place of
/// the group's first item; also return those places.
fn merge_same(items: Vec<PlanExpr>, q: Quantifier) -> (Vec<PlanExpr>, Vec<usize>) {
    merge_by_link(
        items,
        |r| r.quantifier == q,
        |_| true,
        |link, tests| Related {
            link,
            quantifier: q,
            filter: Box::new(PlanExpr::Or(tests.into_iter().map(|r| *r.filter).collect())),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::{Direction, NewNodes};

    #[test]
    fn any_in_or() {
        let kids = link("kids", Direction::ToChildren);
        let pets = link("pets", Direction::ToChildren);
        let input = or(vec![
            has(&kids, Quantifier::Any, flag("a")),
            has(&pets, Quantifier::Any, flag("a")),
            flag("z"),
            has(&kids, Quantifier::Any, flag("b")),
        ]);
        let expected = or(vec![
            has(&kids, Quantifier::Any, or(vec![flag("a"), flag("b")])),
            has(&pets, Quantifier::Any, flag("a")),
            flag("z"),
        ]);
        assert_eq!(rewrite(&MergeRelated, input), (expected.clone(), true));
        assert_eq!(rewrite(&MergeRelated, expected.clone()), (expected, false));
    }

    #[test]
    fn names_the_merged_item_new() {
        let kids = link("kids", Direction::ToChildren);
        let input = or(vec![
            flag("z"),
            has(&kids, Quantifier::Any, flag("a")),
            has(&kids, Quantifier::Any, flag("b")),
        ]);
        let Transformed {
            changed,
            built: new,
            ..
        } = MergeRelated.rewrite(input);
        assert!(changed);
        // The merged `has` and the `or` of its filters.
        assert_eq!(
            new,
            NewNodes {
                children: vec![1],
                levels: 2
            }
        );
    }

    #[test]
    fn no_in_and() {
        let kids = link("kids", Direction::ToChildren);
        let input = and(vec![
            has(&kids, Quantifier::No, flag("a")),
            has(&kids, Quantifier::No, flag("b")),
        ]);
        let expected = and(vec![has(
            &kids,
            Quantifier::No,
            or(vec![flag("a"), flag("b")]),
        )]);
        assert_eq!(rewrite(&MergeRelated, input), (expected, true));
    }

    #[test]
    fn any_in_and_is_left_alone() {
        // One child may be `a` and another `b`, with no child both.
        let kids = link("kids", Direction::ToChildren);
        let input = and(vec![
            has(&kids, Quantifier::Any, flag("a")),
            has(&kids, Quantifier::Any, flag("b")),
        ]);
        assert_eq!(rewrite(&MergeRelated, input.clone()), (input, false));
        let counted = or(vec![
            has(&kids, Quantifier::AtLeast(2), flag("a")),
            has(&kids, Quantifier::AtLeast(2), flag("b")),
        ]);
        assert_eq!(rewrite(&MergeRelated, counted.clone()), (counted, false));
    }
}
