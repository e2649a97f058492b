//! Flattening: `a and (b and c)` → `a and b and c` (likewise `or`), and a
//! list of one item → the item.

use crate::optimize::{Rule, Transformed};
use crate::plan::PlanExpr;

/// Splices nested lists of the same kind into their parent and unwraps
/// single-item lists.
pub struct Flatten;

impl Rule for Flatten {
    fn name(&self) -> &'static str {
        "flatten"
    }

    /// A list of one item, or one holding a list of its own kind.
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        match expr {
            PlanExpr::And(items) => {
                items.len() == 1 || items.iter().any(|i| matches!(i, PlanExpr::And(_)))
            }
            PlanExpr::Or(items) => {
                items.len() == 1 || items.iter().any(|i| matches!(i, PlanExpr::Or(_)))
            }
            _ => false,
        }
    }

    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        match expr {
            PlanExpr::And(items) => flatten(items, true),
            PlanExpr::Or(items) => flatten(items, false),
            other => Transformed::no(other),
        }
    }
}

fn flatten(items: Vec<PlanExpr>, is_and: bool) -> Transformed {
    let same_kind = |e: &PlanExpr| match e {
        PlanExpr::And(_) => is_and,
        PlanExpr::Or(_) => !is_and,
        _ => false,
    };
    let rebuild = if is_and { PlanExpr::And } else { PlanExpr::Or };
    let mut changed = false;
    let mut items = items;
    if items.iter().any(same_kind) {
        changed = true;
        let mut flat = Vec::with_capacity(items.len());
        for item in items {
            match item {
                PlanExpr::And(inner) if is_and => flat.extend(inner),
                PlanExpr::Or(inner) if !is_and => flat.extend(inner),
                other => flat.push(other),
            }
        }
        items = flat;
    }
    if items.len() == 1 {
        if let Some(only) = items.pop() {
            return Transformed::yes(only);
        }
    }
    Transformed::new(rebuild(items), changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;

    #[test]
    fn splices_same_kind_only() {
        let input = and(vec![
            flag("a"),
            and(vec![flag("b"), flag("c")]),
            or(vec![flag("d"), flag("e")]),
        ]);
        let expected = and(vec![
            flag("a"),
            flag("b"),
            flag("c"),
            or(vec![flag("d"), flag("e")]),
        ]);
        assert_eq!(rewrite(&Flatten, input), (expected.clone(), true));
        assert_eq!(rewrite(&Flatten, expected.clone()), (expected, false));
        let input = or(vec![or(vec![flag("a")]), flag("b")]);
        assert_eq!(
            rewrite(&Flatten, input),
            (or(vec![flag("a"), flag("b")]), true)
        );
    }

    #[test]
    fn unwraps_single_items() {
        assert_eq!(rewrite(&Flatten, and(vec![flag("a")])), (flag("a"), true));
        assert_eq!(rewrite(&Flatten, or(vec![flag("a")])), (flag("a"), true));
        assert_eq!(rewrite(&Flatten, or(vec![])), (or(vec![]), false));
    }
}
