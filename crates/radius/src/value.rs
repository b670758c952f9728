//! Typed attribute values (RFC 8044 data types as FreeRADIUS names them): decoding from and
//! encoding to value octets, parsing from and formatting to text. Which attribute has which
//! type is the dictionary's business (`dict`); typed constants use [`crate::attrs::AttrValue`].

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use thiserror::Error;

/// A data type, as named in FreeRADIUS dictionaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// UTF-8 text.
    String,
    /// Opaque octets.
    Octets,
    /// Unsigned 32-bit integer.
    Integer,
    /// Unsigned 64-bit integer.
    Integer64,
    /// Seconds since 1970-01-01 UTC, 32 bits.
    Date,
    /// IPv4 address.
    IpAddr,
    /// IPv6 address.
    Ipv6Addr,
    /// IPv6 prefix (reserved octet, prefix length, prefix).
    Ipv6Prefix,
    /// IPv6 interface id, 8 octets.
    Ifid,
    /// Unsigned 8-bit integer.
    Byte,
    /// Unsigned 16-bit integer.
    Short,
    /// Signed 32-bit integer.
    Signed,
    /// Ethernet address, 6 octets.
    Ether,
    /// IPv4 prefix (RFC 6572).
    Ipv4Prefix,
    /// IPv4 or IPv6 address, by length.
    ComboIp,
    /// Ascend binary filter; carried as octets.
    Abinary,
    /// Nested attributes (RFC 6929); carried as octets.
    Tlv,
    /// A vendor-specific container; carried as octets.
    Vsa,
    /// An extended-vendor-specific container; carried as octets.
    Evs,
    /// An extended attribute (RFC 6929); carried as octets.
    Extended,
    /// A long extended attribute (RFC 6929); carried as octets.
    LongExtended,
}

impl DataType {
    /// The type for a FreeRADIUS type name (case-insensitive), including the aliases some
    /// dictionaries use (`uint32`, `uint16`, `octets[16]`).
    pub fn from_name(name: &str) -> Option<DataType> {
        let name = name.to_ascii_lowercase();
        let base = name.split('[').next().unwrap_or_default();
        Some(match base {
            "string" => DataType::String,
            "octets" => DataType::Octets,
            "integer" | "uint32" => DataType::Integer,
            "integer64" | "uint64" => DataType::Integer64,
            "date" => DataType::Date,
            "ipaddr" | "ipv4addr" => DataType::IpAddr,
            "ipv6addr" => DataType::Ipv6Addr,
            "ipv6prefix" => DataType::Ipv6Prefix,
            "ifid" => DataType::Ifid,
            "byte" | "uint8" => DataType::Byte,
            "short" | "uint16" => DataType::Short,
            "signed" | "int32" => DataType::Signed,
            "ether" => DataType::Ether,
            "ipv4prefix" => DataType::Ipv4Prefix,
            "combo-ip" => DataType::ComboIp,
            "abinary" => DataType::Abinary,
            "tlv" => DataType::Tlv,
            "vsa" => DataType::Vsa,
            "evs" => DataType::Evs,
            "extended" => DataType::Extended,
            "long-extended" => DataType::LongExtended,
            _ => return None,
        })
    }

    /// True for the integer types that may carry named values (VALUE lines).
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            DataType::Integer
                | DataType::Integer64
                | DataType::Byte
                | DataType::Short
                | DataType::Signed
        )
    }
}

