//! Query fixtures, front end to plan: every `tests/queries/invalid/*.segql`
//! must fail (its rendered diagnostic is snapshotted), every
//! `tests/queries/valid/*.segql` must check (its plan is snapshotted as JSON).
//!
//! Fixtures' directive comments (`# schema:`, `# library:`, `# guard:`) are
//! read by [`crate::support::fixture`].

use segql::check;
use segql::diagnostic::{self, Sources};
use segql::plan::Plan;
use segql::syntax;

use crate::support::fixture::{tests_dir, Fixture};

/// Parse and check a fixture; on failure, the rendered diagnostic.
fn run(fixture: &Fixture) -> Result<Plan, String> {
    let sources = Sources {
        query: Some((&fixture.name, &fixture.text)),
        library: fixture
            .library
            .as_ref()
            .map(|(name, text)| (name.as_str(), text.as_str())),
    };
    let fail = |e: segql::Error| diagnostic::render(&e, &sources, false);
    let query = syntax::parse_query(&fixture.text).map_err(fail)?;
    let library = match &fixture.library {
        Some((_, text)) => Some(syntax::parse_library(text).map_err(fail)?),
        None => None,
    };
    check::check(&query, &fixture.context(library.as_ref())).map_err(fail)
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

#[test]
fn every_checker_error_kind_has_a_fixture() {
    let dir = tests_dir().join("queries/invalid");
    let mut kinds = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("fixture directory") {
        let path = entry.expect("directory entry").path();
        let is_check_fixture = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("check_"));
        if !is_check_fixture {
            continue;
        }
        let fixture = Fixture::load(&path);
        let query = syntax::parse_query(&fixture.text).expect("check fixtures parse");
        let library = fixture.parsed_library();
        let err = check::check(&query, &fixture.context(library.as_ref()))
            .expect_err("check fixtures fail");
        kinds.insert(variant_name(&err));
    }
    let expected = [
        "AmbiguousRelationship",
        "DuplicateSegment",
        "InvalidValue",
        "NotManyToOne",
        "NotOrdered",
        "SegmentCycle",
        "SegmentEntityMismatch",
        "TypeMismatch",
        "UnknownChoice",
        "UnknownEntity",
        "UnknownField",
        "UnknownGuard",
        "UnknownRelationship",
        "UnknownSegment",
        "UnknownVia",
    ];
    for kind in expected {
        assert!(kinds.contains(kind), "no check_ fixture raises {kind}");
    }
}

fn variant_name(e: &segql::Error) -> String {
    let debug = format!("{e:?}");
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_string()
}
