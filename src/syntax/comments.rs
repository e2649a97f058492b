//! The comments of a source text (`#` to the end of the line, SPEC §2.1),
//! each attached to the token it belongs to, so a formatter can write them
//! back where they were although the AST does not keep them.
//!
//! A comment after code on the same line is *trailing*: it belongs to the
//! token before it. A comment on a line of its own is *leading*: it belongs
//! to the token after it. Comments after the last token are *end* comments.
//!
//! Nothing here knows the grammar: comments are found in the gaps between the
//! tokens of the scanner (`scan.rs`, which skips `#` inside strings), so any
//! text made of segql's tokens — queries, libraries, or any later file kind —
//! can reuse it. A formatter that writes parts of a text in another order
//! takes each part out with its comments ([`SourceComments::take`]).

use super::scan::{Scanner, Token};

/// Where a comment sits relative to the code around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// On a line of its own, before the token at [`Comment::anchor`].
    Leading,
    /// After code on the same line; the token before it ends at
    /// [`Comment::anchor`].
    Trailing,
    /// After every token of the text; [`Comment::anchor`] is the text's length.
    End,
}

/// One comment of a source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// From `#` to the end of its line, without trailing blanks (so a `\r`
    /// of a CRLF line ending is not part of it).
    pub text: String,
    /// Byte range of the comment in the source, `#` included.
    pub start: usize,
    pub end: usize,
    pub placement: Placement,
    /// Whether a blank line follows the comment in the source.
    pub blank_line_after: bool,
    /// The byte offset the comment is attached to: the start of the next
    /// token (leading), the end of the previous one (trailing), or the end of
    /// the text. Anchors never decrease from one comment to the next.
    pub anchor: usize,
}

/// A source text split into its code tokens and its comments, both in text
/// order.
#[derive(Clone, Debug, Default)]
pub struct SourceComments {
    /// Byte ranges of the code tokens, comments and blanks left out.
    pub tokens: Vec<(usize, usize)>,
    pub comments: Vec<Comment>,
}

impl SourceComments {
    /// Finds the tokens and comments of `text`. Never fails: text that does
    /// not parse still splits into tokens.
    pub fn of(text: &str) -> Self {
        let tokens: Vec<Token> = Scanner::new(text).collect();
        let mut comments = Vec::new();
        let mut gap_start = 0;
        for (i, token) in tokens.iter().enumerate() {
            let previous = i.checked_sub(1).map(|p| tokens[p].end);
            gap_comments(
                text,
                gap_start,
                token.start,
                previous,
                Some(token.start),
                &mut comments,
            );
            gap_start = token.end;
        }
        let previous = tokens.last().map(|t| t.end);
        gap_comments(text, gap_start, text.len(), previous, None, &mut comments);
        SourceComments {
            tokens: tokens.iter().map(|t| (t.start, t.end)).collect(),
            comments,
        }
    }

    /// Takes out the part of the text from byte `start` to `end`: the tokens
    /// inside it and the comments attached there (anchored from `start` to
    /// `end`, both included: the leading comments of its first token and the
    /// trailing one of its last). A formatter that writes parts of a text in
    /// another order than the source's takes each part out, so every comment
    /// is in exactly one part or in what remains.
    pub fn take(&mut self, start: usize, end: usize) -> SourceComments {
        let (tokens, kept): (Vec<_>, Vec<_>) = self
            .tokens
            .iter()
            .partition(|&&(s, e)| start <= s && e <= end);
        let (comments, left): (Vec<_>, Vec<_>) = std::mem::take(&mut self.comments)
            .into_iter()
            .partition(|c| (start..=end).contains(&c.anchor));
        self.tokens = kept;
        self.comments = left;
        SourceComments { tokens, comments }
    }

    /// The text of the token at `index` of [`Self::tokens`] in `text`.
    pub fn token_text<'a>(&self, text: &'a str, index: usize) -> &'a str {
        self.tokens
            .get(index)
            .and_then(|&(start, end)| text.get(start..end))
            .unwrap_or("")
    }
}

