//! The SQLite dialect: `?N` placeholders, and the storage of SPEC §3.1 —
//! bools as 0/1, uuids, dates and date-times as text.

use std::sync::OnceLock;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use uuid::Uuid;

use super::dialect::{generic_literal, numbered, push_decimal, Dialect, Selection, TRIM_CODES};
use super::SqlParam;
use crate::plan::TextOp;
use crate::schema::FieldType;

/// SQLite (3.35 or later). Its `lower()` folds ASCII letters only (without
/// the ICU extension), and text compares bytewise (`BINARY`), which is
/// code-point order for UTF-8, so the generic forms of those apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sqlite;

/// How SQLite stores a date-time: fixed-width UTC text, so text order is
/// time order.
pub const DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";
/// How SQLite stores a date.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// The items of `format`, as `format()` would read them, read once into
/// `cell`: chrono reads a format string anew on every use, which cost a
/// tenth of the SQL generator's time on segments of many dates.
fn format_items(
    cell: &'static OnceLock<Vec<Item<'static>>>,
    format: &'static str,
) -> &'static [Item<'static>] {
    cell.get_or_init(|| StrftimeItems::new(format).collect())
}

/// `date` as [`DATE_FORMAT`] writes it, followed by `time` as the rest of
/// [`DATETIME_FORMAT`] does, digit by digit: chrono's formatting machinery
/// took a twentieth of the SQL stage on segments of many dates. `None`
/// outside the years 0000 to 9999, where `%Y` adds a sign or a fifth digit
/// (left to chrono).
fn iso_text(date: NaiveDate, time: Option<NaiveTime>) -> Option<String> {
    let year = u32::try_from(date.year())
        .ok()
        .filter(|&year| year <= 9999)?;
    let mut out = String::with_capacity(20);
    push_digits(&mut out, year, 4);
    out.push('-');
    push_digits(&mut out, date.month(), 2);
    out.push('-');
    push_digits(&mut out, date.day(), 2);
    if let Some(time) = time {
        out.push('T');
        push_digits(&mut out, time.hour(), 2);
        out.push(':');
        push_digits(&mut out, time.minute(), 2);
        out.push(':');
        // chrono keeps a leap second as nanoseconds past 59, and `%S`
        // writes it as 60.
        let leap = u32::from(time.nanosecond() >= 1_000_000_000);
        push_digits(&mut out, time.second() + leap, 2);
        out.push('Z');
    }
    Some(out)
}

