//! A bottom-up fold over [`PlanExpr`] trees that never recurses.
//!
//! Plans may be [`MAX_PLAN_DEPTH`](crate::error::limits::MAX_PLAN_DEPTH)
//! levels deep, and a recursive walk of that depth can exhaust a small thread
//! stack in a debug build. The walk therefore keeps its own stack of pending
//! work on the heap: each node is rewritten after its children have been.
//!
//! The walk rewrites the tree in place ([`FoldInPlace`], the optimizer's
//! driver): a leaf is handed over where it lies, and only a node with
//! children leaves its place while they are folded (a list keeps its items
//! where they are). Moving every node through a stack of tasks and back was
//! a tenth of the optimizer's time, in copies of nodes a few hundred bytes
//! long. [`Fold`], which takes and returns nodes by value, runs on the same
//! walk.
//!
//! A fold that builds new nodes under a node it rewrites can ask, through
//! [`Fold::refold`], for those nodes to be folded and the node to be rebuilt
//! again; everything else is taken as it is. The new structure is then
//! folded in the same walk, without a second walk over the whole plan.

use super::{AggregateTest, FieldTest, PlanExpr, Related, SegmentRef};

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
        self.fold_node(PlanExpr::aggregate(test))
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
        let mut expr = expr;
        walk(&mut ByValue(self), &mut expr, false);
        expr
    }
}

/// A bottom-up rewrite in place: [`Fold`] for a folder that leaves most
/// nodes as they are, and should not have to take and return each one.
pub(crate) trait FoldInPlace {
    /// Rewrite `expr`, whose children are folded already, where it lies.
    fn fold_in_place(&mut self, expr: &mut PlanExpr);

    /// As [`Fold::refold`], asked after every `fold_in_place`.
    fn refold(&mut self) -> Option<NewNodes>;
}

/// Fold a whole tree as [`Fold::fold_expr`] does, pushing every `not` down
/// on the way to negation normal form (the optimizer's first move): each
/// node is handed to the folder as it stands after the push. Also says
/// whether a negation moved.
pub(crate) fn fold_normalizing<F: Fold + ?Sized>(
    folder: &mut F,
    expr: PlanExpr,
) -> (PlanExpr, bool) {
    let mut expr = expr;
    let moved = walk(&mut ByValue(folder), &mut expr, true);
    (expr, moved)
}

/// [`fold_normalizing`] in place: `expr` is rewritten where it lies.
/// Says whether a negation moved.
pub(crate) fn fold_in_place_normalizing<F: FoldInPlace + ?Sized>(
    folder: &mut F,
    expr: &mut PlanExpr,
) -> bool {
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

/// A [`Fold`] seen as a [`FoldInPlace`]: each node is taken out, handed to
/// its `fold_*` method and the result put in its place.
struct ByValue<'f, F: ?Sized>(&'f mut F);

impl<F: Fold + ?Sized> FoldInPlace for ByValue<'_, F> {
    fn fold_in_place(&mut self, expr: &mut PlanExpr) {
        let folder = &mut *self.0;
        *expr = match take(expr) {
            PlanExpr::Const(value) => folder.fold_const(value),
            PlanExpr::Field(test) => folder.fold_field(test),
            PlanExpr::Not(inner) => folder.fold_not(*inner),
            PlanExpr::And(items) => folder.fold_and(items),
            PlanExpr::Or(items) => folder.fold_or(items),
            PlanExpr::Related(related) => folder.fold_related(related),
            PlanExpr::Aggregate(test) => folder.fold_aggregate(*test),
            PlanExpr::Segment(segment) => folder.fold_segment(segment),
        };
    }

    fn refold(&mut self) -> Option<NewNodes> {
        self.0.refold()
    }
}

/// What part of a subtree a walk folds.
#[derive(Clone)]
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

/// A node with children, taken out of its place while they are folded.
/// They are folded where they lie inside it, and it goes back to its
/// place to be folded itself.
struct Frame {
    node: PlanExpr,
    /// The next child to fold.
    next: usize,
    /// Whether the children are folded negated (a list under a pushed
    /// negation, turned into the other list).
    negated: bool,
    /// The node's own scope.
    scope: Scope,
    /// Whether the node is a `not` the walk put above a negated node that
    /// keeps it: its operand stands where the node stood, at its scope.
    wrapped: bool,
}

impl Frame {
    fn new(node: PlanExpr, negated: bool, scope: Scope) -> Self {
        Frame {
            node,
            next: 0,
            negated,
            scope,
            wrapped: false,
        }
    }

    /// A `not` above `node`, which keeps its scope.
    fn wrapping(node: PlanExpr, scope: Scope) -> Self {
        Frame {
            wrapped: true,
            ..Frame::new(PlanExpr::Not(Box::new(node)), false, scope)
        }
    }

