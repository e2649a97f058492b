//! Every kind of error a query can get has an invalid fixture that gets it.
//!
//! The kinds are the variants of [`segql::Error`], listed once in
//! [`error_variants!`] below, which expands to a `match` with no catch-all
//! arm: a new variant does not compile until it is listed there, either as
//! covered by a fixture or as exempt with the reason query text cannot raise
//! it. The fixtures are `tests/queries/invalid/*.segql` and the inputs made
//! by [`generated_fixtures`], too big to keep as files; every one of them is
//! checked like the files and its diagnostic snapshotted. Errors of scoring
//! model files count too: their fixtures are
//! `tests/queries/models/invalid/*.segql` (see `super::models`).

use segql::error::limits::MAX_TEXT_BYTES;
use segql::schema::crm_schema;
use segql::Error;

use super::fixtures::{check_fixture, check_fixture_all, render};
use super::models::{check_model_text, model_fixtures};
use crate::support::fixture::{tests_dir, Fixture};

/// How the tests cover a variant of [`Error`].
enum Coverage {
    /// Some invalid fixture raises it.
    Covered,
    /// Query text cannot raise it, for the reason given; other tests cover it.
    Exempt(&'static str),
}

use Coverage::{Covered, Exempt};

/// Lists every variant of [`Error`] with its [`Coverage`], and defines
/// [`VARIANTS`] and [`variant`] from that one list.
macro_rules! error_variants {
    ($($variant:ident => $coverage:expr),* $(,)?) => {
        /// Every variant of [`Error`] and how it is covered.
        const VARIANTS: &[(&str, Coverage)] = &[$((stringify!($variant), $coverage)),*];

        /// The name of `error`'s variant. No catch-all arm, so that a
        /// variant missing from the list is a compile error here.
        fn variant(error: &Error) -> &'static str {
            match error {
                $(Error::$variant { .. } => stringify!($variant)),*
            }
        }
    };
}

error_variants! {
    Syntax => Covered,
    TooLarge => Covered,
    TooDeep => Covered,
    TooManyNodes => Covered,
    TooManyValues => Covered,
    UnknownEntity => Covered,
    UnknownField => Covered,
    UnknownRelationship => Covered,
    AmbiguousRelationship => Covered,
    UnknownVia => Covered,
    NotManyToOne => Covered,
    UnknownChoice => Covered,
    TypeMismatch => Covered,
    NotOrdered => Covered,
    InvalidValue => Covered,
    UnknownSegment => Covered,
    SegmentEntityMismatch => Covered,
    SegmentCycle => Covered,
    DuplicateSegment => Covered,
    BrokenSegment => Covered,
    DuplicateModel => Covered,
    DuplicateSetting => Covered,
    MissingThreshold => Covered,
    NotScorable => Covered,
    GradeOrder => Covered,
    DuplicateGrade => Covered,
    ReadsScore => Covered,
    UnknownGuard => Covered,
    UnknownRecord => Exempt(
        "an id given to `why` or `score --explain`, not query text: \
         tests/it/differential/why.rs and tests/it/cli/score.rs"
    ),
    BadImportRow => Exempt(
        "a row of a CSV file given to import-leads, never query text; \
         tests/it/ops/import_leads.rs covers each case",
    ),
    Schema => Exempt(
        "a schema file (--schema) that cannot be used, found before any query \
         is read; tests/it/schema/file.rs covers it",
    ),
    Database => Exempt(
        "a database that does not match the schema or refuses a statement; \
         checking query text opens no database (tests/it/ops/, tests/it/eval/)",
    ),
    Unavailable => Exempt(
        "a database that cannot be opened or reached, or cannot do what is \
         asked; checking query text opens no database",
    ),
    SumOverflow => Exempt(
        "found while evaluating over data, never while checking text; \
         semantics::integer_sums_beyond_i64_are_an_error (every engine), \
         tests/it/sql/aggregates.rs and tests/it/eval/aggregates/mod.rs cover it",
    ),
    Internal => Exempt(
        "a bug in segql, never the input's fault: no text may raise it, so a \
         fixture that did would be a bug report, not a test",
    ),
}

/// Invalid inputs made here rather than kept as files: a file's name and
/// text, checked with the built-in schema.
fn generated_fixtures() -> Vec<Fixture> {
    vec![fixture("limit_text_too_large.segql", &text_too_large())]
}

/// A query followed by comment lines up to just over [`MAX_TEXT_BYTES`]:
/// the part over the limit is short and on the last line, so the rendered
/// diagnostic stays small.
fn text_too_large() -> String {
    let mut text = String::from("contact where city = \"Paris\"\n");
    let line = format!("# {:-<61}\n", "padding past the 1 MiB limit ");
    assert_eq!(line.len(), 64);
    while text.len() <= MAX_TEXT_BYTES {
        text.push_str(&line);
    }
    text
}

fn fixture(name: &str, text: &str) -> Fixture {
    Fixture {
        name: name.into(),
        text: text.into(),
        schema_file: None,
        schema: crm_schema(),
        library: None,
        guards: Vec::new(),
    }
}

/// Every invalid fixture, from files and generated, with the errors it gets.
fn invalid_fixtures() -> Vec<(Fixture, Vec<Error>)> {
    let dir = tests_dir().join("queries/invalid");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "segql"))
        .collect();
    paths.sort();
    let fixtures = paths.iter().map(|path| Fixture::load(path));
    fixtures
        .chain(generated_fixtures())
        .map(|fixture| match check_fixture_all(&fixture) {
            Ok(plan) => panic!("{} should fail, but checked to {plan:?}", fixture.name),
            Err(errors) => (fixture, errors),
        })
        .collect()
}

#[test]
fn every_error_kind_has_an_invalid_fixture() {
    let mut raised: Vec<(String, &str)> = invalid_fixtures()
        .iter()
        .flat_map(|(fixture, errors)| errors.iter().map(|e| (fixture.name.clone(), variant(e))))
        .collect();
    for fixture in model_fixtures("invalid") {
        let errors =
            check_model_text(&fixture.text).expect_err(&format!("{} should fail", fixture.name));
        let name = format!("models/invalid/{}", fixture.name);
        raised.extend(errors.iter().map(|e| (name.clone(), variant(e))));
    }
    let fixtures_raising = |name: &str| -> Vec<&str> {
        raised
            .iter()
            .filter(|(_, v)| *v == name)
            .map(|(file, _)| file.as_str())
            .collect()
    };
    let mut problems = Vec::new();
    for (name, coverage) in VARIANTS {
        let files = fixtures_raising(name);
        match coverage {
            Covered if files.is_empty() => problems.push(format!(
                "{name}: no invalid fixture raises it; add one to tests/queries/invalid/ \
                 (or to generated_fixtures() if it is too big for a file)"
            )),
            Exempt(reason) if !files.is_empty() => problems.push(format!(
                "{name}: listed as exempt ({reason}), but {} raise it; list it as covered",
                files.join(", ")
            )),
            _ => {}
        }
    }
    let mut names: Vec<&str> = VARIANTS.iter().map(|(name, _)| *name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), VARIANTS.len(), "a variant is listed twice");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn generated_invalid_queries_fail_with_rendered_diagnostics() {
    for fixture in generated_fixtures() {
        let error = check_fixture(&fixture).expect_err(&format!("{} should fail", fixture.name));
        insta::assert_snapshot!(fixture.name.clone(), render(&fixture, &error));
    }
}
