//! Random tokens for sessions, API access, CSRF and setup links, and their stored hashes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use sha2::{Digest, Sha256};

/// A new random token: 256 bits, URL-safe, with a short prefix saying what it is for
/// (`lm_` for API tokens) so a leaked one is recognisable.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of a token, hex: what is stored in place of the token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time equality of two strings (CSRF tokens, setup tokens).
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hash_to_hex() {
        let a = new_token("lm_");
        let b = new_token("lm_");
        assert!(a.starts_with("lm_") && a.len() > 40);
        assert_ne!(a, b);
        assert_eq!(hash(&a).len(), 64);
        assert_eq!(hash(&a), hash(&a));
        assert!(same(&a, &a.clone()) && !same(&a, &b));
    }
}
