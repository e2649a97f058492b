//! Negation normal form in one top-down pass: every `not` is pushed down to
//! a field test or a relationship test it cannot pass, in time linear in the
//! plan and without recursion.
//!
//! The [`PushNot`](super::rules::PushNot) rule does the same one level at a
//! time, bottom-up, so a `not` above a long alternating chain of `and` and
//! `or` would need a pass per level; this walk settles it at once. The
//! driver runs it before every bottom-up pass, because rules can introduce
//! new negations (merging parents negates filters).

use crate::check::plan::{Link, PlanExpr, Quantifier, Related};
use crate::optimize::rules::complement;

/// The name of the walk in a trace of firings.
pub const NAME: &str = "negation_normal_form";

/// Pending work of the walk.
enum Task {
    /// Rewrite this subtree, negated if the flag is set.
    Visit(PlanExpr, bool),
    /// Rebuild a `not` around the rewritten child (which was not pushable).
    Not,
    /// Rebuild an `and` (`true`) or `or` (`false`) from `n` rewritten items.
    List(bool, usize),
    /// Rebuild a relationship test around the rewritten filter.
    Related(Link, Quantifier),
}

/// `expr` with its negations pushed down as far as they go, and whether
/// anything moved.
pub fn negation_normal_form(expr: PlanExpr) -> (PlanExpr, bool) {
    let mut changed = false;
    let mut tasks = vec![Task::Visit(expr, false)];
    let mut done: Vec<PlanExpr> = Vec::new();
    while let Some(task) = tasks.pop() {
        match task {
            Task::Visit(expr, negated) => match expr {
                PlanExpr::Const(value) => {
                    changed |= negated;
                    done.push(PlanExpr::Const(value != negated));
                }
                PlanExpr::Field(test) => {
                    let field = PlanExpr::Field(test);
                    done.push(if negated {
                        PlanExpr::Not(Box::new(field))
                    } else {
                        field
                    });
                }
                PlanExpr::Not(inner) => {
                    // A `not` over a field test, or a relationship test with
                    // no complementary quantifier, stays where it is.
                    let stays = match inner.as_ref() {
                        PlanExpr::Field(_) => true,
                        PlanExpr::Related(r) => complement(r.quantifier).is_none(),
                        _ => false,
                    };
                    if stays && !negated {
                        tasks.push(Task::Not);
                        tasks.push(Task::Visit(*inner, false));
                    } else {
                        changed = true;
                        tasks.push(Task::Visit(*inner, !negated));
                    }
                }
                // An empty list turns into the other empty list: `not
                // and()` = `not true` = `false` = `or()`.
                PlanExpr::And(items) => {
                    push_list(&mut tasks, items, !negated, negated, &mut changed);
                }
                PlanExpr::Or(items) => {
                    push_list(&mut tasks, items, negated, negated, &mut changed);
                }
                PlanExpr::Related(related) => {
                    let quantifier = if negated {
                        match complement(related.quantifier) {
                            Some(q) => {
                                changed = true;
                                q
                            }
                            None => {
                                tasks.push(Task::Not);
                                related.quantifier
                            }
                        }
                    } else {
                        related.quantifier
                    };
                    tasks.push(Task::Related(related.link, quantifier));
                    tasks.push(Task::Visit(*related.filter, false));
                }
            },
            Task::Not => {
                let inner = pop(&mut done);
                done.push(PlanExpr::Not(Box::new(inner)));
            }
            Task::List(is_and, n) => {
                let items = done.split_off(done.len() - n);
                done.push(if is_and {
                    PlanExpr::And(items)
                } else {
                    PlanExpr::Or(items)
                });
            }
            Task::Related(link, quantifier) => {
                let filter = Box::new(pop(&mut done));
                done.push(PlanExpr::Related(Related {
                    link,
                    quantifier,
                    filter,
                }));
            }
        }
    }
    (pop(&mut done), changed)
}

/// Queue the items of a list, to be rebuilt as an `and` (`is_and`) or `or`.
fn push_list(
    tasks: &mut Vec<Task>,
    items: Vec<PlanExpr>,
    is_and: bool,
    negated: bool,
    changed: &mut bool,
) {
    *changed |= negated;
    tasks.push(Task::List(is_and, items.len()));
    tasks.extend(
        items
            .into_iter()
            .rev()
            .map(|item| Task::Visit(item, negated)),
    );
}

/// Each rebuild task runs after the visits of its children.
fn pop(done: &mut Vec<PlanExpr>) -> PlanExpr {
    done.pop()
        .expect("walk invariant: a rewritten child precedes its parent")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::plan::{CmpOp, Direction};
    use crate::optimize::rules::build::*;

    #[test]
    fn pushes_through_alternating_lists_at_once() {
        let input = not(and(vec![
            flag("a"),
            or(vec![
                flag("b"),
                and(vec![not(flag("c")), PlanExpr::Const(true)]),
            ]),
        ]));
        let expected = or(vec![
            not(flag("a")),
            and(vec![
                not(flag("b")),
                or(vec![flag("c"), PlanExpr::Const(false)]),
            ]),
        ]);
        assert_eq!(negation_normal_form(input), (expected, true));
    }

    #[test]
    fn relationship_tests() {
        let l = link("kids", Direction::ToChildren);
        let input = not(or(vec![
            has(&l, Quantifier::Any, not(not(flag("a")))),
            has(&l, Quantifier::Exactly(2), flag("b")),
            has(&l, Quantifier::AtLeast(3), flag("c")),
        ]));
        let expected = and(vec![
            has(&l, Quantifier::No, flag("a")),
            not(has(&l, Quantifier::Exactly(2), flag("b"))),
            has(&l, Quantifier::AtMost(2), flag("c")),
        ]);
        assert_eq!(negation_normal_form(input), (expected, true));
    }

    #[test]
    fn double_negations_vanish() {
        let x = int_field();
        // `not (x is null)` is `x is not null`: Not(Not(IsNotNull)).
        assert_eq!(negation_normal_form(not(is_null(&x))), (not_null(&x), true));
        assert_eq!(
            negation_normal_form(not(not(not(flag("a"))))),
            (not(flag("a")), true)
        );
        assert_eq!(
            negation_normal_form(not(PlanExpr::Const(true))),
            (PlanExpr::Const(false), true)
        );
    }

    #[test]
    fn settled_plans_are_unchanged() {
        let l = link("kids", Direction::ToChildren);
        let settled = and(vec![
            not(n(CmpOp::Lt, 5)),
            or(vec![]),
            not(has(&l, Quantifier::Exactly(1), not(flag("a")))),
        ]);
        assert_eq!(negation_normal_form(settled.clone()), (settled, false));
        assert_eq!(negation_normal_form(not(and(vec![]))), (or(vec![]), true));
    }
}
