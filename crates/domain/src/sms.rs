//! SMS rules (hotspot-design §4.2): how many parts a text costs, and the templates staff
//! write for each event.
//!
//! A text in the GSM 03.38 alphabet is sent in 7-bit parts (160 characters alone, 153 per
//! part when split, the characters of the extension table counting twice and never split
//! across parts); anything else (Bangla, most emoji) in UCS-2 (70 alone, 67 per part,
//! counted in UTF-16 units, a surrogate pair never split). Gateways bill per part, so the
//! panel shows the count before a template is saved.
//!
//! A template is text with `{name}` placeholders from a fixed set per event; an unknown
//! name is refused when the template is saved, not when a customer is waiting for it.

use serde::{Deserialize, Serialize};

use crate::field::FieldError;

/// How a text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// The GSM 7-bit default alphabet.
    Gsm7,
    /// UCS-2 (UTF-16).
    Ucs2,
}

/// What sending a text costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Segments {
    /// The encoding it needs.
    pub encoding: Encoding,
    /// Its length in that encoding's units (septets, or UTF-16 units).
    pub units: usize,
    /// The parts it is sent in (0 for an empty text).
    pub parts: usize,
}

/// The GSM 03.38 default alphabet (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table (an escape and a septet each).
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

fn gsm_units(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The parts `text` is sent in.
pub fn segments(text: &str) -> Segments {
    let gsm: Option<Vec<usize>> = text.chars().map(gsm_units).collect();
    match gsm {
        Some(units) => Segments {
            encoding: Encoding::Gsm7,
            units: units.iter().sum(),
            parts: parts(&units, 160, 153),
        },
        None => {
            let units: Vec<usize> = text.chars().map(char::len_utf16).collect();
            Segments {
                encoding: Encoding::Ucs2,
                units: units.iter().sum(),
                parts: parts(&units, 70, 67),
            }
        }
    }
}

/// Parts needed for characters of `units` each: one if all fit in `single`, else parts of
/// `each`, a character never split between two.
fn parts(units: &[usize], single: usize, each: usize) -> usize {
    let total: usize = units.iter().sum();
    if total == 0 {
        return 0;
    }
    if total <= single {
        return 1;
    }
    let (mut count, mut used) = (1, 0);
    for u in units {
        if used + u > each {
            count += 1;
            used = 0;
        }
        used += u;
    }
    count
}

/// Most parts a template may cost (a longer text is a letter, not an SMS).
pub const MAX_PARTS: usize = 6;

/// Checks a template: every `{name}` among `allowed`, braces closed, at most
/// [`MAX_PARTS`] parts with the placeholders as written.
pub fn check_template(text: &str, allowed: &[&str]) -> Result<(), FieldError> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(FieldError::new("template", "unclosed_placeholder"));
        };
        let name = &after[..close];
        if !allowed.contains(&name) {
            return Err(FieldError::new("template", "unknown_placeholder")
                .with("name", name)
                .with("allowed", allowed.join(", ")));
        }
        rest = &after[close + 1..];
    }
    if text.trim().is_empty() {
        return Err(FieldError::new("template", "required"));
    }
    if segments(text).parts > MAX_PARTS {
        return Err(FieldError::new("template", "too_long").with("max", MAX_PARTS));
    }
    Ok(())
}

/// The template with each `{name}` replaced by its value (a name without a value stays as
/// written: [`check_template`] keeps them out).
pub fn render(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match values.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_text_is_one_gsm_part_up_to_160_and_153_per_part_after() {
        assert_eq!(
            segments(""),
            Segments {
                encoding: Encoding::Gsm7,
                units: 0,
                parts: 0
            }
        );
        assert_eq!(segments(&"a".repeat(160)).parts, 1);
        assert_eq!(segments(&"a".repeat(161)).parts, 2);
        assert_eq!(segments(&"a".repeat(306)).parts, 2);
        assert_eq!(segments(&"a".repeat(307)).parts, 3);
    }

    #[test]
    fn extension_characters_count_twice_and_are_never_split() {
        let s = segments("€10 [promo]");
        assert_eq!(s.encoding, Encoding::Gsm7);
        assert_eq!(s.units, 14);
        // 152 plain characters then a euro sign: the escape pair does not fit in the first
        // part of 153.
        let text = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        assert_eq!(segments(&text).units, 164);
        assert_eq!(segments(&text).parts, 2);
    }

    #[test]
    fn bangla_goes_in_ucs2_parts_of_70_and_67() {
        let otp = "আপনার কোড 123456";
        let s = segments(otp);
        assert_eq!(s.encoding, Encoding::Ucs2);
        assert_eq!(s.units, otp.chars().count());
        assert_eq!(s.parts, 1);
        assert_eq!(segments(&"ক".repeat(70)).parts, 1);
        assert_eq!(segments(&"ক".repeat(71)).parts, 2);
        assert_eq!(segments(&"ক".repeat(134)).parts, 2);
        assert_eq!(segments(&"ক".repeat(135)).parts, 3);
        // An emoji is a surrogate pair: two units, never split.
        let text = format!("{}😀", "ক".repeat(66));
        assert_eq!(segments(&text).units, 68);
        assert_eq!(segments(&text).parts, 1);
    }

    #[test]
    fn templates_name_only_their_events_placeholders() {
        let allowed = ["name", "code", "minutes"];
        assert!(check_template("Your code is {code}, valid {minutes} min.", &allowed).is_ok());
        let unknown = check_template("Hi {nme}", &allowed).unwrap_err();
        assert_eq!(unknown.code, "unknown_placeholder");
        assert_eq!(
            check_template("Hi {name", &allowed).unwrap_err().code,
            "unclosed_placeholder"
        );
        assert_eq!(check_template("  ", &allowed).unwrap_err().code, "required");
        assert_eq!(
            check_template(&"x".repeat(1000), &allowed)
                .unwrap_err()
                .code,
            "too_long"
        );
        assert_eq!(
            render(
                "{name}, your code is {code}.",
                &[("name", "Rahim"), ("code", "123456")]
            ),
            "Rahim, your code is 123456."
        );
        assert_eq!(render("{other} {", &[]), "{other} {");
    }
}
