//! PAP (RFC 2865 §5.2): putting a hidden User-Password into a request and checking one.

use crate::attrs;
use crate::crypto::{HideError, ct_eq, hide_password, unhide_password};
use crate::packet::Packet;

/// Adds User-Password, hidden with the secret and the request's authenticator (so set the
/// authenticator first; [`Packet::new`] does).
pub fn add_user_password(
    request: &mut Packet,
    password: &[u8],
    secret: &[u8],
) -> Result<(), HideError> {
    let hidden = hide_password(password, secret, &request.authenticator)?;
    request.set(attrs::USER_PASSWORD, &hidden);
    Ok(())
}

/// Recovers the User-Password of a request; `None` when it has none.
pub fn user_password(request: &Packet, secret: &[u8]) -> Option<Result<Vec<u8>, HideError>> {
    let hidden = request.get(attrs::USER_PASSWORD.id())?;
    Some(unhide_password(hidden, secret, &request.authenticator))
}

/// True when the request's User-Password is `expected` (compared in constant time).
pub fn verify(request: &Packet, secret: &[u8], expected: &[u8]) -> bool {
    match user_password(request, secret) {
        Some(Ok(password)) => ct_eq(&password, expected),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::Code;

    #[test]
    fn the_right_password_is_accepted_and_a_wrong_one_is_not() {
        let mut request = Packet::new(Code::AccessRequest, 1);
        add_user_password(&mut request, b"secret1", b"testing123").unwrap();
        assert!(verify(&request, b"testing123", b"secret1"));
        assert!(!verify(&request, b"testing123", b"secret2"));
        assert!(!verify(&request, b"other-secret", b"secret1"));
        assert!(!verify(&Packet::new(Code::AccessRequest, 1), b"x", b""));
    }
}
