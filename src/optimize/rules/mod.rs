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
mod kind;
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
pub(crate) use kind::{Kind, Kinds};
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

/// What the driver may take for granted about a rule's rewrites, so that it
/// need not run a rule whose answer it knows. In a long `or`,
/// `remove_duplicates` and `absorb` each drop items; without these facts
/// every rule would look at the whole list again, fingerprinting every
/// item, only to find nothing left to do.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Algebra {
    /// The kinds of node the rule's [`Rule::looks_at`] can say yes to.
    pub looks_at: Kinds,
    /// Whenever the rule returns an `and` (`or`), its input was an `and`
    /// (`or`) and the result is some of its items, unchanged and in order.
    pub drops_items: bool,
    /// A list the rule leaves unchanged, it leaves unchanged with some of
    /// its items dropped, as long as two remain.
    pub ignores_drops: bool,
    /// The rule leaves whatever it returns unchanged.
    pub idempotent: bool,
}

/// The [`Algebra`] of the rule named `name`; nothing is taken for granted
/// about a rule not listed. Each fact is tested over every rule's sample
/// nodes (`algebra_holds_on_the_sample_nodes` below).
pub(crate) fn algebra(name: &str) -> Algebra {
    Algebra {
        looks_at: kinds_looked_at(name),
        ..list_facts(name)
    }
}

/// The facts of [`algebra`] about lists losing items.
fn list_facts(name: &str) -> Algebra {
    let all = Algebra {
        drops_items: true,
        ignores_drops: true,
        idempotent: true,
        ..Algebra::default()
    };
    let ignores_drops = Algebra {
        ignores_drops: true,
        ..Algebra::default()
    };
    match name {
        // Each drops items (constants that change nothing, repeats, absorbed
        // lists, implied `has`) and leaves none of the kind it drops.
        "constant_folding" | "remove_duplicates" | "absorb" | "aggregate_implies_has" => all,
        // What they look for in a list, a list with fewer items (two or
        // more) lacks as well: a list of one, a nested list, a `not` whose
        // operand is an item.
        "flatten" | "complement" => ignores_drops,
        // They never look at a list.
        "push_not"
        | "count_as_quantifier"
        | "never_missing"
        | "simplify_quantifier"
        | "simplify_test" => ignores_drops,
        _ => Algebra::default(),
    }
}

/// The kinds of node the rule named `name` looks at ([`Rule::looks_at`]):
/// the driver hands it no other. Most nodes are leaves that one rule at
/// most looks at (of a field test, `simplify_test`'s `in` and `between`);
/// asking every rule about every leaf was a fifth of the optimizer's time.
fn kinds_looked_at(name: &str) -> Kinds {
    use Kind::*;
    match name {
        "constant_folding" => Kinds::of(&[Not, And, Or, Related]),
        "push_not" => Kinds::of(&[Not]),
        "count_as_quantifier" | "never_missing" => Kinds::of(&[Aggregate]),
        "simplify_quantifier" => Kinds::of(&[Related]),
        "simplify_test" => Kinds::of(&[Field]),
        "aggregate_implies_has" | "merge_field_and" => Kinds::of(&[And]),
        "merge_field_or" => Kinds::of(&[Or]),
        "flatten" | "remove_duplicates" | "complement" | "absorb" | "merge_related"
        | "merge_parent" => Kinds::of(&[And, Or]),
        _ => Kinds::ALL,
    }
}

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
        test(field, Test::between(low, high))
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
pub(crate) mod tests {
    use super::build::*;
    use super::*;
    use crate::optimize::Transformed;
    use crate::plan::{
        Aggregate, AggregateFn, AggregateTest, CmpOp, Direction, Hop, Quantifier, SegmentRef,
        Value, ValueType,
    };

