//! The small value pools shared by the data and the query generators.
//!
//! Both draw from the same few values so that generated predicates hit rows
//! often; the values sit on the edges where back ends tend to disagree.
//! The fixed reference time [`NOW`] is what the relative times are aimed at.

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

/// The reference time of every differential case: 2024-06-15T12:00:00Z.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0)
        .single()
        .expect("a valid fixed date")
}

/// How many distinct uuids keys and uuid literals are drawn from.
pub const UUID_POOL: usize = 48;

/// The `i`-th pool uuid. The first and last are the extremes (all zeros, all
/// ones); the rest are spread so that their text order and numeric order
/// both get exercised, including ids that differ only in the last digit.
pub fn uuid(i: usize) -> Uuid {
    match i {
        0 => Uuid::from_u128(0),
        1 => Uuid::from_u128(u128::MAX),
        2 => Uuid::from_u128(1),
        3 => Uuid::from_u128(u128::MAX - 1),
        4 => Uuid::from_u128(0x8000_0000_0000_0000_0000_0000_0000_0000),
        5 => Uuid::from_u128(0x7fff_ffff_ffff_ffff_ffff_ffff_ffff_ffff),
        _ => {
            // A fixed scramble: deterministic, well spread, distinct for i < 2^64.
            let x = (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
            Uuid::from_u128(x ^ (x >> 61))
        }
    }
}

/// Text values (stored and compared). Non-ASCII case pairs, LIKE
/// metacharacters, a backslash, empty and padded strings, mixed case.
pub const TEXTS: &[&str] = &[
    "",
    "a",
    "A",
    "ab",
    "AB",
    "abc",
    "Abc",
    "ABC",
    "b",
    "z",
    "Z",
    "ÉCOLE",
    "école",
    "École",
    "é",
    "É",
    "ß",
    "SS",
    "ss",
    "straße",
    "STRASSE",
    "100%",
    "50% off",
    "a_b",
    "a_",
    "_",
    "%",
    "\\",
    "a\\b",
    "x%y_z",
    "Retail",
    "retail",
    " a",
    "a ",
    "Contoso Ltd Conference",
    "contoso",
    "日本",
    "say \"hi\"",
    "tab\tx",
    "line\nbreak",
    "ǅ",
    "İ",
    // Injection attempts: quotes, statement ends, comments, placeholders
    // and U+0000 (which PostgreSQL cannot store: see `holds_nul`).
    "'",
    "o'brien",
    "'; drop table contact; --",
    "--",
    "a;b",
    "\\'",
    "\u{0}",
    "nul\u{0}byte",
    "$1",
    "?",
    "?1",
];

/// Whether generated text holds U+0000, which PostgreSQL refuses: its
/// runs skip such queries and strip it from their data.
pub fn holds_nul(text: &str) -> bool {
    text.contains('\u{0}')
}

/// Patterns for `contains`, `starts with`, `ends with`: pieces of [`TEXTS`]
/// in other cases, metacharacters alone, and the empty pattern.
pub const PATTERNS: &[&str] = &[
    "", "a", "A", "b", "B", "ab", "AB", "c", "C", "s", "ss", "SS", "ß", "é", "É", "ÉCO", "éco",
    "ole", "OLE", "%", "_", "\\", "a_", "A_B", "_b", "%y", "X%", "% off", "\\b", "0%", "contoso",
    "CONTOSO", "ltd conf", " ", "日", "\"", "\t", "i", "I", "'", ";", "--", "\u{0}", "L\u{0}B",
    "$1", "?", "BYTE",
];

/// Integers: extremes, around zero, and 2^53 + 1 (not exact as a double).
pub const INTEGERS: &[i64] = &[
    i64::MIN,
    i64::MIN + 1,
    -1000,
    -1,
    0,
    1,
    2,
    3,
    10,
    42,
    100,
    1000,
    9_007_199_254_740_993,
    i64::MAX - 1,
    i64::MAX,
];

/// Decimals as stored.
pub const DECIMALS: &[f64] = &[
    -1.0e300,
    -2.5,
    -1.0,
    -0.5,
    0.0,
    0.1,
    0.5,
    1.0,
    1.5,
    2.0,
    3.25,
    10.0,
    42.0,
    100.0,
    1000.5,
    9_007_199_254_740_992.0,
    1.0e20,
    // 2^63 and -2^63: the doubles nearest to i64::MAX and i64::MIN.
    9_223_372_036_854_775_808.0,
    -9_223_372_036_854_775_808.0,
];

/// Decimal literals as written in queries (the language has no exponent).
pub const DECIMAL_LITERALS: &[&str] = &[
    "0.0",
    "0.1",
    "0.5",
    "1.0",
    "1.5",
    "-1.0",
    "-2.5",
    "-0.5",
    "3.25",
    "10.0",
    "42.0",
    "100.0",
    "1000.5",
    "2.5",
    "9007199254740992.0",
    "100000000000000000000.0",
    "9223372036854775808.0",
    "-9223372036854775808.0",
];

/// Integer literals as written in queries.
pub const INTEGER_LITERALS: &[&str] = &[
    "-9223372036854775808",
    "-9223372036854775807",
    "-1000",
    "-1",
    "0",
    "1",
    "2",
    "3",
    "10",
    "42",
    "100",
    "1000",
    "9007199254740993",
    "9223372036854775806",
    "9223372036854775807",
];

/// Dates as stored and as literals; 2024-06-15 is today.
pub const DATES: &[&str] = &[
    "0001-01-01",
    "1970-01-01",
    "2000-02-29",
    "2024-01-01",
    "2024-05-16",
    "2024-06-08",
    "2024-06-14",
    "2024-06-15",
    "2024-06-16",
    "2024-06-22",
    "2024-12-31",
    "9999-12-31",
];

/// Relative dates, for date fields (whole days only).
pub const RELATIVE_DATES: &[&str] = &[
    "today",
    "today - 1d",
    "today + 1d",
    "today - 30d",
    "today + 1w",
    "today - 1w",
    "today - 0d",
];

/// Date-times as stored and as literals; now is 2024-06-15T12:00:00Z.
pub const DATETIMES: &[&str] = &[
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2024-05-16T12:00:00Z",
    "2024-06-14T12:00:00Z",
    "2024-06-15T00:00:00Z",
    "2024-06-15T10:30:00Z",
    "2024-06-15T11:59:59Z",
    "2024-06-15T12:00:00Z",
    "2024-06-15T12:00:01Z",
    "2024-06-15T23:59:59Z",
    "2024-06-22T12:00:00Z",
    "9999-12-31T23:59:59Z",
];

/// Extra date-time literals: an offset (12:00Z written in +02:00).
pub const DATETIME_OFFSET_LITERALS: &[&str] =
    &["2024-06-15T14:00:00+02:00", "2024-06-15T01:30:00-10:30"];

/// Relative date-times, for date-time fields.
pub const RELATIVE_DATETIMES: &[&str] = &[
    "now",
    "now - 30d",
    "now - 12h",
    "now - 90min",
    "now + 1s",
    "now - 1s",
    "now + 1w",
    "now - 0s",
    "today",
    "today - 1d",
    "today + 1d",
];
