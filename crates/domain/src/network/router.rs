//! Router (NAS) fields as they come in: names, the RADIUS source address, the shared
//! secret, and the RouterOS API endpoint.

use std::net::IpAddr;

use crate::field::FieldError;
use crate::text::bounded;

/// The characters of a made-up RADIUS shared secret: letters and digits without the ones
/// read alike (`I l 1 O 0 o`), so a secret survives being read out over the phone.
pub const SECRET_CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
/// The length of a made-up shared secret (about 139 bits).
pub const SECRET_LEN: usize = 24;

/// A router's name: 1 to 64 characters.
pub fn parse_name(raw: &str) -> Result<String, FieldError> {
    bounded("name", raw, 1, 64)
}

/// The name of an object on the router that RADIUS replies refer to (an IP pool sent as
/// `Framed-Pool`, an address list sent as `Mikrotik-Address-List`): 1 to 64 characters of
/// `A-Z a-z 0-9 _ - .`, as RouterOS names them. A name that is empty is `required`.
pub fn parse_object_name(field: &str, raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    let ok = name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(FieldError::new(field, "invalid_router_name"))
    }
}

/// The address a router sends RADIUS from: a unicast IPv4 or IPv6 address.
pub fn parse_nas_address(raw: &str) -> Result<IpAddr, FieldError> {
    let address: IpAddr = raw
        .trim()
        .parse()
        .map_err(|_| FieldError::new("nas_address", "invalid_ip"))?;
    if address.is_unspecified() || address.is_multicast() {
        return Err(FieldError::new("nas_address", "invalid_ip"));
    }
    Ok(address)
}

/// A RADIUS shared secret: 8 to 128 printable ASCII characters without spaces or quotes
/// (they travel through FreeRADIUS's configuration and RouterOS's command line).
pub fn parse_secret(raw: &str) -> Result<String, FieldError> {
    let field = "secret";
    if raw.len() < 8 {
        return Err(FieldError::new(field, "too_short").with("min", 8));
    }
    if raw.len() > 128 {
        return Err(FieldError::new(field, "too_long").with("max", 128));
    }
    if !raw
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '\\'))
    {
        return Err(FieldError::new(field, "unstorable_password"));
    }
    Ok(raw.to_owned())
}

/// The RouterOS API host: an address or a DNS name.
pub fn parse_api_address(raw: &str) -> Result<String, FieldError> {
    let host = raw.trim();
    let ok = !host.is_empty()
        && host.len() <= 253
        && (host.parse::<IpAddr>().is_ok()
            || host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            }));
    if ok {
        Ok(host.to_owned())
    } else {
        Err(FieldError::new("api_address", "invalid_host"))
    }
}

/// A TCP port.
pub fn parse_port(field: &str, port: i64) -> Result<u16, FieldError> {
    u16::try_from(port).ok().filter(|p| *p > 0).ok_or_else(|| {
        FieldError::new(field, "out_of_range")
            .with("min", 1)
            .with("max", 65535)
    })
}

/// The RouterOS API user name: 1 to 64 printable characters without spaces.
pub fn parse_api_user(raw: &str) -> Result<String, FieldError> {
    let user = raw.trim();
    if user.is_empty() || user.len() > 64 || !user.chars().all(|c| c.is_ascii_graphic()) {
        return Err(FieldError::new("api_user", "invalid_api_user"));
    }
    Ok(user.to_owned())
}

/// How lastmile trusts a router's API-SSL certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsTrust {
    /// A certificate chaining to the host's trust store, valid for the API address.
    System,
    /// Exactly the certificate with this SHA-256 fingerprint (64 lower-case hex digits):
    /// what a self-signed router certificate needs.
    Pinned(String),
    /// A certificate signed by the ISP's own CA, given as PEM.
    Ca(String),
}

/// The longest CA text taken (a chain of a few certificates).
pub const CA_PEM_MAX: usize = 32 * 1024;

impl TlsTrust {
    /// Its stored name: `system`, `pinned` or `ca`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Pinned(_) => "pinned",
            Self::Ca(_) => "ca",
        }
    }

    /// The trust named `kind`, with the fingerprint or the CA it needs.
    pub fn parse(
        kind: &str,
        fingerprint: Option<&str>,
        ca: Option<&str>,
    ) -> Result<Self, FieldError> {
        match kind.trim() {
            "" | "system" => Ok(Self::System),
            "pinned" => parse_fingerprint(fingerprint.unwrap_or("")).map(Self::Pinned),
            "ca" => parse_ca(ca.unwrap_or("")).map(Self::Ca),
            _ => Err(FieldError::new("api_tls_trust", "unknown_trust")),
        }
    }

    /// The trust as stored: its kind and the fingerprint or CA.
    pub fn from_stored(kind: &str, fingerprint: Option<&str>, ca: Option<&str>) -> Self {
        Self::parse(kind, fingerprint, ca).unwrap_or(Self::System)
    }

    /// The pinned fingerprint, if pinned.
    pub fn fingerprint(&self) -> Option<&str> {
        match self {
            Self::Pinned(f) => Some(f),
            _ => None,
        }
    }

    /// The CA, if trusted.
    pub fn ca(&self) -> Option<&str> {
        match self {
            Self::Ca(pem) => Some(pem),
            _ => None,
        }
    }
}

