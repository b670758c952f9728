//! The webhook signature scheme both providers share (Stripe's, which the generic protocol
//! copies): a header `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` where each `v1` is
//! `hex(HMAC-SHA256(secret, "{t}.{raw body}"))`. Several `v1` values appear while a secret
//! is being rotated; one match is enough. Comparison is constant-time (`Mac::verify_slice`).
//! Timestamp tolerance is the caller's ([`crate::webhook`]); this module only signs, parses
//! and matches.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The longest signature header accepted.
pub(crate) const MAX_HEADER: usize = 4096;

/// A parsed signature header.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    /// `t` as sent: the signed payload uses these exact characters.
    timestamp_text: &'a str,
    /// `t` as a number.
    pub(crate) timestamp: i64,
    /// Every `v1` value, as sent.
    signatures: Vec<&'a str>,
}

/// Parses `t=…,v1=…`: exactly one `t` of ASCII digits; any number of `v1`; other schemes
/// (Stripe's `v0`) ignored.
pub(crate) fn parse(value: &str) -> Result<Header<'_>, String> {
    if value.len() > MAX_HEADER {
        return Err(format!(
            "signature header is longer than {MAX_HEADER} bytes"
        ));
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in value.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err("signature header has an element without '='".to_owned());
        };
        match key {
            "t" if timestamp.is_some() => {
                return Err("signature header has more than one timestamp".to_owned());
            }
            "t" => timestamp = Some(value),
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let timestamp_text = timestamp.ok_or("signature header has no timestamp")?;
    if timestamp_text.is_empty()
        || timestamp_text.len() > 18
        || !timestamp_text.bytes().all(|b| b.is_ascii_digit())
    {
        return Err("signature timestamp is not a number of seconds".to_owned());
    }
    let timestamp = timestamp_text
        .parse()
        .map_err(|_| "signature timestamp is not a number of seconds".to_owned())?;
    Ok(Header {
        timestamp_text,
        timestamp,
        signatures,
    })
}

impl Header<'_> {
    /// Whether any `v1` is the signature of `body` under `secret`. An empty secret matches
    /// nothing: anyone could sign with it.
    pub(crate) fn matches(&self, secret: &str, body: &[u8]) -> bool {
        let Some(mac) = mac(secret, self.timestamp_text, body) else {
            return false;
        };
        // Every candidate is checked, so the time taken does not say which one matched.
        let mut matched = false;
        for signature in &self.signatures {
            if let Ok(bytes) = hex::decode(signature) {
                matched |= mac.clone().verify_slice(&bytes).is_ok();
            }
        }
        matched
    }
}

/// The header value signing `body` at `timestamp` with `secret`.
pub(crate) fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let text = timestamp.to_string();
    let signature = mac(secret, &text, body)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default();
    format!("t={text},v1={signature}")
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Option<HmacSha256> {
    if secret.is_empty() {
        return None;
    }
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_matches_its_own_body_only() {
        let value = sign("whsec_1", 1_700_000_000, b"{}");
        let header = parse(&value).unwrap();
        assert_eq!(header.timestamp, 1_700_000_000);
        assert!(header.matches("whsec_1", b"{}"));
        assert!(!header.matches("whsec_1", b"{ }"));
        assert!(!header.matches("whsec_2", b"{}"));
        assert!(!header.matches("", b"{}"));
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // RFC 4231-style check by hand: HMAC-SHA256("key", "1.{}").
        let value = sign("key", 1, b"{}");
        let mut mac = HmacSha256::new_from_slice(b"key").unwrap();
        mac.update(b"1.{}");
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(value, format!("t=1,v1={expected}"));
    }

    #[test]
    fn headers_without_a_numeric_timestamp_are_refused() {
        assert!(parse("v1=abcd").is_err());
        assert!(parse("t=,v1=abcd").is_err());
        assert!(parse("t=-5,v1=abcd").is_err());
        assert!(parse("t=1e3,v1=abcd").is_err());
        assert!(parse("t=1,t=2,v1=abcd").is_err());
        assert!(parse("t=1,garbage").is_err());
        assert!(parse("t=9999999999999999999999,v1=ab").is_err());
    }

    #[test]
    fn unknown_schemes_are_ignored() {
        let header = parse("t=5, v0=zz, v1=ab").unwrap();
        assert_eq!(header.signatures, vec!["ab"]);
    }
}
