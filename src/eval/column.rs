//! Typed columns: one per field, rows in key order, NULLs in a validity bitmap.
//!
//! Values are stored in the narrowest form that keeps comparisons exact and
//! cheap: uuids as `u128` (numeric order equals the order of their lowercase
//! hyphenated text), integers and choice codes as `i16`/`i32`/`i64` (whichever
//! holds every value), dates as days since 1970-01-01, date-times as seconds
//! since the epoch, text dictionary-encoded when few distinct values repeat.

use super::array::Array;
use super::bitmap::Bitmap;
use super::contains::FoldedCopy;

/// One field's values over all rows of an entity.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub(crate) data: ColumnData,
    /// Which rows hold a value; `None` when every row does.
    pub(crate) valid: Option<Bitmap>,
}

#[derive(Clone, Debug)]
pub(crate) enum ColumnData {
    Uuid(Array<u128>),
    /// Integer and choice fields.
    Int(Ints),
    Decimal(Array<f64>),
    Bool(Bitmap),
    /// Days since 1970-01-01.
    Date(Array<i32>),
    /// Seconds since 1970-01-01T00:00:00Z.
    DateTime(Seconds),
    Text(Text),
}

/// Integers in the narrowest width that holds all of them. NULL rows hold 0.
/// Whole-column scans read every byte, so the width is their cost: choice
/// codes usually fit one byte.
#[derive(Clone, Debug)]
pub(crate) enum Ints {
    I8(Array<i8>),
    I16(Array<i16>),
    I32(Array<i32>),
    I64(Array<i64>),
}

/// `$body` with `$values` bound to the values of `$ints`, whatever their
/// width: one generic call instead of a match arm per width.
macro_rules! with_ints {
    ($ints:expr, $values:ident => $body:expr) => {
        match $ints {
            $crate::eval::column::Ints::I8($values) => $body,
            $crate::eval::column::Ints::I16($values) => $body,
            $crate::eval::column::Ints::I32($values) => $body,
            $crate::eval::column::Ints::I64($values) => $body,
        }
    };
}
pub(crate) use with_ints;

impl Ints {
    /// Narrows `values` to the smallest width that holds each one.
    pub(crate) fn narrow(values: Vec<i64>) -> Ints {
        let (min, max) = values
            .iter()
            .fold((0i64, 0i64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if min >= i8::MIN as i64 && max <= i8::MAX as i64 {
            Ints::I8(values.into_iter().map(|v| v as i8).collect())
        } else if min >= i16::MIN as i64 && max <= i16::MAX as i64 {
            Ints::I16(values.into_iter().map(|v| v as i16).collect())
        } else if min >= i32::MIN as i64 && max <= i32::MAX as i64 {
            Ints::I32(values.into_iter().map(|v| v as i32).collect())
        } else {
            Ints::I64(values.into())
        }
    }

    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        with_ints!(self, v => v.len())
    }

    /// The width's name, for diagnostics and tests.
    fn storage(&self) -> &'static str {
        match self {
            Ints::I8(_) => "i8",
            Ints::I16(_) => "i16",
            Ints::I32(_) => "i32",
            Ints::I64(_) => "i64",
        }
    }
}

/// Date-times as seconds since the epoch, each `base + offsets[row]`, the
/// offsets narrowed like integers. A few decades of seconds fit 32 bits
/// where the values themselves would not after 2038, and a window test on
/// 10M interactions then reads 40 MB instead of 80.
#[derive(Clone, Debug)]
pub(crate) struct Seconds {
    pub(crate) base: i64,
    pub(crate) offsets: Ints,
}

