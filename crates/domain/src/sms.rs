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
//! Each [`Event`] has a default text in English and Bangla, which a tenant may replace.

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

/// What a message is about; each has its placeholders and default texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A sign-in code at the captive portal.
    Otp,
    /// An account made at the captive portal.
    Welcome,
    /// A recharge, by staff, card or online payment.
    Recharge,
    /// A payment recorded.
    Payment,
    /// A postpaid invoice issued.
    InvoiceIssued,
    /// Paid time ends soon.
    ExpiryReminder,
    /// An invoice falls due soon.
    DueReminder,
    /// Suspended for an unpaid invoice.
    SuspendedUnpaid,
    /// Paid time ended.
    Expired,
}

impl Event {
    /// Every event.
    pub const ALL: [Event; 9] = [
        Event::Otp,
        Event::Welcome,
        Event::Recharge,
        Event::Payment,
        Event::InvoiceIssued,
        Event::ExpiryReminder,
        Event::DueReminder,
        Event::SuspendedUnpaid,
        Event::Expired,
    ];

    /// Whether a tenant may not switch its messages off: a sign-in code is how a phone
    /// proves its mobile at the captive portal.
    pub fn required(self) -> bool {
        self == Event::Otp
    }

    /// The stored name (a notification's `kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Otp => "otp",
            Event::Welcome => "welcome",
            Event::Recharge => "recharge",
            Event::Payment => "payment",
            Event::InvoiceIssued => "invoice_issued",
            Event::ExpiryReminder => "expiry_reminder",
            Event::DueReminder => "due_reminder",
            Event::SuspendedUnpaid => "suspended_unpaid",
            Event::Expired => "expired",
        }
    }

    /// The event named `text`.
    pub fn parse(text: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == text)
    }

    /// The placeholders its templates may use.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            Event::Otp => &["network", "code", "minutes"],
            Event::Welcome => &["network", "name", "package"],
            Event::Recharge => &["network", "name", "package", "amount", "expires"],
            Event::Payment => &["network", "name", "amount"],
            Event::InvoiceIssued => &["network", "name", "amount", "due"],
            Event::ExpiryReminder => &["network", "name", "expires"],
            Event::DueReminder => &["network", "name", "due"],
            Event::SuspendedUnpaid | Event::Expired => &["network", "name"],
        }
    }

    /// What a placeholder stands for in a preview.
    pub fn sample(name: &str) -> &'static str {
        match name {
            "network" => "Dhaka Net",
            "code" => "482913",
            "minutes" => "5",
            "name" => "Rahim Uddin",
            "package" => "Home 20M",
            "amount" => "BDT 1,050.00",
            "expires" | "due" => "2026-12-31",
            _ => "",
        }
    }

    /// The text used when the tenant has set none, in `lang` (`en` or `bn`).
    pub fn default_text(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Event::Otp, Lang::En) => {
                "{code} is your {network} Wi-Fi code. Valid {minutes} min. Do not share it."
            }
            (Event::Otp, Lang::Bn) => {
                "{code} আপনার {network} ওয়াই-ফাই কোড। {minutes} মিনিট বৈধ। কাউকে দেবেন না।"
            }
            (Event::Welcome, Lang::En) => "Welcome to {network}, {name}. Your package: {package}.",
            (Event::Welcome, Lang::Bn) => "{network}-এ স্বাগতম, {name}। আপনার প্যাকেজ: {package}।",
            (Event::Recharge, Lang::En) => {
                "{network}: {package} recharged ({amount}). Valid until {expires}."
            }
            (Event::Recharge, Lang::Bn) => {
                "{network}: {package} রিচার্জ হয়েছে ({amount})। মেয়াদ {expires} পর্যন্ত।"
            }
            (Event::Payment, Lang::En) => {
                "{network}: payment of {amount} received. Thank you, {name}."
            }
            (Event::Payment, Lang::Bn) => "{network}: {amount} পেমেন্ট পাওয়া গেছে। ধন্যবাদ, {name}।",
            (Event::InvoiceIssued, Lang::En) => "{network}: your bill of {amount} is due on {due}.",
            (Event::InvoiceIssued, Lang::Bn) => {
                "{network}: আপনার {amount} বিল {due} তারিখের মধ্যে দিন।"
            }
            (Event::ExpiryReminder, Lang::En) => {
                "{network}: your internet expires on {expires}. Recharge to stay online."
            }
            (Event::ExpiryReminder, Lang::Bn) => {
                "{network}: আপনার ইন্টারনেটের মেয়াদ {expires} তারিখে শেষ। চালু রাখতে রিচার্জ করুন।"
            }
            (Event::DueReminder, Lang::En) => {
                "{network}: your bill is due on {due}. Please pay to avoid suspension."
            }
            (Event::DueReminder, Lang::Bn) => {
                "{network}: আপনার বিল পরিশোধের শেষ তারিখ {due}। সংযোগ চালু রাখতে পরিশোধ করুন।"
            }
            (Event::SuspendedUnpaid, Lang::En) => {
                "{network}: your connection is suspended for an unpaid bill. Pay to restore it."
            }
            (Event::SuspendedUnpaid, Lang::Bn) => {
                "{network}: বিল বকেয়া থাকায় আপনার সংযোগ বন্ধ। চালু করতে পরিশোধ করুন।"
            }
            (Event::Expired, Lang::En) => {
                "{network}: your internet has expired. Recharge to get back online."
            }
            (Event::Expired, Lang::Bn) => {
                "{network}: আপনার ইন্টারনেটের মেয়াদ শেষ। আবার চালু করতে রিচার্জ করুন।"
            }
        }
    }
}

/// A language messages are written in.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// English (GSM 7-bit: the cheapest parts).
    #[default]
    En,
    /// Bangla (UCS-2: about twice the parts).
    Bn,
}

impl Lang {
    /// Every language.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Bn];

    /// Its code.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Bn => "bn",
        }
    }

    /// The language with code `text`.
    pub fn parse(text: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.as_str() == text)
    }
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
    let parts = segments(text).parts;
    if parts > MAX_PARTS {
        return Err(FieldError::new("template", "too_many_parts")
            .with("parts", parts)
            .with("max", MAX_PARTS));
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
    fn every_default_text_is_a_valid_template_of_its_event() {
        for event in Event::ALL {
            assert_eq!(Event::parse(event.as_str()), Some(event));
            for lang in Lang::ALL {
                let text = event.default_text(lang);
                assert!(
                    check_template(text, event.placeholders()).is_ok(),
                    "{event:?} {lang:?}"
                );
                let values: Vec<(&str, &str)> = event
                    .placeholders()
                    .iter()
                    .map(|n| (*n, Event::sample(n)))
                    .collect();
                let shown = render(text, &values);
                assert!(!shown.contains('{'), "{shown}");
                // One part in English; Bangla costs more, but at most two.
                let parts = segments(&shown).parts;
                match lang {
                    Lang::En => assert_eq!(parts, 1, "{shown}"),
                    Lang::Bn => assert!(parts <= 2, "{shown}"),
                }
            }
        }
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
            "too_many_parts"
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
