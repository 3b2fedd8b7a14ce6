//! Chinese phone numbers as the registry keeps them: digits only, without the country code.
//! A mobile number is 11 digits starting with 1 (`13800000001`); a landline keeps its area code
//! with the leading 0 (`021-12345678` → `02112345678`). Customers are found and matched by this
//! form, so `138 0000 0001`, `+86 138-0000-0001` and `0086 13800000001` are one number.

use crate::DomainError;

/// Separators people and spreadsheets put into numbers.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{3000}' | '\t' | '-' | '‐' | '–' | '—' | '－' | '(' | ')' | '（' | '）' | '.'
    )
}

/// The number with separators removed and full-width digits made ASCII; `+` is kept.
fn compact(input: &str) -> String {
    input
        .trim()
        .chars()
        .filter(|c| !is_separator(*c))
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '＋' => '+',
            other => other,
        })
        .collect()
}

fn is_mobile(d: &str) -> bool {
    d.len() == 11 && d.starts_with('1')
}

fn is_landline(d: &str) -> bool {
    // Area code 0 + 2–3 digits (010, 021, 0755, …), subscriber number 7–8 digits.
    (10..=12).contains(&d.len()) && d.starts_with('0') && !d.starts_with("00")
}

/// Normalise a Chinese mobile or landline number (see the module docs). Anything else — letters,
/// too few or too many digits, a number in Excel's scientific notation — is refused with
/// `registry.bad_phone`.
pub fn normalise(input: &str) -> Result<String, DomainError> {
    let bad = || DomainError::BadPhone(input.chars().take(40).collect());
    let c = compact(input);
    let (international, digits) = if let Some(rest) = c.strip_prefix("+86") {
        (true, rest)
    } else if let Some(rest) = c.strip_prefix("0086") {
        (true, rest)
    } else {
        (false, c.as_str())
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if !international && let Some(rest) = digits.strip_prefix("86") {
        // "86" written without "+": only a mobile number can follow without ambiguity.
        if is_mobile(rest) {
            return Ok(rest.to_owned());
        }
    }
    if is_mobile(digits) {
        return Ok(digits.to_owned());
    }
    // In international form a landline drops its leading 0 (+86 21 1234 5678).
    let landline = if international && !digits.starts_with('0') {
        format!("0{digits}")
    } else {
        digits.to_owned()
    };
    if is_landline(&landline) {
        Ok(landline)
    } else {
        Err(bad())
    }
}

/// The digits of a search query for a phone number, with the country code and separators
/// removed (`+86 138` → `138`), or `None` when the query is not a (partial) number.
pub fn query_digits(query: &str) -> Option<String> {
    let c = compact(query);
    let rest = c
        .strip_prefix("+86")
        .or_else(|| c.strip_prefix("0086"))
        .unwrap_or(&c);
    (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())).then(|| rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_and_landlines_in_their_usual_spellings_normalise() {
        for (input, want) in [
            ("13800000001", "13800000001"),
            ("138 0000 0001", "13800000001"),
            ("138-0000-0001", "13800000001"),
            ("+86 138 0000 0001", "13800000001"),
            ("+86-13800000001", "13800000001"),
            ("0086 13800000001", "13800000001"),
            ("8613800000001", "13800000001"),
            ("（+86）13800000001", "13800000001"),
            ("１３８００００００01", "13800000001"),
            ("021-12345678", "02112345678"),
            ("(021) 1234 5678", "02112345678"),
            ("0755-1234567", "07551234567"),
            ("010 12345678", "01012345678"),
            ("+86 21 12345678", "02112345678"),
            ("+86 755 1234 5678", "075512345678"),
        ] {
            assert_eq!(
                normalise(input).as_deref(),
                Ok(want),
                "'{input}' is the number {want}"
            );
        }
    }

    #[test]
    fn bad_numbers_are_refused_with_a_code() {
        for input in [
            "",
            "   ",
            "1380000000",
            "138000000012",
            "23800000001",
            "1.38E+10",
            "138-0000-000x",
            "12345",
            "0021-12345678",
            "+1 415 555 0100",
            "021-123",
        ] {
            let err = normalise(input).expect_err(input);
            assert_eq!(
                err.code(),
                "registry.bad_phone",
                "'{input}' must be refused"
            );
        }
    }

    #[test]
    fn search_queries_keep_partial_numbers() {
        assert_eq!(query_digits("+86 138").as_deref(), Some("138"));
        assert_eq!(query_digits("0000-0001").as_deref(), Some("00000001"));
        assert_eq!(query_digits("张伟"), None, "a name is not a number");
        assert_eq!(query_digits(""), None);
    }
}
