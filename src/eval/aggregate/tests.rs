//! The kernels' own promises: the fast pair listing of children-only chains
//! agrees with walking them; decimal sums of ordinary data never need the
//! exact second pass, and those that do get it for their groups only.

use super::chain::{self, Pairs};
use super::compare::ValueTest;
use super::reduce::{fold, DecSum, Fold};
use super::*;
use crate::eval::StoreBuilder;
use crate::plan::{Aggregate, Hop as PlanHop, Link, PlanExpr, Test};
use crate::schema::crm_schema;

fn id(n: u128) -> crate::plan::Value {
    crate::plan::Value::Uuid(uuid::Uuid::from_u128(n))
}

/// Accounts, contacts and interactions spread unevenly, some without a
/// parent and some pointing at a missing one.
fn store() -> Store {
    let mut b = StoreBuilder::new(&crm_schema());
    for a in 0..7u128 {
        b.insert("account", [("id", id(0x100 + a))]).unwrap();
    }
    for c in 0..40u128 {
        let mut row = vec![("id", id(0x1000 + c))];
        if c % 9 != 4 {
            row.push(("account_id", id(0x100 + (c * c) % 9)));
        }
        b.insert("contact", row).unwrap();
    }
    for i in 0..200u128 {
        b.insert(
            "interaction",
            [
                ("id", id(0x10000 + i)),
                ("contact_id", id(0x1000 + (i * 7) % 43)),
            ],
        )
        .unwrap();
    }
    for l in 0..150u128 {
        let mut row = vec![
            ("id", id(0x20000 + l)),
            ("contact_id", id(0x1000 + (l * 5) % 43)),
            ("score", crate::plan::Value::Integer((l % 11) as i64)),
        ];
        if l % 13 != 0 {
            row.push(("account_id", id(0x100 + (l * 3) % 8)));
        }
        b.insert("lead", row).unwrap();
    }
    b.build().unwrap()
}

fn link(relationship: &str, from: &str, to: &str) -> Link {
    Link {
        relationship: relationship.into(),
        direction: Direction::ToChildren,
        from: from.into(),
        to: to.into(),
    }
}

fn up(relationship: &str, from: &str, to: &str) -> Link {
    Link {
        direction: Direction::ToParent,
        ..link(relationship, from, to)
    }
}

/// Every (group, end) pair `pairs` lists, sorted.
fn listed(pairs: &Pairs<'_>) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    pairs.for_each(|g, e| out.push((g, e)));
    out.sort_unstable();
    out
}

fn count_over(chain: Vec<PlanHop>) -> AggregateTest {
    AggregateTest {
        aggregate: Aggregate {
            function: AggregateFn::Count,
            chain,
            field: None,
        },
        test: Test::IsNotNull,
    }
}

#[test]
fn grouping_paths_that_meet_lists_the_pairs_a_walk_finds() {
    let store = store();
    let scored = PlanExpr::Field(crate::plan::FieldTest {
        field: crate::plan::FieldRef {
            entity: "lead".into(),
            field: "score".into(),
            ty: crate::plan::ValueType::Integer,
        },
        test: Test::Compare {
            op: crate::plan::CmpOp::Gt,
            value: crate::plan::Value::Integer(3),
        },
    });
    // Accounts → contacts → leads → their accounts, and contacts → leads →
    // accounts → their contacts' account.
    let chains = [
        (
            "account",
            vec![
                PlanHop {
                    link: link("contact_parent_account", "account", "contact"),
                    filter: PlanExpr::Const(true),
                },
                PlanHop {
                    link: link("lead_parent_contact", "contact", "lead"),
                    filter: scored.clone(),
                },
                PlanHop {
                    link: up("lead_parent_account", "lead", "account"),
                    filter: PlanExpr::Const(true),
                },
            ],
        ),
        (
            "contact",
            vec![
                PlanHop {
                    link: link("lead_parent_contact", "contact", "lead"),
                    filter: scored,
                },
                PlanHop {
                    link: up("lead_parent_account", "lead", "account"),
                    filter: PlanExpr::Const(true),
                },
            ],
        ),
    ];
    for (entity, chain) in chains {
        let (table, _) = store.table(entity).unwrap();
        let node =
            compile_aggregate(&count_over(chain), &store, table, chrono::Utc::now()).unwrap();
        let passing: Vec<_> = node.hops.iter().map(|h| h.passing().unwrap()).collect();
        let only = passing.last().unwrap().as_ref();
        let grouped = chain::grouped(&node.hops, &passing, only, node.rows).unwrap();
        let walk = Pairs::Walk {
            hops: &node.hops,
            passing: &passing,
            only,
            groups: node.rows,
        };
        let pairs = listed(&Pairs::Grouped(&grouped));
        assert_eq!(pairs, listed(&walk), "{entity}");
        let mut distinct = pairs.clone();
        distinct.dedup();
        assert_eq!(distinct, pairs);
        assert!(pairs.len() > 10, "{entity}: {}", pairs.len());
    }
}

