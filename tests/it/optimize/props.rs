//! Property tests of the optimizer: on random plans over a small made-up
//! schema, optimizing keeps the meaning (checked with a reference evaluator
//! written here, over random rows), is idempotent, and every single rule
//! firing keeps the meaning of the node it rewrote.
//!
//! The schema: one entity `e` with one field of each kind of value, two
//! one-to-many links (`kids`, `pets`) and two many-to-one links (`up`,
//! `boss`) from `e` to `e`, so relationship tests nest freely.

use std::cmp::Ordering;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use segql::optimize::{optimize, optimize_traced};
use segql::plan::*;

const ROWS: usize = 6;

/// The fields, by index into a row.
const FIELDS: [(&str, ValueType); 7] = [
    ("n", ValueType::Integer),
    ("d", ValueType::Decimal),
    ("s", ValueType::Text),
    ("b", ValueType::Bool),
    ("c", ValueType::Choice),
    ("day", ValueType::Date),
    ("at", ValueType::DateTime),
];

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-05-10T12:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .expect("a valid fixed time")
}

fn field_ref(index: usize) -> FieldRef {
    FieldRef {
        entity: "e".into(),
        field: FIELDS[index].0.into(),
        ty: FIELDS[index].1,
    }
}

fn link(name: &str, direction: Direction) -> Link {
    Link {
        relationship: name.into(),
        direction,
        from: "e".into(),
        to: "e".into(),
    }
}

fn links() -> Vec<Link> {
    vec![
        link("kids", Direction::ToChildren),
        link("pets", Direction::ToChildren),
        link("up", Direction::ToParent),
        link("boss", Direction::ToParent),
    ]
}

// ---------------------------------------------------------------- values

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, day).expect("a valid May date")
}

/// Absolute values a field of kind `ty` may hold (also usable as literals).
fn stored_value(ty: ValueType) -> BoxedStrategy<Value> {
    match ty {
        ValueType::Integer => (-2i64..=3).prop_map(Value::Integer).boxed(),
        ValueType::Decimal => prop::sample::select(vec![-1.5, 0.0, 0.5, 1.0, 2.0])
            .prop_map(Value::Decimal)
            .boxed(),
        ValueType::Text => prop::sample::select(vec!["", "a", "b", "ab", "B", "Ab", "é"])
            .prop_map(|s| Value::Text(s.to_string()))
            .boxed(),
        ValueType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        ValueType::Choice => (1i64..=3)
            .prop_map(|code| Value::Choice {
                code,
                label: format!("L{code}").into(),
            })
            .boxed(),
        ValueType::Date => (8u32..=12).prop_map(|d| Value::Date(date(d))).boxed(),
        ValueType::DateTime => (-3i64..=3)
            .prop_map(|h| Value::DateTime(now() + Duration::hours(h * 4)))
            .boxed(),
        ValueType::Uuid => unreachable!("no uuid field in the test schema"),
    }
}

/// Literals for a field of kind `ty`: its own values, the other number kind
/// for numbers, relative times for dates and times.
fn literal(ty: ValueType) -> BoxedStrategy<Value> {
    match ty {
        ValueType::Integer => prop_oneof![
            3 => stored_value(ty),
            1 => stored_value(ValueType::Decimal),
        ]
        .boxed(),
        ValueType::Decimal => prop_oneof![
            3 => stored_value(ty),
            1 => stored_value(ValueType::Integer),
        ]
        .boxed(),
        ValueType::Date => {
            prop_oneof![stored_value(ty), (-2i64..=2).prop_map(Value::TodayPlusDays),].boxed()
        }
        ValueType::DateTime => prop_oneof![
            stored_value(ty),
            ((-3i64..=3), any::<bool>()).prop_map(|(h, midnight)| Value::NowPlusSeconds {
                seconds: h * 4 * 3600,
                midnight,
            }),
        ]
        .boxed(),
        other => stored_value(other),
    }
}

// ----------------------------------------------------------------- plans

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(vec![CmpOp::Eq, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge])
}

/// The field index of a test: few fields get most tests, so tests of one
/// field meet often.
fn field_index() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![0, 0, 0, 1, 2, 2, 3, 4, 5, 6, 6])
}

fn field_test() -> BoxedStrategy<PlanExpr> {
    field_index().prop_flat_map(field_test_on).boxed()
}

