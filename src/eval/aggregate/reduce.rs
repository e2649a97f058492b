//! Per-group reductions: one accumulator slot per group, filled in one pass
//! over the (group, end record) pairs of [`super::chain::Pairs`], then
//! tested slot by slot into a bitmap over the groups.
//!
//! Every accumulator is a flat array sized by the groups; adding a record is
//! a load from the value column and an update of one slot, with no
//! allocation. Missing values never reach an accumulator (the pairs skip
//! them), so `avg`, `min` and `max` are missing exactly when a group got
//! nothing.
//!
//! A tested `min` or `max` of numbers, days or seconds is decided without
//! the value itself ([`Crossing`]): two bits per group instead of a value.
//!
//! Integer sums run in `i128`, exact for any number of `i64` values this
//! store can hold; only the final value must fit an `i64` (SPEC §2.5).
//! Decimal sums run as Neumaier's compensated sum, whose running
//! compensation is itself checked for exactness at every step (a second
//! Fast2Sum): as long as it stays exact, `sum + compensation` is the exact
//! total and adding them rounds once, to the double nearest the exact sum.
//! A group whose compensation loses bits (values of wildly different
//! magnitudes that cancel) is flagged by a NaN compensation and summed again
//! exactly in a second pass over its pairs.

use super::super::bitmap::Bitmap;
use super::super::store::NONE;
use super::chain::Pairs;
use super::compare::ValueTest;
use super::exact::{div_round, exact_sum, two_sum};

/// The result of a reduction, per group.
pub(crate) struct Groups {
    /// The groups whose value passes the test.
    pub(crate) pass: Bitmap,
    /// The groups whose integer sum left the `i64` range, when any did.
    pub(crate) overflowed: Option<Bitmap>,
}

impl Groups {
    fn pass(pass: Bitmap) -> Groups {
        Groups {
            pass,
            overflowed: None,
        }
    }
}

/// An accumulator: one slot per group.
pub(crate) trait Fold {
    /// Adds end record `row` to group `g`.
    fn add(&mut self, g: usize, row: usize);

    /// Whether some group must see its records again ([`Fold::again`]).
    fn inexact(&self) -> bool {
        false
    }

    /// The second pass, after [`Fold::inexact`]: every pair again, then
    /// [`Fold::settle`].
    fn again(&mut self, _g: usize, _row: usize) {}

    fn settle(&mut self) {}
}

/// Runs `acc` over every pair of `pairs` (twice when it asks).
pub(crate) fn fold<F: Fold>(mut acc: F, pairs: &Pairs<'_>) -> F {
    pairs.for_each(|g, row| acc.add(g, row));
    if acc.inexact() {
        pairs.for_each(|g, row| acc.again(g, row));
        acc.settle();
    }
    acc
}

/// `count`: the number of end records.
pub(crate) struct Count(pub(crate) Vec<u32>);

impl Count {
    pub(crate) fn new(groups: usize) -> Count {
        Count(vec![0; groups])
    }

    pub(crate) fn finish(self, test: &ValueTest) -> Groups {
        // The test as bounds on the counts themselves: a comparison of
        // `u32`s, which the compiler vectorizes (`test.int` per count
        // would branch on the test's form every time).
        let (lo, hi) = test.int_range();
        let (lo, hi) = (lo.max(0), hi.min(u32::MAX as i128));
        if lo > hi {
            return Groups::pass(Bitmap::zeros(self.0.len()));
        }
        let (lo, hi) = (lo as u32, hi as u32);
        Groups::pass(Bitmap::from_slice(&self.0, |n| lo <= n && n <= hi))
    }
}

impl Fold for Count {
    #[inline(always)]
    fn add(&mut self, g: usize, _row: usize) {
        self.0[g] += 1;
    }
}

/// `sum` and `avg` of integers: the exact sum, and for `avg` the count.
pub(crate) struct IntSum<'a, T> {
    data: &'a [T],
    sums: Vec<i128>,
    /// Empty unless averaging.
    counts: Vec<u32>,
}

impl<'a, T: Copy + Into<i128>> IntSum<'a, T> {
    pub(crate) fn new(data: &'a [T], groups: usize, avg: bool) -> Self {
        IntSum {
            data,
            sums: vec![0; groups],
            counts: if avg { vec![0; groups] } else { Vec::new() },
        }
    }

