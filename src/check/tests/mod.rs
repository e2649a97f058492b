//! Checker tests, one file per concern. Queries are written as text and
//! parsed, so each test reads like the segment it is about.

mod aggregates;
mod canonical;
mod deep;
mod guards;
mod library;
mod lowering;
mod resolve;
mod types;
mod warnings;

use crate::error::{Error, Result};
use crate::schema::{crm_schema, Schema};
use crate::syntax;

use super::check;
use crate::plan::{Plan, PlanExpr};
use crate::Options;

/// Check `text` against the CRM schema.
fn plan(text: &str) -> Result<Plan> {
    plan_in(&crm_schema(), text)
}

fn plan_in(schema: &Schema, text: &str) -> Result<Plan> {
    let query = syntax::parse_query(text)?;
    check(&query, &Options::new(schema))
}

/// The checked filter of a query that must check.
fn filter(text: &str) -> PlanExpr {
    match plan(text) {
        Ok(plan) => plan.filter,
        Err(e) => panic!("{text}: {e}"),
    }
}

/// The error of a query that must not check.
fn error(text: &str) -> Error {
    match plan(text) {
        Ok(plan) => panic!("{text} should fail, but checked to {plan:?}"),
        Err(e) => e,
    }
}

/// Check with a library of segment definitions.
fn with_library(library: &str, text: &str) -> Result<Plan> {
    with_library_all(library, text).map_err(|mut errors| errors.remove(0))
}

/// [`with_library`] with every error found.
fn with_library_all(library: &str, text: &str) -> std::result::Result<Plan, Vec<Error>> {
    let schema = crm_schema();
    let library = syntax::parse_library(library).map_err(|e| vec![e])?;
    let query = syntax::parse_query(text).map_err(|e| vec![e])?;
    let ctx = Options {
        schema: &schema,
        library: Some(&library),
        guards: &[],
        optimize: true,
    };
    super::check_all(&query, &ctx)
}

/// A schema with two links between contact and account.
fn two_links() -> Schema {
    let mut schema = crm_schema();
    let contact = schema
        .entities
        .iter_mut()
        .find(|e| e.name == "contact")
        .expect("contact");
    contact.fields.push(crate::schema::Field {
        name: "billing_account_id".into(),
        column: "billing_account_id".into(),
        ty: crate::schema::FieldType::Uuid,
        nullable: true,
    });
    schema.relationships.push(crate::schema::Relationship {
        name: "contact_billing_account".into(),
        child: "contact".into(),
        child_field: "billing_account_id".into(),
        parent: "account".into(),
        parent_reach: "account".into(),
    });
    schema
}