    /// The scope of the child at `index`. Scopes follow where a node stood
    /// before a push: a pushed negation never moves a node further down.
    fn child_scope(&self, index: usize) -> Scope {
        if self.wrapped {
            self.scope.clone()
        } else {
            self.scope.child(index)
        }
    }

    /// The child the walk is in (the last one it entered).
    fn current(&mut self) -> &mut PlanExpr {
        child_mut(&mut self.node, self.next - 1)
            .expect("fold invariant: a frame's current child exists")
    }
}

/// The number of children of `expr`'s top node.
pub(crate) fn child_count(expr: &PlanExpr) -> usize {
    match expr {
        PlanExpr::And(items) | PlanExpr::Or(items) => items.len(),
        PlanExpr::Not(_) | PlanExpr::Related(_) | PlanExpr::Segment(_) => 1,
        PlanExpr::Aggregate(test) => test.aggregate.chain.len(),
        PlanExpr::Const(_) | PlanExpr::Field(_) => 0,
    }
}

/// The child of `expr` at `index`, in the numbering of [`NewNodes`].
fn child_mut(expr: &mut PlanExpr, index: usize) -> Option<&mut PlanExpr> {
    match expr {
        PlanExpr::And(items) | PlanExpr::Or(items) => items.get_mut(index),
        PlanExpr::Not(inner) => (index == 0).then_some(&mut **inner),
        PlanExpr::Related(related) => (index == 0).then_some(&mut *related.filter),
        PlanExpr::Segment(segment) => (index == 0).then_some(&mut *segment.filter),
        PlanExpr::Aggregate(test) => test
            .aggregate
            .chain
            .get_mut(index)
            .map(|hop| &mut hop.filter),
        PlanExpr::Const(_) | PlanExpr::Field(_) => None,
    }
}

/// The node out of its place, a placeholder left there.
fn take(expr: &mut PlanExpr) -> PlanExpr {
    std::mem::replace(expr, PlanExpr::Const(false))
}

/// The walk behind every fold; `push` moves negations down. Only a pushing
/// walk ever enters a subtree negated. Says whether a negation moved.
fn walk<F: FoldInPlace + ?Sized>(folder: &mut F, root: &mut PlanExpr, push: bool) -> bool {
    let mut moved = false;
    let mut frames: Vec<Frame> = Vec::new();
    // The node to enter next, negated or not, within a scope: the root,
    // or the current child of the top frame.
    let mut entering = Some((false, Scope::All));
    loop {
        if let Some((negated, scope)) = entering.take() {
            let slot = match frames.last_mut() {
                Some(frame) => frame.current(),
                None => &mut *root,
            };
            if let Some(frame) = enter(folder, slot, negated, scope, push, &mut moved) {
                frames.push(frame);
            }
        }
        let Some(top) = frames.last_mut() else {
            return moved;
        };
        if top.next < child_count(&top.node) {
            top.next += 1;
            entering = Some((top.negated, top.child_scope(top.next - 1)));
            continue;
        }
        // Every child is folded: the node goes back and is folded itself.
        let Some(Frame { node, .. }) = frames.pop() else {
            return moved;
        };
        let slot = match frames.last_mut() {
            Some(frame) => frame.current(),
            None => &mut *root,
        };
        *slot = node;
        folder.fold_in_place(slot);
        entering = folder.refold().map(|new| (false, Scope::New(new)));
    }
}