    /// `sum`: 0 for a group without values; an error for a sum outside `i64`.
    pub(crate) fn finish_sum(self, test: &ValueTest) -> Groups {
        let fits = |s: i128| i64::try_from(s).is_ok();
        let overflowed = (!self.sums.iter().all(|&s| fits(s)))
            .then(|| Bitmap::from_slice(&self.sums, |s| !fits(s)));
        Groups {
            pass: Bitmap::from_slice(&self.sums, |s| fits(s) && test.int(s)),
            overflowed,
        }
    }

    /// `avg`: the exact sum over the count, rounded once; missing (failing
    /// the test) for a group without values.
    pub(crate) fn finish_avg(self, test: &ValueTest) -> Groups {
        let (sums, counts) = (&self.sums, &self.counts);
        Groups::pass(Bitmap::from_fn(sums.len(), |g| {
            counts[g] > 0 && test.real(div_round(sums[g], counts[g] as u64))
        }))
    }
}

impl<T: Copy + Into<i128>> Fold for IntSum<'_, T> {
    #[inline(always)]
    fn add(&mut self, g: usize, row: usize) {
        self.sums[g] += self.data[row].into();
        if let Some(n) = self.counts.get_mut(g) {
            *n += 1;
        }
    }
}

/// `sum` and `avg` of decimals: Neumaier's sum with a checked compensation
/// (see the module docs), and for `avg` the count.
pub(crate) struct DecSum<'a> {
    data: &'a [f64],
    /// Per group, the running sum and the exact total of its rounding
    /// errors so far (NaN once adding to that total rounded): side by side,
    /// as every update touches both.
    sums: Vec<[f64; 2]>,
    /// Empty unless averaging.
    counts: Vec<u32>,
    /// Values of the flagged groups, gathered in the second pass.
    redo: Vec<(u32, f64)>,
}

impl<'a> DecSum<'a> {
    pub(crate) fn new(data: &'a [f64], groups: usize, avg: bool) -> Self {
        DecSum {
            data,
            sums: vec![[0.0; 2]; groups],
            counts: if avg { vec![0; groups] } else { Vec::new() },
            redo: Vec::new(),
        }
    }

    /// `sum`: 0 for a group without values.
    pub(crate) fn finish_sum(self, test: &ValueTest) -> Groups {
        let sums = &self.sums;
        Groups::pass(Bitmap::from_fn(sums.len(), |g| {
            let [s, c] = sums[g];
            test.real(s + c)
        }))
    }

    /// `avg`: missing (failing the test) for a group without values;
    /// otherwise the sum, the double nearest the exact sum as for `sum`,
    /// divided by the count. That is what SQLite's `AVG` and the SQL of the
    /// other dialects compute; rounding the exact quotient once instead
    /// would differ in the last bit (`0.1` three times: `0.1` against
    /// `0.10000000000000002`).
    pub(crate) fn finish_avg(self, test: &ValueTest) -> Groups {
        let (sums, counts) = (&self.sums, &self.counts);
        Groups::pass(Bitmap::from_fn(sums.len(), |g| {
            let [s, c] = sums[g];
            counts[g] > 0 && test.real((s + c) / counts[g] as f64)
        }))
    }
}

impl Fold for DecSum<'_> {
    #[inline(always)]
    fn add(&mut self, g: usize, row: usize) {
        let [s, c] = self.sums[g];
        let (t, e) = two_sum(s, self.data[row]);
        let (c, lost) = two_sum(c, e);
        // A NaN stays NaN: `lost` is then NaN too.
        self.sums[g] = [t, if lost == 0.0 { c } else { f64::NAN }];
        if let Some(n) = self.counts.get_mut(g) {
            *n += 1;
        }
    }

    fn inexact(&self) -> bool {
        self.sums.iter().any(|[_, c]| c.is_nan())
    }

    fn again(&mut self, g: usize, row: usize) {
        if self.sums[g][1].is_nan() {
            self.redo.push((g as u32, self.data[row]));
        }
    }

    fn settle(&mut self) {
        let mut redo = std::mem::take(&mut self.redo);
        // Stable: each group's values keep their order (irrelevant to an
        // exact sum, but it keeps runs reproducible).
        redo.sort_by_key(|&(g, _)| g);
        for run in redo.chunk_by(|a, b| a.0 == b.0) {
            let g = run[0].0 as usize;
            self.sums[g] = [exact_sum(run.iter().map(|&(_, x)| x)), 0.0];
        }
    }
}

/// Values `min` and `max` order in their storage form, with the value
/// every other one beats. (Tested numbers, days and seconds need no value:
/// see [`Crossing`]; dictionary codes, which follow text order, do.)
pub(crate) trait Extreme: Copy + PartialOrd {
    /// No value is below it (where `max` starts).
    const LOWEST: Self;
    /// No value is above it (where `min` starts).
    const HIGHEST: Self;
}

