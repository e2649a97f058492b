//! A bottom-up fold over [`PlanExpr`] trees that never recurses.
//!
//! Plans may be [`MAX_PLAN_DEPTH`](crate::error::limits::MAX_PLAN_DEPTH)
//! levels deep, and a recursive walk of that depth can exhaust a small thread
//! stack in a debug build. [`Fold::fold_expr`] therefore keeps its own stack
//! of pending work on the heap: each node is rebuilt after its children have
//! been folded, through one overridable method per node kind.
//!
//! A fold that builds new nodes under a node it rewrites can ask, through
//! [`Fold::refold`], for those nodes to be folded and the node to be rebuilt
//! again; everything else is taken as it is. The new structure is then
//! folded in the same walk, without a second walk over the whole plan.

use super::{AggregateTest, FieldTest, Link, PlanExpr, Quantifier, Related, SegmentRef};

/// A rewrite of a plan expression, applied bottom-up: every `fold_*` method
/// receives a node whose children are already folded.
///
/// The defaults rebuild the node unchanged and hand it to [`Fold::fold_node`],
/// so an implementor that treats every node alike overrides only `fold_node`,
/// while one that cares about a single kind overrides only its method.
pub trait Fold {
    /// Called with every rebuilt node by the default `fold_*` methods.
    fn fold_node(&mut self, expr: PlanExpr) -> PlanExpr {
        expr
    }

    /// A constant.
    fn fold_const(&mut self, value: bool) -> PlanExpr {
        self.fold_node(PlanExpr::Const(value))
    }

    /// A field test.
    fn fold_field(&mut self, test: FieldTest) -> PlanExpr {
        self.fold_node(PlanExpr::Field(test))
    }

    /// A `not` around its folded operand.
    fn fold_not(&mut self, inner: PlanExpr) -> PlanExpr {
        self.fold_node(PlanExpr::Not(Box::new(inner)))
    }

    /// An `and` of folded items.
    fn fold_and(&mut self, items: Vec<PlanExpr>) -> PlanExpr {
        self.fold_node(PlanExpr::And(items))
    }

    /// An `or` of folded items.
    fn fold_or(&mut self, items: Vec<PlanExpr>) -> PlanExpr {
        self.fold_node(PlanExpr::Or(items))
    }

    /// A relationship test around its folded filter.
    fn fold_related(&mut self, related: Related) -> PlanExpr {
        self.fold_node(PlanExpr::Related(related))
    }

    /// An aggregate test around its hops' folded filters.
    fn fold_aggregate(&mut self, test: AggregateTest) -> PlanExpr {
        self.fold_node(PlanExpr::Aggregate(test))
    }

    /// An `in NAME` node around its folded filter. The walk goes into the
    /// filter like any child, but a `not` stays above the node.
    fn fold_segment(&mut self, segment: SegmentRef) -> PlanExpr {
        self.fold_node(PlanExpr::Segment(segment))
    }

    /// Asked after every `fold_*` call: `Some(new)` to fold the nodes
    /// `new` names under the node that call returned, then rebuild that node
    /// again through its `fold_*` method. The default never asks.
    fn refold(&mut self) -> Option<NewNodes> {
        None
    }

    /// Fold a whole tree, children first. Iterative: the depth of the tree
    /// costs heap, not stack.
    fn fold_expr(&mut self, expr: PlanExpr) -> PlanExpr {
        walk(self, expr, false).0
    }
}

/// Fold a whole tree as [`Fold::fold_expr`] does, pushing every `not` down
/// on the way to negation normal form (the optimizer's first move): each
/// node is handed to the folder as it stands after the push. Also says
/// whether a negation moved.
pub(crate) fn fold_normalizing<F: Fold + ?Sized>(
    folder: &mut F,
    expr: PlanExpr,
) -> (PlanExpr, bool) {
    walk(folder, expr, true)
}

/// The new nodes under a node: its children at `children` (item indices of
/// a list; 0 for the operand of a `not` or the filter of a relationship
/// test, the hop's index for an aggregate's filters), each down to `levels` levels (1: the child itself, 2: also its
/// children, ...). Nodes below them are not new.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewNodes {
    pub children: Vec<usize>,
    pub levels: usize,
}

