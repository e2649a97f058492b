//! SPEC 2.4: `check` reports every independent error of a query or library,
//! each once, as a compiler does.

use std::process::Command;

use segql::check::{check_all, check_library_all, MAX_ERRORS};
use segql::schema::crm_schema;
use segql::syntax::{parse_library, parse_query};
use segql::{Error, Options};

fn errors_of(text: &str) -> Vec<Error> {
    let schema = crm_schema();
    let query = parse_query(text).expect("the query parses");
    check_all(&query, &Options::new(&schema)).expect_err("the query has errors")
}

/// `(kind, text under the span)` of each error.
fn described(text: &str, errors: &[Error]) -> Vec<(&'static str, String)> {
    errors
        .iter()
        .map(|e| {
            let span = e.span().expect("a query error has a span");
            (e.kind(), text[span.range()].to_string())
        })
        .collect()
}

#[test]
fn every_independent_error_is_reported_in_order() {
    let text = "contact where rol = \"x\" and has leed and city = 3 \
                and count(lead.topic) > 1 and role = \"boss\" or in nothing";
    let errors = errors_of(text);
    assert_eq!(
        described(text, &errors),
        [
            ("unknown field", "rol".to_string()),
            ("unknown relationship", "leed".to_string()),
            ("type error", "3".to_string()),
            ("type error", "topic".to_string()),
            ("unknown label", "\"boss\"".to_string()),
            ("unknown segment", "nothing".to_string()),
        ]
    );
}

#[test]
fn one_cause_gives_one_error() {
    // An unknown field is not also a type error; the filter of an unknown
    // relationship is not checked against a guessed entity.
    let text = "contact where rol = 5 and has leed(city = 3 and zzz)";
    assert_eq!(
        described(text, &errors_of(text)),
        [
            ("unknown field", "rol".to_string()),
            ("unknown relationship", "leed".to_string()),
        ]
    );
    // A hop filter is checked on its own: its error and the aggregate's.
    let text = "contact where sum(lead(statuss = \"Open\").topic) > 1";
    assert_eq!(
        described(text, &errors_of(text)),
        [("type error", "topic".to_string())]
    );
}

#[test]
fn a_library_reports_each_bad_definition_and_names_it_at_its_uses() {
    let text = "segment a = contact where rol = 1\n\
                segment b = contact where in a and city = 3\n\
                segment c = contact where has leed\n\
                segment a = contact\n";
    let library = parse_library(text).expect("the library parses");
    let errors = check_library_all(&library, &crm_schema()).expect_err("errors");
    assert_eq!(
        described(text, &errors),
        [
            ("duplicate segment", "a".to_string()),
            ("unknown field", "rol".to_string()),
            ("broken segment", "a".to_string()),
            ("type error", "3".to_string()),
            ("unknown relationship", "leed".to_string()),
        ]
    );
}

#[test]
fn a_limit_ends_the_check_and_the_count_is_capped() {
    let many: Vec<String> = (0..MAX_ERRORS + 10).map(|i| format!("f{i} = 1")).collect();
    let text = format!("contact where {}", many.join(" and "));
    assert_eq!(errors_of(&text).len(), MAX_ERRORS);
}

#[test]
fn the_command_line_shows_each_error_with_its_caret() {
    let output = Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(["check", "contact where rol = 1 and city = 3"])
        .output()
        .expect("segql runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error[unknown field]"), "{stderr}");
    assert!(stderr.contains("error[type error]"), "{stderr}");
    assert_eq!(stderr.matches("<query>:1:").count(), 2, "{stderr}");
    assert!(stderr.trim_end().ends_with("2 errors"), "{stderr}");
}
