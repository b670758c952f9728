//! VPN accounts (reference §2.14, without its two faults): remote access to a customer's or
//! a reseller's router. The remote router dials a tunnel to the tenant's VPN router with
//! credentials lastmile generates and RADIUS answers (an address from the VPN pool, a
//! modest speed); a `dst-nat` rule on the VPN router sends one public port of a range to
//! that address's Winbox port. The tunnel is L2TP/IPsec by default (SSTP on request, PPTP
//! only when asked for by name), not the reference's PPTP; each rule carries its account's
//! own comment, so deleting one account removes its rule only (the reference removed every
//! rule of the group admin).
//!
//! Pure rules: input parsing, the choice of port and address, the credentials from random
//! bytes, the RADIUS rows and decision, what the VPN router must hold, and the commands for
//! the remote router.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use crate::aaa::{Decision, Item, Projection, RejectReason};
use crate::field::{FieldError, FieldErrors};
use crate::network::provision::{Find, Want};

/// The first characters of every VPN account's user name, which no customer's may have.
pub const USERNAME_PREFIX: &str = crate::customer::RESERVED_PREFIX;

/// Winbox's port on the remote router.
pub const WINBOX_PORT: u16 = 8291;

/// The PPP profile lastmile keeps on the VPN router for its tunnels.
pub const PROFILE: &str = "lastmile-vpn";

/// The public ports forwarded when the tenant names none (the reference's range).
pub const DEFAULT_PORTS: (u16, u16) = (5001, 5499);

/// A tunnel's speed when the tenant names none, kbit/s each way (enough for Winbox).
pub const DEFAULT_RATE_KBPS: u32 = 5120;

/// The comment prefix of the VPN router's forwarding rules.
pub const RULE_PREFIX: &str = "lastmile:vpn:";

/// Most ports one server may forward.
const MAX_PORTS: u32 = 10_000;

/// The tunnel a VPN server offers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// L2TP over IPsec with a pre-shared key: on every RouterOS, encrypted.
    #[default]
    L2tpIpsec,
    /// SSTP (TLS on port 443): passes most firewalls; needs a certificate on the server.
    Sstp,
    /// PPTP: weak encryption; only when asked for by name.
    Pptp,
}

impl Protocol {
    /// Every protocol.
    pub const ALL: [Protocol; 3] = [Protocol::L2tpIpsec, Protocol::Sstp, Protocol::Pptp];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::L2tpIpsec => "l2tp_ipsec",
            Protocol::Sstp => "sstp",
            Protocol::Pptp => "pptp",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text.trim())
    }

    /// The VPN router's server menu.
    pub fn server_menu(self) -> &'static str {
        match self {
            Protocol::L2tpIpsec => "/interface/l2tp-server/server",
            Protocol::Sstp => "/interface/sstp-server/server",
            Protocol::Pptp => "/interface/pptp-server/server",
        }
    }

    /// The remote router's client menu, as typed in its terminal.
    fn client_menu(self) -> &'static str {
        match self {
            Protocol::L2tpIpsec => "/interface l2tp-client",
            Protocol::Sstp => "/interface sstp-client",
            Protocol::Pptp => "/interface pptp-client",
        }
    }
}

/// The public ports a server forwards, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRange {
    /// The first.
    pub first: u16,
    /// The last.
    pub last: u16,
}

impl PortRange {
    /// Checks a range: ports 1024 to 65535, the first not after the last, at most 10 000
    /// ports.
    pub fn parse(first: i64, last: i64) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let port = |field: &str, value: i64| {
            u16::try_from(value)
                .ok()
                .filter(|p| *p >= 1024)
                .ok_or_else(|| {
                    FieldError::new(field, "out_of_range")
                        .with("min", 1024)
                        .with("max", 65535)
                })
        };
        let first = errors.take(port("port_first", first));
        let last = errors.take(port("port_last", last));
        if let (Some(a), Some(b)) = (first, last) {
            if a > b {
                errors.push(FieldError::new("port_last", "before_first"));
            } else if u32::from(b - a) + 1 > MAX_PORTS {
                errors.push(FieldError::new("port_last", "too_many").with("max", MAX_PORTS));
            }
        }
        errors.finish(|| {
            Some(PortRange {
                first: first?,
                last: last?,
            })
        })
    }

    /// How many ports it holds.
    pub fn size(self) -> u32 {
        u32::from(self.last) - u32::from(self.first) + 1
    }
}