impl NewNodes {
    /// Every one of `count` children, down to `levels` levels.
    pub fn all(count: usize, levels: usize) -> Self {
        NewNodes {
            children: (0..count).collect(),
            levels,
        }
    }
}

/// What part of a subtree a walk folds.
enum Scope {
    /// All of it.
    All,
    /// Its top `n` levels (the node itself is level 1). At 0 a subtree that
    /// is not negated is kept as it is: folded already.
    Top(usize),
    /// The node itself and the new nodes under it.
    New(NewNodes),
}

impl Scope {
    /// The scope of the node's child at `index`.
    fn child(&self, index: usize) -> Scope {
        match self {
            Scope::All => Scope::All,
            Scope::Top(n) => Scope::Top(n.saturating_sub(1)),
            Scope::New(new) if new.children.contains(&index) => Scope::Top(new.levels),
            Scope::New(_) => Scope::Top(0),
        }
    }
}

/// Pending work of the iterative walk.
enum Task {
    /// Fold this subtree, negated if the flag is set, within the scope.
    Visit(PlanExpr, bool, Scope),
    /// Its child is folded (on top of the output stack): rebuild a `Not`.
    Not,
    /// Rebuild an `And` from the top `n` folded items.
    And(usize),
    /// Rebuild an `Or` from the top `n` folded items.
    Or(usize),
    /// Rebuild a `Related` around the folded filter.
    Related(Link, Quantifier),
    /// Put the top folded filters back into the aggregate's hops, in order
    /// (the filters it holds meanwhile are placeholders).
    Aggregate(AggregateTest),
    /// Rebuild an `in NAME` node around the folded filter.
    Segment(String),
}

