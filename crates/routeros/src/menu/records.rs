//! Record types: the rows of the menus lastmile reads field by field, parsed once. Values are
//! decoded as text with [`crate::sentence::decode_text`]; a missing required property is an
//! [`Error::MissingProperty`], a missing optional one is `None` or empty.

use crate::error::Error;
use crate::sentence::{ItemId, Row};

/// A row type a menu helper can return.
pub trait Record: Sized {
    /// The properties to ask for (`.proplist`); empty means all.
    const PROPLIST: &'static [&'static str];
    /// Reads a row of menu `menu`.
    fn from_row(menu: &'static str, row: &Row) -> Result<Self, Error>;
}

impl Record for Row {
    const PROPLIST: &'static [&'static str] = &[];
    fn from_row(_menu: &'static str, row: &Row) -> Result<Self, Error> {
        Ok(row.clone())
    }
}

fn required(menu: &'static str, row: &Row, property: &'static str) -> Result<String, Error> {
    row.text(property)
        .ok_or(Error::MissingProperty { menu, property })
}

fn id(menu: &'static str, row: &Row) -> Result<ItemId, Error> {
    row.id().ok_or(Error::MissingProperty {
        menu,
        property: ".id",
    })
}

fn text(row: &Row, property: &str) -> String {
    row.text(property).unwrap_or_default()
}

fn optional(row: &Row, property: &str) -> Option<String> {
    row.text(property).filter(|v| !v.is_empty())
}

/// `/system/identity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The router's name.
    pub name: String,
}

impl Record for Identity {
    const PROPLIST: &'static [&'static str] = &["name"];
    fn from_row(menu: &'static str, row: &Row) -> Result<Self, Error> {
        Ok(Self {
            name: required(menu, row, "name")?,
        })
    }
}

/// `/system/resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// RouterOS version, such as `7.16.2 (stable)`.
    pub version: String,
    /// Board name, such as `RB4011iGS+` or `CHR`.
    pub board_name: String,
    /// Uptime as RouterOS prints it, such as `1w2d3h4m5s`.
    pub uptime: String,
    /// CPU architecture.
    pub architecture_name: String,
    /// CPU load in percent.
    pub cpu_load: Option<u32>,
    /// Free memory in bytes.
    pub free_memory: Option<u64>,
    /// Total memory in bytes.
    pub total_memory: Option<u64>,
}

impl Record for Resource {
    const PROPLIST: &'static [&'static str] = &[
        "version",
        "board-name",
        "uptime",
        "architecture-name",
        "cpu-load",
        "free-memory",
        "total-memory",
    ];
    fn from_row(menu: &'static str, row: &Row) -> Result<Self, Error> {
        Ok(Self {
            version: required(menu, row, "version")?,
            board_name: text(row, "board-name"),
            uptime: text(row, "uptime"),
            architecture_name: text(row, "architecture-name"),
            cpu_load: row.text("cpu-load").and_then(|v| v.parse().ok()),
            free_memory: row.text("free-memory").and_then(|v| v.parse().ok()),
            total_memory: row.text("total-memory").and_then(|v| v.parse().ok()),
        })
    }
}

/// `/user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Item id.
    pub id: ItemId,
    /// User name.
    pub name: String,
    /// Group (`full`, `write`, `read` or custom).
    pub group: String,
    /// Whether the user is disabled.
    pub disabled: bool,
}

impl Record for User {
    const PROPLIST: &'static [&'static str] = &[".id", "name", "group", "disabled"];
    fn from_row(menu: &'static str, row: &Row) -> Result<Self, Error> {
        Ok(Self {
            id: id(menu, row)?,
            name: required(menu, row, "name")?,
            group: required(menu, row, "group")?,
            disabled: row.flag("disabled").unwrap_or(false),
        })
    }
}

/// `/ppp/secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PppSecret {
    /// Item id.
    pub id: ItemId,
    /// Login name.
    pub name: String,
    /// Password (empty when the API user may not read it).
    pub password: String,
    /// Service (`any`, `pppoe`, `pptp`, …).
    pub service: String,
    /// PPP profile name.
    pub profile: String,
    /// Local address, if set.
    pub local_address: Option<String>,
    /// Remote address (or pool), if set.
    pub remote_address: Option<String>,
    /// Comment, if set.
    pub comment: Option<String>,
    /// Whether the secret is disabled.
    pub disabled: bool,
}

