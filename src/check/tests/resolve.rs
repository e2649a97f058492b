//! Names: entities, fields, relationships, `via`, dotted paths.

use super::*;
use crate::plan::{Direction, Quantifier};

#[test]
fn names_are_case_insensitive_and_canonical_in_the_plan() {
    let plan = plan("CONTACT where ROLE = \"Employee\" and HAS Lead").expect("checks");
    assert_eq!(plan.entity, "contact");
    assert_eq!(
        plan,
        self::plan("contact where role = \"Employee\" and has lead").expect("checks")
    );
    let json = serde_json::to_string(&plan).expect("serializes");
    assert!(json.contains("\"field\":\"role\""), "{json}");
    assert!(!json.contains("ROLE"), "{json}");
}

#[test]
fn unknown_names_suggest_the_nearest() {
    assert_eq!(
        error("contact where rol = \"Employee\"").to_string(),
        "unknown field 'rol' on contact; did you mean 'role'?"
    );
    assert!(matches!(
        error("contcat"),
        Error::UnknownEntity { suggestion: Some(s), .. } if s == "contact"
    ));
    assert!(matches!(
        error("contact where has leads"),
        Error::UnknownRelationship { suggestion: Some(s), .. } if s == "lead"
    ));
    assert!(matches!(
        error("contact where has zzzzzz"),
        Error::UnknownRelationship {
            suggestion: None,
            ..
        }
    ));
}

#[test]
fn has_names_the_related_entity_in_both_directions() {
    let PlanExpr::Related(down) = filter("contact where has lead") else {
        panic!("a relationship test");
    };
    assert_eq!(down.link.direction, Direction::ToChildren);
    assert_eq!(down.link.relationship, "lead_parent_contact");
    assert_eq!(
        (down.link.from.as_str(), down.link.to.as_str()),
        ("contact", "lead")
    );
    assert_eq!(*down.filter, PlanExpr::Const(true));
    let PlanExpr::Related(up) = filter("lead where has contact(email is null)") else {
        panic!("a relationship test");
    };
    assert_eq!(up.link.direction, Direction::ToParent);
    assert_eq!(up.quantifier, Quantifier::Any);
}

#[test]
fn names_inside_has_resolve_against_the_related_entity() {
    // `topic` is a field of lead, not of contact.
    filter("contact where has lead(topic = \"x\")");
    assert!(matches!(
        error("contact where has lead(birth_date = 2020-01-01)"),
        Error::UnknownField { entity, .. } if entity == "lead"
    ));
}

#[test]
fn several_links_need_via() {
    let schema = two_links();
    let err = plan_in(&schema, "contact where has account").expect_err("ambiguous");
    let Error::AmbiguousRelationship { choices, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        choices,
        &["contact_parent_account", "contact_billing_account"]
    );
    let billing = plan_in(
        &schema,
        "contact where has account via CONTACT_BILLING_ACCOUNT",
    )
    .expect("via picks one");
    let PlanExpr::Related(r) = billing.filter else {
        panic!("a relationship test");
    };
    assert_eq!(r.link.relationship, "contact_billing_account");
    // From the other side, too.
    assert!(plan_in(&schema, "account where has contact").is_err());
    plan_in(
        &schema,
        "account where has contact via contact_parent_account",
    )
    .expect("via");
}

#[test]
fn via_must_be_one_of_the_links() {
    let err = error("contact where has lead via contact_parent_account");
    let Error::UnknownVia { choices, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(choices, &["lead_parent_contact"]);
    assert!(matches!(
        error("contact where has lead via lead_parent_contcat"),
        Error::UnknownVia { suggestion: Some(s), .. } if s == "lead_parent_contact"
    ));
}

#[test]
fn paths_follow_many_to_one_links_only() {
    filter("lead where contact.account.industry = \"Retail\"");
    let err = error("contact where lead.topic = \"x\"");
    assert!(matches!(err, Error::NotManyToOne { .. }), "{err:?}");
    assert!(err.to_string().contains("one-to-many"), "{err}");
    assert!(matches!(
        error("contact where email.domain = \"x\""),
        Error::NotManyToOne { .. }
    ));
    assert!(matches!(
        error("lead where contatc.email = \"x\""),
        Error::UnknownRelationship { suggestion: Some(s), .. } if s == "contact"
    ));
    assert!(matches!(
        plan_in(&two_links(), "contact where account.name = \"x\""),
        Err(Error::AmbiguousRelationship { .. })
    ));
}
