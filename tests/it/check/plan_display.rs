//! A printed plan is segql text that checks back to the same plan, which is
//! what makes `explain` output something an analyst can paste and run.
#![allow(clippy::result_large_err)] // the library's Error is large by design

use segql::check::check;
use segql::schema::crm_schema;
use segql::syntax::parse_query;
use segql::Options;

#[test]
fn printed_plans_check_back_to_themselves() {
    let schema = crm_schema();
    let context = Options {
        schema: &schema,
        library: None,
        guards: &[],
        optimize: true,
    };
    let mut checked = 0;
    let mut aggregates = 0;
    let fixtures = ["tests/queries/valid", "tests/queries/aggregates"]
        .into_iter()
        .flat_map(|dir| std::fs::read_dir(dir).expect("fixtures"));
    for entry in fixtures {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("fixture text");
        let Ok(plan) = parse_query(&text).and_then(|q| check(&q, &context)) else {
            continue; // fixtures that need a custom schema or library
        };
        let printed = plan.to_string();
        let again = parse_query(&printed)
            .and_then(|q| check(&q, &context))
            .unwrap_or_else(|e| {
                panic!(
                    "{}: printed plan `{printed}` does not check: {e}",
                    path.display()
                )
            });
        assert_eq!(again, plan, "{}: `{printed}`", path.display());
        checked += 1;
        aggregates += usize::from(path.starts_with("tests/queries/aggregates"));
    }
    assert!(checked >= 60, "only {checked} fixtures checked");
    assert!(
        aggregates >= 25,
        "only {aggregates} aggregate fixtures checked"
    );
}
