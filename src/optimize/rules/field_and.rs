//! Merging the tests on one field inside an `and`: contradictions (`role =
//! "Employee" and role = "Influencer"`, `score > 10 and score < 5`, `x is
//! null and x = 1` → `false`), range merging (`score >= 5 and score >= 10` →
//! `score >= 10`; a closed range → `between`), `in` list intersection, and
//! `x is not null` made redundant by any positive test on `x`.
//!
//! Two literals are only ever compared when every back end orders them the
//! same way (see [`crate::optimize::values`]); tests whose values cannot be
//! compared are left as they are.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::optimize::fingerprint::{worth_an_index, QuickState};
use crate::optimize::rules::field_atom;
use crate::optimize::rules::single_test::{distinct_values, membership};
use crate::optimize::values::{class, compare, Class};
use crate::optimize::{Rule, Transformed};
use crate::plan::NewNodes;
use crate::plan::{CmpOp, FieldRef, FieldTest, PlanExpr, Test, Value, ValueType};

/// Merges the tests an `and` makes on the same field.
pub struct MergeFieldAnd;

impl Rule for MergeFieldAnd {
    fn name(&self) -> &'static str {
        "merge_field_and"
    }

    /// An `and` that may test a field twice.
    fn looks_at(&self, expr: &PlanExpr) -> bool {
        matches!(expr, PlanExpr::And(items) if may_test_a_field_twice(items))
    }

    /// The merged tests are new (under a `not`, a test is as the merge
    /// made it: simplified already).
    fn rewrite(&self, expr: PlanExpr) -> Transformed {
        let PlanExpr::And(items) = expr else {
            return Transformed::no(expr);
        };
        merge_groups(items, conjoin).transformed(PlanExpr::And, false)
    }
}

/// The outcome of merging the field groups of a list.
pub(crate) enum Merged {
    Unchanged(Vec<PlanExpr>),
    /// The items, and the merged tests among them.
    Changed(Vec<PlanExpr>, NewNodes),
    /// One group simplified to the list's absorbing constant.
    Contradiction,
}

impl Merged {
    /// The list rebuilt by `rebuild`, or its `absorbing` constant.
    pub(crate) fn transformed(
        self,
        rebuild: fn(Vec<PlanExpr>) -> PlanExpr,
        absorbing: bool,
    ) -> Transformed {
        match self {
            Merged::Unchanged(items) => Transformed::no(rebuild(items)),
            Merged::Changed(items, new) => Transformed::with_built(rebuild(items), new),
            Merged::Contradiction => Transformed::yes(PlanExpr::Const(absorbing)),
        }
    }
}

/// Whether `items` may test one field twice, so that [`merge_groups`]
/// has a group to merge. A short list is checked pair by pair; a long one
/// is left to `merge_groups`, which groups it through an index.
pub(crate) fn may_test_a_field_twice(items: &[PlanExpr]) -> bool {
    if is_long(items) {
        return true;
    }
    fn field(item: &PlanExpr) -> Option<&FieldRef> {
        field_atom(item).map(|(field, _, _)| field)
    }
    let earlier_on =
        |i: usize, field_i: &FieldRef| items[..i].iter().any(|e| field(e) == Some(field_i));
    (1..items.len()).any(|i| field(&items[i]).is_some_and(|f| earlier_on(i, f)))
}

/// Whether a list is long enough for [`merge_groups`] to find each field's
/// group through an index: a scan of the groups for every item would cost
/// the square of the list's length.
fn is_long(items: &[PlanExpr]) -> bool {
    worth_an_index(items.len() * items.len() / 2)
}

