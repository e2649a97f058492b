//! `canonicalize`: names and labels in the schema's spelling, for `fmt`.

use super::*;
use crate::check::canonicalize;

fn canonical(text: &str) -> Result<crate::syntax::ast::Query> {
    let mut query = syntax::parse_query(text)?;
    canonicalize(&mut query, &crm_schema())?;
    Ok(query)
}

#[test]
fn rewrites_names_and_labels_to_the_schema_spelling() {
    let query = canonical(
        "CONTACT where ROLE in [\"decision maker\", \"EMPLOYEE\"] and Has LEAD via LEAD_PARENT_CONTACT(Status = \"open\" and Contact.Account.Industry != \"retail\")",
    )
    .expect("canonicalizes");
    let expected = syntax::parse_query(
        "contact where role in [\"Decision Maker\", \"Employee\"] and has lead via lead_parent_contact(status = \"Open\" and contact.account.industry != \"Retail\")",
    )
    .expect("parses");
    assert_eq!(query, expected);
}

#[test]
fn leaves_text_literals_and_segment_names_alone() {
    let query =
        canonical("contact where CITY = \"oslo\" and in My_Segment").expect("canonicalizes");
    let expected =
        syntax::parse_query("contact where city = \"oslo\" and in My_Segment").expect("parses");
    assert_eq!(query, expected);
}

#[test]
fn unknown_names_are_errors() {
    assert!(matches!(
        canonical("contact where rol = \"Employee\""),
        Err(Error::UnknownField { .. })
    ));
    assert!(matches!(
        canonical("contact where role = \"Boss\""),
        Err(Error::UnknownChoice { .. })
    ));
}
