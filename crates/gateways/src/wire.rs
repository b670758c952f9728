//! Bounds on what crosses the wire, shared by the client, the webhook verifier and the
//! simulator: how large a body may be, and what an identifier, a reference and a currency
//! code may look like. Each check returns a message fit for an error (it names the field,
//! never echoes a long or hostile value).

/// The largest response or webhook body read: 1 MiB.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// The longest identifier (payment, event, transaction) or reference accepted.
pub(crate) const MAX_ID: usize = 255;

/// The longest free text (a description, a URL) accepted.
pub(crate) const MAX_TEXT: usize = 2048;

/// An identifier: 1 to 255 printable ASCII characters, no spaces.
pub(crate) fn identifier(field: &str, value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!("{field} is empty"));
    }
    if value.len() > MAX_ID {
        return Err(format!("{field} is longer than {MAX_ID} bytes"));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("{field} has characters other than printable ASCII"));
    }
    Ok(value.to_owned())
}

/// A reference of ours as the provider echoes it: 1 to 255 bytes, no control characters.
pub(crate) fn reference(field: &str, value: &str) -> Result<String, String> {
    text(field, value, MAX_ID).and_then(|v| {
        if v.is_empty() {
            Err(format!("{field} is empty"))
        } else {
            Ok(v)
        }
    })
}

/// Free text of at most `max` bytes, no control characters.
pub(crate) fn text(field: &str, value: &str, max: usize) -> Result<String, String> {
    if value.len() > max {
        return Err(format!("{field} is longer than {max} bytes"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field} has control characters"));
    }
    Ok(value.to_owned())
}

/// An ISO 4217 code in either case, returned upper case.
pub(crate) fn currency(field: &str, value: &str) -> Result<String, String> {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(value.to_ascii_uppercase())
    } else {
        Err(format!("{field} is not a three-letter currency code"))
    }
}

/// An amount in minor units that must be positive.
pub(crate) fn positive(field: &str, value: i64) -> Result<i64, String> {
    if value > 0 {
        Ok(value)
    } else {
        Err(format!("{field} must be greater than zero"))
    }
}

/// At most the first 200 characters of a provider's message, control characters dropped:
/// it ends up in logs and error pages.
pub(crate) fn excerpt(message: &str) -> String {
    message
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_bounded_printable_ascii() {
        assert!(identifier("id", "cs_test_123").is_ok());
        assert!(identifier("id", "").is_err());
        assert!(identifier("id", "a b").is_err());
        assert!(identifier("id", "é").is_err());
        assert!(identifier("id", &"a".repeat(MAX_ID)).is_ok());
        assert!(identifier("id", &"a".repeat(MAX_ID + 1)).is_err());
    }

    #[test]
    fn currencies_come_back_upper_case() {
        assert_eq!(currency("c", "usd").as_deref(), Ok("USD"));
        assert!(currency("c", "us").is_err());
        assert!(currency("c", "U5D").is_err());
    }

    #[test]
    fn excerpts_drop_control_characters_and_stop_at_200() {
        assert_eq!(excerpt("a\nb\u{7}c"), "abc");
        assert_eq!(excerpt(&"x".repeat(1000)).len(), 200);
    }
}
