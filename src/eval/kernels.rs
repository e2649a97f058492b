//! Field kernels: one [`FieldTest`] of the plan bound to one column, able to
//! run over the whole column (packing a [`Bitmap`]) or test a single row.
//!
//! Every test is reduced, at compile time, to a comparison on the column's
//! storage type: integer bounds clamped to the column's width, a sorted set,
//! a float comparison, or a text predicate run once per dictionary entry.
//! The kernels ignore NULLs; [`FieldKernel`] ANDs the validity bitmap in.

use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

use super::bitmap::{and_packed, Bitmap};
use super::column::{days_from_civil, with_ints, Column, ColumnData, Ints, Text};
use super::contains::{contains_folded, Contains};
use crate::error::{Error, Result};
use crate::plan::{CmpOp, FieldTest, Test, TextOp, Value};

/// A compiled field test.
pub(crate) struct FieldKernel<'a> {
    valid: Option<&'a Bitmap>,
    len: usize,
    scan: Scan<'a>,
}

/// The test itself, NULLs aside.
enum Scan<'a> {
    Const(bool),
    Run {
        all: Box<dyn Fn() -> Bitmap + Send + Sync + 'a>,
        one: Box<dyn Fn(usize) -> bool + Send + Sync + 'a>,
        /// ANDs the test into the words of a row range (see
        /// [`FieldKernel::and_into`]).
        part: Part<'a>,
    },
}

/// `part(first_word, words)` ANDs the test of rows `64 * first_word..` into
/// `words`, one bit per row, skipping the words that are zero already.
type Part<'a> = Box<dyn Fn(usize, &mut [u64]) + Send + Sync + 'a>;

impl FieldKernel<'_> {
    /// The rows that pass: non-NULL and satisfying the test.
    pub(crate) fn eval_all(&self) -> Bitmap {
        let mut b = match &self.scan {
            Scan::Const(true) => Bitmap::ones(self.len),
            Scan::Const(false) => return Bitmap::zeros(self.len),
            Scan::Run { all, .. } => all(),
        };
        if let Some(v) = self.valid {
            b.and_with(v);
        }
        b
    }

    /// ANDs the rows that pass into `words`, which hold rows `64 *
    /// first_word..` (at most to the end of the column): a part of
    /// [`FieldKernel::eval_all`]'s bitmap, for passes that run several tests
    /// over one range of rows while its words are in the cache.
    pub(crate) fn and_into(&self, first_word: usize, words: &mut [u64]) {
        if let Some(v) = self.valid {
            for (w, v) in words.iter_mut().zip(&v.words()[first_word..]) {
                *w &= v;
            }
        }
        match &self.scan {
            Scan::Const(true) => {}
            Scan::Const(false) => words.fill(0),
            Scan::Run { part, .. } => part(first_word, words),
        }
    }

    pub(crate) fn test(&self, row: usize) -> bool {
        self.valid.is_none_or(|v| v.get(row))
            && match &self.scan {
                Scan::Const(c) => *c,
                Scan::Run { one, .. } => one(row),
            }
    }
}

/// Runs `f` on every element (whole column) or on one.
fn scan<'a, T, F>(data: &'a [T], f: F) -> Scan<'a>
where
    T: Copy + Send + Sync + 'a,
    F: Fn(T) -> bool + Clone + Send + Sync + 'a,
{
    let g = f.clone();
    let h = f.clone();
    Scan::Run {
        all: Box::new(move || Bitmap::from_slice(data, &f)),
        one: Box::new(move |i| g(data[i])),
        part: Box::new(move |first_word, words| {
            let start = (first_word * 64).min(data.len());
            let end = (start + words.len() * 64).min(data.len());
            and_packed(&data[start..end], &h, words)
        }),
    }
}

/// `x op v` by the type's own order (floats, uuids).
fn compare<'a, T: Copy + PartialOrd + Send + Sync + 'a>(
    data: &'a [T],
    op: CmpOp,
    v: T,
) -> Scan<'a> {
    match op {
        CmpOp::Eq => scan(data, move |x| x == v),
        CmpOp::Lt => scan(data, move |x| x < v),
        CmpOp::Le => scan(data, move |x| x <= v),
        CmpOp::Gt => scan(data, move |x| x > v),
        CmpOp::Ge => scan(data, move |x| x >= v),
    }
}

