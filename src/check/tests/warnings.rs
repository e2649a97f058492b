use crate::check::{check_library_with_warnings, check_with_warnings, Warning};
use crate::schema::crm_schema;
use crate::syntax;
use crate::Options;

fn warnings(text: &str) -> Vec<Warning> {
    let schema = crm_schema();
    let query = syntax::parse_query(text).expect("parses");
    let options = Options {
        schema: &schema,
        library: None,
        guards: &[],
        optimize: false,
    };
    let (checked, warnings) = check_with_warnings(&query, &options);
    checked.expect("a warning never makes a check fail");
    warnings
}

#[test]
fn between_with_reversed_bounds_is_warned_about_at_its_bounds() {
    let text = "contact where birth_date between 1999-12-31 and 1980-01-01";
    let found = warnings(text);
    assert_eq!(found.len(), 1, "{found:?}");
    let w = &found[0];
    assert!(w.message.contains("matches no record"), "{}", w.message);
    assert_eq!(
        w.help.as_deref(),
        Some("write the lower bound first: between 1980-01-01 and 1999-12-31")
    );
    assert_eq!(&text[w.span.range()], "1999-12-31 and 1980-01-01");
}

#[test]
fn every_kind_of_bound_is_compared_as_the_back_ends_compare_it() {
    for reversed in [
        "contact where not consent_level between \"Subscriptions\" and \"Consent Given\"",
        "contact where last_name between \"b\" and \"Z\"",
        "account where employees between 10 and -3",
        "account where annual_revenue between 2.5 and 1.25",
        "contact where created_on between now - 1d and now - 30d",
        "contact where birth_date between today and today - 1w",
        "contact where max(interaction.occurred_on) between 2024-02-01T00:00:00Z and 2024-01-01T00:00:00Z",
        "contact where count(lead) not between 5 and 2",
        "contact where has lead(estimated_value between 100 and 10)",
    ] {
        assert_eq!(warnings(reversed).len(), 1, "{reversed}");
    }
    for fine in [
        "contact where birth_date between 1980-01-01 and 1999-12-31",
        "contact where birth_date between 1980-01-01 and 1980-01-01",
        "contact where last_name between \"Z\" and \"b\"",
        "contact where created_on between now - 30d and now",
        // Different anchors are not compared.
        "contact where birth_date between today and 1980-01-01",
        "contact where count(lead) between 2 and 5",
    ] {
        assert_eq!(warnings(fine), Vec::new(), "{fine}");
    }
}

#[test]
fn library_definitions_are_warned_about_too() {
    let library = syntax::parse_library(
        "segment a = contact where birth_date between 2000-01-01 and 1990-01-01\n\
         segment b = contact where in a",
    )
    .expect("parses");
    let (checked, warnings) = check_library_with_warnings(&library, &crm_schema());
    checked.expect("checks");
    assert_eq!(warnings.len(), 1);
    assert!(matches!(
        warnings[0].span.source,
        crate::span::SourceKind::Library
    ));
}
