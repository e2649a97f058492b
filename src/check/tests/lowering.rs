//! Lowering: negative forms to `Not` of positive atoms, paths to hops,
//! bool fields alone, quantifiers.

use super::*;
use crate::plan::{CmpOp, Quantifier, Test, Value};

fn same(a: &str, b: &str) {
    assert_eq!(filter(a), filter(b), "\n{a}\n{b}");
}

#[test]
fn negative_forms_are_not_of_the_positive_form() {
    same(
        "contact where city != \"Oslo\"",
        "contact where not city = \"Oslo\"",
    );
    same(
        "contact where city not in [\"Oslo\"]",
        "contact where not city in [\"Oslo\"]",
    );
    same(
        "lead where score not between 1 and 5",
        "lead where not score between 1 and 5",
    );
    same(
        "contact where email not contains \"x\"",
        "contact where not email contains \"x\"",
    );
    same(
        "contact where city is null",
        "contact where not city is not null",
    );
}

#[test]
fn atoms_are_positive() {
    let PlanExpr::Not(inner) = filter("contact where city is null") else {
        panic!("is null is a negation");
    };
    let PlanExpr::Field(test) = *inner else {
        panic!("a field test");
    };
    assert_eq!(test.test, Test::IsNotNull);
    let PlanExpr::Not(inner) = filter("contact where city != \"Oslo\"") else {
        panic!("!= is a negation");
    };
    assert!(matches!(
        *inner,
        PlanExpr::Field(ref t) if matches!(t.test, Test::Compare { op: CmpOp::Eq, .. })
    ));
}

#[test]
fn dotted_paths_equal_nested_has() {
    same(
        "lead where contact.account.industry = \"Retail\"",
        "lead where has contact(has account(industry = \"Retail\"))",
    );
    // The negation sits outside the hops: no parent makes it true.
    same(
        "lead where contact.account.industry != \"Retail\"",
        "lead where not has contact(has account(industry = \"Retail\"))",
    );
    same(
        "lead where contact.email is null",
        "lead where not has contact(email is not null)",
    );
    same(
        "lead where contact.is_child",
        "lead where has contact(is_child = true)",
    );
}

#[test]
fn a_bool_field_alone_means_true() {
    same("contact where is_child", "contact where is_child = true");
    let err = error("contact where email");
    assert!(matches!(err, Error::TypeMismatch { .. }), "{err:?}");
    assert!(
        err.to_string().contains("text field contact.email"),
        "{err}"
    );
}

#[test]
fn no_where_means_everything() {
    assert_eq!(filter("contact"), PlanExpr::Const(true));
}

#[test]
fn quantifiers_carry_over() {
    let PlanExpr::Related(r) = filter("contact where has at least 3 lead(score > 1)") else {
        panic!("a relationship test");
    };
    assert_eq!(r.quantifier, Quantifier::AtLeast(3));
    let PlanExpr::Related(r) = filter("contact where has no lead") else {
        panic!("a relationship test");
    };
    assert_eq!(r.quantifier, Quantifier::No);
}

#[test]
fn and_or_not_keep_their_shape() {
    let PlanExpr::Or(items) =
        filter("contact where is_child or not marketing_only and city = \"A\"")
    else {
        panic!("or at the top");
    };
    assert_eq!(items.len(), 2);
    assert!(matches!(&items[1], PlanExpr::And(inner) if inner.len() == 2));
    assert_eq!(filter("contact where true"), PlanExpr::Const(true));
    let PlanExpr::Field(t) = filter("contact where marketing_only") else {
        panic!("field test");
    };
    assert_eq!(
        t.test,
        Test::Compare {
            op: CmpOp::Eq,
            value: Value::Bool(true)
        }
    );
}
