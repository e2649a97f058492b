//! Guards: ANDed at the top, unknown names reported with the available ones.

use super::*;
use crate::check::check_guard_expr;

fn guarded(text: &str, guards: &[String]) -> Result<Plan> {
    let schema = crm_schema();
    let query = syntax::parse_query(text)?;
    let ctx = Options {
        schema: &schema,
        library: None,
        guards,
        optimize: true,
    };
    check(&query, &ctx)
}

#[test]
fn guards_are_anded_outside_the_query() {
    let plan = guarded(
        "contact where is_child or marketing_only",
        &["EMAIL".into()],
    )
    .expect("checks");
    let PlanExpr::And(items) = plan.filter else {
        panic!("an and at the top");
    };
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0],
        filter("contact where not do_not_email and not do_not_bulk_email")
    );
    assert_eq!(items[1], filter("contact where is_child or marketing_only"));
}

#[test]
fn a_guard_on_a_query_without_where() {
    let plan = guarded("contact", &["email".into()]).expect("checks");
    let PlanExpr::And(items) = plan.filter else {
        panic!("an and at the top");
    };
    assert_eq!(items[1], PlanExpr::Const(true));
}

#[test]
fn unknown_guards_list_the_available_ones() {
    let err = guarded("contact", &["emial".into()]).expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "unknown guard 'emial' on contact; did you mean 'email'?; guards: email"
    );
    let err = guarded("lead", &["email".into()]).expect_err("lead has no guards");
    assert!(err.to_string().ends_with("guards: none"), "{err}");
}

#[test]
fn a_broken_guard_is_a_schema_error() {
    let mut schema = crm_schema();
    let contact = schema
        .entities
        .iter_mut()
        .find(|e| e.name == "contact")
        .expect("contact");
    contact.guards[0].expr = "not do_not_mail".into();
    let contact = schema.entity("contact").expect("contact");
    assert!(matches!(
        check_guard_expr(&schema, contact, &contact.guards[0]),
        Err(Error::UnknownField { .. })
    ));
    let query = syntax::parse_query("contact").expect("parses");
    let guards = ["email".to_string()];
    let ctx = Options {
        schema: &schema,
        library: None,
        guards: &guards,
        optimize: true,
    };
    let err = check(&query, &ctx).expect_err("broken guard");
    assert!(matches!(err, Error::Schema { .. }), "{err:?}");
    assert!(err.to_string().contains("do_not_mail"), "{err}");
    assert!(schema.validate().is_err());
}