/// Groups the field tests of `items` by field and lets `merge` replace every
/// group of two or more: its result (`None` = the absorbing constant) takes
/// the place of the group's first test.
pub(crate) fn merge_groups(
    items: Vec<PlanExpr>,
    merge: impl Fn(&FieldRef, &[PlanExpr]) -> Option<Vec<PlanExpr>>,
) -> Merged {
    // Per field: the index of its first test and of the others.
    let mut groups: Vec<(&FieldRef, usize, Vec<usize>)> = Vec::new();
    // In a long list, each field's place in `groups`.
    let long = is_long(&items);
    let mut places: HashMap<&FieldRef, usize, QuickState> = HashMap::default();
    for (index, item) in items.iter().enumerate() {
        let Some((field, _, _)) = field_atom(item) else {
            continue;
        };
        let place = if long {
            places.get(field).copied()
        } else {
            groups.iter().position(|(f, _, _)| *f == field)
        };
        match place {
            Some(place) => groups[place].2.push(index),
            None => {
                if long {
                    places.insert(field, groups.len());
                }
                groups.push((field, index, Vec::new()));
            }
        }
    }
    if groups.iter().all(|(_, _, others)| others.is_empty()) {
        return Merged::Unchanged(items);
    }
    // For each item: `Some(replacement)` where a group changed.
    let mut replace: Vec<Option<Vec<PlanExpr>>> = vec![None; items.len()];
    let mut changed = false;
    for (field, first, others) in groups.iter().filter(|(_, _, o)| !o.is_empty()) {
        let members: Vec<usize> = std::iter::once(*first)
            .chain(others.iter().copied())
            .collect();
        let atoms: Vec<PlanExpr> = members.iter().map(|&i| items[i].clone()).collect();
        let Some(merged) = merge(field, &atoms) else {
            return Merged::Contradiction;
        };
        if merged != atoms {
            changed = true;
            replace[members[0]] = Some(merged);
            for &i in &members[1..] {
                replace[i] = Some(Vec::new());
            }
        }
    }
    if !changed {
        return Merged::Unchanged(items);
    }
    let mut out = Vec::with_capacity(items.len());
    let mut merged = Vec::new();
    for (item, replacement) in items.into_iter().zip(replace) {
        match replacement {
            Some(new) => {
                merged.extend(out.len()..out.len() + new.len());
                out.extend(new);
            }
            None => out.push(item),
        }
    }
    let new = NewNodes {
        children: merged,
        levels: 1,
    };
    Merged::Changed(out, new)
}

/// What one class of comparable values constrains the field to.
#[derive(Default)]
struct Bounds {
    /// Greatest lower bound: value and whether it is strict (`>`).
    lower: Option<(Value, bool)>,
    /// Least upper bound: value and whether it is strict (`<`).
    upper: Option<(Value, bool)>,
    /// The field must equal one of these (from `=` and `in`).
    set: Option<Vec<Value>>,
}

/// The `and` of `atoms` (tests on `field`, some negated), simplified; `None`
/// when it can never hold.
pub(crate) fn conjoin(field: &FieldRef, atoms: &[PlanExpr]) -> Option<Vec<PlanExpr>> {
    let parts: Vec<(bool, &Test)> = atoms
        .iter()
        .filter_map(|a| field_atom(a).map(|(_, negated, test)| (negated, test)))
        .collect();
    let is_null = parts.iter().any(|(neg, t)| *neg && **t == Test::IsNotNull);
    let positive = parts.iter().any(|(neg, t)| !*neg && **t != Test::IsNotNull);
    let not_null = parts.iter().any(|(neg, t)| !*neg && **t == Test::IsNotNull);
    if is_null {
        // Every positive test is false on NULL; every negated one is true.
        return if positive || not_null {
            None
        } else {
            Some(vec![make_not(field, Test::IsNotNull)])
        };
    }

    // Slots keep the output in the order of the input: an atom kept as is,
    // or the merged tests of a class at the place of its first test.
    enum Slot<'a> {
        Keep(&'a PlanExpr),
        Class(Class),
        Negated(&'a PlanExpr, &'a Test),
    }
    let mut slots = Vec::new();
    let mut classes: Vec<(Class, Bounds)> = Vec::new();
    for (atom, (negated, test)) in atoms.iter().zip(&parts) {
        if *negated {
            slots.push(Slot::Negated(atom, test));
            continue;
        }
        let Some(c) = class_of_test(field, test) else {
            // `x is not null` is implied by any positive test.
            if !(positive && **test == Test::IsNotNull) {
                slots.push(Slot::Keep(atom));
            }
            continue;
        };
        let index = match classes.iter().position(|(k, _)| *k == c) {
            Some(index) => index,
            None => {
                classes.push((c, Bounds::default()));
                slots.push(Slot::Class(c));
                classes.len() - 1
            }
        };
        let bounds = &mut classes[index].1;
        match test {
            Test::Compare { op, value } => match op {
                CmpOp::Eq => intersect(&mut bounds.set, std::slice::from_ref(value)),
                CmpOp::Gt => tighten(&mut bounds.lower, value, true, Ordering::Greater),
                CmpOp::Ge => tighten(&mut bounds.lower, value, false, Ordering::Greater),
                CmpOp::Lt => tighten(&mut bounds.upper, value, true, Ordering::Less),
                CmpOp::Le => tighten(&mut bounds.upper, value, false, Ordering::Less),
            },
            Test::Between { low, high } => {
                tighten(&mut bounds.lower, low, false, Ordering::Greater);
                tighten(&mut bounds.upper, high, false, Ordering::Less);
            }
            Test::InList(values) => intersect(&mut bounds.set, values),
            Test::IsNotNull | Test::Text { .. } => {}
        }
    }

    let mut out = Vec::with_capacity(atoms.len());
    for slot in slots {
        match slot {
            Slot::Keep(atom) => out.push(atom.clone()),
            Slot::Class(c) => {
                let bounds = classes.iter_mut().find(|(k, _)| *k == c).map(|(_, b)| b)?;
                // `x = 1 and x != 2`: take excluded values out of the set
                // here; the exclusions are then implied and dropped below.
                if let Some(set) = &mut bounds.set {
                    for (negated, test) in &parts {
                        if *negated && is_exclusion(test) && class_of_test(field, test) == Some(c) {
                            let excluded = membership(test_values(test));
                            set.retain(|v| !excluded(v));
                        }
                    }
                }
                out.extend(emit(field, bounds)?);
            }
            Slot::Negated(atom, test) => {
                let excluded_by_set = is_exclusion(test)
                    && class_of_test(field, test)
                        .is_some_and(|c| classes.iter().any(|(k, b)| *k == c && b.set.is_some()));
                if !excluded_by_set {
                    out.push(atom.clone());
                }
            }
        }
    }
    Some(out)
}