/// The last `width` decimal digits of `n`, zero-padded.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = n / 10u32.pow(place) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn placeholder(&self, n: usize) -> String {
        numbered('?', n)
    }

    fn push_placeholder(&self, n: usize, _param: &SqlParam, out: &mut String) {
        out.push('?');
        push_decimal(out, n);
    }

    fn bool_param(&self, value: bool) -> SqlParam {
        SqlParam::Integer(i64::from(value))
    }

    fn date_param(&self, value: NaiveDate) -> SqlParam {
        if let Some(text) = iso_text(value, None) {
            return SqlParam::Text(text);
        }
        static ITEMS: OnceLock<Vec<Item<'static>>> = OnceLock::new();
        let items = format_items(&ITEMS, DATE_FORMAT);
        SqlParam::Text(value.format_with_items(items.iter()).to_string())
    }

    fn datetime_param(&self, value: DateTime<Utc>) -> SqlParam {
        if let Some(text) = iso_text(value.date_naive(), Some(value.time())) {
            return SqlParam::Text(text);
        }
        static ITEMS: OnceLock<Vec<Item<'static>>> = OnceLock::new();
        let items = format_items(&ITEMS, DATETIME_FORMAT);
        SqlParam::Text(value.format_with_items(items.iter()).to_string())
    }

    fn uuid_param(&self, value: Uuid) -> SqlParam {
        SqlParam::Text(value.hyphenated().to_string())
    }

    /// Bytes, not characters: for TEXT, SQLite's `instr`, `substr` and
    /// `length` stop at the first U+0000, while `lower()` and `=` use the
    /// whole value. On BLOBs all of them count bytes, and a byte match of
    /// UTF-8 is a character match.
    fn text_contains(&self, haystack: &str, needle: &str) -> String {
        [
            "instr(CAST(",
            haystack,
            " AS BLOB), CAST(",
            needle,
            " AS BLOB)) > 0",
        ]
        .concat()
    }

    /// On bytes, as `text_contains`. `substr` of an empty BLOB is NULL, not
    /// an empty BLOB, hence the `coalesce` (the needle is never empty).
    fn text_starts_with(&self, haystack: &str, needle: &str) -> String {
        let needle = blob(needle);
        format!(
            "coalesce(substr({}, 1, length({needle})), X'') = {needle}",
            blob(haystack)
        )
    }

    /// On bytes, as `text_starts_with`. A negative start counts from the
    /// end. The generator never passes an empty needle (`substr(x, -0)`
    /// would be all of `x`).
    fn text_ends_with(&self, haystack: &str, needle: &str) -> String {
        let needle = blob(needle);
        format!(
            "coalesce(substr({}, -length({needle})), X'') = {needle}",
            blob(haystack)
        )
    }

    /// `LIKE` where it gives the answer, for it reads the row's text in
    /// place, where `lower()` copies it: SQLite's `LIKE` folds ASCII letters
    /// only, as SPEC §2.2 asks, but reads text only up to its first U+0000.
    /// At 1M contacts `contains` took 0.52 s so, against 0.60 s as the
    /// byte form and 0.38 s as `LIKE` alone, which is wrong on text
    /// holding U+0000 (benches/README.md, "Text search on SQLite"). A
    /// needle holding U+0000, or too long for SQLite's `LIKE` pattern
    /// limit, keeps the byte forms.
    fn text_test_params(&self, op: TextOp, needle: &str) -> Vec<SqlParam> {
        let needle_param = || SqlParam::Text(needle.to_string());
        match like_pattern(op, needle) {
            Some(pattern) if op == TextOp::Contains => {
                vec![SqlParam::Text(pattern), needle_param()]
            }
            Some(pattern) => vec![SqlParam::Text(pattern)],
            None => vec![needle_param()],
        }
    }

    /// - `contains`: `LIKE`, or, where the value holds U+0000 (so `LIKE`
    ///   saw only its start), the byte form. A match before the U+0000 is a
    ///   match of the whole value.
    /// - `starts with`: `LIKE` alone. A needle without U+0000 begins the
    ///   value exactly when it begins the value's text before its first
    ///   U+0000.
    /// - `ends with`: the value's last bytes, as many as the needle's, read
    ///   as text and compared `NOCASE`, which folds ASCII letters only and
    ///   copies nothing. `NOCASE` stops at a U+0000 of its left side; the
    ///   needle holds none, so such a byte there is still a difference.
    ///   An empty value's bytes are NULL, hence `X''`, which no text equals.
    ///
    /// The forms with `LIKE` and `NOCASE` are written from their pieces:
    /// building them from the generic pieces took four strings each. The
    /// byte form inside `contains` is [`Sqlite::text_contains`] of
    /// [`Dialect::fold_ascii_case`], written out.
    fn push_text_test(
        &self,
        op: TextOp,
        column: &str,
        needle: &str,
        params: &[String],
        out: &mut String,
    ) {
        let param = |i: usize| params.get(i).map_or("NULL", String::as_str);
        let bytes = || self.fold_ascii_case(column);
        let like = uses_like(op, needle);
        let parts: &[&str] = match op {
            TextOp::Contains if like => &[
                "(",
                column,
                " LIKE ",
                param(0),
                " ESCAPE '\\' OR (instr(",
                column,
                ", char(0)) > 0 AND instr(CAST(lower(",
                column,
                ") AS BLOB), CAST(",
                param(1),
                " AS BLOB)) > 0))",
            ],
            TextOp::StartsWith if like => &[column, " LIKE ", param(0), " ESCAPE '\\'"],
            TextOp::EndsWith if !needle.contains('\0') => &[
                "coalesce(CAST(substr(CAST(",
                column,
                " AS BLOB), -length(CAST(",
                param(0),
                " AS BLOB))) AS TEXT), X'') = ",
                param(0),
                " COLLATE NOCASE",
            ],
            TextOp::Contains => &[&self.text_contains(&bytes(), param(0))],
            TextOp::StartsWith => &[&self.text_starts_with(&bytes(), param(0))],
            TextOp::EndsWith => &[&self.text_ends_with(&bytes(), param(0))],
        };
        parts.iter().for_each(|part| out.push_str(part));
    }

    /// Text holding U+0000 as the BLOB of its UTF-8 bytes cast to text:
    /// SQLite reads SQL text only up to the first U+0000, so such a value
    /// cannot be written between quotes. Everything else is generic.
    fn literal(&self, value: &SqlParam) -> String {
        match value {
            SqlParam::Text(s) if s.contains('\0') => {
                let hex: String = s.bytes().map(|b| format!("{b:02X}")).collect();
                format!("CAST(X'{hex}' AS TEXT)")
            }
            other => generic_literal(other),
        }
    }

    /// The stored text form (`DATETIME_FORMAT`) of the clock's time,
    /// whole seconds; SQLite's `'now'` is fixed for the statement.
    fn now_plus_seconds(&self, seconds: i64) -> String {
        format!("strftime('{DATETIME_FORMAT}', 'now', '{seconds:+} seconds')")
    }

    fn midnight_plus_seconds(&self, seconds: i64) -> String {
        format!("strftime('{DATETIME_FORMAT}', 'now', 'start of day', '{seconds:+} seconds')")
    }

    /// `'now'` is UTC in SQLite, so this is the UTC date, stored form.
    fn today_plus_days(&self, days: i64) -> String {
        format!("strftime('{DATE_FORMAT}', 'now', '{days:+} days')")
    }

    /// SQLite builds an index of the subquery's rows once, whatever
    /// their number, and probes it per row, under `OR` too.
    fn in_subquery_under_or(&self) -> bool {
        true
    }

    /// At 1M contacts, `has lead(status = "Open") or has interaction(type
    /// = "Email Opened")` took 7.4 s as two lists, 5.6 s as one
    /// (benches/README.md, "PostgreSQL's wide `or`s scanned").
    fn unions_lists_under_or(&self) -> bool {
        true
    }

    fn null_safe_not_equal(&self, lhs: &str, rhs: &str) -> String {
        format!("{lhs} IS NOT {rhs}")
    }

    /// SQLite's `SUM` of integers is exact and raises "integer overflow"
    /// beyond the i64 range itself; only its NULL for no values needs care.
    fn sum_integers(&self, column: &str) -> String {
        format!("COALESCE(SUM({column}), 0)")
    }

    /// `TOTAL` is `SUM` as a double, 0.0 for no values. SQLite has no
    /// exact decimal type; since 3.43 its sums are compensated
    /// (Kahan-Babuska-Neumaier), which gives the correctly rounded sum but
    /// in rare cases.
    fn sum_decimals(&self, column: &str) -> String {
        format!("TOTAL({column})")
    }

    /// SQLite's `AVG` is always a double: the exact integer sum (below
    /// 2^53) divided by the count, rounded once.
    fn avg_integers(&self, column: &str) -> String {
        format!("AVG({column})")
    }

    /// The compensated sum of [`Dialect::sum_decimals`] here, divided by
    /// the count.
    fn avg_decimals(&self, column: &str) -> String {
        format!("AVG({column})")
    }

    fn is_sum_overflow(&self, error: &str) -> bool {
        error.contains("integer overflow")
    }

    fn column_type(&self, ty: &FieldType) -> &'static str {
        match ty {
            FieldType::Uuid | FieldType::Text | FieldType::Date | FieldType::DateTime => "TEXT",
            FieldType::Integer | FieldType::Choice(_) | FieldType::Bool => "INTEGER",
            FieldType::Decimal => "REAL",
        }
    }

    /// `AUTOINCREMENT`: a rowid is never reused, even after the row with
    /// the highest one is deleted.
    fn increasing_key_column(&self) -> &'static str {
        "INTEGER PRIMARY KEY AUTOINCREMENT"
    }

    /// SQLite identifiers are case-insensitive (ASCII).
    fn same_column_name(&self, found: &str, wanted: &str) -> bool {
        found.eq_ignore_ascii_case(wanted)
    }

    /// Values keep the type they are sent with; the column's affinity
    /// converts them.
    fn text_param(&self, n: usize, _ty: &FieldType) -> String {
        self.placeholder(n)
    }

    fn trim_ascii_whitespace(&self, expr: &str) -> String {
        let codes: Vec<String> = TRIM_CODES.iter().map(|c| c.to_string()).collect();
        format!("trim({expr}, char({}))", codes.join(","))
    }

    fn temp_table(&self, name: &str) -> String {
        format!("temp.{name}")
    }

    /// The index's name carries the schema; the table's must not.
    fn create_temp_index(&self, table: &str, column: &str, unique: bool) -> String {
        let unique = if unique { "UNIQUE " } else { "" };
        format!("CREATE {unique}INDEX temp.{table}_{column} ON {table} ({column})")
    }

    /// SQLite keeps the tables of a `CROSS JOIN` in the order written.
    fn ordered_join(&self) -> &'static str {
        "CROSS JOIN"
    }

    /// SQLite satisfies `ORDER BY t0.id` by walking the key's unique index,
    /// fetching every row of the table in index (random) order to test the
    /// `WHERE` on it: at 1M contacts a selective field filter took 6.3 s that
    /// way, 0.28 s as a table scan and a sort of its hits. `+t0.id` is an
    /// expression no index serves, so the planner scans and sorts. Without
    /// a `WHERE`, the index alone covers the query (no row is fetched), and
    /// stays the faster path.
    fn order_by_key(&self, key: &str, selection: Selection) -> String {
        match selection {
            Selection::Filter | Selection::Disjunction => format!("+{key}"),
            Selection::All | Selection::KeyList => key.to_string(),
        }
    }

    /// The same trap one level down: SQLite delivers `GROUP BY t1.contact_id`
    /// by walking the foreign key's index, fetching every row of the child
    /// table at random to test its filter and read its value, rather than
    /// scanning the table and sorting the rows that pass. At 1M contacts
    /// (`benches/README.md`, "Plan traps") the walk took 1.8 to 3.6 times
    /// as long for the aggregates issue's three segments. Where the groups
    /// read nothing but the key (`COUNT(*)` of unfiltered rows), the index
    /// alone covers them, in order, and stays the faster path (1.4 s
    /// against 10.9 s for `count(interaction) >= 25`).
    fn group_by_key(&self, key: &str, fetches_rows: bool) -> String {
        let mut term = String::with_capacity(key.len() + 1);
        self.push_group_by_key(key, fetches_rows, &mut term);
        term
    }

    fn push_group_by_key(&self, key: &str, fetches_rows: bool, out: &mut String) {
        if fetches_rows {
            out.push('+');
        }
        out.push_str(key);
    }
}

