//! Typed attribute constants: `attrs::USER_NAME` is an [`Attr<String>`], so
//! `packet.value(attrs::USER_NAME)` yields a `String` and `packet.add(attrs::SESSION_TIMEOUT,
//! &3600)` takes a `u32`. They cover the attributes of RFC 2865, 2866, 2868, 2869, 3162, 4818,
//! 5176 and 6911, Microsoft (RFC 2548), MikroTik and WISPr. Tagged attributes (RFC 2868) and
//! named integer values go through the dictionary (`dict`) instead.

use std::fmt;
use std::marker::PhantomData;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::attr::AttrId;
use crate::value::{DataType, ValueError, fixed};

/// A typed attribute: its id and name, and the Rust type of its value.
pub struct Attr<T> {
    id: AttrId,
    name: &'static str,
    _value: PhantomData<fn() -> T>,
}

impl<T> Attr<T> {
    /// A standard attribute.
    pub const fn standard(code: u8, name: &'static str) -> Attr<T> {
        Attr {
            id: AttrId::Standard(code),
            name,
            _value: PhantomData,
        }
    }

    /// A vendor attribute.
    pub const fn vendor(vendor: u32, vendor_type: u32, name: &'static str) -> Attr<T> {
        Attr {
            id: AttrId::vendor(vendor, vendor_type),
            name,
            _value: PhantomData,
        }
    }

    /// The attribute id.
    pub const fn id(&self) -> AttrId {
        self.id
    }

    /// The dictionary name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T> Clone for Attr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Attr<T> {}

impl<T> fmt::Debug for Attr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.id)
    }
}

/// A Rust type that a typed attribute constant ([`Attr`]) carries.
pub trait AttrValue: Sized {
    /// The RADIUS data type.
    const DATA_TYPE: DataType;
    /// Decodes value octets.
    fn decode(bytes: &[u8]) -> Result<Self, ValueError>;
    /// Appends value octets.
    fn encode_into(&self, out: &mut Vec<u8>);
}