/// The comments in `text[from..to]`, a stretch of blanks and comments between
/// the token ending at `previous` and the one starting at `next`.
fn gap_comments(
    text: &str,
    from: usize,
    to: usize,
    previous: Option<usize>,
    next: Option<usize>,
    out: &mut Vec<Comment>,
) {
    let Some(gap) = text.get(from..to) else {
        return;
    };
    let mut offset = 0;
    while let Some(hash) = gap[offset..].find('#') {
        let start = from + offset + hash;
        let line_end = text[start..to].find('\n').map_or(to, |n| start + n);
        let same_line = previous.filter(|&p| !text[p..start].contains('\n'));
        let (placement, anchor) = match (same_line, next) {
            (Some(p), _) => (Placement::Trailing, p),
            (None, Some(n)) => (Placement::Leading, n),
            (None, None) => (Placement::End, text.len()),
        };
        let rest = &text[line_end..to];
        let until_next = rest.find('#').map_or(rest, |n| &rest[..n]);
        out.push(Comment {
            text: text[start..line_end].trim_end().to_string(),
            start,
            end: line_end,
            placement,
            blank_line_after: until_next.matches('\n').count() >= 2,
            anchor,
        });
        offset = line_end - from;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&'static str, String, usize)> {
        SourceComments::of(text)
            .comments
            .into_iter()
            .map(|c| {
                let placement = match c.placement {
                    Placement::Leading => "leading",
                    Placement::Trailing => "trailing",
                    Placement::End => "end",
                };
                (placement, c.text, c.anchor)
            })
            .collect()
    }

    #[test]
    fn a_comment_belongs_to_the_token_before_it_on_its_line_or_else_the_next() {
        let text = "# head\ncontact # t\n# l1\n# l2\nwhere x # t2\n# end\n";
        let contact = text.find("contact").unwrap();
        let where_ = text.find("where").unwrap();
        let x_end = text.find(" # t2").unwrap();
        assert_eq!(
            found(text),
            vec![
                ("leading", "# head".to_string(), contact),
                ("trailing", "# t".to_string(), contact + 7),
                ("leading", "# l1".to_string(), where_),
                ("leading", "# l2".to_string(), where_),
                ("trailing", "# t2".to_string(), x_end),
                ("end", "# end".to_string(), text.len()),
            ]
        );
    }

    #[test]
    fn a_hash_inside_a_string_is_not_a_comment() {
        let text = "contact where a = \"x # y\" # real \"q\" # too";
        assert_eq!(
            found(text),
            vec![(
                "trailing",
                "# real \"q\" # too".to_string(),
                text.find(" # real").unwrap()
            )]
        );
    }

    #[test]
    fn crlf_line_endings_are_not_part_of_a_comment() {
        let text = "contact # a\r\n# b\r\nwhere x\r\n";
        let texts: Vec<String> = found(text).into_iter().map(|c| c.1).collect();
        assert_eq!(texts, vec!["# a", "# b"]);
        assert_eq!(found(text)[1].0, "leading");
    }

    #[test]
    fn a_blank_line_after_a_comment_is_noted() {
        let blank: Vec<bool> = SourceComments::of("# a\n\n# b\n# c\r\n  \r\ncontact # d\n\n")
            .comments
            .iter()
            .map(|c| c.blank_line_after)
            .collect();
        assert_eq!(blank, vec![true, false, true, true]);
    }

    #[test]
    fn a_part_taken_out_keeps_the_comments_of_its_first_and_last_tokens() {
        let text = "{ # open\n# lead b\nb c # after c\n# lead d\nd }";
        let b = text.find("b c").unwrap();
        let c_end = text.find(" # after c").unwrap();
        let mut rest = SourceComments::of(text);
        let all = rest.clone();
        let part = rest.take(b, c_end);
        let texts = |found: &SourceComments| -> Vec<String> {
            found.comments.iter().map(|c| c.text.clone()).collect()
        };
        assert_eq!(texts(&part), vec!["# lead b", "# after c"]);
        assert_eq!(texts(&rest), vec!["# open", "# lead d"]);
        assert_eq!(part.tokens, vec![all.tokens[1], all.tokens[2]]);
        assert_eq!(rest.tokens.len(), all.tokens.len() - 2);
        // Taking the same bytes again finds nothing: nothing is in two parts.
        let again = rest.take(b, c_end);
        assert!(again.comments.is_empty() && again.tokens.is_empty());
    }

    #[test]
    fn text_of_comments_only_has_end_comments() {
        assert_eq!(
            found("# a\n\n# b"),
            vec![("end", "# a".to_string(), 8), ("end", "# b".to_string(), 8)]
        );
        assert!(found("").is_empty());
    }
}