/// Two to four tests of one field under one `and` or `or`, some negated.
fn field_group() -> BoxedStrategy<PlanExpr> {
    field_index()
        .prop_flat_map(|index| {
            (
                prop::collection::vec((field_test_on(index), any::<bool>()), 2..5),
                any::<bool>(),
            )
        })
        .prop_map(|(tests, is_and)| {
            let items = tests
                .into_iter()
                .map(|(t, negated)| {
                    if negated {
                        PlanExpr::Not(Box::new(t))
                    } else {
                        t
                    }
                })
                .collect();
            if is_and {
                PlanExpr::And(items)
            } else {
                PlanExpr::Or(items)
            }
        })
        .boxed()
}

fn field_test_on(index: usize) -> BoxedStrategy<PlanExpr> {
    let ty = FIELDS[index].1;
    let mut tests: Vec<BoxedStrategy<Test>> = vec![
        (cmp_op(), literal(ty))
            .prop_map(|(op, value)| Test::Compare { op, value })
            .boxed(),
        (cmp_op(), literal(ty))
            .prop_map(|(op, value)| Test::Compare { op, value })
            .boxed(),
        Just(Test::IsNotNull).boxed(),
        prop::collection::vec(literal(ty), 0..4)
            .prop_map(Test::InList)
            .boxed(),
        // Long enough for the sorting paths of list deduplication.
        prop::collection::vec(stored_value(ty), 33..50)
            .prop_map(Test::InList)
            .boxed(),
        (literal(ty), literal(ty))
            .prop_map(|(low, high)| Test::between(low, high))
            .boxed(),
    ];
    if ty == ValueType::Text {
        let op = prop::sample::select(vec![TextOp::Contains, TextOp::StartsWith, TextOp::EndsWith]);
        let pattern = prop::sample::select(vec!["", "a", "B", "ab"]);
        tests.push(
            (op, pattern)
                .prop_map(|(op, p)| Test::Text {
                    op,
                    pattern: p.to_string(),
                })
                .boxed(),
        );
    }
    prop::strategy::Union::new(tests)
        .prop_map(move |test| {
            PlanExpr::Field(FieldTest {
                field: field_ref(index),
                test,
            })
        })
        .boxed()
}

fn quantifier() -> impl Strategy<Value = Quantifier> {
    prop_oneof![
        3 => Just(Quantifier::Any),
        2 => Just(Quantifier::No),
        1 => (0u64..=3).prop_map(Quantifier::AtLeast),
        1 => (0u64..=3).prop_map(Quantifier::AtMost),
        1 => (0u64..=3).prop_map(Quantifier::Exactly),
    ]
}

/// An aggregate over one to three hops, each filtered by `inner` or not,
/// with a test typed to its value.
fn aggregate(inner: BoxedStrategy<PlanExpr>) -> BoxedStrategy<PlanExpr> {
    let hop = (
        prop::sample::select(links()),
        prop::option::weighted(0.5, inner),
    )
        .prop_map(|(link, filter)| Hop {
            link,
            filter: filter.unwrap_or(PlanExpr::Const(true)),
        });
    let chain = prop::collection::vec(hop, 1..=3);
    // (function, field index): numbers for sum/avg, anything ordered for
    // min/max, no field for count.
    let shapes = vec![
        (AggregateFn::Count, None),
        (AggregateFn::Count, None),
        (AggregateFn::Sum, Some(0)),
        (AggregateFn::Sum, Some(1)),
        (AggregateFn::Avg, Some(0)),
        (AggregateFn::Min, Some(0)),
        (AggregateFn::Max, Some(1)),
        (AggregateFn::Min, Some(2)),
        (AggregateFn::Max, Some(6)),
    ];
    (chain, prop::sample::select(shapes))
        .prop_flat_map(|(chain, (function, field))| {
            let aggregate = Aggregate {
                function,
                chain,
                field: field.map(field_ref),
            };
            let ty = aggregate.value_type();
            let value = match function {
                AggregateFn::Count => prop_oneof![
                    3 => (-1i64..=3).prop_map(Value::Integer),
                    1 => Just(Value::Decimal(1.5)),
                ]
                .boxed(),
                _ => literal(ty),
            };
            let test = prop_oneof![
                4 => (cmp_op(), value.clone()).prop_map(|(op, value)| Test::Compare { op, value }),
                1 => Just(Test::IsNotNull),
                2 => (value.clone(), value).prop_map(|(low, high)| Test::between(low, high)),
            ];
            (Just(aggregate), test)
        })
        .prop_map(|(aggregate, test)| PlanExpr::aggregate(AggregateTest { aggregate, test }))
        .boxed()
}

