//! Text forms of ids, dates and date-times as SQLite stores them (SPEC §3.1),
//! written into fixed buffers: the demo load formats tens of millions of them
//! and should not allocate for each.

use uuid::Uuid;

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;

/// A lowercase hyphenated uuid, formatted without allocating.
pub(crate) struct IdText([u8; 36]);

impl IdText {
    pub(crate) fn new(id: Uuid) -> IdText {
        let mut buf = [0u8; 36];
        id.hyphenated().encode_lower(&mut buf);
        IdText(buf)
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII hex digits and hyphens were written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` stamp, formatted without allocating.
pub(crate) struct Stamp {
    buf: [u8; 20],
    len: usize,
}

impl Stamp {
    /// The date-time `secs` seconds after the Unix epoch, in UTC.
    pub(crate) fn datetime(secs: i64) -> Stamp {
        let mut stamp = Stamp::date(secs.div_euclid(DAY));
        let t = secs.rem_euclid(DAY);
        stamp.buf[10] = b'T';
        put2(&mut stamp.buf[11..13], t / 3600);
        stamp.buf[13] = b':';
        put2(&mut stamp.buf[14..16], t / 60 % 60);
        stamp.buf[16] = b':';
        put2(&mut stamp.buf[17..19], t % 60);
        stamp.buf[19] = b'Z';
        stamp.len = 20;
        stamp
    }

    /// The date `days` days after 1970-01-01 (years 0 to 9999).
    pub(crate) fn date(days: i64) -> Stamp {
        let (y, m, d) = civil_from_days(days);
        let mut buf = [0u8; 20];
        put2(&mut buf[0..2], y / 100);
        put2(&mut buf[2..4], y % 100);
        buf[4] = b'-';
        put2(&mut buf[5..7], m);
        buf[7] = b'-';
        put2(&mut buf[8..10], d);
        Stamp { buf, len: 10 }
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

fn put2(out: &mut [u8], v: i64) {
    let v = v.rem_euclid(100) as u8;
    out[0] = b'0' + v / 10;
    out[1] = b'0' + v % 10;
}

/// (year, month, day) of a day count since 1970-01-01 in the proleptic
/// Gregorian calendar (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Days, NaiveDate};

    #[test]
    fn stamps_agree_with_chrono() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for days in (-719_000i64..2_900_000).step_by(997) {
            let date = if days >= 0 {
                epoch.checked_add_days(Days::new(days as u64))
            } else {
                epoch.checked_sub_days(Days::new(days.unsigned_abs()))
            }
            .unwrap();
            assert_eq!(
                Stamp::date(days).as_str(),
                date.format("%Y-%m-%d").to_string()
            );
        }
        let secs = 1_700_000_123;
        let expected = chrono::DateTime::from_timestamp(secs, 0).unwrap();
        assert_eq!(
            Stamp::datetime(secs).as_str(),
            expected.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        );
    }
}
