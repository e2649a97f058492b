//! `count` as a quantifier (SPEC 2.5: `has at least N R(e)` means
//! `count(R(e)) >= N`): one meaning, one canonical form, and the `has` form
//! is the one every back end already plans well.
//!
//! - One hop: `count(R(e)) >= 2` → `has at least 2 R(e)`, `count(R(e)) < 3`
//!   → `has at most 2 R(e)`, `= 1` → `has exactly 1`, `between 1 and 3` →
//!   `has at least 1 R(e) and has at most 3 R(e)`.
//! - Any chain: a test that no count can pass is `false`, one every count
//!   passes is `true` (`count(..) >= 0`, `count(..) < 0`, `is not null`);
//!   `count(a(e).b(f)) >= 1` → `has a(e and has b(f))`, and `= 0` its
//!   `has no` (chains of up to three hops: each hop past the first nests
//!   one level deeper, and the optimizer adds at most two). Other counts over longer chains stay aggregates: counting
//!   the distinct records at the end of a chain is not a nesting of `has`.

use crate::optimize::{NewNodes, Rule, Transformed};
use crate::plan::{AggregateFn, CmpOp, Hop, PlanExpr, Quantifier, Related, Test, Value};

/// Rewrites `count` tests into quantifiers or constants where it can.
pub struct CountAsQuantifier;

impl Rule for CountAsQuantifier {
    fn name(&self) -> &'static str {
        "count_as_quantifier"
    }

    fn looks_at(&self, expr: &PlanExpr) -> bool {
        matches!(expr, PlanExpr::Aggregate(_))
    }

    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        let PlanExpr::Aggregate(test) = expr else {
            return Transformed::no(expr);
        };
        if test.aggregate.function != AggregateFn::Count {
            return Transformed::no(PlanExpr::Aggregate(test));
        }
        let Some(counts) = Counts::of(&test.test) else {
            return Transformed::no(PlanExpr::Aggregate(test));
        };
        if let Some(constant) = counts.constant() {
            return Transformed::yes(PlanExpr::Const(constant));
        }
        let mut test = test;
        let hops = test.aggregate.chain.len();
        match counts.quantifier() {
            _ if hops == 1 => one_hop(test.aggregate.chain.swap_remove(0), counts),
            // Nesting adds a level per hop past the first; the optimizer may
            // add at most two levels to a plan (see `optimize::run`).
            Some(quantifier @ (Quantifier::Any | Quantifier::No)) if hops <= 3 => {
                nested(test.aggregate.chain, quantifier)
            }
            _ => Transformed::no(PlanExpr::Aggregate(test)),
        }
    }
}

/// The counts a test accepts: `low..=high` (no upper bound when `None`).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Counts {
    low: u64,
    high: Option<u64>,
    /// The test accepts no count at all.
    empty: bool,
}

impl Counts {
    fn of(test: &Test) -> Option<Counts> {
        let all = Counts {
            low: 0,
            high: None,
            empty: false,
        };
        match test {
            Test::IsNotNull => Some(all),
            Test::Compare { op, value } => {
                let (floor, ceil) = bounds(value)?;
                Some(match op {
                    CmpOp::Ge => all.at_least(ceil),
                    CmpOp::Gt => all.at_least(floor + 1),
                    CmpOp::Le => all.at_most(floor),
                    CmpOp::Lt => all.at_most(ceil - 1),
                    // A count equals only a whole number.
                    CmpOp::Eq if floor == ceil => all.at_least(floor).at_most(floor),
                    CmpOp::Eq => Counts { empty: true, ..all },
                })
            }
            Test::Between { low, high } => {
                let (_, low) = bounds(low)?;
                let (high, _) = bounds(high)?;
                Some(all.at_least(low).at_most(high))
            }
            Test::InList(_) | Test::Text { .. } => None,
        }
    }

