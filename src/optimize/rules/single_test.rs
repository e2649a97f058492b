//! Simplifying one field test on its own: an `in` list without repeats,
//! `in [v]` → `= v`, `in []` → `false`, `between v and v` → `= v`, and a
//! `between` whose bounds are crossed → `false`.

use std::cmp::Ordering;

use crate::optimize::values::{class, compare};
use crate::optimize::{Rule, Transformed};
use crate::plan::{CmpOp, FieldTest, PlanExpr, Test, Value};

/// Normalizes a single `in` or `between` test.
pub struct SimplifyTest;

impl Rule for SimplifyTest {
    fn name(&self) -> &'static str {
        "simplify_test"
    }

    /// An `in` or `between` test: a leaf the rule cannot change stays
    /// where the walk found it (most leaves are comparisons).
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        matches!(
            expr,
            PlanExpr::Field(FieldTest {
                test: Test::InList(_) | Test::Between { .. },
                ..
            })
        )
    }

    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        let PlanExpr::Field(FieldTest { field, test }) = expr else {
            return Transformed::no(expr);
        };
        let simpler = match &test {
            Test::InList(values) => {
                let distinct = distinct_values(values);
                match distinct.len() {
                    0 => Some(PlanExpr::Const(false)),
                    1 => Some(make_eq(field.clone(), distinct[0].clone())),
                    n if n < values.len() => Some(PlanExpr::Field(FieldTest {
                        field: field.clone(),
                        test: Test::InList(distinct),
                    })),
                    _ => None,
                }
            }
            Test::Between { low, high } => match compare(low, high) {
                Some(Ordering::Greater) => Some(PlanExpr::Const(false)),
                Some(Ordering::Equal) => Some(make_eq(field.clone(), (**low).clone())),
                _ => None,
            },
            _ => None,
        };
        match simpler {
            Some(expr) => Transformed::yes(expr),
            None => Transformed::no(PlanExpr::Field(FieldTest { field, test })),
        }
    }
}

fn make_eq(field: crate::plan::FieldRef, value: Value) -> PlanExpr {
    PlanExpr::Field(FieldTest {
        field,
        test: Test::Compare {
            op: CmpOp::Eq,
            value,
        },
    })
}

/// The values without repeats, first occurrence kept. Long lists of one
/// class are deduplicated by sorting (`in` lists may hold 10,000 values);
/// others by pairwise comparison.
pub(crate) fn distinct_values(values: &[Value]) -> Vec<Value> {
    if values.len() > SHORT {
        if let Some(distinct) = distinct_sorted(values) {
            return distinct;
        }
    }
    let mut out: Vec<Value> = Vec::with_capacity(values.len());
    for value in values {
        if !out.contains(value) {
            out.push(value.clone());
        }
    }
    out
}

/// Lists up to this long are handled pairwise.
const SHORT: usize = 32;

fn distinct_sorted(values: &[Value]) -> Option<Vec<Value>> {
    let c = class(values.first()?)?;
    if !values.iter().all(|v| class(v) == Some(c)) {
        return None;
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    // Equal values end up next to each other, the first occurrence first.
    order.sort_by(|&a, &b| {
        compare(&values[a], &values[b])
            .unwrap_or(Ordering::Equal)
            .then(a.cmp(&b))
    });
    let mut keep = vec![false; values.len()];
    let mut previous: Option<usize> = None;
    for &index in &order {
        let repeat =
            previous.is_some_and(|p| compare(&values[p], &values[index]) == Some(Ordering::Equal));
        if !repeat {
            keep[index] = true;
        }
        previous = Some(index);
    }
    Some(
        values
            .iter()
            .zip(keep)
            .filter(|(_, keep)| *keep)
            .map(|(v, _)| v.clone())
            .collect(),
    )
}

/// A membership test for `values`, all of one class: a binary search for
/// long lists, a scan for short ones.
pub(crate) fn membership(values: Vec<&Value>) -> impl Fn(&Value) -> bool + '_ {
    let mut sorted = values;
    let long = sorted.len() > SHORT;
    if long {
        sorted.sort_by(|a, b| compare(a, b).unwrap_or(Ordering::Equal));
    }
    move |v: &Value| {
        if long {
            sorted
                .binary_search_by(|probe| compare(probe, v).unwrap_or(Ordering::Equal))
                .is_ok()
        } else {
            sorted
                .iter()
                .any(|w| compare(v, w) == Some(Ordering::Equal))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;

    #[test]
    fn in_lists() {
        let f = int_field();
        let run = |e| rewrite(&SimplifyTest, e);
        assert_eq!(run(in_list(&f, vec![])), (PlanExpr::Const(false), true));
        assert_eq!(
            run(in_list(&f, vec![int(3), int(3)])),
            (make_eq(f.clone(), int(3)), true)
        );
        assert_eq!(
            run(in_list(&f, vec![int(3), int(4), int(3)])),
            (in_list(&f, vec![int(3), int(4)]), true)
        );
        // 1 and 1.0 are different literals; the list is left as written.
        let mixed = in_list(&f, vec![int(1), Value::Decimal(1.0)]);
        assert_eq!(run(mixed.clone()), (mixed, false));
    }

    #[test]
    fn long_lists() {
        let f = int_field();
        let values: Vec<Value> = (0..1000).map(|i| int((i * 7) % 300)).collect();
        let (out, changed) = rewrite(&SimplifyTest, in_list(&f, values));
        assert!(changed);
        let expected: Vec<Value> = (0..300).map(|i| int((i * 7) % 300)).collect();
        assert_eq!(out, in_list(&f, expected));
        let evens: Vec<Value> = (0..100).map(|i| int(i * 2)).collect();
        let member = membership(evens.iter().collect());
        assert!(member(&int(42)) && !member(&int(43)));
    }

    #[test]
    fn betweens() {
        let f = int_field();
        let run = |e| rewrite(&SimplifyTest, e);
        assert_eq!(
            run(between(&f, int(5), int(5))),
            (make_eq(f.clone(), int(5)), true)
        );
        assert_eq!(
            run(between(&f, int(6), int(5))),
            (PlanExpr::Const(false), true)
        );
        let ok = between(&f, int(1), int(5));
        assert_eq!(run(ok.clone()), (ok, false));
        // An integer and a decimal bound are never compared.
        let mixed = between(&f, int(6), Value::Decimal(5.0));
        assert_eq!(run(mixed.clone()), (mixed, false));
        let rel = between(&f, Value::TodayPlusDays(2), Value::TodayPlusDays(1));
        assert_eq!(run(rel), (PlanExpr::Const(false), true));
    }
}