/// A SHA-256 certificate fingerprint as RouterOS or a browser shows it (with or without
/// colons, any case): 64 lower-case hex digits.
pub fn parse_fingerprint(raw: &str) -> Result<String, FieldError> {
    let hex: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ':' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(FieldError::new(
            "api_tls_fingerprint",
            "invalid_fingerprint",
        ))
    }
}

/// A CA certificate (or chain) in PEM: one or more `CERTIFICATE` blocks, at most
/// [`CA_PEM_MAX`] bytes. (The certificates themselves are read when a router is reached.)
pub fn parse_ca(raw: &str) -> Result<String, FieldError> {
    let text = raw.trim();
    let framed =
        text.contains("-----BEGIN CERTIFICATE-----") && text.contains("-----END CERTIFICATE-----");
    if text.is_empty() {
        return Err(FieldError::new("api_tls_ca", "required"));
    }
    if text.len() > CA_PEM_MAX {
        return Err(FieldError::new("api_tls_ca", "too_long").with("max", CA_PEM_MAX));
    }
    if !framed
        || text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r'))
    {
        return Err(FieldError::new("api_tls_ca", "invalid_certificate"));
    }
    Ok(text.to_owned())
}

/// What an operator pastes into a router's terminal so it asks lastmile's RADIUS server
/// (`server`, an address or a name) with `secret` (a placeholder when `None`: a secret is
/// shown once, when it is made), sending from `nas_address`, and takes CoA and Disconnect
/// requests: the `/radius` client, incoming requests on 3799, and RADIUS for PPP with
/// accounting every five minutes.
pub fn routeros_radius_lines(server: &str, secret: Option<&str>, nas_address: IpAddr) -> String {
    let secret = secret.unwrap_or("THE-ROUTER-SECRET");
    format!(
        "/radius add address={server} secret=\"{secret}\" service=ppp,hotspot \
         src-address={nas_address} authentication-port=1812 accounting-port=1813 timeout=3s \
         comment=\"lastmile\"\n\
         /radius incoming set accept=yes port=3799\n\
         /ppp aaa set use-radius=yes accounting=yes interim-update=5m"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_fields_are_checked_at_the_edge() {
        assert!(parse_nas_address("10.0.0.1").is_ok());
        assert!(parse_nas_address("2001:db8::1").is_ok());
        for bad in ["0.0.0.0", "224.0.0.1", "router", ""] {
            assert!(parse_nas_address(bad).is_err(), "{bad}");
        }
        assert!(parse_secret("s3cretsecret").is_ok());
        assert!(parse_secret("short").is_err());
        assert!(parse_secret("has space in it").is_err());
        assert!(parse_api_address("core-1.isp.example").is_ok());
        assert!(parse_api_address("bad host").is_err());
        assert_eq!(parse_port("api_port", 8729).unwrap(), 8729);
        assert!(parse_port("api_port", 0).is_err() && parse_port("api_port", 70000).is_err());
    }

    #[test]
    fn the_routeros_lines_name_the_server_the_secret_and_the_source() {
        let lines = routeros_radius_lines(
            "radius.isp.example",
            Some("s3cretsecret"),
            "10.0.0.1".parse().unwrap(),
        );
        assert!(lines.starts_with(
            "/radius add address=radius.isp.example secret=\"s3cretsecret\" service=ppp,hotspot \
             src-address=10.0.0.1 "
        ));
        assert!(lines.contains("/radius incoming set accept=yes port=3799"));
        let hidden = routeros_radius_lines("r", None, "10.0.0.1".parse().unwrap());
        assert!(hidden.contains("secret=\"THE-ROUTER-SECRET\""));
    }

    #[test]
    fn a_router_certificate_is_trusted_by_store_pin_or_ca() {
        assert_eq!(TlsTrust::parse("", None, None), Ok(TlsTrust::System));
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(
            TlsTrust::parse("pinned", Some(&colons), None),
            Ok(TlsTrust::Pinned("ab".repeat(32)))
        );
        assert_eq!(
            TlsTrust::parse("pinned", Some("abcd"), None)
                .unwrap_err()
                .code,
            "invalid_fingerprint"
        );
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            TlsTrust::parse("ca", None, Some(pem)),
            Ok(TlsTrust::Ca(_))
        ));
        assert_eq!(
            TlsTrust::parse("ca", None, Some("hello")).unwrap_err().code,
            "invalid_certificate"
        );
        assert_eq!(
            TlsTrust::parse("any", None, None).unwrap_err().code,
            "unknown_trust"
        );
    }
}
