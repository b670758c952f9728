//! MAC addresses as users type them (`AA:BB:CC:DD:EE:FF`, `aa-bb-cc-dd-ee-ff`,
//! `aabb.ccdd.eeff`, `aabbccddeeff`), stored and shown as RouterOS writes them: upper case,
//! colon separated.

use std::fmt;

/// A MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr([u8; 6]);

impl MacAddr {
    /// Parses any common notation; `None` if it is not six bytes of hex.
    pub fn parse(text: &str) -> Option<Self> {
        let hex: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, ':' | '-' | '.'))
            .collect();
        if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut bytes = [0u8; 6];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
        }
        Some(Self(bytes))
    }

    /// The bytes.
    pub fn bytes(self) -> [u8; 6] {
        self.0
    }

    /// True for a locally administered address (the randomised MACs of phones).
    pub fn is_random(self) -> bool {
        self.0[0] & 0x02 != 0
    }
}

/// The start of a MAC address as a search box gets it (`aa:bb`, `AABB`, `aa-bb-c`), in the
/// stored form (`AA:BB`, `AA:BB:C`): at least two hex digits, at most twelve, in any of the
/// usual notations. `None` for anything else.
pub fn mac_prefix(text: &str) -> Option<String> {
    let hex: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    if !(2..=12).contains(&hex.len()) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let upper = hex.to_ascii_uppercase();
    let mut out = String::with_capacity(17);
    for (i, c) in upper.chars().enumerate() {
        if i > 0 && i % 2 == 0 {
            out.push(':');
        }
        out.push(c);
    }
    Some(out)
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02X}:{b:02X}:{c:02X}:{d:02X}:{e:02X}:{g:02X}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_notation_parses_to_the_routeros_form() {
        for text in [
            "aa:bb:cc:dd:ee:0f",
            "AA-BB-CC-DD-EE-0F",
            "aabb.ccdd.ee0f",
            "aabbccddee0f",
        ] {
            assert_eq!(
                MacAddr::parse(text).unwrap().to_string(),
                "AA:BB:CC:DD:EE:0F",
                "{text}"
            );
        }
        for text in [
            "",
            "aa:bb:cc:dd:ee",
            "gg:bb:cc:dd:ee:ff",
            "aa:bb:cc:dd:ee:ff:00",
            "ａａ:bb:cc:dd:ee:ff",
        ] {
            assert_eq!(MacAddr::parse(text), None, "{text}");
        }
        assert!(MacAddr::parse("02:00:00:00:00:01").unwrap().is_random());
        assert!(!MacAddr::parse("00:0C:42:00:00:01").unwrap().is_random());
    }

    #[test]
    fn the_start_of_a_mac_reads_in_the_stored_form() {
        assert_eq!(mac_prefix("aa:bb").as_deref(), Some("AA:BB"));
        assert_eq!(mac_prefix("aabbc").as_deref(), Some("AA:BB:C"));
        assert_eq!(
            mac_prefix("AA-BB-CC-DD-EE-FF").as_deref(),
            Some("AA:BB:CC:DD:EE:FF")
        );
        for bad in ["a", "zz:yy", "aa:bb:cc:dd:ee:ff:00", "rahim"] {
            assert_eq!(mac_prefix(bad), None, "{bad}");
        }
    }
}