/// The longest `LIKE` pattern segql writes. SQLite refuses patterns over
/// `SQLITE_LIMIT_LIKE_PATTERN_LENGTH` (50,000 bytes by default, and a
/// build or connection may lower it); longer needles keep the byte forms.
const LIKE_PATTERN_MAX: usize = 1000;

/// Whether `op` with `needle` is written with `LIKE`: `contains` and
/// `starts with`, unless the needle holds U+0000 (which `LIKE` would read
/// only up to) or its pattern would pass [`LIKE_PATTERN_MAX`] bytes.
fn uses_like(op: TextOp, needle: &str) -> bool {
    let escapes = needle
        .bytes()
        .filter(|b| matches!(b, b'%' | b'_' | b'\\'))
        .count();
    op != TextOp::EndsWith
        && !needle.contains('\0')
        && needle.len() + escapes + 2 <= LIKE_PATTERN_MAX
}

/// The `LIKE` pattern (escape character `\`) of `op` with `needle`, where
/// [`uses_like`] says it is one.
fn like_pattern(op: TextOp, needle: &str) -> Option<String> {
    if !uses_like(op, needle) {
        return None;
    }
    let mut pattern = String::with_capacity(needle.len() + 2);
    if op == TextOp::Contains {
        pattern.push('%');
    }
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Some(pattern)
}

