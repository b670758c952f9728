//! Dictionaries: attribute and vendor definitions by name and by id, named integer values,
//! and the conversions between wire attributes and `Name = value` text. The FreeRADIUS-format
//! loader is in `parse`, the shipped dictionaries in `builtin`.

mod builtin;
mod parse;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use thiserror::Error;

use crate::attr::{AttrId, Attribute};
use crate::value::{DataType, Value, ValueError, write_hex};

pub use builtin::BUILTIN_FILES;

/// How an attribute's value is hidden on the wire (FreeRADIUS `encrypt=N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encryption {
    /// Not hidden.
    #[default]
    None,
    /// RFC 2865 User-Password hiding (`encrypt=1`).
    UserPassword,
    /// RFC 2868 / RFC 2548 salt scheme (`encrypt=2`).
    Salted,
    /// Ascend's scheme (`encrypt=3`); not implemented, carried opaque.
    Ascend,
}

/// One attribute definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrDef {
    /// The name, as written in the dictionary.
    pub name: String,
    /// Where it lives on the wire.
    pub id: AttrId,
    /// Its data type.
    pub data_type: DataType,
    /// True for RFC 2868 tagged attributes.
    pub has_tag: bool,
    /// How it is hidden.
    pub encryption: Encryption,
    values_by_number: HashMap<u64, String>,
    values_by_name: HashMap<String, u64>,
}

impl AttrDef {
    /// A definition without named values.
    pub fn new(name: impl Into<String>, id: AttrId, data_type: DataType) -> AttrDef {
        AttrDef {
            name: name.into(),
            id,
            data_type,
            has_tag: false,
            encryption: Encryption::None,
            values_by_number: HashMap::new(),
            values_by_name: HashMap::new(),
        }
    }

    /// The name of an integer value (`Acct-Status-Type` 1 is `Start`).
    pub fn value_name(&self, number: u64) -> Option<&str> {
        self.values_by_number.get(&number).map(String::as_str)
    }

    /// The number of a named value (case-insensitive).
    pub fn value_number(&self, name: &str) -> Option<u64> {
        self.values_by_name.get(&name.to_ascii_lowercase()).copied()
    }

    fn add_value(&mut self, name: &str, number: u64) {
        self.values_by_number.insert(number, name.to_owned());
        self.values_by_name
            .insert(name.to_ascii_lowercase(), number);
    }
}

/// One vendor definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorDef {
    /// The name.
    pub name: String,
    /// The IANA enterprise number.
    pub id: u32,
    /// Octets of the vendor type field (1, 2 or 4; RFC format is 1).
    pub type_size: u8,
    /// Octets of the vendor length field (0, 1 or 2; RFC format is 1).
    pub len_size: u8,
}

/// Why a dictionary cannot be loaded, or an attribute cannot be read or written through it.
#[derive(Debug, Error)]
pub enum DictError {
    /// A dictionary file cannot be read.
    #[error("cannot read dictionary {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is not valid.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// The line number (1-based).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// `$INCLUDE` nests deeper than 32 files (probably a loop).
    #[error("{0}: $INCLUDE nested too deeply")]
    IncludeDepth(String),
    /// No attribute of that name.
    #[error("unknown attribute {0:?}")]
    UnknownAttribute(String),
    /// No vendor of that name or number.
    #[error("unknown vendor {0:?}")]
    UnknownVendor(String),
    /// A value name the attribute does not define.
    #[error("attribute {attribute} has no value named {value:?}")]
    UnknownValue {
        /// The attribute.
        attribute: String,
        /// The value text.
        value: String,
    },
    /// A value that does not fit the attribute's type.
    #[error("attribute {attribute}: {source}")]
    Value {
        /// The attribute.
        attribute: String,
        /// The cause.
        source: ValueError,
    },
    /// Text that is not `Name = value`.
    #[error("expected Name=value, got {0:?}")]
    NotAnAssignment(String),
}

/// An attribute decoded through a dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'d> {
    /// Its definition.
    pub def: &'d AttrDef,
    /// The RFC 2868 tag, for tagged attributes that carry one.
    pub tag: Option<u8>,
    /// The value. Hidden attributes decode as their cipher text ([`Value::Octets`]).
    pub value: Value,
}

impl Decoded<'_> {
    /// The value as text, using the attribute's named values where one matches.
    pub fn value_text(&self) -> String {
        let number = match self.value {
            Value::Integer(n) => Some(u64::from(n)),
            Value::Integer64(n) => Some(n),
            Value::Byte(n) => Some(u64::from(n)),
            Value::Short(n) => Some(u64::from(n)),
            _ => None,
        };
        match number.and_then(|n| self.def.value_name(n)) {
            Some(name) => name.to_owned(),
            None => self.value.to_string(),
        }
    }
}