    fn at_least(self, n: i128) -> Counts {
        let n = u64::try_from(n.max(0)).unwrap_or(u64::MAX);
        Counts {
            low: self.low.max(n),
            ..self
        }
    }

    fn at_most(self, n: i128) -> Counts {
        if n < 0 {
            return Counts {
                empty: true,
                ..self
            };
        }
        // Above u64 is no bound at all for a count.
        let Ok(n) = u64::try_from(n) else {
            return self;
        };
        Counts {
            high: Some(self.high.map_or(n, |h| h.min(n))),
            ..self
        }
    }

    fn constant(self) -> Option<bool> {
        if self.empty || self.high.is_some_and(|h| h < self.low) {
            return Some(false);
        }
        (self.low == 0 && self.high.is_none()).then_some(true)
    }

    /// The one quantifier meaning these counts, if there is one.
    fn quantifier(self) -> Option<Quantifier> {
        Some(match (self.low, self.high) {
            (0, Some(0)) => Quantifier::No,
            (0, Some(high)) => Quantifier::AtMost(high),
            (1, None) => Quantifier::Any,
            (low, None) => Quantifier::AtLeast(low),
            (low, Some(high)) if low == high => Quantifier::Exactly(low),
            _ => return None,
        })
    }
}

/// The whole numbers just below and above a number value (equal when it is
/// whole), as i128 so that neither end overflows.
fn bounds(value: &Value) -> Option<(i128, i128)> {
    match value {
        Value::Integer(n) => Some((i128::from(*n), i128::from(*n))),
        // Literals are finite; far beyond any count, clamping is exact enough.
        Value::Decimal(x) if x.is_finite() => {
            let clamp = |y: f64| y.clamp(-1e30, 1e30) as i128;
            Some((clamp(x.floor()), clamp(x.ceil())))
        }
        _ => None,
    }
}

fn one_hop(hop: Hop, counts: Counts) -> Transformed {
    let related = |quantifier| {
        PlanExpr::Related(Related {
            link: hop.link.clone(),
            quantifier,
            filter: Box::new(hop.filter.clone()),
        })
    };
    match counts.quantifier() {
        Some(quantifier) => Transformed::yes(related(quantifier)),
        None => {
            // Both bounds, different: two quantifiers, both new nodes.
            let (low, high) = (counts.low, counts.high.unwrap_or(u64::MAX));
            let both = PlanExpr::And(vec![
                related(Quantifier::AtLeast(low)),
                related(Quantifier::AtMost(high)),
            ]);
            Transformed::with_built(both, NewNodes::all(2, 1))
        }
    }
}

