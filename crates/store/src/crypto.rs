//! Secrets at rest: the keyring and sealed values. TOTP secrets, router passwords and every
//! other secret lastmile must read back are stored sealed with XChaCha20-Poly1305 under a
//! key of the keyring, as `enc:v1:<key id>:<base64 nonce+ciphertext>`. The key id lets keys
//! rotate: new values are sealed with the active key, old values open with the key that
//! sealed them. The context (`"staff_user.totp_secret"`) is bound in as associated data, so
//! a sealed value copied into another column does not open.
//!
//! The keyring comes from a file in the data directory (created on first start, mode 0600) or
//! from the environment; `server::config` decides which. Keys never reach a log: `Keyring`'s
//! `Debug` shows key ids only.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng as _;
use zeroize::Zeroizing;

const PREFIX: &str = "enc:v1:";

/// Why a keyring or a sealed value is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The keyring text is malformed.
    #[error("keyring line {line}: {reason}")]
    BadKeyring {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The keyring holds no key.
    #[error("the keyring holds no key")]
    Empty,
    /// A sealed value names a key the keyring does not hold.
    #[error("no key with id {0} in the keyring")]
    UnknownKey(String),
    /// A value too long to seal.
    #[error("a value is too long to seal")]
    Unsealable,
    /// A sealed value is malformed, or was tampered with, or belongs to another context.
    #[error("a sealed value does not open")]
    Unopenable,
}

/// The keys that seal secrets. The last key added is the active one.
#[derive(Clone)]
pub struct Keyring {
    keys: BTreeMap<String, Zeroizing<[u8; 32]>>,
    active: String,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .finish()
    }
}

impl Keyring {
    /// Parses keyring text: one `<id>:<base64 of 32 bytes>` per line (or separated by `;`),
    /// `#` comments allowed; the last key is the active one.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let mut keys = BTreeMap::new();
        let mut active = None;
        for (index, entry) in text.split(['\n', ';']).enumerate() {
            let entry = entry.trim();
            if entry.is_empty() || entry.starts_with('#') {
                continue;
            }
            let line = index + 1;
            let (id, encoded) = entry.split_once(':').ok_or(CryptoError::BadKeyring {
                line,
                reason: "expected <id>:<base64 key>",
            })?;
            let id_ok = !id.is_empty()
                && id.len() <= 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !id_ok {
                return Err(CryptoError::BadKeyring {
                    line,
                    reason: "key id must be [A-Za-z0-9_-]{1,32}",
                });
            }
            let bytes = Zeroizing::new(STANDARD.decode(encoded.trim()).map_err(|_| {
                CryptoError::BadKeyring {
                    line,
                    reason: "key is not base64",
                }
            })?);
            let key: [u8; 32] =
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| CryptoError::BadKeyring {
                        line,
                        reason: "key must be 32 bytes",
                    })?;
            keys.insert(id.to_owned(), Zeroizing::new(key));
            active = Some(id.to_owned());
        }
        let active = active.ok_or(CryptoError::Empty)?;
        Ok(Self { keys, active })
    }

    /// True when `other` holds exactly these keys under these ids, with the same active
    /// one: the two open the same secrets and seal alike.
    pub fn same_keys(&self, other: &Keyring) -> bool {
        self.active == other.active
            && self.keys.len() == other.keys.len()
            && self
                .keys
                .iter()
                .zip(&other.keys)
                .all(|((a, ka), (b, kb))| a == b && ka.as_slice() == kb.as_slice())
    }

    /// A new keyring line with a random key, for a first start or a rotation.
    pub fn generate_line(id: &str) -> String {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(key.as_mut_slice());
        format!("{id}:{}", STANDARD.encode(key.as_slice()))
    }

    /// The id of the key new values are sealed with.
    pub fn active_id(&self) -> &str {
        &self.active
    }

    /// Seals `plain` for `context` with the active key.
    pub fn seal(&self, context: &str, plain: &[u8]) -> Result<String, CryptoError> {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        // The active key is always in the map: `parse` sets it from an inserted key.
        let key = self.keys.get(&self.active).ok_or(CryptoError::Empty)?;
        let cipher = XChaCha20Poly1305::new_from_slice(key.as_slice())
            .map_err(|_| CryptoError::Unopenable)?;
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Unsealable)?;
        let mut body = Vec::with_capacity(nonce.len() + sealed.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&sealed);
        Ok(format!(
            "{PREFIX}{}:{}",
            self.active,
            URL_SAFE_NO_PAD.encode(body)
        ))
    }

    /// Opens a value sealed for `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let rest = sealed.strip_prefix(PREFIX).ok_or(CryptoError::Unopenable)?;
        let (id, encoded) = rest.split_once(':').ok_or(CryptoError::Unopenable)?;
        let key = self
            .keys
            .get(id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let body = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| CryptoError::Unopenable)?;
        if body.len() < 24 {
            return Err(CryptoError::Unopenable);
        }
        let (nonce, ciphertext) = body.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| CryptoError::Unopenable)?;
        let cipher = XChaCha20Poly1305::new_from_slice(key.as_slice())
            .map_err(|_| CryptoError::Unopenable)?;
        cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Unopenable)
    }

    /// Opens a sealed UTF-8 string.
    pub fn open_string(
        &self,
        context: &str,
        sealed: &str,
    ) -> Result<Zeroizing<String>, CryptoError> {
        let bytes = self.open(context, sealed)?;
        String::from_utf8(bytes.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Unopenable)
    }

    /// Whether `text` is sealed at all (written by [`Keyring::seal`]), whatever the key.
    pub fn is_sealed(text: &str) -> bool {
        text.starts_with(PREFIX)
    }

    /// True if `sealed` was sealed with a key other than the active one (re-seal it).
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        sealed
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .is_none_or(|(id, _)| id != self.active)
    }
}

