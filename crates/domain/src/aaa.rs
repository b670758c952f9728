//! The AAA decision, in one place (design.md §4): given a subscriber, its package's service,
//! the tenant's suspension policy and the usage so far, what RADIUS must answer. Two views
//! of the same rules:
//!
//! - [`project`]: the FreeRADIUS projection, the `radcheck`/`radreply` rows a stock
//!   FreeRADIUS serves. It does not depend on the time: FreeRADIUS enforces `Expiration`
//!   itself, so the rows stay right as time passes.
//! - [`decide`]: the decision at one instant, for lastmile's own RADIUS server and for
//!   checking the projection (`lastmile radius verify`).

use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::{BillingType, CustomerStatus, is_expired};
use crate::field::FieldError;
use crate::fup::{self, Fup};
use crate::network::MacAddr;
use crate::network::router::parse_object_name;
use crate::package::RateLimit;

/// What a suspended subscriber gets (the tenant's policy).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "target", rename_all = "snake_case")]
pub enum SuspensionPolicy {
    /// Refused.
    Reject,
    /// Accepted with an address from this router pool (a walled garden).
    Pool(String),
    /// Accepted and put in this MikroTik address list (for a redirect or a block rule).
    AddressList(String),
}

impl SuspensionPolicy {
    /// The stored kind (`reject`, `pool`, `address_list`).
    pub fn kind(&self) -> &'static str {
        match self {
            SuspensionPolicy::Reject => "reject",
            SuspensionPolicy::Pool(_) => "pool",
            SuspensionPolicy::AddressList(_) => "address_list",
        }
    }

    /// The named pool or list, if any.
    pub fn target(&self) -> Option<&str> {
        match self {
            SuspensionPolicy::Reject => None,
            SuspensionPolicy::Pool(name) | SuspensionPolicy::AddressList(name) => Some(name),
        }
    }

    /// Parses a kind and its target: a pool or list name of 1 to 64 characters of
    /// `A-Z a-z 0-9 _ - .`, as RouterOS names them.
    pub fn parse(kind: &str, target: Option<&str>) -> Result<Self, FieldError> {
        let name = || parse_object_name("suspension_target", target.unwrap_or(""));
        match kind.trim() {
            "reject" => Ok(SuspensionPolicy::Reject),
            "pool" => Ok(SuspensionPolicy::Pool(name()?)),
            "address_list" => Ok(SuspensionPolicy::AddressList(name()?)),
            _ => Err(FieldError::new("suspension_policy", "unknown_policy")),
        }
    }
}

/// What the AAA rules need of a subscriber.
#[derive(Debug, Clone)]
pub struct Subscriber<'a> {
    /// The RADIUS user name.
    pub username: &'a str,
    /// The password in clear.
    pub password: &'a str,
    /// How it pays.
    pub billing: BillingType,
    /// Its stored status.
    pub status: CustomerStatus,
    /// When its service ends (prepaid).
    pub expires_at: Option<DateTime<Utc>>,
    /// The MAC it is bound to, if any.
    pub mac: Option<MacAddr>,
    /// The devices bound to it at the captive portal, at most [`MAX_DEVICES`]: when there
    /// are some (and no MAC above), only they sign in ([`device_allowed`]).
    pub devices: &'a [MacAddr],
    /// Its static address, if any.
    pub static_ip: Option<Ipv4Addr>,
    /// Sessions allowed at once.
    pub simultaneous_use: u32,
    /// Its tenant is archived: the ISP no longer serves anyone.
    pub tenant_archived: bool,
}

/// What the AAA rules need of a package.
#[derive(Debug, Clone)]
pub struct Service<'a> {
    /// Its speed.
    pub rate: RateLimit,
    /// Its volume per period, bytes.
    pub volume_bytes: Option<i64>,
    /// Its FUP steps.
    pub fup: &'a Fup,
    /// The router pool its subscribers take addresses from, if any.
    pub pool: Option<&'a str>,
}