impl Record for PppSecret {
    const PROPLIST: &'static [&'static str] = &[
        ".id",
        "name",
        "password",
        "service",
        "profile",
        "local-address",
        "remote-address",
        "comment",
        "disabled",
    ];
    fn from_row(menu: &'static str, row: &Row) -> Result<Self, Error> {
        Ok(Self {
            id: id(menu, row)?,
            name: required(menu, row, "name")?,
            password: text(row, "password"),
            service: text(row, "service"),
            profile: text(row, "profile"),
            local_address: optional(row, "local-address"),
            remote_address: optional(row, "remote-address"),
            comment: optional(row, "comment"),
            disabled: row.flag("disabled").unwrap_or(false),
        })
    }
}

/// `/ppp/profile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PppProfile {
    /// Item id.
    pub id: ItemId,
    /// Profile name.
    pub name: String,
    /// Local address, if set.
    pub local_address: Option<String>,
    /// Remote address or pool, if set.
    pub remote_address: Option<String>,
    /// Rate limit, if set.
    pub rate_limit: Option<String>,
    /// Whether this is a built-in default profile.
    pub is_default: bool,
}

impl Record for PppProfile {
    const PROPLIST: &'static [&'static str] = &[
        ".id",
        "name",
        "local-address",
        "remote-address",
        "rate-limit",
        "default",
    ];
    fn from_row(menu: &'static str, row: &Row) -> Result<Self, Error> {
        Ok(Self {
            id: id(menu, row)?,
            name: required(menu, row, "name")?,
            local_address: optional(row, "local-address"),
            remote_address: optional(row, "remote-address"),
            rate_limit: optional(row, "rate-limit"),
            is_default: row.flag("default").unwrap_or(false),
        })
    }
}

/// `/ppp/active`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PppActive {
    /// Item id (remove it to disconnect the session).
    pub id: ItemId,
    /// User name.
    pub name: String,
    /// Service (`pppoe`, `pptp`, …).
    pub service: String,
    /// Caller id (the subscriber's MAC for PPPoE).
    pub caller_id: String,
    /// Assigned address.
    pub address: String,
    /// Session uptime as RouterOS prints it.
    pub uptime: String,
}

impl Record for PppActive {
    const PROPLIST: &'static [&'static str] =
        &[".id", "name", "service", "caller-id", "address", "uptime"];
    fn from_row(menu: &'static str, row: &Row) -> Result<Self, Error> {
        Ok(Self {
            id: id(menu, row)?,
            name: required(menu, row, "name")?,
            service: text(row, "service"),
            caller_id: text(row, "caller-id"),
            address: text(row, "address"),
            uptime: text(row, "uptime"),
        })
    }
}

/// `/ip/pool`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpPool {
    /// Item id.
    pub id: ItemId,
    /// Pool name.
    pub name: String,
    /// Ranges as RouterOS prints them (`10.0.0.2-10.0.0.254,10.0.1.0/24`).
    pub ranges: String,
    /// Next pool, if set.
    pub next_pool: Option<String>,
}

impl Record for IpPool {
    const PROPLIST: &'static [&'static str] = &[".id", "name", "ranges", "next-pool"];
    fn from_row(menu: &'static str, row: &Row) -> Result<Self, Error> {
        Ok(Self {
            id: id(menu, row)?,
            name: required(menu, row, "name")?,
            ranges: text(row, "ranges"),
            next_pool: optional(row, "next-pool").filter(|p| p != "none"),
        })
    }
}

/// `/ip/hotspot/active`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotspotActive {
    /// Item id (remove it to log the user out).
    pub id: ItemId,
    /// User name.
    pub user: String,
    /// Client address.
    pub address: String,
    /// Client MAC address.
    pub mac_address: String,
    /// Hotspot server name.
    pub server: String,
    /// Session uptime.
    pub uptime: String,
}

impl Record for HotspotActive {
    const PROPLIST: &'static [&'static str] =
        &[".id", "user", "address", "mac-address", "server", "uptime"];
    fn from_row(menu: &'static str, row: &Row) -> Result<Self, Error> {
        Ok(Self {
            id: id(menu, row)?,
            user: required(menu, row, "user")?,
            address: text(row, "address"),
            mac_address: text(row, "mac-address"),
            server: text(row, "server"),
            uptime: text(row, "uptime"),
        })
    }
}
