//! CHAP (RFC 1994, RFC 2865 §5.3 and §5.40): CHAP-Password is the CHAP identifier followed by
//! MD5(identifier + password + challenge); the challenge is CHAP-Challenge when present,
//! otherwise the Request Authenticator. MikroTik Hotspot uses CHAP by default.

use thiserror::Error;

use crate::attrs;
use crate::crypto::{ct_eq, md5};
use crate::packet::Packet;

/// Why a CHAP request cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChapError {
    /// The request has no CHAP-Password.
    #[error("request has no CHAP-Password")]
    Missing,
    /// CHAP-Password is not 17 octets.
    #[error("CHAP-Password of {0} octets (must be 17)")]
    BadLength(usize),
}

/// The CHAP response: MD5(identifier + password + challenge).
pub fn response(identifier: u8, password: &[u8], challenge: &[u8]) -> [u8; 16] {
    md5(&[&[identifier], password, challenge])
}

/// Adds CHAP-Password (and CHAP-Challenge when `challenge` is given; otherwise the Request
/// Authenticator is the challenge, as MikroTik does for 16-octet challenges).
pub fn add_chap_password(
    request: &mut Packet,
    identifier: u8,
    password: &[u8],
    challenge: Option<&[u8]>,
) {
    let authenticator = request.authenticator;
    let challenge = match challenge {
        Some(challenge) => {
            request.set(attrs::CHAP_CHALLENGE, &challenge.to_vec());
            challenge
        }
        None => &authenticator[..],
    };
    let mut value = vec![identifier];
    value.extend_from_slice(&response(identifier, password, challenge));
    request.set(attrs::CHAP_PASSWORD, &value);
}

/// Checks the request's CHAP-Password against the cleartext password.
pub fn verify(request: &Packet, password: &[u8]) -> Result<bool, ChapError> {
    let value = request
        .get(attrs::CHAP_PASSWORD.id())
        .ok_or(ChapError::Missing)?;
    let Some((identifier, received)) = value.split_first().filter(|(_, r)| r.len() == 16) else {
        return Err(ChapError::BadLength(value.len()));
    };
    let challenge = request
        .get(attrs::CHAP_CHALLENGE.id())
        .unwrap_or(&request.authenticator);
    Ok(ct_eq(&response(*identifier, password, challenge), received))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::Code;

    #[test]
    fn chap_with_the_authenticator_as_challenge_is_verified() {
        let mut request = Packet::new(Code::AccessRequest, 3);
        add_chap_password(&mut request, 7, b"secret1", None);
        assert_eq!(verify(&request, b"secret1"), Ok(true));
        assert_eq!(verify(&request, b"secret2"), Ok(false));
    }

    #[test]
    fn chap_with_a_separate_challenge_is_verified() {
        let mut request = Packet::new(Code::AccessRequest, 3);
        add_chap_password(&mut request, 9, b"pw", Some(b"0123456789abcdef0123"));
        assert_eq!(verify(&request, b"pw"), Ok(true));
    }

    #[test]
    fn a_malformed_chap_password_is_a_typed_error() {
        let mut request = Packet::new(Code::AccessRequest, 3);
        assert_eq!(verify(&request, b"pw"), Err(ChapError::Missing));
        request.set(attrs::CHAP_PASSWORD, &vec![1, 2, 3]);
        assert_eq!(verify(&request, b"pw"), Err(ChapError::BadLength(3)));
    }
}
