//! Bounded text: names and free text as they come from forms, trimmed, checked for length in
//! characters and stripped of control characters, so nothing unprintable reaches a page, a
//! log line or a router.

use crate::field::FieldError;

/// Trims `raw` and checks it is between `min` and `max` characters without control
/// characters. `field` names the input in the error.
pub fn bounded(field: &str, raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    let length = value.chars().count();
    if length == 0 && min > 0 {
        return Err(FieldError::new(field, "required"));
    }
    if length < min {
        return Err(FieldError::new(field, "too_short").with("min", min));
    }
    if length > max {
        return Err(FieldError::new(field, "too_long").with("max", max));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(field, "control_characters"));
    }
    Ok(value.to_owned())
}

/// Text made safe for a spreadsheet: a cell starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would be read as a formula (CSV injection), so it is given a leading
/// apostrophe, which spreadsheets show as text. Every CSV export that carries names written
/// by people goes through this.
pub fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_prefixes_are_neutralised_and_other_text_kept() {
        for hostile in ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(hostile), format!("'{hostile}"));
        }
        assert_eq!(spreadsheet_safe("Rahim, \"Mirpur\""), "Rahim, \"Mirpur\"");
        assert_eq!(spreadsheet_safe(""), "");
    }

    #[test]
    fn bounded_text_is_trimmed_and_measured_in_characters() {
        assert_eq!(bounded("name", "  রহিম  ", 1, 5).unwrap(), "রহিম");
        assert_eq!(bounded("name", "", 1, 5).unwrap_err().code, "required");
        assert_eq!(
            bounded("name", "abcdef", 1, 5).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            bounded("name", "a\u{7}b", 1, 5).unwrap_err().code,
            "control_characters"
        );
        assert_eq!(bounded("note", "", 0, 5).unwrap(), "");
    }
}