/// `lo <= x <= hi`.
fn within<'a, T: Copy + PartialOrd + Send + Sync + 'a>(data: &'a [T], lo: T, hi: T) -> Scan<'a> {
    scan(data, move |x| lo <= x && x <= hi)
}

/// Membership in a set of values (totally ordered: no NaN reaches here).
fn member<'a, T: Copy + PartialOrd + Send + Sync + 'a>(data: &'a [T], mut set: Vec<T>) -> Scan<'a> {
    let order = |a: &T, b: &T| a.partial_cmp(b).unwrap_or(Ordering::Equal);
    set.sort_by(order);
    set.dedup_by(|a, b| a == b);
    match set.len() {
        0 => Scan::Const(false),
        1 => within(data, set[0], set[0]),
        // A linear scan of a few values beats a search.
        2..=8 => {
            let set: Arc<[T]> = set.into();
            scan(data, move |x| set.contains(&x))
        }
        _ => {
            let set: Arc<[T]> = set.into();
            scan(data, move |x| {
                set.binary_search_by(|p| order(p, &x)).is_ok()
            })
        }
    }
}

/// Binds `test` to `column` (the column of `test.field`), resolving relative
/// times against `now`.
pub(crate) fn compile_field<'a>(
    column: &'a Column,
    test: &FieldTest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<FieldKernel<'a>> {
    let resolved = resolve_test(&test.test, now)?;
    let mismatch = |v: &Value| Error::TypeMismatch {
        expected: format!(
            "a value of {}.{} ({})",
            test.field.entity,
            test.field.field,
            column.storage()
        ),
        found: format!("{v:?}"),
        context: "the in-memory evaluator".into(),
        span: Default::default(),
    };
    let scan = match (&column.data, &resolved) {
        (_, Test::IsNotNull) => Scan::Const(true),
        (ColumnData::Int(ints), _) => {
            let spec = int_spec(&resolved, int_literal).map_err(mismatch)?;
            ints_scan(ints, &spec)
        }
        (ColumnData::Date(d), _) => {
            let spec = int_spec(&resolved, date_literal).map_err(mismatch)?;
            int_scan(d, &spec)
        }
        (ColumnData::DateTime(seconds), _) => {
            let spec = int_spec(&resolved, datetime_literal).map_err(mismatch)?;
            ints_scan(&seconds.offsets, &spec.shifted(-(seconds.base as i128)))
        }
        (ColumnData::Bool(bits), _) => {
            let spec = int_spec(&resolved, |v| match v {
                Value::Bool(b) => Some(Num::Int(*b as i64)),
                _ => None,
            })
            .map_err(mismatch)?;
            match (spec.accepts(0), spec.accepts(1)) {
                (false, false) => Scan::Const(false),
                (true, true) => Scan::Const(true),
                (false, true) => Scan::Run {
                    all: Box::new(move || bits.clone()),
                    one: Box::new(move |i| bits.get(i)),
                    part: Box::new(move |first_word, words| {
                        for (w, b) in words.iter_mut().zip(&bits.words()[first_word..]) {
                            *w &= b;
                        }
                    }),
                },
                (true, false) => Scan::Run {
                    all: Box::new(move || {
                        let mut b = bits.clone();
                        b.negate();
                        b
                    }),
                    one: Box::new(move |i| !bits.get(i)),
                    // Past the column's end the words are zero already.
                    part: Box::new(move |first_word, words| {
                        for (w, b) in words.iter_mut().zip(&bits.words()[first_word..]) {
                            *w &= !b;
                        }
                    }),
                },
            }
        }
        (ColumnData::Uuid(d), _) => ordered_scan(d, &resolved, |v| match v {
            Value::Uuid(u) => Some(u.as_u128()),
            _ => None,
        })
        .map_err(mismatch)?,
        (ColumnData::Decimal(d), _) => {
            ordered_scan(d, &resolved, decimal_literal).map_err(mismatch)?
        }
        (ColumnData::Text(text), _) => {
            let t = StrTest::new(&resolved).map_err(mismatch)?;
            text_scan(text, t)
        }
    };
    Ok(FieldKernel {
        valid: column.valid.as_ref(),
        len: column.len(),
        scan,
    })
}

/// Binds `test` to the key column `keys` (never NULL).
pub(crate) fn compile_key<'a>(
    keys: &'a [u128],
    test: &FieldTest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<FieldKernel<'a>> {
    let resolved = resolve_test(&test.test, now)?;
    let scan = ordered_scan(keys, &resolved, |v| match v {
        Value::Uuid(u) => Some(u.as_u128()),
        _ => None,
    })
    .map_err(|v| Error::TypeMismatch {
        expected: format!("a uuid for {}.{}", test.field.entity, test.field.field),
        found: format!("{v:?}"),
        context: "the in-memory evaluator".into(),
        span: Default::default(),
    })?;
    Ok(FieldKernel {
        valid: None,
        len: keys.len(),
        scan,
    })
}

