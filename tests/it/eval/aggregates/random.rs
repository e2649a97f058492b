//! Generated aggregates against a plain reference: random small CRM data
//! (NULLs, missing and dangling foreign keys) and random chains of one to
//! three hops in every direction, with filters (field tests, `has`, nested
//! aggregates), every function over every orderable field, and every test
//! with and without `not`.
//!
//! The reference follows SPEC §2.5 word for word, one record at a time:
//! the set of end records reachable from the record (a `BTreeSet`, so
//! distinct by construction), then the value with exact arithmetic. Hop
//! filters are the one thing it leaves to the engine (`eval::evaluate` of
//! the filter on the hop's entity): those are tested on their own here
//! whenever they are aggregates, and elsewhere otherwise.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use segql::eval::{self, Store, StoreBuilder};
use segql::plan::*;
use segql::schema::crm_schema;
use uuid::Uuid;

use super::build::{self, field_ref};
use super::now;

const INTS: &[i64] = &[-3, 0, 1, 2, 5, 10, 1000, 123_456];
/// Multiples of 1/16, so the reference sums them exactly in fixed point.
const DECIMALS: &[f64] = &[
    -2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.25, 10.0, 1000.5, 1e16, -1e16,
];
const TEXTS: &[&str] = &["", "a", "B", "Zoë", "é", "apple", "Apple", "日本"];
const DAYS: &[&str] = &["2025-09-01", "2025-12-31", "2026-01-10", "2026-01-15"];

/// Relationships: (name, child, foreign key, parent).
const LINKS: &[(&str, &str, &str, &str)] = &[
    ("lead_parent_contact", "lead", "contact_id", "contact"),
    ("lead_parent_account", "lead", "account_id", "account"),
    ("contact_parent_account", "contact", "account_id", "account"),
    (
        "interaction_contact",
        "interaction",
        "contact_id",
        "contact",
    ),
];

/// Fields the generator fills, per entity (foreign keys aside).
fn fields(entity: &str) -> &'static [&'static str] {
    match entity {
        "account" => &[
            "employees",
            "annual_revenue",
            "name",
            "industry",
            "created_on",
        ],
        "contact" => &["role", "consent_level", "birth_date", "city"],
        "lead" => &["score", "estimated_value", "status", "topic", "created_on"],
        _ => &["type", "occurred_on", "detail"],
    }
}

type Record = BTreeMap<String, Value>;

/// The data, as the reference reads it: records by entity, by id.
struct Data {
    records: BTreeMap<String, BTreeMap<u128, Record>>,
}

fn uuid(n: u128) -> Value {
    Value::Uuid(Uuid::from_u128(n))
}

/// A random value of `entity.field`, in the form `StoreBuilder` takes.
fn value(rng: &mut ChaCha8Rng, ty: ValueType) -> Value {
    match ty {
        ValueType::Integer => Value::Integer(*INTS.choose(rng).unwrap()),
        ValueType::Decimal => Value::Decimal(*DECIMALS.choose(rng).unwrap()),
        ValueType::Text => Value::Text(TEXTS.choose(rng).unwrap().to_string()),
        ValueType::Choice => Value::Choice {
            code: rng.gen_range(1..=4),
            label: Default::default(),
        },
        ValueType::Date => Value::Date(DAYS.choose(rng).unwrap().parse().unwrap()),
        ValueType::DateTime => {
            let day: NaiveDate = DAYS.choose(rng).unwrap().parse().unwrap();
            let hour = [0, 12, 13][rng.gen_range(0..3)];
            Value::DateTime(day.and_hms_opt(hour, 0, 0).unwrap().and_utc())
        }
        ValueType::Uuid | ValueType::Bool => unreachable!("not generated"),
    }
}