/// Why value octets or text are not a valid value of a type.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    /// The octets have the wrong length for a fixed-size type.
    #[error("{data_type:?} value of {got} octets (expected {expected})")]
    WrongLength {
        /// The type.
        data_type: DataType,
        /// The expected length (for prefixes, the largest).
        expected: usize,
        /// The received length.
        got: usize,
    },
    /// A string attribute that is not UTF-8.
    #[error("string value is not valid UTF-8")]
    InvalidUtf8,
    /// A prefix length above the address width.
    #[error("prefix length {0} is too long")]
    PrefixLength(u8),
    /// Text that does not parse as the type.
    #[error("cannot read {text:?} as {data_type:?}")]
    Parse {
        /// The type.
        data_type: DataType,
        /// The text.
        text: String,
    },
    /// A tag outside 1..=31 (RFC 2868).
    #[error("tag {0} is outside 1..=31")]
    InvalidTag(u8),
}

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// UTF-8 text.
    String(String),
    /// Opaque octets.
    Octets(Vec<u8>),
    /// Unsigned 32-bit integer.
    Integer(u32),
    /// Unsigned 64-bit integer.
    Integer64(u64),
    /// Seconds since the Unix epoch.
    Date(u32),
    /// IPv4 address.
    IpAddr(Ipv4Addr),
    /// IPv6 address.
    Ipv6Addr(Ipv6Addr),
    /// IPv6 prefix: address and prefix length.
    Ipv6Prefix(Ipv6Addr, u8),
    /// IPv6 interface id.
    Ifid([u8; 8]),
    /// 8-bit integer.
    Byte(u8),
    /// 16-bit integer.
    Short(u16),
    /// Signed 32-bit integer.
    Signed(i32),
    /// Ethernet address.
    Ether([u8; 6]),
    /// IPv4 prefix: address and prefix length.
    Ipv4Prefix(Ipv4Addr, u8),
}

pub(crate) fn fixed<const N: usize>(
    data_type: DataType,
    bytes: &[u8],
) -> Result<[u8; N], ValueError> {
    <[u8; N]>::try_from(bytes).map_err(|_| ValueError::WrongLength {
        data_type,
        expected: N,
        got: bytes.len(),
    })
}

impl Value {
    /// Decodes value octets as `data_type`. Structured types this crate does not interpret
    /// (abinary, tlv, vsa, evs, extended) decode as [`Value::Octets`].
    pub fn decode(data_type: DataType, bytes: &[u8]) -> Result<Value, ValueError> {
        Ok(match data_type {
            DataType::String => Value::String(
                std::str::from_utf8(bytes)
                    .map_err(|_| ValueError::InvalidUtf8)?
                    .to_owned(),
            ),
            DataType::Integer => Value::Integer(u32::from_be_bytes(fixed(data_type, bytes)?)),
            DataType::Integer64 => Value::Integer64(u64::from_be_bytes(fixed(data_type, bytes)?)),
            DataType::Date => Value::Date(u32::from_be_bytes(fixed(data_type, bytes)?)),
            DataType::IpAddr => Value::IpAddr(Ipv4Addr::from(fixed::<4>(data_type, bytes)?)),
            DataType::Ipv6Addr => Value::Ipv6Addr(Ipv6Addr::from(fixed::<16>(data_type, bytes)?)),
            DataType::Ifid => Value::Ifid(fixed(data_type, bytes)?),
            DataType::Byte => Value::Byte(u8::from_be_bytes(fixed(data_type, bytes)?)),
            DataType::Short => Value::Short(u16::from_be_bytes(fixed(data_type, bytes)?)),
            DataType::Signed => Value::Signed(i32::from_be_bytes(fixed(data_type, bytes)?)),
            DataType::Ether => Value::Ether(fixed(data_type, bytes)?),
            DataType::Ipv6Prefix => decode_ipv6_prefix(bytes)?,
            DataType::Ipv4Prefix => {
                let [_, len, a, b, c, d] = fixed::<6>(data_type, bytes)?;
                if len > 32 {
                    return Err(ValueError::PrefixLength(len));
                }
                Value::Ipv4Prefix(Ipv4Addr::new(a, b, c, d), len)
            }
            DataType::ComboIp => match bytes.len() {
                4 => Value::decode(DataType::IpAddr, bytes)?,
                _ => Value::decode(DataType::Ipv6Addr, bytes)?,
            },
            DataType::Octets
            | DataType::Abinary
            | DataType::Tlv
            | DataType::Vsa
            | DataType::Evs
            | DataType::Extended
            | DataType::LongExtended => Value::Octets(bytes.to_vec()),
        })
    }

