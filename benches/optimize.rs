//! Optimization time of generated plans of 100, 1,000 and 10,000 nodes. The
//! driver settles a plan in one walk, so time per node should stay roughly
//! flat as plans grow.
//!
//! Two shapes: `optimize` is a random tree of `and`, `or`, `not` and `has`
//! over many fields; `optimize_long_or` is one `or` of `and`s, the shape
//! that makes rules looking for equal items in a list (duplicates,
//! complements, absorption) quadratic if they compare every pair.
//!
//! Under `cargo test` (no `--bench` argument) each routine runs once, on
//! 100-node plans only.

mod common;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use segql::optimize::optimize;
use segql::plan::*;

fn field(name: &str, ty: ValueType) -> FieldRef {
    FieldRef {
        entity: "contact".into(),
        field: name.into(),
        ty,
    }
}

/// A random field test over 3,000 fields: tests of one field meet now and
/// then, rarely enough that plans keep their size (with few fields, random
/// contradictions fold most of a large plan to a constant).
fn leaf(rng: &mut ChaCha8Rng) -> PlanExpr {
    let op = [CmpOp::Eq, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge][rng.gen_range(0..5)];
    let k = rng.gen_range(0..1000);
    let (field, test) = match rng.gen_range(0..4) {
        0 | 1 => (
            field(&format!("n{k}"), ValueType::Integer),
            Test::Compare {
                op,
                value: Value::Integer(rng.gen_range(0..100)),
            },
        ),
        2 => (
            field(&format!("s{k}"), ValueType::Text),
            Test::InList(vec![
                Value::Text(["Oslo", "Lima", "Pune"][rng.gen_range(0..3)].into()),
                Value::Text("Rome".into()),
            ]),
        ),
        _ => (
            field(&format!("t{k}"), ValueType::DateTime),
            Test::Compare {
                op,
                value: Value::NowPlusSeconds {
                    seconds: -86_400 * rng.gen_range(0..30),
                    midnight: false,
                },
            },
        ),
    };
    let test = PlanExpr::Field(FieldTest { field, test });
    if rng.gen_bool(0.2) {
        PlanExpr::Not(Box::new(test))
    } else {
        test
    }
}

/// A random plan of exactly `nodes` nodes.
fn plan_expr(rng: &mut ChaCha8Rng, nodes: usize) -> PlanExpr {
    if nodes <= 1 {
        return leaf(rng);
    }
    let rest = nodes - 1;
    match rng.gen_range(0..10) {
        0 => PlanExpr::Not(Box::new(plan_expr(rng, rest))),
        1 | 2 => {
            let (relationship, direction) = if rng.gen_bool(0.5) {
                ("lead_parent_contact", Direction::ToChildren)
            } else {
                ("contact_parent_account", Direction::ToParent)
            };
            // (`at least 2` along a many-to-one link would fold to false.)
            let quantifier = match (direction, rng.gen_range(0..3)) {
                (_, 0) => Quantifier::Any,
                (_, 1) => Quantifier::No,
                (Direction::ToChildren, _) => Quantifier::AtLeast(2),
                (Direction::ToParent, _) => Quantifier::Any,
            };
            PlanExpr::Related(Related {
                link: Link {
                    relationship: relationship.into(),
                    direction,
                    from: "contact".into(),
                    to: "contact".into(),
                },
                quantifier,
                filter: Box::new(plan_expr(rng, rest)),
            })
        }
        _ => {
            // Split the remaining nodes over 2..=4 items.
            let parts = rng.gen_range(2..=4).min(rest);
            let mut sizes = vec![1; parts];
            for _ in parts..rest {
                sizes[rng.gen_range(0..parts)] += 1;
            }
            let items = sizes.into_iter().map(|n| plan_expr(rng, n)).collect();
            if rng.gen_bool(0.5) {
                PlanExpr::And(items)
            } else {
                PlanExpr::Or(items)
            }
        }
    }
}

/// One `or` of `nodes / 4` `and`s of two tests on their own fields (four
/// nodes each: the `and`, two tests, a `not`).
fn long_or(nodes: usize) -> PlanExpr {
    let test = |name: String, op| {
        PlanExpr::Field(FieldTest {
            field: field(&name, ValueType::Integer),
            test: Test::Compare {
                op,
                value: Value::Integer(1),
            },
        })
    };
    PlanExpr::Or(
        (0..nodes / 4)
            .map(|i| {
                PlanExpr::And(vec![
                    test(format!("a{i}"), CmpOp::Eq),
                    PlanExpr::Not(Box::new(test(format!("b{i}"), CmpOp::Lt))),
                ])
            })
            .collect(),
    )
}

/// The plan sizes: all three when benchmarking, the smallest in a test.
fn sizes() -> &'static [usize] {
    if common::benchmarking() {
        &[100, 1_000, 10_000]
    } else {
        &[100]
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimize");
    for &nodes in sizes() {
        let mut rng = ChaCha8Rng::seed_from_u64(nodes as u64);
        let plan = Plan {
            entity: "contact".into(),
            filter: plan_expr(&mut rng, nodes),
        };
        group.throughput(Throughput::Elements(nodes as u64));
        group.bench_with_input(BenchmarkId::from_parameter(nodes), &plan, |b, plan| {
            b.iter_batched(|| plan.clone(), optimize, BatchSize::SmallInput)
        });
    }
    group.finish();

    let mut group = c.benchmark_group("optimize_long_or");
    for &nodes in sizes() {
        let plan = Plan {
            entity: "contact".into(),
            filter: long_or(nodes),
        };
        group.throughput(Throughput::Elements(nodes as u64));
        group.bench_with_input(BenchmarkId::from_parameter(nodes), &plan, |b, plan| {
            b.iter_batched(|| plan.clone(), optimize, BatchSize::SmallInput)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
