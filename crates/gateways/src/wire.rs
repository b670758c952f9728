//! Bounds on what crosses the wire, shared by the client, the webhook verifier and the
//! simulator: how large a body may be, what an identifier, a reference and a currency code
//! may look like, how many decimals a currency has, and how a form-encoded body or query
//! string is read. Each check returns a message fit for an error (it names the field, never
//! echoes a long or hostile value).

use std::collections::HashMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str};

/// The largest response or webhook body read: 1 MiB.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// The longest identifier (payment, event, transaction) or reference accepted.
pub(crate) const MAX_ID: usize = 255;

/// The longest free text (a description, a URL) accepted.
pub(crate) const MAX_TEXT: usize = 2048;

/// The most fields a form-encoded body or query string may have.
pub(crate) const MAX_FORM_FIELDS: usize = 200;

/// What a URL path segment keeps unescaped.
pub(crate) const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

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

/// How many decimals `currency` (upper case) has in its major unit: 0, 2 or 3 (ISO 4217;
/// the few currencies without minor units or with three decimals are listed, the rest have
/// two).
pub(crate) fn minor_digits(currency: &str) -> u32 {
    const NO_DECIMALS: [&str; 16] = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
        "XAF", "XOF", "XPF",
    ];
    const THREE_DECIMALS: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    if NO_DECIMALS.contains(&currency) {
        0
    } else if THREE_DECIMALS.contains(&currency) {
        3
    } else {
        2
    }
}

/// The fields of a form-encoded body or query string (`a=1&b=x+y`, a leading `?` allowed),
/// decoded, in order: `+` is a space, `%XX` a byte, and what they spell must be UTF-8. At
/// most [`MAX_FORM_FIELDS`]; empty segments are skipped; a field without `=` has an empty
/// value.
pub(crate) fn form(text: &str) -> Result<Vec<(String, String)>, String> {
    let text = text.strip_prefix('?').unwrap_or(text);
    let mut fields = Vec::new();
    for part in text.split('&').filter(|p| !p.is_empty()) {
        if fields.len() == MAX_FORM_FIELDS {
            return Err(format!("more than {MAX_FORM_FIELDS} fields"));
        }
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let decode = |s: &str| -> Result<String, String> {
            let spaced = s.replace('+', " ");
            percent_decode_str(&spaced)
                .decode_utf8()
                .map(|v| v.into_owned())
                .map_err(|_| "a field is not UTF-8 once decoded".to_owned())
        };
        fields.push((decode(key)?, decode(value)?));
    }
    Ok(fields)
}

/// The fields of a form as a map; a name given twice is refused (which of the two a
/// signature covers, and which a reader takes, would otherwise be anyone's guess).
pub(crate) fn unique_fields(
    fields: Vec<(String, String)>,
) -> Result<HashMap<String, String>, String> {
    let mut map = HashMap::with_capacity(fields.len());
    for (key, value) in fields {
        if map.contains_key(&key) {
            return Err(format!("field {} is given twice", excerpt(&key)));
        }
        map.insert(key, value);
    }
    Ok(map)
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
    fn forms_decode_plus_and_percent_and_refuse_duplicates_when_asked() {
        let fields = form("?a=1&b=x+y%26z&&c&d=%C3%A9").unwrap();
        assert_eq!(
            fields,
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "x y&z".to_owned()),
                ("c".to_owned(), String::new()),
                ("d".to_owned(), "é".to_owned()),
            ]
        );
        assert!(form("a=%FF").is_err());
        assert!(form(&"a=1&".repeat(MAX_FORM_FIELDS + 1)).is_err());
        assert!(unique_fields(form("a=1&b=2").unwrap()).is_ok());
        assert!(unique_fields(form("a=1&a=1").unwrap()).is_err());
    }

    #[test]
    fn minor_digits_follow_iso_4217() {
        assert_eq!(minor_digits("BDT"), 2);
        assert_eq!(minor_digits("JPY"), 0);
        assert_eq!(minor_digits("KWD"), 3);
    }

    #[test]
    fn excerpts_drop_control_characters_and_stop_at_200() {
        assert_eq!(excerpt("a\nb\u{7}c"), "abc");
        assert_eq!(excerpt(&"x".repeat(1000)).len(), 200);
    }
}
