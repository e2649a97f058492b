//! Plan to simpler plan: a set of small rewrite rules applied bottom-up to a
//! fixed point.
//!
//! Each rule (one per file under `rules/`) rewrites a single node whose
//! children are already simplified. The driver folds the tree bottom-up
//! once, pushing every negation down on the way (`nnf.rs`) and running the
//! rules at every node until none applies. A few rules build new nodes under
//! the one they rewrite (`has P(a) and has P(b)` → `has P(a and b)`: the
//! `and` is new); they say which ([`Transformed::built`]). Once the rules
//! are done with the node, the fold simplifies those new nodes and brings
//! the node back to the rules. So every node the fold hands upwards is at
//! its fixed point, and one walk settles the plan: time grows with the
//! plan's size, not with how deep rewrites cascade. Nothing recurses over
//! the plan, so plans as deep as the checker allows optimize on a small
//! stack.
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

mod fingerprint;
mod nnf;
pub mod rules;
pub mod values;

use std::sync::OnceLock;

use serde::Serialize;

use crate::error::limits::MAX_PLAN_DEPTH;
use crate::optimize::rules::Kind;
use crate::plan::{
    child_count, depth, fold_in_place_normalizing, measure, FoldInPlace, NewNodes, Plan, PlanExpr,
};

/// The most times the rules are run over one node before the fold moves on:
/// a guard against two rules undoing each other forever.
const MAX_NODE_ROUNDS: usize = 32;

/// The most rule firings per node of the input, over the whole walk: the
/// same guard for rules whose new nodes bring the node back to the rules.
/// Real plans stay far below one firing per node.
const MAX_FIRINGS_PER_NODE: usize = 32;

/// One rewrite rule. It looks at one node — whose children are already
/// simplified — and says what it did to it.
pub trait Rule: Sync {
    /// A short stable name, shown by `segql explain`.
    fn name(&self) -> &'static str;

    /// Whether the rule can rewrite a node like `expr` at all (most rules
    /// look at one or two kinds of node); where it says no, [`Rule::rewrite`]
    /// would return the node unchanged, and the driver does not call it.
    /// This saves moving every node through every rule: a plan's nodes are
    /// a few hundred bytes each, and those moves were a third of the
    /// optimizer's time. The default looks at every node.
    fn looks_at(&self, _expr: &PlanExpr) -> bool {
        true
    }

    /// Rewrite `expr` into an equivalent expression: the result, whether it
    /// changed, and which of its nodes the rewrite built below it (see
    /// [`Transformed::built`]).
    fn rewrite(&self, expr: PlanExpr) -> Transformed;
}

/// What a [`Rule`] did to a node, in the manner of DataFusion's
/// `Transformed`: the node, whether it changed, and the new nodes below it.
#[derive(Clone, Debug, PartialEq)]
pub struct Transformed {
    pub expr: PlanExpr,
    pub changed: bool,
    /// The nodes of `expr` that the rewrite built below it and no rule has
    /// seen yet (`not (a and b)` → `not a or not b`: both items are new).
    /// The driver simplifies them once the node's own rewrites are done,
    /// then runs the rules on the node again; a rule that leaves a new node
    /// unnamed leaves the plan short of its fixed point. A new `not` that
    /// can move down may go unnamed: the walk pushes it wherever it stands.
    /// Rules that only drop, reorder or splice simplified sub-expressions
    /// (none of which moves a node further down) name none.
    pub built: NewNodes,
}

impl Transformed {
    /// `expr`, unchanged.
    pub fn no(expr: PlanExpr) -> Self {
        Transformed::new(expr, false)
    }

    /// `expr`, changed without building new nodes below it.
    pub fn yes(expr: PlanExpr) -> Self {
        Transformed::new(expr, true)
    }

    /// `expr`, changed or not as `changed` says; nothing built below it.
    pub fn new(expr: PlanExpr, changed: bool) -> Self {
        Transformed {
            expr,
            changed,
            built: NewNodes::default(),
        }
    }