/// One FreeRADIUS item: attribute, operator and value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Item {
    /// The attribute's dictionary name.
    pub attribute: &'static str,
    /// The operator (`:=`, `==`).
    pub op: &'static str,
    /// The value as FreeRADIUS reads it.
    pub value: String,
}

fn set(attribute: &'static str, value: impl ToString) -> Item {
    Item {
        attribute,
        op: ":=",
        value: value.to_string(),
    }
}

/// The `radcheck` and `radreply` rows of a subscriber.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    /// Check items.
    pub check: Vec<Item>,
    /// Reply items.
    pub reply: Vec<Item>,
}

impl Projection {
    /// The rows refuse the subscriber (`Auth-Type := Reject`).
    pub fn rejects(&self) -> bool {
        self.check
            .iter()
            .any(|item| item.attribute == "Auth-Type" && item.value == "Reject")
    }

    /// The speed the rows give (`Mikrotik-Rate-Limit`), if any.
    pub fn rate_limit(&self) -> Option<&str> {
        self.reply
            .iter()
            .find(|item| item.attribute == "Mikrotik-Rate-Limit")
            .map(|item| item.value.as_str())
    }
}

/// Why a subscriber is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// Disabled by staff.
    Disabled,
    /// Suspended, and the policy refuses.
    Suspended,
    /// Past its expiry.
    Expired,
    /// Its volume is used up.
    QuotaExhausted,
    /// Its tenant is archived.
    TenantArchived,
    /// A VPN account, asked for by a router other than its VPN router.
    WrongRouter,
}

/// The answer at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Accept with these reply items; `session_timeout` is the time left to expiry.
    Accept {
        /// Reply items.
        reply: Vec<Item>,
        /// Seconds until the service ends, if it ends.
        session_timeout: Option<u64>,
    },
    /// Reject.
    Reject(RejectReason),
}

/// Bytes left of the volume after `used`, or `None` when the package has no volume.
pub fn remaining_volume(service: &Service<'_>, used_bytes: i64) -> Option<i64> {
    service
        .volume_bytes
        .map(|volume| volume.saturating_sub(used_bytes.max(0)))
}

/// The reply items of a subscriber in service (or suspended into a pool or list).
fn reply_items(
    sub: &Subscriber<'_>,
    service: &Service<'_>,
    policy: &SuspensionPolicy,
    used_bytes: i64,
) -> Vec<Item> {
    let remaining = remaining_volume(service, used_bytes);
    let rate = fup::rate_at(service.rate, service.fup, used_bytes);
    let mut reply = vec![set("Mikrotik-Rate-Limit", rate.mikrotik())];
    if let Some(left) = remaining {
        // 64-bit totals: the low 32 bits and the gigawords (2^32 units) above them.
        let left = left.max(0) as u64;
        reply.push(set("Mikrotik-Total-Limit", left & 0xFFFF_FFFF));
        reply.push(set("Mikrotik-Total-Limit-Gigawords", left >> 32));
    }
    let suspended = sub.status == CustomerStatus::Suspended;
    match (suspended, policy) {
        (true, SuspensionPolicy::Pool(pool)) => reply.push(set("Framed-Pool", pool)),
        (true, SuspensionPolicy::AddressList(list)) => {
            reply.extend(address(sub, service));
            reply.push(set("Mikrotik-Address-List", list));
        }
        _ => reply.extend(address(sub, service)),
    }
    reply
}

fn address(sub: &Subscriber<'_>, service: &Service<'_>) -> Option<Item> {
    match (sub.static_ip, service.pool) {
        (Some(ip), _) => Some(set("Framed-IP-Address", ip)),
        (None, Some(pool)) => Some(set("Framed-Pool", pool)),
        (None, None) => None,
    }
}

/// Why the subscriber is refused whatever the time, if it is.
fn standing_refusal(
    sub: &Subscriber<'_>,
    policy: &SuspensionPolicy,
    remaining: Option<i64>,
) -> Option<RejectReason> {
    match sub.status {
        CustomerStatus::Disabled => Some(RejectReason::Disabled),
        CustomerStatus::Suspended if *policy == SuspensionPolicy::Reject => {
            Some(RejectReason::Suspended)
        }
        _ if remaining.is_some_and(|left| left <= 0) => Some(RejectReason::QuotaExhausted),
        _ => None,
    }
}