fn resolve(v: &Value, now: chrono::DateTime<chrono::Utc>) -> Result<Value> {
    v.resolve(now).ok_or_else(|| Error::InvalidValue {
        message: format!("{v:?} at the reference time {now} falls outside the years 0000 to 9999"),
        span: Default::default(),
    })
}

pub(crate) fn resolve_test(test: &Test, now: chrono::DateTime<chrono::Utc>) -> Result<Test> {
    Ok(match test {
        Test::Compare { op, value } => Test::Compare {
            op: *op,
            value: resolve(value, now)?,
        },
        Test::InList(vs) => {
            Test::InList(vs.iter().map(|v| resolve(v, now)).collect::<Result<_>>()?)
        }
        Test::Between { low, high } => Test::between(resolve(low, now)?, resolve(high, now)?),
        other => other.clone(),
    })
}

/// A literal on an integer or choice column (or any integer value).
pub(crate) fn int_literal(v: &Value) -> Option<Num> {
    match v {
        Value::Integer(i) | Value::Choice { code: i, .. } => Some(Num::Int(*i)),
        Value::Decimal(f) => Some(Num::Real(*f)),
        _ => None,
    }
}

/// A literal on a date column, as days since 1970-01-01.
pub(crate) fn date_literal(v: &Value) -> Option<Num> {
    match v {
        Value::Date(d) => Some(Num::Int(days(d))),
        _ => None,
    }
}

/// A literal on a date-time column, as seconds since the epoch.
pub(crate) fn datetime_literal(v: &Value) -> Option<Num> {
    match v {
        Value::DateTime(t) => Some(Num::Int(t.timestamp())),
        // A date on a date-time field means that day at 00:00:00Z.
        Value::Date(d) => Some(Num::Int(days(d) * 86_400)),
        _ => None,
    }
}