impl Extreme for u32 {
    const LOWEST: Self = u32::MIN;
    const HIGHEST: Self = u32::MAX;
}

/// `min` (`MAX` false) and `max` of an [`Extreme`] column. A slot starts at
/// the value every other one beats and `seen` says whether the group got
/// any: a slot as wide as the column, and an update without a branch, keep
/// the scattered updates of the slots in cache.
pub(crate) struct Best<'a, T, const MAX: bool> {
    data: &'a [T],
    best: Vec<T>,
    seen: Bitmap,
}

impl<'a, T: Extreme, const MAX: bool> Best<'a, T, MAX> {
    pub(crate) fn new(data: &'a [T], groups: usize) -> Self {
        let start = if MAX { T::LOWEST } else { T::HIGHEST };
        Best {
            data,
            best: vec![start; groups],
            seen: Bitmap::zeros(groups),
        }
    }

    /// The groups with a value that `accept` accepts.
    pub(crate) fn finish(self, accept: impl Fn(T) -> bool) -> Groups {
        let (best, seen) = (&self.best, &self.seen);
        Groups::pass(Bitmap::from_fn(best.len(), |g| {
            seen.get(g) && accept(best[g])
        }))
    }
}

impl<T: Extreme, const MAX: bool> Fold for Best<'_, T, MAX> {
    #[inline(always)]
    fn add(&mut self, g: usize, row: usize) {
        let x = self.data[row];
        let slot = &mut self.best[g];
        let better = if MAX { x > *slot } else { x < *slot };
        *slot = if better { x } else { *slot };
        self.seen.set(g);
    }
}

/// `min` and `max` tested against an interval, without finding the value:
/// the maximum lies in it when some value does and none lies above it (the
/// minimum: none below). Each record only sets a bit in one of two bitmaps
/// over the groups, which stay in cache where an array of values would not.
/// `inside` and `beyond` say where a value falls (`beyond`: above the
/// interval for `max`, below it for `min`).
pub(crate) struct Crossing<'a, T, I, B> {
    data: &'a [T],
    inside: I,
    beyond: B,
    hit: Bitmap,
    out: Bitmap,
}

impl<'a, T: Copy, I: Fn(T) -> bool, B: Fn(T) -> bool> Crossing<'a, T, I, B> {
    pub(crate) fn new(data: &'a [T], groups: usize, inside: I, beyond: B) -> Self {
        Crossing {
            data,
            inside,
            beyond,
            hit: Bitmap::zeros(groups),
            out: Bitmap::zeros(groups),
        }
    }

    pub(crate) fn finish(self) -> Groups {
        let mut pass = self.hit;
        let mut out = self.out;
        out.negate();
        pass.and_with(&out);
        Groups::pass(pass)
    }
}

impl<T: Copy, I: Fn(T) -> bool, B: Fn(T) -> bool> Fold for Crossing<'_, T, I, B> {
    #[inline(always)]
    fn add(&mut self, g: usize, row: usize) {
        let x = self.data[row];
        if (self.inside)(x) {
            self.hit.set(g);
        } else if (self.beyond)(x) {
            self.out.set(g);
        }
    }
}

/// `min` and `max` of a plain (not dictionary-encoded) text column, by
/// bytes, which for UTF-8 is code point order: the row holding the best
/// value so far.
pub(crate) struct BestText<'a> {
    offsets: &'a [usize],
    bytes: &'a [u8],
    best: Vec<u32>,
    max: bool,
}

impl<'a> BestText<'a> {
    pub(crate) fn new(offsets: &'a [usize], bytes: &'a [u8], groups: usize, max: bool) -> Self {
        BestText {
            offsets,
            bytes,
            best: vec![NONE; groups],
            max,
        }
    }

    fn text(&self, row: usize) -> &'a [u8] {
        &self.bytes[self.offsets[row]..self.offsets[row + 1]]
    }

    pub(crate) fn finish(self, test: &ValueTest) -> Groups {
        Groups::pass(Bitmap::from_fn(self.best.len(), |g| {
            let b = self.best[g];
            b != NONE && test.text(self.text(b as usize))
        }))
    }
}

impl Fold for BestText<'_> {
    fn add(&mut self, g: usize, row: usize) {
        let b = self.best[g];
        let better = b == NONE || {
            let (x, y) = (self.text(row), self.text(b as usize));
            if self.max {
                x > y
            } else {
                x < y
            }
        };
        if better {
            self.best[g] = row as u32;
        }
    }
}