    /// `expr`, changed, with the new nodes `built` below it.
    pub fn with_built(expr: PlanExpr, built: NewNodes) -> Self {
        Transformed {
            expr,
            changed: true,
            built,
        }
    }
}

/// A rule that changed a node: the node before and after.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Firing {
    pub rule: &'static str,
    pub before: PlanExpr,
    pub after: PlanExpr,
}

/// Every name a [`Firing`] can carry: the negation-normal-form walk (the
/// driver pushes negations down as it folds), then each rule of [`rules::ALL`] in the
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
    let size = measure(&plan.filter);
    let (nodes, depth_before) = (size.nodes, size.depth);
    // Kept only for the rare plan the rules could push past the depth limit.
    let original = (depth_before + 2 > MAX_PLAN_DEPTH).then(|| plan.filter.clone());
    let mut filter = plan.filter;
    if let Some(trace) = trace.as_deref_mut() {
        // The fold below pushes negations down as it goes; a trace shows
        // that first move on its own, for the whole plan at once.
        let before = filter.clone();
        let (normal, moved) = nnf::negation_normal_form(filter);
        if moved {
            trace.push(Firing {
                rule: nnf::NAME,
                before,
                after: normal.clone(),
            });
        }
        filter = normal;
    }
    let mut driver = Driver {
        rules: rules::ALL,
        algebra: Masks::of_all_rules(),
        trace: trace.as_deref_mut(),
        firings_left: MAX_FIRINGS_PER_NODE.saturating_mul(nodes),
        refold: None,
    };
    fold_in_place_normalizing(&mut driver, &mut filter);
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

/// Applies every rule at every node, in one bottom-up walk.
struct Driver<'a> {
    rules: &'a [&'a dyn Rule],
    /// What the driver may take for granted about `rules`.
    algebra: &'a Masks,
    trace: Option<&'a mut Vec<Firing>>,
    /// Firings allowed before the driver stops rewriting.
    firings_left: usize,
    /// New nodes under the node just returned, for the walk to fold.
    refold: Option<NewNodes>,
}

impl FoldInPlace for Driver<'_> {
    /// The node stays where it lies unless a rule looks at it: a rule
    /// takes and returns it by value.
    fn fold_in_place(&mut self, expr: &mut PlanExpr) {
        // Tracing needs each firing's node before the rule: one copy of the
        // node on arrival, then the copy of each result stands in for the
        // next firing's "before". Plain optimization copies nothing.
        let mut snapshot = self.trace.as_ref().map(|_| expr.clone());
        // The new nodes a rewrite of this node named, and whether another
        // rewrite has changed the node since. Until they are simplified, a
        // rewrite that would build more is held back (undone from a copy
        // of the node): it could move them where the names no longer point.
        // The others never move a node further down, so after them the
        // same levels under every child still reach all the new nodes.
        let mut built: Option<NewNodes> = None;
        let mut changed_since = false;
        // The rules known to leave the node as it now stands: those that
        // left it so, and those that [`Algebra`] says would. They are not
        // run again; once every rule is among them, the node is settled
        // without finishing the round.
        let mut settled = Settled::passing_over(expr, self.algebra);
        'rounds: for _ in 0..MAX_NODE_ROUNDS {
            let mut round_changed = false;
            for (index, rule) in self.rules.iter().enumerate() {
                if self.firings_left == 0 {
                    break 'rounds;
                }
                if settled.has(index) {
                    continue;
                }
                let done = self.apply(*rule, expr, built.is_some());
                let Some(done) = done else {
                    settled.add(index);
                    if settled.is_all(self.algebra) {
                        break 'rounds;
                    }
                    continue;
                };
                settled = settled.after_change(index, expr, self.algebra);
                self.firings_left -= 1;
                round_changed = true;
                if let (Some(trace), Some(before)) = (self.trace.as_deref_mut(), snapshot.take()) {
                    snapshot = Some(expr.clone());
                    trace.push(Firing {
                        rule: rule.name(),
                        before,
                        after: expr.clone(),
                    });
                }
                if done.children.is_empty() {
                    changed_since |= built.is_some();
                } else {
                    built = Some(done);
                }
            }
            if !round_changed {
                break;
            }
        }
        if let Some(new) = built {
            let new = if changed_since {
                NewNodes::all(child_count(expr), new.levels)
            } else {
                new
            };
            self.refold_new(expr, new);
        }
    }

    fn refold(&mut self) -> Option<NewNodes> {
        self.refold.take()
    }
}

