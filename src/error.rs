//! The one error type of the library. Every user-facing error carries a kind,
//! a span and the details a good message needs; rendering it (source line,
//! caret, colours) happens only at the edge, in the CLI (`crate::diagnostic`).

use serde::Serialize;
use thiserror::Error;

use crate::span::Span;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The limits on input (`docs/language.md`, "Limits"): each is an error,
/// never a crash.
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

    #[error("unknown entity '{name}'{}; {}", did_you_mean(suggestion), entities.listed("entities"))]
    UnknownEntity {
        name: String,
        suggestion: Option<String>,
        /// The entities of the schema (the nearest ones when there are many).
        entities: Names,
        span: Span,
    },

    #[error("unknown field '{name}' on {entity}{}; {}", did_you_mean(suggestion), fields.listed("fields"))]
    UnknownField {
        name: String,
        entity: String,
        suggestion: Option<String>,
        /// The fields of `entity` nearest to `name`.
        fields: Names,
        /// Related entities that do have a field by that name, with the text
        /// that reaches it from where the name was written.
        elsewhere: Vec<Elsewhere>,
        span: Span,
    },

    #[error("{entity} has no relationship to '{name}'{}; {}", did_you_mean(suggestion), reaches.listed(&format!("relationships of {entity}")))]
    UnknownRelationship {
        name: String,
        entity: String,
        suggestion: Option<String>,
        /// The names `entity` reaches other entities by, each with its
        /// direction, e.g. `lead (to-many)`.
        reaches: Names,
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

    #[error(
        "unknown label {} for {entity}.{field}{}; valid labels: {}",
        quote(label),
        did_you_mean_label(suggestion),
        quoted_list(valid)
    )]
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

    /// An id given on the command line (`why`, `score --explain`) that no
    /// record of the entity has.
    #[error("no {entity} has the id {id}{}", hint.as_deref().map(|h| format!("; {h}")).unwrap_or_default())]
    UnknownRecord {
        entity: String,
        id: String,
        /// What to do instead, e.g. how to list the ids there are.
        hint: Option<String>,
    },

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

    /// A row of an imported file (`import-leads`) that cannot be imported:
    /// where it is (line, column) and the value at fault.
    #[error("{}: {message}", import_place(*line, column, value))]
    BadImportRow {
        /// The line of the file (1 is the header).
        line: u64,
        /// The column's name in the header (or its position when it has none).
        column: String,
        /// The cell's text (empty when there is none).
        value: String,
        /// What is wrong and what to do.
        message: String,
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

    /// A `sum` of integers whose value leaves the i64 range (`docs/language.md`, "Aggregates"),
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

/// Where a bad import row is: `line 3, column status, value "Opne"`, or
/// just the line when the fault is not in one cell.
fn import_place(line: u64, column: &str, value: &str) -> String {
    if column.is_empty() {
        format!("line {line}")
    } else {
        format!("line {line}, column {column}, value {}", quote(value))
    }
}

/// A label is a string in the language, so it is suggested as one: in
/// double quotes, escaped as a query would write it.
fn did_you_mean_label(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean {}?", quote(s)),
        None => String::new(),
    }
}

/// Labels as the language writes them: `"Decision Maker", "Employee"`.
pub fn quoted_list(labels: &[String]) -> String {
    labels
        .iter()
        .map(|l| quote(l))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A string as a segql literal (double quotes, escapes).
fn quote(s: &str) -> String {
    crate::syntax::fmt::quote(s)
}

/// Valid names shown where a name was not found: all of them when they are
/// few, else the nearest to the name written, so that a large schema does
/// not bury the message.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Names {
    /// The names shown, in the schema's order when all are shown, else
    /// nearest first.
    pub shown: Vec<String>,
    /// How many valid names there are in all.
    pub total: usize,
}

impl Names {
    /// Up to this many names are all shown.
    pub const ALL_UP_TO: usize = 8;
    /// Past [`Self::ALL_UP_TO`], this many of the nearest are shown.
    pub const NEAREST: usize = 5;