fn plan_expr() -> impl Strategy<Value = PlanExpr> {
    let leaf = prop_oneof![
        1 => any::<bool>().prop_map(PlanExpr::Const),
        6 => field_test(),
        3 => field_group(),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            2 => inner.clone().prop_map(|e| PlanExpr::Not(Box::new(e))),
            3 => prop::collection::vec(inner.clone(), 0..5).prop_map(PlanExpr::And),
            3 => prop::collection::vec(inner.clone(), 0..5).prop_map(PlanExpr::Or),
            3 => (prop::sample::select(links()), quantifier(), inner.clone()).prop_map(
                |(link, quantifier, filter)| {
                    PlanExpr::Related(Related {
                        link,
                        quantifier,
                        filter: Box::new(filter),
                    })
                }
            ),
            2 => aggregate(inner.clone().boxed()),
            // `has R(e)` next to an aggregate over `R(e)`.
            1 => (aggregate(inner.clone().boxed()), any::<bool>()).prop_map(|(agg, is_and)| {
                let PlanExpr::Aggregate(test) = &agg else {
                    unreachable!("an aggregate")
                };
                let first = &test.aggregate.chain[0];
                let has = PlanExpr::Related(Related {
                    link: first.link.clone(),
                    quantifier: Quantifier::Any,
                    filter: Box::new(first.filter.clone()),
                });
                if is_and { PlanExpr::And(vec![has, agg]) } else { PlanExpr::Or(vec![has, agg]) }
            }),
            // An item next to its own negation.
            1 => (inner.clone(), inner.clone(), any::<bool>()).prop_map(|(a, b, is_and)| {
                let items = vec![a.clone(), b, PlanExpr::Not(Box::new(a))];
                if is_and { PlanExpr::And(items) } else { PlanExpr::Or(items) }
            }),
            // An item next to a list that contains it.
            1 => (inner.clone(), inner.clone(), any::<bool>()).prop_map(|(a, b, is_and)| {
                if is_and {
                    PlanExpr::And(vec![PlanExpr::Or(vec![b, a.clone()]), a])
                } else {
                    PlanExpr::Or(vec![a.clone(), PlanExpr::And(vec![a, b])])
                }
            }),
            // Two tests of one link side by side.
            2 => (
                prop::sample::select(links()),
                prop::sample::select(vec![Quantifier::Any, Quantifier::No]),
                prop::sample::select(vec![Quantifier::Any, Quantifier::No]),
                inner.clone(),
                inner,
                any::<bool>(),
            )
                .prop_map(|(link, q1, q2, a, b, is_and)| {
                    let has = |quantifier, filter| {
                        PlanExpr::Related(Related {
                            link: link.clone(),
                            quantifier,
                            filter: Box::new(filter),
                        })
                    };
                    let items = vec![has(q1, a), has(q2, b)];
                    if is_and { PlanExpr::And(items) } else { PlanExpr::Or(items) }
                }),
        ]
    })
}

// ------------------------------------------------------------------ data

/// A data set: rows of optional values, and for each link the related rows.
#[derive(Debug, Clone)]
struct World {
    rows: Vec<Vec<Option<Value>>>,
    kids: Vec<Vec<usize>>,
    pets: Vec<Vec<usize>>,
    up: Vec<Option<usize>>,
    boss: Vec<Option<usize>>,
}

fn world() -> impl Strategy<Value = World> {
    let row = FIELDS
        .iter()
        .map(|(_, ty)| prop::option::weighted(0.8, stored_value(*ty)))
        .collect::<Vec<_>>();
    // A record is a child of a parent once (as a foreign key makes it).
    let children = prop::collection::vec(prop::collection::btree_set(0..ROWS, 0..4), ROWS)
        .prop_map(|lists| lists.into_iter().map(|l| l.into_iter().collect()).collect());
    let parents = prop::collection::vec(prop::option::of(0..ROWS), ROWS);
    (
        prop::collection::vec(row, ROWS),
        children.clone(),
        children,
        parents.clone(),
        parents,
    )
        .prop_map(|(rows, kids, pets, up, boss)| World {
            rows,
            kids,
            pets,
            up,
            boss,
        })
}

// ------------------------------------------------------ reference meaning

impl World {
    fn related(&self, link: &Link, row: usize) -> Vec<usize> {
        match link.relationship.as_str() {
            "kids" => self.kids[row].clone(),
            "pets" => self.pets[row].clone(),
            "up" => self.up[row].into_iter().collect(),
            "boss" => self.boss[row].into_iter().collect(),
            other => panic!("unknown link {other}"),
        }
    }

