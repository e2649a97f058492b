//! Hostile strings for the literal tests (SQL injection attempts, quotes,
//! backslashes, U+0000, wildcards, placeholders, 1 MiB of text), and how to
//! write one as a segql string literal. Shared by the bind-parameter tests
//! (`tests/it/sql/injection.rs`) and the view tests, where literals are
//! written into the SQL.

/// The hostile strings, by a short name for messages.
pub fn hostile() -> Vec<(&'static str, String)> {
    // Close to the 1 MiB query-text limit, but leaving room for the query
    // around it; made of an injection attempt, so a splice would show.
    let attempt = "'; DROP TABLE contact; --\" OR 1=1 -- ";
    let room = segql::error::limits::MAX_TEXT_BYTES - 4096;
    let (mut big, mut literal_len) = (String::new(), 2);
    for c in attempt.chars().cycle() {
        // As a literal, a double quote takes two bytes.
        literal_len += if c == '"' { 2 } else { c.len_utf8() };
        if literal_len > room {
            break;
        }
        big.push(c);
    }
    vec![
        ("drop table", "'; DROP TABLE contact; --".to_string()),
        ("double quote or", "\" OR 1=1 --".to_string()),
        ("backslash", "\\".to_string()),
        ("backslash quote", "\\'".to_string()),
        ("nul", "\u{0}".to_string()),
        ("nul inside", "nul\u{0}byte@x.example".to_string()),
        ("percent", "%".to_string()),
        ("underscore", "_".to_string()),
        ("1 MiB", big),
        ("right-to-left", "abc\u{202E}fed".to_string()),
        ("zero-width", "a\u{200B}b".to_string()),
        ("dollar 1", "$1".to_string()),
        ("question mark", "?".to_string()),
        ("question mark 1", "?1".to_string()),
    ]
}

/// `s` as a segql string literal.
pub fn lit(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