impl Seconds {
    /// Stores `values` (NULL rows hold 0) from their smallest.
    pub(crate) fn new(values: Vec<i64>) -> Seconds {
        let (min, max) = values
            .iter()
            .fold((i64::MAX, i64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        // Offsets from the smallest value fit an i64 unless the values span
        // more than half its range, which no chrono date-time does; kept
        // exact anyway by falling back to base 0.
        let base = if values.is_empty() || max.checked_sub(min).is_none() {
            0
        } else {
            min
        };
        Seconds {
            base,
            offsets: Ints::narrow(values.into_iter().map(|v| v - base).collect()),
        }
    }

    /// Row `row`'s value.
    #[cfg(test)]
    pub(crate) fn get(&self, row: usize) -> i64 {
        self.base
            + match &self.offsets {
                Ints::I8(v) => v[row] as i64,
                Ints::I16(v) => v[row] as i64,
                Ints::I32(v) => v[row] as i64,
                Ints::I64(v) => v[row],
            }
    }
}

/// A text column. In `Dict`, `values` is sorted by byte order (= code point
/// order) and distinct, so a test runs once per distinct value.
#[derive(Clone, Debug)]
pub(crate) enum Text {
    Dict {
        codes: Array<u32>,
        values: Vec<String>,
    },
    /// Row `i` is `bytes[offsets[i]..offsets[i + 1]]`: UTF-8, each row
    /// cut on character boundaries. `folded` is made by `contains`
    /// searches.
    Plain {
        offsets: Array<usize>,
        bytes: Array<u8>,
        folded: FoldedCopy,
    },
}

impl Column {
    /// Whether `row` holds a value.
    #[cfg(test)]
    pub(crate) fn is_valid(&self, row: usize) -> bool {
        self.valid.as_ref().is_none_or(|v| v.get(row))
    }

    /// Row `row`'s value spelled out, whatever the storage form.
    #[cfg(test)]
    pub(crate) fn render(&self, row: usize) -> String {
        if !self.is_valid(row) {
            return "NULL".into();
        }
        match &self.data {
            ColumnData::Uuid(v) => format!("{:032x}", v[row]),
            ColumnData::Int(Ints::I8(v)) => v[row].to_string(),
            ColumnData::Int(Ints::I16(v)) => v[row].to_string(),
            ColumnData::Int(Ints::I32(v)) => v[row].to_string(),
            ColumnData::Int(Ints::I64(v)) => v[row].to_string(),
            ColumnData::Decimal(v) => v[row].to_string(),
            ColumnData::Bool(b) => b.get(row).to_string(),
            ColumnData::Date(v) => v[row].to_string(),
            ColumnData::DateTime(s) => s.get(row).to_string(),
            ColumnData::Text(Text::Dict { codes, values }) => values[codes[row] as usize].clone(),
            ColumnData::Text(Text::Plain { offsets, bytes, .. }) => {
                String::from_utf8_lossy(&bytes[offsets[row]..offsets[row + 1]]).into_owned()
            }
        }
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        match &self.data {
            ColumnData::Uuid(v) => v.len(),
            ColumnData::Int(ints) => ints.len(),
            ColumnData::Decimal(v) => v.len(),
            ColumnData::Bool(b) => b.len(),
            ColumnData::Date(v) => v.len(),
            ColumnData::DateTime(s) => s.offsets.len(),
            ColumnData::Text(Text::Dict { codes, .. }) => codes.len(),
            ColumnData::Text(Text::Plain { offsets, .. }) => offsets.len().saturating_sub(1),
        }
    }

    /// A short name of the storage form, for diagnostics and tests.
    pub(crate) fn storage(&self) -> &'static str {
        match &self.data {
            ColumnData::Uuid(_) => "uuid",
            ColumnData::Int(ints) => ints.storage(),
            ColumnData::Decimal(_) => "f64",
            ColumnData::Bool(_) => "bool",
            ColumnData::Date(_) => "date",
            ColumnData::DateTime(_) => "datetime",
            ColumnData::Text(Text::Dict { .. }) => "text-dict",
            ColumnData::Text(Text::Plain { .. }) => "text",
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`), exact for every year chrono supports.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            if leap {
                29
            } else {
                28
            }
        }
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + (b - b'0') as u32)
    })
}

/// Parses the stored date form `YYYY-MM-DD` into days since 1970-01-01.
/// Only that exact form is accepted: the SQL back end compares dates as
/// text, which is chronological only for this fixed-width form.
pub(crate) fn parse_date(b: &[u8]) -> Option<i32> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) as i32)
}

/// Parses the stored date-time form `YYYY-MM-DDTHH:MM:SSZ` into seconds
/// since the epoch (exact form only, for the reason given at [`parse_date`]).
pub(crate) fn parse_datetime(b: &[u8]) -> Option<i64> {
    if b.len() != 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let days = parse_date(&b[..10])? as i64;
    let (h, m, s) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(days * 86_400 + (h * 3600 + m * 60 + s) as i64)
}

/// The value of eight lowercase hex digits (ASCII, the first one most
/// significant, loaded little-endian into `w`), or `None` if any byte is
/// not one. All eight are checked and converted at once, bytewise within
/// the word (no carry crosses a byte: every sum stays below 0x100).
fn hex8(w: u64) -> Option<u32> {
    const LANES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x80 * LANES;
    // For a byte b < 0x80, b + (0x80 - t) has its high bit set iff b >= t
    // (a byte of 0x80 or more is refused anyway, whatever it carries).
    let at_least = |t: u64| w.wrapping_add((0x80 - t) * LANES);
    let digit = at_least(0x30) & !at_least(0x3a);
    let letter = at_least(0x61) & !at_least(0x67);
    if w & HIGH != 0 || (digit | letter) & HIGH != HIGH {
        return None;
    }
    // '0'..'9' are 0x30..0x39, 'a'..'f' are 0x61..0x66: the low nibble, plus
    // nine for a letter.
    let v = (w & (0x0f * LANES)) + ((letter & HIGH) >> 7) * 9;
    // Nibbles to bytes, bytes to 16-bit halves, halves to the 32-bit value,
    // the first digit ending up highest.
    let v = ((v & 0x0f00_0f00_0f00_0f00) >> 8) | ((v & 0x000f_000f_000f_000f) << 4);
    let v = ((v & 0x00ff_0000_00ff_0000) >> 16) | ((v & 0x0000_00ff_0000_00ff) << 8);
    Some((((v >> 32) & 0xffff) | ((v & 0xffff) << 16)) as u32)
}

/// Parses a uuid in its stored form: lowercase, hyphenated, 36 characters.
/// Other spellings are refused because the SQL back end joins and orders
/// uuids as text, which only agrees with this form. Every key and foreign
/// key passes through here when loading, so the 32 digits are converted
/// eight at a time ([`hex8`]).
pub(crate) fn parse_uuid(text: &[u8]) -> Option<u128> {
    let b: &[u8; 36] = text.try_into().ok()?;
    if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let mut digits = [0u8; 32];
    digits[0..8].copy_from_slice(&b[0..8]);
    digits[8..12].copy_from_slice(&b[9..13]);
    digits[12..16].copy_from_slice(&b[14..18]);
    digits[16..20].copy_from_slice(&b[19..23]);
    digits[20..32].copy_from_slice(&b[24..36]);
    let mut v = 0u128;
    for eight in digits.chunks_exact(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(eight);
        v = (v << 32) | hex8(u64::from_le_bytes(w))? as u128;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    #[test]
    fn dates_match_chrono() {
        for text in [
            "1970-01-01",
            "2024-02-29",
            "1900-03-01",
            "0001-01-01",
            "9999-12-31",
        ] {
            let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
            let want = (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days();
            assert_eq!(parse_date(text.as_bytes()), Some(want as i32), "{text}");
        }
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "2024-01-00",
            "２０２４-01-01",
        ] {
            assert_eq!(parse_date(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn datetimes_match_chrono() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 10, 30, 59).unwrap();
        assert_eq!(parse_datetime(b"2024-05-01T10:30:59Z"), Some(t.timestamp()));
        assert_eq!(parse_datetime(b"2024-05-01T24:00:00Z"), None);
        assert_eq!(parse_datetime(b"2024-05-01 10:30:59"), None);
    }

    #[test]
    fn uuids_parse_in_stored_form_only() {
        let u = uuid::Uuid::new_v4();
        assert_eq!(
            parse_uuid(u.hyphenated().to_string().as_bytes()),
            Some(u.as_u128())
        );
        let upper = u.hyphenated().to_string().to_uppercase();
        assert!(upper.chars().all(|c| !c.is_ascii_lowercase()));
        assert_eq!(
            parse_uuid(upper.as_bytes()).is_some(),
            !upper.contains(char::is_alphabetic)
        );
        assert_eq!(parse_uuid(u.simple().to_string().as_bytes()), None);
        let mut bad = u.hyphenated().to_string().into_bytes();
        for (at, byte) in [(0, b'g'), (35, b'/'), (8, b'0'), (20, 0xc3)] {
            let keep = bad[at];
            bad[at] = byte;
            assert_eq!(parse_uuid(&bad), None, "{at}");
            bad[at] = keep;
        }
        assert_eq!(parse_uuid(&bad), Some(u.as_u128()));
    }

    /// The stored form, checked one character at a time.
    fn parse_uuid_slowly(b: &[u8]) -> Option<u128> {
        if b.len() != 36 {
            return None;
        }
        let mut v = 0u128;
        for (i, &c) in b.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return None;
                }
                continue;
            }
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => return None,
            };
            v = (v << 4) | d as u128;
        }
        Some(v)
    }

    #[test]
    fn uuid_parsing_agrees_with_the_plain_definition_on_every_byte() {
        let base = *b"0123abcd-ef45-6789-abcd-ef0123456789";
        assert_eq!(
            parse_uuid(&base),
            Some(0x0123abcd_ef45_6789_abcd_ef0123456789)
        );
        for at in 0..36 {
            for byte in 0..=255u8 {
                let mut t = base;
                t[at] = byte;
                assert_eq!(parse_uuid(&t), parse_uuid_slowly(&t), "{at} {byte}");
            }
        }
        for _ in 0..200 {
            let u = uuid::Uuid::new_v4();
            assert_eq!(
                parse_uuid(u.hyphenated().to_string().as_bytes()),
                Some(u.as_u128())
            );
        }
    }

    #[test]
    fn ints_narrow() {
        assert!(matches!(Ints::narrow(vec![1, -3, 100]), Ints::I8(v) if *v == [1, -3, 100]));
        assert!(matches!(Ints::narrow(vec![1, -3, 300]), Ints::I16(v) if *v == [1, -3, 300]));
        assert!(matches!(Ints::narrow(vec![1, 70_000]), Ints::I32(_)));
        assert!(matches!(Ints::narrow(vec![i64::MIN]), Ints::I64(_)));
    }

    #[test]
    fn seconds_are_offsets_from_the_smallest_in_the_narrowest_width() {
        // 2025 and 2060: past i32 as seconds since the epoch, not as offsets.
        let values = vec![1_735_689_600, 2_840_140_800, 1_735_689_601];
        let s = Seconds::new(values.clone());
        assert_eq!(s.base, 1_735_689_600);
        assert!(matches!(s.offsets, Ints::I32(_)));
        for (row, v) in values.iter().enumerate() {
            assert_eq!(s.get(row), *v);
        }
        let wide = Seconds::new(vec![i64::MIN, i64::MAX, 0]);
        assert_eq!(
            (wide.get(0), wide.get(1), wide.get(2)),
            (i64::MIN, i64::MAX, 0)
        );
        assert_eq!(Seconds::new(vec![]).offsets.len(), 0);
    }
}
