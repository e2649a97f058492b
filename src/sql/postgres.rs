//! The PostgreSQL dialect: `$N` placeholders, native uuid/date/timestamptz/
//! boolean parameters, and the "C" collation wherever text order or case
//! folding must follow code points and ASCII only.

use chrono::Datelike;

use super::dialect::{generic_literal, numbered, push_decimal, quote_text, Dialect, Selection};
use super::SqlParam;
use crate::plan::TextOp;
use crate::schema::FieldType;

/// PostgreSQL (12 or later).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Postgres;

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn placeholder(&self, n: usize) -> String {
        numbered('$', n)
    }

    fn push_placeholder(&self, n: usize, _param: &SqlParam, out: &mut String) {
        out.push('$');
        push_decimal(out, n);
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

    /// PostgreSQL estimates the rows of `x IN (SELECT ...)`, a semi-join,
    /// from the distinct values on each side: at 1M contacts it expected
    /// 791,181 contacts of retail accounts with 1,000 employees and an open
    /// lead (there are 33,090), hashed all contacts and took 2.6 times as
    /// long as a join, whose estimate (29,996) follows the parent's
    /// selectivity and leads to the root's foreign-key index
    /// (benches/README.md, `path_nested_has`).
    fn joins_required_parents(&self) -> bool {
        true
    }

    /// Under an `OR`, PostgreSQL keeps `EXISTS` as a subplan and costs it
    /// as probed per row even where it hashes it, and the inflated cost
    /// led its planner to a walk of the contact's key index at random
    /// (`negated_has` at 1M contacts: 5.5 s, 2.2 s with the set joined).
    fn joins_has_under_or(&self) -> bool {
        true
    }

    /// Where the whole `WHERE` is an `OR` with a subquery, no index finds
    /// its rows, and the costs that misled the planner above mislead
    /// nothing: the table is scanned either way. A correlated `EXISTS`
    /// there is planned as a subplan with two forms, hashed once (when the
    /// set fits in `work_mem`) or probed per row through the child's
    /// foreign-key index (when it does not), never a set searched again
    /// for every row; and it is probed only for the rows the field tests,
    /// written first, did not take. A joined set is built and probed for
    /// every row. At 1M contacts, `wide_or_50` took 3.4-3.7 s this way,
    /// 5.0-8.4 s with its sets joined; a set too big to hash, probed for
    /// most rows, is slower than joined (benches/README.md, "PostgreSQL's
    /// wide `or`s scanned").
    fn scans_for_a_root_or(&self) -> bool {
        true
    }

    /// The subplans of a scan are hashed only where their sets fit in
    /// `work_mem`, and probed per row otherwise: at 1M contacts `has
    /// lead(status = "Open") or has interaction(type = "Email Opened")`
    /// (375,000 and 500,000 contacts) probed two indexes for 1.5M rows,
    /// 6.0 s, where one list of keys, a hash semi-join, took 2.3 s
    /// (benches/README.md, "PostgreSQL's wide `or`s scanned").
    fn lists_an_or_of_children(&self) -> bool {
        true
    }

    /// JIT compiling off, as for [`Dialect::settings_for_rare_fallbacks`]:
    /// the subplans are costed as probed per row even where they are hashed
    /// once (`wide_or_50`'s cost came to 24M, and compiling took 0.64 s of
    /// its 4.4 s at 1M contacts).
    fn settings_for_root_or_subqueries(&self) -> &'static [(&'static str, &'static str)] {
        &[("jit", "off")]
    }

    /// The rows of an `OR` ([`Selection::Disjunction`]) are sorted:
    /// `COALESCE(key, key)` orders as the key does, but no index delivers
    /// it. With the plain key, PostgreSQL read all 1M contacts of
    /// `wide_or` in key order through the primary key's index, at random,
    /// to keep 78% of them: 2.6-3.2 s, against 1.1-1.4 s for a scan and a
    /// sort of the hits. Elsewhere the planner's choice stands: a sort
    /// forced for every shape made the aggregates' merge joins over the
    /// key order 2.2-2.5 times as slow.
    fn order_by_key(&self, key: &str, selection: Selection) -> String {
        match selection {
            Selection::Disjunction => format!("COALESCE({key}, {key})"),
            Selection::All | Selection::KeyList | Selection::Filter => key.to_string(),
        }
    }

    /// The database's default collation may order text linguistically
    /// (`"a" < "Z"`); `"C"` orders by byte, which for UTF-8 is code point.
    fn text_for_ordering(&self, expr: &str) -> String {
        [expr, " COLLATE \"C\""].concat()
    }

    /// `lower()` follows the collation's character classes: under a
    /// linguistic collation it also folds `É`. Under `"C"` it folds ASCII only.
    fn fold_ascii_case(&self, expr: &str) -> String {
        ["lower(", expr, " COLLATE \"C\")"].concat()
    }

    fn text_starts_with(&self, haystack: &str, needle: &str) -> String {
        ["starts_with(", haystack, ", ", needle, ")"].concat()
    }

    /// The generic form (the test of [`Dialect::fold_ascii_case`] of the
    /// column), written in place: the generic default built two strings
    /// per text test.
    fn push_text_test(
        &self,
        op: TextOp,
        column: &str,
        _needle: &str,
        params: &[String],
        out: &mut String,
    ) {
        let needle = params.first().map_or("NULL", String::as_str);
        let folded = ["lower(", column, " COLLATE \"C\")"];
        let (before, after): (&[&str], &[&str]) = match op {
            TextOp::Contains => (&["position(", needle, " IN "], &[") > 0"]),
            TextOp::StartsWith => (&["starts_with("], &[", ", needle, ")"]),
            TextOp::EndsWith => (&["right("], &[", length(", needle, ")) = ", needle]),
        };
        for part in before.iter().chain(&folded).chain(after) {
            out.push_str(part);
        }
    }

    /// `lower()` then runs once per row for all the needles, where each
    /// `starts_with(lower(..), ..)` ran its own (benches/README.md,
    /// "PostgreSQL's `starts with`s of one column at once").
    fn tests_prefixes_at_once(&self) -> bool {
        true
    }

    /// `left(..)`, in the form measured.
    fn text_prefix(&self, haystack: &str, length: &str) -> String {
        ["left(", haystack, ", ", length, ")"].concat()
    }

    fn text_ends_with(&self, haystack: &str, needle: &str) -> String {
        format!("right({haystack}, length({needle})) = {needle}")
    }

    /// The double's own value, every binary digit of it, as a `numeric`
    /// (SPEC §2.5: the sum of the doubles, not of their decimal forms).
    /// Neither way PostgreSQL offers is exact: a cast keeps 15 significant
    /// digits (`0.30000000000000004` becomes `0.3`), and the text form is the
    /// shortest decimal that reads back as the double, so `0.1` and `0.7`
    /// would sum to `0.8` where the doubles sum to `0.7999999999999999`.
    /// See [`exact_double`].
    fn exact_decimal(&self, column: &str) -> String {
        exact_double(column)
    }

    /// The exact sum costs 1.5-1.7x a `SUM` of doubles at 1M contacts.
    fn checks_decimal_sums(&self) -> bool {
        true
    }

    /// JIT compiling off: the planner costs the exact sum's correlated
    /// subquery for every group, which takes the query past
    /// `jit_inline_above_cost`, and inlining and optimizing that subquery
    /// (and the rest) took 1.2 s of a 3 s query at 1M contacts where the
    /// subquery never ran.
    fn settings_for_rare_fallbacks(&self) -> &'static [(&'static str, &'static str)] {
        &[("jit", "off")]
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