#[test]
fn following_parents_up_lists_the_pairs_a_walk_finds() {
    let store = store();
    let test = count_over(vec![
        PlanHop {
            link: link("contact_parent_account", "account", "contact"),
            filter: PlanExpr::Const(true),
        },
        PlanHop {
            link: link("interaction_contact", "contact", "interaction"),
            filter: PlanExpr::Const(true),
        },
    ]);
    let (table, _) = store.table("account").unwrap();
    let node = compile_aggregate(&test, &store, table, chrono::Utc::now()).unwrap();
    let passing: Vec<_> = node.hops.iter().map(|h| h.passing().unwrap()).collect();
    let pairs = listed;
    let via = chain::groups_above(&node.hops[..1], &passing);
    let up = pairs(&Pairs::Up {
        parent_of: &node.hops[1].link.parent_of,
        via: via.as_deref(),
        only: None,
    });
    let walk = pairs(&Pairs::Walk {
        hops: &node.hops,
        passing: &passing,
        only: None,
        groups: node.rows,
    });
    assert_eq!(up, walk);
    assert!(up.len() > 100, "{}", up.len());
}

#[test]
fn sums_of_ordinary_amounts_need_no_second_pass() {
    // Amounts in cents up to a million, in 16 groups.
    let data: Vec<f64> = (0..100_000u64)
        .map(|i| ((i * 7919) % 100_000_000) as f64 / 100.0)
        .collect();
    let rows: Vec<u32> = (0..data.len() as u32).collect();
    let mut acc = DecSum::new(&data, 16, false);
    for &r in &rows {
        acc.add(r as usize % 16, r as usize);
    }
    assert!(!acc.inexact());
    let test = ValueTest::Present;
    assert!(acc.finish_sum(&test).pass.all());
}

#[test]
fn only_groups_that_lost_bits_are_summed_again() {
    let data = [1e300, 1e200, 1.0, -1e300, -1e200, 0.1, 0.2];
    // Group 0 gets the first five values, group 1 the last two.
    let groups = [0, 0, 0, 0, 0, 1, 1];
    let pairs = Pairs::Up {
        parent_of: &groups,
        via: None,
        only: None,
    };
    let sum_is = |x: f64| {
        let test = ValueTest::Real(compare::RealTest::Cmp(crate::plan::CmpOp::Eq, x));
        fold(DecSum::new(&data, 2, false), &pairs)
            .finish_sum(&test)
            .pass
    };
    // Group 0's compensation lost the 1 under 1e200's rounding error: summed
    // again exactly, it is 1.
    assert!(sum_is(1.0).get(0));
    // 0.1 + 0.2 is exactly a tie between two doubles, rounded to even:
    // 0.30000000000000004, as plain addition also gives. Group 1 kept its
    // compensated sum.
    assert!(sum_is(0.1 + 0.2).get(1));
}
