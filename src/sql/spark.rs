//! The Spark SQL dialect (Apache Spark 4): named `:pN` parameter markers,
//! backtick-quoted identifiers, and spellings that keep SPEC §2.3 where
//! Spark's own functions would not (Unicode-aware `lower()`, floating-point
//! sums whose result depends on the order rows arrive in).
//!
//! `segql run --db sc://HOST:PORT` runs it through Spark Connect
//! (`src/db/spark_connect.rs`, cargo feature `spark`); any other program
//! runs it with `spark.sql(sql, args)` (PySpark, Spark Connect). What a
//! driver must do is written on [`Spark`].

use super::dialect::{push_decimal, Dialect};
use super::SqlParam;
use crate::schema::FieldType;

/// Spark SQL, Spark 4.0 or later, in its default ANSI mode.
///
/// **Parameters.** Named markers, `:p1`, `:p2`, …: `params[0]` is bound as
/// `p1`, and so on (`args = {"p1": params[0], ...}`). Named rather than
/// positional `?`, because the generator may use one parameter twice and
/// does not promise to bind them in text order. Every value is a plain
/// JSON scalar of `compile --format json` (string, integer, float,
/// boolean); date and date-time markers are cast in the SQL text
/// (`CAST(:p1 AS DATE)`, `CAST(:p2 AS TIMESTAMP)`), so their ISO text
/// (`2026-01-15`, `2026-01-15T12:00:00Z`) binds as it is.
///
/// **What the driver pins.** The session time zone is UTC
/// (`spark.sql.session.timeZone=UTC`), so that date-times read and shown
/// without an offset mean UTC as in SQLite and PostgreSQL (date-time
/// parameters carry their `Z` and do not depend on it). ANSI mode stays on
/// (`spark.sql.ansi.enabled=true`, Spark 4's default): a sum that leaves
/// the i64 range is then an error rather than NULL.
///
/// **NULLs.** Negated comparisons use the generic `IS DISTINCT FROM`,
/// which Spark reads as `NOT (a <=> b)`, its null-safe equality.
///
/// **Text.** Spark's default collation, `UTF8_BINARY`, compares the bytes
/// of UTF-8, which is code-point order, so ordering and `=` need nothing
/// more, on columns that keep that default (as segql's export writes them).
/// `contains`, `startswith` and `endswith` match exactly, no character of
/// the pattern being a wildcard.
///
/// **Storage.** uuids as `STRING` (lowercase hyphenated), choices as `INT`
/// codes, dates as `DATE`, date-times as `TIMESTAMP` (an instant, UTC),
/// decimals as `DOUBLE`.
///
/// The statements of the data-changing operations (temporary tables,
/// indexes) keep the generic forms: Spark has no transactions, and segql
/// runs no operation on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spark;

/// ASCII capitals and their lowercase letters, in the same order, for
/// `translate`.
const ASCII_UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ASCII_LOWER: &str = "abcdefghijklmnopqrstuvwxyz";

