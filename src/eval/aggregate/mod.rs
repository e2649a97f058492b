//! Aggregate tests (`count(lead(status = "Open")) >= 2`,
//! `max(interaction.occurred_on) < now - 90d`) in the memory engine, with
//! the meaning of SPEC §2.5.
//!
//! | file         | concern                                                     |
//! |--------------|-------------------------------------------------------------|
//! | `mod.rs`     | binding a plan's aggregate to the store; the two run paths  |
//! | `chain.rs`   | which records each record aggregates (group, end pairs)     |
//! | `reduce.rs`  | the per-group accumulators and their exact arithmetic       |
//! | `compare.rs` | the test on the aggregated value                            |
//! | `exact.rs`   | sums and quotients rounded once                             |
//!
//! Over a whole entity ([`AggregateNode::eval_all`]) each hop's filter is
//! evaluated once as a bitmap, the chain is turned into (group, end record)
//! pairs in one pass ([`chain`]), an accumulator per group reduces them
//! ([`reduce`]), and the test turns the accumulators into a bitmap. For one
//! record ([`AggregateNode::test`]) the same accumulators run over the end
//! records that record reaches, found by testing filters record by record.
//!
//! Running can fail in one way: an integer `sum` whose value leaves `i64`
//! for a record whose value is computed ([`Overflow`]). Over a whole
//! entity that is every record of the aggregate's entity (unless an
//! enclosing `and`/`or` was already decided for every record); for one
//! record, the records it reaches.

mod chain;
mod compare;
pub(crate) mod exact;
mod reduce;

use chrono::{DateTime, Utc};

use super::bitmap::Bitmap;
use super::column::{with_ints, Column, ColumnData, Ints, Seconds, Text};
use super::compile::{compile, Overflow, Run};
use super::store::{Store, NONE};
use crate::error::{Error, Result};
use crate::plan::{AggregateFn, AggregateTest, Direction};
use chain::{both, Hop, Pairs};
use compare::{Form, ValueTest};
use reduce::{fold, Best, BestText, Count, Crossing, DecSum, Extreme, Groups, IntSum};

/// An aggregate test bound to the store.
pub(crate) struct AggregateNode<'a> {
    hops: Vec<Hop<'a>>,
    /// Number of leading hops to parents.
    lead: usize,
    /// Whether the rest of the chain can reach a record twice.
    fans_in: bool,
    reducer: Reducer<'a>,
    /// The records of the last hop holding a value; `None` when all do (or
    /// for `count`, which counts records, not values).
    valid: Option<&'a Bitmap>,
    test: ValueTest,
    /// Whether the value over no records (0, or missing) passes the test.
    empty_passes: bool,
    /// Records of the entity the aggregate is tested on.
    rows: usize,
    /// The aggregate as segql prints it, for [`Overflow`].
    text: String,
}