/// The walk behind both folds; `push` moves negations down. Only a pushing
/// walk ever visits a subtree negated.
fn walk<F: Fold + ?Sized>(folder: &mut F, root: PlanExpr, push: bool) -> (PlanExpr, bool) {
    let mut moved = false;
    let mut tasks = vec![Task::Visit(root, false, Scope::All)];
    let mut done: Vec<PlanExpr> = Vec::new();
    while let Some(task) = tasks.pop() {
        let folded = match task {
            // Past the levels asked for, a subtree is folded already; but a
            // `not` that can move down is not where it belongs wherever it
            // stands, so a pushing walk takes it on.
            Task::Visit(expr, false, Scope::Top(0)) if !(push && movable_not(&expr)) => {
                done.push(expr);
                continue;
            }
            Task::Visit(expr, negated, scope) => {
                // Scopes follow where a node stood before a push: a pushed
                // negation never moves a node further down.
                match expr {
                    PlanExpr::Const(value) => {
                        moved |= negated;
                        folder.fold_const(value != negated)
                    }
                    PlanExpr::Field(test) if negated => {
                        tasks.push(Task::Not);
                        tasks.push(Task::Visit(PlanExpr::Field(test), false, scope));
                        continue;
                    }
                    PlanExpr::Field(test) => folder.fold_field(test),
                    // An aggregate's negation stays above it, as a field's.
                    PlanExpr::Aggregate(test) if negated => {
                        tasks.push(Task::Not);
                        tasks.push(Task::Visit(PlanExpr::Aggregate(test), false, scope));
                        continue;
                    }
                    PlanExpr::Aggregate(mut test) => {
                        let filters: Vec<PlanExpr> = test
                            .aggregate
                            .chain
                            .iter_mut()
                            .map(|hop| std::mem::replace(&mut hop.filter, PlanExpr::Const(true)))
                            .collect();
                        tasks.push(Task::Aggregate(test));
                        push_items(&mut tasks, filters, false, &scope);
                        continue;
                    }
                    // A negated `in NAME` keeps its `not` above it, so the
                    // node still stands for the segment.
                    PlanExpr::Segment(segment) if negated => {
                        tasks.push(Task::Not);
                        tasks.push(Task::Visit(PlanExpr::Segment(segment), false, scope));
                        continue;
                    }
                    PlanExpr::Segment(segment) => {
                        tasks.push(Task::Segment(segment.name));
                        tasks.push(Task::Visit(*segment.filter, false, scope.child(0)));
                        continue;
                    }
                    PlanExpr::Not(inner) => {
                        let stays = !push || keeps_not(&inner);
                        if stays && !negated {
                            tasks.push(Task::Not);
                            tasks.push(Task::Visit(*inner, false, scope.child(0)));
                        } else {
                            moved = true;
                            tasks.push(Task::Visit(*inner, !negated, scope.child(0)));
                        }
                        continue;
                    }
                    // An empty list turns into the other empty list: `not
                    // and()` = `not true` = `false` = `or()`.
                    PlanExpr::And(items) => {
                        moved |= negated;
                        tasks.push(if negated {
                            Task::Or(items.len())
                        } else {
                            Task::And(items.len())
                        });
                        push_items(&mut tasks, items, negated, &scope);
                        continue;
                    }
                    PlanExpr::Or(items) => {
                        moved |= negated;
                        tasks.push(if negated {
                            Task::And(items.len())
                        } else {
                            Task::Or(items.len())
                        });
                        push_items(&mut tasks, items, negated, &scope);
                        continue;
                    }
                    PlanExpr::Related(related) => {
                        let mut quantifier = related.quantifier;
                        if negated {
                            match quantifier.complement() {
                                Some(q) => {
                                    moved = true;
                                    quantifier = q;
                                }
                                None => tasks.push(Task::Not),
                            }
                        }
                        tasks.push(Task::Related(related.link, quantifier));
                        tasks.push(Task::Visit(*related.filter, false, scope.child(0)));
                        continue;
                    }
                }
            }
            Task::Not => {
                let inner = pop(&mut done);
                folder.fold_not(inner)
            }
            Task::And(n) => {
                let items = done.split_off(done.len() - n);
                folder.fold_and(items)
            }
            Task::Or(n) => {
                let items = done.split_off(done.len() - n);
                folder.fold_or(items)
            }
            Task::Related(link, quantifier) => {
                let filter = Box::new(pop(&mut done));
                folder.fold_related(Related {
                    link,
                    quantifier,
                    filter,
                })
            }
            Task::Segment(name) => {
                let filter = Box::new(pop(&mut done));
                folder.fold_segment(SegmentRef { name, filter })
            }
            Task::Aggregate(mut test) => {
                let filters = done.split_off(done.len() - test.aggregate.chain.len());
                for (hop, filter) in test.aggregate.chain.iter_mut().zip(filters) {
                    hop.filter = filter;
                }
                folder.fold_aggregate(test)
            }
        };
        match folder.refold() {
            Some(new) => tasks.push(Task::Visit(folded, false, Scope::New(new))),
            None => done.push(folded),
        }
    }
    (pop(&mut done), moved)
}

/// Whether a `not` stays over `inner` in negation normal form: over a field
/// or aggregate test, or a relationship test with no complementary quantifier.
fn keeps_not(inner: &PlanExpr) -> bool {
    match inner {
        PlanExpr::Field(_) | PlanExpr::Aggregate(_) | PlanExpr::Segment(_) => true,
        PlanExpr::Related(r) => r.quantifier.complement().is_none(),
        _ => false,
    }
}

/// Whether `expr` is a `not` that negation normal form moves down.
fn movable_not(expr: &PlanExpr) -> bool {
    matches!(expr, PlanExpr::Not(inner) if !keeps_not(inner))
}

/// Queue the items of a list. Reversed, so the first item is folded first
/// and the folded items land on `done` in their original order.
fn push_items(tasks: &mut Vec<Task>, items: Vec<PlanExpr>, negated: bool, scope: &Scope) {
    tasks.extend(
        items
            .into_iter()
            .enumerate()
            .rev()
            .map(|(index, item)| Task::Visit(item, negated, scope.child(index))),
    );
}

