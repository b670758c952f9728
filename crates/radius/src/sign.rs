//! Signing and verifying packets with the shared secret: Request Authenticators (RFC 2866 §3,
//! RFC 5176 §3.5), Response Authenticators (RFC 2865 §3) and Message-Authenticator (RFC 2869
//! §5.14, RFC 3579 §3.2), with the order and placement rules of `protocols.md`: the
//! Message-Authenticator is computed before the MD5 authenticator, and put first in replies.

use crate::attr::{AttrId, Attribute, MESSAGE_AUTHENTICATOR};
use crate::code::Code;
use crate::crypto::{ct_eq, hmac_md5, md5};
use crate::error::{EncodeError, VerifyError};
use crate::packet::{HEADER_LEN, Packet, split_header};

const ZERO: [u8; 16] = [0; 16];

impl Packet {
    /// Encodes and signs a request. For Accounting, CoA and Disconnect requests the
    /// authenticator is computed (MD5 over the packet with a zeroed authenticator and the
    /// secret); Access-Request and Status-Server keep their random authenticator. A
    /// Message-Authenticator attribute, if present, is computed; Status-Server always gets one
    /// (RFC 5997).
    pub fn encode_request(&self, secret: &[u8]) -> Result<Vec<u8>, EncodeError> {
        if !self.code.is_request() {
            return Err(EncodeError::NotARequest(self.code));
        }
        let mut packet = self.clone();
        if packet.code == Code::StatusServer {
            packet.add_message_authenticator();
        }
        let computed = packet.code.has_computed_request_authenticator();
        if computed {
            packet.authenticator = ZERO;
        }
        let mut bytes = packet.encode()?;
        fill_message_authenticator(&mut bytes, secret);
        if computed {
            let digest = md5(&[&bytes, secret]);
            bytes[4..HEADER_LEN].copy_from_slice(&digest);
        }
        Ok(bytes)
    }

    /// Encodes and signs a reply to the request whose authenticator is
    /// `request_authenticator`. Every reply except Accounting-Response carries a
    /// Message-Authenticator as its first attribute (BlastRADIUS, CVE-2024-3596); it is
    /// computed over the packet with the Request Authenticator in the header, and the Response
    /// Authenticator is computed after it.
    pub fn encode_reply(
        &self,
        request_authenticator: &[u8; 16],
        secret: &[u8],
    ) -> Result<Vec<u8>, EncodeError> {
        if self.code.is_request() {
            return Err(EncodeError::NotAResponse(self.code));
        }
        let mut packet = self.clone();
        packet.authenticator = *request_authenticator;
        if packet.code != Code::AccountingResponse {
            packet.remove(AttrId::Standard(MESSAGE_AUTHENTICATOR));
            packet.attributes.insert(
                0,
                Attribute::new(AttrId::Standard(MESSAGE_AUTHENTICATOR), ZERO),
            );
        }
        let mut bytes = packet.encode()?;
        fill_message_authenticator(&mut bytes, secret);
        let digest = md5(&[&bytes, secret]);
        bytes[4..HEADER_LEN].copy_from_slice(&digest);
        Ok(bytes)
    }
}

/// Zeroes and then computes the Message-Authenticator of an encoded packet, if it has one,
/// over the packet as it stands (the caller has put the right value in the authenticator
/// field).
fn fill_message_authenticator(bytes: &mut [u8], secret: &[u8]) {
    let Some(offset) = message_authenticator_offset(bytes) else {
        return;
    };
    let Some(slot) = bytes.get_mut(offset..offset + 16) else {
        return;
    };
    slot.fill(0);
    let mac = hmac_md5(secret, &[bytes]);
    if let Some(slot) = bytes.get_mut(offset..offset + 16) {
        slot.copy_from_slice(&mac);
    }
}

/// The offset of the first Message-Authenticator's value in a packet whose structure is
/// valid, or `None`.
pub fn message_authenticator_offset(bytes: &[u8]) -> Option<usize> {
    let length = usize::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]));
    let mut offset = HEADER_LEN;
    while offset + 2 <= length.min(bytes.len()) {
        let attr_type = *bytes.get(offset)?;
        let attr_len = usize::from(*bytes.get(offset + 1)?);
        if attr_len < 2 {
            return None;
        }
        if attr_type == MESSAGE_AUTHENTICATOR && attr_len == 18 {
            return Some(offset + 2);
        }
        offset += attr_len;
    }
    None
}

/// HMAC-MD5 of a received packet with `authenticator` in the header and the
/// Message-Authenticator at `offset` zeroed, without copying the packet.
fn expected_message_authenticator(
    packet: &[u8],
    offset: usize,
    authenticator: &[u8; 16],
    secret: &[u8],
) -> Option<[u8; 16]> {
    let head = packet.get(..4)?;
    let before = packet.get(HEADER_LEN..offset)?;
    let after = packet.get(offset + 16..)?;
    Some(hmac_md5(
        secret,
        &[head, authenticator, before, &ZERO, after],
    ))
}