    /// Appends the value octets to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Value::String(text) => out.extend_from_slice(text.as_bytes()),
            Value::Octets(bytes) => out.extend_from_slice(bytes),
            Value::Integer(n) | Value::Date(n) => out.extend_from_slice(&n.to_be_bytes()),
            Value::Integer64(n) => out.extend_from_slice(&n.to_be_bytes()),
            Value::IpAddr(ip) => out.extend_from_slice(&ip.octets()),
            Value::Ipv6Addr(ip) => out.extend_from_slice(&ip.octets()),
            Value::Ipv6Prefix(ip, len) => {
                out.extend_from_slice(&[0, *len]);
                let octets = ip.octets();
                let used = usize::from(*len).div_ceil(8).min(16);
                out.extend_from_slice(octets.get(..used).unwrap_or(&octets));
            }
            Value::Ifid(id) => out.extend_from_slice(id),
            Value::Byte(n) => out.push(*n),
            Value::Short(n) => out.extend_from_slice(&n.to_be_bytes()),
            Value::Signed(n) => out.extend_from_slice(&n.to_be_bytes()),
            Value::Ether(mac) => out.extend_from_slice(mac),
            Value::Ipv4Prefix(ip, len) => {
                out.extend_from_slice(&[0, *len]);
                out.extend_from_slice(&ip.octets());
            }
        }
    }

    /// The value octets.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Parses text as `data_type`: decimal or `0x` hex integers, dotted addresses,
    /// `addr/len` prefixes, `0x`-prefixed hex for octets (other text is taken as its bytes),
    /// dates as Unix seconds or `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn parse(data_type: DataType, text: &str) -> Result<Value, ValueError> {
        let bad = || ValueError::Parse {
            data_type,
            text: text.to_owned(),
        };
        Ok(match data_type {
            DataType::String => Value::String(text.to_owned()),
            DataType::Integer => Value::Integer(parse_uint(text).ok_or_else(bad)?),
            DataType::Integer64 => Value::Integer64(parse_uint(text).ok_or_else(bad)?),
            DataType::Byte => Value::Byte(parse_uint(text).ok_or_else(bad)?),
            DataType::Short => Value::Short(parse_uint(text).ok_or_else(bad)?),
            DataType::Signed => Value::Signed(text.parse().map_err(|_| bad())?),
            DataType::Date => Value::Date(parse_date(text).ok_or_else(bad)?),
            DataType::IpAddr => Value::IpAddr(text.parse().map_err(|_| bad())?),
            DataType::Ipv6Addr => Value::Ipv6Addr(text.parse().map_err(|_| bad())?),
            DataType::ComboIp => match text.parse::<Ipv4Addr>() {
                Ok(ip) => Value::IpAddr(ip),
                Err(_) => Value::Ipv6Addr(text.parse().map_err(|_| bad())?),
            },
            DataType::Ipv6Prefix => {
                let (ip, len) = text.split_once('/').ok_or_else(bad)?;
                let len: u8 = len.parse().map_err(|_| bad())?;
                if len > 128 {
                    return Err(ValueError::PrefixLength(len));
                }
                Value::Ipv6Prefix(ip.parse().map_err(|_| bad())?, len)
            }
            DataType::Ipv4Prefix => {
                let (ip, len) = text.split_once('/').ok_or_else(bad)?;
                let len: u8 = len.parse().map_err(|_| bad())?;
                if len > 32 {
                    return Err(ValueError::PrefixLength(len));
                }
                Value::Ipv4Prefix(ip.parse().map_err(|_| bad())?, len)
            }
            DataType::Ifid => Value::Ifid(parse_hex_groups(text).ok_or_else(bad)?),
            DataType::Ether => Value::Ether(parse_hex_groups(text).ok_or_else(bad)?),
            _ => match text.strip_prefix("0x") {
                Some(hex) => Value::Octets(parse_hex(hex).ok_or_else(bad)?),
                None => Value::Octets(text.as_bytes().to_vec()),
            },
        })
    }
}

fn parse_uint<T: TryFrom<u64>>(text: &str) -> Option<T> {
    let n = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => text.parse::<u64>().ok()?,
    };
    T::try_from(n).ok()
}

/// Parses an even number of hex digits into octets.
pub(crate) fn parse_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn parse_hex_groups<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    <[u8; N]>::try_from(parse_hex(&digits)?).ok()
}

fn decode_ipv6_prefix(bytes: &[u8]) -> Result<Value, ValueError> {
    let [_, len, prefix @ ..] = bytes else {
        return Err(ValueError::WrongLength {
            data_type: DataType::Ipv6Prefix,
            expected: 18,
            got: bytes.len(),
        });
    };
    if *len > 128 {
        return Err(ValueError::PrefixLength(*len));
    }
    if prefix.len() > 16 {
        return Err(ValueError::WrongLength {
            data_type: DataType::Ipv6Prefix,
            expected: 18,
            got: bytes.len(),
        });
    }
    let mut octets = [0u8; 16];
    for (slot, byte) in octets.iter_mut().zip(prefix) {
        *slot = *byte;
    }
    Ok(Value::Ipv6Prefix(Ipv6Addr::from(octets), *len))
}

