//! Reading what a command works on: the query text, the schema, the library
//! and the reference time.

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, SubsecRound, Utc};
use segql::schema::{self, Schema};
use segql::syntax::ast::Library;

use super::args::QueryInput;
use super::failure::{io_failure, Failure, SourceTexts};

/// Everything a query command needs besides the query itself.
pub struct Workspace {
    pub schema: Schema,
    pub library: Option<Library>,
    pub sources: SourceTexts,
    /// `--quiet`: no notes on stderr.
    pub quiet: bool,
}

impl Workspace {
    /// Load `--schema` (or the built-in CRM schema) and `--library`. The
    /// library is parsed, not checked: each query checks the segments it
    /// uses, so one broken segment fails only the queries that use it.
    pub fn load(schema_path: Option<&Path>, library_path: Option<&Path>) -> Result<Self, Failure> {
        let schema = match schema_path {
            Some(path) => {
                schema::load_schema_file(path).map_err(|e| Failure::usage(format!("error: {e}")))?
            }
            None => schema::crm_schema(),
        };
        let mut sources = SourceTexts::default();
        let library = match library_path {
            Some(path) => {
                let text = read_file(path)?;
                let parsed = segql::syntax::parse_library(&text);
                sources.library = Some((path.display().to_string(), text));
                Some(parsed.map_err(|e| Failure::from_error(e, &sources))?)
            }
            None => None,
        };
        Ok(Workspace {
            schema,
            library,
            sources,
            quiet: false,
        })
    }

    /// Remember the query text so errors can point into it.
    pub fn with_query(&mut self, name: String, text: &str) {
        self.sources.query = Some((name, text.to_string()));
    }

    /// Remember a library given as the command's input (`check -f lib.segql`)
    /// so errors can point into it: its spans are library spans.
    pub fn with_library_input(&mut self, name: String, text: &str) {
        self.sources.library = Some((name, text.to_string()));
    }

    /// Remember a scoring model file (`check --models`, `fmt` of a model
    /// file) so errors can point into it.
    pub fn with_models_input(&mut self, name: String, text: &str) {
        self.sources.models = Some((name, text.to_string()));
    }

    pub fn fail(&self, error: segql::Error) -> Failure {
        Failure::from_error(error, &self.sources)
    }

    pub fn fail_all(&self, errors: Vec<segql::Error>) -> Failure {
        Failure::from_errors(errors, &self.sources)
    }
}

/// The query text and a name for it in error messages.
pub fn read_query(input: &QueryInput) -> Result<(String, String), Failure> {
    if let Some(path) = &input.file {
        return Ok((path.display().to_string(), read_file(path)?));
    }
    match input.query.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| io_failure("cannot read the query from standard input", e))?;
            Ok(("<stdin>".to_string(), text))
        }
        Some(text) => Ok(("<query>".to_string(), text.to_string())),
        None => Err(Failure::usage(
            "error: no query given: pass it as an argument, with -f FILE, or - for stdin",
        )),
    }
}

pub fn read_file(path: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| io_failure(&format!("cannot read {}", path.display()), e))?;
    String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("error: {} is not UTF-8 text", path.display())))
}

/// `--now`, or the current UTC time, in whole seconds (the stored precision).
pub fn reference_time(now: Option<&str>) -> Result<DateTime<Utc>, Failure> {
    match now {
        None => Ok(Utc::now().trunc_subsecs(0)),
        Some(text) => parse_datetime(text).map(|t| t.trunc_subsecs(0)).ok_or_else(|| {
            Failure::usage(format!(
                "error: invalid --now '{text}': expected a date-time like 2026-01-15T12:00:00Z (or a date like 2026-01-15)"
            ))
        }),
    }
}

fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
}
