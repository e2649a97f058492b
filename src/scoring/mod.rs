//! Lead scoring (SPEC 6): model files checked into [`Model`]s that the
//! scoring engines consume.
//!
//! | file       | concern                                                     |
//! |------------|-------------------------------------------------------------|
//! | `check.rs` | model file AST to checked models, every error at once       |
//! | `canonical.rs` | a model file in the schema's spelling (for `fmt`)       |
//! | `model.rs` | the checked model and the arithmetic of a score             |
//!
//! A model file is parsed by [`crate::syntax::parse_models`] and printed by
//! [`crate::syntax::format_models`]; this module gives it meaning.
//!
//! # Decisions where SPEC 6 is silent
//!
//! - **Settings** may come in any order among the rules; each at most once
//!   ([`Error::DuplicateSetting`](crate::Error::DuplicateSetting) at the
//!   second), `sales ready at` exactly once
//!   ([`Error::MissingThreshold`](crate::Error::MissingThreshold) at the
//!   model's name).
//! - **Amounts** are whole numbers of at least 0: points, caps, thresholds,
//!   `max score` and grade minimums (a score is never below 0, so a
//!   negative minimum or threshold could only be a slip). `add -5` is an
//!   error that says to write `subtract 5`.
//! - **Grades** have distinct labels (compared exactly, as text is) and
//!   strictly descending minimums; an error names both grades.
//! - **Model names** are unique case-insensitively, like segment names.
//! - **The entity** must be one with an integer `score` and a bool
//!   `sales_ready` field; in the built-in schema, `lead`.
//! - **Reading what scoring writes**: no rule may read the scored entity's
//!   `score` or `sales_ready`, anywhere (a path, a `has` filter, a chain's
//!   filter, an aggregate's field), so a second run cannot depend on the
//!   first. Other entities' fields of those names are not affected.
//! - **Arithmetic**: a rule's points are `points × count`, their size
//!   capped at `up to` and saturated to 64 bits; the score is the exact sum
//!   of the rules' points, limited to `0 ..= max score`
//!   ([`Rule::points_for`], [`Model::score_of`]).
//! - **Unreachable numbers** (`sales ready at` or a grade's minimum above
//!   `max score`) check, with a warning: no lead can reach them.
//! - **Libraries**: rules are checked without a segment library, so
//!   `in NAME` is an unknown segment in a model.

mod canonical;
mod check;
mod compute;
mod explain;
mod model;

pub use canonical::canonicalize_models;
pub use check::{
    check_models, check_models_first, check_models_with_warnings, parse_and_check,
    scorable_entities, MAX_RULES, MAX_RULE_POINTS, SALES_READY_FIELD, SCORE_FIELD,
};
pub use compute::{rule_values, score_sql, scores_from_values, LeadGroups, LeadScore};
pub use explain::{explain, LeadExplanation, RuleExplanation, Scored};
pub use model::{Grade, Model, Rule, RuleKind};
