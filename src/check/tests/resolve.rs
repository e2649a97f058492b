//! Names: entities, fields, relationships, `via`, dotted paths.

use super::*;
use crate::error::{Elsewhere, Names};
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
    // The suggestion first, then the nearest fields of the entity (contact
    // has 17, too many to list them all).
    assert_eq!(
        error("contact where rol = \"Employee\"").to_string(),
        "unknown field 'rol' on contact; did you mean 'role'?; \
         nearest fields: role, id, email, city, country (5 of 17)"
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
fn unknown_names_list_the_valid_ones() {
    assert_eq!(
        error("person where x = 1").to_string(),
        "unknown entity 'person'; entities: account, contact, lead, interaction, subscription"
    );
    assert_eq!(
        error("interaction where zzzz = 1").to_string(),
        "unknown field 'zzzz' on interaction; fields: id, contact_id, type, occurred_on, detail"
    );
    assert_eq!(
        error("lead where has zzzzzz").to_string(),
        "lead has no relationship to 'zzzzzz'; relationships of lead: contact (to-one), account (to-one)"
    );
    // A schema with many entities lists the nearest few.
    let mut schema = crm_schema();
    for i in 0..10 {
        let mut copy = schema.entities[0].clone();
        copy.name = format!("extra{i}");
        schema.entities.push(copy);
    }
    let err = plan_in(&schema, "contacts").expect_err("unknown");
    let Error::UnknownEntity { entities, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(entities.total, 15);
    assert_eq!(entities.shown.len(), Names::NEAREST);
    assert_eq!(entities.shown[0], "contact");
    assert!(err.to_string().contains("(5 of 15)"), "{err}");
}

/// The places an unknown field of `query` is suggested at.
fn help_of(query: &str) -> Vec<Elsewhere> {
    match error(query) {
        Error::UnknownField { elsewhere, .. } => elsewhere,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_field_of_a_related_entity_says_how_to_reach_it() {
    let examples = |query: &str| -> Vec<(String, String)> {
        help_of(query)
            .into_iter()
            .map(|e| (e.entity, e.example))
            .collect()
    };
    // To-many: a `has` around the predicate as written.
    assert_eq!(
        examples("contact where score >= 50"),
        [("lead".into(), "has lead(score >= 50)".into())]
    );
    // To-one: a dotted path, keeping the operator and value.
    assert_eq!(
        examples("contact where Industry in [\"Retail\", \"Other\"]"),
        [(
            "account".into(),
            "account.industry in [\"Retail\", \"Other\"]".into()
        )]
    );
    // Two hops, down twice.
    assert_eq!(
        examples("account where type = \"Email Opened\""),
        [(
            "interaction".into(),
            "has contact(has interaction(type = \"Email Opened\"))".into()
        )]
    );
    // After a written path: the path goes on, or turns into `has`.
    assert_eq!(
        examples("lead where contact.list = \"news\""),
        [(
            "subscription".into(),
            "has contact(has subscription(list = \"news\"))".into()
        )]
    );
    // A field of an entity the path went through: the path cut short.
    assert_eq!(
        examples("contact where account.role = \"Employee\""),
        [("contact".into(), "role = \"Employee\"".into())]
    );
    // A boolean field alone, and the schema's spelling of the name.
    assert_eq!(
        examples("contact where SALES_READY"),
        [("lead".into(), "has lead(sales_ready)".into())]
    );
    // A field nowhere near: nothing to suggest.
    assert!(help_of("contact where zzz = 1").is_empty());
    // Every suggestion checks.
    for query in [
        "contact where has lead(score >= 50)",
        "contact where account.industry in [\"Retail\", \"Other\"]",
        "account where has contact(has interaction(type = \"Email Opened\"))",
    ] {
        plan(query).expect(query);
    }
}

#[test]
fn a_shared_link_name_is_reached_with_via() {
    let schema = two_links();
    let err = plan_in(&schema, "contact where industry = \"Retail\"").expect_err("unknown");
    let Error::UnknownField { elsewhere, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        elsewhere[0].example,
        "has account via contact_parent_account(industry = \"Retail\")"
    );
    plan_in(&schema, &format!("contact where {}", elsewhere[0].example)).expect("checks");
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

/// A check hands out one copy of each schema name (`check::names`): the
/// plan's nodes share it rather than each holding a string of its own.
#[test]
fn a_plan_shares_one_copy_of_each_name() {
    let PlanExpr::Or(items) =
        filter("contact where email = \"a\" or has lead(status = \"Open\") or EMAIL = \"b\"")
    else {
        panic!("an or");
    };
    let (PlanExpr::Field(first), PlanExpr::Related(lead), PlanExpr::Field(last)) =
        (&items[0], &items[1], &items[2])
    else {
        panic!("{items:?}");
    };
    assert!(first.field.field.is_same_copy(&last.field.field));
    assert!(first.field.entity.is_same_copy(&last.field.entity));
    assert!(first.field.entity.is_same_copy(&lead.link.from));
    let PlanExpr::Field(status) = &*lead.filter else {
        panic!("{lead:?}");
    };
    assert!(status.field.entity.is_same_copy(&lead.link.to));
    assert_eq!(last.field.field, "email");
}
