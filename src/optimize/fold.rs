//! A bottom-up fold over [`PlanExpr`] trees that never recurses.
//!
//! Plans may be [`MAX_PLAN_DEPTH`](crate::error::limits::MAX_PLAN_DEPTH)
//! levels deep, and a recursive walk of that depth can exhaust a small thread
//! stack in a debug build. [`Fold::fold_expr`] therefore keeps its own stack
//! of pending work on the heap: each node is rebuilt after its children have
//! been folded, through one overridable method per node kind.

use crate::check::plan::{FieldTest, Link, PlanExpr, Quantifier, Related};

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

    /// Fold a whole tree, children first. Iterative: the depth of the tree
    /// costs heap, not stack.
    fn fold_expr(&mut self, expr: PlanExpr) -> PlanExpr {
        walk(self, expr)
    }
}

/// Pending work of the iterative walk.
enum Task {
    /// Fold this subtree.
    Visit(PlanExpr),
    /// Its child is folded (on top of the output stack): rebuild a `Not`.
    Not,
    /// Rebuild an `And` from the top `n` folded items.
    And(usize),
    /// Rebuild an `Or` from the top `n` folded items.
    Or(usize),
    /// Rebuild a `Related` around the folded filter.
    Related(Link, Quantifier),
}

fn walk<F: Fold + ?Sized>(folder: &mut F, root: PlanExpr) -> PlanExpr {
    let mut tasks = vec![Task::Visit(root)];
    let mut done: Vec<PlanExpr> = Vec::new();
    while let Some(task) = tasks.pop() {
        match task {
            Task::Visit(expr) => match expr {
                PlanExpr::Const(value) => done.push(folder.fold_const(value)),
                PlanExpr::Field(test) => done.push(folder.fold_field(test)),
                PlanExpr::Not(inner) => {
                    tasks.push(Task::Not);
                    tasks.push(Task::Visit(*inner));
                }
                PlanExpr::And(items) => {
                    tasks.push(Task::And(items.len()));
                    // Reversed, so the first item is folded first and the
                    // folded items land on `done` in their original order.
                    tasks.extend(items.into_iter().rev().map(Task::Visit));
                }
                PlanExpr::Or(items) => {
                    tasks.push(Task::Or(items.len()));
                    tasks.extend(items.into_iter().rev().map(Task::Visit));
                }
                PlanExpr::Related(related) => {
                    tasks.push(Task::Related(related.link, related.quantifier));
                    tasks.push(Task::Visit(*related.filter));
                }
            },
            Task::Not => {
                let inner = pop(&mut done);
                done.push(folder.fold_not(inner));
            }
            Task::And(n) => {
                let items = done.split_off(done.len() - n);
                done.push(folder.fold_and(items));
            }
            Task::Or(n) => {
                let items = done.split_off(done.len() - n);
                done.push(folder.fold_or(items));
            }
            Task::Related(link, quantifier) => {
                let filter = Box::new(pop(&mut done));
                done.push(folder.fold_related(Related {
                    link,
                    quantifier,
                    filter,
                }));
            }
        }
    }
    pop(&mut done)
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
    use crate::check::plan::Direction;

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

    #[test]
    fn empty_and_or_survive() {
        let mut flip = Flip { nodes: 0 };
        let out = flip.fold_expr(PlanExpr::Or(vec![PlanExpr::And(vec![])]));
        assert_eq!(out, PlanExpr::Or(vec![PlanExpr::And(vec![])]));
    }
}
