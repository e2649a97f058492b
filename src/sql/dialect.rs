//! The one [`Dialect`] trait: everything the SQL generator needs to know about
//! a database, as capability methods with generic defaults.
//!
//! The generator, the DDL of `demo` and the statements of `ops` only ever
//! call these methods; none of them asks which database it targets. A dialect
//! overrides only what differs from the generic form, so adding a database is
//! one file with one unit struct (and a driver in `crate::db` to run it).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::SqlParam;
use crate::plan::TextOp;
use crate::schema::FieldType;

/// The characters trimmed around emails: ASCII whitespace (space, tab, line
/// feed, form feed, carriage return), as `u8::is_ascii_whitespace`.
pub(crate) const TRIM_CODES: [u8; 5] = [32, 9, 10, 12, 13];

/// How a query's `WHERE` picks the root's records, for the `ORDER BY`
/// that returns them in key order ([`Dialect::order_by_key`]): whether an
/// index walk in key order can serve it, or a sort of the hits should.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// No `WHERE`: every record.
    All,
    /// `key IN (SELECT ...)` and nothing else: the records are searched
    /// key by key from the subquery's list, in key order.
    KeyList,
    /// An `OR` written for a scan of the root's table
    /// ([`Dialect::scans_for_a_root_or`]).
    Disjunction,
    /// Any other `WHERE`.
    Filter,
}

/// How one database spells the pieces of a query. `Sync`, so a deep plan can
/// be compiled on a thread of its own.
///
/// Every method that builds an expression receives its operands already
/// rendered as SQL text (a column like `t0.email`, a placeholder like `?2`)
/// and returns SQL text. Text operands passed to the `text_*` methods are
/// never NULL when the generator relies on the result.
pub trait Dialect: Sync {
    /// A short name for messages and docs, e.g. `sqlite`.
    fn name(&self) -> &'static str;

    /// The placeholder of the `n`-th bind parameter (1-based). Numbered, so
    /// one parameter can be used several times in a statement.
    fn placeholder(&self, n: usize) -> String;

    /// The placeholder of parameter `n` where a query uses it, given its
    /// value. Generic: [`Dialect::placeholder`]. A dialect whose drivers
    /// may bind a value untyped (a date as its ISO text) types the marker
    /// here, with a cast.
    fn typed_placeholder(&self, n: usize, _param: &SqlParam) -> String {
        self.placeholder(n)
    }

    /// Appends [`Dialect::typed_placeholder`] to `out`. Generic: through
    /// that string. A dialect whose markers are a prefix and the number
    /// writes them in place: a segment of 10,000 nodes wrote some 6,000
    /// placeholders, each a string of its own, only to copy them into its
    /// conditions.
    fn push_placeholder(&self, n: usize, param: &SqlParam, out: &mut String) {
        out.push_str(&self.typed_placeholder(n, param));
    }

    /// An identifier (table or column name from the schema) as SQL text.
    /// Plain lowercase names that are not keywords stay bare, for readable
    /// SQL; anything else is double-quoted, which both SQLite and PostgreSQL
    /// (and the SQL standard) accept.
    fn quote_ident(&self, name: &str) -> String {
        if is_plain_ident(name) {
            name.to_string()
        } else {
            format!("\"{}\"", name.replace('"', "\"\""))
        }
    }

