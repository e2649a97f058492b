//! Comments through `fmt`, case by case: where each kind of comment ends up
//! in the canonical text, that the text still parses to the same tree, and
//! that formatting it again changes nothing.

use segql::syntax::{
    fmt::WIDTH, format_library, format_library_with_comments, format_query,
    format_query_with_comments, parse_library, parse_query,
};

/// The canonical text of a query with its comments, checked to parse back to
/// the same tree and to be a fixed point.
fn fmt_query(text: &str) -> String {
    let tree = parse_query(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let formatted = format_query_with_comments(&tree, text);
    let back = parse_query(&formatted).unwrap_or_else(|e| panic!("{e}\n{formatted}"));
    assert_eq!(back, tree, "tree changed:\n{formatted}");
    assert_eq!(
        format_query_with_comments(&back, &formatted),
        formatted,
        "not idempotent"
    );
    formatted
}

fn fmt_library(text: &str) -> String {
    let tree = parse_library(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let formatted = format_library_with_comments(&tree, text);
    let back = parse_library(&formatted).unwrap_or_else(|e| panic!("{e}\n{formatted}"));
    assert_eq!(back, tree, "tree changed:\n{formatted}");
    assert_eq!(
        format_library_with_comments(&back, &formatted),
        formatted,
        "not idempotent"
    );
    formatted
}

#[test]
fn a_leading_comment_stays_before_its_segment() {
    assert_eq!(
        fmt_library(
            "# VIP segment for Q3\nsegment vip = contact where score>90\n\
             # leads\n\n\n# still open\nSEGMENT open = lead where status=\"Open\""
        ),
        "# VIP segment for Q3\nsegment vip = contact where score > 90\n\n\
         # leads\n\n# still open\nsegment open = lead where status = \"Open\"\n"
    );
}

#[test]
fn a_trailing_comment_stays_after_its_clause_and_ends_the_line() {
    assert_eq!(
        fmt_query("contact where role = \"Employee\" # staff\nand city = \"Lyon\" # the city"),
        "contact where\n  role = \"Employee\" # staff\n  and city = \"Lyon\" # the city"
    );
    // After `where`, the filter moves to lines of its own.
    assert_eq!(
        fmt_query("contact where # who\nx"),
        "contact where # who\n  x"
    );
    // A trailing comment on the entity: `where` starts the next line.
    assert_eq!(
        fmt_query("contact # everyone\nwhere x"),
        "contact # everyone\nwhere x"
    );
}

#[test]
fn a_comment_inside_parentheses_breaks_the_group() {
    assert_eq!(
        fmt_query("contact where has lead( # open ones\nstatus = \"Open\") and x"),
        "contact where\n  has lead( # open ones\n    status = \"Open\"\n  )\n  and x"
    );
    assert_eq!(
        fmt_query("contact where x and (a # first\n or b)"),
        "contact where\n  x\n  and (\n    a # first\n    or b\n  )"
    );
    // Parentheses the formatter drops take their comments' place with them.
    assert_eq!(
        fmt_query("contact where ((a) # only a\n)"),
        "contact where a # only a"
    );
}

#[test]
fn a_comment_inside_a_list_puts_one_value_on_a_line() {
    assert_eq!(
        fmt_query("contact where x in [1, # one\n2 # two\n] and y"),
        "contact where\n  x in [\n    1, # one\n    2, # two\n  ]\n  and y"
    );
    assert_eq!(
        fmt_query("contact where x not in [\n# first\n\"a\"\n, \"b\"]"),
        "contact where\n  x not in [\n    # first\n    \"a\",\n    \"b\",\n  ]"
    );
}

#[test]
fn a_comment_inside_an_aggregate_filter_breaks_that_filter() {
    assert_eq!(
        fmt_query("account where count(contact.lead(status = \"Open\" # open\n)) >= 2 # two"),
        "account where\n  count(contact.lead(\n    status = \"Open\" # open\n  )) >= 2 # two"
    );
}

#[test]
fn a_comment_may_hold_quotes_and_hashes() {
    let text = "contact # say \"hi\" # twice ( [ ,\nwhere x";
    assert_eq!(
        fmt_query(text),
        "contact # say \"hi\" # twice ( [ ,\nwhere x"
    );
}

#[test]
fn a_hash_inside_a_string_is_not_a_comment() {
    assert_eq!(
        fmt_query("contact where tag = \"#1 # not a comment\""),
        "contact where tag = \"#1 # not a comment\""
    );
    assert_eq!(
        fmt_query("contact where tag = \"a\\\"#b\" # real"),
        "contact where tag = \"a\\\"#b\" # real"
    );
}

#[test]
fn comments_at_the_end_of_the_text_stay_at_the_end() {
    assert_eq!(
        fmt_query("contact where x\n# one\n\n# two\n"),
        "contact where x\n# one\n\n# two"
    );
    assert_eq!(
        fmt_library("segment a = contact\n# the end\n"),
        "segment a = contact\n\n# the end\n"
    );
    assert_eq!(fmt_library("# nothing yet\n"), "# nothing yet\n");
}

#[test]
fn crlf_line_endings_give_lf_and_keep_the_comments() {
    assert_eq!(
        fmt_query("# head\r\ncontact # c\r\nwhere a # t\r\n  and b\r\n# end\r\n"),
        "# head\ncontact # c\nwhere\n  a # t\n  and b\n# end"
    );
    assert_eq!(
        fmt_library("segment a = contact # a\r\n\r\n# b\r\nsegment b = lead\r\n"),
        "segment a = contact # a\n\n# b\nsegment b = lead\n"
    );
}

#[test]
fn a_comment_inside_a_literal_goes_before_it() {
    // `now - 30d` is one literal: a comment in the middle of it moves out.
    assert_eq!(
        fmt_query("contact where created_on > now # recent\n - 30d"),
        "contact where\n  created_on > # recent\n  now - 30d"
    );
}

#[test]
fn a_long_query_with_a_comment_in_the_middle_breaks_at_the_comment() {
    let text = "contact where (role = \"Decision Maker\" or role = \"Influencer\") and \
                has at least 2 interaction(type = \"Email Clicked\" # clicks\n or type = \"Email Opened\" \
                or type = \"Website Visited\") and not has subscription";
    let formatted = fmt_query(text);
    assert_eq!(
        formatted,
        "contact where\n  (role = \"Decision Maker\" or role = \"Influencer\")\n  \
         and has at least 2 interaction(\n    type = \"Email Clicked\" # clicks\n    \
         or type = \"Email Opened\"\n    or type = \"Website Visited\"\n  )\n  \
         and not has subscription"
    );
    for line in formatted.lines() {
        let code = line.split(" #").next().unwrap_or(line);
        assert!(code.chars().count() <= WIDTH, "{line}");
    }
}

#[test]
fn without_comments_the_text_is_what_format_gives() {
    for text in [
        "CONTACT   WHERE City=\"x\" and (a or b) and x in [1,2,]",
        "contact where (role = \"Decision Maker\" or role = \"Influencer\") and has at least 2 \
         interaction(type = \"Email Clicked\" or type = \"Email Opened\") and not has subscription",
    ] {
        let tree = parse_query(text).unwrap();
        assert_eq!(format_query_with_comments(&tree, text), format_query(&tree));
    }
    let text = "segment a = contact segment b = lead where x";
    let tree = parse_library(text).unwrap();
    assert_eq!(
        format_library_with_comments(&tree, text),
        format_library(&tree)
    );
}

#[test]
fn a_tree_whose_source_is_lost_still_formats() {
    // Spans that point nowhere in the given text: every token is written,
    // and the comments of that text still come out once.
    let tree = parse_query("contact where a = 1 and b").unwrap();
    let formatted = format_query_with_comments(&tree, "# stray\nx");
    assert_eq!(parse_query(&formatted).unwrap(), tree);
    assert_eq!(formatted.matches("# stray").count(), 1, "{formatted}");
}

#[test]
fn snapshot_of_a_commented_query() {
    insta::assert_snapshot!(fmt_query(
        "# Decision makers we can reach, for the Q3 campaign.\n\
         CONTACT WHERE # all of these:\n\
         \x20 # buyers\n\
         \x20 (role = \"Decision Maker\" OR role = \"Influencer\") # either kind\n\n\
         \x20 # engaged: opened or clicked twice in two weeks\n\
         \x20 AND has at least 2 interaction(type in [\"Email Clicked\", # clicks\n\
         \x20   \"Email Opened\"] and occurred_on >= now-14d)\n\
         \x20 and not do_not_email # consent\n\
         # reviewed 2024-05-01"
    ));
}

#[test]
fn snapshot_of_a_commented_library() {
    insta::assert_snapshot!(fmt_library(
        "# Segments of the sales team.\n\n\
         # Contacts who decide.\n\
         segment decision_makers = contact where role = \"Decision Maker\" # the title\n\
         segment vip = contact where in decision_makers and # only deciders\n\
         \x20 has lead(status = \"Qualified\" # qualified only\n) # VIP segment for Q3\n\n\
         # retired: segment old = lead\n"
    ));
}
