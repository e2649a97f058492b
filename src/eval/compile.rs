//! Plan → a tree of kernels bound to the store's columns and link indexes.
//! Compiled once; then run over whole columns ([`Node::eval_all`], one bitmap
//! per node) or for a single record ([`Node::test`], recursing only into the
//! rows that record reaches).

use chrono::{DateTime, Utc};

use super::aggregate::{compile_aggregate, AggregateNode};
use super::bitmap::Bitmap;
use super::fused::{for_each_row, terms, terms_only, Conjunction, Term};
use super::kernels::{compile_field, compile_key, FieldKernel};
use super::keys::KeyIndex;
use super::store::{LinkIndex, Store, Table, NONE};
use crate::error::{Error, Result};
use crate::plan::{Direction, PlanExpr, Quantifier};

/// Why running a compiled plan can fail: the data alone, never the plan.
/// The one case is an integer `sum` whose value leaves the `i64` range
/// (SPEC §2.5), named by the aggregate's text.
#[derive(Debug)]
pub(crate) struct Overflow(pub(crate) String);

/// The result of running a compiled expression.
pub(crate) type Run<T> = std::result::Result<T, Overflow>;

impl Overflow {
    /// The library's error for it. (Not a `From` impl: one would make every
    /// `?` in a closure of the crate ambiguous about its error type.)
    pub(crate) fn into_error(self) -> Error {
        Error::SumOverflow { aggregate: self.0 }
    }
}

/// A compiled expression over the rows of one entity (`rows` of them).
pub(crate) enum Node<'a> {
    Const(bool, usize),
    Not(Box<Node<'a>>),
    And(Vec<Node<'a>>, usize),
    Or(Vec<Node<'a>>, usize),
    Field(FieldKernel<'a>),
    Related(Box<RelatedNode<'a>>),
    Aggregate(Box<AggregateNode<'a>>),
}

pub(crate) struct RelatedNode<'a> {
    pub(crate) link: &'a LinkIndex,
    direction: Direction,
    quantifier: Quantifier,
    /// Runs over the entity at the other end of the link.
    pub(crate) inner: Node<'a>,
    rows: usize,
}

/// Compiles `expr` over entity table `table` of `store`.
pub(crate) fn compile<'a>(
    expr: &PlanExpr,
    store: &'a Store,
    table: usize,
    now: DateTime<Utc>,
) -> Result<Node<'a>> {
    let t = &store.tables[table];
    let rows = t.rows;
    Ok(match expr {
        PlanExpr::Const(b) => Node::Const(*b, rows),
        PlanExpr::Not(e) => Node::Not(Box::new(compile(e, store, table, now)?)),
        PlanExpr::And(es) => {
            let mut nodes = compile_all(es, store, table, now)?;
            // Cheap tests first: a single-record check stops at the first false.
            nodes.sort_by_key(Node::cost);
            Node::And(nodes, rows)
        }
        PlanExpr::Or(es) => {
            let mut nodes = compile_all(es, store, table, now)?;
            nodes.sort_by_key(Node::cost);
            Node::Or(nodes, rows)
        }
        // `in NAME` means its filter.
        PlanExpr::Segment(segment) => compile(&segment.filter, store, table, now)?,
        PlanExpr::Aggregate(a) => {
            Node::Aggregate(Box::new(compile_aggregate(a, store, table, now)?))
        }
        PlanExpr::Field(ft) => {
            if !ft.field.entity.eq_ignore_ascii_case(&t.entity) {
                return Err(Error::Internal {
                    message: format!(
                        "field {}.{} tested on {}",
                        ft.field.entity, ft.field.field, t.entity
                    ),
                });
            }
            if ft.field.field.eq_ignore_ascii_case(&t.key_field) {
                return Ok(Node::Field(compile_key(table_keys(t)?.keys(), ft, now)?));
            }
            let column = t.column(&ft.field.field).ok_or_else(|| Error::Database {
                message: format!(
                    "the in-memory store holds no column for {}.{} (load it with a plan that uses it, or with none)",
                    t.entity, ft.field.field
                ),
            })?;
            Node::Field(compile_field(column, ft, now)?)
        }
        PlanExpr::Related(r) => {
            let link = store.link(&r.link.relationship)?;
            let (here, there) = match r.link.direction {
                Direction::ToParent => (link.child, link.parent),
                Direction::ToChildren => (link.parent, link.child),
            };
            if here != table {
                return Err(Error::Internal {
                    message: format!(
                        "relationship {} does not start at {}",
                        r.link.relationship, t.entity
                    ),
                });
            }
            Node::Related(Box::new(RelatedNode {
                link,
                direction: r.link.direction,
                quantifier: r.quantifier,
                inner: compile(&r.filter, store, there, now)?,
                rows,
            }))
        }
    })
}

/// The sorted keys of `t`, or an error when they were not loaded.
pub(crate) fn table_keys(t: &Table) -> Result<&KeyIndex> {
    t.keys.as_ref().ok_or_else(|| Error::Database {
            message: format!(
                "the in-memory store holds no keys of {} (load it with a plan that needs them, or with none)",
                t.entity
            ),
        })
}

fn compile_all<'a>(
    es: &[PlanExpr],
    store: &'a Store,
    table: usize,
    now: DateTime<Utc>,
) -> Result<Vec<Node<'a>>> {
    es.iter().map(|e| compile(e, store, table, now)).collect()
}

