//! The size and depth of a plan, measured without recursion.
//!
//! The checker refuses plans beyond the limits of
//! [`error::limits`](crate::error::limits), the optimizer keeps its result
//! within them and the SQL generator picks its stack by depth: all before a
//! stage that recurses once per level, so the measuring itself keeps its
//! pending nodes on the heap.

use super::PlanExpr;

/// How big a plan expression is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measure {
    /// Every node, leaves included.
    pub nodes: usize,
    /// The nodes on the longest path from the root (a lone leaf is 1).
    pub depth: usize,
}

/// The node count and depth of `expr`.
pub fn measure(expr: &PlanExpr) -> Measure {
    let mut nodes = 0;
    let mut deepest = 0;
    let mut stack = vec![(expr, 1usize)];
    while let Some((node, level)) = stack.pop() {
        nodes += 1;
        deepest = deepest.max(level);
        match node {
            PlanExpr::Not(inner) => stack.push((inner, level + 1)),
            // Not a node of its own: its filter takes its place, as when
            // the segment is inlined.
            PlanExpr::Segment(segment) => {
                nodes -= 1;
                stack.push((&segment.filter, level));
            }
            PlanExpr::And(items) | PlanExpr::Or(items) => {
                stack.extend(items.iter().map(|item| (item, level + 1)));
            }
            PlanExpr::Related(related) => stack.push((&related.filter, level + 1)),
            // Hop `i`'s filter sits as deep as in `has h0(has h1(...))`.
            PlanExpr::Aggregate(test) => {
                let hops = test.aggregate.chain.iter().enumerate();
                stack.extend(hops.map(|(i, hop)| (&hop.filter, level + 1 + i)));
            }
            PlanExpr::Const(_) | PlanExpr::Field(_) => {}
        }
    }
    Measure {
        nodes,
        depth: deepest,
    }
}

/// The depth of `expr`: [`measure`]'s, on its own.
pub fn depth(expr: &PlanExpr) -> usize {
    measure(expr).depth
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_node_and_the_longest_path() {
        let leaf = PlanExpr::Const(true);
        assert_eq!(measure(&leaf), Measure { nodes: 1, depth: 1 });
        let expr = PlanExpr::And(vec![
            PlanExpr::Not(Box::new(PlanExpr::Or(vec![leaf.clone()]))),
            leaf,
            PlanExpr::Or(Vec::new()),
        ]);
        assert_eq!(measure(&expr), Measure { nodes: 6, depth: 4 });
    }

    #[test]
    fn deep_plans_measure_on_a_small_stack() {
        let deep = (0..100_000).fold(PlanExpr::Const(true), |inner, _| {
            PlanExpr::Not(Box::new(inner))
        });
        assert_eq!(depth(&deep), 100_001);
        // Dropping a deep box chain recurses; keep it out of the test's stack.
        std::mem::forget(deep);
    }
}
