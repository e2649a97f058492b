//! The output side of a formatter: text written token by token, with the
//! comments of the source woven back in at the tokens they belong to.
//!
//! A formatter decides the layout (which tokens, where lines break); it tells
//! the printer where each token came from — a byte range for a node that has
//! a span ([`Printer::unit`]), or nothing for a keyword or a punctuation mark
//! ([`Printer::word`]), which the printer finds by walking the source tokens
//! in step. Before a token is written, the comments attached up to it are
//! written; after it, its trailing comments. A comment always ends its line:
//! the next token starts on a new line at the same indentation, so no code
//! can end up inside a comment. Comments left at the end are written by
//! [`Printer::end_comments`], so none is ever lost.
//!
//! To choose a layout, a formatter writes a candidate line on a
//! [`Printer::trial`] copy, which shares the source position but keeps no
//! text, and asks [`Printer::fits_line`] how wide the line is, unless a
//! comment would fall between two of its tokens and so break it.
//!
//! A formatter that writes parts of the source out of order (a model file
//! puts its settings before its rules) takes each part's tokens and comments
//! out of the source with [`SourceComments::take`] and writes the part with
//! [`Printer::enter`] and [`Printer::leave`]: each comment is in exactly one
//! part, and whatever a part did not write is written when it is left, so
//! none is lost or written twice.
//!
//! A [`Printer::set_margin`] indents every line a formatter starts and every
//! line a comment breaks by that much more, so a block written for column 0
//! (an expression) can sit deeper, as a model's rules do.
//!
//! It works on any token stream of segql's lexical rules (see
//! [`super::comments`]), not on one AST.

use super::comments::{Comment, Placement, SourceComments};
use crate::span::Span;

/// The source a printer weaves comments from, and how far it has got.
#[derive(Clone, Copy)]
struct Source<'a> {
    text: &'a str,
    found: &'a SourceComments,
    /// The next comment to write.
    next_comment: usize,
    /// The next source token not yet matched by written text.
    cursor: usize,
}

/// Where a printer was in its source before [`Printer::enter`], to go back
/// to with [`Printer::leave`].
#[derive(Clone, Copy)]
pub(crate) struct Place<'a>(Option<Source<'a>>);

pub(crate) struct Printer<'a> {
    text: String,
    /// Added to the indentation of every line break; see
    /// [`Printer::set_margin`].
    margin: usize,
    /// Once the text is longer than this many bytes, writing stops: asking
    /// whether something fits on a line costs O(line width).
    cap: usize,
    source: Option<Source<'a>>,
    /// A comment ended the current line: the next token starts a new one.
    must_break: bool,
    /// A comment on its own line had a blank line after it in the source:
    /// the next line break leaves one too.
    blank_pending: bool,
    /// A trial printer writes no comment text, only notes where comments go.
    trial: bool,
    /// Tokens written, and characters of tokens and spaces between them.
    tokens: usize,
    code_chars: usize,
    /// A comment was written after a token.
    comment_after_token: bool,
    /// ... and then another token: the text cannot be one line.
    comment_between: bool,
}

impl<'a> Printer<'a> {
    /// A printer without comments.
    pub fn plain() -> Self {
        Printer {
            text: String::new(),
            margin: 0,
            cap: usize::MAX,
            source: None,
            must_break: false,
            blank_pending: false,
            trial: false,
            tokens: 0,
            code_chars: 0,
            comment_after_token: false,
            comment_between: false,
        }
    }

    /// A printer that writes the comments found in `text`, the source whose
    /// byte offsets the spans given to [`Printer::unit`] are.
    pub fn with_comments(text: &'a str, found: &'a SourceComments) -> Self {
        Printer {
            source: Some(Source {
                text,
                found,
                next_comment: 0,
                cursor: 0,
            }),
            ..Printer::plain()
        }
    }

