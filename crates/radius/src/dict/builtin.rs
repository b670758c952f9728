//! The built-in dictionary: the crate's own FreeRADIUS-format files under `dictionaries/`
//! (RFC 2865, 2866, 2868, 2869, 3162, 4818, 5176, 6911, Microsoft, MikroTik, WISPr), embedded
//! at compile time and parsed once by the crate's own loader.

use std::sync::OnceLock;

use super::Dictionary;

/// The embedded dictionary files, by name; `dictionary` includes all the others.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("dictionary", include_str!("../../dictionaries/dictionary")),
    (
        "dictionary.rfc2865",
        include_str!("../../dictionaries/dictionary.rfc2865"),
    ),
    (
        "dictionary.rfc2866",
        include_str!("../../dictionaries/dictionary.rfc2866"),
    ),
    (
        "dictionary.rfc2868",
        include_str!("../../dictionaries/dictionary.rfc2868"),
    ),
    (
        "dictionary.rfc2869",
        include_str!("../../dictionaries/dictionary.rfc2869"),
    ),
    (
        "dictionary.rfc3162",
        include_str!("../../dictionaries/dictionary.rfc3162"),
    ),
    (
        "dictionary.rfc5176",
        include_str!("../../dictionaries/dictionary.rfc5176"),
    ),
    (
        "dictionary.rfc6911",
        include_str!("../../dictionaries/dictionary.rfc6911"),
    ),
    (
        "dictionary.microsoft",
        include_str!("../../dictionaries/dictionary.microsoft"),
    ),
    (
        "dictionary.mikrotik",
        include_str!("../../dictionaries/dictionary.mikrotik"),
    ),
    (
        "dictionary.wispr",
        include_str!("../../dictionaries/dictionary.wispr"),
    ),
];

impl Dictionary {
    /// Parses the built-in dictionary files.
    pub fn load_builtin() -> Result<Dictionary, super::DictError> {
        let mut dict = Dictionary::new();
        let mut include = |_: &str, name: &str| {
            Ok(BUILTIN_FILES
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(file, text)| ((*file).to_owned(), (*text).to_owned())))
        };
        let root = BUILTIN_FILES.first().map_or("", |(_, text)| text);
        dict.load_str("dictionary", root, &mut include)?;
        Ok(dict)
    }

    /// The built-in dictionary, parsed on first use. (Its files are part of the crate and a
    /// test parses them, so the empty fallback is never used.)
    pub fn builtin() -> &'static Dictionary {
        static BUILTIN: OnceLock<Dictionary> = OnceLock::new();
        BUILTIN.get_or_init(|| Dictionary::load_builtin().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::{AttrId, Attribute};
    use crate::attrs;

    #[test]
    fn the_builtin_dictionary_parses() {
        let dict = Dictionary::load_builtin().unwrap();
        assert!(dict.len() > 150, "{}", dict.len());
        assert_eq!(dict.vendor_count(), 3);
    }

    #[test]
    fn mikrotik_rate_limit_is_addressed_by_name() {
        let dict = Dictionary::builtin();
        let def = dict.attribute("Mikrotik-Rate-Limit").unwrap();
        assert_eq!(def.id, attrs::MIKROTIK_RATE_LIMIT.id());
        let attribute = dict
            .parse_assignment("Mikrotik-Rate-Limit=10M/50M")
            .unwrap();
        assert_eq!(
            attribute,
            Attribute::new(AttrId::vendor(14988, 8), *b"10M/50M")
        );
        assert_eq!(dict.format(&attribute), "Mikrotik-Rate-Limit = \"10M/50M\"");
    }

    #[test]
    fn every_typed_constant_matches_the_builtin_dictionary() {
        let dict = Dictionary::builtin();
        for (name, id) in [
            (attrs::USER_NAME.name(), attrs::USER_NAME.id()),
            (attrs::EVENT_TIMESTAMP.name(), attrs::EVENT_TIMESTAMP.id()),
            (attrs::ERROR_CAUSE.name(), attrs::ERROR_CAUSE.id()),
            (attrs::MS_CHAP2_SUCCESS.name(), attrs::MS_CHAP2_SUCCESS.id()),
            (
                attrs::WISPR_BANDWIDTH_MAX_DOWN.name(),
                attrs::WISPR_BANDWIDTH_MAX_DOWN.id(),
            ),
            (
                attrs::MIKROTIK_TOTAL_LIMIT_GIGAWORDS.name(),
                attrs::MIKROTIK_TOTAL_LIMIT_GIGAWORDS.id(),
            ),
        ] {
            assert_eq!(dict.attribute(name).map(|d| d.id), Some(id), "{name}");
        }
    }

    #[test]
    fn named_integer_values_and_tags_format_and_parse() {
        let dict = Dictionary::builtin();
        let status = dict
            .parse_assignment("Acct-Status-Type = Interim-Update")
            .unwrap();
        assert_eq!(status.value, 3u32.to_be_bytes());
        assert_eq!(dict.format(&status), "Acct-Status-Type = Interim-Update");
        let tunnel = dict.parse_assignment("Tunnel-Type:1=VLAN").unwrap();
        assert_eq!(tunnel.value, [1, 0, 0, 13]);
        assert_eq!(dict.format(&tunnel), "Tunnel-Type:1 = VLAN");
        let group = dict
            .parse_assignment("Tunnel-Private-Group-Id:1=\"100\"")
            .unwrap();
        assert_eq!(group.value, *b"\x01100");
        assert_eq!(dict.format(&group), "Tunnel-Private-Group-Id:1 = \"100\"");
        assert!(
            dict.parse_assignment("Acct-Status-Type = Sideways")
                .is_err()
        );
        assert!(dict.parse_assignment("No-Such-Attribute = 1").is_err());
    }

    #[test]
    fn unknown_vendors_and_invalid_utf8_are_typed_errors() {
        let dict = Dictionary::builtin();
        let unknown = Attribute::new(AttrId::vendor(4242, 1), *b"x");
        assert!(matches!(
            dict.decode(&unknown),
            Err(super::super::DictError::UnknownAttribute(_))
        ));
        let not_utf8 = Attribute::new(attrs::USER_NAME.id(), [0xffu8, 0xfe]);
        assert!(matches!(
            dict.decode(&not_utf8),
            Err(super::super::DictError::Value { .. })
        ));
    }

    #[test]
    fn unknown_attributes_and_values_that_do_not_fit_format_as_hex() {
        let dict = Dictionary::builtin();
        let unknown = Attribute::new(AttrId::vendor(4242, 1), [1u8, 2]);
        assert_eq!(dict.format(&unknown), "Attr-26.4242.1 = 0x0102");
        let bad = Attribute::new(attrs::SESSION_TIMEOUT.id(), [1u8]);
        assert_eq!(dict.format(&bad), "Session-Timeout = 0x01");
        let binary = Attribute::new(attrs::MS_CHAP_ERROR.id(), *b"\xbcE=691 R=1");
        assert_eq!(dict.format(&binary), "MS-CHAP-Error = \"\\xbcE=691 R=1\"");
    }
}