    /// SPEC §2.3, written as plainly as possible.
    fn eval(&self, expr: &PlanExpr, row: usize) -> bool {
        match expr {
            PlanExpr::Const(b) => *b,
            PlanExpr::Not(inner) => !self.eval(inner, row),
            PlanExpr::Segment(segment) => self.eval(&segment.filter, row),
            PlanExpr::And(items) => items.iter().all(|e| self.eval(e, row)),
            PlanExpr::Or(items) => items.iter().any(|e| self.eval(e, row)),
            PlanExpr::Aggregate(test) => match self.aggregate(&test.aggregate, row) {
                Some(value) => test_value(&value, &test.test),
                None => false,
            },
            PlanExpr::Related(r) => {
                let count = self
                    .related(&r.link, row)
                    .into_iter()
                    .filter(|&other| self.eval(&r.filter, other))
                    .count();
                r.quantifier.accepts(count as u64)
            }
            PlanExpr::Field(t) => {
                let index = FIELDS
                    .iter()
                    .position(|(name, _)| *name == t.field.field)
                    .expect("a known field");
                match &self.rows[row][index] {
                    None => false,
                    Some(value) => test_value(value, &t.test),
                }
            }
        }
    }
}

impl World {
    /// SPEC 2.5 plainly: the distinct records at the end of the chain, then
    /// the function over their non-missing values.
    fn aggregate(&self, aggregate: &Aggregate, row: usize) -> Option<Value> {
        let mut reached = vec![row];
        for hop in &aggregate.chain {
            let mut next: Vec<usize> = reached
                .iter()
                .flat_map(|&r| self.related(&hop.link, r))
                .filter(|&other| self.eval(&hop.filter, other))
                .collect();
            next.sort_unstable();
            next.dedup();
            reached = next;
        }
        let Some(field) = &aggregate.field else {
            return Some(Value::Integer(reached.len() as i64));
        };
        let index = FIELDS
            .iter()
            .position(|(name, _)| *name == field.field)
            .expect("a known field");
        let values: Vec<&Value> = reached
            .iter()
            .filter_map(|&r| self.rows[r][index].as_ref())
            .collect();
        let number = |v: &Value| match v {
            Value::Integer(n) => *n as f64,
            Value::Decimal(x) => *x,
            other => panic!("a number aggregate over {other:?}"),
        };
        // The test values are small and exact in binary, so plain sums are exact.
        match aggregate.function {
            AggregateFn::Count => unreachable!("count has no field"),
            AggregateFn::Sum => Some(match field.ty {
                ValueType::Integer => Value::Integer(values.iter().map(|v| number(v) as i64).sum()),
                _ => Value::Decimal(values.iter().map(|v| number(v)).sum()),
            }),
            AggregateFn::Avg if values.is_empty() => None,
            AggregateFn::Avg => Some(Value::Decimal(
                values.iter().map(|v| number(v)).sum::<f64>() / values.len() as f64,
            )),
            AggregateFn::Min => values
                .into_iter()
                .min_by(|a, b| order_of(a, b).expect("values of one field order"))
                .cloned(),
            AggregateFn::Max => values
                .into_iter()
                .max_by(|a, b| order_of(a, b).expect("values of one field order"))
                .cloned(),
        }
    }
}

