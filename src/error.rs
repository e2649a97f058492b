//! The one error type of the library. Every user-facing error carries a kind,
//! a span and the details a good message needs; rendering it (source line,
//! caret, colours) happens only at the edge, in the CLI (`crate::diagnostic`).

use serde::Serialize;
use thiserror::Error;

use crate::span::Span;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Limits of SPEC §2.4.
pub mod limits {
    /// Maximum query (or library) text size in bytes: 1 MiB.
    pub const MAX_TEXT_BYTES: usize = 1 << 20;
    /// Maximum nesting depth of parentheses, `not`, `has` and dotted paths.
    pub const MAX_DEPTH: usize = 256;
    /// Maximum number of values in one `in [...]` list.
    pub const MAX_IN_LIST: usize = 10_000;
    /// Maximum depth of a checked plan. Dotted paths and inlined library
    /// segments make a plan deeper than its text; every back end recurses over
    /// the plan, so the checker refuses deeper plans rather than let a back end
    /// overflow its stack.
    pub const MAX_PLAN_DEPTH: usize = 1024;
    /// Maximum number of nodes in a checked plan: inlining segments that use
    /// other segments several times can grow a plan exponentially.
    pub const MAX_PLAN_NODES: usize = 1_000_000;
}

#[derive(Debug, Clone, PartialEq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Error {
    /// The text does not follow the grammar.
    #[error("{message}")]
    Syntax {
        message: String,
        /// What would have been accepted at `span`, in words.
        expected: Vec<String>,
        span: Span,
        hint: Option<String>,
    },

    #[error("query text is {size} bytes; the limit is {limit} bytes")]
    TooLarge {
        size: usize,
        limit: usize,
        span: Span,
    },

    #[error("nesting is deeper than the limit of {limit} levels")]
    TooDeep { limit: usize, span: Span },

    /// A checked plan with too many nodes, typically from inlining segments
    /// that use other segments several times.
    #[error("the query has more than {limit} conditions once segments and paths are expanded")]
    TooManyNodes { limit: usize, span: Span },

    #[error("`in` list has {count} values; the limit is {limit}")]
    TooManyValues {
        count: usize,
        limit: usize,
        span: Span,
    },

    #[error("unknown entity '{name}'{}", did_you_mean(suggestion))]
    UnknownEntity {
        name: String,
        suggestion: Option<String>,
        span: Span,
    },

    #[error("unknown field '{name}' on {entity}{}", did_you_mean(suggestion))]
    UnknownField {
        name: String,
        entity: String,
        suggestion: Option<String>,
        span: Span,
    },

    #[error("{entity} has no relationship to '{name}'{}", did_you_mean(suggestion))]
    UnknownRelationship {
        name: String,
        entity: String,
        suggestion: Option<String>,
        span: Span,
    },

    #[error("'{name}' is reached from {entity} by several relationships; add `via` with one of: {}", choices.join(", "))]
    AmbiguousRelationship {
        name: String,
        entity: String,
        choices: Vec<String>,
        span: Span,
    },

    #[error(
        "'{via}' is not a relationship between {entity} and '{name}'{}; choose one of: {}",
        did_you_mean(suggestion),
        choices.join(", ")
    )]
    UnknownVia {
        via: String,
        name: String,
        entity: String,
        choices: Vec<String>,
        suggestion: Option<String>,
        span: Span,
    },

    #[error("'{name}' in a path must be a many-to-one relationship of {entity}, but {reason}")]
    NotManyToOne {
        name: String,
        entity: String,
        reason: String,
        span: Span,
    },

    #[error("unknown label \"{label}\" for {entity}.{field}{}; valid labels: {}", did_you_mean(suggestion), valid.join(", "))]
    UnknownChoice {
        label: String,
        entity: String,
        field: String,
        valid: Vec<String>,
        suggestion: Option<String>,
        span: Span,
    },

    #[error("type mismatch: {context} expects {expected}, found {found}")]
    TypeMismatch {
        expected: String,
        found: String,
        context: String,
        span: Span,
    },

    #[error("{entity}.{field} is an unordered choice; only =, !=, in and is null apply (ordering needs an `ordered` choice)")]
    NotOrdered {
        entity: String,
        field: String,
        span: Span,
    },

    #[error("invalid value: {message}")]
    InvalidValue { message: String, span: Span },

    #[error("unknown segment '{name}'{}", did_you_mean(suggestion))]
    UnknownSegment {
        name: String,
        suggestion: Option<String>,
        span: Span,
    },

    #[error("segment '{name}' selects {found} records, but it is used in a query on {expected}")]
    SegmentEntityMismatch {
        name: String,
        expected: String,
        found: String,
        span: Span,
    },

    #[error("segments refer to each other in a cycle: {}", cycle.join(" -> "))]
    SegmentCycle { cycle: Vec<String>, span: Span },

    #[error("segment '{name}' is defined twice")]
    DuplicateSegment { name: String, span: Span },

    /// An `in NAME` of a library segment whose own definition does not
    /// check: the use cannot be checked either. The definition's errors are
    /// reported beside it; segments that do not use it are unaffected.
    #[error("segment '{name}' does not check ({errors} {} in its definition)", if *errors == 1 { "error" } else { "errors" })]
    BrokenSegment {
        name: String,
        errors: usize,
        span: Span,
    },

    /// Two models of one name (case-insensitive) in a model file.
    #[error("model '{name}' is defined twice")]
    DuplicateModel { name: String, span: Span },

    /// A model setting (`sales ready at`, `grades`, `max score`) given
    /// twice in one model.
    #[error("model '{model}' sets `{setting}` twice; keep one")]
    DuplicateSetting {
        model: String,
        setting: String,
        span: Span,
    },

    /// A model without its required `sales ready at` threshold.
    #[error(
        "model '{model}' has no `sales ready at` threshold; add one, e.g. `sales ready at 100`"
    )]
    MissingThreshold { model: String, span: Span },

    /// A model `on` an entity that scoring cannot write to: the lead entity
    /// has an integer `score` and a bool `sales_ready` field (SPEC 6).
    #[error("model '{model}' is on {entity}, which cannot be scored: {reason}")]
    NotScorable {
        model: String,
        entity: String,
        reason: String,
        /// The schema's entities that can be scored.
        scorable: Vec<String>,
        span: Span,
    },

    /// A grade whose minimum is not below the one listed before it.
    #[error(
        "grades go from the highest minimum down, but \"{label}\" at {minimum} comes after \"{previous}\" at {previous_minimum}"
    )]
    GradeOrder {
        label: String,
        minimum: i64,
        previous: String,
        previous_minimum: i64,
        span: Span,
    },

    /// Two grades of one label in a model.
    #[error("grade \"{label}\" is listed twice in model '{model}'")]
    DuplicateGrade {
        label: String,
        model: String,
        span: Span,
    },

    /// A scoring rule that reads what scoring writes (SPEC 6).
    #[error("a scoring rule may not read {entity}.{field}: scoring writes it, so a second run would depend on the first")]
    ReadsScore {
        entity: String,
        field: String,
        span: Span,
    },

    #[error(
        "unknown guard '{name}' on {entity}{}; guards: {}",
        did_you_mean(suggestion),
        list_or_none(available)
    )]
    UnknownGuard {
        name: String,
        entity: String,
        available: Vec<String>,
        suggestion: Option<String>,
    },

    /// A schema file that cannot be used.
    #[error("invalid schema: {message}")]
    Schema { message: String },

    /// A database that cannot be used as the schema describes it.
    #[error("database error: {message}")]
    Database { message: String },

    /// A database that cannot be opened or reached, or that cannot do what
    /// was asked of it (the message says which and why).
    #[error("{message}")]
    Unavailable { message: String },

    /// A `sum` of integers whose value leaves the i64 range (SPEC 2.5),
    /// found while evaluating: the data, not the text, is at fault.
    #[error("{aggregate} does not fit in a 64-bit integer for some record")]
    SumOverflow { aggregate: String },

    /// A bug in segql, not in the input.
    #[error("internal error (a bug in segql, please report it): {message}")]
    Internal { message: String },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean '{s}'?"),
        None => String::new(),
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