    /// The literal for a constant truth value, e.g. a filter that is always
    /// false after simplification.
    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "TRUE"
        } else {
            "FALSE"
        }
    }

    /// A bool parameter as the database stores it.
    fn bool_param(&self, value: bool) -> SqlParam {
        SqlParam::Bool(value)
    }

    /// A date parameter as the database stores it.
    fn date_param(&self, value: NaiveDate) -> SqlParam {
        SqlParam::Date(value)
    }

    /// A date-time (UTC, whole seconds) parameter as the database stores it.
    fn datetime_param(&self, value: DateTime<Utc>) -> SqlParam {
        SqlParam::DateTime(value)
    }

    /// A uuid parameter as the database stores it.
    fn uuid_param(&self, value: Uuid) -> SqlParam {
        SqlParam::Uuid(value)
    }

    /// Text `expr` prepared for an ordering comparison (`<`, `between`) by
    /// Unicode code point. Byte order of UTF-8 is code-point order, so the
    /// generic form is the expression itself (databases compare text
    /// bytewise by default).
    fn text_for_ordering(&self, expr: &str) -> String {
        expr.to_string()
    }

    /// Text `expr` with ASCII letters (and only those) lowercased. The
    /// generic form is `lower()`, right for databases whose `lower()` folds
    /// only ASCII.
    fn fold_ascii_case(&self, expr: &str) -> String {
        ["lower(", expr, ")"].concat()
    }

    /// True when `needle` occurs in `haystack` (both text, compared exactly;
    /// no character is a wildcard).
    fn text_contains(&self, haystack: &str, needle: &str) -> String {
        ["position(", needle, " IN ", haystack, ") > 0"].concat()
    }

    /// True when `haystack` begins with `needle` (exact, no wildcards).
    fn text_starts_with(&self, haystack: &str, needle: &str) -> String {
        format!("substr({haystack}, 1, length({needle})) = {needle}")
    }

    /// True when `haystack` ends with `needle` (exact, no wildcards).
    /// Generic form: the last `length(needle)` characters; when the needle
    /// is longer, the substring is shorter than the needle and differs.
    fn text_ends_with(&self, haystack: &str, needle: &str) -> String {
        format!("substr({haystack}, length({haystack}) - length({needle}) + 1) = {needle}")
    }

    /// The parameters `op` with `needle` (ASCII-lowercased, never empty)
    /// binds, in order; [`Dialect::text_test`] receives their placeholders.
    /// Generic: the needle alone.
    fn text_test_params(&self, _op: TextOp, needle: &str) -> Vec<SqlParam> {
        vec![SqlParam::Text(needle.to_string())]
    }

    /// Whether the `starts with` tests of one column under one `OR` are
    /// written as one test, [`Dialect::starts_with_any`]: the column is
    /// folded once per row, not once per test. Generic: each alone.
    fn tests_prefixes_at_once(&self) -> bool {
        false
    }

    /// True when the text `column`, ASCII letters folded, begins with one
    /// of the needles whose placeholders are `needles` (ASCII-lowercased,
    /// never empty, all of one length, in characters and in bytes): its
    /// first `length(needle)` characters are one of them. NULL for a NULL
    /// column, as an `OR` of [`Dialect::text_test`]s is; false for no
    /// needles, as an empty `OR` is.
    fn starts_with_any(&self, column: &str, needles: &[&str]) -> String {
        let Some(first) = needles.first() else {
            return self.bool_literal(false).to_string();
        };
        let length = ["length(", first, ")"].concat();
        let mut sql = self.text_prefix(&self.fold_ascii_case(column), &length);
        sql.push_str(" IN (");
        sql.push_str(&needles.join(", "));
        sql.push(')');
        sql
    }

    /// The first `length` characters of the text `haystack` (all of it
    /// where it is shorter). Generic: `substr`.
    fn text_prefix(&self, haystack: &str, length: &str) -> String {
        ["substr(", haystack, ", 1, ", length, ")"].concat()
    }

    /// Appends `op` on the text `column`, with the placeholders of the
    /// parameters [`Dialect::text_test_params`] gave for `needle`, to
    /// `out`: true when the column's value, ASCII letters folded,
    /// contains, starts or ends with the needle (every character
    /// literal). NULL or false for a NULL column. Written in place, as a
    /// segment can hold a text test per node. Generic:
    /// [`Dialect::fold_ascii_case`] of the column, then `text_contains`,
    /// `text_starts_with` or `text_ends_with`.
    fn push_text_test(
        &self,
        op: TextOp,
        column: &str,
        _needle: &str,
        params: &[String],
        out: &mut String,
    ) {
        let folded = self.fold_ascii_case(column);
        let needle = params.first().map_or("NULL", String::as_str);
        out.push_str(&match op {
            TextOp::Contains => self.text_contains(&folded, needle),
            TextOp::StartsWith => self.text_starts_with(&folded, needle),
            TextOp::EndsWith => self.text_ends_with(&folded, needle),
        });
    }

    /// [`Dialect::push_text_test`]'s test as a string of its own. A
    /// dialect writes its forms in `push_text_test`; this only gathers
    /// them.
    fn text_test(&self, op: TextOp, column: &str, needle: &str, params: &[String]) -> String {
        let mut out = String::new();
        self.push_text_test(op, column, needle, params, &mut out);
        out
    }

    /// Why text values holding U+0000 (the NUL character) cannot be sent,
    /// or `None` when the database stores and compares them like any other
    /// character (the generic case). A query literal or a value to store
    /// holding one is then refused before anything is sent.
    fn text_refuses_nul(&self) -> Option<&'static str> {
        None
    }

    /// True when `lhs` differs from `rhs`, either of which may be NULL,
    /// counting exactly one NULL as different: never NULL itself. The
    /// generic form is the SQL standard's.
    fn null_safe_not_equal(&self, lhs: &str, rhs: &str) -> String {
        format!("{lhs} IS DISTINCT FROM {rhs}")
    }

    /// Whether an uncorrelated `x IN (SELECT ...)` stays fast where the
    /// planner cannot make it a semi-join: under `OR`. Where it may not
    /// (the default), a `has` under `OR` is written as a correlated
    /// `EXISTS` or `COUNT(*)`, which probes the foreign-key index once per
    /// row. PostgreSQL, for one, hashes such a subquery only when its rows
    /// fit in `work_mem`, and otherwise rescans them for every outer row.
    fn in_subquery_under_or(&self) -> bool {
        false
    }

    /// Whether the `IN (SELECT ...)` lists of one column under one `OR`
    /// ([`Dialect::in_subquery_under_or`]) are written as one list, their
    /// `SELECT`s joined by `UNION ALL`: the list is built once and each
    /// row searched in it once. Generic: one list each.
    fn unions_lists_under_or(&self) -> bool {
        false
    }

    /// Whether a parent every selected record must have -- a `has` over a
    /// many-to-one link among the root's top-level `and` -- is joined to
    /// the root's table (`JOIN account AS p1 ON p1.id = t0.account_id`)
    /// rather than found with `t0.account_id IN (SELECT ...)`. Both mean
    /// the same, for a parent's key is unique; they differ in what the
    /// planner estimates. Generic: `IN`, which SQLite answers by searching
    /// the root's foreign-key index key by key from the subquery's list.
    fn joins_required_parents(&self) -> bool {
        false
    }

    /// Whether a `has` (or `has no`, or a counted `has`) of the root's
    /// children under an `OR` of the root's `WHERE` is a set of the root's
    /// keys, made distinct (or grouped by their count) once and LEFT
    /// JOINed (see `Generator::joined_keys_test`), rather than the
    /// subquery [`Dialect::in_subquery_under_or`] picks. Generic: that
    /// subquery (SQLite's `IN`, whose list it builds once, or a correlated
    /// `COUNT(*)`).
    fn joins_has_under_or(&self) -> bool {
        false
    }

    /// Whether a query whose root `WHERE` is an `OR` is written for a scan
    /// of the root's table: each `has` of the root's children under it a
    /// correlated `[NOT] EXISTS` (a counted one over the groups that pass,
    /// see [`Dialect::joins_has_under_or`] for the alternative), the tests
    /// of the row's own columns before the subqueries, and the order a
    /// sort of the hits ([`Selection::Disjunction`]). The rows of such an
    /// `OR` come from a scan of the table (or a bitmap of several indexes),
    /// never in key order; a subquery is then probed only for the rows the
    /// cheaper tests left. Generic: written as any other `WHERE`.
    fn scans_for_a_root_or(&self) -> bool {
        false
    }

    /// Whether a root `WHERE` that is an `OR` of `has` of the root's
    /// children alone, each needing a related row, is written as one list
    /// of the root's keys (`t0.id IN (SELECT .. UNION ALL SELECT ..)`):
    /// no `OR` is left, and the list is a semi-join of any size. Generic:
    /// as any other `OR`.
    fn lists_an_or_of_children(&self) -> bool {
        false
    }

    /// Session settings for a root `OR` with subqueries, written for a
    /// scan ([`Dialect::scans_for_a_root_or`]). Generic: none.
    fn settings_for_root_or_subqueries(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    // Aggregates over a group of related rows (SPEC §2.5). Each takes a
    // column and returns an aggregate expression; the generic forms are the
    // SQL standard's, exact where the standard leaves precision open.

    /// The sum of an integer column: 0 when the group has no values, and a
    /// database error -- never a wrapped or rounded value -- when it leaves
    /// the i64 range. Generic: `SUM` (exact, or failing), cast to `bigint`,
    /// which fails out of range.
    fn sum_integers(&self, column: &str) -> String {
        format!("CAST(COALESCE(SUM({column}), 0) AS bigint)")
    }

    /// A decimal column's values as exact numbers, so that a sum or mean
    /// rounds to a double once, at the end.
    fn exact_decimal(&self, column: &str) -> String {
        format!("CAST({column} AS numeric)")
    }

    /// The sum of a decimal column as a double: 0 when the group has no
    /// values, otherwise as near the exact sum as the database can.
    fn sum_decimals(&self, column: &str) -> String {
        format!(
            "CAST(COALESCE(SUM({}), 0) AS double precision)",
            self.exact_decimal(column)
        )
    }

    /// Whether a decimal `sum` tested against constants is best summed as
    /// doubles, with the exact [`Dialect::sum_decimals`] only for the groups
    /// the doubles' error bound leaves in doubt (see `checked_sum.rs`):
    /// where the exact sum costs much more than a sum of doubles.
    fn checks_decimal_sums(&self) -> bool {
        false
    }

    /// Session settings for a query with a fallback that rarely runs (the
    /// exact sum of [`Dialect::checks_decimal_sums`]), which a planner
    /// costs as if it ran for every row.
    fn settings_for_rare_fallbacks(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The mean of an integer column as a double (never truncated to an
    /// integer); NULL when the group has no values.
    fn avg_integers(&self, column: &str) -> String {
        format!("CAST(AVG(CAST({column} AS numeric)) AS double precision)")
    }

    /// The mean of a decimal column as a double: the sum (as
    /// [`Dialect::sum_decimals`] has it) divided by the count of values;
    /// NULL when the group has no values (a NULL sum, which the strict
    /// division passes on without dividing by zero).
    fn avg_decimals(&self, column: &str) -> String {
        format!(
            "CAST(SUM({}) AS double precision) / COUNT({column})",
            self.exact_decimal(column)
        )
    }

    /// Whether `error`, a database's message for a query, is the one its
    /// [`Dialect::sum_integers`] raises when a sum leaves the i64 range.
    /// Generic: PostgreSQL's cast to `bigint`.
    fn is_sum_overflow(&self, error: &str) -> bool {
        error.contains("bigint out of range")
    }

    // Storage: the layout of SPEC §3.1, for DDL and data-changing statements.

    /// The column type a field is stored as. The generic form is the SQL
    /// standard's types in PostgreSQL's spelling.
    fn column_type(&self, ty: &FieldType) -> &'static str {
        match ty {
            FieldType::Uuid => "uuid",
            FieldType::Text => "text",
            FieldType::Integer | FieldType::Choice(_) => "bigint",
            FieldType::Decimal => "double precision",
            FieldType::Bool => "boolean",
            FieldType::Date => "date",
            FieldType::DateTime => "timestamptz",
        }
    }

    /// The definition (type and constraints) of an integer primary key
    /// column the database numbers itself: each inserted row gets a number
    /// above every number given before, none reused (`segment_change.seq`).
    /// Generic: the SQL standard's identity column.
    fn increasing_key_column(&self) -> &'static str {
        "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    }

    /// What follows the type of a text column (a collation, say).
    fn text_column_suffix(&self) -> &'static str {
        ""
    }

    /// Whether a column name found in the database's catalog is `wanted`.
    /// Generic: exact, as quoted identifiers are.
    fn same_column_name(&self, found: &str, wanted: &str) -> bool {
        found == wanted
    }

    /// A value as an SQL literal, for statements that cannot take
    /// parameters (DDL defaults, view definitions), in the form the
    /// database stores it (pass values through `*_param` first). Generic:
    /// text quoted with its quotes doubled, numbers as written, typed
    /// values cast from their text form.
    fn literal(&self, value: &SqlParam) -> String {
        generic_literal(value)
    }

    // The database's clock, for views (SPEC §7): relative times there are
    // read when the view is, not resolved when it is made. Each returns an
    // expression of the type the dialect stores the value as, in whole
    // seconds like the reference time of a run, so that a view read at
    // time T holds what `run --now T` finds. The generic forms are
    // PostgreSQL's: `now()` is the transaction's start, `today` the UTC date.

    /// The current date-time plus `seconds` (`now ± duration`).
    fn now_plus_seconds(&self, seconds: i64) -> String {
        format!("(date_trunc('second', now()){})", plus_interval(seconds))
    }

    /// Midnight UTC of the current date plus `seconds` (`today ± duration`
    /// on a date-time field).
    fn midnight_plus_seconds(&self, seconds: i64) -> String {
        format!(
            "(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'{})",
            plus_interval(seconds)
        )
    }

    /// The current UTC date plus `days` (`today ± duration` on a date field).
    fn today_plus_days(&self, days: i64) -> String {
        let sign = if days < 0 { '-' } else { '+' };
        format!(
            "(CAST(now() AT TIME ZONE 'UTC' AS date) {sign} {})",
            days.unsigned_abs()
        )
    }

    /// A bool as the database stores it, as an SQL literal.
    fn stored_bool(&self, value: bool) -> String {
        self.literal(&self.bool_param(value))
    }

    /// Placeholder `n` for a value sent as text (see `crate::db::Param`)
    /// and stored in a column of type `ty`.
    fn text_param(&self, n: usize, ty: &FieldType) -> String {
        format!("CAST({} AS {})", self.placeholder(n), self.column_type(ty))
    }

    /// `expr` with leading and trailing ASCII whitespace removed (and no
    /// other character).
    fn trim_ascii_whitespace(&self, expr: &str) -> String {
        let codes: Vec<String> = TRIM_CODES.iter().map(|c| format!("chr({c})")).collect();
        format!("btrim({expr}, {})", codes.join(" || "))
    }

    // Temporary tables: they live only in the connection's transaction and
    // vanish with a rollback or a killed process.

    /// A reference to the temporary table `name`.
    fn temp_table(&self, name: &str) -> String {
        format!("pg_temp.{name}")
    }

    /// Create temporary table `name` from a query.
    fn create_temp_as(&self, name: &str, select: &str) -> String {
        format!("CREATE TEMP TABLE {name} AS {select}")
    }

    /// The statement that gathers planner statistics on a filled temporary
    /// table, where the database needs one to plan joins on it well.
    /// Generic: none (SQLite plans these joins well without).
    fn analyze_temp_table(&self, _table: &str) -> Option<String> {
        None
    }

    /// An index on column `column` of temporary table `table`.
    fn create_temp_index(&self, table: &str, column: &str, unique: bool) -> String {
        let unique = if unique { "UNIQUE " } else { "" };
        format!(
            "CREATE {unique}INDEX ON {} ({column})",
            self.temp_table(table)
        )
    }

    /// A join whose left table must stay outermost: the join condition is an
    /// expression over the left table, which no index serves, so the right
    /// (small, indexed) table must be the inner one. Generic: a plain join,
    /// left to the planner.
    fn ordered_join(&self) -> &'static str {
        "JOIN"
    }

    /// The `ORDER BY` term that sorts the selected records by their key
    /// column `key`, picked as `selection` says. Generic: the column, left
    /// to the planner.
    fn order_by_key(&self, key: &str, _selection: Selection) -> String {
        key.to_string()
    }

    /// The `GROUP BY` term of an uncorrelated subquery that groups its rows
    /// by `key`, a foreign key column with an index, when the groups read
    /// other columns of each row too (`fetches_rows`: a filter, a join, an
    /// aggregated field) or not. Generic: the column, left to the planner.
    fn group_by_key(&self, key: &str, _fetches_rows: bool) -> String {
        key.to_string()
    }

    /// Appends [`Dialect::group_by_key`] to `out`. Generic: through that
    /// string. A dialect that writes the key, or the key with a prefix,
    /// writes it in place: a segment of 10,000 nodes wrote some 1,800
    /// grouped subqueries, each with a string for this term alone.
    fn push_group_by_key(&self, key: &str, fetches_rows: bool, out: &mut String) {
        out.push_str(&self.group_by_key(key, fetches_rows));
    }
}