/// The reduction and the column it reads, in the column's storage form.
enum Reducer<'a> {
    Count,
    IntSum { data: &'a Ints, avg: bool },
    DecSum { data: &'a [f64], avg: bool },
    Best { data: Ordered<'a>, max: bool },
}

/// A column `min` and `max` can order.
enum Ordered<'a> {
    /// Integers and choice codes; days; seconds: all tested as integers.
    Ints(&'a Ints),
    Days(&'a [i32]),
    Seconds(&'a Seconds),
    Real(&'a [f64]),
    /// Dictionary codes follow text order, so the best code is the best
    /// text; `hits` is the test's result per dictionary entry, worked out
    /// once when compiling.
    Dict {
        codes: &'a [u32],
        values: &'a [String],
        hits: Vec<bool>,
    },
    Plain {
        offsets: &'a [usize],
        bytes: &'a [u8],
    },
}

/// Binds `agg`, tested on records of table `table`, to `store`.
pub(crate) fn compile_aggregate<'a>(
    agg: &AggregateTest,
    store: &'a Store,
    table: usize,
    now: DateTime<Utc>,
) -> Result<AggregateNode<'a>> {
    let aggregate = &agg.aggregate;
    let text = aggregate.to_string();
    let mut hops = Vec::with_capacity(aggregate.chain.len());
    let mut at = table;
    for hop in &aggregate.chain {
        let link = store.link(&hop.link.relationship)?;
        let (here, there) = match hop.link.direction {
            Direction::ToParent => (link.child, link.parent),
            Direction::ToChildren => (link.parent, link.child),
        };
        if here != at {
            return Err(Error::Internal {
                message: format!(
                    "relationship {} does not start at {} in {text}",
                    hop.link.relationship, store.tables[at].entity
                ),
            });
        }
        hops.push(Hop {
            link,
            direction: hop.link.direction,
            filter: compile(&hop.filter, store, there, now)?,
            rows: store.tables[there].rows,
        });
        at = there;
    }
    if hops.is_empty() {
        return Err(Error::Internal {
            message: format!("{text} has no relationship to follow"),
        });
    }
    let lead = hops
        .iter()
        .take_while(|h| h.direction == Direction::ToParent)
        .count();
    let column = match (&aggregate.field, aggregate.function) {
        (_, AggregateFn::Count) => None,
        (Some(field), _) => Some(value_column(store, at, &field.entity, &field.field)?),
        (None, _) => {
            return Err(Error::Internal {
                message: format!("{text} names no field"),
            })
        }
    };
    let (mut reducer, form) = reducer(aggregate.function, column, &text)?;
    let test = ValueTest::new(&agg.test, form, now, &text)?;
    if let Reducer::Best {
        data: Ordered::Dict { values, hits, .. },
        ..
    } = &mut reducer
    {
        *hits = values.iter().map(|v| test.text(v.as_bytes())).collect();
    }
    let empty_passes = match (&reducer, aggregate.function) {
        (_, AggregateFn::Count) => test.int(0),
        (Reducer::DecSum { .. }, AggregateFn::Sum) => test.real(0.0),
        (_, AggregateFn::Sum) => test.int(0),
        _ => false,
    };
    // Worked out here from the same bound test as every other value, so a
    // group that reaches nothing and a record without a parent agree; the
    // plan's own answer, which the SQL back ends use, must be the same.
    debug_assert_eq!(empty_passes, agg.holds_on_empty(), "{text}");
    Ok(AggregateNode {
        hops,
        lead,
        fans_in: aggregate.fans_in(),
        reducer,
        valid: column.and_then(|c| c.valid.as_ref()),
        test,
        empty_passes,
        rows: store.tables[table].rows,
        text,
    })
}

/// The loaded column of `entity.field`, which must be table `table`'s.
fn value_column<'a>(
    store: &'a Store,
    table: usize,
    entity: &str,
    field: &str,
) -> Result<&'a Column> {
    let t = &store.tables[table];
    if !entity.eq_ignore_ascii_case(&t.entity) {
        return Err(Error::Internal {
            message: format!("aggregated field {entity}.{field} is not on {}", t.entity),
        });
    }
    t.column(field).ok_or_else(|| Error::Database {
        message: format!(
            "the in-memory store holds no column for {}.{field} (load it with a plan that uses it, or with none)",
            t.entity
        ),
    })
}

/// The reduction of `function` over `column` and the form of its value.
fn reducer<'a>(
    function: AggregateFn,
    column: Option<&'a Column>,
    text: &str,
) -> Result<(Reducer<'a>, Form)> {
    use AggregateFn::*;
    let Some(column) = column else {
        return Ok((Reducer::Count, Form::Int));
    };
    let max = function == Max;
    let ordered = |data, form| Ok((Reducer::Best { data, max }, form));
    match (function, &column.data) {
        (Count, _) => Ok((Reducer::Count, Form::Int)),
        (Sum | Avg, ColumnData::Int(data)) => {
            let avg = function == Avg;
            let form = if avg { Form::Real } else { Form::Int };
            Ok((Reducer::IntSum { data, avg }, form))
        }
        (Sum | Avg, ColumnData::Decimal(data)) => Ok((
            Reducer::DecSum {
                data,
                avg: function == Avg,
            },
            Form::Real,
        )),
        (Min | Max, ColumnData::Int(d)) => ordered(Ordered::Ints(d), Form::Int),
        (Min | Max, ColumnData::Date(d)) => ordered(Ordered::Days(d), Form::Date),
        (Min | Max, ColumnData::DateTime(d)) => ordered(Ordered::Seconds(d), Form::DateTime),
        (Min | Max, ColumnData::Decimal(d)) => ordered(Ordered::Real(d), Form::Real),
        (Min | Max, ColumnData::Text(Text::Dict { codes, values })) => ordered(
            Ordered::Dict {
                codes,
                values,
                hits: Vec::new(),
            },
            Form::Text,
        ),
        (Min | Max, ColumnData::Text(Text::Plain { offsets, bytes, .. })) => {
            ordered(Ordered::Plain { offsets, bytes }, Form::Text)
        }
        _ => Err(Error::TypeMismatch {
            expected: format!("a field {} can take", function.keyword()),
            found: format!("a {} column", column.storage()),
            context: format!("{text} in the in-memory evaluator"),
            span: Default::default(),
        }),
    }
}

