//! What [`MergeParent`](super::MergeParent) and
//! [`MergeRelated`](super::MergeRelated) share: gathering the relationship
//! tests of an `and` or `or` by link and replacing each group by one test
//! at the place of its first item. The rules say which tests join, which
//! groups merge and what the merged test is.

use crate::optimize::fingerprint::worth_an_index;
use crate::optimize::Transformed;
use crate::plan::{Link, NewNodes, PlanExpr, Quantifier, Related};

/// Whether `expr` is an `and` or `or` that may hold two relationship tests
/// over one link: a list without has nothing to merge. Links are compared
/// pair by pair only in a short list; a long one is left to
/// [`merge_by_link`].
pub(crate) fn may_have_two_over_one_link(expr: &PlanExpr) -> bool {
    let (PlanExpr::And(items) | PlanExpr::Or(items)) = expr else {
        return false;
    };
    if worth_an_index(items.len() * items.len() / 2) {
        return true;
    }
    fn link(item: &PlanExpr) -> Option<&Link> {
        match item {
            PlanExpr::Related(related) => Some(&related.link),
            _ => None,
        }
    }
    let earlier_on = |i: usize, link_i: &Link| items[..i].iter().any(|e| link(e) == Some(link_i));
    (1..items.len()).any(|i| link(&items[i]).is_some_and(|l| earlier_on(i, l)))
}

/// Runs `merge` on the items of an `and` or an `or`, with the quantifier
/// that leads there (`in_and` or `in_or`). Each merged item and the list of
/// filters under it are new.
pub(crate) fn rewrite_list(
    expr: PlanExpr,
    in_and: Quantifier,
    in_or: Quantifier,
    merge: impl FnOnce(Vec<PlanExpr>, Quantifier) -> (Vec<PlanExpr>, Vec<usize>),
) -> Transformed {
    let (items, lead, rebuild): (_, _, fn(Vec<PlanExpr>) -> PlanExpr) = match expr {
        PlanExpr::And(items) => (items, in_and, PlanExpr::And),
        PlanExpr::Or(items) => (items, in_or, PlanExpr::Or),
        other => return Transformed::no(other),
    };
    let (items, merged) = merge(items, lead);
    if merged.is_empty() {
        return Transformed::no(rebuild(items));
    }
    let built = NewNodes {
        children: merged,
        levels: 2,
    };
    Transformed::with_built(rebuild(items), built)
}

/// Groups the relationship tests that `joins` accepts by link; every group
/// of two or more that `merges` accepts becomes the one test `merged`
/// makes of it, at the place of the group's first item. Returns the items
/// and those places.
pub(crate) fn merge_by_link(
    items: Vec<PlanExpr>,
    joins: impl Fn(&Related) -> bool,
    merges: impl Fn(&[&Related]) -> bool,
    merged: impl Fn(Link, Vec<Related>) -> Related,
) -> (Vec<PlanExpr>, Vec<usize>) {
    // Per link, in order of first appearance: the places of its tests.
    let mut groups: Vec<(&Link, Vec<usize>)> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let PlanExpr::Related(related) = item else {
            continue;
        };
        if !joins(related) {
            continue;
        }
        match groups.iter_mut().find(|(link, _)| *link == &related.link) {
            Some((_, places)) => places.push(index),
            None => groups.push((&related.link, vec![index])),
        }
    }
    let tests_at = |places: &[usize]| -> Vec<&Related> {
        places
            .iter()
            .filter_map(|&i| match &items[i] {
                PlanExpr::Related(related) => Some(related),
                _ => None,
            })
            .collect()
    };
    let merging: Vec<Vec<usize>> = groups
        .into_iter()
        .map(|(_, places)| places)
        .filter(|places| places.len() >= 2 && merges(&tests_at(places)))
        .collect();
    if merging.is_empty() {
        return (items, Vec::new());
    }
    // The group each merging test belongs to.
    let mut group_of: Vec<Option<usize>> = vec![None; items.len()];
    for (group, places) in merging.iter().enumerate() {
        for &place in places {
            group_of[place] = Some(group);
        }
    }
    let mut out: Vec<PlanExpr> = Vec::with_capacity(items.len());
    // Per merging group: its place in `out` and its tests.
    let mut gathered: Vec<(usize, Vec<Related>)> = merging
        .iter()
        .map(|places| (0, Vec::with_capacity(places.len())))
        .collect();
    for (item, group) in items.into_iter().zip(group_of) {
        match (item, group) {
            (PlanExpr::Related(related), Some(group)) => {
                let (place, tests) = &mut gathered[group];
                if tests.is_empty() {
                    *place = out.len();
                    // A placeholder, replaced below.
                    out.push(PlanExpr::Const(false));
                }
                tests.push(related);
            }
            (item, _) => out.push(item),
        }
    }
    let mut places = Vec::with_capacity(gathered.len());
    for (place, tests) in gathered {
        if let Some(link) = tests.first().map(|test| test.link.clone()) {
            out[place] = PlanExpr::Related(merged(link, tests));
            places.push(place);
        }
    }
    (out, places)
}
