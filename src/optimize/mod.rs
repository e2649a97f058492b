//! Plan to simpler plan: a set of small rewrite rules applied bottom-up to a
//! fixed point.
//!
//! Each rule (one per file under `rules/`) rewrites a single node whose
//! children are already simplified. The driver folds the tree with every rule
//! at every node, and repeats whole passes until a pass changes nothing or
//! [`MAX_PASSES`] is reached. Every rule keeps the plan's meaning under SPEC
//! §2.3's two-valued logic — which allows rewrites SQL's three-valued logic
//! would not, but not all of them: `not (a < 5)` is *not* `a >= 5`, because a
//! NULL `a` satisfies the former.

mod fold;
pub mod rules;
pub mod values;

use serde::Serialize;

use crate::check::plan::{Plan, PlanExpr};

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

fn run(plan: Plan, trace: Option<&mut Vec<Firing>>) -> Plan {
    let mut driver = Driver {
        rules: rules::ALL,
        trace,
        changed: false,
    };
    let mut filter = plan.filter;
    for _ in 0..MAX_PASSES {
        driver.changed = false;
        filter = driver.fold_expr(filter);
        if !driver.changed {
            break;
        }
    }
    Plan {
        entity: plan.entity,
        filter,
    }
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
