//! Tables for export (CSV and XLSX): typed cells, the local time they show, a safe file name, and
//! the formula-injection rule. No IO here; the writers are `onsite_app`'s `app/export.rs`.
//!
//! Text a technician or customer typed may start with `=`, `+`, `-`, `@`, a tab or a carriage
//! return (OWASP "CSV injection"): a spreadsheet would run it as a formula. [`csv_text`] prefixes
//! such text with `'`; the XLSX writer stores every text cell as a string cell, which a
//! spreadsheet never evaluates, and keeps the text exactly as typed. Numbers are typed cells, so a
//! real negative number stays a number.

use crate::{HOUR, MINUTE, Millis};

const DAY: Millis = 24 * HOUR;

/// One cell of an exported table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Typed or stored text (names, order numbers, notes): neutralised on export.
    Text(String),
    Int(i64),
    /// Money in cents (fen), shown with two decimals.
    Money(i64),
    /// An instant, shown in the service centre's local time (`YYYY-MM-DD HH:MM`).
    DateTime(Millis),
    /// A share between 0 and 1, shown as a percentage.
    Rate(f64),
    /// A measured number (a mean), shown with one decimal.
    Decimal(f64),
    Empty,
}

/// A table as the screen shows it: title, headers in the chosen language, rows of typed cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Stem of the file name (`completions`, `stock-t-zhang`); made safe by [`file_name`].
    pub name: String,
    /// Sheet title.
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Offset of the centre's local time from UTC, for [`Cell::DateTime`].
    pub utc_offset_ms: Millis,
}

/// Whether a spreadsheet could read `text` as a formula (its first character is `=`, `+`, `-`,
/// `@`, a tab or a carriage return).
pub fn formula_like(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// `text` as it goes into a CSV cell: prefixed with `'` when it is [`formula_like`].
pub fn csv_text(text: &str) -> String {
    if formula_like(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// `at` in local time as `YYYY-MM-DD HH:MM`.
pub fn local_date_time(at: Millis, utc_offset_ms: Millis) -> String {
    let minutes = (at + utc_offset_ms).rem_euclid(DAY) / MINUTE;
    let date = crate::profile::local_date(at, utc_offset_ms);
    format!("{date} {:02}:{:02}", minutes / 60, minutes % 60)
}

/// Cents as a decimal amount with two places (`-1234` → `-12.34`).
pub fn money_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A cell as CSV text: numbers plain, money with two decimals, rates as percentages, text
/// neutralised by [`csv_text`].
pub fn cell_text(cell: &Cell, utc_offset_ms: Millis) -> String {
    match cell {
        Cell::Text(t) => csv_text(t),
        Cell::Int(n) => n.to_string(),
        Cell::Money(c) => money_text(*c),
        Cell::DateTime(at) => local_date_time(*at, utc_offset_ms),
        Cell::Rate(r) => format!("{:.1}%", r * 100.0),
        Cell::Decimal(x) => format!("{x:.1}"),
        Cell::Empty => String::new(),
    }
}

/// `<name>-<local date>.<extension>`, keeping only ASCII letters, digits, `-` and `_` of `name`
/// (anything else becomes `-`), so the name is safe on every file system.
pub fn file_name(name: &str, now: Millis, utc_offset_ms: Millis, extension: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let safe = safe.trim_matches('-');
    let safe = if safe.is_empty() { "table" } else { safe };
    let date = crate::profile::local_date(now, utc_offset_ms);
    format!("{safe}-{date}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_that_a_spreadsheet_would_run_is_prefixed() {
        for t in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(1)", "\tx", "\rx"] {
            assert!(formula_like(t), "{t:?} starts like a formula");
            assert_eq!(csv_text(t), format!("'{t}"), "{t:?} is neutralised in CSV");
        }
        for t in ["张师傅", "WO-1", "a=b", ""] {
            assert_eq!(csv_text(t), t, "{t:?} does not start like a formula");
        }
    }

    #[test]
    fn numbers_stay_numbers_and_text_is_neutralised() {
        assert_eq!(
            cell_text(&Cell::Int(-3), 0),
            "-3",
            "a negative number is not text"
        );
        assert_eq!(cell_text(&Cell::Money(-1234), 0), "-12.34");
        assert_eq!(cell_text(&Cell::Money(5), 0), "0.05");
        assert_eq!(cell_text(&Cell::Rate(0.875), 0), "87.5%");
        assert_eq!(cell_text(&Cell::Decimal(4.66), 0), "4.7");
        assert_eq!(
            cell_text(&Cell::Text("-3".into()), 0),
            "'-3",
            "typed text is text"
        );
    }

    #[test]
    fn times_are_the_centres_local_time() {
        // 2026-12-03 23:30 UTC is 2026-12-04 07:30 in Beijing (UTC+8).
        let at = 1_796_340_600_000;
        assert_eq!(local_date_time(at, 0), "2026-12-03 23:30");
        assert_eq!(local_date_time(at, 8 * HOUR), "2026-12-04 07:30");
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        let at = 1_796_340_600_000;
        assert_eq!(
            file_name("stock-t/zhang 张", at, 8 * HOUR, "csv"),
            "stock-t-zhang-2026-12-04.csv"
        );
        assert_eq!(file_name("../..", at, 0, "xlsx"), "table-2026-12-03.xlsx");
    }
}
