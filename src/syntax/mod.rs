//! Text to AST: the pest grammar (`grammar/segql.pest`) behind a thin wall,
//! a hand-written recursive descent (`descent/`) that builds the same trees
//! faster and leaves every error to pest, and the canonical formatter that turns an AST back into text, with the
//! comments of its source text put back where they were (`comments`,
//! `printer`).
//!
//! Every entry point enforces the limits of SPEC §2.4 before parsing: the
//! text size ([`Error::TooLarge`]) and the nesting depth ([`Error::TooDeep`],
//! measured by a non-recursive pre-scan), so no input can overflow the stack.
//!
//! Decisions where SPEC §2 is silent:
//! - Reserved words, never names: `where and or not has in is null between
//!   contains starts ends true false now today`. The other keywords (`no`,
//!   `at`, `least`, `most`, `exactly`, `via`, `with`, `segment`) are only
//!   keywords where they can appear, so they remain usable as names.
//! - Depth counts every parenthesized group (also `has R(...)`), every `not`
//!   of a chain, and every hop of a dotted path; `has R` alone adds nothing.
//! - A date-time must say its zone (`Z` or `±HH:MM`); without one it is an
//!   error rather than silently UTC. Fractional seconds are an error too
//!   (reference times and stored date-times are whole seconds).
//! - Number, date and duration tokens end at a non-word character, so
//!   `1and` or `30dx` is an error, not `1 and` / `30d x`.
//! - Durations may be written with upper-case units (`30D`); the formatter
//!   prints them lower-case. `m` is rejected as ambiguous (use `min`).
//! - An empty library is valid (no segments).
//! - A model file holds at least one model (an empty one is a syntax error
//!   that asks for `model`). Inside a model, settings (`sales ready at`,
//!   `grades`, `max score`) and rules may come in any order; each setting
//!   may be given at most once and `sales ready at` is required, which the
//!   checker (`crate::scoring`) reports with a caret, every such error at
//!   once. `fmt` writes the settings first (sales ready, grades, max score),
//!   then the rules in written order; a comment moves with the setting or
//!   rule it is attached to (`fmt_models.rs`). Amounts are integers and may carry a
//!   sign; the checker says what to write instead of a negative one
//!   (`subtract 5` for `add -5`). The words of model files (`model`, `on`,
//!   `sales`, `ready`, `grades`, `score`, `add`, `subtract`, `if`, `per`,
//!   `up`, `to`) are keywords only where a model expects them, so fields
//!   called `score` or `source` stay usable in rules.

// The crate's one error type is large by design (structured fields for good
// messages); errors are rare, so the size of `Result` does not matter here.
#![allow(clippy::result_large_err)]

pub mod ast;
pub mod comments;
mod complete;
mod depth;
mod descent;
mod expected;
pub mod fmt;
mod fmt_models;
mod literal;
mod models;
mod parser;
mod printer;
mod scan;

pub use complete::is_incomplete;
pub use fmt::{
    format_expr, format_library, format_library_with_comments, format_literal, format_query,
    format_query_with_comments,
};
pub use fmt_models::{format_model, format_models, format_models_with_comments, format_rule};

use crate::error::{limits::MAX_TEXT_BYTES, Error, Result};
use crate::span::{SourceKind, Span};

use ast::{Expr, Library, Literal, ModelFile, Query};
use parser::{run, Rule};

/// Parses one query: `ENTITY [where expr]`. Spans point into `text` and are
/// tagged [`SourceKind::Query`].
pub fn parse_query(text: &str) -> Result<Query> {
    query_by(text, Some(descent::query_input))
}

/// Parses a segment library: any number of `segment NAME = query`
/// definitions. Spans are tagged [`SourceKind::Library`].
pub fn parse_library(text: &str) -> Result<Library> {
    library_by(text, Some(descent::library_input))
}

/// Parses a scoring model file (SPEC 6): one or more
/// `model NAME on ENTITY { ... }`. Spans are tagged [`SourceKind::Models`];
/// the limits are those of queries and libraries.
pub fn parse_models(text: &str) -> Result<ModelFile> {
    check_size(text, SourceKind::Models)?;
    let depth = depth::check_default_depth(text, SourceKind::Models)?;
    run(
        text,
        SourceKind::Models,
        Rule::models_input,
        depth,
        |pair, b| b.models_input(pair),
    )
}

/// Parses a bare expression, such as a schema guard; spans are tagged with
/// `source`.
pub fn parse_expr(text: &str, source: SourceKind) -> Result<Expr> {
    expr_by(text, source, Some(descent::expr_input))
}

