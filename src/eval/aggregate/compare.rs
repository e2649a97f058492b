//! The test on an aggregate's value (`>= 2`, `< now - 90d`, `is not null`,
//! `between`), bound at compile time to the form the value takes in the
//! kernels: an integer (counts, integer sums, and the minimum or maximum of
//! integers, choice codes, days or seconds), a double (decimal sums,
//! averages, decimal minimums and maximums) or text bytes.
//!
//! Literals are converted exactly as a field test on a column of the same
//! storage converts them ([`crate::eval::kernels`]), so `max(lead.score) > 2.5`
//! and `score > 2.5` agree, relative times are resolved once at `now`, and
//! choices compare by code.

use chrono::{DateTime, Utc};

use super::super::kernels::{
    date_literal, datetime_literal, decimal_literal, int_literal, int_spec, resolve_test, IntSpec,
    Num, StrTest,
};
use crate::error::{Error, Result};
use crate::plan::{CmpOp, Test, Value};

/// How the kernels hold an aggregate's value, which decides how a literal
/// is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// Counts, integer sums, integers and choice codes.
    Int,
    /// Days since 1970-01-01.
    Date,
    /// Seconds since the epoch.
    DateTime,
    Real,
    Text,
}

/// A positive test on a present value. A missing value (the average,
/// minimum or maximum of nothing) never reaches it: it fails every test.
pub(crate) enum ValueTest {
    /// `is not null`: every present value passes.
    Present,
    /// Inclusive bounds, in `i128` so that no literal saturates wrongly.
    Int(i128, i128),
    Real(RealTest),
    Text(StrTest),
}

pub(crate) enum RealTest {
    Cmp(CmpOp, f64),
    Between(f64, f64),
}

/// An interval of doubles, each end open or closed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RealRange {
    lo: f64,
    lo_open: bool,
    hi: f64,
    hi_open: bool,
}

impl RealRange {
    #[inline(always)]
    pub(crate) fn below(&self, x: f64) -> bool {
        if self.lo_open {
            x <= self.lo
        } else {
            x < self.lo
        }
    }

    #[inline(always)]
    pub(crate) fn above(&self, x: f64) -> bool {
        if self.hi_open {
            x >= self.hi
        } else {
            x > self.hi
        }
    }
}

impl ValueTest {
    /// Binds `test` for values of form `form`; `what` names the aggregate
    /// in errors.
    pub(crate) fn new(test: &Test, form: Form, now: DateTime<Utc>, what: &str) -> Result<Self> {
        let resolved = resolve_test(test, now)?;
        let mismatch = |v: &Value| Error::TypeMismatch {
            expected: format!("a value {what} can be compared with"),
            found: format!("{v:?}"),
            context: "the in-memory evaluator".into(),
            span: Default::default(),
        };
        match &resolved {
            Test::IsNotNull => return Ok(ValueTest::Present),
            Test::Compare { .. } | Test::Between { .. } => {}
            Test::InList(_) | Test::Text { .. } => {
                return Err(Error::Internal {
                    message: format!("{what} has a test the language does not allow"),
                })
            }
        }
        let int = |num: fn(&Value) -> Option<Num>| match int_spec(&resolved, num) {
            Ok(IntSpec::Range(lo, hi)) => Ok(ValueTest::Int(lo, hi)),
            Ok(IntSpec::Set(_)) => Err(Error::Internal {
                message: format!("{what}: a list test on an aggregate"),
            }),
            Err(v) => Err(mismatch(v)),
        };
        match form {
            Form::Int => int(int_literal),
            Form::Date => int(date_literal),
            Form::DateTime => int(datetime_literal),
            Form::Real => {
                let get = |v: &Value| decimal_literal(v).ok_or_else(|| mismatch(v));
                Ok(ValueTest::Real(match &resolved {
                    Test::Between { low, high } => RealTest::Between(get(low)?, get(high)?),
                    Test::Compare { op, value } => RealTest::Cmp(*op, get(value)?),
                    _ => unreachable!("only comparisons and between reach here"),
                }))
            }
            Form::Text => Ok(ValueTest::Text(StrTest::new(&resolved).map_err(mismatch)?)),
        }
    }

    /// Whether the integer `v` passes (a count, an integer sum, or an
    /// integer-like minimum or maximum).
    #[inline(always)]
    pub(crate) fn int(&self, v: i128) -> bool {
        match self {
            ValueTest::Present => true,
            ValueTest::Int(lo, hi) => *lo <= v && v <= *hi,
            // Not built for integer forms.
            ValueTest::Real(_) | ValueTest::Text(_) => false,
        }
    }

    /// Whether the double `v` passes.
    #[inline(always)]
    pub(crate) fn real(&self, v: f64) -> bool {
        match self {
            ValueTest::Present => true,
            ValueTest::Real(RealTest::Cmp(op, x)) => match op {
                CmpOp::Eq => v == *x,
                CmpOp::Lt => v < *x,
                CmpOp::Le => v <= *x,
                CmpOp::Gt => v > *x,
                CmpOp::Ge => v >= *x,
            },
            ValueTest::Real(RealTest::Between(lo, hi)) => *lo <= v && v <= *hi,
            ValueTest::Int(..) | ValueTest::Text(_) => false,
        }
    }

    /// The integers that pass, as inclusive bounds (a test built for an
    /// integer form accepts one interval).
    pub(crate) fn int_range(&self) -> (i128, i128) {
        match self {
            ValueTest::Int(lo, hi) => (*lo, *hi),
            ValueTest::Present => (i128::MIN, i128::MAX),
            // Not built for integer forms: nothing passes.
            ValueTest::Real(_) | ValueTest::Text(_) => (1, 0),
        }
    }

    /// The doubles that pass, as one interval.
    pub(crate) fn real_range(&self) -> RealRange {
        let all = RealRange {
            lo: f64::NEG_INFINITY,
            lo_open: false,
            hi: f64::INFINITY,
            hi_open: false,
        };
        match self {
            ValueTest::Present => all,
            ValueTest::Real(RealTest::Between(lo, hi)) => RealRange {
                lo: *lo,
                hi: *hi,
                ..all
            },
            ValueTest::Real(RealTest::Cmp(op, v)) => match op {
                CmpOp::Eq => RealRange {
                    lo: *v,
                    hi: *v,
                    ..all
                },
                CmpOp::Lt | CmpOp::Le => RealRange {
                    hi: *v,
                    hi_open: *op == CmpOp::Lt,
                    ..all
                },
                CmpOp::Gt | CmpOp::Ge => RealRange {
                    lo: *v,
                    lo_open: *op == CmpOp::Gt,
                    ..all
                },
            },
            // Not built for doubles: an empty interval.
            ValueTest::Int(..) | ValueTest::Text(_) => RealRange {
                lo: 1.0,
                hi: 0.0,
                ..all
            },
        }
    }

    /// Whether the text `v` (UTF-8 bytes) passes.
    pub(crate) fn text(&self, v: &[u8]) -> bool {
        match self {
            ValueTest::Present => true,
            ValueTest::Text(t) => t.test(v),
            ValueTest::Int(..) | ValueTest::Real(_) => false,
        }
    }
}