/// The first port of `range` not in `taken`.
pub fn free_port(range: PortRange, taken: &[u16]) -> Option<u16> {
    (range.first..=range.last).find(|p| !taken.contains(p))
}

/// Where remote routers dial the server: an IPv4 address or a DNS name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Host(String);

impl Host {
    /// Parses an IPv4 address, or a DNS name of letters, digits and hyphens in dotted labels
    /// of at most 63 characters, 253 in all.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = raw.trim().trim_end_matches('.').to_ascii_lowercase();
        if text.parse::<Ipv4Addr>().is_ok() {
            return Ok(Host(text));
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let all_digits = text.chars().all(|c| c.is_ascii_digit() || c == '.');
        if text.is_empty() || text.len() > 253 || all_digits || !text.split('.').all(label_ok) {
            return Err(FieldError::new("public_host", "invalid_host"));
        }
        Ok(Host(text))
    }

    /// The host as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address, when the host is one.
    pub fn address(&self) -> Option<Ipv4Addr> {
        self.0.parse().ok()
    }
}

/// What creating a VPN server asks, as typed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ServerInput {
    /// The VPN router.
    pub router_id: i64,
    /// `l2tp_ipsec` (the default), `sstp` or `pptp`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Where remote routers dial it: an address or a DNS name.
    pub public_host: String,
    /// The pool tunnel addresses come from.
    pub pool_id: i64,
    /// The VPN router's own end of every tunnel (no account is given it).
    pub local_address: String,
    /// The first public port forwarded (default 5001).
    #[serde(default)]
    pub port_first: Option<i64>,
    /// The last (default 5499).
    #[serde(default)]
    pub port_last: Option<i64>,
    /// Each tunnel's speed, kbit/s (default 5120).
    #[serde(default)]
    pub rate_kbps: Option<i64>,
}

/// A checked [`ServerInput`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewServer {
    /// The VPN router.
    pub router_id: i64,
    /// The tunnel.
    pub protocol: Protocol,
    /// Where it is dialled.
    pub public_host: Host,
    /// The pool.
    pub pool_id: i64,
    /// The router's end of the tunnels.
    pub local_address: Ipv4Addr,
    /// The public ports.
    pub ports: PortRange,
    /// The speed, kbit/s.
    pub rate_kbps: u32,
}

impl ServerInput {
    /// Checks every field, reporting every fault.
    pub fn parse(&self) -> Result<NewServer, FieldErrors> {
        let mut errors = FieldErrors::new();
        let protocol = match self.protocol.as_deref().map(str::trim) {
            None | Some("") => Some(Protocol::default()),
            Some(text) => errors.take(
                Protocol::parse(text)
                    .ok_or_else(|| FieldError::new("protocol", "unknown_protocol")),
            ),
        };
        let host = errors.take(Host::parse(&self.public_host));
        let local = errors.take(
            self.local_address
                .trim()
                .parse::<Ipv4Addr>()
                .map_err(|_| FieldError::new("local_address", "invalid_ip")),
        );
        let ports = match PortRange::parse(
            self.port_first.unwrap_or(i64::from(DEFAULT_PORTS.0)),
            self.port_last.unwrap_or(i64::from(DEFAULT_PORTS.1)),
        ) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.extend(e);
                None
            }
        };
        let rate = errors.take(
            u32::try_from(self.rate_kbps.unwrap_or(i64::from(DEFAULT_RATE_KBPS)))
                .ok()
                .filter(|r| (64..=10_000_000).contains(r))
                .ok_or_else(|| {
                    FieldError::new("rate_kbps", "out_of_range")
                        .with("min", 64)
                        .with("max", 10_000_000)
                }),
        );
        if self.router_id <= 0 {
            errors.push(FieldError::new("router_id", "required"));
        }
        if self.pool_id <= 0 {
            errors.push(FieldError::new("pool_id", "required"));
        }
        errors.finish(|| {
            Some(NewServer {
                router_id: self.router_id,
                protocol: protocol?,
                public_host: host?,
                pool_id: self.pool_id,
                local_address: local?,
                ports: ports?,
                rate_kbps: rate?,
            })
        })
    }
}