/// A literal on a decimal column (or any decimal value).
pub(crate) fn decimal_literal(v: &Value) -> Option<f64> {
    match v {
        Value::Decimal(f) => Some(*f),
        // Exact for |i| <= 2^53, which covers every realistic literal.
        Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

fn days(d: &chrono::NaiveDate) -> i64 {
    use chrono::Datelike;
    days_from_civil(d.year() as i64, d.month(), d.day())
}

/// A literal on an integer-like column.
pub(crate) enum Num {
    Int(i64),
    Real(f64),
}

/// An integer-like test: inclusive bounds or a set, in `i128` so that `v ± 1`
/// and saturated float bounds never overflow.
pub(crate) enum IntSpec {
    Range(i128, i128),
    Set(Vec<i128>),
}

impl IntSpec {
    pub(crate) fn accepts(&self, v: i128) -> bool {
        match self {
            IntSpec::Range(lo, hi) => *lo <= v && v <= *hi,
            IntSpec::Set(s) => s.contains(&v),
        }
    }

    /// The test accepting `x + by` for every `x` this one accepts: the
    /// test on a column stored as offsets from `-by`. Saturating keeps
    /// open bounds beyond every stored width.
    pub(crate) fn shifted(self, by: i128) -> IntSpec {
        let shift = |v: i128| v.saturating_add(by);
        match self {
            IntSpec::Range(lo, hi) => IntSpec::Range(shift(lo), shift(hi)),
            IntSpec::Set(s) => IntSpec::Set(s.into_iter().map(shift).collect()),
        }
    }
}

/// The integers `x` with `x op n`. For a decimal literal the bound moves to
/// the nearest integer on the right side (`x < 2.5` is `x <= 2`), which is
/// exact where converting `x` to a float would not be.
fn bounds(op: CmpOp, n: &Num) -> (i128, i128) {
    const MIN: i128 = i128::MIN;
    const MAX: i128 = i128::MAX;
    match *n {
        Num::Int(v) => {
            let v = v as i128;
            match op {
                CmpOp::Eq => (v, v),
                CmpOp::Lt => (MIN, v - 1),
                CmpOp::Le => (MIN, v),
                CmpOp::Gt => (v + 1, MAX),
                CmpOp::Ge => (v, MAX),
            }
        }
        Num::Real(f) => {
            // `as` saturates, which keeps far-out literals on the right side.
            let (floor, ceil) = (f.floor() as i128, f.ceil() as i128);
            match op {
                CmpOp::Eq if f.fract() == 0.0 => (floor, floor),
                CmpOp::Eq => (1, 0),
                CmpOp::Lt => (MIN, ceil.saturating_sub(1)),
                CmpOp::Le => (MIN, floor),
                CmpOp::Gt => (floor.saturating_add(1), MAX),
                CmpOp::Ge => (ceil, MAX),
            }
        }
    }
}

pub(crate) fn int_spec<'v>(
    test: &'v Test,
    num: impl Fn(&Value) -> Option<Num>,
) -> Result<IntSpec, &'v Value> {
    let get = |v: &'v Value| num(v).ok_or(v);
    Ok(match test {
        Test::Compare { op, value } => {
            let (lo, hi) = bounds(*op, &get(value)?);
            IntSpec::Range(lo, hi)
        }
        Test::Between { low, high } => {
            let (lo, _) = bounds(CmpOp::Ge, &get(low)?);
            let (_, hi) = bounds(CmpOp::Le, &get(high)?);
            IntSpec::Range(lo, hi)
        }
        Test::InList(vs) => {
            let mut set = Vec::with_capacity(vs.len());
            for v in vs {
                match get(v)? {
                    Num::Int(i) => set.push(i as i128),
                    Num::Real(f) if f.fract() == 0.0 => set.push(f as i128),
                    Num::Real(_) => {}
                }
            }
            IntSpec::Set(set)
        }
        Test::IsNotNull => IntSpec::Range(i128::MIN, i128::MAX),
        Test::Text { .. } => return Err(&TEXT_TEST),
    })
}

/// Stands for a text pattern in type errors about non-text columns.
static TEXT_TEST: Value = Value::Text(String::new());

/// Integer storage widths.
trait Narrow: Copy + PartialOrd + Send + Sync + 'static {
    const MIN: i128;
    const MAX: i128;
    /// `v` must lie in `MIN..=MAX`.
    fn from_wide(v: i128) -> Self;
}

macro_rules! narrow {
    ($($t:ty),*) => {$(
        impl Narrow for $t {
            const MIN: i128 = <$t>::MIN as i128;
            const MAX: i128 = <$t>::MAX as i128;
            fn from_wide(v: i128) -> Self {
                v as $t
            }
        }
    )*};
}
narrow!(i8, i16, i32, i64);

/// [`int_scan`] on integers of any width.
fn ints_scan<'a>(ints: &'a Ints, spec: &IntSpec) -> Scan<'a> {
    with_ints!(ints, d => int_scan(d, spec))
}