fn test_value(value: &Value, test: &Test) -> bool {
    let order = |literal: &Value| {
        let literal = literal.resolve(now()).expect("test times are in range");
        order_of(value, &literal)
    };
    match test {
        Test::IsNotNull => true,
        Test::Compare { op, value: lit } => match (op, order(lit)) {
            (_, None) => false,
            (CmpOp::Eq, Some(o)) => o == Ordering::Equal,
            (CmpOp::Lt, Some(o)) => o == Ordering::Less,
            (CmpOp::Le, Some(o)) => o != Ordering::Greater,
            (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
            (CmpOp::Ge, Some(o)) => o != Ordering::Less,
        },
        Test::InList(values) => values.iter().any(|v| order(v) == Some(Ordering::Equal)),
        Test::Between { low, high } => {
            matches!(order(low), Some(Ordering::Greater | Ordering::Equal))
                && matches!(order(high), Some(Ordering::Less | Ordering::Equal))
        }
        Test::Text { op, pattern } => {
            let Value::Text(text) = value else {
                panic!("text test on {value:?}")
            };
            let text = text.to_ascii_lowercase();
            let pattern = pattern.to_ascii_lowercase();
            match op {
                TextOp::Contains => text.contains(&pattern),
                TextOp::StartsWith => text.starts_with(&pattern),
                TextOp::EndsWith => text.ends_with(&pattern),
            }
        }
    }
}

/// How a stored value orders against a resolved literal.
fn order_of(stored: &Value, literal: &Value) -> Option<Ordering> {
    use Value::*;
    match (stored, literal) {
        (Integer(a), Integer(b)) => Some(a.cmp(b)),
        (Integer(a), Decimal(b)) => (*a as f64).partial_cmp(b),
        (Decimal(a), Integer(b)) => a.partial_cmp(&(*b as f64)),
        (Decimal(a), Decimal(b)) => a.partial_cmp(b),
        (Text(a), Text(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Bool(a), Bool(b)) => Some(a.cmp(b)),
        (Choice { code: a, .. }, Choice { code: b, .. }) => Some(a.cmp(b)),
        (Date(a), Date(b)) => Some(a.cmp(b)),
        (DateTime(a), DateTime(b)) => Some(a.cmp(b)),
        (a, b) => panic!("the generator compared {a:?} with {b:?}"),
    }
}

/// 2,000 cases per property unless `PROPTEST_CASES` says otherwise.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000)
}

fn plan(filter: PlanExpr) -> Plan {
    Plan {
        entity: "e".into(),
        filter,
    }
}

fn assert_same_meaning(world: &World, a: &PlanExpr, b: &PlanExpr, what: &str) {
    for row in 0..ROWS {
        assert_eq!(
            world.eval(a, row),
            world.eval(b, row),
            "{what} changed the meaning on row {row}\nbefore: {a:?}\nafter: {b:?}\nworld: {world:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn optimizing_keeps_the_meaning(expr in plan_expr(), world in world()) {
        let optimized = optimize(plan(expr.clone()));
        assert_same_meaning(&world, &expr, &optimized.filter, "optimize");
    }

    #[test]
    fn every_firing_keeps_the_meaning(expr in plan_expr(), world in world()) {
        let (traced, firings) = optimize_traced(plan(expr.clone()));
        prop_assert_eq!(&traced, &optimize(plan(expr)));
        for firing in &firings {
            prop_assert_ne!(&firing.before, &firing.after, "{} fired without a change", firing.rule);
            assert_same_meaning(&world, &firing.before, &firing.after, firing.rule);
        }
    }

    #[test]
    fn optimizing_is_idempotent(expr in plan_expr()) {
        let once = optimize(plan(expr));
        let twice = optimize(once.clone());
        prop_assert_eq!(once, twice);
    }
}

/// Long `in` lists (sorted deduplication, binary-search membership: more
/// than 32 distinct values) mixed with short ones, equalities and their
/// negations on the integer field.
fn long_list_group() -> impl Strategy<Value = PlanExpr> {
    let value = || (-40i64..=40).prop_map(Value::Integer);
    let test = prop_oneof![
        2 => prop::collection::vec(value(), 40..80).prop_map(Test::InList),
        1 => prop::collection::vec(value(), 1..4).prop_map(Test::InList),
        1 => (-3i64..=3).prop_map(|n| Test::Compare { op: CmpOp::Eq, value: Value::Integer(n) }),
    ];
    (
        prop::collection::vec((test, any::<bool>()), 2..5),
        any::<bool>(),
    )
        .prop_map(|(tests, is_and)| {
            let items = tests
                .into_iter()
                .map(|(test, negated)| {
                    let t = PlanExpr::Field(FieldTest {
                        field: field_ref(0),
                        test,
                    });
                    if negated {
                        PlanExpr::Not(Box::new(t))
                    } else {
                        t
                    }
                })
                .collect();
            if is_and {
                PlanExpr::And(items)
            } else {
                PlanExpr::Or(items)
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases() / 4))]

    #[test]
    fn long_lists_keep_the_meaning(expr in long_list_group(), world in world()) {
        let (optimized, firings) = optimize_traced(plan(expr.clone()));
        assert_same_meaning(&world, &expr, &optimized.filter, "optimize");
        for firing in &firings {
            assert_same_meaning(&world, &firing.before, &firing.after, firing.rule);
        }
        prop_assert_eq!(optimize(optimized.clone()), optimized);
    }
}

/// The generator must reach every rule, or the properties above prove less
/// than they seem to.
#[test]
fn the_generator_exercises_every_rule() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};

    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let strategy = plan_expr();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for _ in 0..4000 {
        let expr = strategy
            .new_tree(&mut runner)
            .expect("the strategy generates")
            .current();
        for firing in optimize_traced(plan(expr)).1 {
            *counts.entry(firing.rule).or_default() += 1;
        }
    }
    eprintln!("firings per rule: {counts:?}");
    for rule in segql::optimize::rules::ALL {
        assert!(
            counts.contains_key(rule.name()),
            "{} never fired",
            rule.name()
        );
    }
}
