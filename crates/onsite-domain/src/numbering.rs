//! Order numbers that are unique without coordination: `WO-YYYYMMDD-<PREFIX>-<SEQ>`.
//!
//! - `YYYYMMDD` is the service centre's local date when the order was created (the caller passes
//!   the centre's UTC offset; the demo company is on UTC+8),
//! - `PREFIX` is a short code the relay allocates to each dispatcher device at sign-in (2–6 of
//!   `A–Z`, `0–9`), so two devices never share one,
//! - `SEQ` is that device's counter for that date, zero-padded to 4 digits (`0001`–`9999`).
//!
//! Two dispatchers creating orders offline on the same day therefore differ in the prefix, and one
//! device never repeats a sequence because it picks the next one from the numbers its own store
//! holds ([`next_order_no`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{DomainError, Millis};

/// Shortest and longest device prefix.
pub const PREFIX_LEN: std::ops::RangeInclusive<usize> = 2..=6;
/// The largest sequence number of one device on one date.
pub const MAX_SEQ: u32 = 9999;

const DAY_MS: Millis = 24 * crate::HOUR;

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// The date `utc_offset_minutes` east of UTC at instant `at`.
    pub fn local(at: Millis, utc_offset_minutes: i32) -> Date {
        let local = at + utc_offset_minutes as Millis * crate::MINUTE;
        civil_from_days(local.div_euclid(DAY_MS))
    }

    /// The date if `year`/`month`/`day` names a real day (29 February only in leap years).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm); the one calendar
/// conversion the domain uses (order numbers, statistics months, profile dates).
pub(crate) fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    Date { year, month, day }
}

/// One order number, in parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrderNo {
    pub date: Date,
    pub prefix: String,
    pub seq: u32,
}

impl fmt::Display for OrderNo {
    /// `WO-YYYYMMDD-<PREFIX>-<SEQ>`, e.g. `WO-20261203-D7-0001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Date { year, month, day } = self.date;
        write!(
            f,
            "WO-{year:04}{month:02}{day:02}-{}-{:04}",
            self.prefix, self.seq
        )
    }
}

impl OrderNo {
    /// The number as text: `WO-YYYYMMDD-<PREFIX>-<SEQ>`.
    pub fn format(&self) -> String {
        self.to_string()
    }
}

/// Refuse a device prefix that is not 2–6 of `A–Z`, `0–9`.
pub fn check_prefix(prefix: &str) -> Result<(), DomainError> {
    let ok = PREFIX_LEN.contains(&prefix.len())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(DomainError::BadOrderPrefix(prefix.to_owned()))
    }
}

fn malformed(text: &str, why: &'static str) -> DomainError {
    DomainError::BadOrderNo {
        text: text.to_owned(),
        why,
    }
}