/// `expr` (text) as the BLOB of its UTF-8 bytes, all of them.
fn blob(expr: &str) -> String {
    format!("CAST({expr} AS BLOB)")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn dates_are_written_as_their_format_strings_write_them() {
        for (y, m, d, h, min, s) in [
            (0, 1, 1, 0, 0, 0),
            (1970, 1, 1, 0, 0, 0),
            (2026, 1, 15, 12, 34, 56),
            (9999, 12, 31, 23, 59, 59),
            (-1, 12, 31, 23, 59, 59),
            (10000, 1, 1, 0, 0, 0),
            (-262_000, 6, 5, 4, 3, 2),
            (1, 2, 3, 4, 5, 6),
            (999, 10, 9, 8, 7, 6),
            (2024, 2, 29, 9, 0, 9),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).expect("a date");
            let at = Utc
                .with_ymd_and_hms(y, m, d, h, min, s)
                .single()
                .expect("a time");
            assert_eq!(
                Sqlite.date_param(date),
                SqlParam::Text(date.format(DATE_FORMAT).to_string())
            );
            assert_eq!(
                Sqlite.datetime_param(at),
                SqlParam::Text(at.format(DATETIME_FORMAT).to_string())
            );
        }
        // Every day of a leap year and a common one, at times with every
        // digit in each place.
        let start = NaiveDate::from_ymd_opt(2023, 1, 1).expect("a date");
        for (i, date) in start.iter_days().take(731).enumerate() {
            let i = i as u32;
            let time = NaiveTime::from_hms_opt(i % 24, i % 60, (i * 7) % 60).expect("a time");
            let at = date.and_time(time).and_utc();
            assert_eq!(
                Sqlite.date_param(date),
                SqlParam::Text(date.format(DATE_FORMAT).to_string())
            );
            assert_eq!(
                Sqlite.datetime_param(at),
                SqlParam::Text(at.format(DATETIME_FORMAT).to_string())
            );
        }
        // A leap second, which chrono keeps as nanoseconds past 59.
        let leap = NaiveTime::from_hms_milli_opt(23, 59, 59, 1_500).expect("a leap second");
        let at = start.and_time(leap).and_utc();
        assert_eq!(
            Sqlite.datetime_param(at),
            SqlParam::Text(at.format(DATETIME_FORMAT).to_string())
        );
    }

    /// What SPEC §2.2 says `op` answers: ASCII letters folded, every
    /// character literal, U+0000 like any other.
    fn spec_answer(op: TextOp, value: &str, needle: &str) -> bool {
        let (value, needle) = (value.to_ascii_lowercase(), needle.to_ascii_lowercase());
        match op {
            TextOp::Contains => value.contains(&needle),
            TextOp::StartsWith => value.starts_with(&needle),
            TextOp::EndsWith => value.ends_with(&needle),
        }
    }

    /// The forms written in place are those built from the dialect's
    /// pieces (`text_contains` of `fold_ascii_case`, `blob`), as they were
    /// before being written in place; the byte forms go through the pieces.
    #[test]
    fn text_tests_written_in_place_are_the_forms_built_from_their_pieces() {
        let (col, p) = ("t0.email", ["?1".to_string(), "?2".to_string()]);
        let folded = Sqlite.fold_ascii_case(col);
        let long = "x".repeat(LIKE_PATTERN_MAX);
        for needle in ["mail", "50%_\\", "a\0b", long.as_str()] {
            for op in [TextOp::Contains, TextOp::StartsWith, TextOp::EndsWith] {
                let like = uses_like(op, needle);
                let expected = match op {
                    TextOp::Contains if like => format!(
                        "({col} LIKE ?1 ESCAPE '\\' OR (instr({col}, char(0)) > 0 AND {}))",
                        Sqlite.text_contains(&folded, "?2")
                    ),
                    TextOp::StartsWith if like => format!("{col} LIKE ?1 ESCAPE '\\'"),
                    TextOp::EndsWith if !needle.contains('\0') => format!(
                        "coalesce(CAST(substr({}, -length({})) AS TEXT), X'') = ?1 COLLATE NOCASE",
                        blob(col),
                        blob("?1")
                    ),
                    TextOp::Contains => Sqlite.text_contains(&folded, "?1"),
                    TextOp::StartsWith => Sqlite.text_starts_with(&folded, "?1"),
                    TextOp::EndsWith => Sqlite.text_ends_with(&folded, "?1"),
                };
                let mut out = String::from("x = 1 AND ");
                Sqlite.push_text_test(op, col, needle, &p, &mut out);
                assert_eq!(out, format!("x = 1 AND {expected}"), "{op:?} {needle:?}");
                assert_eq!(Sqlite.text_test(op, col, needle, &p), expected);
            }
        }
    }

    #[test]
    fn text_tests_answer_as_the_spec_where_like_reads_only_up_to_u0000() {
        let long = "x".repeat(LIKE_PATTERN_MAX);
        let values = [
            "",
            "Mail",
            "ma\0il",
            "x\0mail",
            "MAIL\0",
            "\0mail",
            "son",
            "JohnSON",
            "so\0n",
            "Son\0",
            "n",
            "ÉCOLE",
            "école",
            "50% off",
            "a_b",
            "axb",
            "a\\b",
            "日本語",
            "Ma",
            long.as_str(),
        ];
        let needles = [
            "mail",
            "MA",
            "son",
            "n",
            "%",
            "_",
            "\\",
            "a_",
            "é",
            "É",
            "日",
            "\0",
            "l\0",
            "\0m",
            "% off",
            long.as_str(),
        ];
        let db = rusqlite::Connection::open_in_memory().expect("an in-memory database");
        db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)")
            .expect("a table");
        for (id, value) in values.iter().enumerate() {
            db.execute(
                "INSERT INTO t VALUES (?1, ?2)",
                rusqlite::params![id, value],
            )
            .expect("a row");
        }
        db.execute("INSERT INTO t VALUES (?1, NULL)", [values.len()])
            .expect("a NULL row");
        for op in [TextOp::Contains, TextOp::StartsWith, TextOp::EndsWith] {
            for needle in needles {
                let folded = needle.to_ascii_lowercase();
                let params = Sqlite.text_test_params(op, &folded);
                let placeholders: Vec<String> =
                    (1..=params.len()).map(|n| Sqlite.placeholder(n)).collect();
                let test = Sqlite.text_test(op, "x", &folded, &placeholders);
                let sql = format!("SELECT id FROM t WHERE {test} ORDER BY id");
                let mut statement = db.prepare(&sql).expect("the test prepares");
                let bound = params.iter().map(|p| match p {
                    SqlParam::Text(s) => s.as_str(),
                    other => panic!("a text test bound {other:?}"),
                });
                let found: Vec<usize> = statement
                    .query_map(rusqlite::params_from_iter(bound), |row| row.get(0))
                    .expect("the test runs")
                    .collect::<rusqlite::Result<_>>()
                    .expect("ids");
                let expected: Vec<usize> = (0..values.len())
                    .filter(|&id| spec_answer(op, values[id], needle))
                    .collect();
                assert_eq!(found, expected, "{op:?} {needle:?}: {sql}");
            }
        }
    }

    #[test]
    fn like_patterns_escape_their_wildcards_and_give_way_to_the_byte_forms() {
        assert_eq!(
            like_pattern(TextOp::Contains, "50%_a\\b").as_deref(),
            Some("%50\\%\\_a\\\\b%")
        );
        assert_eq!(
            like_pattern(TextOp::StartsWith, "mc").as_deref(),
            Some("mc%")
        );
        assert_eq!(like_pattern(TextOp::EndsWith, "son"), None);
        assert_eq!(like_pattern(TextOp::Contains, "l\0b"), None);
        let longest = "x".repeat(LIKE_PATTERN_MAX - 2);
        assert!(like_pattern(TextOp::Contains, &longest).is_some());
        assert_eq!(like_pattern(TextOp::Contains, &format!("{longest}%")), None);
    }
}
