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

/// Whether `expr` is at least `levels` deep, as [`depth`] counts (a lone
/// leaf is 1 deep, a segment reference no level of its own). [`measure`]
/// walks the whole plan keeping every pending node in a list; this
/// recurses at most `levels` deep and stops at the first path that long.
/// The SQL stage picks its stack with it: measuring was a twentieth of
/// that stage on a segment of 10,000 nodes. Kept beside [`measure`], so
/// the two count levels by the same rules.
pub(crate) fn reaches_depth(mut expr: &PlanExpr, levels: usize) -> bool {
    if levels <= 1 {
        return true;
    }
    // A chain of segment references, however long, is no level: a loop.
    while let PlanExpr::Segment(segment) = expr {
        expr = &segment.filter;
    }
    let below = levels - 1;
    match expr {
        PlanExpr::Not(inner) => reaches_depth(inner, below),
        PlanExpr::And(items) | PlanExpr::Or(items) => {
            items.iter().any(|item| reaches_depth(item, below))
        }
        PlanExpr::Related(related) => reaches_depth(&related.filter, below),
        // Hop `i`'s filter sits `1 + i` levels down.
        PlanExpr::Aggregate(test) => (test.aggregate.chain.iter().enumerate())
            .any(|(i, hop)| reaches_depth(&hop.filter, below.saturating_sub(i))),
        PlanExpr::Const(_) | PlanExpr::Field(_) | PlanExpr::Segment(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{
        Aggregate, AggregateFn, AggregateTest, Direction, Hop, Link, Quantifier, Related,
        SegmentRef, Test,
    };

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

    fn link() -> Link {
        Link {
            relationship: "r".into(),
            direction: Direction::ToChildren,
            from: "a".into(),
            to: "b".into(),
        }
    }

    /// A plan of every kind of node, `seed` picking the shape, at most
    /// `levels` deep along each path.
    fn shape(seed: u64, levels: usize) -> PlanExpr {
        let next = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if levels <= 1 {
            return PlanExpr::Const(true);
        }
        let inner = |k: u64| shape(next ^ k, levels - 1 - (next as usize >> 7 & 1));
        match next >> 60 & 7 {
            0 => PlanExpr::Not(Box::new(inner(1))),
            1 => PlanExpr::And(vec![inner(1), PlanExpr::Const(false), inner(2)]),
            2 => PlanExpr::Or(vec![inner(3)]),
            3 => PlanExpr::Segment(SegmentRef {
                name: "s".into(),
                filter: Box::new(shape(next, levels)),
            }),
            4 => PlanExpr::Related(Related {
                link: link(),
                quantifier: Quantifier::Any,
                filter: Box::new(inner(4)),
            }),
            5 => PlanExpr::aggregate(AggregateTest {
                aggregate: Aggregate {
                    function: AggregateFn::Count,
                    chain: (0..3)
                        .map(|i| Hop {
                            link: link(),
                            filter: shape(next ^ i, levels.saturating_sub(1 + i as usize)),
                        })
                        .collect(),
                    field: None,
                },
                test: Test::IsNotNull,
            }),
            _ => PlanExpr::Const(false),
        }
    }

    #[test]
    fn the_bounded_depth_check_agrees_with_the_plan_depth() {
        for seed in 0..2_000 {
            let plan = shape(seed, 1 + (seed % 40) as usize);
            let deep = depth(&plan);
            for levels in [1, 2, 3, deep - 1, deep, deep + 1, 32] {
                assert_eq!(
                    reaches_depth(&plan, levels),
                    deep >= levels,
                    "seed {seed}, {levels} levels, depth {deep}: {plan:?}"
                );
            }
        }
        // A long chain of segment references is no level, and no recursion.
        let mut chain = PlanExpr::Not(Box::new(PlanExpr::Const(true)));
        for _ in 0..100_000 {
            chain = PlanExpr::Segment(SegmentRef {
                name: "s".into(),
                filter: Box::new(chain),
            });
        }
        assert!(reaches_depth(&chain, 2) && !reaches_depth(&chain, 3));
        // (Dropped on a big stack: dropping recurses.)
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || drop(chain))
            .unwrap()
            .join()
            .unwrap();
    }
}
