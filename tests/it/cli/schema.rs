//! `segql schema`: the names a query can use, as text and JSON, and the
//! unknown-name errors that point to it.

use std::process::{Command, Output};

fn segql(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(args)
        .output()
        .expect("segql runs")
}

/// Standard output of a run that must succeed.
fn ok(args: &[&str]) -> String {
    let o = segql(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("UTF-8")
}

/// Standard error of a run that must fail with `code`.
fn fails(args: &[&str], code: i32) -> String {
    let o = segql(args);
    assert_eq!(o.status.code(), Some(code), "{args:?}");
    assert!(o.stdout.is_empty(), "{args:?} printed to stdout");
    String::from_utf8(o.stderr).expect("UTF-8")
}

fn schema_file(name: &str) -> String {
    format!("{}/tests/schemas/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn schema_lists_every_entity_in_brief() {
    insta::assert_snapshot!(ok(&["schema"]));
}

#[test]
fn schema_of_an_entity_shows_fields_labels_relationships_and_guards() {
    let text = ok(&["schema", "contact"]);
    insta::assert_snapshot!(text);
    // Any case names the entity.
    assert_eq!(ok(&["schema", "CONTACT"]), text);
}

#[test]
fn schema_as_json_carries_the_format_version() {
    let text = ok(&["schema", "lead", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(json["format"], 1);
    insta::assert_snapshot!(text);
    let all: serde_json::Value =
        serde_json::from_str(&ok(&["schema", "--format", "json"])).expect("JSON");
    assert_eq!(all["format"], 1);
    let names: Vec<&str> = all["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| e["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["account", "contact", "lead", "interaction", "subscription"]
    );
}

#[test]
fn schema_follows_the_schema_option() {
    let text = ok(&[
        "--schema",
        &schema_file("two_links.toml"),
        "schema",
        "contact",
    ]);
    assert!(text.contains("billing_account_id"), "{text}");
    assert!(
        text.contains("has account via contact_billing_account(...)"),
        "{text}"
    );
    let missing = fails(&["--schema", &schema_file("nope.toml"), "schema"], 2);
    assert!(missing.contains("nope.toml"), "{missing}");
}

#[test]
fn schema_of_an_unknown_entity_is_a_query_error_with_the_entities() {
    let err = fails(&["schema", "contcat"], 1);
    assert!(err.contains("unknown entity 'contcat'"), "{err}");
    assert!(err.contains("did you mean 'contact'?"), "{err}");
    assert!(
        err.contains("entities: account, contact, lead, interaction, subscription"),
        "{err}"
    );
}

#[test]
fn unknown_names_in_queries_list_the_valid_ones() {
    let err = fails(&["check", "person where city = \"Oslo\""], 1);
    assert!(
        err.contains("entities: account, contact, lead, interaction, subscription"),
        "{err}"
    );
    assert!(err.contains("`segql schema`"), "{err}");

    let err = fails(&["check", "contact where has opportunity"], 1);
    assert!(
        err.contains("relationships of contact: lead (to-many), account (to-one)"),
        "{err}"
    );
}

#[test]
fn a_field_of_a_related_entity_is_reached_in_the_help() {
    let err = fails(&["check", "contact where score >= 50"], 1);
    assert!(err.contains("unknown field 'score' on contact"), "{err}");
    assert!(
        err.contains("lead has a field 'score': reach it with `has lead(score >= 50)`"),
        "{err}"
    );
    let err = fails(&["check", "contact where annual_revenue > 1000000"], 1);
    assert!(
        err.contains("reach it with `account.annual_revenue > 1000000`"),
        "{err}"
    );
}

#[test]
fn labels_are_suggested_in_the_quotes_the_language_takes() {
    let err = fails(&["check", "contact where role = \"Employe\""], 1);
    assert!(err.contains("did you mean \"Employee\"?"), "{err}");
    assert!(!err.contains("'Employee'"), "{err}");
    // The suggestion, pasted back, checks.
    ok(&["check", "contact where role = \"Employee\""]);
}