impl AggregateNode<'_> {
    fn overflow(&self) -> Overflow {
        Overflow(self.text.clone())
    }

    /// The records of the entity whose aggregate passes the test.
    pub(crate) fn eval_all(&self) -> Run<Bitmap> {
        let (result, up) = self.over_all(|pairs, groups| self.reduce(pairs, groups))?;
        let Groups { pass, overflowed } = result;
        if let Some(over) = overflowed {
            let reached = match &up {
                None => true,
                Some(up) => up.iter().any(|&g| g != NONE && over.get(g as usize)),
            };
            if reached {
                return Err(self.overflow());
            }
        }
        Ok(match up {
            None => pass,
            Some(up) => Bitmap::from_slice(&up, |g| {
                if g == NONE {
                    self.empty_passes
                } else {
                    pass.get(g as usize)
                }
            }),
        })
    }

    /// How many distinct end records each record of the entity reaches
    /// (the value of `count(chain)`, whatever the test), in row order: the
    /// per-record counts lead scoring multiplies by a rule's points.
    pub(crate) fn counts_all(&self) -> Run<Vec<u32>> {
        let (counts, up) = self.over_all(|pairs, groups| fold(Count::new(groups), pairs).0)?;
        Ok(match up {
            None => counts,
            Some(up) => up
                .iter()
                .map(|&g| if g == NONE { 0 } else { counts[g as usize] })
                .collect(),
        })
    }

    /// Runs `reduce` over the (group, end record) pairs of the whole
    /// entity. Groups are the records the chain's leading hops to parents
    /// reach; the second value maps each record to its group (`NONE` when
    /// it reaches none), or is `None` when the records are the groups.
    fn over_all<T>(&self, reduce: impl Fn(&Pairs<'_>, usize) -> T) -> Run<(T, Option<Vec<u32>>)> {
        let passing = self
            .hops
            .iter()
            .map(Hop::passing)
            .collect::<Run<Vec<_>>>()?;
        let (lead, rest) = self.hops.split_at(self.lead);
        let (lead_passing, rest_passing) = passing.split_at(self.lead);
        let up = (!lead.is_empty()).then(|| chain::ancestors(lead, lead_passing));
        let groups = lead.last().map_or(self.rows, |h| h.rows);
        let result = match rest.split_last() {
            // The leading hops' filters are already in `up`.
            None => reduce(
                &Pairs::Itself {
                    groups,
                    only: self.valid,
                },
                groups,
            ),
            Some((last, above)) => {
                let last_passing = rest_passing.last().and_then(Option::as_ref);
                let only = both(last_passing, self.valid);
                if self.fans_in {
                    match chain::grouped(rest, rest_passing, only.as_deref(), groups) {
                        Some(grouped) => reduce(&Pairs::Grouped(&grouped), groups),
                        None => {
                            let pairs = Pairs::Walk {
                                hops: rest,
                                passing: rest_passing,
                                only: only.as_deref(),
                                groups,
                            };
                            reduce(&pairs, groups)
                        }
                    }
                } else {
                    let via = chain::groups_above(above, rest_passing);
                    let pairs = Pairs::Up {
                        parent_of: &last.link.parent_of,
                        via: via.as_deref(),
                        only: only.as_deref(),
                    };
                    reduce(&pairs, groups)
                }
            }
        };
        Ok((result, up))
    }

    /// Whether record `row` passes, looking only at the records it reaches.
    pub(crate) fn test(&self, row: usize) -> Run<bool> {
        let mut at = row;
        for hop in &self.hops[..self.lead] {
            let p = hop.link.parent_of[at];
            if p == NONE || !hop.filter.test(p as usize)? {
                return Ok(self.empty_passes);
            }
            at = p as usize;
        }
        let valid = self.valid;
        let ends = chain::reach_one(&self.hops[self.lead..], at, |e| {
            valid.is_none_or(|v| v.get(e))
        })?;
        let result = self.reduce(&Pairs::List(&ends), 1);
        if result.overflowed.is_some() {
            return Err(self.overflow());
        }
        Ok(result.pass.get(0))
    }

    /// Runs the reduction over `pairs` into `groups` accumulators, each
    /// column form with its own monomorphic loop.
    fn reduce(&self, pairs: &Pairs<'_>, groups: usize) -> Groups {
        let test = &self.test;
        match &self.reducer {
            Reducer::Count => fold(Count::new(groups), pairs).finish(test),
            Reducer::IntSum { data, avg } => {
                with_ints!(data, d => sum_ints(d, *avg, pairs, groups, test))
            }
            Reducer::DecSum { data, avg } => {
                let acc = fold(DecSum::new(data, groups, *avg), pairs);
                if *avg {
                    acc.finish_avg(test)
                } else {
                    acc.finish_sum(test)
                }
            }
            Reducer::Best { data, max } => {
                let max = *max;
                match data {
                    Ordered::Ints(ints) => crossing_ints(ints, 0, max, pairs, groups, test),
                    Ordered::Days(d) => crossing_int(d, 0, max, pairs, groups, test),
                    Ordered::Seconds(s) => {
                        crossing_ints(&s.offsets, s.base, max, pairs, groups, test)
                    }
                    Ordered::Real(d) => {
                        let r = test.real_range();
                        let inside = |x: f64| !r.below(x) && !r.above(x);
                        if max {
                            fold(Crossing::new(d, groups, inside, |x| r.above(x)), pairs).finish()
                        } else {
                            fold(Crossing::new(d, groups, inside, |x| r.below(x)), pairs).finish()
                        }
                    }
                    Ordered::Dict { codes, hits, .. } => {
                        best(codes, max, pairs, groups, |c| hits[c as usize])
                    }
                    Ordered::Plain { offsets, bytes } => {
                        fold(BestText::new(offsets, bytes, groups, max), pairs).finish(test)
                    }
                }
            }
        }
    }
}