/// Parses a single literal value (`42`, `"text"`, `2024-05-01`, `now - 1d`),
/// e.g. the value of `update --set FIELD=VALUE`.
pub fn parse_literal(text: &str) -> Result<Literal> {
    literal_by(text, Some(descent::literal_input))
}

/// The parsers driven by the grammar alone, without the hand-written fast
/// path that [`parse_query`] and its siblings try first. They give the same
/// results, errors included; they are kept public as the reference that
/// the fast path is tested against and the baseline of the compiler bench.
pub mod reference {
    pub use super::descent::NESTING as DESCENT_NESTING;

    use super::ast::{Expr, Library, Literal, Query};
    use crate::error::Result;
    use crate::span::SourceKind;

    /// [`super::parse_query`] through pest only.
    pub fn parse_query(text: &str) -> Result<Query> {
        super::query_by(text, None)
    }

    /// [`super::parse_library`] through pest only.
    pub fn parse_library(text: &str) -> Result<Library> {
        super::library_by(text, None)
    }

    /// [`super::parse_expr`] through pest only.
    pub fn parse_expr(text: &str, source: SourceKind) -> Result<Expr> {
        super::expr_by(text, source, None)
    }

    /// [`super::parse_literal`] through pest only.
    pub fn parse_literal(text: &str) -> Result<Literal> {
        super::literal_by(text, None)
    }

    /// The fast path of [`super::parse_query`] alone: the query, or `None`
    /// where it leaves the text to the grammar: every text that does not
    /// parse, and those nested deeper than [`DESCENT_NESTING`]. The size
    /// limit is not checked.
    pub fn descend_query(text: &str) -> Option<Query> {
        super::descent::query_input(text, SourceKind::Query)
    }

    /// The fast path of [`super::parse_library`] alone (see
    /// [`descend_query`]).
    pub fn descend_library(text: &str) -> Option<Library> {
        super::descent::library_input(text, SourceKind::Library)
    }

    /// The fast path of [`super::parse_expr`] alone (see [`descend_query`]).
    pub fn descend_expr(text: &str, source: SourceKind) -> Option<Expr> {
        super::descent::expr_input(text, source)
    }

    /// The fast path of [`super::parse_literal`] alone (see
    /// [`descend_query`]).
    pub fn descend_literal(text: &str) -> Option<Literal> {
        super::descent::literal_input(text, SourceKind::Query)
    }
}

/// The fast path of a parse, if it is to be tried.
type Descend<T> = Option<fn(&str, SourceKind) -> Option<T>>;

/// The limits and the parse: the size first (so a huge text is not even
/// scanned); then the fast path, which bounds its own nesting (see
/// `descent`); where it gives up, the nesting pre-scan and pest.
fn parse_by<T, F>(
    text: &str,
    source: SourceKind,
    rule: Rule,
    descend: Descend<T>,
    build: F,
) -> Result<T>
where
    T: Send,
    F: FnOnce(pest::iterators::Pair<'_, Rule>, &parser::Builder) -> Result<T> + Send,
{
    check_size(text, source)?;
    if let Some(value) = descend.and_then(|descend| descend(text, source)) {
        return Ok(value);
    }
    let depth = depth::check_default_depth(text, source)?;
    run(text, source, rule, depth, build)
}

fn query_by(text: &str, descend: Descend<Query>) -> Result<Query> {
    parse_by(
        text,
        SourceKind::Query,
        Rule::query_input,
        descend,
        |pair, b| b.query_input(pair),
    )
}

fn library_by(text: &str, descend: Descend<Library>) -> Result<Library> {
    parse_by(
        text,
        SourceKind::Library,
        Rule::library_input,
        descend,
        |pair, b| b.library_input(pair),
    )
}

fn expr_by(text: &str, source: SourceKind, descend: Descend<Expr>) -> Result<Expr> {
    parse_by(text, source, Rule::expr_input, descend, |pair, b| {
        b.expr_input(pair)
    })
}

fn literal_by(text: &str, descend: Descend<Literal>) -> Result<Literal> {
    parse_by(
        text,
        SourceKind::Query,
        Rule::literal_input,
        descend,
        |pair, b| b.literal_input(pair),
    )
}

/// The size limit of SPEC §2.4.
fn check_size(text: &str, source: SourceKind) -> Result<()> {
    if text.len() > MAX_TEXT_BYTES {
        // The span covers what is over the limit, from a character boundary.
        let start = (0..=MAX_TEXT_BYTES)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        return Err(Error::TooLarge {
            size: text.len(),
            limit: MAX_TEXT_BYTES,
            span: Span::new(start, text.len(), source),
        });
    }
    Ok(())
}
