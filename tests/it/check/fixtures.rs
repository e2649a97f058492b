//! Query fixtures, front end to plan: every `tests/queries/invalid/*.segql`
//! must fail (every error it gets is rendered and snapshotted, as `segql
//! check` prints them), every
//! `tests/queries/valid/*.segql` must check (its plan is snapshotted as JSON).
//! Which error each invalid fixture raises is `super::error_kinds`' concern.
//!
//! Fixtures' directive comments (`# schema:`, `# library:`, `# guard:`) are
//! read by [`crate::support::fixture`].

use segql::check;
use segql::diagnostic::{self, Sources};
use segql::plan::Plan;
use segql::syntax;

use crate::support::fixture::Fixture;

/// Parse and check a fixture: its plan, or the first error.
pub(super) fn check_fixture(fixture: &Fixture) -> Result<Plan, segql::Error> {
    let query = syntax::parse_query(&fixture.text)?;
    let library = match &fixture.library {
        Some((_, text)) => Some(syntax::parse_library(text)?),
        None => None,
    };
    check::check(&query, &fixture.context(library.as_ref()))
}

/// Parse and check a fixture: its plan, or every error found (a syntax
/// error comes alone).
pub(super) fn check_fixture_all(fixture: &Fixture) -> Result<Plan, Vec<segql::Error>> {
    let query = syntax::parse_query(&fixture.text).map_err(|e| vec![e])?;
    let library = match &fixture.library {
        Some((_, text)) => Some(syntax::parse_library(text).map_err(|e| vec![e])?),
        None => None,
    };
    check::check_all(&query, &fixture.context(library.as_ref()))
}

/// An error of `fixture` rendered as the command line shows it.
pub(super) fn render(fixture: &Fixture, error: &segql::Error) -> String {
    let sources = Sources {
        query: Some((&fixture.name, &fixture.text)),
        library: fixture
            .library
            .as_ref()
            .map(|(name, text)| (name.as_str(), text.as_str())),
        models: None,
    };
    diagnostic::render(error, &sources, false)
}

/// Parse and check a fixture; on failure, every rendered diagnostic.
fn run(fixture: &Fixture) -> Result<Plan, String> {
    check_fixture_all(fixture).map_err(|errors| {
        let rendered: Vec<String> = errors.iter().map(|e| render(fixture, e)).collect();
        rendered.join("\n")
    })
}

#[test]
fn invalid_queries_fail_with_rendered_diagnostics() {
    insta::glob!("../..", "queries/invalid/*.segql", |path| {
        let fixture = Fixture::load(path);
        match run(&fixture) {
            Ok(plan) => panic!("{} should fail, but checked to {plan:?}", fixture.name),
            Err(rendered) => insta::assert_snapshot!(rendered),
        }
    });
}

#[test]
fn valid_queries_check_to_plans() {
    insta::glob!("../..", "queries/valid/*.segql", |path| {
        let fixture = Fixture::load(path);
        match run(&fixture) {
            Ok(plan) => insta::assert_json_snapshot!(plan),
            Err(rendered) => panic!("{} should check:\n{rendered}", fixture.name),
        }
    });
}
