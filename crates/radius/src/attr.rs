//! Attributes on the wire: the attribute id (standard type or vendor + vendor type), the raw
//! value, and the type-length-value codec including Vendor-Specific (type 26) in the RFC 2865
//! §5.26 format. Typed values are in `value`, names in `dict`.

pub use crate::attr_id::AttrId;
use crate::error::{DecodeError, EncodeError};

/// The Vendor-Specific attribute type (RFC 2865 §5.26).
pub const VENDOR_SPECIFIC: u8 = 26;
/// The Message-Authenticator attribute type (RFC 2869 §5.14).
pub const MESSAGE_AUTHENTICATOR: u8 = 80;
/// Largest value of a standard attribute (255 minus the two-octet header).
pub const MAX_VALUE_LEN: usize = 253;
/// Largest value of a vendor attribute in the RFC format (253 minus the vendor id and the
/// two-octet vendor header).
pub const MAX_VENDOR_VALUE_LEN: usize = 247;

/// One attribute: its id and its raw value (for tagged attributes the tag is the first octet
/// of the value; for hidden attributes the value is the cipher text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// Which attribute this is.
    pub id: AttrId,
    /// The value octets as on the wire.
    pub value: Vec<u8>,
}

impl Attribute {
    /// An attribute from an id and value octets.
    pub fn new(id: AttrId, value: impl Into<Vec<u8>>) -> Attribute {
        Attribute {
            id,
            value: value.into(),
        }
    }

    /// The number of octets this attribute takes on the wire.
    pub fn wire_len(&self) -> usize {
        match self.id {
            AttrId::Standard(_) => 2 + self.value.len(),
            AttrId::Vendor { .. } => 8 + self.value.len(),
        }
    }

    /// Appends the attribute's wire form to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self.id {
            AttrId::Standard(code) => {
                let len = self.checked_len(MAX_VALUE_LEN)?;
                out.push(code);
                out.push(len + 2);
            }
            AttrId::Vendor {
                vendor,
                vendor_type,
            } => {
                let len = self.checked_len(MAX_VENDOR_VALUE_LEN)?;
                let vendor_type =
                    u8::try_from(vendor_type).map_err(|_| EncodeError::VendorTypeOutOfRange {
                        vendor,
                        vendor_type,
                    })?;
                out.push(VENDOR_SPECIFIC);
                out.push(len + 8);
                out.extend_from_slice(&vendor.to_be_bytes());
                out.push(vendor_type);
                out.push(len + 2);
            }
        }
        out.extend_from_slice(&self.value);
        Ok(())
    }

    fn checked_len(&self, max: usize) -> Result<u8, EncodeError> {
        match u8::try_from(self.value.len()) {
            Ok(len) if usize::from(len) <= max => Ok(len),
            _ => Err(EncodeError::AttributeTooLong {
                id: self.id,
                len: self.value.len(),
            }),
        }
    }
}

/// Decodes the attribute area of a packet. `base` is the offset of `bytes` in the packet, used
/// in error reports. Vendor-Specific attributes whose content is a well-formed list of
/// one-octet-type, one-octet-length sub-attributes become one [`AttrId::Vendor`] attribute
/// each; any other Vendor-Specific content is kept opaque as `Standard(26)`.
pub fn decode_attributes(bytes: &[u8], base: usize) -> Result<Vec<Attribute>, DecodeError> {
    let mut attributes = Vec::with_capacity(bytes.len() / 8);
    let mut rest = bytes;
    let mut offset = base;
    while let [attr_type, length, ..] = *rest {
        if length < 2 {
            return Err(DecodeError::AttributeLength {
                offset,
                attr_type,
                length,
            });
        }
        let Some((attribute, tail)) = rest.split_at_checked(usize::from(length)) else {
            return Err(DecodeError::AttributeOverrun { offset, attr_type });
        };
        let value = attribute.get(2..).unwrap_or_default();
        if attr_type == VENDOR_SPECIFIC {
            decode_vendor_specific(value, offset, &mut attributes)?;
        } else {
            if attr_type == MESSAGE_AUTHENTICATOR && value.len() != 16 {
                return Err(DecodeError::MessageAuthenticatorLength(value.len()));
            }
            attributes.push(Attribute::new(AttrId::Standard(attr_type), value));
        }
        rest = tail;
        offset += usize::from(length);
    }
    if let [attr_type] = *rest {
        return Err(DecodeError::AttributeOverrun { offset, attr_type });
    }
    Ok(attributes)
}