impl Driver<'_> {
    /// Runs `rule` on `expr`: the new nodes it built below the node
    /// (none: an empty list) if it changed it, `None` if it left it as it
    /// was. While `holding` (new nodes from an earlier rewrite are yet to
    /// be simplified), a rewrite that would build more is undone from a
    /// copy of the node and counts as no change.
    fn apply(&mut self, rule: &dyn Rule, expr: &mut PlanExpr, holding: bool) -> Option<NewNodes> {
        if !rule.looks_at(expr) {
            return None;
        }
        let held = holding.then(|| expr.clone());
        let done = rule.rewrite(std::mem::replace(expr, PlanExpr::Const(false)));
        let builds = !done.built.children.is_empty();
        if let (Some(before), true) = (held, builds) {
            *expr = before;
            return None;
        }
        *expr = done.expr;
        done.changed.then_some(done.built)
    }

    /// Has the walk simplify the new nodes under `expr` (pushing their
    /// negations down on the way), then bring `expr` back to the rules. A
    /// trace shows that push on its own, as at the start; the walk still
    /// makes it, so that it folds every node the push rebuilds.
    fn refold_new(&mut self, expr: &PlanExpr, new: NewNodes) {
        if let Some(trace) = self.trace.as_deref_mut() {
            let (normal, moved) = nnf::negation_normal_form(expr.clone());
            if moved {
                trace.push(Firing {
                    rule: nnf::NAME,
                    before: expr.clone(),
                    after: normal,
                });
            }
        }
        self.refold = Some(new);
    }
}

/// The rules of [`rules::ALL`] with each [`Algebra`] fact, as bit masks by
/// their place in the list.
struct Masks {
    drops_items: u64,
    ignores_drops: u64,
    idempotent: u64,
    /// By [`Kind::index`]: the rules that look at nodes of that kind.
    looking_at: [u64; Kind::ALL.len()],
    /// Every rule: `None` when there are too many for the masks, and the
    /// driver then runs every rule in every round.
    all: Option<u64>,
}

impl Masks {
    /// The masks of [`rules::ALL`], worked out once.
    fn of_all_rules() -> &'static Masks {
        static MASKS: OnceLock<Masks> = OnceLock::new();
        MASKS.get_or_init(|| Masks::of(rules::ALL))
    }

    fn of(rules: &[&dyn Rule]) -> Masks {
        let mut masks = Masks {
            drops_items: 0,
            ignores_drops: 0,
            idempotent: 0,
            looking_at: [0; Kind::ALL.len()],
            all: (rules.len() <= 64).then(|| Settled::below(rules.len())),
        };
        if masks.all.is_none() {
            return masks;
        }
        for (index, rule) in rules.iter().enumerate() {
            let facts = rules::algebra(rule.name());
            let bit = 1 << index;
            masks.drops_items |= if facts.drops_items { bit } else { 0 };
            masks.ignores_drops |= if facts.ignores_drops { bit } else { 0 };
            masks.idempotent |= if facts.idempotent { bit } else { 0 };
            for kind in Kind::ALL {
                if facts.looks_at.contains(kind) {
                    masks.looking_at[kind.index()] |= bit;
                }
            }
        }
        masks
    }
}

/// The rules known to leave a node unchanged, by their place in the list.
#[derive(Clone, Copy, Default)]
struct Settled(u64);

impl Settled {
    fn bit(index: usize) -> u64 {
        1u64.checked_shl(u32::try_from(index).unwrap_or(u32::MAX))
            .unwrap_or(0)
    }

    /// The bits of the first `count` rules.
    fn below(count: usize) -> u64 {
        Settled::bit(count).wrapping_sub(1)
    }

    fn has(self, index: usize) -> bool {
        self.0 & Settled::bit(index) != 0
    }