/// A set of attribute and vendor definitions.
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    attributes: Vec<AttrDef>,
    by_name: HashMap<String, usize>,
    by_id: HashMap<AttrId, usize>,
    vendors: Vec<VendorDef>,
    vendor_by_name: HashMap<String, usize>,
    vendor_by_id: HashMap<u32, usize>,
    /// Attributes defined with nested ids (TLV children, RFC 6929 extended attributes,
    /// internal numbers above 255): known by name, not carried by this crate's codec.
    nested: HashMap<String, String>,
}

impl Dictionary {
    /// An empty dictionary.
    pub fn new() -> Dictionary {
        Dictionary::default()
    }

    /// The definition of an attribute by name (case-insensitive).
    pub fn attribute(&self, name: &str) -> Option<&AttrDef> {
        let index = self.by_name.get(&name.to_ascii_lowercase())?;
        self.attributes.get(*index)
    }

    /// The definition of an attribute by id.
    pub fn attribute_by_id(&self, id: AttrId) -> Option<&AttrDef> {
        self.attributes.get(*self.by_id.get(&id)?)
    }

    /// The definition of a vendor by name (case-insensitive).
    pub fn vendor(&self, name: &str) -> Option<&VendorDef> {
        self.vendors
            .get(*self.vendor_by_name.get(&name.to_ascii_lowercase())?)
    }

    /// The definition of a vendor by number.
    pub fn vendor_by_id(&self, id: u32) -> Option<&VendorDef> {
        self.vendors.get(*self.vendor_by_id.get(&id)?)
    }

    /// True when `name` is defined with a nested id (a TLV child, an RFC 6929 extended
    /// attribute, or an internal attribute): known, but not carried by this crate's codec.
    pub fn is_nested(&self, name: &str) -> bool {
        self.nested.contains_key(&name.to_ascii_lowercase())
    }

    /// The number of attributes the codec can address.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True when no attribute is defined.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The number of vendors.
    pub fn vendor_count(&self) -> usize {
        self.vendor_by_id.len()
    }

    /// Adds or replaces an attribute definition (a later definition of the same name or id
    /// wins, as in FreeRADIUS).
    pub fn insert_attribute(&mut self, def: AttrDef) {
        let key = def.name.to_ascii_lowercase();
        let index = match self.by_name.get(&key) {
            Some(&index) if self.attributes.get(index).map(|d| d.id) == Some(def.id) => {
                // Same name, same id: keep the named values gathered so far.
                if let Some(slot) = self.attributes.get_mut(index) {
                    let values_by_number = std::mem::take(&mut slot.values_by_number);
                    let values_by_name = std::mem::take(&mut slot.values_by_name);
                    *slot = AttrDef {
                        values_by_number,
                        values_by_name,
                        ..def
                    };
                }
                index
            }
            _ => {
                self.attributes.push(def);
                self.attributes.len() - 1
            }
        };
        if let Some(def) = self.attributes.get(index) {
            self.by_id.insert(def.id, index);
        }
        self.by_name.insert(key, index);
    }

    /// Adds or replaces a vendor definition.
    pub fn insert_vendor(&mut self, vendor: VendorDef) {
        let index = self.vendors.len();
        self.vendor_by_name
            .insert(vendor.name.to_ascii_lowercase(), index);
        self.vendor_by_id.insert(vendor.id, index);
        self.vendors.push(vendor);
    }

    fn insert_nested(&mut self, name: &str, oid: &str) {
        self.nested
            .insert(name.to_ascii_lowercase(), oid.to_owned());
    }

    fn add_value(&mut self, attribute: &str, name: &str, number: u64) -> bool {
        match self.by_name.get(&attribute.to_ascii_lowercase()) {
            Some(&index) => {
                if let Some(def) = self.attributes.get_mut(index) {
                    def.add_value(name, number);
                }
                true
            }
            None => false,
        }
    }