/// The most devices a subscriber's portal binding names (the captive portal binds at most
/// ten an account; the projection's pattern of twelve fits FreeRADIUS's 253-character
/// value).
pub const MAX_DEVICES: usize = 12;

/// Whether a request from the device `calling` (its Calling-Station-Id, read as a MAC) may
/// sign in as `sub`: any device when it is bound to none; else only its MAC (staff bound
/// it to one), or one of the devices the captive portal bound.
pub fn device_allowed(sub: &Subscriber<'_>, calling: Option<MacAddr>) -> bool {
    match (sub.mac, sub.devices) {
        (Some(bound), _) => calling == Some(bound),
        (None, []) => true,
        (None, devices) => calling.is_some_and(|c| devices.contains(&c)),
    }
}

/// The pattern FreeRADIUS matches the Calling-Station-Id against for `devices` (as
/// MikroTik writes a MAC: upper case, colons).
fn devices_pattern(devices: &[MacAddr]) -> String {
    let names: Vec<String> = devices.iter().map(ToString::to_string).collect();
    format!("^({})$", names.join("|"))
}

/// The FreeRADIUS rows for a subscriber (see the module documentation).
pub fn project(
    sub: &Subscriber<'_>,
    service: &Service<'_>,
    policy: &SuspensionPolicy,
    used_bytes: i64,
) -> Projection {
    if sub.tenant_archived {
        // No rows at all: FreeRADIUS knows no such user and refuses it, as it refuses an
        // archived customer.
        return Projection::default();
    }
    let remaining = remaining_volume(service, used_bytes);
    let mut check = vec![
        set("Cleartext-Password", sub.password),
        set("Simultaneous-Use", sub.simultaneous_use.max(1)),
    ];
    if let Some(mac) = sub.mac {
        check.push(Item {
            attribute: "Calling-Station-Id",
            op: "==",
            value: mac.to_string(),
        });
    } else if !sub.devices.is_empty() {
        check.push(Item {
            attribute: "Calling-Station-Id",
            op: "=~",
            value: devices_pattern(sub.devices),
        });
    }
    if sub.billing.expires() {
        // An all-digit Expiration is Unix time to FreeRADIUS: no zone to misread. A prepaid
        // customer without an expiry has no paid time: the epoch is long past.
        check.push(set(
            "Expiration",
            sub.expires_at.map_or(0, |at| at.timestamp().max(0)),
        ));
    }
    if standing_refusal(sub, policy, remaining).is_some() {
        check.push(set("Auth-Type", "Reject"));
        return Projection {
            check,
            reply: Vec::new(),
        };
    }
    Projection {
        check,
        reply: reply_items(sub, service, policy, used_bytes),
    }
}

/// The answer for a subscriber at `now` (the password and MAC checks are the server's).
pub fn decide(
    sub: &Subscriber<'_>,
    service: &Service<'_>,
    policy: &SuspensionPolicy,
    used_bytes: i64,
    now: DateTime<Utc>,
) -> Decision {
    if sub.tenant_archived {
        return Decision::Reject(RejectReason::TenantArchived);
    }
    let remaining = remaining_volume(service, used_bytes);
    if let Some(reason) = standing_refusal(sub, policy, remaining) {
        return Decision::Reject(reason);
    }
    if is_expired(sub.billing, sub.expires_at, now) {
        return Decision::Reject(RejectReason::Expired);
    }
    let session_timeout = match (sub.billing.expires(), sub.expires_at) {
        (true, Some(at)) => Some((at - now).num_seconds().max(1) as u64),
        _ => None,
    };
    Decision::Accept {
        reply: reply_items(sub, service, policy, used_bytes),
        session_timeout,
    }
}

#[cfg(test)]
#[path = "aaa_tests.rs"]
mod tests;