    fn add(&mut self, index: usize) {
        self.0 |= Settled::bit(index);
    }

    fn is_all(self, masks: &Masks) -> bool {
        masks.all == Some(self.0)
    }

    /// The rules that do not look at nodes of `expr`'s kind at all.
    fn passing_over(expr: &PlanExpr, masks: &Masks) -> Settled {
        let all = masks.all.unwrap_or(0);
        Settled(all & !masks.looking_at[Kind::of(expr).index()])
    }

    /// The rules known to leave `expr` unchanged, now that the rule at
    /// `index` has made it: those that ignore the items it dropped, if it
    /// only dropped items of a list, itself if it is idempotent, and those
    /// that do not look at its kind.
    fn after_change(self, index: usize, expr: &PlanExpr, masks: &Masks) -> Settled {
        let bit = Settled::bit(index);
        let still_a_list =
            matches!(expr, PlanExpr::And(items) | PlanExpr::Or(items) if items.len() >= 2);
        let kept = if masks.drops_items & bit != 0 && still_a_list {
            self.0 & masks.ignores_drops
        } else {
            0
        };
        let passed_over = Settled::passing_over(expr, masks).0;
        Settled(kept | (masks.idempotent & bit) | passed_over)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::{Direction, Quantifier};

    fn plan(filter: PlanExpr) -> Plan {
        Plan {
            entity: "e".into(),
            filter,
        }
    }

    /// `has up(has up(... leaf))`, `levels` deep.
    fn tower(levels: usize, leaf: PlanExpr) -> PlanExpr {
        let up = link("up", Direction::ToParent);
        (0..levels).fold(leaf, |inner, _| has(&up, Quantifier::Any, inner))
    }

    #[test]
    fn cascading_merges_settle_in_one_walk() {
        // Each merge of two parents builds the next one below: forty in a
        // row. A walk per level would take forty walks (the driver once
        // stopped at sixteen, short of the fixed point).
        let input = and(vec![tower(40, flag("a")), tower(40, flag("b"))]);
        let (out, firings) = optimize_traced(plan(input));
        let expected = tower(40, and(vec![flag("a"), flag("b")]));
        assert_eq!(out.filter, expected);
        let merges = firings.iter().filter(|f| f.rule == "merge_parent").count();
        assert_eq!(merges, 40);
        assert_eq!(optimize(out.clone()), out);
    }

    /// The rules run at one node round after round until a round changes
    /// nothing, each on every round: what the driver does at a node,
    /// without taking any rule's answer for granted. The rule names are
    /// the firings, in order.
    fn every_rule_every_round(mut expr: PlanExpr) -> (PlanExpr, Vec<&'static str>) {
        let mut fired = Vec::new();
        let mut built = false;
        for _ in 0..MAX_NODE_ROUNDS {
            let mut changed = false;
            for rule in rules::ALL {
                if !rule.looks_at(&expr) {
                    continue;
                }
                let done = rule.rewrite(expr.clone());
                let builds = !done.built.children.is_empty();
                if !done.changed || (built && builds) {
                    continue;
                }
                expr = done.expr;
                fired.push(rule.name());
                changed = true;
                built |= builds;
            }
            if !changed {
                break;
            }
        }
        (expr, fired)
    }

    #[test]
    fn skipping_the_rules_that_leave_a_node_unchanged_changes_nothing() {
        use crate::optimize::rules::tests::{every_kind, lists_losing_items, near_misses};
        let samples = every_kind()
            .into_iter()
            .chain(near_misses())
            .chain(lists_losing_items());
        for sample in samples {
            let mut firings = Vec::new();
            let mut driver = Driver {
                rules: rules::ALL,
                algebra: Masks::of_all_rules(),
                trace: Some(&mut firings),
                firings_left: usize::MAX,
                refold: None,
            };
            let mut expr = sample.clone();
            driver.fold_in_place(&mut expr);
            let fired: Vec<&str> = firings.iter().map(|firing| firing.rule).collect();
            assert_eq!((expr, fired), every_rule_every_round(sample));
        }
    }
}