/// The alphabet of generated names and secrets: lower-case letters and digits without the
/// ones read alike (0/o, 1/l), 32 of them so that a byte's low five bits pick one evenly.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

fn spell(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect()
}

/// An account's generated credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `lmvpn-` and 12 characters (60 random bits).
    pub username: String,
    /// 24 characters (120 random bits).
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Credentials spelled from 36 random bytes (the caller draws them from a CSPRNG).
    pub fn from_random(bytes: &[u8; 36]) -> Self {
        Credentials {
            username: format!("{USERNAME_PREFIX}{}", spell(&bytes[..12])),
            password: spell(&bytes[12..]),
        }
    }
}

/// A pre-shared key spelled from 32 random bytes (160 bits).
pub fn ipsec_secret(bytes: &[u8; 32]) -> String {
    spell(bytes)
}

/// What the AAA rules need of a VPN account.
#[derive(Debug, Clone)]
pub struct Account<'a> {
    /// Its password in clear.
    pub password: &'a str,
    /// Its tunnel address.
    pub address: Ipv4Addr,
    /// Its tunnel's speed, kbit/s.
    pub rate_kbps: u32,
    /// The address the VPN router's requests come from: the only router it may dial.
    pub router: IpAddr,
    /// Switched off by staff.
    pub disabled: bool,
    /// Its tenant is archived.
    pub tenant_archived: bool,
}

fn set(attribute: &'static str, value: impl ToString) -> Item {
    Item {
        attribute,
        op: ":=",
        value: value.to_string(),
    }
}

fn reply(account: &Account<'_>) -> Vec<Item> {
    vec![
        set("Framed-IP-Address", account.address),
        set(
            "Mikrotik-Rate-Limit",
            format!("{0}k/{0}k", account.rate_kbps),
        ),
    ]
}

/// The FreeRADIUS rows of a VPN account: its password, the VPN router as the only client
/// it is accepted from (so its credentials open no subscriber line on an access router),
/// its address and speed; refused while disabled; none at all once its tenant is archived.
pub fn project(account: &Account<'_>) -> Projection {
    if account.tenant_archived {
        return Projection::default();
    }
    let source = match account.router {
        IpAddr::V4(_) => "Packet-Src-IP-Address",
        IpAddr::V6(_) => "Packet-Src-IPv6-Address",
    };
    let mut check = vec![
        set("Cleartext-Password", account.password),
        Item {
            attribute: source,
            op: "==",
            value: account.router.to_string(),
        },
    ];
    if account.disabled {
        check.push(set("Auth-Type", "Reject"));
        return Projection {
            check,
            reply: Vec::new(),
        };
    }
    Projection {
        check,
        reply: reply(account),
    }
}

/// The built-in server's answer for a VPN account whose password matched, asked by the
/// router at `from`.
pub fn decide(account: &Account<'_>, from: IpAddr) -> Decision {
    if account.tenant_archived {
        return Decision::Reject(RejectReason::TenantArchived);
    }
    if from != account.router {
        return Decision::Reject(RejectReason::WrongRouter);
    }
    if account.disabled {
        return Decision::Reject(RejectReason::Disabled);
    }
    Decision::Accept {
        reply: reply(account),
        session_timeout: None,
    }
}

/// What the VPN router must serve: the tunnel server and the profile of its tunnels.
#[derive(Debug, Clone)]
pub struct ServerPlan<'a> {
    /// The tunnel.
    pub protocol: Protocol,
    /// The router's end of the tunnels.
    pub local_address: Ipv4Addr,
    /// The IPsec pre-shared key (L2TP only).
    pub ipsec_secret: Option<&'a str>,
    /// The public address the rules match, when the host is one.
    pub public_address: Option<Ipv4Addr>,
}

/// A forwarding rule's account: its id, public port and tunnel address, and whether it is
/// switched off (its rule is kept, disabled, so that switching it on restores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    /// The account.
    pub account_id: i64,
    /// The public port.
    pub port: u16,
    /// The tunnel address.
    pub address: Ipv4Addr,
    /// The account is switched off.
    pub disabled: bool,
}