fn decode_vendor_specific(
    value: &[u8],
    offset: usize,
    out: &mut Vec<Attribute>,
) -> Result<(), DecodeError> {
    let Some((vendor, content)) = value.split_first_chunk::<4>() else {
        return Err(DecodeError::VendorSpecificTooShort { offset });
    };
    let vendor = u32::from_be_bytes(*vendor);
    if content.is_empty() || !is_rfc_vsa_format(content) {
        out.push(Attribute::new(AttrId::Standard(VENDOR_SPECIFIC), value));
        return Ok(());
    }
    let mut rest = content;
    while let [vendor_type, length, ..] = *rest {
        let Some((sub, tail)) = rest.split_at_checked(usize::from(length)) else {
            break;
        };
        out.push(Attribute::new(
            AttrId::vendor(vendor, u32::from(vendor_type)),
            sub.get(2..).unwrap_or_default(),
        ));
        rest = tail;
    }
    Ok(())
}

/// True when `content` is exactly a sequence of (type, length >= 2, value) sub-attributes.
fn is_rfc_vsa_format(content: &[u8]) -> bool {
    let mut rest = content;
    loop {
        match *rest {
            [] => return true,
            [_, length, ..] if length >= 2 && usize::from(length) <= rest.len() => {
                rest = rest.get(usize::from(length)..).unwrap_or_default();
            }
            _ => return false,
        }
    }
}

/// Splits an opaque Vendor-Specific value (vendor id + content) written in a vendor's own
/// format (FreeRADIUS `format=T,L`: `type_size` of 1, 2 or 4 octets, `len_size` of 0, 1 or 2)
/// into vendor attributes. Returns `None` when the content does not fit the format.
pub fn split_vendor_specific(value: &[u8], type_size: u8, len_size: u8) -> Option<Vec<Attribute>> {
    let (vendor, mut rest) = value.split_first_chunk::<4>()?;
    let vendor = u32::from_be_bytes(*vendor);
    let header = usize::from(type_size) + usize::from(len_size);
    let mut out = Vec::new();
    while !rest.is_empty() {
        let vendor_type = read_be(rest.get(..usize::from(type_size))?)?;
        let total = if len_size == 0 {
            rest.len()
        } else {
            usize::try_from(read_be(rest.get(usize::from(type_size)..header)?)?).ok()?
        };
        if total < header {
            return None;
        }
        let sub = rest.get(header..total)?;
        out.push(Attribute::new(AttrId::vendor(vendor, vendor_type), sub));
        rest = rest.get(total..)?;
    }
    Some(out)
}

fn read_be(bytes: &[u8]) -> Option<u32> {
    match *bytes {
        [a] => Some(u32::from(a)),
        [a, b] => Some(u32::from(u16::from_be_bytes([a, b]))),
        [a, b, c, d] => Some(u32::from_be_bytes([a, b, c, d])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vendor_specific_attribute_with_two_sub_attributes_becomes_two_attributes() {
        let bytes = [
            26, 14, 0, 0, 0x3a, 0x8c, 8, 4, b'1', b'M', 19, 4, b'a', b'b',
        ];
        let attributes = decode_attributes(&bytes, 20).unwrap();
        assert_eq!(
            attributes,
            vec![
                Attribute::new(AttrId::vendor(14988, 8), *b"1M"),
                Attribute::new(AttrId::vendor(14988, 19), *b"ab"),
            ]
        );
    }

    #[test]
    fn a_vendor_specific_attribute_in_another_format_is_kept_opaque() {
        let bytes = [26, 10, 0, 0, 1, 0xad, 0, 5, 0, 7];
        let attributes = decode_attributes(&bytes, 20).unwrap();
        assert_eq!(attributes[0].id, AttrId::Standard(26));
        let split = split_vendor_specific(&attributes[0].value, 2, 0).unwrap();
        assert_eq!(
            split,
            vec![Attribute::new(AttrId::vendor(429, 5), [0u8, 7])]
        );
    }

    #[test]
    fn attributes_of_length_zero_or_one_are_refused() {
        for length in [0u8, 1] {
            let err = decode_attributes(&[1, length, 0], 20).unwrap_err();
            assert!(matches!(err, DecodeError::AttributeLength { .. }), "{err}");
        }
    }

    #[test]
    fn an_attribute_running_past_the_end_is_refused() {
        let err = decode_attributes(&[1, 10, b'a'], 20).unwrap_err();
        assert_eq!(
            err,
            DecodeError::AttributeOverrun {
                offset: 20,
                attr_type: 1
            }
        );
        assert!(decode_attributes(&[1], 20).is_err());
    }

    #[test]
    fn over_long_values_are_refused_when_encoding() {
        let mut out = Vec::new();
        let long = Attribute::new(AttrId::Standard(1), vec![0u8; 254]);
        assert!(long.encode_into(&mut out).is_err());
        let long_vsa = Attribute::new(AttrId::vendor(9, 1), vec![0u8; 248]);
        assert!(long_vsa.encode_into(&mut out).is_err());
        let wide = Attribute::new(AttrId::vendor(9, 256), vec![0u8; 1]);
        assert!(wide.encode_into(&mut out).is_err());
    }
}
