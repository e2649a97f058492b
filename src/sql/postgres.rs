//! The PostgreSQL dialect: `$N` placeholders, native uuid/date/timestamptz/
//! boolean parameters, and the "C" collation wherever text order or case
//! folding must follow code points and ASCII only.

use chrono::Datelike;

use super::dialect::{generic_literal, quote_text, Dialect};
use super::SqlParam;
use crate::schema::FieldType;

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

    /// PostgreSQL's text types cannot hold the NUL character at all: the
    /// server rejects such a parameter.
    fn text_refuses_nul(&self) -> Option<&'static str> {
        Some("PostgreSQL text cannot hold U+0000 (the NUL character)")
    }

    /// Generic, but for what PostgreSQL reads differently: a backslash in
    /// text goes into an escape string (`E'...'`, backslashes doubled),
    /// which means the same whatever `standard_conforming_strings` says;
    /// the year 0000 (the proleptic calendar's year before 0001) is
    /// PostgreSQL's 1 BC, written with `BC`.
    fn literal(&self, value: &SqlParam) -> String {
        match value {
            SqlParam::Text(s) if s.contains('\\') => {
                format!("E{}", quote_text(&s.replace('\\', "\\\\")))
            }
            SqlParam::Date(d) if d.year() == 0 => {
                format!(
                    "DATE {}",
                    quote_text(&d.format("0001-%m-%d BC").to_string())
                )
            }
            SqlParam::DateTime(t) if t.year() == 0 => format!(
                "TIMESTAMP WITH TIME ZONE {}",
                quote_text(&t.format("0001-%m-%d %H:%M:%S+00 BC").to_string())
            ),
            other => generic_literal(other),
        }
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

    /// A cast of `double precision` to `numeric` keeps only 15 significant
    /// digits (`0.30000000000000004` becomes `0.3`); the text form of a
    /// double is the shortest that reads back as the same double (the
    /// default `extra_float_digits = 1`), so the value survives the way
    /// through it.
    fn exact_decimal(&self, column: &str) -> String {
        format!("CAST(CAST({column} AS text) AS numeric)")
    }

    /// Text compares by code point in segql (SPEC §2.3); the "C" collation
    /// makes the column's own order agree, whatever the database's locale.
    fn text_column_suffix(&self) -> &'static str {
        " COLLATE \"C\""
    }

    /// The parameter is declared text (the driver sends every value as
    /// text), then cast to the column's type.
    fn text_param(&self, n: usize, ty: &FieldType) -> String {
        format!("CAST(${n}::text AS {})", self.column_type(ty))
    }

    /// Temporary tables vanish at the end of the transaction.
    fn create_temp_as(&self, name: &str, select: &str) -> String {
        format!("CREATE TEMP TABLE {name} ON COMMIT DROP AS {select}")
    }

    /// Autovacuum never analyzes temporary tables: without statistics the
    /// planner takes a `GROUP BY` over one for 200 groups and joins it by
    /// an index lookup per row, where a hash join of 750,000 rows is several
    /// times faster.
    fn analyze_temp_table(&self, table: &str) -> Option<String> {
        Some(format!("ANALYZE {table}"))
    }
}
