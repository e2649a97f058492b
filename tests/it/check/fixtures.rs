//! Query fixtures, front end to plan: every `tests/queries/invalid/*.segql`
//! must fail (its rendered diagnostic is snapshotted), every
//! `tests/queries/valid/*.segql` must check (its plan is snapshotted as JSON).
//!
//! A fixture may start with directive comments (ordinary `#` comments to the
//! parser):
//! - `# schema: FILE.toml` — check against `tests/schemas/FILE.toml` instead
//!   of the built-in CRM schema;
//! - `# library: FILE.segql` — segments from `tests/libraries/FILE.segql`;
//! - `# guard: NAME` — AND in the schema's guard NAME (may repeat).

use std::path::{Path, PathBuf};

use segql::check::{self, plan::Plan, Context};
use segql::diagnostic::{self, Sources};
use segql::schema::{self, Schema};
use segql::syntax;

struct Fixture {
    name: String,
    text: String,
    schema: Schema,
    library: Option<(String, String)>,
    guards: Vec<String>,
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn load(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).expect("fixture readable");
    let mut fixture = Fixture {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        text: text.clone(),
        schema: schema::crm_schema(),
        library: None,
        guards: Vec::new(),
    };
    for line in text.lines() {
        let Some(comment) = line.trim().strip_prefix('#') else {
            continue;
        };
        let comment = comment.trim();
        if let Some(file) = comment.strip_prefix("schema:") {
            let path = tests_dir().join("schemas").join(file.trim());
            fixture.schema = schema::load_schema_file(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else if let Some(file) = comment.strip_prefix("library:") {
            let name = format!("libraries/{}", file.trim());
            let text = std::fs::read_to_string(tests_dir().join(&name))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            fixture.library = Some((name, text));
        } else if let Some(guard) = comment.strip_prefix("guard:") {
            fixture.guards.push(guard.trim().to_string());
        }
    }
    fixture
}

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
    let ctx = Context {
        schema: &fixture.schema,
        library: library.as_ref(),
        guards: &fixture.guards,
    };
    check::check(&query, &ctx).map_err(fail)
}

#[test]
fn invalid_queries_fail_with_rendered_diagnostics() {
    insta::glob!("../..", "queries/invalid/*.segql", |path| {
        let fixture = load(path);
        match run(&fixture) {
            Ok(plan) => panic!("{} should fail, but checked to {plan:?}", fixture.name),
            Err(rendered) => insta::assert_snapshot!(rendered),
        }
    });
}

#[test]
fn valid_queries_check_to_plans() {
    insta::glob!("../..", "queries/valid/*.segql", |path| {
        let fixture = load(path);
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
        let fixture = load(&path);
        let query = syntax::parse_query(&fixture.text).expect("check fixtures parse");
        let library = fixture
            .library
            .as_ref()
            .map(|(_, text)| syntax::parse_library(text).expect("libraries parse"));
        let ctx = Context {
            schema: &fixture.schema,
            library: library.as_ref(),
            guards: &fixture.guards,
        };
        let err = check::check(&query, &ctx).expect_err("check fixtures fail");
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
