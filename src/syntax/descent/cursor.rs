//! The token level of the descent: blanks and comments, keywords, names and
//! punctuation, each matched as the grammar's atomic rules match them.

use crate::span::Span;
use crate::syntax::ast::Ident;

use super::Descent;

/// Words that can never be names (the grammar's `reserved`), lower-case.
const RESERVED: [&str; 16] = [
    "where", "and", "or", "not", "has", "in", "is", "null", "between", "contains", "starts",
    "ends", "true", "false", "now", "today",
];

/// The UTF-8 bytes of U+FEFF, a blank in the grammar.
const BYTE_ORDER_MARK: &[u8] = "\u{FEFF}".as_bytes();

/// `ident_char = _{ ASCII_ALPHANUMERIC | "_" }`.
pub(super) fn is_ident_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn is_reserved(word: &[u8]) -> bool {
    RESERVED
        .iter()
        .any(|r| word.eq_ignore_ascii_case(r.as_bytes()))
}

impl Descent<'_> {
    pub(super) fn span(&self, start: usize, end: usize) -> Span {
        Span::new(start, end, self.source)
    }

    pub(super) fn peek_byte(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips `WHITESPACE` and `COMMENT` (`#` up to the end of the line).
    pub(super) fn skip_blanks(&mut self) {
        while let Some(&byte) = self.bytes.get(self.pos) {
            match byte {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'#' => {
                    self.pos = memchr::memchr(b'\n', &self.bytes[self.pos..])
                        .map_or(self.bytes.len(), |at| self.pos + at);
                }
                0xEF if self.bytes[self.pos..].starts_with(BYTE_ORDER_MARK) => {
                    self.pos += BYTE_ORDER_MARK.len();
                }
                _ => break,
            }
        }
    }

    /// The end of the run of `ident_char`s from `from`.
    pub(super) fn word_end(&self, from: usize) -> usize {
        from + self.bytes[from..]
            .iter()
            .take_while(|&&b| is_ident_char(b))
            .count()
    }

    /// After the blanks, the run of `ident_char`s that starts there (maybe
    /// empty), without moving past it.
    pub(super) fn peek_word(&mut self) -> &[u8] {
        self.skip_blanks();
        let end = self.word_end(self.pos);
        &self.bytes[self.pos..end]
    }

    /// A keyword of the grammar (`kw_where`...): the word, in any case, not
    /// followed by a word character. Gives its start.
    pub(super) fn keyword(&mut self, word: &str) -> Option<usize> {
        self.skip_blanks();
        let start = self.pos;
        let end = start + word.len();
        let matches = self
            .bytes
            .get(start..end)
            .is_some_and(|b| b.eq_ignore_ascii_case(word.as_bytes()))
            && !self.bytes.get(end).copied().is_some_and(is_ident_char);
        if !matches {
            return None;
        }
        self.pos = end;
        Some(start)
    }

    /// A name (`entity_name`, `field_name`, ...): a letter or `_`, then word
    /// characters, and not a reserved word.
    pub(super) fn name(&mut self) -> Option<Ident> {
        self.skip_blanks();
        let start = self.pos;
        let first = self.peek_byte()?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let end = self.word_end(start);
        if is_reserved(&self.bytes[start..end]) {
            return None;
        }
        self.pos = end;
        Some(Ident {
            name: self.text[start..end].into(),
            span: self.span(start, end),
        })
    }

    /// Whether a name comes next (`&relation_name`), without taking it.
    pub(super) fn at_name(&mut self) -> bool {
        self.skip_blanks();
        let start = self.pos;
        let Some(first) = self.peek_byte() else {
            return false;
        };
        (first.is_ascii_alphabetic() || first == b'_')
            && !is_reserved(&self.bytes[start..self.word_end(start)])
    }

    /// One punctuation byte (`(`, `)`, `[`, `]`, `,`, `.`, `=`). Gives its
    /// start.
    pub(super) fn punct(&mut self, byte: u8) -> Option<usize> {
        self.skip_blanks();
        if self.peek_byte() != Some(byte) {
            return None;
        }
        self.pos += 1;
        Some(self.pos - 1)
    }

    /// `ASCII_DIGIT+` from the cursor, nothing skipped: the end of the run
    /// (the cursor itself when there is none).
    pub(super) fn digits_end(&self, from: usize) -> usize {
        from + self.bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    }
}
