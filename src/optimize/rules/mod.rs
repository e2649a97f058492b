//! The rewrite rules, one per file, and the order the driver runs them in.
//!
//! Every rule rewrites one node and relies on its children being simplified
//! already; none of them recurses, so the depth of a plan costs no stack.
//! Double negations and De Morgan's laws are mostly the business of the
//! driver's negation-normal-form walk (`nnf.rs`), which settles a whole plan
//! in one pass; [`PushNot`] catches the negations rules create mid-pass.

mod absorb;
mod aggregate_implies_has;
mod complement;
mod constants;
mod count_quantifier;
mod dedup;
mod field_and;
mod field_or;
mod flatten;
mod merge_hops;
mod merge_parent;
mod merge_related;
mod never_missing;
mod push_not;
mod quantifiers;
mod single_test;

pub use absorb::Absorb;
pub use aggregate_implies_has::AggregateImpliesHas;
pub use complement::Complement;
pub use constants::ConstantFolding;
pub use count_quantifier::CountAsQuantifier;
pub use dedup::RemoveDuplicates;
pub use field_and::MergeFieldAnd;
pub use field_or::MergeFieldOr;
pub use flatten::Flatten;
pub use merge_parent::MergeParent;
pub use merge_related::MergeRelated;
pub use never_missing::NeverMissing;
pub use push_not::PushNot;
pub use quantifiers::SimplifyQuantifier;
pub use single_test::SimplifyTest;

use super::Rule;
use crate::plan::{FieldRef, PlanExpr, Test};

/// Every rule, in the order the driver tries them at each node: cheap
/// structural clean-ups first, so the field and relationship merges see flat,
/// duplicate-free lists.
pub static ALL: &[&dyn Rule] = &[
    &ConstantFolding,
    &PushNot,
    &Flatten,
    &CountAsQuantifier,
    &NeverMissing,
    &SimplifyQuantifier,
    &SimplifyTest,
    &RemoveDuplicates,
    &Complement,
    &Absorb,
    &AggregateImpliesHas,
    &MergeFieldAnd,
    &MergeFieldOr,
    &MergeRelated,
    &MergeParent,
];

/// `not expr`, removing a double negation on the spot.
pub(crate) fn negate(expr: PlanExpr) -> PlanExpr {
    match expr {
        PlanExpr::Not(inner) => *inner,
        PlanExpr::Const(value) => PlanExpr::Const(!value),
        other => PlanExpr::Not(Box::new(other)),
    }
}

