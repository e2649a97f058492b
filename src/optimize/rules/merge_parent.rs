//! Merging tests of the same parent: along a many-to-one link a record has
//! at most one related record, so `has P(a) and has P(b)` → `has P(a and
//! b)`, and `has P(a) and has no P(b)` → `has P(a and not b)`. Dually, in an
//! `or`, `has no P(a) or has no P(b)` → `has no P(a and b)` and `has no P(a)
//! or has P(b)` → `has no P(a and not b)`.
//!
//! Never for one-to-many links: two different children may each satisfy one
//! side.

use crate::optimize::rules::merge_hops::{merge_by_link, rewrite_list};
use crate::optimize::rules::negate;
use crate::optimize::{Rule, Transformed};
use crate::plan::{Direction, PlanExpr, Quantifier, Related};

/// Merges `has` / `has no` over one many-to-one link.
pub struct MergeParent;

impl Rule for MergeParent {
    fn name(&self) -> &'static str {
        "merge_parent"
    }

    /// A list that may hold two relationship tests over one link.
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        super::merge_hops::may_have_two_over_one_link(expr)
    }

    /// A merged item and the `and` of its filters are new (a negated
    /// filter is a `not` the driver's walk pushes down wherever it stands).
    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        // In an `and` the `has` tests lead; in an `or` the `has no` ones.
        rewrite_list(expr, Quantifier::Any, Quantifier::No, merge)
    }
}

/// Merge, per link, all `lead` and opposite items into one `lead` item whose
/// filter is the `and` of their filters (the opposite ones negated) — when
/// the link has at least one `lead` item and two items in all. The merged
/// item takes the place of the link's first item; those places are returned
/// too.
fn merge(items: Vec<PlanExpr>, lead: Quantifier) -> (Vec<PlanExpr>, Vec<usize>) {
    let opposite = match lead {
        Quantifier::Any => Quantifier::No,
        _ => Quantifier::Any,
    };
    merge_by_link(
        items,
        |r| {
            r.link.direction == Direction::ToParent
                && (r.quantifier == lead || r.quantifier == opposite)
        },
        |tests| tests.iter().any(|r| r.quantifier == lead),
        |link, tests| Related {
            link,
            quantifier: lead,
            filter: Box::new(PlanExpr::And(
                tests
                    .into_iter()
                    .map(|r| {
                        if r.quantifier == lead {
                            *r.filter
                        } else {
                            negate(*r.filter)
                        }
                    })
                    .collect(),
            )),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::NewNodes;

    #[test]
    fn parents_merge_in_and() {
        let up = link("up", Direction::ToParent);
        let input = and(vec![
            has(&up, Quantifier::Any, flag("a")),
            flag("z"),
            has(&up, Quantifier::Any, flag("b")),
            has(&up, Quantifier::No, flag("c")),
        ]);
        let expected = and(vec![
            has(
                &up,
                Quantifier::Any,
                and(vec![flag("a"), flag("b"), not(flag("c"))]),
            ),
            flag("z"),
        ]);
        assert_eq!(rewrite(&MergeParent, input), (expected, true));
    }

    #[test]
    fn parents_merge_in_or() {
        let up = link("up", Direction::ToParent);
        let input = or(vec![
            has(&up, Quantifier::Any, flag("a")),
            has(&up, Quantifier::No, flag("b")),
        ]);
        let expected = or(vec![has(
            &up,
            Quantifier::No,
            and(vec![not(flag("a")), flag("b")]),
        )]);
        assert_eq!(rewrite(&MergeParent, input), (expected, true));
    }

    #[test]
    fn names_the_merged_item_new() {
        let up = link("up", Direction::ToParent);
        let input = and(vec![
            flag("z"),
            has(&up, Quantifier::Any, flag("a")),
            has(&up, Quantifier::Any, flag("b")),
        ]);
        let Transformed {
            changed,
            built: new,
            ..
        } = MergeParent.rewrite(input);
        assert!(changed);
        // The merged `has` and the `and` of its filters.
        assert_eq!(
            new,
            NewNodes {
                children: vec![1],
                levels: 2
            }
        );
    }

    #[test]
    fn children_never_merge() {
        let kids = link("kids", Direction::ToChildren);
        let input = and(vec![
            has(&kids, Quantifier::Any, flag("a")),
            has(&kids, Quantifier::Any, flag("b")),
        ]);
        assert_eq!(rewrite(&MergeParent, input.clone()), (input, false));
    }

    #[test]
    fn has_no_alone_is_left_to_merge_related() {
        let up = link("up", Direction::ToParent);
        let input = and(vec![
            has(&up, Quantifier::No, flag("a")),
            flag("z"),
            has(&up, Quantifier::No, flag("b")),
        ]);
        assert_eq!(rewrite(&MergeParent, input.clone()), (input, false));
    }
}