fn int_scan<'a, T: Narrow>(data: &'a [T], spec: &IntSpec) -> Scan<'a> {
    match spec {
        IntSpec::Range(lo, hi) => {
            let (lo, hi) = ((*lo).max(T::MIN), (*hi).min(T::MAX));
            if lo > hi {
                Scan::Const(false)
            } else if lo == T::MIN && hi == T::MAX {
                Scan::Const(true)
            } else {
                within(data, T::from_wide(lo), T::from_wide(hi))
            }
        }
        IntSpec::Set(set) => member(
            data,
            set.iter()
                .filter(|v| (T::MIN..=T::MAX).contains(v))
                .map(|&v| T::from_wide(v))
                .collect(),
        ),
    }
}

/// Tests on uuid and decimal columns, by the type's own order.
fn ordered_scan<'a, 'v, T: Copy + PartialOrd + Send + Sync + 'a>(
    data: &'a [T],
    test: &'v Test,
    get: impl Fn(&Value) -> Option<T>,
) -> Result<Scan<'a>, &'v Value> {
    let get = |v: &'v Value| get(v).ok_or(v);
    Ok(match test {
        Test::Compare { op, value } => compare(data, *op, get(value)?),
        Test::Between { low, high } => within(data, get(low)?, get(high)?),
        Test::InList(vs) => member(data, vs.iter().map(get).collect::<Result<_, _>>()?),
        Test::IsNotNull => Scan::Const(true),
        Test::Text { .. } => return Err(&TEXT_TEST),
    })
}

/// A test on one text value.
pub(crate) enum StrTest {
    Cmp(CmpOp, String),
    In(Vec<String>),
    Between(String, String),
    /// Pattern already ASCII-lowercased.
    Fold(TextOp, Vec<u8>),
}

impl StrTest {
    pub(crate) fn new(test: &Test) -> Result<StrTest, &Value> {
        let get = |v: &'_ Value| match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        };
        Ok(match test {
            Test::Compare { op, value } => StrTest::Cmp(*op, get(value).ok_or(value)?),
            Test::Between { low, high } => {
                StrTest::Between(get(low).ok_or(&**low)?, get(high).ok_or(&**high)?)
            }
            Test::InList(vs) => {
                let mut set = Vec::with_capacity(vs.len());
                for v in vs {
                    set.push(get(v).ok_or(v)?);
                }
                set.sort_unstable();
                set.dedup();
                StrTest::In(set)
            }
            Test::Text { op, pattern } => {
                StrTest::Fold(*op, pattern.as_bytes().to_ascii_lowercase())
            }
            Test::IsNotNull => StrTest::Between(String::new(), String::new()),
        })
    }

    /// Tests the UTF-8 bytes of a value. Byte order of UTF-8 is code point
    /// order, so comparing bytes is comparing text as SPEC §2.3 asks.
    pub(crate) fn test(&self, s: &[u8]) -> bool {
        match self {
            StrTest::Cmp(op, v) => {
                let v = v.as_bytes();
                match op {
                    CmpOp::Eq => s == v,
                    CmpOp::Lt => s < v,
                    CmpOp::Le => s <= v,
                    CmpOp::Gt => s > v,
                    CmpOp::Ge => s >= v,
                }
            }
            StrTest::In(set) => set.binary_search_by(|p| p.as_bytes().cmp(s)).is_ok(),
            StrTest::Between(lo, hi) => lo.as_bytes() <= s && s <= hi.as_bytes(),
            StrTest::Fold(op, p) => match op {
                TextOp::StartsWith => s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p),
                TextOp::EndsWith => {
                    s.len() >= p.len() && s[s.len() - p.len()..].eq_ignore_ascii_case(p)
                }
                TextOp::Contains => contains_folded(s, p),
            },
        }
    }
}

/// A range of rows of which fewer than one in this many are left to test
/// is tested row by row.
const SPARSE_RANGE: usize = 8;