/// `len` characters drawn uniformly from `alphabet` by the operating system's generator: for
/// made-up passwords and shared secrets (the alphabets are `domain`'s).
pub fn random_text(alphabet: &[u8], len: usize) -> String {
    use rand::RngExt as _;
    if alphabet.is_empty() {
        return String::new();
    }
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_texts_of_the_same_keys_are_the_same_keyring() {
        let line = Keyring::generate_line("k1");
        let ring = Keyring::parse(&line).unwrap();
        let commented = Keyring::parse(&format!("# kept\n{line}\n")).unwrap();
        assert!(ring.same_keys(&commented));
        let other = Keyring::parse(&Keyring::generate_line("k1")).unwrap();
        assert!(!ring.same_keys(&other));
        let rotated = Keyring::parse(&format!("{line};{}", Keyring::generate_line("k2"))).unwrap();
        assert!(!ring.same_keys(&rotated));
    }

    #[test]
    fn a_sealed_secret_opens_only_in_its_context_and_never_shows_in_clear() {
        let ring = Keyring::parse(&Keyring::generate_line("k1")).unwrap();
        let sealed = ring
            .seal("staff_user.totp_secret", b"JBSWY3DPEHPK3PXP")
            .unwrap();
        assert!(sealed.starts_with("enc:v1:k1:"));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            ring.open("staff_user.totp_secret", &sealed)
                .unwrap()
                .as_slice(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert_eq!(
            ring.open("router.api_password", &sealed),
            Err(CryptoError::Unopenable)
        );
        let (head, body) = sealed.rsplit_once(':').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
        bytes[30] ^= 1;
        let tampered = format!("{head}:{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(
            ring.open("staff_user.totp_secret", &tampered),
            Err(CryptoError::Unopenable)
        );
    }

    #[test]
    fn old_values_open_after_a_rotation_and_new_ones_use_the_new_key() {
        let old_line = Keyring::generate_line("k1");
        let old = Keyring::parse(&old_line).unwrap();
        let sealed = old.seal("ctx", b"secret").unwrap();
        let rotated =
            Keyring::parse(&format!("{old_line}\n{}", Keyring::generate_line("k2"))).unwrap();
        assert_eq!(rotated.active_id(), "k2");
        assert_eq!(rotated.open("ctx", &sealed).unwrap().as_slice(), b"secret");
        assert!(rotated.needs_reseal(&sealed));
        assert!(!rotated.needs_reseal(&rotated.seal("ctx", b"x").unwrap()));
        let only_new = Keyring::parse(&Keyring::generate_line("k3")).unwrap();
        assert_eq!(
            only_new.open("ctx", &sealed),
            Err(CryptoError::UnknownKey("k1".into()))
        );
    }

    #[test]
    fn malformed_keyrings_are_refused_with_the_line() {
        assert_eq!(
            Keyring::parse("# nothing\n").unwrap_err(),
            CryptoError::Empty
        );
        assert!(matches!(
            Keyring::parse("k1:notbase64!"),
            Err(CryptoError::BadKeyring { line: 1, .. })
        ));
        assert!(matches!(
            Keyring::parse("k1:AAAA"),
            Err(CryptoError::BadKeyring { .. })
        ));
        assert!(
            format!(
                "{:?}",
                Keyring::parse(&Keyring::generate_line("k1")).unwrap()
            )
            .contains("k1")
        );
    }
}
