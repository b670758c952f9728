//! The TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s steps, one step of skew): new
//! secrets, the `otpauth://` URI and its QR code for authenticator apps, and code checks.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use rand::Rng as _;
use totp_rs::{Algorithm, Builder, Secret};

/// The issuer shown in authenticator apps.
const ISSUER: &str = "lastmile";

/// A new random 160-bit secret.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// The secret in base32, as users type it when they cannot scan.
pub fn base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// The `otpauth://totp/...` URI for `account`.
pub fn uri(secret: &[u8], account: &str) -> String {
    let label = utf8_percent_encode(&format!("{ISSUER}:{account}"), NON_ALPHANUMERIC).to_string();
    format!(
        "otpauth://totp/{label}?secret={}&issuer={ISSUER}&algorithm=SHA1&digits=6&period=30",
        base32(secret)
    )
}

/// The URI as an SVG QR code.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// The time step `code` is valid for with `secret` at Unix time `now` (one step of skew
/// either way), if it is valid. A caller accepts each step once (RFC 6238 section 5.2).
pub fn check(secret: &[u8], code: &str, now: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .build()
    {
        Ok(totp) => totp.check(code, now),
        Err(_) => None,
    }
}

/// The code for `secret` at Unix time `now` (used by tests and by nothing else).
pub fn code_at(secret: &[u8], now: u64) -> Option<String> {
    let totp = Builder::new().with_secret(secret.to_vec()).build().ok()?;
    Some(totp.generate(now).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vector_checks() {
        // RFC 6238 appendix B: the ASCII secret "12345678901234567890" gives 94287082 at
        // T=59 with 8 digits; its last six digits are the 6-digit code.
        let secret = b"12345678901234567890";
        assert_eq!(check(secret, "287082", 59), Some(1));
        assert_eq!(
            check(secret, "287082", 59 + 30),
            Some(1),
            "one step of skew is allowed"
        );
        assert_eq!(check(secret, "287082", 59 + 90), None);
        assert_eq!(check(secret, "28708x", 59), None);
    }

    #[test]
    fn the_uri_names_the_account_and_the_secret() {
        let secret = new_secret();
        let uri = uri(&secret, "ops@example.com");
        assert!(uri.starts_with("otpauth://totp/lastmile%3Aops%40example%2Ecom?secret="));
        assert!(uri.contains(&base32(&secret)));
        assert!(qr_svg(&uri).is_some_and(|svg| svg.contains("<svg")));
        let now = 1_800_000_000;
        assert!(check(&secret, &code_at(&secret, now).unwrap(), now).is_some());
    }
}
