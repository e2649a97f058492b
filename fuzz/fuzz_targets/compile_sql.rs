//! Any UTF-8 text compiled to SQL in both dialects. Compiling must not
//! panic, and a string literal of the query must never reach the SQL text:
//! values travel as bind parameters.
//!
//! The oracle is differential: a literal (at least 4 characters, no escapes,
//! not a schema name or SQL keyword) that occurs in the SQL text is
//! replaced, in the query, by filler of the same length; if the query still
//! compiles and the literal is then gone from the SQL, the SQL text was
//! carrying the literal.
#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use segql::schema::{crm_schema, Schema};
use segql::sql::{Dialect, Postgres, Sqlite};

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(crm_schema)
}

/// Lower-cased words that may legitimately appear in generated SQL.
fn vocabulary() -> &'static HashSet<String> {
    static WORDS: OnceLock<HashSet<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let s = schema();
        let mut words: HashSet<String> = [
            "select",
            "from",
            "where",
            "and",
            "not",
            "null",
            "exists",
            "like",
            "escape",
            "between",
            "count",
            "distinct",
            "order",
            "true",
            "false",
            "case",
            "when",
            "then",
            "else",
            "lower",
            "upper",
            "cast",
            "coalesce",
            "group",
            "having",
            "limit",
            "union",
            "inner",
            "join",
            "left",
            "ilike",
            "collate",
            "nocase",
            "date",
            "datetime",
            "timestamp",
            "integer",
            "text",
            "real",
            "boolean",
            "numeric",
            "where",
            "with",
            "as",
            "is",
        ]
        .iter()
        .map(|w| w.to_string())
        .collect();
        for e in &s.entities {
            words.insert(e.name.to_ascii_lowercase());
            for f in &e.fields {
                words.insert(f.name.to_ascii_lowercase());
            }
        }
        for r in &s.relationships {
            words.insert(r.name.to_ascii_lowercase());
        }
        words
    })
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap()
}

/// Byte ranges of the contents of each `"..."` in `text`, outside comments.
/// A content holding a backslash is skipped (its value differs from its
/// spelling).
fn literals(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '\'' => {
                for (_, c) in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                }
            }
            '"' => {
                let start = i + 1;
                let mut escaped = false;
                let mut end = None;
                while let Some((j, c)) = chars.next() {
                    if c == '\\' {
                        escaped = true;
                        chars.next();
                    } else if c == '"' {
                        end = Some(j);
                        break;
                    }
                }
                if let (Some(end), false) = (end, escaped) {
                    out.push((start, end));
                }
            }
            _ => {}
        }
    }
    out
}

fn compile(text: &str, dialect: &dyn Dialect) -> Option<String> {
    segql::compile(text, &segql::Options::new(schema()), dialect, now())
        .ok()
        .map(|q| q.sql)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dialects: [(&str, &dyn Dialect); 2] = [("sqlite", &Sqlite), ("postgres", &Postgres)];
    for (name, dialect) in dialects {
        let Some(sql) = compile(text, dialect) else {
            continue;
        };
        for (start, end) in literals(text) {
            let literal = &text[start..end];
            if literal.chars().count() < 4 || vocabulary().contains(&literal.to_ascii_lowercase()) {
                continue;
            }
            if !sql.contains(literal) {
                continue;
            }
            let filler = "\u{2603}".repeat(literal.chars().count());
            let replaced = format!("{}{}{}", &text[..start], filler, &text[end..]);
            let Some(other) = compile(&replaced, dialect) else {
                continue;
            };
            assert!(
                other.contains(literal),
                "{name}: string literal {literal:?} reached the SQL text:\n{sql}"
            );
        }
    }
});
