//! The MS-CHAP algorithms, independent of RADIUS: NT password hash (MD4 of UTF-16LE), the
//! DES challenge response, MS-CHAPv2's challenge hash, NT-Response and authenticator response
//! (RFC 2759 §8), and the MPPE key derivation (RFC 3079 §3). Checked against the RFC test
//! vectors.

use des::Des;
use des::cipher::{BlockCipherEncrypt, KeyInit};
use md4::{Digest as _, Md4};
use sha1::Sha1;

const MAGIC_SERVER_1: &[u8] = b"Magic server to client signing constant";
const MAGIC_SERVER_2: &[u8] = b"Pad to make it do more than one iteration";
const MPPE_MAGIC_1: &[u8] = b"This is the MPPE Master Key";
const MPPE_MAGIC_2: &[u8] =
    b"On the client side, this is the send key; on the server side, it is the receive key.";
const MPPE_MAGIC_3: &[u8] =
    b"On the client side, this is the receive key; on the server side, it is the send key.";
const SHS_PAD_1: [u8; 40] = [0x00; 40];
const SHS_PAD_2: [u8; 40] = [0xf2; 40];

/// NtPasswordHash: MD4 of the password in UTF-16LE (RFC 2759 §8.3).
pub fn nt_password_hash(password: &str) -> [u8; 16] {
    let mut hasher = Md4::new();
    for unit in password.encode_utf16() {
        hasher.update(unit.to_le_bytes());
    }
    hasher.finalize().into()
}

/// HashNtPasswordHash: MD4 of the NT password hash (RFC 2759 §8.4).
pub fn hash_nt_password_hash(hash: &[u8; 16]) -> [u8; 16] {
    Md4::digest(hash).into()
}

