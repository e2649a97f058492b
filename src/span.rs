//! Source positions. Every AST node carries a [`Span`] so errors can point at
//! the text they are about; spans never take part in equality or hashing, so
//! moving a space does not change what a query *is*.

use serde::{Deserialize, Serialize};

/// Which text a span points into. A check of one query can raise errors in
/// three texts: the query itself, a segment library, or a schema guard; a
/// check of a scoring model file raises them in the model file.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    #[default]
    Query,
    Library,
    Guard,
    /// A scoring model file (SPEC 6).
    Models,
}

/// A half-open byte range `start..end` in one source text.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
    #[serde(default)]
    pub source: SourceKind,
}

impl Span {
    pub fn new(start: usize, end: usize, source: SourceKind) -> Self {
        let at = |offset: usize| u32::try_from(offset).unwrap_or(u32::MAX);
        Span {
            start: at(start),
            end: at(end),
            source,
        }
    }

    /// The byte range, to slice the source text with.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// A span in the query text.
    pub fn query(start: usize, end: usize) -> Self {
        Span::new(start, end, SourceKind::Query)
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
            source: self.source,
        }
    }

    /// 1-based line and column (in characters) of `start` within `text`.
    pub fn line_col(&self, text: &str) -> (usize, usize) {
        let start = (self.start as usize).min(text.len());
        let before = text.get(..start).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }
}

/// Spans are position metadata, not meaning: all spans are equal.
impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}
impl Eq for Span {}

impl std::hash::Hash for Span {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let text = "contact\nwhere é = 1";
        let at = text.find('=').unwrap();
        assert_eq!(Span::query(at, at + 1).line_col(text), (2, 9));
        assert_eq!(Span::query(0, 1).line_col(text), (1, 1));
    }

    #[test]
    fn spans_do_not_affect_equality() {
        assert_eq!(Span::query(0, 1), Span::query(5, 9));
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// Every node of a syntax tree, name and literal holds a span: two
    /// `usize` offsets made it 24 bytes, and a syntax node 144. Texts are
    /// limited to `MAX_TEXT_BYTES` (1 MiB), far inside `u32`.
    #[test]
    fn spans_are_twelve_bytes_and_offsets_past_u32_saturate() {
        assert_eq!(std::mem::size_of::<Span>(), 12);
        let far = usize::try_from(u64::from(u32::MAX) + 10).unwrap_or(usize::MAX);
        let span = Span::query(7, far);
        assert_eq!((span.start, span.end), (7, u32::MAX));
        assert_eq!(span.range(), 7..u32::MAX as usize);
        assert_eq!(span.line_col("short"), (1, 6));
    }
}