impl Node<'_> {
    /// A rough rank of how much work a single-record test takes.
    fn cost(&self) -> u8 {
        match self {
            Node::Const(..) => 0,
            Node::Field(_) => 1,
            Node::Not(n) => n.cost(),
            Node::And(..) | Node::Or(..) => 2,
            Node::Related(r) if r.direction == Direction::ToParent => 2,
            Node::Related(_) => 3,
            Node::Aggregate(_) => 4,
        }
    }

    /// The set of rows satisfying the expression.
    pub(crate) fn eval_all(&self) -> Run<Bitmap> {
        Ok(match self {
            Node::Const(true, rows) => Bitmap::ones(*rows),
            Node::Const(false, rows) => Bitmap::zeros(*rows),
            Node::Not(n) => {
                let mut b = n.eval_all()?;
                b.negate();
                b
            }
            Node::And(nodes, rows) => {
                // Two or more field tests (or their negations) run as one
                // pass (`fused`), in the place of the first: tests on
                // fields come before everything but constants, so the
                // other operands still run only while rows remain, as they
                // would one by one.
                let terms = terms(nodes);
                let mut acc = Bitmap::ones(*rows);
                let mut fused = false;
                for n in nodes {
                    if terms.len() > 1 && Term::of(n).is_some() {
                        if fused {
                            continue;
                        }
                        fused = true;
                        acc.and_with(&Conjunction::new(terms.clone(), *rows).bitmap());
                    } else {
                        acc.and_with(&n.eval_all()?);
                    }
                    if acc.none() {
                        break;
                    }
                }
                acc
            }
            Node::Or(nodes, rows) => {
                let mut acc = Bitmap::zeros(*rows);
                for n in nodes {
                    acc.or_with(&n.eval_all()?);
                    if acc.all() {
                        break;
                    }
                }
                acc
            }
            Node::Field(k) => k.eval_all(),
            Node::Related(r) => r.eval_all()?,
            Node::Aggregate(a) => a.eval_all()?,
        })
    }

    /// Whether row `row` satisfies the expression.
    pub(crate) fn test(&self, row: usize) -> Run<bool> {
        Ok(match self {
            Node::Const(b, _) => *b,
            Node::Not(n) => !n.test(row)?,
            Node::And(nodes, _) => {
                for n in nodes {
                    if !n.test(row)? {
                        return Ok(false);
                    }
                }
                true
            }
            Node::Or(nodes, _) => {
                for n in nodes {
                    if n.test(row)? {
                        return Ok(true);
                    }
                }
                false
            }
            Node::Field(k) => k.test(row),
            Node::Related(r) => r.test(row)?,
            Node::Aggregate(a) => a.test(row)?,
        })
    }
}

