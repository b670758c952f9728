//! The FreeRADIUS dictionary format: `ATTRIBUTE`, `VALUE`, `VENDOR`, `BEGIN-VENDOR` /
//! `END-VENDOR`, `BEGIN-TLV` / `END-TLV` and `$INCLUDE` (`$INCLUDE-` for optional files),
//! `#` comments. Attributes with nested ids (TLV children, dotted RFC 6929 ids, Extended
//! Vendor-Specific vendors, internal numbers above 255) are recorded by name only.

use std::path::{Path, PathBuf};

use super::{AttrDef, DictError, Dictionary, Encryption, VendorDef};
use crate::attr::AttrId;
use crate::value::DataType;

const MAX_INCLUDE_DEPTH: usize = 32;

/// Reads an included file: given the including file's name and the `$INCLUDE` argument,
/// returns the included file's name and text, or `None` when it does not exist.
pub type IncludeFn<'a> = dyn FnMut(&str, &str) -> Result<Option<(String, String)>, DictError> + 'a;

impl Dictionary {
    /// Loads a dictionary file from disk into this dictionary, following `$INCLUDE`s
    /// relative to the including file's directory.
    pub fn load_file(&mut self, path: &Path) -> Result<(), DictError> {
        let text = std::fs::read_to_string(path).map_err(|source| DictError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut include = |from: &str, name: &str| {
            let base = Path::new(from).parent().unwrap_or(Path::new("."));
            let path: PathBuf = base.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some((path.to_string_lossy().into_owned(), text))),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(DictError::Io { path, source }),
            }
        };
        self.load_str(&path.to_string_lossy(), &text, &mut include)
    }

    /// Loads dictionary text named `name` into this dictionary; `$INCLUDE`s are read through
    /// `include`.
    pub fn load_str(
        &mut self,
        name: &str,
        text: &str,
        include: &mut IncludeFn<'_>,
    ) -> Result<(), DictError> {
        let mut loader = Loader {
            dict: self,
            include,
            pending: Vec::new(),
        };
        loader.file(name, text, 0)?;
        loader.resolve_pending()
    }

    /// Parses dictionary text that has no `$INCLUDE`s into a new dictionary.
    pub fn parse(name: &str, text: &str) -> Result<Dictionary, DictError> {
        let mut dict = Dictionary::new();
        let mut no_includes = |_: &str, _: &str| Ok(None);
        dict.load_str(name, text, &mut no_includes)?;
        Ok(dict)
    }
}

struct PendingValue {
    attribute: String,
    name: String,
    number: u64,
    file: String,
    line: usize,
}

struct Loader<'a, 'b> {
    dict: &'a mut Dictionary,
    include: &'a mut IncludeFn<'b>,
    pending: Vec<PendingValue>,
}

/// The vendor block a line is in.
#[derive(Clone)]
struct VendorBlock {
    name: String,
    id: u32,
    type_size: u8,
    /// Extended-Vendor-Specific blocks hold nested attributes only.
    extended: bool,
}