impl AttrValue for String {
    const DATA_TYPE: DataType = DataType::String;
    fn decode(bytes: &[u8]) -> Result<Self, ValueError> {
        String::from_utf8(bytes.to_vec()).map_err(|_| ValueError::InvalidUtf8)
    }
    fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl AttrValue for Vec<u8> {
    const DATA_TYPE: DataType = DataType::Octets;
    fn decode(bytes: &[u8]) -> Result<Self, ValueError> {
        Ok(bytes.to_vec())
    }
    fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

macro_rules! fixed_attr_value {
    ($ty:ty, $data_type:expr, $n:literal, $from:expr, $to:expr) => {
        impl AttrValue for $ty {
            const DATA_TYPE: DataType = $data_type;
            fn decode(bytes: &[u8]) -> Result<Self, ValueError> {
                Ok($from(fixed::<$n>($data_type, bytes)?))
            }
            fn encode_into(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&$to(self));
            }
        }
    };
}

fixed_attr_value!(u32, DataType::Integer, 4, u32::from_be_bytes, |v: &u32| v
    .to_be_bytes());
fixed_attr_value!(
    u64,
    DataType::Integer64,
    8,
    u64::from_be_bytes,
    |v: &u64| v.to_be_bytes()
);
fixed_attr_value!(
    Ipv4Addr,
    DataType::IpAddr,
    4,
    Ipv4Addr::from,
    |v: &Ipv4Addr| v.octets()
);
fixed_attr_value!(
    Ipv6Addr,
    DataType::Ipv6Addr,
    16,
    Ipv6Addr::from,
    |v: &Ipv6Addr| v.octets()
);
fixed_attr_value!(
    SystemTime,
    DataType::Date,
    4,
    |b| UNIX_EPOCH + Duration::from_secs(u64::from(u32::from_be_bytes(b))),
    |v: &SystemTime| {
        let secs = v.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        u32::try_from(secs).unwrap_or(u32::MAX).to_be_bytes()
    }
);

/// IANA enterprise number of Microsoft.
pub const VENDOR_MICROSOFT: u32 = 311;
/// IANA enterprise number of MikroTik.
pub const VENDOR_MIKROTIK: u32 = 14988;
/// IANA enterprise number of the Wi-Fi Alliance (WISPr).
pub const VENDOR_WISPR: u32 = 14122;

macro_rules! standard {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $code:literal, $text:literal;)*) => {
        $($(#[$doc])* pub const $name: Attr<$ty> = Attr::standard($code, $text);)*
    };
}

macro_rules! vendor {
    ($vendor:expr; $($(#[$doc:meta])* $name:ident: $ty:ty = $code:literal, $text:literal;)*) => {
        $($(#[$doc])* pub const $name: Attr<$ty> = Attr::vendor($vendor, $code, $text);)*
    };
}

standard! {
    /// User-Name (1).
    USER_NAME: String = 1, "User-Name";
    /// User-Password (2), hidden; see `auth::pap`.
    USER_PASSWORD: Vec<u8> = 2, "User-Password";
    /// CHAP-Password (3): CHAP identifier and 16-octet response.
    CHAP_PASSWORD: Vec<u8> = 3, "CHAP-Password";
    /// NAS-IP-Address (4).
    NAS_IP_ADDRESS: Ipv4Addr = 4, "NAS-IP-Address";
    /// NAS-Port (5).
    NAS_PORT: u32 = 5, "NAS-Port";
    /// Service-Type (6).
    SERVICE_TYPE: u32 = 6, "Service-Type";
    /// Framed-Protocol (7).
    FRAMED_PROTOCOL: u32 = 7, "Framed-Protocol";
    /// Framed-IP-Address (8).
    FRAMED_IP_ADDRESS: Ipv4Addr = 8, "Framed-IP-Address";
    /// Framed-IP-Netmask (9).
    FRAMED_IP_NETMASK: Ipv4Addr = 9, "Framed-IP-Netmask";
    /// Filter-Id (11).
    FILTER_ID: String = 11, "Filter-Id";
    /// Framed-MTU (12).
    FRAMED_MTU: u32 = 12, "Framed-MTU";
    /// Reply-Message (18).
    REPLY_MESSAGE: String = 18, "Reply-Message";
    /// Framed-Route (22).
    FRAMED_ROUTE: String = 22, "Framed-Route";
    /// State (24).
    STATE: Vec<u8> = 24, "State";
    /// Class (25).
    CLASS: Vec<u8> = 25, "Class";
    /// Session-Timeout (27), seconds.
    SESSION_TIMEOUT: u32 = 27, "Session-Timeout";
    /// Idle-Timeout (28), seconds.
    IDLE_TIMEOUT: u32 = 28, "Idle-Timeout";
    /// Termination-Action (29).
    TERMINATION_ACTION: u32 = 29, "Termination-Action";
    /// Called-Station-Id (30).
    CALLED_STATION_ID: String = 30, "Called-Station-Id";
    /// Calling-Station-Id (31), usually the subscriber's MAC address.
    CALLING_STATION_ID: String = 31, "Calling-Station-Id";
    /// NAS-Identifier (32).
    NAS_IDENTIFIER: String = 32, "NAS-Identifier";
    /// Proxy-State (33).
    PROXY_STATE: Vec<u8> = 33, "Proxy-State";
    /// Acct-Status-Type (40).
    ACCT_STATUS_TYPE: u32 = 40, "Acct-Status-Type";
    /// Acct-Delay-Time (41).
    ACCT_DELAY_TIME: u32 = 41, "Acct-Delay-Time";
    /// Acct-Input-Octets (42), low 32 bits.
    ACCT_INPUT_OCTETS: u32 = 42, "Acct-Input-Octets";
    /// Acct-Output-Octets (43), low 32 bits.
    ACCT_OUTPUT_OCTETS: u32 = 43, "Acct-Output-Octets";
    /// Acct-Session-Id (44).
    ACCT_SESSION_ID: String = 44, "Acct-Session-Id";
    /// Acct-Authentic (45).
    ACCT_AUTHENTIC: u32 = 45, "Acct-Authentic";
    /// Acct-Session-Time (46), seconds.
    ACCT_SESSION_TIME: u32 = 46, "Acct-Session-Time";
    /// Acct-Input-Packets (47).
    ACCT_INPUT_PACKETS: u32 = 47, "Acct-Input-Packets";
    /// Acct-Output-Packets (48).
    ACCT_OUTPUT_PACKETS: u32 = 48, "Acct-Output-Packets";
    /// Acct-Terminate-Cause (49).
    ACCT_TERMINATE_CAUSE: u32 = 49, "Acct-Terminate-Cause";
    /// Acct-Multi-Session-Id (50).
    ACCT_MULTI_SESSION_ID: String = 50, "Acct-Multi-Session-Id";
    /// Acct-Link-Count (51).
    ACCT_LINK_COUNT: u32 = 51, "Acct-Link-Count";
    /// Acct-Input-Gigawords (52): input octets >> 32.
    ACCT_INPUT_GIGAWORDS: u32 = 52, "Acct-Input-Gigawords";
    /// Acct-Output-Gigawords (53): output octets >> 32.
    ACCT_OUTPUT_GIGAWORDS: u32 = 53, "Acct-Output-Gigawords";
    /// Event-Timestamp (55).
    EVENT_TIMESTAMP: SystemTime = 55, "Event-Timestamp";
    /// CHAP-Challenge (60).
    CHAP_CHALLENGE: Vec<u8> = 60, "CHAP-Challenge";
    /// NAS-Port-Type (61).
    NAS_PORT_TYPE: u32 = 61, "NAS-Port-Type";
    /// Port-Limit (62).
    PORT_LIMIT: u32 = 62, "Port-Limit";
    /// Connect-Info (77).
    CONNECT_INFO: String = 77, "Connect-Info";
    /// EAP-Message (79).
    EAP_MESSAGE: Vec<u8> = 79, "EAP-Message";
    /// Message-Authenticator (80).
    MESSAGE_AUTHENTICATOR: Vec<u8> = 80, "Message-Authenticator";
    /// Acct-Interim-Interval (85), seconds.
    ACCT_INTERIM_INTERVAL: u32 = 85, "Acct-Interim-Interval";
    /// NAS-Port-Id (87).
    NAS_PORT_ID: String = 87, "NAS-Port-Id";
    /// Framed-Pool (88).
    FRAMED_POOL: String = 88, "Framed-Pool";
    /// NAS-IPv6-Address (95).
    NAS_IPV6_ADDRESS: Ipv6Addr = 95, "NAS-IPv6-Address";
    /// Framed-IPv6-Pool (100).
    FRAMED_IPV6_POOL: String = 100, "Framed-IPv6-Pool";
    /// Error-Cause (101, RFC 5176).
    ERROR_CAUSE: u32 = 101, "Error-Cause";
    /// Framed-IPv6-Address (168, RFC 6911).
    FRAMED_IPV6_ADDRESS: Ipv6Addr = 168, "Framed-IPv6-Address";
    /// Delegated-IPv6-Prefix-Pool (171, RFC 6911).
    DELEGATED_IPV6_PREFIX_POOL: String = 171, "Delegated-IPv6-Prefix-Pool";
}

vendor! { VENDOR_MICROSOFT;
    /// MS-CHAP-Response (311.1): MS-CHAPv1 identifier, flags, LM and NT responses.
    MS_CHAP_RESPONSE: Vec<u8> = 1, "MS-CHAP-Response";
    /// MS-CHAP-Error (311.2).
    MS_CHAP_ERROR: String = 2, "MS-CHAP-Error";
    /// MS-MPPE-Encryption-Policy (311.7).
    MS_MPPE_ENCRYPTION_POLICY: u32 = 7, "MS-MPPE-Encryption-Policy";
    /// MS-MPPE-Encryption-Types (311.8).
    MS_MPPE_ENCRYPTION_TYPES: u32 = 8, "MS-MPPE-Encryption-Types";
    /// MS-CHAP-Challenge (311.11).
    MS_CHAP_CHALLENGE: Vec<u8> = 11, "MS-CHAP-Challenge";
    /// MS-CHAP-MPPE-Keys (311.12), hidden like User-Password.
    MS_CHAP_MPPE_KEYS: Vec<u8> = 12, "MS-CHAP-MPPE-Keys";
    /// MS-MPPE-Send-Key (311.16), salt-encrypted.
    MS_MPPE_SEND_KEY: Vec<u8> = 16, "MS-MPPE-Send-Key";
    /// MS-MPPE-Recv-Key (311.17), salt-encrypted.
    MS_MPPE_RECV_KEY: Vec<u8> = 17, "MS-MPPE-Recv-Key";
    /// MS-CHAP2-Response (311.25).
    MS_CHAP2_RESPONSE: Vec<u8> = 25, "MS-CHAP2-Response";
    /// MS-CHAP2-Success (311.26): identifier and `S=<authenticator response>`.
    MS_CHAP2_SUCCESS: Vec<u8> = 26, "MS-CHAP2-Success";
}

vendor! { VENDOR_MIKROTIK;
    /// Mikrotik-Recv-Limit (14988.1): bytes the router may receive from the client.
    MIKROTIK_RECV_LIMIT: u32 = 1, "Mikrotik-Recv-Limit";
    /// Mikrotik-Xmit-Limit (14988.2).
    MIKROTIK_XMIT_LIMIT: u32 = 2, "Mikrotik-Xmit-Limit";
    /// Mikrotik-Rate-Limit (14988.8): `rx/tx` from the router's view ("upload/download").
    MIKROTIK_RATE_LIMIT: String = 8, "Mikrotik-Rate-Limit";
    /// Mikrotik-Realm (14988.9).
    MIKROTIK_REALM: String = 9, "Mikrotik-Realm";
    /// Mikrotik-Host-IP (14988.10).
    MIKROTIK_HOST_IP: Ipv4Addr = 10, "Mikrotik-Host-IP";
    /// Mikrotik-Recv-Limit-Gigawords (14988.14).
    MIKROTIK_RECV_LIMIT_GIGAWORDS: u32 = 14, "Mikrotik-Recv-Limit-Gigawords";
    /// Mikrotik-Xmit-Limit-Gigawords (14988.15).
    MIKROTIK_XMIT_LIMIT_GIGAWORDS: u32 = 15, "Mikrotik-Xmit-Limit-Gigawords";
    /// Mikrotik-Total-Limit (14988.17): low 32 bits of the volume left.
    MIKROTIK_TOTAL_LIMIT: u32 = 17, "Mikrotik-Total-Limit";
    /// Mikrotik-Total-Limit-Gigawords (14988.18): the volume left >> 32.
    MIKROTIK_TOTAL_LIMIT_GIGAWORDS: u32 = 18, "Mikrotik-Total-Limit-Gigawords";
    /// Mikrotik-Address-List (14988.19).
    MIKROTIK_ADDRESS_LIST: String = 19, "Mikrotik-Address-List";
    /// Mikrotik-Delegated-IPv6-Pool (14988.22).
    MIKROTIK_DELEGATED_IPV6_POOL: String = 22, "Mikrotik-Delegated-IPv6-Pool";
}

vendor! { VENDOR_WISPR;
    /// WISPr-Location-ID (14122.1).
    WISPR_LOCATION_ID: String = 1, "WISPr-Location-ID";
    /// WISPr-Location-Name (14122.2).
    WISPR_LOCATION_NAME: String = 2, "WISPr-Location-Name";
    /// WISPr-Logoff-URL (14122.3).
    WISPR_LOGOFF_URL: String = 3, "WISPr-Logoff-URL";
    /// WISPr-Redirection-URL (14122.4).
    WISPR_REDIRECTION_URL: String = 4, "WISPr-Redirection-URL";
    /// WISPr-Bandwidth-Min-Up (14122.5), bits/s.
    WISPR_BANDWIDTH_MIN_UP: u32 = 5, "WISPr-Bandwidth-Min-Up";
    /// WISPr-Bandwidth-Min-Down (14122.6), bits/s.
    WISPR_BANDWIDTH_MIN_DOWN: u32 = 6, "WISPr-Bandwidth-Min-Down";
    /// WISPr-Bandwidth-Max-Up (14122.7), bits/s.
    WISPR_BANDWIDTH_MAX_UP: u32 = 7, "WISPr-Bandwidth-Max-Up";
    /// WISPr-Bandwidth-Max-Down (14122.8), bits/s.
    WISPR_BANDWIDTH_MAX_DOWN: u32 = 8, "WISPr-Bandwidth-Max-Down";
    /// WISPr-Session-Terminate-Time (14122.9).
    WISPR_SESSION_TERMINATE_TIME: String = 9, "WISPr-Session-Terminate-Time";
    /// WISPr-Session-Terminate-End-Of-Day (14122.10).
    WISPR_SESSION_TERMINATE_END_OF_DAY: String = 10, "WISPr-Session-Terminate-End-Of-Day";
    /// WISPr-Billing-Class-Of-Service (14122.11).
    WISPR_BILLING_CLASS_OF_SERVICE: String = 11, "WISPr-Billing-Class-Of-Service";
}

/// Acct-Status-Type values (RFC 2866 §5.1, RFC 2866 Accounting-On/Off).
pub mod acct_status_type {
    /// Start.
    pub const START: u32 = 1;
    /// Stop.
    pub const STOP: u32 = 2;
    /// Interim-Update.
    pub const INTERIM_UPDATE: u32 = 3;
    /// Accounting-On.
    pub const ACCOUNTING_ON: u32 = 7;
    /// Accounting-Off.
    pub const ACCOUNTING_OFF: u32 = 8;
}