/// Every rebuild task is pushed after the visits of its children, so their
/// results are on the stack when it runs.
fn pop(done: &mut Vec<PlanExpr>) -> PlanExpr {
    done.pop()
        .expect("fold invariant: a folded child precedes its parent")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Direction;

    /// Counts nodes and turns every constant around: exercises both a
    /// `fold_node` hook and a per-kind override.
    struct Flip {
        nodes: usize,
    }

    impl Fold for Flip {
        fn fold_node(&mut self, expr: PlanExpr) -> PlanExpr {
            self.nodes += 1;
            expr
        }
        fn fold_const(&mut self, value: bool) -> PlanExpr {
            self.fold_node(PlanExpr::Const(!value))
        }
    }

    fn link() -> Link {
        Link {
            relationship: "r".into(),
            direction: Direction::ToChildren,
            from: "a".into(),
            to: "a".into(),
        }
    }

    #[test]
    fn rebuilds_children_in_order() {
        let expr = PlanExpr::And(vec![
            PlanExpr::Const(true),
            PlanExpr::Or(vec![PlanExpr::Const(false), PlanExpr::Const(true)]),
            PlanExpr::Not(Box::new(PlanExpr::Related(Related {
                link: link(),
                quantifier: Quantifier::Any,
                filter: Box::new(PlanExpr::Const(true)),
            }))),
        ]);
        let mut flip = Flip { nodes: 0 };
        let out = flip.fold_expr(expr);
        let expected = PlanExpr::And(vec![
            PlanExpr::Const(false),
            PlanExpr::Or(vec![PlanExpr::Const(true), PlanExpr::Const(false)]),
            PlanExpr::Not(Box::new(PlanExpr::Related(Related {
                link: link(),
                quantifier: Quantifier::Any,
                filter: Box::new(PlanExpr::Const(false)),
            }))),
        ]);
        assert_eq!(out, expected);
        assert_eq!(flip.nodes, 8);
    }

    /// Rewrites `true` into new structure, names its first item as new,
    /// down to `levels` levels, and records every node it is given.
    struct Expand {
        levels: usize,
        pending: Option<NewNodes>,
        seen: Vec<PlanExpr>,
    }

    impl Fold for Expand {
        fn fold_node(&mut self, expr: PlanExpr) -> PlanExpr {
            self.seen.push(expr.clone());
            if expr != PlanExpr::Const(true) {
                return expr;
            }
            self.pending = Some(NewNodes {
                children: vec![0],
                levels: self.levels,
            });
            PlanExpr::And(vec![
                PlanExpr::Or(vec![PlanExpr::Const(false)]),
                PlanExpr::Or(vec![PlanExpr::Const(false)]),
            ])
        }
        fn refold(&mut self) -> Option<NewNodes> {
            self.pending.take()
        }
    }

    #[test]
    fn refolds_the_new_nodes() {
        use PlanExpr::{And, Const, Or};
        let built = || And(vec![Or(vec![Const(false)]), Or(vec![Const(false)])]);
        let seen = |levels| {
            let mut expand = Expand {
                levels,
                pending: None,
                seen: Vec::new(),
            };
            let out = expand.fold_expr(Or(vec![Const(true)]));
            assert_eq!(out, Or(vec![built()]));
            expand.seen
        };
        // The new `and`, its first item and (at two levels) that item's
        // operand; never the second item.
        assert_eq!(
            seen(2),
            vec![
                Const(true),
                Const(false),
                Or(vec![Const(false)]),
                built(),
                Or(vec![built()]),
            ]
        );
        assert_eq!(
            seen(1),
            vec![
                Const(true),
                Or(vec![Const(false)]),
                built(),
                Or(vec![built()]),
            ]
        );
    }

    #[test]
    fn empty_and_or_survive() {
        let mut flip = Flip { nodes: 0 };
        let out = flip.fold_expr(PlanExpr::Or(vec![PlanExpr::And(vec![])]));
        assert_eq!(out, PlanExpr::Or(vec![PlanExpr::And(vec![])]));
    }
}