impl Loader<'_, '_> {
    fn file(&mut self, name: &str, text: &str, depth: usize) -> Result<(), DictError> {
        if depth > MAX_INCLUDE_DEPTH {
            return Err(DictError::IncludeDepth(name.to_owned()));
        }
        let mut vendor: Option<VendorBlock> = None;
        let mut tlvs: Vec<String> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let syntax = |message: String| DictError::Syntax {
                file: name.to_owned(),
                line,
                message,
            };
            let content = raw.split('#').next().unwrap_or_default();
            let tokens: Vec<&str> = content.split_whitespace().collect();
            let Some((&keyword, args)) = tokens.split_first() else {
                continue;
            };
            match keyword {
                "ATTRIBUTE" => self
                    .attribute(args, vendor.as_ref(), !tlvs.is_empty())
                    .map_err(syntax)?,
                "VALUE" => {
                    let [attribute, value_name, number, ..] = args else {
                        return Err(syntax(
                            "VALUE needs an attribute, a name and a number".into(),
                        ));
                    };
                    let number = parse_number(number)
                        .ok_or_else(|| syntax(format!("invalid VALUE number {number:?}")))?;
                    if !self.dict.add_value(attribute, value_name, number) {
                        self.pending.push(PendingValue {
                            attribute: (*attribute).to_owned(),
                            name: (*value_name).to_owned(),
                            number,
                            file: name.to_owned(),
                            line,
                        });
                    }
                }
                "VENDOR" => self.vendor(args).map_err(syntax)?,
                "BEGIN-VENDOR" => {
                    if vendor.is_some() {
                        return Err(syntax("BEGIN-VENDOR inside another vendor block".into()));
                    }
                    vendor = Some(self.begin_vendor(args).map_err(syntax)?);
                }
                "END-VENDOR" => {
                    let open = vendor.take().map(|v| v.name);
                    if open.as_deref().map(str::to_ascii_lowercase)
                        != args.first().map(|a| a.to_ascii_lowercase())
                    {
                        return Err(syntax(format!("END-VENDOR does not close {open:?}")));
                    }
                }
                "BEGIN-TLV" => {
                    let [parent, ..] = args else {
                        return Err(syntax("BEGIN-TLV needs an attribute name".into()));
                    };
                    tlvs.push((*parent).to_owned());
                }
                "END-TLV" => {
                    let open = tlvs.pop();
                    if open.as_deref() != args.first().copied() {
                        return Err(syntax(format!("END-TLV does not close {open:?}")));
                    }
                }
                "$INCLUDE" | "$INCLUDE-" => {
                    let [file, ..] = args else {
                        return Err(syntax("$INCLUDE needs a file name".into()));
                    };
                    match (self.include)(name, file)? {
                        Some((included, text)) => self.file(&included, &text, depth + 1)?,
                        None if keyword == "$INCLUDE-" => {}
                        None => return Err(syntax(format!("included file {file:?} not found"))),
                    }
                }
                other => return Err(syntax(format!("unknown keyword {other:?}"))),
            }
        }
        if let Some(open) = vendor {
            return Err(DictError::Syntax {
                file: name.to_owned(),
                line: text.lines().count(),
                message: format!("BEGIN-VENDOR {} is not closed", open.name),
            });
        }
        if let Some(open) = tlvs.pop() {
            return Err(DictError::Syntax {
                file: name.to_owned(),
                line: text.lines().count(),
                message: format!("BEGIN-TLV {open} is not closed"),
            });
        }
        Ok(())
    }

    fn attribute(
        &mut self,
        args: &[&str],
        block: Option<&VendorBlock>,
        in_tlv: bool,
    ) -> Result<(), String> {
        let [name, oid, type_name, rest @ ..] = args else {
            return Err("ATTRIBUTE needs a name, a number and a type".into());
        };
        let data_type =
            DataType::from_name(type_name).ok_or_else(|| format!("unknown type {type_name:?}"))?;
        let mut has_tag = false;
        let mut encryption = Encryption::None;
        let mut vendor = block.map(|b| (b.id, b.type_size, b.extended));
        for option in rest {
            if let Some(found) = self.dict.vendor(option) {
                // Old syntax: the vendor name as the fourth field.
                vendor = Some((found.id, found.type_size, false));
                continue;
            }
            for flag in option.split(',') {
                match flag {
                    "has_tag" => has_tag = true,
                    "encrypt=1" => encryption = Encryption::UserPassword,
                    "encrypt=2" => encryption = Encryption::Salted,
                    "encrypt=3" => encryption = Encryption::Ascend,
                    "array" | "concat" | "virtual" | "secret" | "long" | "internal" => {}
                    other => return Err(format!("unknown attribute flag {other:?}")),
                }
            }
        }
        let nested = in_tlv || oid.contains('.') || vendor.is_some_and(|v| v.2);
        if nested {
            self.dict.insert_nested(name, oid);
            return Ok(());
        }
        let number =
            parse_number(oid).ok_or_else(|| format!("invalid attribute number {oid:?}"))?;
        let id = match vendor {
            Some((vendor, type_size, _)) => {
                let max = match type_size {
                    1 => 0xff,
                    2 => 0xffff,
                    _ => u64::from(u32::MAX),
                };
                if number > max {
                    return Err(format!("vendor attribute number {number} is too large"));
                }
                AttrId::vendor(vendor, u32::try_from(number).map_err(|e| e.to_string())?)
            }
            None => match u8::try_from(number) {
                Ok(code) if code != 0 => AttrId::Standard(code),
                _ => {
                    // FreeRADIUS's internal attributes (1000 and up) never go on the wire.
                    self.dict.insert_nested(name, oid);
                    return Ok(());
                }
            },
        };
        let mut def = AttrDef::new(*name, id, data_type);
        def.has_tag = has_tag;
        def.encryption = encryption;
        self.dict.insert_attribute(def);
        Ok(())
    }

    fn vendor(&mut self, args: &[&str]) -> Result<(), String> {
        let [name, number, rest @ ..] = args else {
            return Err("VENDOR needs a name and a number".into());
        };
        let id = parse_number(number)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("invalid vendor number {number:?}"))?;
        let (mut type_size, mut len_size) = (1, 1);
        for option in rest {
            let format = option
                .strip_prefix("format=")
                .ok_or_else(|| format!("unknown vendor option {option:?}"))?;
            let mut parts = format.split(',');
            type_size = match parts.next() {
                Some("1") => 1,
                Some("2") => 2,
                Some("4") => 4,
                _ => return Err(format!("invalid vendor format {format:?}")),
            };
            len_size = match parts.next() {
                Some("0") => 0,
                Some("1") => 1,
                Some("2") => 2,
                _ => return Err(format!("invalid vendor format {format:?}")),
            };
            match parts.next() {
                None | Some("c") => {}
                Some(_) => return Err(format!("invalid vendor format {format:?}")),
            }
        }
        self.dict.insert_vendor(VendorDef {
            name: (*name).to_owned(),
            id,
            type_size,
            len_size,
        });
        Ok(())
    }

    fn begin_vendor(&mut self, args: &[&str]) -> Result<VendorBlock, String> {
        let [name, rest @ ..] = args else {
            return Err("BEGIN-VENDOR needs a vendor name".into());
        };
        let vendor = self
            .dict
            .vendor(name)
            .ok_or_else(|| format!("unknown vendor {name:?}"))?;
        let mut extended = false;
        for option in rest {
            match option.strip_prefix("format=") {
                Some(format) if format.starts_with("Extended-Vendor-Specific-") => extended = true,
                _ => return Err(format!("unknown BEGIN-VENDOR option {option:?}")),
            }
        }
        Ok(VendorBlock {
            name: vendor.name.clone(),
            id: vendor.id,
            type_size: vendor.type_size,
            extended,
        })
    }

    fn resolve_pending(&mut self) -> Result<(), DictError> {
        for value in std::mem::take(&mut self.pending) {
            if !self
                .dict
                .add_value(&value.attribute, &value.name, value.number)
                && !self.dict.is_nested(&value.attribute)
            {
                return Err(DictError::Syntax {
                    file: value.file,
                    line: value.line,
                    message: format!("VALUE for unknown attribute {:?}", value.attribute),
                });
            }
        }
        Ok(())
    }
}

fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_values_and_vendor_blocks_are_loaded() {
        let text = "\
# a comment
ATTRIBUTE  User-Name      1   string
ATTRIBUTE  Service-Type   6   integer
VALUE      Service-Type   Framed-User  2
VENDOR     Example        9999
BEGIN-VENDOR Example
ATTRIBUTE  Example-Speed  3   integer  # trailing comment
ATTRIBUTE  Example-Tunnel 4   string   has_tag,encrypt=2
END-VENDOR Example
";
        let dict = Dictionary::parse("test", text).unwrap();
        let speed = dict.attribute("example-speed").unwrap();
        assert_eq!(speed.id, AttrId::vendor(9999, 3));
        let service = dict.attribute("Service-Type").unwrap();
        assert_eq!(service.value_name(2), Some("Framed-User"));
        assert_eq!(service.value_number("framed-user"), Some(2));
        let tunnel = dict.attribute("Example-Tunnel").unwrap();
        assert!(tunnel.has_tag);
        assert_eq!(tunnel.encryption, Encryption::Salted);
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line_number() {
        for text in [
            "ATTRIBUTE Foo",
            "ATTRIBUTE Foo 1 nosuchtype",
            "ATTRIBUTE Foo x1 string",
            "VALUE Foo Bar",
            "BEGIN-VENDOR Nobody",
            "FROBNICATE",
            "VENDOR V 1 format=3,1",
            "VENDOR V 1\nBEGIN-VENDOR V\nATTRIBUTE A 256 string\nEND-VENDOR V",
            "VENDOR V 1\nBEGIN-VENDOR V",
            "VALUE Unknown-Attr X 1",
            "$INCLUDE missing",
        ] {
            let err = Dictionary::parse("t", text).unwrap_err();
            assert!(matches!(err, DictError::Syntax { .. }), "{text}: {err}");
        }
    }

    #[test]
    fn nested_ids_are_recorded_by_name_only() {
        let text = "\
ATTRIBUTE Extended-Attribute-1 241 extended
ATTRIBUTE Frag-Status 241.1 integer
VALUE Frag-Status Reserved 0
ATTRIBUTE Internal-Thing 1000 integer
";
        let dict = Dictionary::parse("t", text).unwrap();
        assert!(dict.is_nested("Frag-Status"));
        assert!(dict.is_nested("Internal-Thing"));
        assert!(dict.attribute("Frag-Status").is_none());
    }

    #[test]
    fn an_include_loop_is_stopped() {
        let mut dict = Dictionary::new();
        let mut include =
            |_: &str, name: &str| Ok(Some((name.to_owned(), format!("$INCLUDE {name}"))));
        let err = dict
            .load_str("loop", "$INCLUDE loop", &mut include)
            .unwrap_err();
        assert!(matches!(err, DictError::IncludeDepth(_)));
    }
}