fn check_message_authenticator(
    packet: &[u8],
    authenticator: &[u8; 16],
    secret: &[u8],
) -> Result<bool, VerifyError> {
    let Some(offset) = message_authenticator_offset(packet) else {
        return Ok(false);
    };
    let expected = expected_message_authenticator(packet, offset, authenticator, secret)
        .ok_or(VerifyError::BadMessageAuthenticator)?;
    let received = packet
        .get(offset..offset + 16)
        .ok_or(VerifyError::BadMessageAuthenticator)?;
    if ct_eq(&expected, received) {
        Ok(true)
    } else {
        Err(VerifyError::BadMessageAuthenticator)
    }
}

/// What [`verify_request`] learnt about a request besides its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The decoded packet.
    pub packet: Packet,
    /// True when it carried a valid Message-Authenticator.
    pub message_authenticator: bool,
}

/// Decodes a request received by a server and checks it against the client's secret: the
/// Request Authenticator of Accounting, CoA and Disconnect requests; the Message-Authenticator
/// when present; and, when `require_message_authenticator` is set, that Access-Requests and
/// Status-Server packets carry one.
pub fn verify_request(
    bytes: &[u8],
    secret: &[u8],
    require_message_authenticator: bool,
) -> Result<VerifiedRequest, VerifyError> {
    let packet = Packet::decode(bytes)?;
    if !packet.code.is_request() {
        return Err(VerifyError::NotARequest(packet.code));
    }
    let (header, _) = split_header(bytes)?;
    let raw = bytes.get(..header.length).unwrap_or(bytes);
    let header_authenticator = if packet.code.has_computed_request_authenticator() {
        let digest = md5(&[
            raw.get(..4).unwrap_or_default(),
            &ZERO,
            raw.get(HEADER_LEN..).unwrap_or_default(),
            secret,
        ]);
        if !ct_eq(&digest, &header.authenticator) {
            return Err(VerifyError::BadRequestAuthenticator);
        }
        ZERO
    } else {
        header.authenticator
    };
    let has_ma = check_message_authenticator(raw, &header_authenticator, secret)?;
    let needs_ma = matches!(packet.code, Code::AccessRequest | Code::StatusServer);
    if !has_ma && needs_ma && require_message_authenticator {
        return Err(VerifyError::MissingMessageAuthenticator);
    }
    Ok(VerifiedRequest {
        packet,
        message_authenticator: has_ma,
    })
}

/// Decodes a reply received by a client and checks it against the request it answers: the
/// identifier, that its code answers the request's, the Response Authenticator, and the
/// Message-Authenticator when present (or, with `require_message_authenticator`, that it is
/// present).
pub fn verify_reply(
    bytes: &[u8],
    request: &Packet,
    request_authenticator: &[u8; 16],
    secret: &[u8],
    require_message_authenticator: bool,
) -> Result<Packet, VerifyError> {
    let packet = Packet::decode(bytes)?;
    if packet.identifier != request.identifier {
        return Err(VerifyError::IdentifierMismatch {
            expected: request.identifier,
            got: packet.identifier,
        });
    }
    if !request.code.accepts_reply(packet.code) {
        return Err(VerifyError::UnexpectedCode {
            request: request.code,
            got: packet.code,
        });
    }
    let (header, _) = split_header(bytes)?;
    let raw = bytes.get(..header.length).unwrap_or(bytes);
    let digest = md5(&[
        raw.get(..4).unwrap_or_default(),
        request_authenticator,
        raw.get(HEADER_LEN..).unwrap_or_default(),
        secret,
    ]);
    if !ct_eq(&digest, &header.authenticator) {
        return Err(VerifyError::BadResponseAuthenticator);
    }
    let has_ma = check_message_authenticator(raw, request_authenticator, secret)?;
    if !has_ma && require_message_authenticator {
        return Err(VerifyError::MissingMessageAuthenticator);
    }
    Ok(packet)
}