/// Whether the negation of `test` excludes single values: `!=`, `not in`.
fn is_exclusion(test: &Test) -> bool {
    matches!(test, Test::Compare { op: CmpOp::Eq, .. } | Test::InList(_))
}

/// The class shared by all values of a test, if the test is an ordering or
/// equality test whose values can be compared at optimization time.
fn class_of_test(field: &FieldRef, test: &Test) -> Option<Class> {
    let values = test_values(test);
    let first = values.first()?;
    let c = field_class(field, first)?;
    values
        .iter()
        .all(|v| field_class(field, v) == Some(c))
        .then_some(c)
}

/// The class of a literal compared with `field`. An integer literal on a
/// decimal field is compared as a float by the back ends, which is exact only
/// up to 2^53; beyond that it is left alone.
fn field_class(field: &FieldRef, value: &Value) -> Option<Class> {
    const EXACT: i64 = 1 << 53;
    match value {
        Value::Integer(i) if field.ty != ValueType::Integer && !(-EXACT..=EXACT).contains(i) => {
            None
        }
        other => class(other),
    }
}

/// The literals of an equality or ordering test (empty for the others).
fn test_values(test: &Test) -> Vec<&Value> {
    match test {
        Test::Compare { value, .. } => vec![value],
        Test::Between { low, high } => vec![low, high],
        Test::InList(values) => values.iter().collect(),
        Test::IsNotNull | Test::Text { .. } => Vec::new(),
    }
}

/// Narrow `set` to the values also in `values`.
fn intersect(set: &mut Option<Vec<Value>>, values: &[Value]) {
    match set {
        None => *set = Some(distinct_values(values)),
        Some(current) => {
            let member = membership(values.iter().collect());
            current.retain(|v| member(v));
        }
    }
}

/// Keep the tighter of the current bound and `(value, strict)`: the one
/// further in direction `wins` (`Greater` for lower bounds), or the strict
/// one of two equal bounds.
fn tighten(bound: &mut Option<(Value, bool)>, value: &Value, strict: bool, wins: Ordering) {
    let replace = match bound {
        None => true,
        Some((current, current_strict)) => match compare(value, current) {
            Some(Ordering::Equal) => strict && !*current_strict,
            Some(order) => order == wins,
            None => false,
        },
    };
    if replace {
        *bound = Some((value.clone(), strict));
    }
}