/// A test on one field, possibly negated: `(field, negated, test)`.
pub(crate) fn field_atom(expr: &PlanExpr) -> Option<(&FieldRef, bool, &Test)> {
    match expr {
        PlanExpr::Field(test) => Some((&test.field, false, &test.test)),
        PlanExpr::Not(inner) => match inner.as_ref() {
            PlanExpr::Field(test) => Some((&test.field, true, &test.test)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod build {
    //! Small constructors that keep the rule tests readable.

    use crate::optimize::Rule;
    use crate::plan::*;

    /// What `rule` makes of `expr`: the node and whether it changed.
    pub fn rewrite(rule: &dyn Rule, expr: PlanExpr) -> (PlanExpr, bool) {
        let done = rule.rewrite(expr);
        (done.expr, done.changed)
    }

    pub fn field(name: &str, ty: ValueType) -> FieldRef {
        FieldRef {
            entity: "e".into(),
            field: name.into(),
            ty,
        }
    }

    pub fn int_field() -> FieldRef {
        field("n", ValueType::Integer)
    }

    pub fn test(field: &FieldRef, test: Test) -> PlanExpr {
        PlanExpr::Field(FieldTest {
            field: field.clone(),
            test,
        })
    }

    pub fn cmp(field: &FieldRef, op: CmpOp, value: Value) -> PlanExpr {
        test(field, Test::Compare { op, value })
    }

    pub fn eq(field: &FieldRef, value: Value) -> PlanExpr {
        cmp(field, CmpOp::Eq, value)
    }

    pub fn int(n: i64) -> Value {
        Value::Integer(n)
    }

    /// `n op value` on the integer field `n`.
    pub fn n(op: CmpOp, value: i64) -> PlanExpr {
        cmp(&int_field(), op, Value::Integer(value))
    }

    pub fn not_null(field: &FieldRef) -> PlanExpr {
        test(field, Test::IsNotNull)
    }

    pub fn is_null(field: &FieldRef) -> PlanExpr {
        not(not_null(field))
    }

    pub fn in_list(field: &FieldRef, values: Vec<Value>) -> PlanExpr {
        test(field, Test::InList(values))
    }

    pub fn between(field: &FieldRef, low: Value, high: Value) -> PlanExpr {
        test(field, Test::Between { low, high })
    }

    pub fn not(expr: PlanExpr) -> PlanExpr {
        PlanExpr::Not(Box::new(expr))
    }

    pub fn and(items: Vec<PlanExpr>) -> PlanExpr {
        PlanExpr::And(items)
    }

    pub fn or(items: Vec<PlanExpr>) -> PlanExpr {
        PlanExpr::Or(items)
    }

    pub fn link(name: &str, direction: Direction) -> Link {
        Link {
            relationship: name.into(),
            direction,
            from: "e".into(),
            to: "e".into(),
        }
    }

    pub fn has(link: &Link, quantifier: Quantifier, filter: PlanExpr) -> PlanExpr {
        PlanExpr::Related(Related {
            link: link.clone(),
            quantifier,
            filter: Box::new(filter),
        })
    }

    /// A leaf the rules cannot see through: a boolean field being true.
    pub fn flag(name: &str) -> PlanExpr {
        eq(&field(name, ValueType::Bool), Value::Bool(true))
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;
    use crate::optimize::Transformed;
    use crate::plan::{
        Aggregate, AggregateFn, AggregateTest, CmpOp, Direction, Hop, Quantifier, SegmentRef,
        Value, ValueType,
    };

    /// Nodes of every kind, each one that some rule rewrites.
    fn every_kind() -> Vec<PlanExpr> {
        let up = link("up", Direction::ToParent);
        let down = link("down", Direction::ToChildren);
        let number = int_field();
        let count = |test| {
            PlanExpr::Aggregate(AggregateTest {
                aggregate: Aggregate {
                    function: AggregateFn::Count,
                    chain: vec![Hop {
                        link: down.clone(),
                        filter: flag("a"),
                    }],
                    field: None,
                },
                test,
            })
        };
        let parent_a = has(&up, Quantifier::Any, flag("a"));
        vec![
            PlanExpr::Const(true),
            in_list(&number, vec![int(1), int(1)]),
            between(&number, int(3), int(2)),
            not(PlanExpr::Const(false)),
            not(and(vec![flag("a"), flag("b")])),
            and(vec![
                flag("a"),
                flag("a"),
                and(vec![flag("b")]),
                PlanExpr::Const(true),
                n(CmpOp::Lt, 1),
                n(CmpOp::Gt, 5),
                parent_a.clone(),
                has(&up, Quantifier::Any, flag("b")),
                has(&down, Quantifier::No, flag("c")),
                has(&down, Quantifier::No, flag("d")),
                count(Test::Compare {
                    op: CmpOp::Ge,
                    value: Value::Integer(1),
                }),
                has(&down, Quantifier::Any, flag("a")),
            ]),
            or(vec![
                flag("a"),
                not(flag("a")),
                and(vec![flag("a"), flag("b")]),
                eq(&field("s", ValueType::Text), Value::Text("x".into())),
                eq(&field("s", ValueType::Text), Value::Text("y".into())),
            ]),
            has(&down, Quantifier::AtLeast(1), PlanExpr::Const(false)),
            count(Test::IsNotNull),
            count(Test::Compare {
                op: CmpOp::Ge,
                value: Value::Integer(2),
            }),
            PlanExpr::Segment(SegmentRef {
                name: "s".into(),
                filter: Box::new(and(vec![flag("a"), flag("a")])),
            }),
        ]
    }

    /// Nodes of the kinds the rules rewrite that rules with a narrower
    /// [`Rule::looks_at`] pass over: lists without a constant, a `not`, a
    /// nested list or two relationship tests; an opposite list beside
    /// other items; a single `not`; relationship tests whose filter is not
    /// `false`.
    fn near_misses() -> Vec<PlanExpr> {
        let up = link("up", Direction::ToParent);
        let down = link("down", Direction::ToChildren);
        let count = PlanExpr::Aggregate(AggregateTest {
            aggregate: Aggregate {
                function: AggregateFn::Count,
                chain: vec![Hop {
                    link: down.clone(),
                    filter: flag("a"),
                }],
                field: None,
            },
            test: Test::Compare {
                op: CmpOp::Ge,
                value: Value::Integer(1),
            },
        });
        vec![
            not(flag("a")),
            and(vec![flag("a"), flag("b")]),
            or(vec![flag("a"), flag("b")]),
            and(vec![flag("a"), not(flag("b"))]),
            or(vec![not(flag("a")), flag("b")]),
            and(vec![flag("a"), or(vec![flag("b"), flag("c")])]),
            or(vec![flag("a"), and(vec![flag("b"), flag("c")])]),
            or(vec![
                and(vec![flag("a"), flag("b")]),
                and(vec![flag("a"), flag("c")]),
            ]),
            and(vec![has(&up, Quantifier::Any, flag("a")), flag("b")]),
            or(vec![has(&down, Quantifier::Any, flag("a")), flag("b")]),
            and(vec![count.clone(), flag("b")]),
            and(vec![count, has(&up, Quantifier::Any, flag("a"))]),
            has(&down, Quantifier::Any, flag("a")),
            has(&down, Quantifier::No, PlanExpr::Const(true)),
        ]
    }

    #[test]
    fn a_rule_leaves_alone_every_node_it_does_not_look_at() {
        let mut skipped = 0;
        for rule in ALL {
            for expr in every_kind().into_iter().chain(near_misses()) {
                if rule.looks_at(&expr) {
                    continue;
                }
                skipped += 1;
                let done = rule.rewrite(expr.clone());
                assert_eq!(done, Transformed::no(expr), "{}", rule.name());
            }
        }
        assert!(skipped > 0);
    }

    #[test]
    fn every_rule_rewrites_some_node_of_those() {
        for rule in ALL {
            let fires = every_kind()
                .into_iter()
                .any(|expr| rule.looks_at(&expr) && rule.rewrite(expr).changed);
            assert!(fires, "{} rewrites none of the nodes", rule.name());
        }
    }
}
