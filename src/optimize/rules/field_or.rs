//! Merging the tests on one field inside an `or`: equalities and `in` lists
//! become one `in` list (`x = 1 or x = 2` → `x in [1, 2]`), and everything
//! [`MergeFieldAnd`](super::MergeFieldAnd) knows about an `and` applies to an
//! `or` by De Morgan: `a or b` = `not (not a and not b)`. So `x != 1 or x !=
//! 2` → `true`, `not (x >= 5) or not (x >= 10)` → `not (x >= 10)`, and `x is
//! not null or x = 1` → `x is not null`.

use crate::optimize::rules::field_and::{conjoin, may_test_a_field_twice, merge_groups};
use crate::optimize::rules::single_test::distinct_values;
use crate::optimize::rules::{field_atom, negate};
use crate::optimize::{Rule, Transformed};
use crate::plan::{FieldRef, FieldTest, PlanExpr, Test, Value};

/// Merges the tests an `or` makes on the same field.
pub struct MergeFieldOr;

impl Rule for MergeFieldOr {
    fn name(&self) -> &'static str {
        "merge_field_or"
    }

    /// An `or` that may test a field twice.
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        matches!(expr, PlanExpr::Or(items) if may_test_a_field_twice(items))
    }

    /// The merged tests are new (under a `not`, a test is as the merge
    /// made it: simplified already).
    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        let PlanExpr::Or(items) = expr else {
            return Transformed::no(expr);
        };
        merge_groups(items, disjoin).transformed(PlanExpr::Or, true)
    }
}

/// The `or` of `atoms` (tests on `field`), simplified; `None` when it always
/// holds.
fn disjoin(field: &FieldRef, atoms: &[PlanExpr]) -> Option<Vec<PlanExpr>> {
    if let Some(union) = union_of_sets(field, atoms) {
        return Some(union);
    }
    let negated: Vec<PlanExpr> = atoms.iter().cloned().map(negate).collect();
    let merged = conjoin(field, &negated)?;
    Some(merged.into_iter().map(negate).collect())
}

/// Two or more `=`/`in` tests on the field become one `in` list at the place
/// of the first; `None` when there are fewer than two.
fn union_of_sets(field: &FieldRef, atoms: &[PlanExpr]) -> Option<Vec<PlanExpr>> {
    let values_of = |atom: &PlanExpr| -> Option<Vec<Value>> {
        match field_atom(atom)? {
            (
                _,
                false,
                Test::Compare {
                    op: crate::plan::CmpOp::Eq,
                    value,
                },
            ) => Some(vec![value.clone()]),
            (_, false, Test::InList(values)) => Some(values.clone()),
            _ => None,
        }
    };
    let sets = atoms.iter().filter(|a| values_of(a).is_some()).count();
    if sets < 2 {
        return None;
    }
    let mut values = Vec::new();
    let mut out = Vec::with_capacity(atoms.len());
    let mut placed = false;
    for atom in atoms {
        match values_of(atom) {
            Some(v) => {
                values.extend(v);
                if !placed {
                    placed = true;
                    // A placeholder, filled in once all values are known.
                    out.push(PlanExpr::Const(false));
                }
            }
            None => out.push(atom.clone()),
        }
    }
    let union = PlanExpr::Field(FieldTest {
        field: field.clone(),
        test: Test::InList(distinct_values(&values)),
    });
    if let Some(slot) = out.iter_mut().find(|e| **e == PlanExpr::Const(false)) {
        *slot = union;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::CmpOp::*;
    use crate::plan::NewNodes;
    use crate::plan::ValueType;

    fn run(items: Vec<PlanExpr>) -> (PlanExpr, bool) {
        rewrite(&MergeFieldOr, or(items))
    }

    #[test]
    fn equalities_become_a_list() {
        let x = int_field();
        assert_eq!(
            run(vec![
                n(Eq, 1),
                flag("a"),
                n(Eq, 2),
                in_list(&x, vec![int(2), int(3)])
            ]),
            (
                or(vec![in_list(&x, vec![int(1), int(2), int(3)]), flag("a")]),
                true
            )
        );
        // Different literal kinds may share a list: `in` is an `or` of `=`.
        assert_eq!(
            run(vec![n(Eq, 1), cmp(&x, Eq, Value::Decimal(1.5))]),
            (
                or(vec![in_list(&x, vec![int(1), Value::Decimal(1.5)])]),
                true
            )
        );
    }

    #[test]
    fn names_the_merged_tests_new() {
        let x = int_field();
        let input = or(vec![flag("a"), n(Eq, 1), n(Eq, 1)]);
        let Transformed {
            expr: out,
            changed,
            built: new,
        } = MergeFieldOr.rewrite(input);
        // `x in [1]`: the merge leaves it to `simplify_test`, which the
        // driver runs on the new test before it looks at the `or` again.
        assert_eq!(
            (out, changed),
            (or(vec![flag("a"), in_list(&x, vec![int(1)])]), true)
        );
        assert_eq!(
            new,
            NewNodes {
                children: vec![1],
                levels: 1
            }
        );
    }

    #[test]
    fn tautologies() {
        let x = int_field();
        assert_eq!(
            run(vec![not(n(Eq, 1)), not(n(Eq, 2))]),
            (PlanExpr::Const(true), true)
        );
        assert_eq!(
            run(vec![not_null(&x), is_null(&x)]),
            (PlanExpr::Const(true), true)
        );
        assert_eq!(
            run(vec![is_null(&x), not(n(Eq, 1))]).0,
            or(vec![not(n(Eq, 1))])
        );
        assert_eq!(
            run(vec![not_null(&x), n(Eq, 1)]),
            (or(vec![not_null(&x)]), true)
        );
    }

    #[test]
    fn negated_ranges_merge() {
        assert_eq!(
            run(vec![not(n(Ge, 5)), not(n(Ge, 10))]),
            (or(vec![not(n(Ge, 10))]), true)
        );
    }

    #[test]
    fn null_sensitive_pairs_stay() {
        // `x < 5 or x >= 5` misses NULL x: not a tautology.
        let input = or(vec![n(Lt, 5), n(Ge, 5)]);
        assert_eq!(rewrite(&MergeFieldOr, input.clone()), (input, false));
        let s = field("s", ValueType::Text);
        let input = or(vec![
            cmp(&s, Lt, Value::Text("m".into())),
            not(cmp(&s, Lt, Value::Text("m".into()))).clone(),
            n(Eq, 1),
        ]);
        // (Complement handles this one; the field merge leaves it.)
        assert_eq!(rewrite(&MergeFieldOr, input.clone()), (input, false));
    }
}