fn text_scan(text: &Text, t: StrTest) -> Scan<'_> {
    let contains = match &t {
        StrTest::Fold(TextOp::Contains, needle) => Some(Arc::new(Contains::new(needle))),
        _ => None,
    };
    let t = Arc::new(t);
    let t1 = t.clone();
    let t2 = t.clone();
    match (text, contains) {
        (Text::Dict { codes, values }, _) => {
            // Which codes pass: found on first use, then shared by the
            // whole-column scan and the row ranges.
            let hits = Arc::new(OnceLock::new());
            let hits1 = hits.clone();
            Scan::Run {
                all: Box::new(move || hits.get_or_init(|| CodeHits::new(values, &t)).bitmap(codes)),
                one: Box::new(move |i| t1.test(values[codes[i] as usize].as_bytes())),
                part: Box::new(move |first_word, words| {
                    let hits = hits1.get_or_init(|| CodeHits::new(values, &t2));
                    let start = (first_word * 64).min(codes.len());
                    let end = (start + words.len() * 64).min(codes.len());
                    hits.and_into(&codes[start..end], words)
                }),
            }
        }
        (
            Text::Plain {
                offsets,
                bytes,
                folded,
            },
            Some(search),
        ) => {
            let rows = offsets.len() - 1;
            let search1 = search.clone();
            let row = move |i: usize| &bytes[offsets[i]..offsets[i + 1]];
            Scan::Run {
                all: Box::new(move || {
                    Bitmap::from_words(search.all(folded.rows(offsets, bytes)), rows)
                        .unwrap_or_else(|| Bitmap::zeros(rows))
                }),
                one: Box::new(move |i| t1.test(row(i))),
                part: Box::new(move |first_word, words| {
                    // Few rows left to test: one by one. Many: the whole
                    // range searched at once.
                    let left: u32 = words.iter().map(|w| w.count_ones()).sum();
                    if (left as usize) * SPARSE_RANGE < words.len() * 64 {
                        return retain_rows(first_word, words, |i| t2.test(row(i)));
                    }
                    let mut hits = vec![0u64; words.len()];
                    search1.set_hits(folded.made_rows(offsets, bytes), first_word, &mut hits);
                    for (w, h) in words.iter_mut().zip(hits) {
                        *w &= h;
                    }
                }),
            }
        }
        (Text::Plain { offsets, bytes, .. }, None) => {
            let row = move |i: usize| &bytes[offsets[i]..offsets[i + 1]];
            Scan::Run {
                all: Box::new(move || Bitmap::from_fn(offsets.len() - 1, |i| t.test(row(i)))),
                one: Box::new(move |i| t1.test(row(i))),
                part: Box::new(move |first_word, words| {
                    retain_rows(first_word, words, |i| t2.test(row(i)))
                }),
            }
        }
    }
}

/// Clears the bits of `words` (rows `64 * first_word..`) whose row fails
/// `keep`, testing only the rows still set: a row-by-row test of a range,
/// for the tests with no faster one.
fn retain_rows(first_word: usize, words: &mut [u64], keep: impl Fn(usize) -> bool) {
    for (i, w) in words.iter_mut().enumerate() {
        let mut bits = *w;
        while bits != 0 {
            let bit = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if !keep((first_word + i) * 64 + bit) {
                *w &= !(1 << bit);
            }
        }
    }
}

/// The codes of a dictionary column that pass a test, each distinct value
/// tested once. Because the dictionary is sorted, the hits of `=`, `<`,
/// `between` (and often of the text searches) are one run of codes, tested
/// as a range over the codes, which vectorizes; other hit sets go through a
/// lookup table.
enum CodeHits {
    None,
    Run(u32, u32),
    Table(Vec<bool>),
}

impl CodeHits {
    fn new(values: &[String], t: &StrTest) -> CodeHits {
        let hits: Vec<bool> = values.iter().map(|v| t.test(v.as_bytes())).collect();
        let (Some(lo), Some(hi)) = (hits.iter().position(|&h| h), hits.iter().rposition(|&h| h))
        else {
            return CodeHits::None;
        };
        if hits[lo..=hi].iter().all(|&h| h) {
            CodeHits::Run(lo as u32, hi as u32)
        } else {
            CodeHits::Table(hits)
        }
    }

    fn bitmap(&self, codes: &[u32]) -> Bitmap {
        match self {
            CodeHits::None => Bitmap::zeros(codes.len()),
            &CodeHits::Run(lo, hi) => Bitmap::from_slice(codes, |c| lo <= c && c <= hi),
            CodeHits::Table(hits) => Bitmap::from_slice(codes, |c| hits[c as usize]),
        }
    }

