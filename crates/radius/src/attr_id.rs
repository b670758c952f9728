//! The attribute id: a standard type (1-255), or a vendor's type inside Vendor-Specific.
//! Its own module, below `attr` (the codec) and `error` (which names ids in its messages).

use std::fmt;

/// Where an attribute lives: a standard type (1-255), or a vendor's type inside
/// Vendor-Specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttrId {
    /// A standard attribute, by its type octet. `Standard(26)` is a Vendor-Specific attribute
    /// whose content is not in the RFC one-octet format; it is carried opaque.
    Standard(u8),
    /// A vendor attribute (Vendor-Specific, vendor id, vendor type).
    Vendor {
        /// The IANA enterprise number (MikroTik is 14988).
        vendor: u32,
        /// The vendor's attribute type.
        vendor_type: u32,
    },
}

impl AttrId {
    /// A vendor attribute id.
    pub const fn vendor(vendor: u32, vendor_type: u32) -> AttrId {
        AttrId::Vendor {
            vendor,
            vendor_type,
        }
    }
}

impl fmt::Display for AttrId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrId::Standard(code) => write!(f, "{code}"),
            AttrId::Vendor {
                vendor,
                vendor_type,
            } => write!(f, "26.{vendor}.{vendor_type}"),
        }
    }
}
