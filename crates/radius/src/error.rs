//! The codec's and the verifier's error types. Dictionary, value, password, client and server
//! errors live beside their modules.

use thiserror::Error;

use crate::attr_id::AttrId;
use crate::code::Code;

/// Why a byte string is not a well-formed RADIUS packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Fewer than the 20 octets of the header.
    #[error("packet of {0} octets is shorter than the 20-octet header")]
    TooShort(usize),
    /// More than the 4096 octets RFC 2865 allows.
    #[error("packet of {0} octets is longer than the 4096-octet maximum")]
    TooLong(usize),
    /// The Length field is below 20 or above 4096.
    #[error("length field {0} is outside 20..=4096")]
    InvalidLength(usize),
    /// The Length field claims more octets than were received (RFC 2865 §3: silently discard).
    #[error("length field says {declared} octets but only {received} were received")]
    Truncated {
        /// The Length field.
        declared: usize,
        /// Octets received.
        received: usize,
    },
    /// A code that no RFC this crate implements defines.
    #[error("unknown packet code {0}")]
    UnknownCode(u8),
    /// An attribute whose Length field is 0 or 1.
    #[error("attribute {attr_type} at offset {offset} has invalid length {length}")]
    AttributeLength {
        /// Offset of the attribute in the packet.
        offset: usize,
        /// The attribute's type octet.
        attr_type: u8,
        /// The attribute's Length field.
        length: u8,
    },
    /// An attribute that runs past the end of the packet.
    #[error("attribute {attr_type} at offset {offset} runs past the end of the packet")]
    AttributeOverrun {
        /// Offset of the attribute in the packet.
        offset: usize,
        /// The attribute's type octet.
        attr_type: u8,
    },
    /// A Vendor-Specific attribute too short to hold a vendor id.
    #[error("vendor-specific attribute at offset {offset} is shorter than its vendor id")]
    VendorSpecificTooShort {
        /// Offset of the attribute in the packet.
        offset: usize,
    },
    /// A Message-Authenticator whose value is not 16 octets.
    #[error("message-authenticator of {0} octets (must be 16)")]
    MessageAuthenticatorLength(usize),
}

/// Why a packet cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// The attribute's value does not fit in one attribute.
    #[error("value of {len} octets is too long for attribute {id}")]
    AttributeTooLong {
        /// The attribute.
        id: AttrId,
        /// The value's length.
        len: usize,
    },
    /// The encoded packet would exceed 4096 octets.
    #[error("encoded packet of {0} octets exceeds the 4096-octet maximum")]
    PacketTooLong(usize),
    /// A vendor attribute type above 255 cannot be written in the RFC 2865 VSA format.
    #[error("vendor {vendor} attribute type {vendor_type} does not fit the one-octet VSA format")]
    VendorTypeOutOfRange {
        /// Vendor id.
        vendor: u32,
        /// Vendor attribute type.
        vendor_type: u32,
    },
    /// A response must be signed against the request it answers, with its code.
    #[error("{0} is not a response code")]
    NotAResponse(Code),
    /// A request must be encoded with a request code.
    #[error("{0} is not a request code")]
    NotARequest(Code),
}

/// Why a received packet fails authentication with the shared secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// The packet is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The Request Authenticator of an Accounting, CoA or Disconnect request is wrong
    /// (wrong shared secret, or a forged or corrupted packet).
    #[error("request authenticator does not match (wrong shared secret?)")]
    BadRequestAuthenticator,
    /// The Response Authenticator is wrong.
    #[error("response authenticator does not match (wrong shared secret?)")]
    BadResponseAuthenticator,
    /// The Message-Authenticator is wrong.
    #[error("message-authenticator does not match (wrong shared secret?)")]
    BadMessageAuthenticator,
    /// The packet has no Message-Authenticator and the peer is required to send one.
    #[error("message-authenticator is required but missing")]
    MissingMessageAuthenticator,
    /// The packet's identifier is not the request's.
    #[error("identifier {got} does not match the request's {expected}")]
    IdentifierMismatch {
        /// The request's identifier.
        expected: u8,
        /// The reply's identifier.
        got: u8,
    },
    /// The packet's code is not a valid reply to the request.
    #[error("{got} is not a reply to {request}")]
    UnexpectedCode {
        /// The request's code.
        request: Code,
        /// The reply's code.
        got: Code,
    },
    /// A request arrived with a reply code, or the reverse.
    #[error("{0} is not a request")]
    NotARequest(Code),
}