fn generate(rng: &mut ChaCha8Rng) -> (Store, Data) {
    let sizes = [
        ("account", 0x1000, 5),
        ("contact", 0x2000, 10),
        ("lead", 0x3000, 24),
        ("interaction", 0x4000, 20),
    ];
    let base = |entity: &str| {
        sizes
            .iter()
            .find(|s| s.0 == entity)
            .map(|s| (s.1, s.2))
            .unwrap()
    };
    let mut records: BTreeMap<String, BTreeMap<u128, Record>> = BTreeMap::new();
    for &(entity, start, n) in &sizes {
        for i in 0..n {
            let mut r = Record::new();
            for &f in fields(entity) {
                if rng.gen_bool(0.8) {
                    r.insert(f.into(), value(rng, field_ref(entity, f).ty));
                }
            }
            for &(_, child, fk, parent) in LINKS {
                if child != entity {
                    continue;
                }
                let (pstart, pn) = base(parent);
                // Mostly a real parent; sometimes none, or one that does not exist.
                match rng.gen_range(0..10) {
                    0 => {}
                    1 => {
                        r.insert(fk.into(), uuid(0xdead_0000 + rng.gen_range(0..3)));
                    }
                    _ => {
                        r.insert(fk.into(), uuid(pstart + rng.gen_range(0..pn)));
                    }
                }
            }
            records
                .entry(entity.into())
                .or_default()
                .insert(start + i, r);
        }
    }
    let mut b = StoreBuilder::new(&crm_schema());
    for (entity, recs) in &records {
        for (&id, r) in recs {
            let mut row: Vec<(&str, Value)> = vec![("id", uuid(id))];
            row.extend(r.iter().map(|(f, v)| (f.as_str(), v.clone())));
            b.insert(entity, row).unwrap();
        }
    }
    (b.build().unwrap(), Data { records })
}

impl Data {
    /// The parent of record `id` of `child` along `fk`, if it exists.
    fn parent(&self, child: &str, id: u128, fk: &str, parent: &str) -> Option<u128> {
        let Some(Value::Uuid(p)) = self.records[child][&id].get(fk) else {
            return None;
        };
        let p = p.as_u128();
        self.records[parent].contains_key(&p).then_some(p)
    }

    /// The distinct end records of `chain` from record `id`,
    /// through records in `passing` (per hop).
    fn reach(&self, id: u128, chain: &[Hop], passing: &[BTreeSet<u128>]) -> BTreeSet<u128> {
        let mut here = BTreeSet::from([id]);
        for (hop, keep) in chain.iter().zip(passing) {
            let &(_, child, fk, parent) =
                LINKS.iter().find(|l| l.0 == hop.link.relationship).unwrap();
            let next: BTreeSet<u128> = match hop.link.direction {
                Direction::ToParent => here
                    .iter()
                    .filter_map(|&r| self.parent(child, r, fk, parent))
                    .collect(),
                Direction::ToChildren => self.records[child]
                    .keys()
                    .filter(|&&c| {
                        self.parent(child, c, fk, parent)
                            .is_some_and(|p| here.contains(&p))
                    })
                    .copied()
                    .collect(),
            };
            here = next.intersection(keep).copied().collect();
        }
        here
    }
}

/// An aggregate's value as the reference computes it.
#[derive(Debug, PartialEq, PartialOrd)]
enum Val {
    Num(f64),
    Code(i64),
    Days(i64),
    Seconds(i64),
    Text(String),
}

fn days(d: NaiveDate) -> i64 {
    d.num_days_from_ce() as i64
}

fn as_val(v: &Value) -> Val {
    match v {
        Value::Integer(i) => Val::Num(*i as f64),
        Value::Decimal(x) => Val::Num(*x),
        Value::Choice { code, .. } => Val::Code(*code),
        Value::Date(d) => Val::Days(days(*d)),
        Value::DateTime(t) => Val::Seconds(t.timestamp()),
        Value::Text(s) => Val::Text(s.clone()),
        other => panic!("no reference value for {other:?}"),
    }
}

/// The aggregate over `ends` (records of the chain's last entity).
fn reference_value(data: &Data, aggregate: &Aggregate, ends: &BTreeSet<u128>) -> Option<Val> {
    let Some(field) = &aggregate.field else {
        return Some(Val::Num(ends.len() as f64));
    };
    let target = &data.records[aggregate.target()];
    let values: Vec<&Value> = ends
        .iter()
        .filter_map(|e| target[e].get(field.field.as_str()))
        .collect();
    let n = values.len();
    // Exact: integers as they are, decimals in sixteenths.
    let fixed = |v: &Value| match v {
        Value::Integer(i) => (*i as i128, 1i128),
        Value::Decimal(x) => ((x * 16.0) as i128, 16),
        other => panic!("not a number: {other:?}"),
    };
    let sum = || values.iter().map(|v| fixed(v).0).sum::<i128>();
    let scale = if field.ty == ValueType::Decimal {
        16
    } else {
        1
    };
    match aggregate.function {
        AggregateFn::Count => unreachable!(),
        AggregateFn::Sum => Some(Val::Num(sum() as f64 / scale as f64)),
        AggregateFn::Avg => (n > 0).then(|| Val::Num(sum() as f64 / (scale * n as i128) as f64)),
        AggregateFn::Min => values
            .iter()
            .map(|v| as_val(v))
            .min_by(|a, b| a.partial_cmp(b).unwrap()),
        AggregateFn::Max => values
            .iter()
            .map(|v| as_val(v))
            .max_by(|a, b| a.partial_cmp(b).unwrap()),
    }
}