    /// A printer to try a line on: it starts where this one is in the
    /// source, keeps no comment text and stops writing after `cap` bytes.
    /// Nothing it does changes this printer.
    pub fn trial(&self, cap: usize) -> Printer<'a> {
        Printer {
            cap,
            source: self.source,
            trial: true,
            ..Printer::plain()
        }
    }

    /// For a trial: the width in characters of what was written, if it is
    /// one line with no comment between two of its tokens (comments before
    /// the first or after the last do not break it) and the cap was not
    /// passed.
    pub fn fits_line(&self) -> Option<usize> {
        (!self.full() && !self.comment_between).then_some(self.code_chars)
    }

    /// Whether the cap was passed.
    pub fn full(&self) -> bool {
        self.text.len() > self.cap
    }

    pub fn finish(self) -> String {
        self.text
    }

    /// A space between two tokens on a line; none when a comment ended the
    /// line.
    pub fn space(&mut self) {
        if !self.must_break {
            self.push(" ");
            self.code_chars += 1;
        }
    }

    /// Ends the line; the next one starts with `indent` spaces (and the
    /// margin).
    pub fn newline(&mut self, indent: usize) {
        self.line_break(self.margin + indent);
    }

    /// From now on, lines start `margin` spaces deeper than the formatter
    /// says, and a line a comment breaks starts at least that deep.
    pub fn set_margin(&mut self, margin: usize) {
        self.margin = margin;
    }

    /// Goes on in `part`, a part of the source taken out with
    /// [`SourceComments::take`], from its start; says where the printer
    /// was, for [`Printer::leave`]. A printer without comments stays so.
    pub fn enter(&mut self, part: &'a SourceComments) -> Place<'a> {
        let place = Place(self.source);
        if let Some(source) = &mut self.source {
            *source = Source {
                text: source.text,
                found: part,
                next_comment: 0,
                cursor: 0,
            };
        }
        place
    }

    /// Writes the comments of the part entered that are not written yet,
    /// each on a line of its own at `indent`, and goes back to `place`.
    pub fn leave(&mut self, place: Place<'a>, indent: usize) {
        self.comments_on_lines(usize::MAX, indent);
        self.source = place.0;
    }

    /// Writes the comments not written yet attached before byte `end`, each
    /// on a line of its own at `indent`: those before a closing token that
    /// belong inside the block it closes.
    pub fn comments_on_lines(&mut self, end: usize, indent: usize) {
        while let Some(comment) = self.next_comment(|c| c.anchor < end) {
            if self.tokens > 0 {
                self.comment_after_token = true;
            }
            if self.trial {
                self.must_break = true;
                continue;
            }
            if self.line_has_text() {
                self.line_break(indent);
            } else {
                self.trim_line_end();
                self.push(&" ".repeat(indent));
            }
            self.push(&comment.text);
            self.must_break = true;
            self.blank_pending = comment.blank_line_after;
        }
    }

    /// Ends the line; the next one starts at column `indent`.
    fn line_break(&mut self, indent: usize) {
        self.trim_line_end();
        if std::mem::take(&mut self.blank_pending) {
            self.push("\n");
        }
        self.push("\n");
        self.push(&" ".repeat(indent));
        self.must_break = false;
    }

    /// Text that stands for the source bytes of `span`: a name or a literal
    /// (one or more source tokens). Comments attached inside it go before
    /// it.
    pub fn unit(&mut self, text: &str, span: Span) {
        self.unit_held(text, span);
        self.comments_until(span.end as usize);
    }

    /// [`Printer::unit`] holding back its trailing comments, for text that
    /// [`Printer::glued`] attaches to it.
    pub fn unit_held(&mut self, text: &str, span: Span) {
        self.unit_to(text, span.end as usize);
    }

    /// Text that stands for the one source token starting at byte `start`,
    /// for a node that knows where it starts but not where it ends (a grade's
    /// label). Without such a token, it is written with no comment of its
    /// own.
    pub fn token_at(&mut self, text: &str, start: usize) {
        let end = self
            .source
            .as_ref()
            .and_then(|source| {
                let tokens = &source.found.tokens;
                let index = tokens.partition_point(|&(s, _)| s < start);
                tokens.get(index).filter(|&&(s, _)| s == start)
            })
            .map_or(start, |&(_, end)| end);
        self.unit_to(text, end);
        self.comments_until(end);
    }

    /// Text that stands for the source up to byte `end`, trailing comments
    /// held back.
    fn unit_to(&mut self, text: &str, end: usize) {
        self.comments_before(end);
        self.write_token(text);
        if let Some(source) = &mut self.source {
            source.cursor = source
                .found
                .tokens
                .partition_point(|&(start, _)| start < end);
        }
    }

    /// `word` right after the token written last (which ended at byte
    /// `after` of the source), before its trailing comments: a comma after
    /// an item of a list on lines of its own. It stands for the source
    /// token `word` if that comes next, whose comments then follow too.
    pub fn glued(&mut self, word: &str, after: usize) {
        self.push(word);
        self.code_chars += word.chars().count();
        let mut end = after;
        if let Some(source) = &mut self.source {
            let next = source.found.tokens.get(source.cursor);
            if let Some(&(_, token_end)) = next {
                if source.found.token_text(source.text, source.cursor) == word {
                    end = end.max(token_end);
                    source.cursor += 1;
                }
            }
        }
        self.comments_until(end);
    }

    /// A keyword or punctuation mark: one source token, found by walking the
    /// source from the last token written. Parentheses and commas the
    /// formatter drops are stepped over; a word that is not in the source
    /// (an AST built by hand) is written with no comment of its own.
    pub fn word(&mut self, word: &str) {
        let Some(end) = self.match_word(word) else {
            self.write_token(word);
            return;
        };
        self.comments_before(end);
        self.write_token(word);
        self.comments_until(end);
    }

    /// Writes the trailing comments attached up to byte `end` of the source
    /// that are not written yet: those of a token ending there, or of
    /// parentheses the formatter dropped after a node ending there. Only
    /// one can stay on the line; a comment that would need a line of its
    /// own waits for the next token, as if the dropped tokens were not
    /// there.
    pub fn comments_until(&mut self, end: usize) {
        while !self.must_break {
            let Some(comment) =
                self.next_comment(|c| c.anchor <= end && c.placement == Placement::Trailing)
            else {
                break;
            };
            self.write_comment(&comment);
        }
    }

    /// Writes the comments not written yet, each on its own unindented line
    /// after the text; a `blank_line` first if there is text and any comment.
    pub fn end_comments(&mut self, blank_line: bool) {
        let mut first = true;
        while let Some(comment) = self.next_comment(|_| true) {
            if first && blank_line && !self.text.is_empty() {
                self.line_break(0);
            }
            first = false;
            if self.line_has_text() {
                self.line_break(0);
            }
            self.push(&comment.text);
            self.must_break = true;
            self.blank_pending = comment.blank_line_after;
        }
    }

    /// The end byte of the source token that `word` stands for, advancing
    /// the cursor past it.
    fn match_word(&mut self, word: &str) -> Option<usize> {
        let source = self.source.as_mut()?;
        let mut index = source.cursor;
        loop {
            let token = source.found.token_text(source.text, index);
            if token.is_empty() {
                return None;
            }
            if token.eq_ignore_ascii_case(word) {
                source.cursor = index + 1;
                return source.found.tokens.get(index).map(|&(_, end)| end);
            }
            if !matches!(token, "(" | ")" | ",") {
                return None;
            }
            index += 1;
        }
    }

    /// Comments attached before byte `end`: leading ones of the token that
    /// ends there, those of tokens stepped over, and any inside a
    /// multi-token unit, which go before it.
    fn comments_before(&mut self, end: usize) {
        while let Some(comment) = self.next_comment(|c| c.anchor < end) {
            self.write_comment(&comment);
        }
    }

    fn next_comment(&mut self, wanted: impl Fn(&Comment) -> bool) -> Option<Comment> {
        let source = self.source.as_mut()?;
        let comment = source.found.comments.get(source.next_comment)?;
        if !wanted(comment) {
            return None;
        }
        source.next_comment += 1;
        Some(comment.clone())
    }

    /// A trailing comment stays on its token's line; any other comment gets
    /// a line of its own. Either way the line ends after it.
    fn write_comment(&mut self, comment: &Comment) {
        if self.tokens > 0 {
            self.comment_after_token = true;
        }
        if self.trial {
            self.must_break = true;
            return;
        }
        let own_line = comment.placement != Placement::Trailing || self.must_break;
        if own_line && self.line_has_text() {
            self.line_break(self.continuation());
        } else if self.line_has_text() {
            self.trim_line_end();
            self.push(" ");
        }
        self.push(&comment.text);
        self.must_break = true;
        self.blank_pending = own_line && comment.blank_line_after;
    }

    fn write_token(&mut self, text: &str) {
        if self.must_break {
            self.line_break(self.continuation());
        }
        self.comment_between |= self.comment_after_token;
        self.push(text);
        self.tokens += 1;
        self.code_chars += text.chars().count();
    }

    fn push(&mut self, s: &str) {
        if !self.full() {
            self.text.push_str(s);
        }
    }

    fn current_line(&self) -> &str {
        let start = self.text.rfind('\n').map_or(0, |i| i + 1);
        &self.text[start..]
    }

    fn line_has_text(&self) -> bool {
        self.current_line().bytes().any(|b| b != b' ')
    }

    /// Where a line broken by a comment goes on: as deep as the line it
    /// breaks, and at least at the margin.
    fn continuation(&self) -> usize {
        self.line_indent().max(self.margin)
    }

    fn line_indent(&self) -> usize {
        let line = self.current_line();
        line.len() - line.trim_start_matches(' ').len()
    }

    fn trim_line_end(&mut self) {
        let kept = self.text.trim_end_matches(' ').len();
        let line_start = self.text.rfind('\n').map_or(0, |i| i + 1);
        self.text.truncate(kept.max(line_start));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `words` with single spaces, as a formatter of any token
    /// stream would.
    fn reprint(text: &str, words: &[&str]) -> String {
        let found = SourceComments::of(text);
        let mut out = Printer::with_comments(text, &found);
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                out.space();
            }
            out.word(word);
        }
        out.end_comments(false);
        out.finish()
    }

    #[test]
    fn any_token_stream_gets_its_comments_back_at_its_tokens() {
        assert_eq!(
            reprint(
                "# head\nALPHA   beta # after beta\n   # before gamma\n\ngamma\n# end",
                &["alpha", "beta", "gamma"]
            ),
            "# head\nalpha beta # after beta\n# before gamma\n\ngamma\n# end"
        );
    }

    #[test]
    fn dropped_punctuation_and_words_not_in_the_source_lose_no_comment() {
        // The `,` is dropped; `extra` is not in the source.
        assert_eq!(
            reprint("a , # c\nb", &["a", "extra", "b"]),
            "a extra # c\nb"
        );
    }

    #[test]
    fn parts_written_out_of_order_keep_their_comments() {
        let text = "a # of a\n# before b\nb c # of c\nd";
        let b = text.find("b c").unwrap();
        let c_end = text.find(" # of c").unwrap();
        let mut rest = SourceComments::of(text);
        let part = rest.take(b, c_end);
        let mut out = Printer::with_comments(text, &rest);
        // `b c` first, then `a` and `d`; `c` is never written, so its
        // comment is written when the part is left.
        let place = out.enter(&part);
        out.word("b");
        out.leave(place, 2);
        out.newline(0);
        out.word("a");
        out.space();
        out.word("d");
        out.end_comments(false);
        assert_eq!(out.finish(), "# before b\nb\n  # of c\na # of a\nd");
    }

    #[test]
    fn a_margin_deepens_every_line_and_each_line_a_comment_breaks() {
        let text = "a # c\nb";
        let found = SourceComments::of(text);
        let mut out = Printer::with_comments(text, &found);
        out.set_margin(4);
        out.word("a");
        out.space();
        out.word("b");
        out.newline(1);
        out.word("e");
        assert_eq!(out.finish(), "a # c\n    b\n     e");
    }

    #[test]
    fn a_trial_says_whether_a_comment_falls_inside() {
        let text = "a b # c\nd";
        let found = SourceComments::of(text);
        let out = Printer::with_comments(text, &found);
        let mut line = out.trial(usize::MAX);
        line.word("a");
        line.space();
        line.word("b");
        assert_eq!(line.fits_line(), Some(3));
        line.space();
        line.word("d");
        assert_eq!(line.fits_line(), None);
        // The trial left the printer where it was.
        let mut out = out;
        out.word("a");
        assert_eq!(out.finish(), "a");
    }
}