/// The generic SQL literal of a value: text quoted with its quotes
/// doubled, numbers as written (a double as the shortest text that reads
/// back as the same double), typed values cast from their text form.
/// Dialects that override [`Dialect::literal`] fall back on it.
pub(crate) fn generic_literal(value: &SqlParam) -> String {
    let text = |s: &str| quote_text(s);
    match value {
        SqlParam::Bool(b) => b.to_string(),
        SqlParam::Integer(i) => i.to_string(),
        // Debug prints the shortest text that reads back as the same f64,
        // always with a decimal point or an exponent. Values from queries
        // are finite (the parser refuses others).
        SqlParam::Real(x) => format!("{x:?}"),
        SqlParam::Text(s) => text(s),
        SqlParam::Uuid(u) => format!("CAST({} AS uuid)", text(&u.hyphenated().to_string())),
        SqlParam::Date(d) => format!("DATE {}", text(&d.to_string())),
        SqlParam::DateTime(t) => format!(
            "TIMESTAMP WITH TIME ZONE {}",
            text(&t.format(super::sqlite::DATETIME_FORMAT).to_string())
        ),
    }
}

/// `s` between single quotes, each quote doubled (the SQL standard's only
/// escape in a string literal).
pub(crate) fn quote_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `prefix` followed by `n` in decimal (`?3`, `$12`): a placeholder,
/// written without the formatting machinery, since a segment of a few
/// thousand literals writes as many.
pub(crate) fn numbered(prefix: char, n: usize) -> String {
    let mut out = String::with_capacity(8);
    out.push(prefix);
    push_decimal(&mut out, n);
    out
}