/// Enter the node at `slot`: push a negation down into it, fold it if it
/// is a leaf (again, as often as the folder asks), or take it out of its
/// place as a [`Frame`] whose children are to be folded.
fn enter<F: FoldInPlace + ?Sized>(
    folder: &mut F,
    slot: &mut PlanExpr,
    mut negated: bool,
    mut scope: Scope,
    push: bool,
    moved: &mut bool,
) -> Option<Frame> {
    loop {
        // Past the levels asked for, a subtree is folded already; but a
        // `not` that can move down is not where it belongs wherever it
        // stands, so a pushing walk takes it on.
        if !negated && matches!(scope, Scope::Top(0)) && !(push && movable_not(slot)) {
            return None;
        }
        match slot {
            PlanExpr::Const(value) => {
                *moved |= negated;
                *value ^= negated;
            }
            // A field's or an aggregate's negation stays above it; so does
            // a negated `in NAME`'s, so that the node still stands for the
            // segment; and a relationship test's when its quantifier has
            // no complement.
            PlanExpr::Field(_) | PlanExpr::Aggregate(_) | PlanExpr::Segment(_) if negated => {
                return Some(Frame::wrapping(take(slot), scope));
            }
            PlanExpr::Field(_) => {}
            PlanExpr::Related(related) if negated => match related.quantifier.complement() {
                Some(quantifier) => {
                    *moved = true;
                    related.quantifier = quantifier;
                    return Some(Frame::new(take(slot), false, scope));
                }
                None => return Some(Frame::wrapping(take(slot), scope)),
            },
            PlanExpr::Not(inner) => {
                let stays = !push || keeps_not(inner);
                if stays && !negated {
                    return Some(Frame::new(take(slot), false, scope));
                }
                *moved = true;
                if let PlanExpr::Not(inner) = take(slot) {
                    *slot = *inner;
                }
                negated = !negated;
                scope = scope.child(0);
                continue;
            }
            // An empty list turns into the other empty list: `not and()` =
            // `not true` = `false` = `or()`.
            PlanExpr::And(items) | PlanExpr::Or(items) => {
                if negated {
                    *moved = true;
                    let items = std::mem::take(items);
                    *slot = match slot {
                        PlanExpr::And(_) => PlanExpr::Or(items),
                        _ => PlanExpr::And(items),
                    };
                }
                return Some(Frame::new(take(slot), negated, scope));
            }
            PlanExpr::Related(_) | PlanExpr::Aggregate(_) | PlanExpr::Segment(_) => {
                return Some(Frame::new(take(slot), false, scope));
            }
        }
        // A leaf, folded where it lies.
        folder.fold_in_place(slot);
        match folder.refold() {
            Some(new) => {
                negated = false;
                scope = Scope::New(new);
            }
            None => return None,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Direction, Link, Quantifier};

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

    /// Records every node it is handed, and rewrites none.
    struct Record(Vec<PlanExpr>);

    impl FoldInPlace for Record {
        fn fold_in_place(&mut self, expr: &mut PlanExpr) {
            self.0.push(expr.clone());
        }
        fn refold(&mut self) -> Option<NewNodes> {
            None
        }
    }

    fn flag(name: &str) -> PlanExpr {
        use crate::plan::{CmpOp, FieldRef, Test, Value, ValueType};
        PlanExpr::Field(FieldTest {
            field: FieldRef {
                entity: "a".into(),
                field: name.into(),
                ty: ValueType::Bool,
            },
            test: Test::Compare {
                op: CmpOp::Eq,
                value: Value::Bool(true),
            },
        })
    }

    fn has(quantifier: Quantifier, filter: PlanExpr) -> PlanExpr {
        PlanExpr::Related(Related {
            link: link(),
            quantifier,
            filter: Box::new(filter),
        })
    }

    fn not(expr: PlanExpr) -> PlanExpr {
        PlanExpr::Not(Box::new(expr))
    }

    #[test]
    fn in_place_pushes_negations_down_and_folds_children_first() {
        let exactly_2 = || has(Quantifier::Exactly(2), not(flag("c")));
        let mut expr = not(PlanExpr::And(vec![
            flag("a"),
            has(Quantifier::No, flag("b")),
            exactly_2(),
        ]));
        let mut record = Record(Vec::new());
        assert!(fold_in_place_normalizing(&mut record, &mut expr));
        let pushed = PlanExpr::Or(vec![
            not(flag("a")),
            has(Quantifier::Any, flag("b")),
            not(exactly_2()),
        ]);
        assert_eq!(expr, pushed);
        // Each node once, after its children, as it stands after the push;
        // `exactly 2` has no complement, so the `not` stays above it.
        let expected = vec![
            flag("a"),
            not(flag("a")),
            flag("b"),
            has(Quantifier::Any, flag("b")),
            flag("c"),
            not(flag("c")),
            exactly_2(),
            not(exactly_2()),
            pushed,
        ];
        assert_eq!(record.0, expected);
        // The same walk by value: the same nodes in the same order.
        let mut flip = Flip { nodes: 0 };
        let (_, moved) = fold_normalizing(
            &mut flip,
            not(PlanExpr::And(vec![
                flag("a"),
                has(Quantifier::No, flag("b")),
                exactly_2(),
            ])),
        );
        assert!(moved);
        assert_eq!(flip.nodes, expected.len());
    }

    #[test]
    fn in_place_leaves_a_list_s_items_where_they_are() {
        // Moving the items through a stack and back into a new list was a
        // tenth of the optimizer's time.
        let mut expr = PlanExpr::Or((0..50).map(|i| flag(&format!("f{i}"))).collect());
        let before = match &expr {
            PlanExpr::Or(items) => items.as_ptr(),
            _ => unreachable!(),
        };
        let mut record = Record(Vec::new());
        assert!(!fold_in_place_normalizing(&mut record, &mut expr));
        assert_eq!(record.0.len(), 51);
        match &expr {
            PlanExpr::Or(items) => assert_eq!(items.as_ptr(), before),
            other => panic!("not an or: {other:?}"),
        }
    }
}