fn yes_no(on: bool) -> String {
    if on { "yes" } else { "no" }.to_owned()
}

/// The comment of account `id`'s rule.
pub fn rule_comment(id: i64) -> String {
    format!("{RULE_PREFIX}{id}")
}

/// The properties a forwarding rule sets: read from the router to compare, and to put a
/// removed rule back.
pub const RULE_PROPS: &[&str] = &[
    "chain",
    "action",
    "protocol",
    "dst-address",
    "dst-port",
    "to-addresses",
    "to-ports",
    "disabled",
    "comment",
];

/// Everything lastmile wants on the VPN router, in the order it is applied: the profile,
/// the tunnel server using it and RADIUS, and one `dst-nat` rule per live account.
pub fn wants(server: &ServerPlan<'_>, forwards: &[Forward]) -> Vec<Want> {
    let own = |s: &str| s.to_owned();
    let mut profile = BTreeMap::from([
        (own("local-address"), server.local_address.to_string()),
        (own("only-one"), own("yes")),
        (own("change-tcp-mss"), own("yes")),
    ]);
    if server.protocol != Protocol::Sstp {
        profile.insert(own("use-encryption"), own("required"));
    }
    let mut tunnel = BTreeMap::from([
        (own("enabled"), own("yes")),
        (own("authentication"), own("mschap2")),
        (own("default-profile"), own(PROFILE)),
    ]);
    if server.protocol == Protocol::L2tpIpsec {
        tunnel.insert(own("use-ipsec"), own("required"));
        tunnel.insert(
            own("ipsec-secret"),
            server.ipsec_secret.unwrap_or_default().to_owned(),
        );
    }
    let mut out = vec![
        Want {
            menu: own("/ppp/profile"),
            find: Find::Name(own(PROFILE)),
            props: profile,
            why: own("the profile of lastmile's VPN tunnels"),
            first_in_chain: false,
        },
        Want {
            menu: own(server.protocol.server_menu()),
            find: Find::Singleton,
            props: tunnel,
            why: own("the tunnel server remote routers dial, its logins through RADIUS"),
            first_in_chain: false,
        },
    ];
    for f in forwards {
        let mut rule = BTreeMap::from([
            (own("chain"), own("dstnat")),
            (own("action"), own("dst-nat")),
            (own("protocol"), own("tcp")),
            (own("dst-port"), f.port.to_string()),
            (own("to-addresses"), f.address.to_string()),
            (own("to-ports"), WINBOX_PORT.to_string()),
            (own("disabled"), yes_no(f.disabled)),
        ]);
        if let Some(public) = server.public_address {
            rule.insert(own("dst-address"), public.to_string());
        }
        out.push(Want {
            menu: own("/ip/firewall/nat"),
            find: Find::Comment(rule_comment(f.account_id)),
            props: rule,
            why: format!("Winbox of VPN account {} on port {}", f.account_id, f.port),
            first_in_chain: false,
        });
    }
    out
}

/// True when `comment` marks one of lastmile's VPN rules.
pub fn is_rule(comment: &str) -> bool {
    comment
        .strip_prefix(RULE_PREFIX)
        .is_some_and(|id| id.parse::<i64>().is_ok())
}

/// The commands that set the remote router up, as typed in its terminal: the tunnel
/// client dialling the VPN server with the account's credentials.
pub fn client_script(
    protocol: Protocol,
    host: &Host,
    credentials: &Credentials,
    ipsec_secret: Option<&str>,
) -> String {
    let mut line = format!(
        "{} add name=lastmile-vpn connect-to={} user={} password={} disabled=no",
        protocol.client_menu(),
        host.as_str(),
        credentials.username,
        credentials.password,
    );
    match protocol {
        Protocol::L2tpIpsec => {
            line.push_str(" use-ipsec=yes ipsec-secret=");
            line.push_str(ipsec_secret.unwrap_or_default());
        }
        Protocol::Sstp => line.push_str(" port=443 authentication=mschap2"),
        Protocol::Pptp => line.push_str(" allow=mschap2"),
    }
    format!("{line}\n/ip service set winbox disabled=no\n")
}

#[cfg(test)]
#[path = "vpn_tests.rs"]
mod tests;
