//! The packet: header (code, identifier, length, authenticator) and attribute list, decoded
//! strictly from bytes and encoded back, plus typed and raw attribute access. Signing and
//! verification with the shared secret are in `sign`.

use crate::attr::{self, AttrId, Attribute, MESSAGE_AUTHENTICATOR};
use crate::attrs::Attr;
use crate::attrs::AttrValue;
use crate::code::Code;
use crate::error::{DecodeError, EncodeError};
use crate::value::ValueError;

/// Length of the packet header.
pub const HEADER_LEN: usize = 20;
/// Largest packet RFC 2865 allows.
pub const MAX_PACKET_LEN: usize = 4096;

/// A RADIUS packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The packet code.
    pub code: Code,
    /// The identifier that matches a reply to its request.
    pub identifier: u8,
    /// The authenticator field: random for Access-Request and Status-Server, computed for the
    /// others when the packet is encoded with a secret.
    pub authenticator: [u8; 16],
    /// Attributes in wire order.
    pub attributes: Vec<Attribute>,
}

impl Packet {
    /// A new packet. Access-Requests and Status-Server packets get a random authenticator
    /// (RFC 2865 §3 asks for an unpredictable one); other packets get zeros, to be computed
    /// when encoded.
    pub fn new(code: Code, identifier: u8) -> Packet {
        let authenticator = match code {
            Code::AccessRequest | Code::StatusServer => rand::random(),
            _ => [0; 16],
        };
        Packet {
            code,
            identifier,
            authenticator,
            attributes: Vec::new(),
        }
    }

    /// A reply to this request: same identifier, the request's authenticator (which signing
    /// replaces with the Response Authenticator), no attributes.
    pub fn reply(&self, code: Code) -> Packet {
        Packet {
            code,
            identifier: self.identifier,
            authenticator: self.authenticator,
            attributes: Vec::new(),
        }
    }

    /// Decodes a packet. The Length field must be 20..=4096 and no more than the bytes
    /// received; octets past it are padding and ignored (RFC 2865 §3). Every attribute must
    /// have a length of at least 2 and end inside the packet.
    pub fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
        let (header, body) = split_header(bytes)?;
        let code = Code::from_u8(header.code).ok_or(DecodeError::UnknownCode(header.code))?;
        Ok(Packet {
            code,
            identifier: header.identifier,
            authenticator: header.authenticator,
            attributes: attr::decode_attributes(body, HEADER_LEN)?,
        })
    }

    /// Encodes the packet as it stands: the authenticator field is written unchanged and a
    /// Message-Authenticator keeps its value. Use [`Packet::encode_request`] or
    /// [`Packet::encode_reply`] to sign.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let len = HEADER_LEN
            + self
                .attributes
                .iter()
                .map(Attribute::wire_len)
                .sum::<usize>();
        if len > MAX_PACKET_LEN {
            return Err(EncodeError::PacketTooLong(len));
        }
        let mut out = Vec::with_capacity(len);
        out.push(self.code.as_u8());
        out.push(self.identifier);
        out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(&self.authenticator);
        for attribute in &self.attributes {
            attribute.encode_into(&mut out)?;
        }
        Ok(out)
    }

    /// The first value of an attribute.
    pub fn get(&self, id: AttrId) -> Option<&[u8]> {
        self.attributes
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.value.as_slice())
    }

    /// Every value of an attribute, in order.
    pub fn get_all(&self, id: AttrId) -> impl Iterator<Item = &[u8]> {
        self.attributes
            .iter()
            .filter(move |a| a.id == id)
            .map(|a| a.value.as_slice())
    }

    /// True when the packet carries the attribute.
    pub fn contains(&self, id: AttrId) -> bool {
        self.attributes.iter().any(|a| a.id == id)
    }

    /// Appends an attribute.
    pub fn push(&mut self, id: AttrId, value: impl Into<Vec<u8>>) {
        self.attributes.push(Attribute::new(id, value));
    }

    /// Removes every instance of an attribute.
    pub fn remove(&mut self, id: AttrId) {
        self.attributes.retain(|a| a.id != id);
    }

    /// The first value of a typed attribute, decoded; `None` when absent.
    pub fn value<T: AttrValue>(&self, attr: Attr<T>) -> Option<Result<T, ValueError>> {
        self.get(attr.id()).map(T::decode)
    }

    /// Appends a typed attribute.
    pub fn add<T: AttrValue>(&mut self, attr: Attr<T>, value: &T) {
        let mut bytes = Vec::new();
        value.encode_into(&mut bytes);
        self.push(attr.id(), bytes);
    }

    /// Replaces every instance of a typed attribute by one value.
    pub fn set<T: AttrValue>(&mut self, attr: Attr<T>, value: &T) {
        self.remove(attr.id());
        self.add(attr, value);
    }

    /// True when the packet carries a Message-Authenticator.
    pub fn has_message_authenticator(&self) -> bool {
        self.contains(AttrId::Standard(MESSAGE_AUTHENTICATOR))
    }

    /// Adds a Message-Authenticator placeholder as the first attribute (it is computed when
    /// the packet is signed); does nothing when one is already there.
    pub fn add_message_authenticator(&mut self) {
        if !self.has_message_authenticator() {
            self.attributes.insert(
                0,
                Attribute::new(AttrId::Standard(MESSAGE_AUTHENTICATOR), [0u8; 16]),
            );
        }
    }
}

