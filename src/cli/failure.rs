//! How a command fails: a query error (exit 1), rendered against the texts it
//! points into, or a usage/I-O error (exit 2).

use std::process::ExitCode;

use segql::diagnostic::{self, Sources};
use segql::Error;

/// The texts an error may point into, kept so it can be rendered with the
/// offending line and a caret.
#[derive(Default, Clone)]
pub struct SourceTexts {
    pub query: Option<(String, String)>,
    pub library: Option<(String, String)>,
    /// A scoring model file (`check --models`, `fmt` of a model file).
    pub models: Option<(String, String)>,
}

impl SourceTexts {
    /// The texts as [`Sources`] for rendering.
    pub fn as_sources(&self) -> Sources<'_> {
        fn pair(text: &Option<(String, String)>) -> Option<(&str, &str)> {
            text.as_ref().map(|(n, t)| (n.as_str(), t.as_str()))
        }
        Sources {
            query: pair(&self.query),
            library: pair(&self.library),
            models: pair(&self.models),
        }
    }
}

pub enum Failure {
    /// Faults in the query, library or value text (one or more, all
    /// reported): exit code 1. Boxed: errors carry their texts, and the
    /// happy path should not pay for it.
    Query(Box<(Vec<Error>, SourceTexts)>),
    /// A usage, environment or I/O fault: exit code 2.
    Usage(String),
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::Usage(message.into())
    }

    /// A library error at the edge: query errors keep their sources, the rest
    /// (schema, database, internal) are environment failures.
    pub fn from_error(error: Error, sources: &SourceTexts) -> Self {
        Failure::from_errors(vec![error], sources)
    }

    /// Several errors found at once; an environment failure among them
    /// outranks the query errors. An unknown guard is a usage error: guards
    /// are named by `--guard`, not by the query text.
    pub fn from_errors(errors: Vec<Error>, sources: &SourceTexts) -> Self {
        let usage = |e: &&Error| !e.is_query_error() || matches!(e, Error::UnknownGuard { .. });
        match errors.iter().find(usage) {
            Some(error) => Failure::Usage(format!("error: {error}")),
            None => Failure::Query(Box::new((errors, sources.clone()))),
        }
    }

    /// Print the failure to standard error and give the exit code.
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Query(failure) => {
                let (errors, sources) = *failure;
                let color = std::io::IsTerminal::is_terminal(&std::io::stderr());
                let sources = sources.as_sources();
                for error in &errors {
                    let rendered = diagnostic::render(error, &sources, color);
                    eprint!("{rendered}");
                    if !rendered.ends_with('\n') {
                        eprintln!();
                    }
                }
                if errors.len() > 1 {
                    let more = if errors.len() >= segql::check::MAX_ERRORS {
                        " (the first ones; there may be more)"
                    } else {
                        ""
                    };
                    eprintln!("{} errors{more}", errors.len());
                }
                ExitCode::from(1)
            }
            Failure::Usage(message) => {
                eprintln!("{message}");
                ExitCode::from(2)
            }
        }
    }
}

/// Print `warnings` to standard error, rendered against `sources`.
pub fn print_warnings(warnings: &[segql::check::Warning], sources: &SourceTexts) {
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let sources = sources.as_sources();
    for warning in warnings {
        let rendered = diagnostic::render_warning(warning, &sources, color);
        eprint!("{rendered}");
        if !rendered.ends_with('\n') {
            eprintln!();
        }
    }
}

/// `?`-friendly conversion for I/O and other environment errors.
pub fn io_failure(what: &str, err: impl std::fmt::Display) -> Failure {
    Failure::Usage(format!("error: {what}: {err}"))
}
