//! The optimizer's driver: deep plans on a small stack, the trace of rule
//! firings, and whole-plan rewrites that need several rules together.

use segql::error::limits::MAX_PLAN_DEPTH;
use segql::optimize::{optimize, optimize_traced};
use segql::plan::*;

fn field(name: &str, ty: ValueType) -> FieldRef {
    FieldRef {
        entity: "contact".into(),
        field: name.into(),
        ty,
    }
}

fn test(field: &FieldRef, test: Test) -> PlanExpr {
    PlanExpr::Field(FieldTest {
        field: field.clone(),
        test,
    })
}

fn cmp(field: &FieldRef, op: CmpOp, value: Value) -> PlanExpr {
    test(field, Test::Compare { op, value })
}

fn not(e: PlanExpr) -> PlanExpr {
    PlanExpr::Not(Box::new(e))
}

fn plan(filter: PlanExpr) -> Plan {
    Plan {
        entity: "contact".into(),
        filter,
    }
}

fn score() -> FieldRef {
    field("score", ValueType::Integer)
}

fn self_link(direction: Direction) -> Link {
    Link {
        relationship: "self".into(),
        direction,
        from: "contact".into(),
        to: "contact".into(),
    }
}

/// Run `f` on a thread with a 2 MiB stack, as small as a test thread's.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("a thread starts")
        .join()
        .expect("no stack overflow")
}

/// A plan `MAX_PLAN_DEPTH` deep whose levels cycle through every node kind
/// that has children.
fn deep_plan(depth: usize) -> PlanExpr {
    let mut expr = cmp(&score(), CmpOp::Gt, Value::Integer(1));
    for level in 0..depth {
        let leaf = cmp(&score(), CmpOp::Lt, Value::Integer(level as i64));
        expr = match level % 5 {
            0 => not(expr),
            1 => PlanExpr::And(vec![leaf, expr]),
            2 => PlanExpr::Or(vec![expr, leaf]),
            3 => PlanExpr::Related(Related {
                link: self_link(Direction::ToChildren),
                quantifier: Quantifier::AtLeast(2),
                filter: Box::new(expr),
            }),
            _ => PlanExpr::Related(Related {
                link: self_link(Direction::ToParent),
                quantifier: Quantifier::Any,
                filter: Box::new(expr),
            }),
        };
    }
    expr
}

fn depth_of(expr: &PlanExpr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(expr, 1)];
    while let Some((e, d)) = stack.pop() {
        deepest = deepest.max(d);
        match e {
            PlanExpr::Not(inner) => stack.push((inner, d + 1)),
            PlanExpr::Segment(segment) => stack.push((&segment.filter, d)),
            PlanExpr::And(items) | PlanExpr::Or(items) => {
                stack.extend(items.iter().map(|i| (i, d + 1)))
            }
            PlanExpr::Related(r) => stack.push((&r.filter, d + 1)),
            PlanExpr::Aggregate(a) => {
                let hops = a.aggregate.chain.iter().enumerate();
                stack.extend(hops.map(|(i, hop)| (&hop.filter, d + 1 + i)))
            }
            PlanExpr::Const(_) | PlanExpr::Field(_) => {}
        }
    }
    deepest
}

#[test]
fn deep_plans_fit_a_small_stack() {
    let (depth_in, depth_out) = on_small_stack(|| {
        let expr = deep_plan(MAX_PLAN_DEPTH - 1);
        let depth_in = depth_of(&expr);
        let optimized = optimize(plan(expr));
        let depth_out = depth_of(&optimized.filter);
        (depth_in, depth_out)
    });
    assert_eq!(depth_in, MAX_PLAN_DEPTH);
    assert!(depth_out >= 2 && depth_out <= depth_in, "{depth_out}");
}

#[test]
fn deep_plans_can_be_traced_on_a_small_stack() {
    let firings = on_small_stack(|| {
        let (_, firings) = optimize_traced(plan(deep_plan(MAX_PLAN_DEPTH - 1)));
        firings.len()
    });
    assert!(firings > 0);
}

#[test]
fn an_even_tower_of_nots_vanishes() {
    let leaf = cmp(&score(), CmpOp::Eq, Value::Integer(3));
    let out = on_small_stack(move || {
        let mut expr = leaf;
        for _ in 0..MAX_PLAN_DEPTH - 2 {
            expr = not(expr);
        }
        optimize(plan(expr)).filter
    });
    assert_eq!(out, cmp(&score(), CmpOp::Eq, Value::Integer(3)));
}