/// The tests equivalent to one class's bounds; `None` when they are empty.
fn emit(field: &FieldRef, bounds: &Bounds) -> Option<Vec<PlanExpr>> {
    let above = |v: &Value| match &bounds.lower {
        None => true,
        Some((low, strict)) => match compare(v, low) {
            Some(Ordering::Greater) => true,
            Some(Ordering::Equal) => !strict,
            _ => false,
        },
    };
    let below = |v: &Value| match &bounds.upper {
        None => true,
        Some((high, strict)) => match compare(v, high) {
            Some(Ordering::Less) => true,
            Some(Ordering::Equal) => !strict,
            _ => false,
        },
    };
    if let Some(set) = &bounds.set {
        let values: Vec<Value> = set
            .iter()
            .filter(|v| above(v) && below(v))
            .cloned()
            .collect();
        return match values.len() {
            0 => None,
            1 => Some(vec![make(field, compare_test(CmpOp::Eq, &values[0]))]),
            _ => Some(vec![make(field, Test::InList(values))]),
        };
    }
    let lower = bounds.lower.as_ref().map(|(v, strict)| {
        let op = if *strict { CmpOp::Gt } else { CmpOp::Ge };
        (v, *strict, op)
    });
    let upper = bounds.upper.as_ref().map(|(v, strict)| {
        let op = if *strict { CmpOp::Lt } else { CmpOp::Le };
        (v, *strict, op)
    });
    match (lower, upper) {
        (Some((low, ls, lop)), Some((high, hs, hop))) => match compare(low, high)? {
            Ordering::Greater => None,
            Ordering::Equal if ls || hs => None,
            Ordering::Equal => Some(vec![make(field, compare_test(CmpOp::Eq, low))]),
            Ordering::Less if !ls && !hs => {
                Some(vec![make(field, Test::between(low.clone(), high.clone()))])
            }
            Ordering::Less => Some(vec![
                make(field, compare_test(lop, low)),
                make(field, compare_test(hop, high)),
            ]),
        },
        (Some((v, _, op)), None) | (None, Some((v, _, op))) => {
            Some(vec![make(field, compare_test(op, v))])
        }
        (None, None) => Some(Vec::new()),
    }
}

fn compare_test(op: CmpOp, value: &Value) -> Test {
    Test::Compare {
        op,
        value: value.clone(),
    }
}

fn make(field: &FieldRef, test: Test) -> PlanExpr {
    PlanExpr::Field(FieldTest {
        field: field.clone(),
        test,
    })
}

