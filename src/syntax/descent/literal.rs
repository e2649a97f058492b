//! Literals: `datetime | date | number | string | sq_string | kw_true |
//! kw_false | relative`. The values are checked by the functions pest's
//! builder uses (`syntax::literal`); a value they refuse, and every token
//! shape that only exists to be refused (`'text'`, `1e3`, a fraction of a
//! second, a date-time without a zone), makes the descent give up.
//!
//! A literal that does not match always fails the whole parse: no rule
//! can go on where a literal was expected but is missing. So every
//! irregular token gives up at once instead of mirroring how the grammar's
//! alternatives fail one after the other.

use crate::syntax::ast::{Anchor, Literal, LiteralKind, Relative};
use crate::syntax::literal::{
    date_value, datetime_value, duration_value, number_value, string_value,
};

use super::cursor::is_ident_char;
use super::Descent;

/// `token_end`: what may not follow a number or a date.
fn ends_token(next: Option<u8>) -> bool {
    !next.is_some_and(|b| is_ident_char(b) || matches!(b, b'-' | b':' | b'.'))
}

impl Descent<'_> {
    pub(super) fn literal(&mut self) -> Option<Literal> {
        self.skip_blanks();
        match self.peek_byte()? {
            b'0'..=b'9' => self.date_or_number(),
            b'-' => self.number(),
            b'"' => self.string(),
            b'\'' => self.give_up(),
            _ => self.word_literal(),
        }
    }

    /// `pattern = { string | sq_string }`.
    pub(super) fn pattern(&mut self) -> Option<Literal> {
        self.skip_blanks();
        match self.peek_byte()? {
            b'"' => self.string(),
            b'\'' => self.give_up(),
            _ => None,
        }
    }

    /// Whether the bytes from `at` have the shape `shape`, where `9` stands
    /// for any digit and every other byte for itself.
    fn shaped(&self, at: usize, shape: &[u8]) -> bool {
        self.bytes.get(at..at + shape.len()).is_some_and(|bytes| {
            bytes.iter().zip(shape).all(|(&b, &s)| {
                if s == b'9' {
                    b.is_ascii_digit()
                } else {
                    b == s
                }
            })
        })
    }

    /// `datetime`, `date` or `number`, by the shape of what starts here.
    fn date_or_number(&mut self) -> Option<Literal> {
        let start = self.pos;
        if !self.shaped(start, b"9999-99-99") {
            return self.number();
        }
        let date_end = start + 10;
        match self.bytes.get(date_end) {
            Some(b'T' | b't') => self.datetime(start),
            next if ends_token(next.copied()) => {
                self.pos = date_end;
                let span = self.span(start, date_end);
                let date = self.checked(date_value(&self.text[start..date_end], span))?;
                Some(Literal {
                    kind: LiteralKind::Date(date),
                    span,
                })
            }
            _ => self.give_up(),
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS` and a zone, `Z` or `±HH:MM`; anything else
    /// after the date (no zone, a fraction) is an error of some kind.
    fn datetime(&mut self, start: usize) -> Option<Literal> {
        let time = start + 11;
        if !self.shaped(time, b"99:99:99") {
            return self.give_up();
        }
        let zone = time + 8;
        let end = match self.bytes.get(zone) {
            Some(b'Z' | b'z') => zone + 1,
            Some(b'+' | b'-') if self.shaped(zone + 1, b"99:99") => zone + 6,
            _ => return self.give_up(),
        };
        if !ends_token(self.bytes.get(end).copied()) {
            return self.give_up();
        }
        self.pos = end;
        let span = self.span(start, end);
        let at = self.checked(datetime_value(&self.text[start..end], span))?;
        Some(Literal {
            kind: LiteralKind::DateTime(at),
            span,
        })
    }

    /// `number = @{ "-"? ~ ASCII_DIGIT+ ~ ("." ~ ASCII_DIGIT+)? ~ exponent?
    /// ~ token_end }`; an exponent is the builder's error.
    fn number(&mut self) -> Option<Literal> {
        let start = self.pos;
        let digits = start + usize::from(self.bytes.get(start) == Some(&b'-'));
        let mut end = self.digits_end(digits);
        if end == digits {
            return self.give_up();
        }
        if self.bytes.get(end) == Some(&b'.') {
            let fraction_end = self.digits_end(end + 1);
            if fraction_end == end + 1 {
                return self.give_up();
            }
            end = fraction_end;
        }
        if !ends_token(self.bytes.get(end).copied()) {
            return self.give_up();
        }
        self.pos = end;
        let span = self.span(start, end);
        let kind = self.checked(number_value(&self.text[start..end], span))?;
        Some(Literal { kind, span })
    }

    /// `string = @{ "\"" ~ ("\\" ~ ANY | !("\"" | "\\") ~ ANY)* ~ "\"" }`,
    /// its escapes decoded.
    fn string(&mut self) -> Option<Literal> {
        let start = self.pos;
        let mut at = start + 1;
        let end = loop {
            let found = memchr::memchr2(b'"', b'\\', &self.bytes[at..])?;
            at += found;
            if self.bytes[at] == b'"' {
                break at + 1;
            }
            // A backslash takes the next character with it. Skipping one
            // byte is enough: the bytes of a multi-byte character are
            // never `"` or `\`.
            if at + 1 >= self.bytes.len() {
                return self.give_up();
            }
            at += 2;
        };
        self.pos = end;
        let span = self.span(start, end);
        self.checked(string_value(&self.text[start..end], span))
    }

    /// `kw_true`, `kw_false`, or `relative = { (kw_now | kw_today) ~
    /// (time_sign ~ duration)? }`.
    fn word_literal(&mut self) -> Option<Literal> {
        let start = self.pos;
        let end = self.word_end(start);
        let word = &self.bytes[start..end];
        let anchor = if word.eq_ignore_ascii_case(b"true") || word.eq_ignore_ascii_case(b"false") {
            let value = word.eq_ignore_ascii_case(b"true");
            self.pos = end;
            return Some(Literal {
                kind: LiteralKind::Bool(value),
                span: self.span(start, end),
            });
        } else if word.eq_ignore_ascii_case(b"now") {
            Anchor::Now
        } else if word.eq_ignore_ascii_case(b"today") {
            Anchor::Today
        } else {
            return None;
        };
        self.pos = end;
        let offset = self.attempt(Descent::offset);
        let end = offset.as_ref().map_or(end, |(_, end)| *end);
        Some(Literal {
            kind: LiteralKind::Relative(Relative {
                anchor,
                offset: offset.map(|(duration, _)| duration),
            }),
            span: self.span(start, end),
        })
    }

    /// `time_sign ~ duration`, `duration = @{ ASCII_DIGIT+ ~ ASCII_ALPHA+
    /// ~ !(ASCII_DIGIT | "_") }`: the duration and where it ends.
    fn offset(&mut self) -> Option<(crate::syntax::ast::Duration, usize)> {
        self.skip_blanks();
        let negative = match self.peek_byte()? {
            b'-' => true,
            b'+' => false,
            _ => return None,
        };
        self.pos += 1;
        self.skip_blanks();
        let start = self.pos;
        let digits_end = self.digits_end(start);
        let unit_end = digits_end
            + self.bytes[digits_end..]
                .iter()
                .take_while(|b| b.is_ascii_alphabetic())
                .count();
        let next = self.bytes.get(unit_end).copied();
        if digits_end == start
            || unit_end == digits_end
            || next.is_some_and(|b| b.is_ascii_digit() || b == b'_')
        {
            return None;
        }
        self.pos = unit_end;
        let span = self.span(start, unit_end);
        let duration = self.checked(duration_value(&self.text[start..unit_end], span, negative))?;
        Some((duration, unit_end))
    }
}
