//! The PostgreSQL dialect: `$N` placeholders, native uuid/date/timestamptz/
//! boolean parameters, and the "C" collation wherever text order or case
//! folding must follow code points and ASCII only.

use super::dialect::Dialect;

/// PostgreSQL (12 or later).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Postgres;

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    /// The database's default collation may order text linguistically
    /// (`"a" < "Z"`); `"C"` orders by byte, which for UTF-8 is code point.
    fn text_for_ordering(&self, expr: &str) -> String {
        format!("{expr} COLLATE \"C\"")
    }

    /// `lower()` follows the collation's character classes: under a
    /// linguistic collation it also folds `É`. Under `"C"` it folds ASCII only.
    fn fold_ascii_case(&self, expr: &str) -> String {
        format!("lower({expr} COLLATE \"C\")")
    }

    fn text_starts_with(&self, haystack: &str, needle: &str) -> String {
        format!("starts_with({haystack}, {needle})")
    }

    fn text_ends_with(&self, haystack: &str, needle: &str) -> String {
        format!("right({haystack}, length({needle})) = {needle}")
    }

    fn null_safe_not_equal(&self, lhs: &str, rhs: &str) -> String {
        format!("{lhs} IS DISTINCT FROM {rhs}")
    }
}