    /// Nodes of every kind, each one that some rule rewrites.
    pub(crate) fn every_kind() -> Vec<PlanExpr> {
        let up = link("up", Direction::ToParent);
        let down = link("down", Direction::ToChildren);
        let number = int_field();
        let count = |test| {
            PlanExpr::aggregate(AggregateTest {
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
    pub(crate) fn near_misses() -> Vec<PlanExpr> {
        let up = link("up", Direction::ToParent);
        let down = link("down", Direction::ToChildren);
        let count = PlanExpr::aggregate(AggregateTest {
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

    /// Lists on which the rules that drop items drop some: a constant,
    /// repeats, an absorbed `and`, a `has` an aggregate implies.
    pub(crate) fn lists_losing_items() -> Vec<PlanExpr> {
        let down = link("down", Direction::ToChildren);
        let min_a = PlanExpr::aggregate(AggregateTest {
            aggregate: Aggregate {
                function: AggregateFn::Min,
                chain: vec![Hop {
                    link: down.clone(),
                    filter: flag("a"),
                }],
                field: Some(int_field()),
            },
            test: Test::Compare {
                op: CmpOp::Ge,
                value: Value::Integer(5),
            },
        });
        vec![
            or(vec![
                flag("a"),
                PlanExpr::Const(false),
                flag("b"),
                flag("a"),
                and(vec![flag("a"), flag("c")]),
                and(vec![flag("d"), flag("c")]),
                not(flag("e")),
            ]),
            and(vec![
                has(&down, Quantifier::Any, flag("a")),
                min_a,
                flag("b"),
                flag("b"),
                or(vec![flag("b"), flag("c")]),
                PlanExpr::Const(true),
            ]),
        ]
    }

    /// What `rule` makes of `expr`, asking [`Rule::looks_at`] first as the
    /// driver does.
    fn run(rule: &dyn Rule, expr: PlanExpr) -> Transformed {
        if rule.looks_at(&expr) {
            rule.rewrite(expr)
        } else {
            Transformed::no(expr)
        }
    }

    /// The list `expr` without its item at `index`.
    fn without(expr: &PlanExpr, index: usize) -> Option<PlanExpr> {
        let (PlanExpr::And(items) | PlanExpr::Or(items)) = expr else {
            return None;
        };
        let mut fewer = items.clone();
        fewer.remove(index);
        Some(match expr {
            PlanExpr::And(_) => and(fewer),
            _ => or(fewer),
        })
    }

    /// Whether `after` is a list of `before`'s kind holding some of its
    /// items in order.
    fn is_some_items_of(before: &PlanExpr, after: &PlanExpr) -> bool {
        let (items, kept) = match (before, after) {
            (PlanExpr::And(items), PlanExpr::And(kept)) => (items, kept),
            (PlanExpr::Or(items), PlanExpr::Or(kept)) => (items, kept),
            _ => return false,
        };
        let mut rest = items.iter();
        kept.iter().all(|item| rest.any(|other| other == item))
    }

    #[test]
    fn algebra_holds_on_the_sample_nodes() {
        let samples: Vec<PlanExpr> = every_kind()
            .into_iter()
            .chain(near_misses())
            .chain(lists_losing_items())
            .collect();
        for rule in ALL {
            let facts = algebra(rule.name());
            let name = rule.name();
            for expr in &samples {
                let done = run(*rule, expr.clone());
                let is_list = matches!(done.expr, PlanExpr::And(_) | PlanExpr::Or(_));
                if facts.drops_items && done.changed && is_list {
                    assert!(is_some_items_of(expr, &done.expr), "{name}: {expr:?}");
                }
                if facts.idempotent && done.changed {
                    let again = run(*rule, done.expr.clone());
                    assert!(!again.changed, "{name} twice: {expr:?}");
                }
                let items = match expr {
                    PlanExpr::And(items) | PlanExpr::Or(items) => items.len(),
                    _ => 0,
                };
                if facts.ignores_drops && !done.changed && items >= 3 {
                    for index in 0..items {
                        let fewer = without(expr, index).expect("a list");
                        let after = run(*rule, fewer.clone());
                        assert!(!after.changed, "{name} after a drop: {fewer:?}");
                    }
                }
            }
        }
        // The rules that drop items do drop some of the samples'.
        for name in ["constant_folding", "remove_duplicates", "absorb"] {
            let rule = ALL.iter().find(|rule| rule.name() == name).expect("a rule");
            assert!(
                lists_losing_items()
                    .into_iter()
                    .any(|expr| run(*rule, expr).changed),
                "{name}"
            );
        }
    }

    /// Every node of `expr`, `expr` first.
    fn nodes_of(expr: &PlanExpr) -> Vec<&PlanExpr> {
        let mut nodes = vec![expr];
        let mut at = 0;
        while let Some(&node) = nodes.get(at) {
            at += 1;
            match node {
                PlanExpr::Const(_) | PlanExpr::Field(_) => {}
                PlanExpr::Not(inner) => nodes.push(inner),
                PlanExpr::And(items) | PlanExpr::Or(items) => nodes.extend(items),
                PlanExpr::Related(related) => nodes.push(&related.filter),
                PlanExpr::Segment(segment) => nodes.push(&segment.filter),
                PlanExpr::Aggregate(test) => {
                    nodes.extend(test.aggregate.chain.iter().map(|hop| &hop.filter))
                }
            }
        }
        nodes
    }

    #[test]
    fn rules_look_only_at_the_kinds_of_node_they_name() {
        let samples: Vec<PlanExpr> = every_kind()
            .into_iter()
            .chain(near_misses())
            .chain(lists_losing_items())
            .collect();
        let nodes: Vec<&PlanExpr> = samples.iter().flat_map(nodes_of).collect();
        for kind in Kind::ALL {
            assert!(nodes.iter().any(|node| Kind::of(node) == kind), "{kind:?}");
        }
        for rule in ALL {
            let kinds = algebra(rule.name()).looks_at;
            assert_ne!(kinds, Kinds::ALL, "{} names no kinds", rule.name());
            for node in &nodes {
                if rule.looks_at(node) {
                    assert!(kinds.contains(Kind::of(node)), "{}: {node:?}", rule.name());
                }
            }
        }
    }

    #[test]
    fn algebra_names_only_rules_that_exist() {
        let named = [
            "constant_folding",
            "remove_duplicates",
            "absorb",
            "aggregate_implies_has",
            "flatten",
            "complement",
            "push_not",
            "count_as_quantifier",
            "never_missing",
            "simplify_quantifier",
            "simplify_test",
        ];
        for name in named {
            assert_ne!(algebra(name), Algebra::default(), "{name}");
            assert!(ALL.iter().any(|rule| rule.name() == name), "{name}");
        }
    }
}