impl Dialect for Spark {
    fn name(&self) -> &'static str {
        "spark"
    }

    fn placeholder(&self, n: usize) -> String {
        format!(":p{n}")
    }

    /// Dates and date-times are sent as their ISO text; the cast makes the
    /// marker typed whatever the driver binds.
    fn typed_placeholder(&self, n: usize, param: &SqlParam) -> String {
        match param {
            SqlParam::Date(_) => format!("CAST({} AS DATE)", self.placeholder(n)),
            SqlParam::DateTime(_) => format!("CAST({} AS TIMESTAMP)", self.placeholder(n)),
            _ => self.placeholder(n),
        }
    }

    /// [`Dialect::typed_placeholder`], written in place.
    fn push_placeholder(&self, n: usize, param: &SqlParam, out: &mut String) {
        let cast = match param {
            SqlParam::Date(_) => Some(" AS DATE)"),
            SqlParam::DateTime(_) => Some(" AS TIMESTAMP)"),
            _ => None,
        };
        if cast.is_some() {
            out.push_str("CAST(");
        }
        out.push_str(":p");
        push_decimal(out, n);
        if let Some(cast) = cast {
            out.push_str(cast);
        }
    }

    /// Always in backticks (a backtick inside doubled): Spark's reserved
    /// words differ from the other databases' and depend on its ANSI mode.
    fn quote_ident(&self, name: &str) -> String {
        format!("`{}`", name.replace('`', "``"))
    }

    fn uuid_param(&self, value: uuid::Uuid) -> SqlParam {
        SqlParam::Text(value.hyphenated().to_string())
    }

    /// Spark's `lower()` is Unicode-aware (it folds `É`); `translate` maps
    /// the 26 ASCII capitals and leaves every other character alone.
    fn fold_ascii_case(&self, expr: &str) -> String {
        format!("translate({expr}, '{ASCII_UPPER}', '{ASCII_LOWER}')")
    }

    fn text_contains(&self, haystack: &str, needle: &str) -> String {
        format!("contains({haystack}, {needle})")
    }

    fn text_starts_with(&self, haystack: &str, needle: &str) -> String {
        format!("startswith({haystack}, {needle})")
    }

    fn text_ends_with(&self, haystack: &str, needle: &str) -> String {
        format!("endswith({haystack}, {needle})")
    }

    /// Spark rewrites an `IN (SELECT ...)` under `OR` into an existence
    /// join, computed once like a semi-join.
    fn in_subquery_under_or(&self) -> bool {
        true
    }

    /// Summed as `DECIMAL(38, 0)`, exact for any number of i64 values that
    /// fits a cluster; the cast back to `BIGINT` fails (ANSI mode) when the
    /// total leaves the i64 range. Summed as `BIGINT`, Spark would fail on
    /// a partial sum out of range even when the total is not.
    fn sum_integers(&self, column: &str) -> String {
        format!("CAST(COALESCE(SUM(CAST({column} AS DECIMAL(38, 0))), 0) AS BIGINT)")
    }

    /// Spark's `DECIMAL` holds 38 digits, too few for doubles (`1e300`), so
    /// decimals stay doubles and [`Dialect::sum_decimals`] compensates.
    fn exact_decimal(&self, column: &str) -> String {
        format!("CAST({column} AS DOUBLE)")
    }

    /// A compensated (Neumaier) sum, as SQLite's `TOTAL`: correctly rounded
    /// but in rare cases, and unlike Spark's `SUM` of doubles it does not
    /// lose small values beside large ones (`1e300 + 0.5 - 1e300`). 0 for
    /// no values.
    fn sum_decimals(&self, column: &str) -> String {
        neumaier_sum(&self.exact_decimal(column))
    }

    /// The exact sum as a double divided by the count of values: rounded
    /// once while the sum is below 2^53 in size, as in SQLite. NULL for no
    /// values (the sum is NULL then).
    fn avg_integers(&self, column: &str) -> String {
        format!("CAST(SUM(CAST({column} AS DECIMAL(38, 0))) AS DOUBLE) / COUNT({column})")
    }

    /// The compensated sum over the count of values; NULL for no values
    /// (`NULLIF`, since ANSI mode fails on a division by zero).
    fn avg_decimals(&self, column: &str) -> String {
        format!(
            "{} / NULLIF(COUNT({column}), 0)",
            neumaier_sum(&self.exact_decimal(column))
        )
    }

    /// The error of [`Spark::sum_integers`]' cast (ANSI mode), or of a
    /// decimal sum out of its 38 digits.
    fn is_sum_overflow(&self, error: &str) -> bool {
        error.contains("CAST_OVERFLOW") || error.contains("ARITHMETIC_OVERFLOW")
    }

    fn column_type(&self, ty: &FieldType) -> &'static str {
        match ty {
            FieldType::Uuid | FieldType::Text => "STRING",
            FieldType::Integer => "BIGINT",
            FieldType::Choice(_) => "INT",
            FieldType::Decimal => "DOUBLE",
            FieldType::Bool => "BOOLEAN",
            FieldType::Date => "DATE",
            FieldType::DateTime => "TIMESTAMP",
        }
    }

    /// Spark resolves column names case-insensitively (by default).
    fn same_column_name(&self, found: &str, wanted: &str) -> bool {
        found.eq_ignore_ascii_case(wanted)
    }

    /// Spark string literals read backslash escapes, so a backslash is
    /// escaped as well as the quote.
    fn literal(&self, value: &SqlParam) -> String {
        let text = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"));
        match value {
            SqlParam::Bool(b) => b.to_string(),
            SqlParam::Integer(i) => i.to_string(),
            SqlParam::Real(x) => format!("{x:?}D"),
            SqlParam::Text(s) => text(s),
            SqlParam::Uuid(u) => text(&u.hyphenated().to_string()),
            SqlParam::Date(d) => format!("DATE {}", text(&d.to_string())),
            SqlParam::DateTime(t) => format!(
                "TIMESTAMP {}",
                text(&t.format(super::sqlite::DATETIME_FORMAT).to_string())
            ),
        }
    }
}

/// The Neumaier-compensated sum of the non-NULL doubles `value` of a group
/// (0 for none), as an aggregate expression: the group's values collected
/// and folded with a running sum `s` and its lost low-order part `c`.
fn neumaier_sum(value: &str) -> String {
    let step = "CASE WHEN abs(a.s) >= abs(x) THEN (a.s - (a.s + x)) + x \
                ELSE (x - (a.s + x)) + a.s END";
    format!(
        "aggregate(collect_list({value}), \
         named_struct('s', CAST(0 AS DOUBLE), 'c', CAST(0 AS DOUBLE)), \
         (a, x) -> named_struct('s', a.s + x, 'c', a.c + {step}), \
         a -> a.s + a.c)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_backticked_with_backticks_doubled() {
        assert_eq!(Spark.quote_ident("contact"), "`contact`");
        assert_eq!(Spark.quote_ident("odd`name"), "`odd``name`");
    }

    #[test]
    fn markers_are_named_and_dates_typed() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        assert_eq!(Spark.placeholder(3), ":p3");
        assert_eq!(
            Spark.typed_placeholder(2, &SqlParam::Date(day)),
            "CAST(:p2 AS DATE)"
        );
        assert_eq!(Spark.typed_placeholder(1, &SqlParam::Integer(5)), ":p1");
    }

    #[test]
    fn literals_escape_backslashes_and_quotes() {
        assert_eq!(
            Spark.literal(&SqlParam::Text(r"it's a \ ".into())),
            r"'it\'s a \\ '"
        );
        assert_eq!(Spark.literal(&SqlParam::Real(2.0)), "2.0D");
    }
}
