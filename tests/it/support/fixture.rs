//! Query fixtures (`tests/queries/**/*.segql`) and their directive comments.
//!
//! A fixture may carry directives in ordinary `#` comments (the parser skips
//! them):
//! - `# schema: FILE.toml` — check against `tests/schemas/FILE.toml` instead
//!   of the built-in CRM schema;
//! - `# library: FILE.segql` — segments from `tests/libraries/FILE.segql`;
//! - `# guard: NAME` — AND in the schema's guard NAME (may repeat).

use std::path::{Path, PathBuf};

use segql::schema::{self, Schema};
use segql::syntax::ast::Library;
use segql::Options;

/// The `tests` directory of the package.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// A fixture file: its text and what its directives ask for.
pub struct Fixture {
    /// The file name, as diagnostics name the query.
    pub name: String,
    pub text: String,
    /// The file of a `# schema:` directive, if any.
    pub schema_file: Option<String>,
    /// That schema loaded, or the built-in CRM schema.
    pub schema: Schema,
    /// `("libraries/FILE.segql", its text)` of a `# library:` directive.
    pub library: Option<(String, String)>,
    pub guards: Vec<String>,
}

impl Fixture {
    /// Reads a fixture and its directives; panics on a missing file or a
    /// schema that does not load (a broken fixture, not a test result).
    pub fn load(path: &Path) -> Fixture {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut fixture = Fixture {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            text: text.clone(),
            schema_file: None,
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
                fixture.schema_file = Some(file.trim().to_string());
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

    /// The fixture's library parsed; panics when it does not parse.
    pub fn parsed_library(&self) -> Option<Library> {
        self.library.as_ref().map(|(name, text)| {
            segql::syntax::parse_library(text).unwrap_or_else(|e| panic!("{name}: {e}"))
        })
    }

    /// The checking context: the fixture's schema and guards, with `library`
    /// (from [`Fixture::parsed_library`]).
    pub fn context<'a>(&'a self, library: Option<&'a Library>) -> Options<'a> {
        Options {
            schema: &self.schema,
            library,
            guards: &self.guards,
            optimize: true,
        }
    }
}