fn make_not(field: &FieldRef, test: Test) -> PlanExpr {
    PlanExpr::Not(Box::new(make(field, test)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::CmpOp::*;

    fn run(items: Vec<PlanExpr>) -> (PlanExpr, bool) {
        rewrite(&MergeFieldAnd, and(items))
    }

    fn f() -> PlanExpr {
        PlanExpr::Const(false)
    }

    #[test]
    fn different_equalities_contradict() {
        let role = field("role", ValueType::Choice);
        let choice = |code, label: &str| Value::Choice {
            code,
            label: label.into(),
        };
        let input = vec![
            eq(&role, choice(2, "Employee")),
            eq(&role, choice(3, "Influencer")),
        ];
        assert_eq!(run(input), (f(), true));
    }

    #[test]
    fn crossed_ranges_contradict() {
        assert_eq!(run(vec![n(Gt, 10), flag("a"), n(Lt, 5)]), (f(), true));
        assert_eq!(run(vec![n(Gt, 5), n(Le, 5)]), (f(), true));
        assert_eq!(run(vec![n(Ge, 5), n(Le, 5)]), (and(vec![n(Eq, 5)]), true));
    }

    #[test]
    fn null_tests() {
        let x = int_field();
        assert_eq!(run(vec![is_null(&x), n(Eq, 1)]), (f(), true));
        assert_eq!(run(vec![is_null(&x), not_null(&x)]), (f(), true));
        // A NULL x satisfies `x != 1`: `is null` absorbs it.
        assert_eq!(
            run(vec![not(n(Eq, 1)), is_null(&x)]),
            (and(vec![is_null(&x)]), true)
        );
        // `is not null` is implied by `x = 1` but not by `x != 1`.
        assert_eq!(
            run(vec![not_null(&x), n(Eq, 1)]),
            (and(vec![n(Eq, 1)]), true)
        );
        let kept = and(vec![not_null(&x), not(n(Eq, 1))]);
        assert_eq!(rewrite(&MergeFieldAnd, kept.clone()), (kept, false));
    }

    #[test]
    fn ranges_merge() {
        let x = int_field();
        assert_eq!(run(vec![n(Ge, 5), n(Ge, 10)]), (and(vec![n(Ge, 10)]), true));
        assert_eq!(
            run(vec![n(Ge, 10), n(Gt, 10)]),
            (and(vec![n(Gt, 10)]), true)
        );
        assert_eq!(
            run(vec![n(Le, 9), flag("a"), n(Ge, 1), n(Lt, 20)]),
            (and(vec![between(&x, int(1), int(9)), flag("a")]), true)
        );
        assert_eq!(
            run(vec![n(Lt, 9), n(Ge, 1)]),
            (and(vec![n(Ge, 1), n(Lt, 9)]), true)
        );
        let settled = and(vec![n(Ge, 1), n(Lt, 9)]);
        assert_eq!(rewrite(&MergeFieldAnd, settled.clone()), (settled, false));
        assert_eq!(
            run(vec![
                between(&x, int(1), int(9)),
                between(&x, int(5), int(20))
            ]),
            (and(vec![between(&x, int(5), int(9))]), true)
        );
    }

    #[test]
    fn mixed_numbers_are_not_compared() {
        let x = int_field();
        let input = and(vec![n(Gt, 10), cmp(&x, Lt, Value::Decimal(5.0))]);
        assert_eq!(rewrite(&MergeFieldAnd, input.clone()), (input, false));
        // Huge integers on a decimal field lose precision as floats.
        let d = field("d", ValueType::Decimal);
        let big = 1i64 << 60;
        let input = and(vec![cmp(&d, Gt, int(big)), cmp(&d, Lt, int(big + 1))]);
        assert_eq!(rewrite(&MergeFieldAnd, input.clone()), (input, false));
    }

    #[test]
    fn relative_times() {
        let t = field("t", ValueType::DateTime);
        let now = |seconds, midnight| Value::NowPlusSeconds { seconds, midnight };
        assert_eq!(
            run(vec![
                cmp(&t, Gt, now(0, false)),
                cmp(&t, Lt, now(-60, false))
            ]),
            (f(), true)
        );
        let input = and(vec![
            cmp(&t, Gt, now(0, false)),
            cmp(&t, Lt, now(-60, true)),
        ]);
        assert_eq!(rewrite(&MergeFieldAnd, input.clone()), (input, false));
    }

    #[test]
    fn sets_intersect_and_filter() {
        let x = int_field();
        assert_eq!(
            run(vec![
                in_list(&x, vec![int(1), int(2), int(3)]),
                in_list(&x, vec![int(3), int(2), int(9)])
            ]),
            (and(vec![in_list(&x, vec![int(2), int(3)])]), true)
        );
        assert_eq!(
            run(vec![in_list(&x, vec![int(1), int(2), int(3)]), n(Ge, 3)]),
            (and(vec![n(Eq, 3)]), true)
        );
        assert_eq!(run(vec![n(Eq, 1), n(Gt, 1)]), (f(), true));
        assert_eq!(
            run(vec![in_list(&x, vec![int(1), int(2)]), not(n(Eq, 2))]),
            (and(vec![n(Eq, 1)]), true)
        );
        assert_eq!(
            run(vec![n(Eq, 2), not(in_list(&x, vec![int(2), int(5)]))]),
            (f(), true)
        );
        // `not (x < 1)` is no exclusion of the value 1.
        let kept = and(vec![n(Eq, 1), not(n(Lt, 1))]);
        assert_eq!(rewrite(&MergeFieldAnd, kept.clone()), (kept, false));
    }

    #[test]
    fn text_fields_compare_by_code_point() {
        let s = field("s", ValueType::Text);
        let text = |t: &str| Value::Text(t.into());
        // "Z" < "a" by code point, so this range is empty.
        assert_eq!(
            run(vec![cmp(&s, Ge, text("a")), cmp(&s, Le, text("Z"))]),
            (f(), true)
        );
        assert_eq!(run(vec![eq(&s, text("a")), eq(&s, text("A"))]), (f(), true));
    }

    #[test]
    fn other_fields_are_untouched() {
        let y = field("y", ValueType::Integer);
        let input = and(vec![n(Ge, 5), cmp(&y, Ge, int(10))]);
        assert_eq!(rewrite(&MergeFieldAnd, input.clone()), (input, false));
    }
}