/// The fixed header of a packet, read without looking at the attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The code octet (not checked against known codes).
    pub code: u8,
    /// The identifier.
    pub identifier: u8,
    /// The Length field.
    pub length: usize,
    /// The authenticator.
    pub authenticator: [u8; 16],
}

/// Reads and checks the header; returns it and the attribute area (bounded by Length).
pub fn split_header(bytes: &[u8]) -> Result<(Header, &[u8]), DecodeError> {
    if bytes.len() > MAX_PACKET_LEN {
        return Err(DecodeError::TooLong(bytes.len()));
    }
    let Some((fixed, _)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(DecodeError::TooShort(bytes.len()));
    };
    let [code, identifier, l0, l1, authenticator @ ..] = *fixed;
    let length = usize::from(u16::from_be_bytes([l0, l1]));
    if !(HEADER_LEN..=MAX_PACKET_LEN).contains(&length) {
        return Err(DecodeError::InvalidLength(length));
    }
    let Some(body) = bytes.get(HEADER_LEN..length) else {
        return Err(DecodeError::Truncated {
            declared: length,
            received: bytes.len(),
        });
    };
    let header = Header {
        code,
        identifier,
        length,
        authenticator,
    };
    Ok((header, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs;

    fn access_request() -> Packet {
        let mut packet = Packet::new(Code::AccessRequest, 7);
        packet.authenticator = [1; 16];
        packet.add(attrs::USER_NAME, &"alice".to_owned());
        packet.add(attrs::NAS_PORT, &3);
        packet.add(attrs::MIKROTIK_RATE_LIMIT, &"10M/50M".to_owned());
        packet
    }

    #[test]
    fn a_packet_decodes_to_what_was_encoded() {
        let packet = access_request();
        let bytes = packet.encode().unwrap();
        assert_eq!(Packet::decode(&bytes).unwrap(), packet);
    }

    #[test]
    fn typed_attributes_read_back() {
        let packet = access_request();
        assert_eq!(packet.value(attrs::USER_NAME), Some(Ok("alice".to_owned())));
        assert_eq!(packet.value(attrs::NAS_PORT), Some(Ok(3)));
        assert_eq!(packet.value(attrs::SESSION_TIMEOUT), None);
    }

    #[test]
    fn short_long_and_truncated_packets_are_refused() {
        assert_eq!(Packet::decode(&[1; 19]), Err(DecodeError::TooShort(19)));
        assert_eq!(Packet::decode(&[0; 4097]), Err(DecodeError::TooLong(4097)));
        let mut bytes = access_request().encode().unwrap();
        let declared = bytes.len();
        bytes.pop();
        assert_eq!(
            Packet::decode(&bytes),
            Err(DecodeError::Truncated {
                declared,
                received: declared - 1
            })
        );
        let mut bad_length = access_request().encode().unwrap();
        bad_length[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(
            Packet::decode(&bad_length),
            Err(DecodeError::InvalidLength(19))
        );
    }

    #[test]
    fn octets_past_the_length_field_are_padding() {
        let packet = access_request();
        let mut bytes = packet.encode().unwrap();
        bytes.extend_from_slice(&[0xde, 0xad]);
        assert_eq!(Packet::decode(&bytes).unwrap(), packet);
    }

    #[test]
    fn unknown_codes_are_refused() {
        let mut bytes = access_request().encode().unwrap();
        bytes[0] = 99;
        assert_eq!(Packet::decode(&bytes), Err(DecodeError::UnknownCode(99)));
    }

    #[test]
    fn a_packet_over_4096_octets_is_not_encoded() {
        let mut packet = Packet::new(Code::AccessAccept, 1);
        for _ in 0..17 {
            packet.push(AttrId::Standard(18), vec![b'x'; 253]);
        }
        assert!(matches!(
            packet.encode(),
            Err(EncodeError::PacketTooLong(_))
        ));
    }
}
