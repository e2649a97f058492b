//! The fast path of parsing: a hand-written recursive descent over the
//! bytes of the text that builds the same AST as the pest grammar
//! (`grammar/segql.pest`) and its builder (`parser.rs`), spans included.
//!
//! pest stays the definition of the language and the source of every error
//! message. The descent only ever answers "here is the tree" or "ask pest":
//! whenever the text is not a well-formed query — a syntax error, or a token
//! the builder would reject (`'text'`, `1e3`, February 30, `==`) — it gives
//! up and the caller parses again with pest, so every error stays exactly as
//! it was. On a success it must return what pest's builder returns; the
//! tests in `tests/it/parse/descent.rs` compare both on every fixture and on
//! generated and mutated texts.
//!
//! How it mirrors the grammar:
//! - Each function is one rule. A function that does not match returns
//!   `None` and may leave the cursor anywhere; the caller that tries another
//!   alternative (pest's ordered choice, `?` and `*`) puts it back, as PEG
//!   backtracking does.
//! - Blanks and comments are skipped before every token, which is where the
//!   grammar's implicit `WHITESPACE`/`COMMENT` can stand: between any two
//!   tokens of a non-atomic rule. Atomic tokens (names, numbers, dates,
//!   strings, operators, durations, counts) are read byte by byte with
//!   nothing skipped inside.
//! - A node's span runs from the start of its first token to the end of its
//!   last one: what `Builder::span` computes from pest's pairs.
//! - A value the builder would reject sets `gave_up`; the whole parse then
//!   answers `None` even if some other alternative matched, because pest's
//!   builder, which only sees the final tree, is the one to decide.
//! - It runs before the depth pre-scan (`depth.rs`) of SPEC §2.4, so it
//!   bounds its own nesting: it counts what the pre-scan counts — groups
//!   (and the parentheses of `has R(..)` and aggregates), `not`s, and the
//!   hops of a dotted path or chain — at least as high as the pre-scan
//!   does, and gives up past [`NESTING`]. A tree it returns is thus one the
//!   pre-scan lets through, and its recursion stays small enough for any
//!   thread's stack; deeper texts take the pre-scan and pest.
//!
//! Scoring model files are left to pest: they are short and rare.

mod cursor;
mod expr;
mod literal;
#[cfg(test)]
mod tests;

use crate::span::SourceKind;

use super::ast::{Expr, Library, Literal, Query, SegmentDef};

/// The deepest nesting the descent takes (see the module docs); the
/// limit of SPEC §2.4 is far above it, at 256.
pub const NESTING: usize = 32;

/// The parser's state: the text, where it stands, how deep it is, and
/// whether it met something only pest's builder may judge.
pub(super) struct Descent<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    source: SourceKind,
    depth: usize,
    /// The deepest `depth` reached, for the tests.
    deepest: usize,
    gave_up: bool,
}

impl<'t> Descent<'t> {
    fn new(text: &'t str, source: SourceKind) -> Self {
        Descent {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            source,
            depth: 0,
            deepest: 0,
            gave_up: false,
        }
    }

    /// Runs `rule` over the whole text (`SOI ~ rule ~ EOI`).
    fn whole<T>(mut self, rule: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let value = rule(&mut self);
        self.skip_blanks();
        if self.gave_up || self.pos != self.bytes.len() {
            return None;
        }
        value
    }

    /// Marks the parse as one for pest to redo, and fails this rule.
    fn give_up<T>(&mut self) -> Option<T> {
        self.gave_up = true;
        None
    }

    /// The value of a builder's check, or giving up where the builder
    /// would refuse it (pest will then say why).
    fn checked<T>(&mut self, value: crate::error::Result<T>) -> Option<T> {
        match value {
            Ok(value) => Some(value),
            Err(_) => self.give_up(),
        }
    }

    /// Runs `rule` one level deeper; gives up past [`NESTING`].
    fn nested<T>(&mut self, rule: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= NESTING {
            return self.give_up();
        }
        self.depth += 1;
        self.deepest = self.deepest.max(self.depth);
        let value = rule(self);
        self.depth -= 1;
        value
    }

    /// Gives up if `extra` more levels (hops of a path, a tail's `not`)
    /// would pass [`NESTING`].
    fn reach(&mut self, extra: usize) -> Option<()> {
        if self.depth + extra > NESTING {
            return self.give_up();
        }
        self.deepest = self.deepest.max(self.depth + extra);
        Some(())
    }

    /// `item ~ (separator ~ item)*`: one or more items, each after the
    /// first behind the punctuation byte `separator`.
    fn separated<T>(&mut self, separator: u8, item: fn(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let mut items = vec![item(self)?];
        while let Some(next) = self.attempt(|d| {
            d.punct(separator)?;
            item(d)
        }) {
            items.push(next);
        }
        Some(items)
    }

    /// Tries `rule`; where it does not match, the cursor goes back to where
    /// it was (an optional part, or one alternative of several).
    fn attempt<T>(&mut self, rule: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let at = self.pos;
        let value = rule(self);
        if value.is_none() {
            self.pos = at;
        }
        value
    }
}

/// `query_input`: one query and nothing else.
pub(super) fn query_input(text: &str, source: SourceKind) -> Option<Query> {
    Descent::new(text, source).whole(Descent::query)
}

/// `library_input`: any number of `segment NAME = query`.
pub(super) fn library_input(text: &str, source: SourceKind) -> Option<Library> {
    Descent::new(text, source).whole(|d| {
        let mut segments = Vec::new();
        while let Some(segment) = d.attempt(Descent::segment_def) {
            segments.push(segment);
        }
        Some(Library { segments })
    })
}

/// `expr_input`: a bare expression.
pub(super) fn expr_input(text: &str, source: SourceKind) -> Option<Expr> {
    Descent::new(text, source).whole(Descent::or_expr)
}

/// `literal_input`: a single value.
pub(super) fn literal_input(text: &str, source: SourceKind) -> Option<Literal> {
    Descent::new(text, source).whole(Descent::literal)
}

impl Descent<'_> {
    /// `segment_def = { kw_segment ~ segment_name ~ def_eq ~ query }`.
    fn segment_def(&mut self) -> Option<SegmentDef> {
        let start = self.keyword("segment")?;
        let name = self.name()?;
        self.punct(b'=')?;
        let query = self.query()?;
        let span = self.span(start, query.span.end as usize);
        Some(SegmentDef { name, query, span })
    }

    /// `query = { entity_name ~ (kw_where ~ or_expr)? }`.
    fn query(&mut self) -> Option<Query> {
        let entity = self.name()?;
        let filter = self.attempt(|d| {
            d.keyword("where")?;
            d.or_expr()
        });
        let span = filter
            .as_ref()
            .map_or(entity.span, |filter| entity.span.to(filter.span));
        Some(Query {
            entity,
            filter,
            span,
        })
    }
}