    /// Decodes an attribute's value by its definition. Fails with
    /// [`DictError::UnknownAttribute`] for an attribute the dictionary does not define (the
    /// name is `Attr-<id>`), and [`DictError::Value`] for a value that does not fit its type.
    pub fn decode<'d>(&'d self, attribute: &Attribute) -> Result<Decoded<'d>, DictError> {
        let def = self
            .attribute_by_id(attribute.id)
            .ok_or_else(|| DictError::UnknownAttribute(format!("Attr-{}", attribute.id)))?;
        let value_error = |source| DictError::Value {
            attribute: def.name.clone(),
            source,
        };
        let mut bytes = attribute.value.as_slice();
        let mut tag = None;
        if def.encryption != Encryption::None {
            return Ok(Decoded {
                def,
                tag: None,
                value: Value::Octets(bytes.to_vec()),
            });
        }
        if def.has_tag {
            match (def.data_type, bytes) {
                (DataType::Integer, [t, rest @ ..]) => {
                    tag = Some(*t).filter(|t| *t != 0);
                    let [a, b, c] = *rest else {
                        return Err(value_error(ValueError::WrongLength {
                            data_type: DataType::Integer,
                            expected: 4,
                            got: bytes.len(),
                        }));
                    };
                    let value = Value::Integer(u32::from_be_bytes([0, a, b, c]));
                    return Ok(Decoded { def, tag, value });
                }
                (_, [t @ 0x01..=0x1f, rest @ ..]) => {
                    tag = Some(*t);
                    bytes = rest;
                }
                _ => {}
            }
        }
        let value = Value::decode(def.data_type, bytes).map_err(value_error)?;
        Ok(Decoded { def, tag, value })
    }

    /// Formats an attribute as `Name = value` (`Name:tag = value` when tagged, strings
    /// quoted). A value that does not fit its type prints as `0x<hex>`, or for strings that
    /// are not UTF-8 as a quoted string with `\xNN` escapes; an attribute the dictionary does
    /// not know prints as `Attr-<id> = 0x<hex>`.
    pub fn format(&self, attribute: &Attribute) -> String {
        let Some(def) = self.attribute_by_id(attribute.id) else {
            return format!("Attr-{} = {}", attribute.id, HexDisplay(&attribute.value));
        };
        match self.decode(attribute) {
            Ok(decoded) => {
                let mut out = def.name.clone();
                if let Some(tag) = decoded.tag {
                    let _ = write!(out, ":{tag}");
                }
                match &decoded.value {
                    Value::String(text) => {
                        let _ = write!(out, " = {text:?}");
                    }
                    _ => {
                        let _ = write!(out, " = {}", decoded.value_text());
                    }
                }
                out
            }
            Err(_) if def.data_type == DataType::String => {
                // escape_ascii escapes quotes and backslashes too.
                format!("{} = \"{}\"", def.name, attribute.value.escape_ascii())
            }
            Err(_) => format!("{} = {}", def.name, HexDisplay(&attribute.value)),
        }
    }

    /// Encodes a value for an attribute, with an optional RFC 2868 tag. Integers may be
    /// given by their dictionary names.
    pub fn encode_text(
        &self,
        def: &AttrDef,
        tag: Option<u8>,
        text: &str,
    ) -> Result<Attribute, DictError> {
        let value_error = |source| DictError::Value {
            attribute: def.name.clone(),
            source,
        };
        let value = match def.value_number(text) {
            Some(number) if def.data_type.is_integer() => {
                let text = number.to_string();
                Value::parse(def.data_type, &text).map_err(value_error)?
            }
            _ => Value::parse(def.data_type, text).map_err(|err| match err {
                ValueError::Parse { .. } if def.data_type.is_integer() => DictError::UnknownValue {
                    attribute: def.name.clone(),
                    value: text.to_owned(),
                },
                other => value_error(other),
            })?,
        };
        let mut bytes = Vec::new();
        if let Some(tag) = tag.filter(|tag| !(1..=0x1f).contains(tag)) {
            return Err(value_error(ValueError::InvalidTag(tag)));
        }
        match (def.has_tag, def.data_type) {
            (true, DataType::Integer) => {
                let full = value.to_bytes();
                bytes.push(tag.unwrap_or(0));
                bytes.extend_from_slice(full.get(1..).unwrap_or_default());
            }
            (true, _) => {
                if let Some(tag) = tag {
                    bytes.push(tag);
                }
                value.encode_into(&mut bytes);
            }
            (false, _) => value.encode_into(&mut bytes),
        }
        Ok(Attribute::new(def.id, bytes))
    }

    /// Parses `Name=value` or `Name:tag=value` (spaces around `=` allowed, the value may be in
    /// double quotes) into an attribute.
    pub fn parse_assignment(&self, text: &str) -> Result<Attribute, DictError> {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| DictError::NotAnAssignment(text.to_owned()))?;
        let name = name.trim();
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        let (name, tag) = match name.split_once(':') {
            Some((name, tag)) => {
                let tag = tag
                    .parse::<u8>()
                    .map_err(|_| DictError::NotAnAssignment(text.to_owned()))?;
                (name, Some(tag))
            }
            None => (name, None),
        };
        let def = self
            .attribute(name)
            .ok_or_else(|| DictError::UnknownAttribute(name.to_owned()))?;
        self.encode_text(def, tag, value)
    }
}

struct HexDisplay<'a>(&'a [u8]);

impl std::fmt::Display for HexDisplay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_hex(f, self.0)
    }
}