impl Error {
    /// A short, stable name of the error's kind, e.g. `unknown field`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Syntax { .. } => "syntax error",
            Error::TooLarge { .. } => "limit exceeded",
            Error::TooDeep { .. } => "limit exceeded",
            Error::TooManyNodes { .. } => "limit exceeded",
            Error::TooManyValues { .. } => "limit exceeded",
            Error::UnknownEntity { .. } => "unknown entity",
            Error::UnknownField { .. } => "unknown field",
            Error::UnknownRelationship { .. } => "unknown relationship",
            Error::AmbiguousRelationship { .. } => "ambiguous relationship",
            Error::UnknownVia { .. } => "unknown relationship",
            Error::NotManyToOne { .. } => "invalid path",
            Error::UnknownChoice { .. } => "unknown label",
            Error::TypeMismatch { .. } => "type error",
            Error::NotOrdered { .. } => "type error",
            Error::InvalidValue { .. } => "invalid value",
            Error::UnknownSegment { .. } => "unknown segment",
            Error::SegmentEntityMismatch { .. } => "segment entity mismatch",
            Error::SegmentCycle { .. } => "segment cycle",
            Error::DuplicateSegment { .. } => "duplicate segment",
            Error::BrokenSegment { .. } => "broken segment",
            Error::DuplicateModel { .. } => "duplicate model",
            Error::DuplicateSetting { .. } => "duplicate setting",
            Error::MissingThreshold { .. } => "missing threshold",
            Error::NotScorable { .. } => "not a lead entity",
            Error::GradeOrder { .. } => "grade order",
            Error::DuplicateGrade { .. } => "duplicate grade",
            Error::ReadsScore { .. } => "reads the score",
            Error::UnknownGuard { .. } => "unknown guard",
            Error::Schema { .. } => "schema error",
            Error::Database { .. } => "database error",
            Error::Unavailable { .. } => "database unavailable",
            Error::SumOverflow { .. } => "integer overflow",
            Error::Internal { .. } => "internal error",
        }
    }

    /// Where in the source the error is, when it is about a place in it.
    pub fn span(&self) -> Option<Span> {
        match self {
            Error::Syntax { span, .. }
            | Error::TooLarge { span, .. }
            | Error::TooDeep { span, .. }
            | Error::TooManyNodes { span, .. }
            | Error::TooManyValues { span, .. }
            | Error::UnknownEntity { span, .. }
            | Error::UnknownField { span, .. }
            | Error::UnknownRelationship { span, .. }
            | Error::AmbiguousRelationship { span, .. }
            | Error::UnknownVia { span, .. }
            | Error::NotManyToOne { span, .. }
            | Error::UnknownChoice { span, .. }
            | Error::TypeMismatch { span, .. }
            | Error::NotOrdered { span, .. }
            | Error::InvalidValue { span, .. }
            | Error::UnknownSegment { span, .. }
            | Error::SegmentEntityMismatch { span, .. }
            | Error::SegmentCycle { span, .. }
            | Error::DuplicateSegment { span, .. }
            | Error::BrokenSegment { span, .. }
            | Error::DuplicateModel { span, .. }
            | Error::DuplicateSetting { span, .. }
            | Error::MissingThreshold { span, .. }
            | Error::NotScorable { span, .. }
            | Error::GradeOrder { span, .. }
            | Error::DuplicateGrade { span, .. }
            | Error::ReadsScore { span, .. } => Some(*span),
            Error::UnknownGuard { .. }
            | Error::Schema { .. }
            | Error::Database { .. }
            | Error::Unavailable { .. }
            | Error::SumOverflow { .. }
            | Error::Internal { .. } => None,
        }
    }

    /// Whether this is a fault in the query (exit code 1) rather than in the
    /// environment: schema file, database, or segql itself (exit code 2).
    pub fn is_query_error(&self) -> bool {
        !matches!(
            self,
            Error::Schema { .. }
                | Error::Database { .. }
                | Error::Unavailable { .. }
                | Error::Internal { .. }
        )
    }
}

/// The name in `candidates` nearest to `name` (case-insensitive edit
/// distance), if it is near enough to be a plausible typo.
pub fn suggest<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let wanted = name.to_lowercase();
    let limit = (wanted.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&wanted, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_name() {
        assert_eq!(
            suggest("rol", ["role", "city", "email"]),
            Some("role".into())
        );
        assert_eq!(suggest("ROLE", ["role"]), Some("role".into()));
        assert_eq!(suggest("zzzzzz", ["role", "city"]), None);
    }

    #[test]
    fn messages_name_the_suggestion() {
        let e = Error::UnknownField {
            name: "rol".into(),
            entity: "contact".into(),
            suggestion: Some("role".into()),
            span: Span::default(),
        };
        assert_eq!(
            e.to_string(),
            "unknown field 'rol' on contact; did you mean 'role'?"
        );
    }
}