/// Appends `n` in decimal to `out`, through `itoa`'s stack buffer rather
/// than the formatting machinery.
pub(crate) fn push_decimal(out: &mut String, n: usize) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// ` + INTERVAL 'n seconds'` (or `-`), nothing for 0 seconds.
fn plus_interval(seconds: i64) -> String {
    match seconds {
        0 => String::new(),
        s if s < 0 => format!(" - INTERVAL '{} seconds'", s.unsigned_abs()),
        s => format!(" + INTERVAL '{s} seconds'"),
    }
}

/// A name that needs no quoting in any dialect: lowercase ASCII letters,
/// digits and underscores, not starting with a digit, and not a keyword.
pub fn is_plain_ident(name: &str) -> bool {
    let bytes = name.as_bytes();
    let first_ok = bytes
        .first()
        .is_some_and(|&c| c.is_ascii_lowercase() || c == b'_');
    first_ok
        && bytes
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        && !is_reserved(name)
}

/// Whether `name` is one of the [`RESERVED`] words: compared with the
/// words of its first letter only. Every identifier the generator writes
/// passes here, and the binary search over all of them (eight string
/// comparisons a name) was a twentieth of the SQL stage.
fn is_reserved(name: &str) -> bool {
    let Some(letter) = name.bytes().next().filter(u8::is_ascii_lowercase) else {
        return false;
    };
    let letter = usize::from(letter - b'a');
    RESERVED[RESERVED_BY_LETTER[letter]..RESERVED_BY_LETTER[letter + 1]].contains(&name)
}