/// `has h0(f0 and has h1(f1 and ...))` with `quantifier` on the outer hop.
fn nested(chain: Vec<Hop>, quantifier: Quantifier) -> Transformed {
    let levels = 2 * chain.len();
    let mut inner: Option<PlanExpr> = None;
    for (i, hop) in chain.into_iter().enumerate().rev() {
        let filter = match (inner.take(), hop.filter) {
            (None, filter) => filter,
            (Some(next), PlanExpr::Const(true)) => next,
            (Some(next), filter) => PlanExpr::And(vec![filter, next]),
        };
        inner = Some(PlanExpr::Related(Related {
            link: hop.link,
            quantifier: if i == 0 { quantifier } else { Quantifier::Any },
            filter: Box::new(filter),
        }));
    }
    match inner {
        Some(expr) => Transformed::with_built(expr, NewNodes::all(1, levels)),
        None => Transformed::yes(PlanExpr::Const(quantifier == Quantifier::No)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::{Aggregate, AggregateTest, Direction, Link};

    fn count(hops: &[(&Link, PlanExpr)], test: Test) -> PlanExpr {
        PlanExpr::aggregate(AggregateTest {
            aggregate: Aggregate {
                function: AggregateFn::Count,
                chain: hops
                    .iter()
                    .map(|(link, filter)| Hop {
                        link: (*link).clone(),
                        filter: filter.clone(),
                    })
                    .collect(),
                field: None,
            },
            test,
        })
    }

    fn compare(op: CmpOp, value: Value) -> Test {
        Test::Compare { op, value }
    }

    #[test]
    fn one_hop_counts_become_quantifiers() {
        let l = link("r", Direction::ToChildren);
        let one = |test| rewrite(&CountAsQuantifier, count(&[(&l, flag("a"))], test));
        let with = |q| (has(&l, q, flag("a")), true);
        assert_eq!(
            one(compare(CmpOp::Ge, int(2))),
            with(Quantifier::AtLeast(2))
        );
        assert_eq!(one(compare(CmpOp::Gt, int(0))), with(Quantifier::Any));
        assert_eq!(one(compare(CmpOp::Lt, int(3))), with(Quantifier::AtMost(2)));
        assert_eq!(one(compare(CmpOp::Le, int(0))), with(Quantifier::No));
        assert_eq!(
            one(compare(CmpOp::Eq, int(1))),
            with(Quantifier::Exactly(1))
        );
        // Decimals round towards the counts they admit.
        assert_eq!(
            one(compare(CmpOp::Ge, Value::Decimal(1.5))),
            with(Quantifier::AtLeast(2))
        );
        assert_eq!(
            one(compare(CmpOp::Lt, Value::Decimal(2.5))),
            with(Quantifier::AtMost(2))
        );
        assert_eq!(
            one(compare(CmpOp::Eq, Value::Decimal(1.5))),
            (PlanExpr::Const(false), true)
        );
        assert_eq!(
            one(Test::between(int(1), int(3))),
            (
                and(vec![
                    has(&l, Quantifier::AtLeast(1), flag("a")),
                    has(&l, Quantifier::AtMost(3), flag("a"))
                ]),
                true
            )
        );
    }

    #[test]
    fn counts_no_number_can_pass_or_fail_are_constants() {
        let l = link("r", Direction::ToChildren);
        let chain = [(&l, flag("a")), (&l, PlanExpr::Const(true))];
        for (test, constant) in [
            (compare(CmpOp::Ge, int(0)), true),
            (compare(CmpOp::Ge, int(-4)), true),
            (compare(CmpOp::Lt, int(0)), false),
            (compare(CmpOp::Le, int(-1)), false),
            (compare(CmpOp::Eq, int(-1)), false),
            (Test::IsNotNull, true),
            (Test::between(int(3), int(2)), false),
        ] {
            assert_eq!(
                rewrite(&CountAsQuantifier, count(&chain, test.clone())),
                (PlanExpr::Const(constant), true),
                "{test:?}"
            );
        }
    }

    #[test]
    fn longer_chains_nest_has_for_some_and_none_only() {
        let a = link("a", Direction::ToChildren);
        let b = link("b", Direction::ToParent);
        let chain = [(&a, flag("x")), (&b, PlanExpr::Const(true))];
        assert_eq!(
            rewrite(
                &CountAsQuantifier,
                count(&chain, compare(CmpOp::Ge, int(1)))
            ),
            (
                has(
                    &a,
                    Quantifier::Any,
                    and(vec![
                        flag("x"),
                        has(&b, Quantifier::Any, PlanExpr::Const(true))
                    ])
                ),
                true
            )
        );
        assert_eq!(
            rewrite(
                &CountAsQuantifier,
                count(&chain, compare(CmpOp::Eq, int(0)))
            )
            .0,
            has(
                &a,
                Quantifier::No,
                and(vec![
                    flag("x"),
                    has(&b, Quantifier::Any, PlanExpr::Const(true))
                ])
            )
        );
        // Two distinct accounts through any number of leads: not a nesting.
        let kept = count(&chain, compare(CmpOp::Ge, int(2)));
        assert_eq!(rewrite(&CountAsQuantifier, kept.clone()), (kept, false));
    }
}