/// ChallengeHash: the first 8 octets of SHA1(peer challenge + authenticator challenge + user
/// name) (RFC 2759 §8.2).
pub fn challenge_hash(
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> [u8; 8] {
    let digest = sha1(&[peer_challenge, authenticator_challenge, user_name]);
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

/// ChallengeResponse: the 8-octet challenge DES-encrypted with each 7-octet third of the
/// zero-padded password hash (RFC 2759 §8.5); also MS-CHAPv1's NT-Response.
pub fn challenge_response(challenge: &[u8; 8], password_hash: &[u8; 16]) -> [u8; 24] {
    let mut padded = [0u8; 21];
    padded[..16].copy_from_slice(password_hash);
    let mut out = [0u8; 24];
    for (key, block) in padded.chunks_exact(7).zip(out.chunks_exact_mut(8)) {
        let mut key7 = [0u8; 7];
        key7.copy_from_slice(key);
        block.copy_from_slice(&des_encrypt(challenge, &key7));
    }
    out
}

/// DES-encrypts one block with a 56-bit key spread over 8 octets (parity bits left clear;
/// DES ignores them).
fn des_encrypt(clear: &[u8; 8], key: &[u8; 7]) -> [u8; 8] {
    let k = key;
    let expanded = [
        k[0],
        (k[0] << 7) | (k[1] >> 1),
        (k[1] << 6) | (k[2] >> 2),
        (k[2] << 5) | (k[3] >> 3),
        (k[3] << 4) | (k[4] >> 4),
        (k[4] << 3) | (k[5] >> 5),
        (k[5] << 2) | (k[6] >> 6),
        k[6] << 1,
    ];
    let cipher = Des::new(&expanded.into());
    let mut block = (*clear).into();
    cipher.encrypt_block(&mut block);
    block.into()
}

/// GenerateNTResponse (RFC 2759 §8.1).
pub fn generate_nt_response(
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &[u8],
    password: &str,
) -> [u8; 24] {
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    challenge_response(&challenge, &nt_password_hash(password))
}

/// GenerateAuthenticatorResponse (RFC 2759 §8.7): `S=` followed by 40 upper-case hex digits,
/// from the NT password hash.
pub fn authenticator_response(
    password_hash: &[u8; 16],
    nt_response: &[u8; 24],
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> String {
    let hash_hash = hash_nt_password_hash(password_hash);
    let digest = sha1(&[&hash_hash, nt_response, MAGIC_SERVER_1]);
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    let digest = sha1(&[&digest, &challenge, MAGIC_SERVER_2]);
    let mut out = String::with_capacity(42);
    out.push_str("S=");
    for byte in digest {
        out.push_str(&format!("{byte:02X}"));
    }
    out
}

/// GetMasterKey (RFC 3079 §3.4).
pub fn master_key(password_hash_hash: &[u8; 16], nt_response: &[u8; 24]) -> [u8; 16] {
    let digest = sha1(&[password_hash_hash, nt_response, MPPE_MAGIC_1]);
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// GetAsymmetricStartKey (RFC 3079 §3.4) for a 128-bit key: `is_send` and `is_server` say
/// whose key it is.
pub fn asymmetric_start_key(master_key: &[u8; 16], is_send: bool, is_server: bool) -> [u8; 16] {
    let magic = if is_send == is_server {
        MPPE_MAGIC_3
    } else {
        MPPE_MAGIC_2
    };
    let digest = sha1(&[master_key, &SHS_PAD_1, magic, &SHS_PAD_2]);
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut hasher = Sha1::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex<const N: usize>(text: &str) -> [u8; N] {
        let digits: String = text.split_whitespace().collect();
        let bytes: Vec<u8> = (0..digits.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
            .collect();
        bytes.try_into().unwrap()
    }

    // RFC 2759 §9.2.
    const USER: &[u8] = b"User";
    const PASSWORD: &str = "clientPass";
    fn auth_challenge() -> [u8; 16] {
        hex("5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28")
    }
    fn peer_challenge() -> [u8; 16] {
        hex("21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E")
    }
    fn nt_response() -> [u8; 24] {
        hex("82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF")
    }

    #[test]
    fn rfc2759_password_hashes() {
        assert_eq!(
            nt_password_hash(PASSWORD),
            hex("44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE")
        );
        assert_eq!(
            hash_nt_password_hash(&nt_password_hash(PASSWORD)),
            hex("41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F")
        );
    }

    #[test]
    fn rfc2759_challenge_and_nt_response() {
        assert_eq!(
            challenge_hash(&peer_challenge(), &auth_challenge(), USER),
            hex("D0 2E 43 86 BC E9 12 26")
        );
        assert_eq!(
            generate_nt_response(&auth_challenge(), &peer_challenge(), USER, PASSWORD),
            nt_response()
        );
    }

    #[test]
    fn rfc2759_authenticator_response() {
        assert_eq!(
            authenticator_response(
                &nt_password_hash(PASSWORD),
                &nt_response(),
                &peer_challenge(),
                &auth_challenge(),
                USER
            ),
            "S=407A5589115FD0D6209F510FE9C04566932CDA56"
        );
    }

    #[test]
    fn rfc3079_master_and_send_start_keys() {
        let hash_hash = hash_nt_password_hash(&nt_password_hash(PASSWORD));
        let master = master_key(&hash_hash, &nt_response());
        assert_eq!(
            master,
            hex("FD EC E3 71 7A 8C 83 8C B3 88 E5 27 AE 3C DD 31")
        );
        // RFC 3079 §3.5.3 derives the server's send key (IsSend and IsServer both true).
        assert_eq!(
            asymmetric_start_key(&master, true, true),
            hex("8B 7C DC 14 9B 99 3A 1B A1 18 CB 15 3F 56 DC CB")
        );
        // The server's send key is the client's receive key, and the reverse.
        assert_eq!(
            asymmetric_start_key(&master, false, false),
            asymmetric_start_key(&master, true, true)
        );
        assert_eq!(
            asymmetric_start_key(&master, true, false),
            asymmetric_start_key(&master, false, true)
        );
    }
}
