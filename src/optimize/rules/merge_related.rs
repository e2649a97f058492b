//! Merging relationship tests over the same link: `has R(a) or has R(b)` →
//! `has R(a or b)`, and `has no R(a) and has no R(b)` → `has no R(a or b)`.
//!
//! Only these two forms: `has R(a) and has R(b)` may be met by two different
//! related records, so it is *not* `has R(a and b)` (except for a parent,
//! see [`MergeParent`](super::MergeParent)); and counting quantifiers do not
//! add up this way.

use crate::check::plan::{Link, PlanExpr, Quantifier, Related};
use crate::optimize::{NewNodes, Rule};

/// Merges `has` over one link inside `or`, and `has no` inside `and`.
pub struct MergeRelated;

impl Rule for MergeRelated {
    fn name(&self) -> &'static str {
        "merge_related"
    }

    fn rewrite(&self, expr: PlanExpr) -> (PlanExpr, bool) {
        let (expr, changed, _) = self.rewrite_built(expr);
        (expr, changed)
    }

    fn builds(&self) -> bool {
        true
    }

    /// A merged item and the `or` of its filters are new.
    fn rewrite_built(&self, expr: PlanExpr) -> (PlanExpr, bool, NewNodes) {
        let (items, q, rebuild): (_, _, fn(Vec<PlanExpr>) -> PlanExpr) = match expr {
            PlanExpr::Or(items) => (items, Quantifier::Any, PlanExpr::Or),
            PlanExpr::And(items) => (items, Quantifier::No, PlanExpr::And),
            other => return (other, false, NewNodes::default()),
        };
        let (items, merged) = merge_same(items, q);
        let changed = !merged.is_empty();
        let new = NewNodes {
            children: merged,
            levels: 2,
        };
        (rebuild(items), changed, new)
    }
}

/// Replace every group of two or more `Related` items with quantifier `q`
/// over one link by one whose filter is the `or` of theirs, at the place of
/// the group's first item; also return those places.
fn merge_same(items: Vec<PlanExpr>, q: Quantifier) -> (Vec<PlanExpr>, Vec<usize>) {
    let candidates = items
        .iter()
        .filter(|item| matches!(item, PlanExpr::Related(r) if r.quantifier == q))
        .count();
    if candidates < 2 {
        return (items, Vec::new());
    }
    let mut out: Vec<PlanExpr> = Vec::with_capacity(items.len());
    // For each link seen: its index in `out` and the filters gathered.
    let mut groups: Vec<(Link, usize, Vec<PlanExpr>)> = Vec::new();
    for item in items {
        match item {
            PlanExpr::Related(related) if related.quantifier == q => {
                match groups.iter_mut().find(|(link, _, _)| *link == related.link) {
                    Some((_, _, filters)) => filters.push(*related.filter),
                    None => {
                        groups.push((related.link, out.len(), vec![*related.filter]));
                        // A placeholder, replaced below.
                        out.push(PlanExpr::Const(false));
                    }
                }
            }
            other => out.push(other),
        }
    }
    let mut merged = Vec::new();
    for (link, index, mut filters) in groups {
        let filter = if filters.len() == 1 {
            filters.pop().unwrap_or(PlanExpr::Const(false))
        } else {
            merged.push(index);
            PlanExpr::Or(filters)
        };
        out[index] = PlanExpr::Related(Related {
            link,
            quantifier: q,
            filter: Box::new(filter),
        });
    }
    (out, merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::plan::Direction;
    use crate::optimize::rules::build::*;

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
        assert_eq!(MergeRelated.rewrite(input), (expected.clone(), true));
        assert_eq!(MergeRelated.rewrite(expected.clone()), (expected, false));
    }

    #[test]
    fn names_the_merged_item_new() {
        let kids = link("kids", Direction::ToChildren);
        let input = or(vec![
            flag("z"),
            has(&kids, Quantifier::Any, flag("a")),
            has(&kids, Quantifier::Any, flag("b")),
        ]);
        let (_, changed, new) = MergeRelated.rewrite_built(input);
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
        assert_eq!(MergeRelated.rewrite(input), (expected, true));
    }

    #[test]
    fn any_in_and_is_left_alone() {
        // One child may be `a` and another `b`, with no child both.
        let kids = link("kids", Direction::ToChildren);
        let input = and(vec![
            has(&kids, Quantifier::Any, flag("a")),
            has(&kids, Quantifier::Any, flag("b")),
        ]);
        assert_eq!(MergeRelated.rewrite(input.clone()), (input, false));
        let counted = or(vec![
            has(&kids, Quantifier::AtLeast(2), flag("a")),
            has(&kids, Quantifier::AtLeast(2), flag("b")),
        ]);
        assert_eq!(MergeRelated.rewrite(counted.clone()), (counted, false));
    }
}
