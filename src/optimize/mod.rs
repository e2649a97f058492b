//! Plan to simpler plan: a set of small rewrite rules applied bottom-up to a
//! fixed point.
//!
//! Each rule (one per file under `rules/`) rewrites a single node whose
//! children are already simplified. A pass first pushes every negation down
//! in one top-down walk (`nnf.rs`), then folds the tree bottom-up with every
//! rule at every node; passes repeat until one changes nothing or
//! [`MAX_PASSES`] is reached. Nothing recurses over the plan, so plans as
//! deep as the checker allows optimize on a small stack.
//!
//! Every rule keeps the plan's meaning under SPEC §2.3's two-valued logic —
//! which allows rewrites SQL's three-valued logic would not, but not all of
//! them: `not (a < 5)` is *not* `a >= 5`, because a NULL `a` satisfies the
//! former. Literals are compared only when every back end would order them
//! alike (see [`values`]).
//!
//! The rules: constant folding, pushing `not` inward, flattening, quantifier
//! normal forms, single-test clean-ups, duplicate removal, complements
//! (`a and not a`), absorption, merging the tests of one field in an `and`
//! or an `or` (contradictions, ranges, `in` lists), and merging relationship
//! tests over one link.

mod fold;
mod nnf;
pub mod rules;
pub mod values;

use serde::Serialize;

use crate::check::plan::{Plan, PlanExpr};
use crate::error::limits::MAX_PLAN_DEPTH;

pub use fold::Fold;

/// The most passes over the whole plan. Each pass brings every node to a
/// local fixed point; later passes only pick up what a rewrite exposed higher
/// up, so simple plans settle in two or three.
pub const MAX_PASSES: usize = 16;

/// The most times the rules are run over one node within one pass: a guard
/// against two rules undoing each other forever.
const MAX_NODE_ROUNDS: usize = 32;

/// One rewrite rule. It looks at one node — whose children are already
/// simplified — and returns the node, rewritten or not, and whether it
/// changed anything.
pub trait Rule: Sync {
    /// A short stable name, shown by `segql explain`.
    fn name(&self) -> &'static str;
    /// Rewrite `expr` into an equivalent expression; `true` if it changed.
    fn rewrite(&self, expr: PlanExpr) -> (PlanExpr, bool);
}

/// A rule that changed a node: the node before and after.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Firing {
    pub rule: &'static str,
    pub before: PlanExpr,
    pub after: PlanExpr,
}

/// Every name a [`Firing`] can carry: the negation-normal-form walk the
/// driver runs before each pass, then each rule of [`rules::ALL`] in the
/// order the driver tries them. Tests use it to demand that every rule is
/// exercised.
pub fn rule_names() -> Vec<&'static str> {
    std::iter::once(nnf::NAME)
        .chain(rules::ALL.iter().map(|rule| rule.name()))
        .collect()
}

/// Simplify a plan. The result selects the same records for every data set
/// and reference time.
pub fn optimize(plan: Plan) -> Plan {
    run(plan, None)
}

/// [`optimize`], also returning every rule firing in order.
pub fn optimize_traced(plan: Plan) -> (Plan, Vec<Firing>) {
    let mut firings = Vec::new();
    let plan = run(plan, Some(&mut firings));
    (plan, firings)
}

fn run(plan: Plan, mut trace: Option<&mut Vec<Firing>>) -> Plan {
    let depth_before = depth(&plan.filter);
    // Kept only for the rare plan the rules could push past the depth limit.
    let original = (depth_before + 2 > MAX_PLAN_DEPTH).then(|| plan.filter.clone());
    let mut driver = Driver {
        rules: rules::ALL,
        trace: trace.as_deref_mut(),
        changed: false,
    };
    let mut filter = plan.filter;
    for _ in 0..MAX_PASSES {
        // The walk may move many negations at once: its firing shows the
        // whole plan.
        let before = driver.trace.as_ref().map(|_| filter.clone());
        let (normal, moved) = nnf::negation_normal_form(filter);
        if let (true, Some(trace), Some(before)) = (moved, driver.trace.as_deref_mut(), before) {
            trace.push(Firing {
                rule: nnf::NAME,
                before,
                after: normal.clone(),
            });
        }
        driver.changed = moved;
        filter = driver.fold_expr(normal);
        if !driver.changed {
            break;
        }
    }
    // A few rules can add a level (`has no P(a) or has P(b)` becomes `has
    // no P(not b and a)`, whose `not` may settle on a leaf). Every back end
    // relies on the depth limit the checker enforced, so a plan the rules
    // pushed over it is returned as it came.
    if let Some(original) = original {
        if depth(&filter) > MAX_PLAN_DEPTH.max(depth_before) {
            if let Some(trace) = trace {
                trace.clear();
            }
            filter = original;
        }
    }
    Plan {
        entity: plan.entity,
        filter,
    }
}

/// The number of nodes on the longest path from the root, without recursion.
pub fn depth(expr: &PlanExpr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(expr, 1)];
    while let Some((node, level)) = stack.pop() {
        deepest = deepest.max(level);
        match node {
            PlanExpr::Not(inner) => stack.push((inner, level + 1)),
            PlanExpr::And(items) | PlanExpr::Or(items) => {
                stack.extend(items.iter().map(|item| (item, level + 1)));
            }
            PlanExpr::Related(related) => stack.push((&related.filter, level + 1)),
            PlanExpr::Const(_) | PlanExpr::Field(_) => {}
        }
    }
    deepest
}

/// Applies every rule at every node of one pass.
struct Driver<'a> {
    rules: &'a [&'a dyn Rule],
    trace: Option<&'a mut Vec<Firing>>,
    changed: bool,
}

impl Fold for Driver<'_> {
    fn fold_node(&mut self, mut expr: PlanExpr) -> PlanExpr {
        // Tracing needs each firing's node before the rule: one copy of the
        // node on arrival, then the copy of each result stands in for the
        // next firing's "before". Plain optimization copies nothing.
        let mut snapshot = self.trace.as_ref().map(|_| expr.clone());
        for _ in 0..MAX_NODE_ROUNDS {
            let mut round_changed = false;
            for rule in self.rules {
                let (after, changed) = rule.rewrite(expr);
                if changed {
                    round_changed = true;
                    if let (Some(trace), Some(before)) =
                        (self.trace.as_deref_mut(), snapshot.take())
                    {
                        snapshot = Some(after.clone());
                        trace.push(Firing {
                            rule: rule.name(),
                            before,
                            after: after.clone(),
                        });
                    }
                }
                expr = after;
            }
            if !round_changed {
                break;
            }
            self.changed = true;
        }
        expr
    }
}