#[test]
fn the_trace_names_each_rule_and_the_node_it_changed() {
    let role = field("role", ValueType::Choice);
    let employee = Value::Choice {
        code: 2,
        label: "Employee".into(),
    };
    // not (role = Employee or score < 5)
    let input = not(PlanExpr::Or(vec![
        cmp(&role, CmpOp::Eq, employee.clone()),
        cmp(&score(), CmpOp::Lt, Value::Integer(5)),
    ]));
    let (out, firings) = optimize_traced(plan(input.clone()));
    let expected = PlanExpr::And(vec![
        not(cmp(&role, CmpOp::Eq, employee)),
        not(cmp(&score(), CmpOp::Lt, Value::Integer(5))),
    ]);
    assert_eq!(out.filter, expected);
    assert_eq!(firings.len(), 1);
    assert_eq!(firings[0].rule, "negation_normal_form");
    assert_eq!(firings[0].before, input);
    assert_eq!(firings[0].after, expected);
    let json = serde_json::to_value(&firings).expect("firings serialize");
    assert_eq!(json[0]["rule"], "negation_normal_form");
    assert!(json[0]["before"]["not"]["or"].is_array(), "{json}");
}

#[test]
fn rules_cooperate_to_a_fixed_point() {
    let s = score();
    let int = Value::Integer;
    // not (has no self(score >= 5)) and has self(score >= 10) — one parent.
    let parent = |q, filter| {
        PlanExpr::Related(Related {
            link: self_link(Direction::ToParent),
            quantifier: q,
            filter: Box::new(filter),
        })
    };
    let input = PlanExpr::And(vec![
        not(parent(Quantifier::No, cmp(&s, CmpOp::Ge, int(5)))),
        parent(Quantifier::Exactly(1), cmp(&s, CmpOp::Ge, int(10))),
        PlanExpr::Const(true),
    ]);
    let out = optimize(plan(input)).filter;
    assert_eq!(out, parent(Quantifier::Any, cmp(&s, CmpOp::Ge, int(10))));

    // (score = 1 or score = 2 or score = 3) and not (score = 2) and score is not null
    let input = PlanExpr::And(vec![
        PlanExpr::Or(vec![
            cmp(&s, CmpOp::Eq, int(1)),
            PlanExpr::Or(vec![cmp(&s, CmpOp::Eq, int(2)), cmp(&s, CmpOp::Eq, int(3))]),
        ]),
        not(cmp(&s, CmpOp::Eq, int(2))),
        test(&s, Test::IsNotNull),
    ]);
    let out = optimize(plan(input)).filter;
    assert_eq!(out, test(&s, Test::InList(vec![int(1), int(3)])));
}

#[test]
fn optimize_keeps_the_entity() {
    let out = optimize(Plan {
        entity: "lead".into(),
        filter: PlanExpr::And(vec![]),
    });
    assert_eq!(out.entity, "lead");
    assert_eq!(out.filter, PlanExpr::Const(true));
}

/// `has P(b) or has no P(a)` → `has no P(not b and a)`, and the `not`
/// pushed down `b` ends on its deepest leaf: one level more.
fn deepening_plan(chain: usize) -> PlanExpr {
    // A field per level, so no field merge shortens the chain.
    let leaf = |level: usize| {
        let f = field(&format!("f{level}"), ValueType::Integer);
        cmp(&f, CmpOp::Gt, Value::Integer(1))
    };
    let mut b = leaf(0);
    for level in 1..=chain {
        // The top of the chain is an `and`, whose negation (an `or`) is not
        // flattened into the merged filter.
        b = if (chain - level).is_multiple_of(2) {
            PlanExpr::And(vec![leaf(level), b])
        } else {
            PlanExpr::Or(vec![leaf(level), b])
        };
    }
    let parent = |q, filter| {
        PlanExpr::Related(Related {
            link: self_link(Direction::ToParent),
            quantifier: q,
            filter: Box::new(filter),
        })
    };
    PlanExpr::Or(vec![
        parent(Quantifier::Any, b),
        parent(Quantifier::No, test(&score(), Test::IsNotNull)),
    ])
}

#[test]
fn optimizing_can_add_a_level() {
    let input = deepening_plan(8);
    let before = segql::plan::depth(&input);
    let out = optimize(plan(input)).filter;
    assert_eq!(segql::plan::depth(&out), before + 1, "{out:?}");
}

#[test]
fn optimizing_never_exceeds_the_depth_limit() {
    let (before, after, unchanged, traced) = on_small_stack(|| {
        let input = deepening_plan(MAX_PLAN_DEPTH - 3);
        let before = segql::plan::depth(&input);
        let (out, firings) = optimize_traced(plan(input.clone()));
        let after = segql::plan::depth(&out.filter);
        (before, after, out.filter == input, firings.len())
    });
    assert_eq!(before, MAX_PLAN_DEPTH);
    assert!(after <= MAX_PLAN_DEPTH, "{after}");
    // The only rewrite would add a level: the plan comes back as it was,
    // with no firings to show.
    assert!(unchanged, "{before} {after} {traced}");
    assert_eq!(traced, 0);
}
