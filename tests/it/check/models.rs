//! Scoring model files, front end to checked models: every
//! `tests/queries/models/invalid/*.segql` fails with every error rendered as
//! `segql check --models` prints them (snapshotted), every
//! `tests/queries/models/valid/*.segql` checks to models (snapshotted as
//! JSON), and the example model file checks.

use segql::diagnostic::{self, Sources};
use segql::schema::crm_schema;
use segql::scoring::{self, Model, RuleKind};
use segql::Error;

use crate::support::fixture::tests_dir;

/// A model fixture: its file name and text.
pub(super) struct ModelFixture {
    pub name: String,
    pub text: String,
}

/// The model files of `tests/queries/models/<kind>/`, sorted by name.
pub(super) fn model_fixtures(kind: &str) -> Vec<ModelFixture> {
    let dir = tests_dir().join("queries/models").join(kind);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("model fixture directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "segql"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| ModelFixture {
            name: path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned(),
            text: std::fs::read_to_string(path).expect("a readable fixture"),
        })
        .collect()
}

/// Parse and check a model file with the built-in schema.
pub(super) fn check_model_text(text: &str) -> Result<Vec<Model>, Vec<Error>> {
    scoring::parse_and_check(text, &crm_schema())
}

fn render(fixture: &ModelFixture, errors: &[Error]) -> String {
    let sources = Sources {
        query: None,
        library: None,
        models: Some((&fixture.name, &fixture.text)),
    };
    errors
        .iter()
        .map(|e| diagnostic::render(e, &sources, false))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn invalid_model_files_fail_with_rendered_diagnostics() {
    let fixtures = model_fixtures("invalid");
    assert!(fixtures.len() >= 10);
    for fixture in fixtures {
        let errors = match check_model_text(&fixture.text) {
            Ok(models) => panic!("{} should fail, but checked to {models:?}", fixture.name),
            Err(errors) => errors,
        };
        let rendered = render(&fixture, &errors);
        // Every error has its place in the model file.
        for error in &errors {
            assert!(error.span().is_some(), "{}: {error:?}", fixture.name);
        }
        assert!(
            rendered.contains(&format!("{}:", fixture.name)),
            "{rendered}"
        );
        insta::assert_snapshot!(format!("models_{}", fixture.name), rendered);
    }
}

#[test]
fn valid_model_files_check_to_models() {
    for fixture in model_fixtures("valid") {
        match check_model_text(&fixture.text) {
            Ok(models) => insta::assert_json_snapshot!(format!("models_{}", fixture.name), models),
            Err(errors) => panic!("{} should check: {errors:?}", fixture.name),
        }
    }
}

#[test]
fn independent_errors_are_all_reported_in_file_order_of_models() {
    let fixture = model_fixtures("invalid")
        .into_iter()
        .find(|f| f.name == "negative_amounts.segql")
        .expect("the fixture");
    let errors = check_model_text(&fixture.text).unwrap_err();
    // Threshold, grade minimum, max score, two points and a cap.
    assert_eq!(errors.len(), 6, "{errors:#?}");
    assert!(errors
        .iter()
        .all(|e| matches!(e, Error::InvalidValue { .. })));
    let text = render(&fixture, &errors);
    assert!(
        text.contains("write `subtract 5` instead of `add -5`"),
        "{text}"
    );
    assert!(
        text.contains("write `add 5` instead of `subtract -5`"),
        "{text}"
    );
}

#[test]
fn the_checked_model_is_what_scoring_needs() {
    let models = check_model_text(
        "model m on LEAD {\n  sales ready at 60\n  grades \"B\" at 20, \"A\" at 10\n  \
         subtract 5 per contact.interaction(type = \"Email Opened\") up to 15\n  \
         add 7 if source = \"web\" and true\n}\n",
    )
    .unwrap();
    let [model] = models.as_slice() else {
        panic!("one model expected: {models:?}")
    };
    assert_eq!(model.entity, "lead");
    assert_eq!(model.sales_ready_at, 60);
    assert_eq!(model.max_score, None);
    assert_eq!(
        model.grades.iter().map(|g| g.minimum).collect::<Vec<_>>(),
        [20, 10]
    );
    assert_eq!(model.rules[0].points, -5);
    assert_eq!(
        model.rules[0].text,
        "subtract 5 per contact.interaction(type = \"Email Opened\") up to 15"
    );
    let RuleKind::Per { count, cap } = &model.rules[0].kind else {
        panic!("a per rule expected")
    };
    assert_eq!(*cap, Some(15));
    assert_eq!(count.function, segql::plan::AggregateFn::Count);
    assert_eq!(count.target(), "interaction");
    assert_eq!(model.rules[0].points_for(2), -10);
    assert_eq!(model.rules[0].points_for(4), -15);
    // `and true` is optimized away.
    let RuleKind::If(condition) = &model.rules[1].kind else {
        panic!("an if rule expected")
    };
    assert!(
        matches!(condition, segql::plan::PlanExpr::Field(_)),
        "{condition:?}"
    );
    // The rule's text is in the schema's spelling, as `fmt` writes it.
    assert_eq!(model.rules[1].text, "add 7 if source = \"Web\" and true");
    let plan = model.plan_for_rule(0).expect("rule 0");
    assert_eq!(plan.entity, "lead");
    assert!(model.plan_for_rule(2).is_none());
}

#[test]
fn the_example_model_file_checks_and_is_canonical() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/scoring.segql");
    let text = std::fs::read_to_string(path).expect("examples/scoring.segql");
    let models = check_model_text(&text).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(models.iter().any(|m| m.name == "engagement"));
    let parsed = segql::syntax::parse_models(&text).unwrap();
    let formatted = segql::syntax::format_models(&parsed);
    assert_eq!(segql::syntax::parse_models(&formatted).unwrap(), parsed);
}

#[test]
fn unreachable_thresholds_and_grades_are_warnings() {
    let file = segql::syntax::parse_models(
        "model m on lead {\n  sales ready at 300\n  grades \"A\" at 250, \"B\" at 100\n  \
         max score 200\n  add 1 if estimated_value between 9 and 1\n}\n\
         model n on lead {\n  sales ready at 200\n  grades \"A\" at 200\n  max score 200\n}\n",
    )
    .unwrap();
    let (outcome, warnings) = scoring::check_models_with_warnings(&file, &crm_schema());
    assert_eq!(outcome.map(|models| models.len()), Ok(2));
    let messages: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(messages[0].starts_with("no lead can be sales-ready: `sales ready at 300`"));
    assert!(messages[1].starts_with("no lead can get grade \"A\": its minimum 250"));
    assert!(messages[2].contains("between 9 and 1"));
    assert!(warnings
        .iter()
        .all(|w| matches!(w.span.source, segql::span::SourceKind::Models)));
}