fn parse_date(text: &str) -> Option<u32> {
    if let Ok(seconds) = text.parse::<u32>() {
        return Some(seconds);
    }
    // YYYY-MM-DDTHH:MM:SSZ
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once(['T', ' '])?;
    let mut date = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (date.next()??, date.next()??, date.next()??);
    let mut time = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (time.next()??, time.next()??, time.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let seconds = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss;
    u32::try_from(seconds).ok()
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Writes octets as `0x` followed by lowercase hex.
pub(crate) fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str("0x")?;
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(text) => f.write_str(text),
            Value::Octets(bytes) => write_hex(f, bytes),
            Value::Integer(n) => write!(f, "{n}"),
            Value::Integer64(n) => write!(f, "{n}"),
            Value::Date(seconds) => {
                let seconds = i64::from(*seconds);
                let (y, m, d) = civil_from_days(seconds.div_euclid(86_400));
                let s = seconds.rem_euclid(86_400);
                write!(
                    f,
                    "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                    s / 3600,
                    s / 60 % 60,
                    s % 60
                )
            }
            Value::IpAddr(ip) => write!(f, "{ip}"),
            Value::Ipv6Addr(ip) => write!(f, "{ip}"),
            Value::Ipv6Prefix(ip, len) => write!(f, "{ip}/{len}"),
            Value::Ipv4Prefix(ip, len) => write!(f, "{ip}/{len}"),
            Value::Ifid(id) => {
                let groups: Vec<String> = id
                    .chunks(2)
                    .map(|g| g.iter().map(|b| format!("{b:02x}")).collect())
                    .collect();
                f.write_str(&groups.join(":"))
            }
            Value::Byte(n) => write!(f, "{n}"),
            Value::Short(n) => write!(f, "{n}"),
            Value::Signed(n) => write!(f, "{n}"),
            Value::Ether(mac) => {
                let parts: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
                f.write_str(&parts.join(":"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_and_parse_as_utc() {
        let value = Value::Date(1_795_459_764);
        assert_eq!(value.to_string(), "2026-11-23T18:49:24Z");
        assert_eq!(
            Value::parse(DataType::Date, "2026-11-23T18:49:24Z"),
            Ok(value)
        );
        assert_eq!(Value::Date(0).to_string(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn fixed_size_types_refuse_other_lengths() {
        assert!(Value::decode(DataType::Integer, &[0, 1]).is_err());
        assert!(Value::decode(DataType::IpAddr, &[1, 2, 3, 4, 5]).is_err());
        assert!(Value::decode(DataType::Ipv6Prefix, &[0]).is_err());
        assert!(Value::decode(DataType::Ipv6Prefix, &[0, 129]).is_err());
    }

    #[test]
    fn invalid_utf8_in_a_string_is_a_typed_error() {
        assert_eq!(
            Value::decode(DataType::String, &[0xff, 0xfe]),
            Err(ValueError::InvalidUtf8)
        );
    }

    #[test]
    fn an_ipv6_prefix_is_encoded_with_only_the_octets_its_length_needs() {
        let value = Value::parse(DataType::Ipv6Prefix, "2001:db8::/32").unwrap();
        let bytes = value.to_bytes();
        assert_eq!(bytes, [0, 32, 0x20, 0x01, 0x0d, 0xb8]);
        assert_eq!(Value::decode(DataType::Ipv6Prefix, &bytes), Ok(value));
    }

    #[test]
    fn text_values_parse_per_type() {
        assert_eq!(
            Value::parse(DataType::Integer, "0x10"),
            Ok(Value::Integer(16))
        );
        assert_eq!(
            Value::parse(DataType::Ether, "00:11:22:aa:bb:cc"),
            Ok(Value::Ether([0, 0x11, 0x22, 0xaa, 0xbb, 0xcc]))
        );
        assert_eq!(
            Value::parse(DataType::Octets, "0x0102"),
            Ok(Value::Octets(vec![1, 2]))
        );
        assert!(Value::parse(DataType::Byte, "256").is_err());
    }
}