/// Whether `v` passes `test`, per SPEC §2.3 (a missing value fails).
fn reference_test(v: Option<&Val>, test: &Test, form: &Val) -> bool {
    let Some(v) = v else {
        return false;
    };
    let lit = |x: &Value| {
        let x = x.resolve(now()).unwrap();
        match (form, &x) {
            // A date on a date-time means its midnight.
            (Val::Seconds(_), Value::Date(d)) => {
                Val::Seconds(d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp())
            }
            _ => as_val(&x),
        }
    };
    match test {
        Test::IsNotNull => true,
        Test::Compare { op, value } => {
            let x = lit(value);
            match op {
                CmpOp::Eq => *v == x,
                CmpOp::Lt => *v < x,
                CmpOp::Le => *v <= x,
                CmpOp::Gt => *v > x,
                CmpOp::Ge => *v >= x,
            }
        }
        Test::Between { low, high } => lit(low) <= *v && *v <= lit(high),
        other => panic!("not an aggregate test: {other:?}"),
    }
}

/// A literal for a value of the aggregate's form.
fn literal(rng: &mut ChaCha8Rng, aggregate: &Aggregate) -> Value {
    let ty = aggregate.value_type();
    match ty {
        ValueType::Integer if aggregate.function == AggregateFn::Count || rng.gen_bool(0.5) => {
            Value::Integer(rng.gen_range(-1..4) * [1, 5, 1000][rng.gen_range(0..3)])
        }
        ValueType::Integer | ValueType::Decimal => {
            if rng.gen_bool(0.3) {
                Value::Integer(*INTS.choose(rng).unwrap())
            } else {
                Value::Decimal(*DECIMALS.choose(rng).unwrap())
            }
        }
        ValueType::Date if rng.gen_bool(0.3) => Value::TodayPlusDays(-rng.gen_range(0..140)),
        ValueType::DateTime if rng.gen_bool(0.3) => Value::NowPlusSeconds {
            seconds: -rng.gen_range(0..140) * 43_200,
            midnight: rng.gen_bool(0.5),
        },
        ValueType::DateTime if rng.gen_bool(0.2) => {
            Value::Date(DAYS.choose(rng).unwrap().parse().unwrap())
        }
        ty => value(rng, ty),
    }
}

/// The form the reference gives a value of `aggregate`.
fn form(aggregate: &Aggregate) -> Val {
    match aggregate.value_type() {
        ValueType::Date => Val::Days(0),
        ValueType::DateTime => Val::Seconds(0),
        ValueType::Text => Val::Text(String::new()),
        ValueType::Choice => Val::Code(0),
        _ => Val::Num(0.0),
    }
}

struct Gen {
    rng: ChaCha8Rng,
}

impl Gen {
    /// A random hop from `from`.
    fn hop(&mut self, from: &str, depth: u32) -> Hop {
        let touching: Vec<&str> = LINKS
            .iter()
            .filter(|l| l.1 == from || l.3 == from)
            .map(|l| l.0)
            .collect();
        let rel = *touching.choose(&mut self.rng).unwrap();
        let to = build::hop(from, rel, PlanExpr::Const(true)).link.to;
        let filter = self.filter(&to, depth);
        build::hop(from, rel, filter)
    }