    fn and_into(&self, codes: &[u32], words: &mut [u64]) {
        match self {
            CodeHits::None => words.fill(0),
            &CodeHits::Run(lo, hi) => and_packed(codes, &|c| lo <= c && c <= hi, words),
            CodeHits::Table(hits) => and_packed(codes, &|c| hits[c as usize], words),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_bounds_on_integers_are_exact() {
        let d = [1i64, 2, 3, 4];
        let run = |op, f| {
            let spec = int_spec(
                &Test::Compare {
                    op,
                    value: Value::Decimal(f),
                },
                |v| match v {
                    Value::Decimal(f) => Some(Num::Real(*f)),
                    _ => None,
                },
            )
            .unwrap_or(IntSpec::Set(vec![]));
            d.iter().filter(|&&x| spec.accepts(x as i128)).count()
        };
        assert_eq!(run(CmpOp::Lt, 2.5), 2);
        assert_eq!(run(CmpOp::Le, 2.5), 2);
        assert_eq!(run(CmpOp::Gt, 2.5), 2);
        assert_eq!(run(CmpOp::Ge, 2.0), 3);
        assert_eq!(run(CmpOp::Eq, 2.5), 0);
        assert_eq!(run(CmpOp::Eq, 3.0), 1);
        assert_eq!(run(CmpOp::Lt, 1e300), 4);
        assert_eq!(run(CmpOp::Gt, -1e300), 4);
    }

    #[test]
    fn contains_on_plain_text_answers_alike_whole_in_ranges_and_once_copied() {
        let rows: Vec<String> = (0..3000)
            .map(|i| match i % 5 {
                0 => format!("Row{i}.MUELLER"),
                1 => format!("mueller{i}"),
                2 => String::new(),
                _ => format!("other {i}"),
            })
            .collect();
        let mut offsets = vec![0usize];
        let mut bytes = Vec::new();
        for r in &rows {
            bytes.extend_from_slice(r.as_bytes());
            offsets.push(bytes.len());
        }
        let text = Text::Plain {
            offsets: offsets.into(),
            bytes: bytes.into(),
            folded: Default::default(),
        };
        let test = || StrTest::Fold(TextOp::Contains, b"mueller".to_vec());
        let want = Bitmap::from_fn(rows.len(), |i| test().test(rows[i].as_bytes()));
        let Scan::Run { all, part, .. } = text_scan(&text, test()) else {
            panic!("a contains test runs");
        };
        // In ranges: every row still to test (searched at once), every
        // 20th (tested row by row), none.
        let ranges = |to_test: &dyn Fn(usize) -> bool| {
            let mut words = Bitmap::from_fn(rows.len(), to_test).words().to_vec();
            for (first, range) in words.chunks_mut(7).enumerate() {
                part(first * 7, range);
            }
            words
        };
        for round in 0..3 {
            // The second whole-column search makes the folded copy, which
            // the third and the ranges after it search.
            assert_eq!(all(), want, "round {round}");
            assert_eq!(ranges(&|_| true), want.words(), "round {round}");
            let every_20th = Bitmap::from_fn(rows.len(), |i| i % 20 == 0 && want.get(i));
            assert_eq!(
                ranges(&|i| i % 20 == 0),
                every_20th.words(),
                "round {round}"
            );
            assert!(ranges(&|_| false).iter().all(|&w| w == 0));
        }
    }

    #[test]
    fn folding_is_ascii_only_and_literal() {
        let t = |op, p: &str, s: &str| {
            StrTest::Fold(op, p.as_bytes().to_ascii_lowercase()).test(s.as_bytes())
        };
        assert!(t(TextOp::Contains, "COLE", "école"));
        assert!(!t(TextOp::Contains, "é", "ÉCOLE"));
        assert!(t(TextOp::Contains, "50%", "save 50% now"));
        assert!(!t(TextOp::Contains, "5_%", "save 50% now"));
        assert!(t(TextOp::StartsWith, "AB", "abc"));
        assert!(t(TextOp::EndsWith, "", "abc"));
        assert!(!t(TextOp::EndsWith, "abcd", "bcd"));
    }
}