    /// The names of `items` (`key` of each) to show for `name`, each
    /// written by `show`.
    pub fn pick<T>(
        name: &str,
        items: &[T],
        key: impl Fn(&T) -> &str,
        show: impl Fn(&T) -> String,
    ) -> Names {
        let total = items.len();
        if total <= Self::ALL_UP_TO {
            return Names {
                shown: items.iter().map(show).collect(),
                total,
            };
        }
        let wanted = name.to_lowercase();
        let mut ranked: Vec<(usize, usize)> = items
            .iter()
            .enumerate()
            .map(|(i, item)| (strsim::levenshtein(&wanted, &key(item).to_lowercase()), i))
            .collect();
        // Stable: equally near names keep the schema's order.
        ranked.sort_by_key(|(distance, _)| *distance);
        Names {
            shown: ranked
                .iter()
                .take(Self::NEAREST)
                .map(|(_, i)| show(&items[*i]))
                .collect(),
            total,
        }
    }

    /// Plain names, each shown as itself.
    pub fn of<'a>(name: &str, names: impl IntoIterator<Item = &'a str>) -> Names {
        let names: Vec<&str> = names.into_iter().collect();
        Names::pick(name, &names, |n| n, |n| n.to_string())
    }

    /// Whether only some of the names are shown.
    pub fn is_partial(&self) -> bool {
        self.shown.len() < self.total
    }

    /// `fields: a, b`, or `nearest fields: a, b, c (3 of 19)`.
    fn listed(&self, what: &str) -> String {
        if self.total == 0 {
            format!("there are no {what}")
        } else if self.is_partial() {
            format!(
                "nearest {what}: {} ({} of {})",
                self.shown.join(", "),
                self.shown.len(),
                self.total
            )
        } else {
            format!("{what}: {}", self.shown.join(", "))
        }
    }
}

/// Where a field that is not on the entity written can be found: on a
/// related entity, reached by `example` (e.g. `has lead(score >= 50)` or
/// `account.annual_revenue > 1000000`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Elsewhere {
    /// The related entity that has the field.
    pub entity: String,
    /// The field's name in the schema's spelling.
    pub field: String,
    /// Text that reaches the field from where the unknown name was written.
    pub example: String,
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
            Error::UnknownRecord { .. } => "unknown record",
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
            Error::BadImportRow { .. } => "bad import row",
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
            | Error::BadImportRow { .. }
            | Error::Schema { .. }
            | Error::UnknownRecord { .. }
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
            fields: Names::default(),
            elsewhere: Vec::new(),
            span: Span::default(),
        };
        assert_eq!(
            e.to_string(),
            "unknown field 'rol' on contact; did you mean 'role'?; there are no fields"
        );
        let e = Error::UnknownField {
            name: "rol".into(),
            entity: "contact".into(),
            suggestion: Some("role".into()),
            fields: Names::of("rol", ["id", "role"]),
            elsewhere: Vec::new(),
            span: Span::default(),
        };
        assert_eq!(
            e.to_string(),
            "unknown field 'rol' on contact; did you mean 'role'?; fields: id, role"
        );
    }

    #[test]
    fn many_names_show_the_nearest_first() {
        let names: Vec<String> = (0..20).map(|i| format!("field{i}")).collect();
        let picked = Names::of("field7", names.iter().map(String::as_str));
        assert_eq!(picked.total, 20);
        assert_eq!(picked.shown.len(), Names::NEAREST);
        assert_eq!(picked.shown[0], "field7");
        assert!(picked.is_partial());
        let few = Names::of("x", ["b", "a"]);
        assert_eq!(few.shown, ["b", "a"], "all of a few, in their order");
    }

    #[test]
    fn labels_are_suggested_in_double_quotes() {
        let e = Error::UnknownChoice {
            label: "Employe".into(),
            entity: "contact".into(),
            field: "role".into(),
            valid: vec!["Employee".into(), "Say \"hi\"".into()],
            suggestion: Some("Employee".into()),
            span: Span::default(),
        };
        assert_eq!(
            e.to_string(),
            "unknown label \"Employe\" for contact.role; did you mean \"Employee\"?; \
             valid labels: \"Employee\", \"Say \\\"hi\\\"\""
        );
    }
}
