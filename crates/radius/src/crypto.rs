//! Cryptographic building blocks shared by the rest of the crate: MD5 and HMAC-MD5 over
//! several slices, constant-time comparison, RFC 2865 §5.2 User-Password hiding, and the
//! RFC 2548 §2.4.2 salt scheme used by Tunnel-Password (RFC 2868 §3.5) and MS-MPPE keys.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;
use thiserror::Error;

/// Why a hidden value cannot be hidden or recovered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HideError {
    /// The cipher text length is not a positive multiple of 16.
    #[error("hidden value of {0} octets is not a positive multiple of 16")]
    BadLength(usize),
    /// The plain text is longer than the attribute allows (128 for User-Password).
    #[error("value of {len} octets is longer than the {max}-octet maximum")]
    TooLong {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The salted value's length octet claims more than it holds.
    #[error("salted value's length octet is inconsistent")]
    BadInnerLength,
    /// The salt's high bit is not set (RFC 2548).
    #[error("salt high bit is not set")]
    BadSalt,
}

/// MD5 over the concatenation of `parts`.
pub fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// HMAC-MD5 keyed with `key` over the concatenation of `parts`.
pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    // HMAC accepts keys of any length, so this never fails.
    let Ok(mut mac) = <Hmac<Md5> as KeyInit>::new_from_slice(key) else {
        return [0; 16];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Compares two byte strings in time independent of where they differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Hides a User-Password (RFC 2865 §5.2): pads to a multiple of 16 (at least 16, at most 128)
/// and XORs with the MD5 chain over the secret and the Request Authenticator.
pub fn hide_password(
    password: &[u8],
    secret: &[u8],
    authenticator: &[u8; 16],
) -> Result<Vec<u8>, HideError> {
    if password.len() > 128 {
        return Err(HideError::TooLong {
            len: password.len(),
            max: 128,
        });
    }
    let padded = password.len().div_ceil(16).max(1) * 16;
    let mut out = password.to_vec();
    out.resize(padded, 0);
    xor_chain(&mut out, secret, authenticator, true);
    Ok(out)
}

/// Recovers a User-Password hidden with [`hide_password`], without its NUL padding.
pub fn unhide_password(
    hidden: &[u8],
    secret: &[u8],
    authenticator: &[u8; 16],
) -> Result<Vec<u8>, HideError> {
    if hidden.is_empty() || !hidden.len().is_multiple_of(16) || hidden.len() > 128 {
        return Err(HideError::BadLength(hidden.len()));
    }
    let mut out = hidden.to_vec();
    xor_chain(&mut out, secret, authenticator, false);
    while out.last() == Some(&0) {
        out.pop();
    }
    Ok(out)
}

/// XORs `data` (a multiple of 16 long) with b1 = MD5(secret + seed), bi = MD5(secret + c(i-1))
/// where c is the cipher text: `encrypt` says whether `data` is plain (true) or cipher text.
fn xor_chain(data: &mut [u8], secret: &[u8], seed: &[u8], encrypt: bool) {
    let mut previous = [0u8; 16];
    let mut first_seed = Some(seed);
    for block in data.chunks_mut(16) {
        let key = match first_seed.take() {
            Some(seed) => md5(&[secret, seed]),
            None => md5(&[secret, &previous]),
        };
        let mut cipher = [0u8; 16];
        for ((byte, k), c) in block.iter_mut().zip(key).zip(cipher.iter_mut()) {
            if encrypt {
                *byte ^= k;
                *c = *byte;
            } else {
                *c = *byte;
                *byte ^= k;
            }
        }
        previous = cipher;
    }
}

/// Encrypts a value with the RFC 2548 §2.4.2 salt scheme: output is the 2-octet salt (high bit
/// set) followed by E(length octet + value + zero padding to a multiple of 16), keyed by
/// MD5(secret + Request Authenticator + salt).
pub fn salt_encrypt(
    value: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
    salt: [u8; 2],
) -> Result<Vec<u8>, HideError> {
    let len = u8::try_from(value.len())
        .ok()
        .filter(|len| *len <= 239)
        .ok_or(HideError::TooLong {
            len: value.len(),
            max: 239,
        })?;
    let salt = [salt[0] | 0x80, salt[1]];
    let mut plain = Vec::with_capacity(value.len() + 17);
    plain.push(len);
    plain.extend_from_slice(value);
    plain.resize(plain.len().div_ceil(16) * 16, 0);
    let mut seed = [0u8; 18];
    seed[..16].copy_from_slice(request_authenticator);
    seed[16..].copy_from_slice(&salt);
    xor_chain(&mut plain, secret, &seed, true);
    let mut out = salt.to_vec();
    out.extend_from_slice(&plain);
    Ok(out)
}

/// Decrypts a value encrypted with [`salt_encrypt`].
pub fn salt_decrypt(
    data: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<Vec<u8>, HideError> {
    let Some((salt, cipher)) = data.split_first_chunk::<2>() else {
        return Err(HideError::BadLength(data.len()));
    };
    if cipher.is_empty() || !cipher.len().is_multiple_of(16) {
        return Err(HideError::BadLength(cipher.len()));
    }
    if salt[0] & 0x80 == 0 {
        return Err(HideError::BadSalt);
    }
    let mut seed = [0u8; 18];
    seed[..16].copy_from_slice(request_authenticator);
    seed[16..].copy_from_slice(salt);
    let mut plain = cipher.to_vec();
    xor_chain(&mut plain, secret, &seed, false);
    let Some((&len, rest)) = plain.split_first() else {
        return Err(HideError::BadInnerLength);
    };
    rest.get(..usize::from(len))
        .map(<[u8]>::to_vec)
        .ok_or(HideError::BadInnerLength)
}

/// Hides a Tunnel-Password (RFC 2868 §3.5): the tag octet, then the salted encryption of the
/// password with the Request Authenticator of the packet it goes in (for an Access-Accept,
/// the request's authenticator).
pub fn hide_tunnel_password(
    tag: u8,
    password: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<Vec<u8>, HideError> {
    let mut out = vec![tag];
    out.extend(salt_encrypt(
        password,
        secret,
        request_authenticator,
        random_salt(),
    )?);
    Ok(out)
}

/// Recovers a Tunnel-Password hidden with [`hide_tunnel_password`]: (tag, password).
pub fn unhide_tunnel_password(
    value: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<(u8, Vec<u8>), HideError> {
    let Some((&tag, rest)) = value.split_first() else {
        return Err(HideError::BadLength(0));
    };
    Ok((tag, salt_decrypt(rest, secret, request_authenticator)?))
}

/// A fresh random salt with the high bit set.
pub fn random_salt() -> [u8; 2] {
    let salt: [u8; 2] = rand::random();
    [salt[0] | 0x80, salt[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_password_is_recovered() {
        let auth = [7u8; 16];
        for password in [&b""[..], b"a", b"exactly16bytes!!", &[b'x'; 128]] {
            let hidden = hide_password(password, b"secret", &auth).unwrap();
            assert_eq!(hidden.len() % 16, 0);
            assert_eq!(
                unhide_password(&hidden, b"secret", &auth).unwrap(),
                password
            );
        }
        assert!(hide_password(&[b'x'; 129], b"secret", &auth).is_err());
        assert!(unhide_password(&[0; 15], b"secret", &auth).is_err());
    }

    #[test]
    fn a_salted_value_is_recovered() {
        let auth = [3u8; 16];
        let key = [0x5au8; 16];
        let data = salt_encrypt(&key, b"s3cret", &auth, [0x01, 0x02]).unwrap();
        assert_eq!(data[0], 0x81);
        assert_eq!(data.len(), 2 + 32);
        assert_eq!(salt_decrypt(&data, b"s3cret", &auth).unwrap(), key);
        assert!(salt_decrypt(&data[..10], b"s3cret", &auth).is_err());
    }

    #[test]
    fn a_tunnel_password_keeps_its_tag_and_is_recovered() {
        let auth = [9u8; 16];
        let hidden = hide_tunnel_password(1, b"vpn-secret", b"s3cret", &auth).unwrap();
        assert_eq!(hidden[0], 1);
        assert_eq!(
            unhide_tunnel_password(&hidden, b"s3cret", &auth).unwrap(),
            (1, b"vpn-secret".to_vec())
        );
        assert!(unhide_tunnel_password(&[], b"s3cret", &auth).is_err());
    }

    #[test]
    fn rfc2865_user_password_example() {
        // RFC 2865 §7.1: secret "xyzzy5461", password "arctangent".
        let auth: [u8; 16] = [
            0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57, 0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4,
            0x22, 0x7a,
        ];
        let hidden = hide_password(b"arctangent", b"xyzzy5461", &auth).unwrap();
        assert_eq!(
            hidden,
            [
                0x0d, 0xbe, 0x70, 0x8d, 0x93, 0xd4, 0x13, 0xce, 0x31, 0x96, 0xe4, 0x3f, 0x78, 0x2a,
                0x0a, 0xee
            ]
        );
    }
}