/// Read an order number back into its parts. Strict: exactly the form [`OrderNo::format`]
/// writes (upper case, 8-digit real date, valid prefix, 4-digit sequence from 0001).
pub fn parse(text: &str) -> Result<OrderNo, DomainError> {
    let mut parts = text.split('-');
    let (Some("WO"), Some(date), Some(prefix), Some(seq), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(malformed(text, "expected WO-YYYYMMDD-PREFIX-SEQ"));
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(date, 8) {
        return Err(malformed(text, "the date must be 8 digits YYYYMMDD"));
    }
    let num = |range: std::ops::Range<usize>| date[range].parse::<u32>().unwrap_or(0);
    let date = Date::new(num(0..4) as i32, num(4..6), num(6..8))
        .ok_or_else(|| malformed(text, "the date is not a calendar day"))?;
    check_prefix(prefix).map_err(|_| malformed(text, "the prefix must be 2-6 of A-Z, 0-9"))?;
    if !digits(seq, 4) || seq == "0000" {
        return Err(malformed(text, "the sequence must be 4 digits from 0001"));
    }
    Ok(OrderNo {
        date,
        prefix: prefix.to_owned(),
        seq: seq.parse().unwrap_or(0),
    })
}

impl FromStr for OrderNo {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// The number for the next order this device creates at `now`: today's local date (at
/// `utc_offset_minutes`), the device's `prefix`, and one more than the highest sequence among
/// `existing` with the same date and prefix (numbers of other forms, other dates or other devices
/// are ignored). Refuses a bad prefix and a 10 000th order of the day.
pub fn next_order_no<'a>(
    existing: impl IntoIterator<Item = &'a str>,
    prefix: &str,
    now: Millis,
    utc_offset_minutes: i32,
) -> Result<OrderNo, DomainError> {
    check_prefix(prefix)?;
    let date = Date::local(now, utc_offset_minutes);
    let highest = existing
        .into_iter()
        .filter_map(|text| parse(text).ok())
        .filter(|n| n.date == date && n.prefix == prefix)
        .map(|n| n.seq)
        .max()
        .unwrap_or(0);
    if highest >= MAX_SEQ {
        return Err(DomainError::OrderNoExhausted {
            prefix: prefix.to_owned(),
        });
    }
    Ok(OrderNo {
        date,
        prefix: prefix.to_owned(),
        seq: highest + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Code, HOUR};

    /// 2026-12-03 00:00 UTC.
    const DEC_3: Millis = 1_796_256_000_000;

    #[test]
    fn the_date_is_the_local_date_of_the_service_centre() {
        let d = |at, offset| Date::local(at, offset);
        assert_eq!(d(DEC_3, 0), Date::new(2026, 12, 3).unwrap(), "midnight UTC");
        assert_eq!(
            d(DEC_3 + 16 * HOUR, 8 * 60),
            Date::new(2026, 12, 4).unwrap(),
            "16:00 UTC is already the next day in Shanghai (UTC+8)"
        );
        assert_eq!(
            d(DEC_3 - 1, 0),
            Date::new(2026, 12, 2).unwrap(),
            "one millisecond before midnight is the day before"
        );
        assert_eq!(d(0, 0), Date::new(1970, 1, 1).unwrap(), "the epoch");
        assert_eq!(
            d(-1, 0),
            Date::new(1969, 12, 31).unwrap(),
            "before the epoch"
        );
        assert_eq!(
            d(951_782_400_000, 0),
            Date::new(2000, 2, 29).unwrap(),
            "2000 is a leap year"
        );
    }

    #[test]
    fn format_pads_and_parse_reads_it_back() {
        let n = OrderNo {
            date: Date::new(2026, 1, 5).unwrap(),
            prefix: "D7".into(),
            seq: 42,
        };
        assert_eq!(n.format(), "WO-20260105-D7-0042");
        assert_eq!(parse(&n.format()), Ok(n), "parse(format(x)) == x");
    }

    #[test]
    fn parse_refuses_everything_format_never_writes() {
        for bad in [
            "",
            "WO-00001",
            "wo-20261203-D7-0001",
            "WO-20261203-D7-0001-",
            "WO-2026123-D7-0001",
            "WO-20261303-D7-0001",
            "WO-20260229-D7-0001",
            "WO-20261203-d7-0001",
            "WO-20261203-D-0001",
            "WO-20261203-ABCDEFG-0001",
            "WO-20261203-D7-001",
            "WO-20261203-D7-00001",
            "WO-20261203-D7-0000",
            "WO-20261203-D7-+001",
            "WO-20261203-D_-0001",
        ] {
            let err = parse(bad).expect_err(bad);
            assert_eq!(err.code(), Code::OrderNoMalformed, "{bad:?}: {err}");
        }
        assert!(
            parse("WO-20240229-AB12CD-9999").is_ok(),
            "a leap day, longest prefix"
        );
    }

    #[test]
    fn prefixes_are_two_to_six_upper_case_letters_or_digits() {
        for good in ["D7", "AB12CD", "00"] {
            assert_eq!(check_prefix(good), Ok(()), "{good}");
        }
        for bad in ["", "D", "ABCDEFG", "d7", "D-7", "Ä1", "D 7"] {
            assert_eq!(
                check_prefix(bad).map_err(|e| e.code()),
                Err(Code::OrderNoBadPrefix),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_next_number_follows_the_highest_of_this_device_and_date_only() {
        let now = DEC_3 + 2 * HOUR;
        let existing = [
            "WO-20261203-D7-0003",
            "WO-20261203-D7-0001",
            "WO-20261203-X9-0050",
            "WO-20261202-D7-0099",
            "WO-00001",
        ];
        let next = next_order_no(existing, "D7", now, 8 * 60).unwrap();
        assert_eq!(
            next.format(),
            "WO-20261203-D7-0004",
            "other devices, other dates and old-style numbers do not count"
        );
        let first = next_order_no([], "D7", now, 8 * 60).unwrap();
        assert_eq!(first.seq, 1, "a day starts at 0001");
        assert_eq!(
            next_order_no([], "d7", now, 0).map_err(|e| e.code()),
            Err(Code::OrderNoBadPrefix)
        );
        assert_eq!(
            next_order_no(["WO-20261203-D7-9999"], "D7", now, 0).map_err(|e| e.code()),
            Err(Code::OrderNoSequenceExhausted),
            "a device never wraps around to a number it already used"
        );
    }
}