    /// A hop filter on `entity`: none, a field test, `has`, or an aggregate.
    fn filter(&mut self, entity: &str, depth: u32) -> PlanExpr {
        match self.rng.gen_range(0..10) {
            0..=4 => PlanExpr::Const(true),
            5..=7 => {
                let f = *fields(entity).choose(&mut self.rng).unwrap();
                let r = field_ref(entity, f);
                let value = value(&mut self.rng, r.ty);
                let op = [CmpOp::Eq, CmpOp::Lt, CmpOp::Ge][self.rng.gen_range(0..3)];
                PlanExpr::Field(FieldTest {
                    field: r,
                    test: Test::Compare { op, value },
                })
            }
            8 if depth > 0 => self.aggregate_test(entity, depth - 1).0,
            _ => {
                let hop = self.hop(entity, 0);
                PlanExpr::Related(Related {
                    link: hop.link,
                    quantifier: Quantifier::Any,
                    filter: Box::new(hop.filter),
                })
            }
        }
    }

    /// A random aggregate test on `entity`, and the aggregate.
    fn aggregate_test(&mut self, entity: &str, depth: u32) -> (PlanExpr, Aggregate) {
        let len = self.rng.gen_range(1..=3);
        let mut chain = Vec::new();
        let mut at = entity.to_string();
        for _ in 0..len {
            let h = self.hop(&at, depth);
            at = h.link.to.to_string();
            chain.push(h);
        }
        let function = *AggregateFn::ALL.choose(&mut self.rng).unwrap();
        let numeric: Vec<&str> = fields(&at)
            .iter()
            .copied()
            .filter(|f| {
                matches!(
                    field_ref(&at, f).ty,
                    ValueType::Integer | ValueType::Decimal
                )
            })
            .collect();
        let (function, field) = match function {
            AggregateFn::Count => (function, None),
            AggregateFn::Sum | AggregateFn::Avg if numeric.is_empty() => (AggregateFn::Count, None),
            AggregateFn::Sum | AggregateFn::Avg => {
                (function, Some(*numeric.choose(&mut self.rng).unwrap()))
            }
            _ => (function, Some(*fields(&at).choose(&mut self.rng).unwrap())),
        };
        let aggregate = Aggregate {
            function,
            chain,
            field: field.map(|f| field_ref(&at, f)),
        };
        let test = match self.rng.gen_range(0..6) {
            0 => Test::IsNotNull,
            1 => Test::between(
                literal(&mut self.rng, &aggregate),
                literal(&mut self.rng, &aggregate),
            ),
            _ => Test::Compare {
                op: [CmpOp::Eq, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge]
                    [self.rng.gen_range(0..5)],
                value: literal(&mut self.rng, &aggregate),
            },
        };
        let expr = PlanExpr::aggregate(AggregateTest {
            aggregate: aggregate.clone(),
            test,
        });
        (expr, aggregate)
    }
}

#[test]
fn generated_aggregates_agree_with_the_reference() {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(2025),
    };
    let mut proper = 0;
    for round in 0..40 {
        let (store, data) = generate(&mut g.rng);
        for case in 0..25 {
            let entity = *["account", "contact", "lead", "interaction"]
                .choose(&mut g.rng)
                .unwrap();
            let (expr, aggregate) = g.aggregate_test(entity, 1);
            let PlanExpr::Aggregate(aggregate_test) = &expr else {
                unreachable!()
            };
            let test = &aggregate_test.test;
            let negate = g.rng.gen_bool(0.3);
            let passing: Vec<BTreeSet<u128>> = aggregate
                .chain
                .iter()
                .map(|hop| {
                    let plan = Plan {
                        entity: hop.link.to.to_string(),
                        filter: hop.filter.clone(),
                    };
                    eval::evaluate(&plan, &store, now())
                        .unwrap()
                        .iter()
                        .map(|u| u.as_u128())
                        .collect()
                })
                .collect();
            let want: Vec<u128> = data.records[entity]
                .keys()
                .copied()
                .filter(|&id| {
                    let ends = data.reach(id, &aggregate.chain, &passing);
                    let v = reference_value(&data, &aggregate, &ends);
                    reference_test(v.as_ref(), test, &form(&aggregate)) != negate
                })
                .collect();
            let expr = if negate { build::not(expr) } else { expr };
            let got = build::run(&store, now(), entity, expr.clone());
            assert_eq!(got, want, "round {round}, case {case}: {expr}");
            proper += usize::from(!want.is_empty() && want.len() < data.records[entity].len());
        }
    }
    assert!(proper > 250, "only {proper} cases selected a proper subset");
}