/// The authenticator a request was sent with, read back from its encoded bytes (for
/// Accounting, CoA and Disconnect requests it is only known after signing).
pub fn sent_authenticator(encoded: &[u8]) -> [u8; 16] {
    encoded
        .get(4..HEADER_LEN)
        .and_then(|a| <[u8; 16]>::try_from(a).ok())
        .unwrap_or(ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs;

    const SECRET: &[u8] = b"testing123";

    #[test]
    fn rfc2865_access_accept_example_has_the_published_response_authenticator() {
        // RFC 2865 §7.1, secret "xyzzy5461".
        let request_auth: [u8; 16] = [
            0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57, 0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4,
            0x22, 0x7a,
        ];
        let reply: [u8; 38] = [
            0x02, 0x00, 0x00, 0x26, 0x86, 0xfe, 0x22, 0x0e, 0x76, 0x24, 0xba, 0x2a, 0x10, 0x05,
            0xf6, 0xbf, 0x9b, 0x55, 0xe0, 0xb2, 0x06, 0x06, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x06,
            0x00, 0x00, 0x00, 0x00, 0x0e, 0x06, 0xc0, 0xa8, 0x01, 0x03,
        ];
        let mut request = Packet::new(Code::AccessRequest, 0);
        request.authenticator = request_auth;
        let packet = verify_reply(&reply, &request, &request_auth, b"xyzzy5461", false).unwrap();
        assert_eq!(packet.code, Code::AccessAccept);
        assert_eq!(
            verify_reply(&reply, &request, &request_auth, b"wrong", false),
            Err(VerifyError::BadResponseAuthenticator)
        );
    }

    #[test]
    fn a_signed_accounting_request_verifies_and_a_wrong_secret_is_caught() {
        let mut request = Packet::new(Code::AccountingRequest, 9);
        request.add(attrs::ACCT_STATUS_TYPE, &attrs::acct_status_type::START);
        request.add(attrs::ACCT_SESSION_ID, &"81a00002".to_owned());
        let bytes = request.encode_request(SECRET).unwrap();
        let verified = verify_request(&bytes, SECRET, true).unwrap();
        assert!(!verified.message_authenticator);
        assert_eq!(
            verify_request(&bytes, b"other", true),
            Err(VerifyError::BadRequestAuthenticator)
        );
    }

    #[test]
    fn an_access_request_without_message_authenticator_is_refused_when_required() {
        let mut request = Packet::new(Code::AccessRequest, 1);
        request.add(attrs::USER_NAME, &"alice".to_owned());
        let bytes = request.encode_request(SECRET).unwrap();
        assert_eq!(
            verify_request(&bytes, SECRET, true),
            Err(VerifyError::MissingMessageAuthenticator)
        );
        assert!(verify_request(&bytes, SECRET, false).is_ok());
        request.add_message_authenticator();
        let signed = request.encode_request(SECRET).unwrap();
        assert!(
            verify_request(&signed, SECRET, true)
                .unwrap()
                .message_authenticator
        );
        assert_eq!(
            verify_request(&signed, b"wrong", true),
            Err(VerifyError::BadMessageAuthenticator)
        );
    }

    #[test]
    fn a_tampered_message_authenticator_is_refused() {
        let mut request = Packet::new(Code::AccessRequest, 1);
        request.add_message_authenticator();
        request.add(attrs::USER_NAME, &"alice".to_owned());
        let mut bytes = request.encode_request(SECRET).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            verify_request(&bytes, SECRET, true),
            Err(VerifyError::BadMessageAuthenticator)
        );
    }

    #[test]
    fn a_reply_carries_message_authenticator_first_and_verifies() {
        let mut request = Packet::new(Code::AccessRequest, 42);
        request.add_message_authenticator();
        let mut reply = request.reply(Code::AccessAccept);
        reply.add(attrs::SESSION_TIMEOUT, &3600);
        let bytes = reply.encode_reply(&request.authenticator, SECRET).unwrap();
        assert_eq!(bytes[HEADER_LEN], MESSAGE_AUTHENTICATOR);
        let packet = verify_reply(&bytes, &request, &request.authenticator, SECRET, true).unwrap();
        assert_eq!(packet.value(attrs::SESSION_TIMEOUT), Some(Ok(3600)));
        let other = Packet::new(Code::AccessRequest, 42);
        assert!(verify_reply(&bytes, &other, &other.authenticator, SECRET, false).is_err());
    }

    #[test]
    fn a_reply_with_another_identifier_or_code_is_refused() {
        let request = Packet::new(Code::CoaRequest, 5);
        let bytes = request.encode_request(SECRET).unwrap();
        let auth = sent_authenticator(&bytes);
        let wrong_id = Packet::new(Code::CoaAck, 6)
            .encode_reply(&auth, SECRET)
            .unwrap();
        assert!(matches!(
            verify_reply(&wrong_id, &request, &auth, SECRET, false),
            Err(VerifyError::IdentifierMismatch { .. })
        ));
        let wrong_code = Packet::new(Code::AccessAccept, 5)
            .encode_reply(&auth, SECRET)
            .unwrap();
        assert!(matches!(
            verify_reply(&wrong_code, &request, &auth, SECRET, false),
            Err(VerifyError::UnexpectedCode { .. })
        ));
    }
}
