//! Merging tests of the same parent: along a many-to-one link a record has
//! at most one related record, so `has P(a) and has P(b)` → `has P(a and
//! b)`, and `has P(a) and has no P(b)` → `has P(a and not b)`. Dually, in an
//! `or`, `has no P(a) or has no P(b)` → `has no P(a and b)` and `has no P(a)
//! or has P(b)` → `has no P(a and not b)`.
//!
//! Never for one-to-many links: two different children may each satisfy one
//! side.

use crate::check::plan::{Direction, Link, PlanExpr, Quantifier, Related};
use crate::optimize::rules::negate;
use crate::optimize::{NewNodes, Rule};

/// Merges `has` / `has no` over one many-to-one link.
pub struct MergeParent;

impl Rule for MergeParent {
    fn name(&self) -> &'static str {
        "merge_parent"
    }

    fn rewrite(&self, expr: PlanExpr) -> (PlanExpr, bool) {
        let (expr, changed, _) = self.rewrite_built(expr);
        (expr, changed)
    }

    fn builds(&self) -> bool {
        true
    }

    /// A merged item and the `and` of its filters are new (a negated
    /// filter is a `not` the driver's walk pushes down wherever it stands).
    fn rewrite_built(&self, expr: PlanExpr) -> (PlanExpr, bool, NewNodes) {
        // In an `and` the `has` tests lead; in an `or` the `has no` ones.
        let (items, lead, rebuild): (_, _, fn(Vec<PlanExpr>) -> PlanExpr) = match expr {
            PlanExpr::And(items) => (items, Quantifier::Any, PlanExpr::And),
            PlanExpr::Or(items) => (items, Quantifier::No, PlanExpr::Or),
            other => return (other, false, NewNodes::default()),
        };
        let (items, merged) = merge(items, lead);
        let changed = !merged.is_empty();
        let new = NewNodes {
            children: merged,
            levels: 2,
        };
        (rebuild(items), changed, new)
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
    let key = |item: &PlanExpr| match item {
        PlanExpr::Related(r)
            if r.link.direction == Direction::ToParent
                && (r.quantifier == lead || r.quantifier == opposite) =>
        {
            Some((r.link.clone(), r.quantifier == lead))
        }
        _ => None,
    };
    // Per link: how many leading items, how many in all.
    let mut counts: Vec<(Link, usize, usize)> = Vec::new();
    for (link, leading) in items.iter().filter_map(key) {
        match counts.iter_mut().find(|(l, _, _)| *l == link) {
            Some((_, lead_count, total)) => {
                *lead_count += usize::from(leading);
                *total += 1;
            }
            None => counts.push((link, usize::from(leading), 1)),
        }
    }
    let merging: Vec<Link> = counts
        .into_iter()
        .filter(|(_, leading, total)| *leading >= 1 && *total >= 2)
        .map(|(link, _, _)| link)
        .collect();
    if merging.is_empty() {
        return (items, Vec::new());
    }
    let mut out: Vec<PlanExpr> = Vec::with_capacity(items.len());
    // Per merging link: its place in `out` and the filters gathered.
    let mut groups: Vec<(Link, usize, Vec<PlanExpr>)> = Vec::new();
    for item in items {
        let link = match key(&item) {
            Some((link, _)) if merging.contains(&link) => link,
            _ => {
                out.push(item);
                continue;
            }
        };
        let PlanExpr::Related(related) = item else {
            continue;
        };
        let filter = if related.quantifier == lead {
            *related.filter
        } else {
            negate(*related.filter)
        };
        match groups.iter_mut().find(|(l, _, _)| *l == link) {
            Some((_, _, filters)) => filters.push(filter),
            None => {
                groups.push((link, out.len(), vec![filter]));
                // A placeholder, replaced below.
                out.push(PlanExpr::Const(false));
            }
        }
    }
    let mut merged = Vec::with_capacity(groups.len());
    for (link, index, filters) in groups {
        out[index] = PlanExpr::Related(Related {
            link,
            quantifier: lead,
            filter: Box::new(PlanExpr::And(filters)),
        });
        merged.push(index);
    }
    (out, merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;

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
        assert_eq!(MergeParent.rewrite(input), (expected, true));
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
        assert_eq!(MergeParent.rewrite(input), (expected, true));
    }

    #[test]
    fn names_the_merged_item_new() {
        let up = link("up", Direction::ToParent);
        let input = and(vec![
            flag("z"),
            has(&up, Quantifier::Any, flag("a")),
            has(&up, Quantifier::Any, flag("b")),
        ]);
        let (_, changed, new) = MergeParent.rewrite_built(input);
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
        assert_eq!(MergeParent.rewrite(input.clone()), (input, false));
    }

    #[test]
    fn has_no_alone_is_left_to_merge_related() {
        let up = link("up", Direction::ToParent);
        let input = and(vec![
            has(&up, Quantifier::No, flag("a")),
            flag("z"),
            has(&up, Quantifier::No, flag("b")),
        ]);
        assert_eq!(MergeParent.rewrite(input.clone()), (input, false));
    }
}