fn sum_ints<T: Copy + Into<i128>>(
    data: &[T],
    avg: bool,
    pairs: &Pairs<'_>,
    groups: usize,
    test: &ValueTest,
) -> Groups {
    let acc = fold(IntSum::new(data, groups, avg), pairs);
    if avg {
        acc.finish_avg(test)
    } else {
        acc.finish_sum(test)
    }
}

/// [`crossing_int`] on integers of any width.
fn crossing_ints(
    ints: &Ints,
    base: i64,
    max: bool,
    pairs: &Pairs<'_>,
    groups: usize,
    test: &ValueTest,
) -> Groups {
    with_ints!(ints, d => crossing_int(d, base, max, pairs, groups, test))
}

/// `min` or `max` of integers (codes, days, seconds) tested against the
/// test's bounds ([`Crossing`]), the values being `base + data[e]`.
fn crossing_int<T: Copy + Into<i128>>(
    data: &[T],
    base: i64,
    max: bool,
    pairs: &Pairs<'_>,
    groups: usize,
    test: &ValueTest,
) -> Groups {
    // The test on the stored offsets; saturating keeps open bounds open.
    let (lo, hi) = test.int_range();
    let (lo, hi) = (
        lo.saturating_sub(base as i128),
        hi.saturating_sub(base as i128),
    );
    let inside = |v: T| (lo..=hi).contains(&v.into());
    if max {
        fold(
            Crossing::new(data, groups, inside, |v: T| v.into() > hi),
            pairs,
        )
        .finish()
    } else {
        fold(
            Crossing::new(data, groups, inside, |v: T| v.into() < lo),
            pairs,
        )
        .finish()
    }
}

/// `min` or `max` over `data`, the groups' values then tested by `accept`.
fn best<T: Extreme>(
    data: &[T],
    max: bool,
    pairs: &Pairs<'_>,
    groups: usize,
    accept: impl Fn(T) -> bool,
) -> Groups {
    if max {
        fold(Best::<T, true>::new(data, groups), pairs).finish(accept)
    } else {
        fold(Best::<T, false>::new(data, groups), pairs).finish(accept)
    }
}

#[cfg(test)]
mod tests;
