//! A rough tokenizer that runs before (and around) the real parse. It knows
//! just enough of the lexical rules — whitespace, `#` comments, quoted
//! strings, words, numbers — to measure nesting depth without recursion
//! (`depth.rs`) and to name the tokens around a syntax error
//! (`expected.rs`). It never fails: any byte sequence splits into tokens.

/// What a [`Token`] looks like; only as fine as its users need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// `[A-Za-z_][A-Za-z0-9_]*`.
    Word,
    /// Starts with a digit; swallows what a number or date can contain.
    Number,
    /// A double-quoted string; `closed` is false when the text ends first.
    String { closed: bool },
    /// A single-quoted string (an error in segql, but scanned as one token).
    SingleQuoted,
    /// Any other character, or one of the two-character operators.
    Punct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

/// Two-character operators, so `==` or `&&` is shown as written.
const PAIRS: [&str; 8] = ["==", "!=", "<=", ">=", "<>", "&&", "||", "=>"];

/// Iterates over the tokens of a text, skipping whitespace and comments.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Self {
        Scanner { text, pos: 0 }
    }

    /// Starts scanning at byte `pos` (which must be a char boundary).
    pub fn at(text: &'a str, pos: usize) -> Self {
        Scanner { text, pos }
    }

    fn skip_blank(&mut self) {
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                // The byte-order mark U+FEFF, which the grammar treats as blank.
                0xEF if bytes[self.pos..].starts_with("\u{FEFF}".as_bytes()) => self.pos += 3,
                b'#' => {
                    while self.pos < bytes.len() && bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// Advances while `pred` holds for ASCII bytes.
    fn eat_while(&mut self, pred: impl Fn(u8) -> bool) {
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() && pred(bytes[self.pos]) {
            self.pos += 1;
        }
    }
}

impl Iterator for Scanner<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        self.skip_blank();
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let first = *bytes.get(start)?;
        let kind = match first {
            b'A'..=b'Z' | b'a'..=b'z' | b'_' => {
                self.eat_while(|b| b.is_ascii_alphanumeric() || b == b'_');
                TokenKind::Word
            }
            b'0'..=b'9' => {
                self.eat_while(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-' | b'+')
                });
                TokenKind::Number
            }
            b'"' => {
                self.pos += 1;
                let mut closed = false;
                while self.pos < bytes.len() {
                    match bytes[self.pos] {
                        b'\\' => self.pos += 2,
                        b'"' => {
                            self.pos += 1;
                            closed = true;
                            break;
                        }
                        _ => self.pos += 1,
                    }
                }
                // A trailing backslash may step one past the end.
                self.pos = self.pos.min(bytes.len());
                TokenKind::String { closed }
            }
            b'\'' => {
                self.pos += 1;
                self.eat_while(|b| b != b'\'');
                self.pos = (self.pos + 1).min(bytes.len());
                TokenKind::SingleQuoted
            }
            _ => {
                let rest = &self.text[start..];
                if let Some(op) = PAIRS.iter().find(|op| rest.starts_with(**op)) {
                    self.pos += op.len();
                } else {
                    // One whole character, so slicing stays on char boundaries.
                    self.pos += rest.chars().next().map_or(1, char::len_utf8);
                }
                TokenKind::Punct
            }
        };
        // Strings can contain multi-byte characters; the loops above step
        // bytewise, so land on a boundary before slicing anything.
        while !self.text.is_char_boundary(self.pos) {
            self.pos += 1;
        }
        Some(Token {
            kind,
            start,
            end: self.pos,
        })
    }
}

impl Token {
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.start..self.end).unwrap_or("")
    }

    /// Whether this is the word `word`, ignoring ASCII case.
    pub fn is_word(&self, text: &str, word: &str) -> bool {
        self.kind == TokenKind::Word && self.text(text).eq_ignore_ascii_case(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        Scanner::new(text).map(|t| (t.kind, t.text(text))).collect()
    }

    #[test]
    fn splits_words_numbers_strings_and_operators() {
        assert_eq!(
            kinds("a.b == \"x\\\"y\" # note\n 2024-05-01T10:00:00Z 'q'"),
            vec![
                (TokenKind::Word, "a"),
                (TokenKind::Punct, "."),
                (TokenKind::Word, "b"),
                (TokenKind::Punct, "=="),
                (TokenKind::String { closed: true }, "\"x\\\"y\""),
                (TokenKind::Number, "2024-05-01T10:00:00Z"),
                (TokenKind::SingleQuoted, "'q'"),
            ]
        );
    }

    #[test]
    fn unterminated_strings_and_odd_bytes_do_not_break_it() {
        assert_eq!(
            kinds("\"abc\\"),
            vec![(TokenKind::String { closed: false }, "\"abc\\")]
        );
        assert_eq!(
            kinds("é("),
            vec![(TokenKind::Punct, "é"), (TokenKind::Punct, "(")]
        );
        assert_eq!(
            kinds("\"é"),
            vec![(TokenKind::String { closed: false }, "\"é")]
        );
    }
}