impl RelatedNode<'_> {
    fn eval_all(&self) -> Run<Bitmap> {
        if let (Direction::ToChildren, Node::Const(true, _)) = (self.direction, &self.inner) {
            // `has R` without a filter: the count is the degree.
            let o = self.link.offsets();
            let degree = |p: usize| (o[p + 1] - o[p]) as u64;
            let q = self.quantifier;
            return Ok(Bitmap::from_fn(self.rows, |p| q.accepts(degree(p))));
        }
        if self.direction == Direction::ToChildren {
            if let Some(fields) = terms_only(&self.inner, self.link.parent_of.len()) {
                return Ok(self.children_passing(&fields));
            }
        }
        Ok(self.eval_over(&self.inner.eval_all()?))
    }

    /// The `has` of children that pass `fields`, without the children's
    /// bitmap: each range of children, once its tests have run, marks or
    /// counts its parents (per thread, merged at the end).
    pub(crate) fn children_passing(&self, fields: &Conjunction) -> Bitmap {
        let q = self.quantifier;
        let parent_of = &self.link.parent_of;
        let rows = self.rows;
        match q {
            Quantifier::Any | Quantifier::No => {
                let marks = fields.fold(
                    || Bitmap::zeros(rows),
                    |hit, first, words| {
                        for_each_row(first, words, |c| {
                            let p = parent_of[c];
                            if p != NONE {
                                hit.set(p as usize);
                            }
                        })
                    },
                );
                let mut hit = merge(marks, |a, b| a.or_with(&b));
                if q == Quantifier::No {
                    hit.negate();
                }
                hit
            }
            _ if enough(q) <= u64::from(u8::MAX) => {
                let counts = fields.fold(
                    || vec![0u8; rows],
                    |counts, first, words| {
                        count_rows(parent_of, counts, first, words, |n: u8| n.saturating_add(1))
                    },
                );
                let counts = merge(counts, |a, b| {
                    for (a, b) in a.iter_mut().zip(b) {
                        *a = a.saturating_add(b);
                    }
                });
                Bitmap::from_slice(&counts, |n| q.accepts(u64::from(n)))
            }
            _ => {
                let counts = fields.fold(
                    || vec![0u32; rows],
                    |counts, first, words| count_rows(parent_of, counts, first, words, |n| n + 1),
                );
                let counts = merge(counts, |a, b| {
                    for (a, b) in a.iter_mut().zip(b) {
                        *a += b;
                    }
                });
                Bitmap::from_slice(&counts, |n| q.accepts(u64::from(n)))
            }
        }
    }

    /// The rows satisfying the `has`, given the related rows that satisfy
    /// its filter (`inner`'s bitmap, computed by the caller: `explain
    /// --counts` has it already).
    pub(crate) fn eval_over(&self, inner: &Bitmap) -> Bitmap {
        let q = self.quantifier;
        let link = self.link;
        match self.direction {
            Direction::ToParent => {
                let (with, without) = (q.accepts(1), q.accepts(0));
                Bitmap::from_slice(&link.parent_of, |p| {
                    if p != NONE && inner.get(p as usize) {
                        with
                    } else {
                        without
                    }
                })
            }
            Direction::ToChildren => match q {
                Quantifier::Any | Quantifier::No => {
                    let mut hit = Bitmap::zeros(self.rows);
                    for c in inner.iter_ones() {
                        let p = link.parent_of[c];
                        if p != NONE {
                            hit.set(p as usize);
                        }
                    }
                    if q == Quantifier::No {
                        hit.negate();
                    }
                    hit
                }
                _ if enough(q) <= u64::from(u8::MAX) => {
                    // A byte per parent, saturating: counting past `enough`
                    // cannot change the answer, and the increments, one
                    // random access per matching child, miss the cache a
                    // quarter as often as into four bytes per parent.
                    let counts =
                        count_per_parent(self.rows, link, inner, |n: u8| n.saturating_add(1));
                    Bitmap::from_slice(&counts, |n| q.accepts(u64::from(n)))
                }
                _ => {
                    let counts = count_per_parent(self.rows, link, inner, |n: u32| n + 1);
                    Bitmap::from_slice(&counts, |n| q.accepts(u64::from(n)))
                }
            },
        }
    }

    fn test(&self, row: usize) -> Run<bool> {
        let q = self.quantifier;
        match self.direction {
            Direction::ToParent => {
                let p = self.link.parent_of[row];
                Ok(q.accepts((p != NONE && self.inner.test(p as usize)?) as u64))
            }
            Direction::ToChildren => {
                let enough = enough(q);
                let mut count = 0u64;
                for &c in self.link.children_of(row) {
                    if count >= enough {
                        break;
                    }
                    if self.inner.test(c as usize)? {
                        count += 1;
                    }
                }
                Ok(q.accepts(count))
            }
        }
    }
}

/// The count of matching related records past which counting cannot change
/// whether `q` accepts.
fn enough(q: Quantifier) -> u64 {
    match q {
        Quantifier::Any | Quantifier::No => 1,
        Quantifier::AtLeast(n) => n,
        Quantifier::AtMost(n) | Quantifier::Exactly(n) => n.saturating_add(1),
    }
}

/// Per parent row, its children among `inner`'s rows, each added by `add`.
fn count_per_parent<T: Copy + Default>(
    rows: usize,
    link: &LinkIndex,
    inner: &Bitmap,
    add: impl Fn(T) -> T,
) -> Vec<T> {
    let mut counts = vec![T::default(); rows];
    count_rows(&link.parent_of, &mut counts, 0, inner.words(), add);
    counts
}

/// Adds each child row of `words` (rows from `first_row`) to its parent's
/// count by `add`.
#[inline(always)]
fn count_rows<T: Copy>(
    parent_of: &[u32],
    counts: &mut [T],
    first_row: usize,
    words: &[u64],
    add: impl Fn(T) -> T,
) {
    for_each_row(first_row, words, |c| {
        let p = parent_of[c];
        if p != NONE {
            let n = &mut counts[p as usize];
            *n = add(*n);
        }
    })
}

/// The per-thread results of a [`Conjunction::fold`] made one, by `add`.
fn merge<T>(parts: Vec<T>, mut add: impl FnMut(&mut T, T)) -> T {
    let mut parts = parts.into_iter();
    let mut acc = parts
        .next()
        .expect("a fold gives one state per thread, at least one");
    for p in parts {
        add(&mut acc, p);
    }
    acc
}