/// `x`, a finite double, is an integer `n` below 2^55 times 2^-k, with `k`
/// from the binary exponent (`53 - floor(log2 |x|)`; the float logarithm
/// may be one off near a power of two, which only moves `n` within
/// [2^52, 2^55)). Scaling by powers of two is exact, so `n` is `x * 2^k`
/// cast to `bigint`; the power is applied in two halves because 2^k alone
/// can leave the range of doubles. Then `n * 2^-k` in `numeric`: for
/// `k >= 0` as `n * 5^k / 10^k`, the quotient kept to `k` places by
/// rounding the dividend to them first. (PostgreSQL keeps at most 1,000
/// places, so values below about 1e-285 lose digits past the 1,000th.)
/// Zero is zero; infinities and NaN, which `numeric` holds too, go
/// through their text.
fn exact_double(x: &str) -> String {
    let k = format!("(53 - CAST(floor(ln(abs({x})) / 0.6931471805599453) AS integer))");
    let two = "CAST(2 AS double precision)";
    let n = format!("CAST({x} * power({two}, {k} / 2) * power({two}, {k} - {k} / 2) AS bigint)");
    format!(
        "CASE WHEN {x} = 0 THEN CAST(0 AS numeric) \
         WHEN NOT abs({x}) < CAST('Infinity' AS double precision) THEN CAST(CAST({x} AS text) AS numeric) \
         WHEN {k} >= 0 THEN round({n} * power(CAST(5 AS numeric), {k}), {k}) / power(CAST(10 AS numeric), {k}) \
         ELSE {n} * power(CAST(2 AS numeric), -{k}) END"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text tests written in place are the generic forms built from
    /// PostgreSQL's pieces (`text_contains`, `text_starts_with` and
    /// `text_ends_with` of `fold_ascii_case`).
    #[test]
    fn text_tests_written_in_place_are_the_forms_built_from_their_pieces() {
        let (col, p) = ("t0.email", ["$7".to_string()]);
        let folded = Postgres.fold_ascii_case(col);
        for op in [TextOp::Contains, TextOp::StartsWith, TextOp::EndsWith] {
            let expected = match op {
                TextOp::Contains => Postgres.text_contains(&folded, "$7"),
                TextOp::StartsWith => Postgres.text_starts_with(&folded, "$7"),
                TextOp::EndsWith => Postgres.text_ends_with(&folded, "$7"),
            };
            let mut out = String::from("x = 1 AND ");
            Postgres.push_text_test(op, col, "mail", &p, &mut out);
            assert_eq!(out, format!("x = 1 AND {expected}"), "{op:?}");
            assert_eq!(Postgres.text_test(op, col, "mail", &p), expected);
        }
    }
}