/// Where the [`RESERVED`] words of each letter start, `a` to `z`, and the
/// list's end: the words of letter `i` are `RESERVED[at[i]..at[i + 1]]`.
static RESERVED_BY_LETTER: [usize; 27] = reserved_by_letter();

const fn reserved_by_letter() -> [usize; 27] {
    let mut at = [RESERVED.len(); 27];
    // The first word of each letter, walking from the end.
    let mut i = RESERVED.len();
    while i > 0 {
        i -= 1;
        at[(RESERVED[i].as_bytes()[0] - b'a') as usize] = i;
    }
    // A letter without words starts (and ends) where the next one starts.
    let mut letter = 26;
    while letter > 0 {
        letter -= 1;
        if at[letter] > at[letter + 1] {
            at[letter] = at[letter + 1];
        }
    }
    at
}

/// Words reserved (or troublesome as bare names) in SQLite, PostgreSQL or
/// the SQL standard. A name in this list is quoted; quoting too much is
/// harmless, quoting too little breaks the query. Sorted and lowercase,
/// so that each letter's words lie together (a test keeps it so).
const RESERVED: &[&str] = &[
    "abort",
    "action",
    "add",
    "after",
    "all",
    "alter",
    "always",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "attach",
    "authorization",
    "autoincrement",
    "before",
    "begin",
    "between",
    "binary",
    "both",
    "by",
    "cascade",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "commit",
    "concurrently",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "database",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "do",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclude",
    "exclusive",
    "exists",
    "explain",
    "fail",
    "false",
    "fetch",
    "filter",
    "first",
    "following",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "generated",
    "glob",
    "grant",
    "group",
    "groups",
    "having",
    "if",
    "ignore",
    "ilike",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "instead",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "last",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "match",
    "materialized",
    "natural",
    "no",
    "not",
    "nothing",
    "notnull",
    "null",
    "nulls",
    "of",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "others",
    "outer",
    "over",
    "overlaps",
    "partition",
    "placing",
    "plan",
    "pragma",
    "preceding",
    "primary",
    "query",
    "raise",
    "range",
    "recursive",
    "references",
    "regexp",
    "reindex",
    "release",
    "rename",
    "replace",
    "restrict",
    "returning",
    "right",
    "rollback",
    "row",
    "rows",
    "savepoint",
    "select",
    "session_user",
    "set",
    "similar",
    "some",
    "symmetric",
    "table",
    "temp",
    "temporary",
    "then",
    "ties",
    "to",
    "trailing",
    "transaction",
    "trigger",
    "true",
    "unbounded",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "vacuum",
    "values",
    "variadic",
    "verbose",
    "view",
    "virtual",
    "when",
    "where",
    "window",
    "with",
    "without",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{Postgres, Sqlite};

    #[test]
    fn prefixes_at_once_compare_the_first_needles_length_and_no_needle_is_false() {
        assert_eq!(
            Postgres.starts_with_any("t0.city", &["$1", "$2"]),
            r#"left(lower(t0.city COLLATE "C"), length($1)) IN ($1, $2)"#
        );
        // SQLite keeps its own tests, but the generic form is SQL too.
        assert_eq!(
            Sqlite.starts_with_any("t0.city", &["?1"]),
            "substr(lower(t0.city), 1, length(?1)) IN (?1)"
        );
        for dialect in [&Postgres as &dyn Dialect, &Sqlite] {
            assert_eq!(
                dialect.starts_with_any("t0.city", &[]),
                dialect.bool_literal(false)
            );
        }
    }

    #[test]
    fn reserved_words_are_sorted_and_lowercase_for_the_search_by_letter() {
        assert!(RESERVED.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(RESERVED
            .iter()
            .all(|word| word.bytes().next().is_some_and(|c| c.is_ascii_lowercase())));
        assert!(!is_plain_ident("select") && !is_plain_ident("current_user"));
        assert!(is_plain_ident("contact") && is_plain_ident("job_title"));
    }

    #[test]
    fn the_search_by_letter_finds_exactly_the_reserved_words() {
        let listed = |name: &str| RESERVED.contains(&name);
        let mut names: Vec<String> = Vec::new();
        for word in RESERVED {
            // The word, and near misses: one letter more or less, the
            // letter before or after its first.
            names.push(word.to_string());
            names.push(format!("{word}s"));
            names.push(format!("_{word}"));
            names.push(word[..word.len() - 1].to_string());
            names.push(word[1..].to_string());
            for shift in [-1i8, 1] {
                let first = (word.as_bytes()[0] as i8 + shift) as u8;
                names.push(format!("{}{}", first as char, &word[1..]));
            }
        }
        let schema = crate::schema::crm_schema();
        for entity in &schema.entities {
            names.push(entity.table.clone());
            names.extend(entity.fields.iter().map(|field| field.column.clone()));
        }
        names.extend(["", "a", "z", "zz", "_", "t0", "grp"].map(String::from));
        for name in &names {
            assert_eq!(is_reserved(name), listed(name), "{name:?}");
        }
        // Every letter's range holds exactly the words of that letter.
        for (i, letter) in (b'a'..=b'z').enumerate() {
            let words = &RESERVED[RESERVED_BY_LETTER[i]..RESERVED_BY_LETTER[i + 1]];
            let expected = RESERVED
                .iter()
                .filter(|w| w.as_bytes()[0] == letter)
                .count();
            assert_eq!(words.len(), expected, "{}", letter as char);
            assert!(words.iter().all(|w| w.as_bytes()[0] == letter));
        }
    }

    #[test]
    fn literals_that_need_more_than_doubled_quotes() {
        use crate::sql::{Postgres, Sqlite};
        // SQLite reads SQL text up to the first U+0000 only.
        let nul = SqlParam::Text("a\0'b".into());
        assert_eq!(Sqlite.literal(&nul), "CAST(X'61002762' AS TEXT)");
        assert_eq!(Sqlite.literal(&SqlParam::Text("it's".into())), "'it''s'");
        // An escape string means the same whatever standard_conforming_strings is.
        let slash = SqlParam::Text("a\\'".into());
        assert_eq!(Postgres.literal(&slash), "E'a\\\\'''");
        assert_eq!(Sqlite.literal(&slash), "'a\\'''");
        let year0 = NaiveDate::from_ymd_opt(0, 2, 29).unwrap();
        assert_eq!(
            Postgres.literal(&SqlParam::Date(year0)),
            "DATE '0001-02-29 BC'"
        );
        assert_eq!(
            Postgres.literal(&SqlParam::DateTime(
                year0.and_hms_opt(1, 2, 3).unwrap().and_utc()
            )),
            "TIMESTAMP WITH TIME ZONE '0001-02-29 01:02:03+00 BC'"
        );
        assert_eq!(Postgres.literal(&SqlParam::Real(-0.1)), "-0.1");
        assert_eq!(Postgres.literal(&SqlParam::Real(1e300)), "1e300");
    }

    #[test]
    fn the_clock_in_each_dialect() {
        use crate::sql::{Postgres, Sqlite};
        assert_eq!(
            Sqlite.now_plus_seconds(-30),
            "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-30 seconds')"
        );
        assert_eq!(
            Sqlite.midnight_plus_seconds(86_400),
            "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', 'start of day', '+86400 seconds')"
        );
        assert_eq!(
            Sqlite.today_plus_days(0),
            "strftime('%Y-%m-%d', 'now', '+0 days')"
        );
        assert_eq!(
            Postgres.now_plus_seconds(-30),
            "(date_trunc('second', now()) - INTERVAL '30 seconds')"
        );
        assert_eq!(
            Postgres.now_plus_seconds(0),
            "(date_trunc('second', now()))"
        );
        assert_eq!(
            Postgres.midnight_plus_seconds(90),
            "(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + INTERVAL '90 seconds')"
        );
        assert_eq!(
            Postgres.today_plus_days(-7),
            "(CAST(now() AT TIME ZONE 'UTC' AS date) - 7)"
        );
    }

    #[test]
    fn placeholders_written_in_place_are_the_typed_ones() {
        use crate::sql::{Postgres, Spark, Sqlite};
        let day = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        let params = [
            SqlParam::Bool(true),
            SqlParam::Integer(7),
            SqlParam::Real(0.5),
            SqlParam::Text("x".into()),
            SqlParam::Uuid(Uuid::nil()),
            SqlParam::Date(day),
            SqlParam::DateTime(day.and_hms_opt(1, 2, 3).unwrap().and_utc()),
        ];
        for dialect in [&Sqlite as &dyn Dialect, &Postgres, &Spark] {
            for n in [1, 9, 10, 99, 100, 12_345] {
                for param in &params {
                    let mut out = String::from("t0.x = ");
                    dialect.push_placeholder(n, param, &mut out);
                    let typed = dialect.typed_placeholder(n, param);
                    assert_eq!(out, format!("t0.x = {typed}"), "{}", dialect.name());
                }
            }
        }
    }

    #[test]
    fn group_by_keys_written_in_place_are_the_dialects_own() {
        use crate::sql::{Postgres, Spark, Sqlite};
        for dialect in [&Sqlite as &dyn Dialect, &Postgres, &Spark] {
            for fetches_rows in [false, true] {
                let mut out = String::from("GROUP BY ");
                dialect.push_group_by_key("t1.contact_id", fetches_rows, &mut out);
                let term = dialect.group_by_key("t1.contact_id", fetches_rows);
                assert_eq!(out, format!("GROUP BY {term}"), "{}", dialect.name());
            }
        }
    }

    #[test]
    fn numbers_are_written_as_format_writes_them() {
        let mut cases: Vec<usize> = (0..=1_000).collect();
        cases.extend([9_999, 10_000, 123_456_789, u32::MAX as usize, usize::MAX]);
        for n in cases {
            assert_eq!(numbered('?', n), format!("?{n}"));
            let mut out = String::from("t");
            push_decimal(&mut out, n);
            assert_eq!(out, format!("t{n}"));
        }
    }

    #[test]
    fn plain_names_stay_bare_and_others_are_quoted() {
        assert!(is_plain_ident("first_name"));
        assert!(is_plain_ident("_x1"));
        assert!(!is_plain_ident("First_Name"));
        assert!(!is_plain_ident("1st"));
        assert!(!is_plain_ident("order"));
        assert!(!is_plain_ident(""));
        assert!(!is_plain_ident("a-b"));
    }
}
