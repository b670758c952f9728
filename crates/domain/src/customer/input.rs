//! A customer as it comes in (an API body, a panel form, a CSV row) and what it parses to:
//! [`NewCustomer::parse`] for a new customer, [`CustomerChanges::parse`] for a change. Every
//! bound a customer field has is written here, once; the edges hand over text as typed and
//! get every refused field back in one round.
//!
//! What needs the database (that the tenant, owner, package, zone, router and pool exist and
//! may be used) is checked by the caller, which passes what it found as [`Terms`].

use std::net::Ipv4Addr;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::{BillingType, CustomerStatus, Msisdn, PppPassword, Username};
use crate::access::Owner;
use crate::field::{FieldError, FieldErrors};
use crate::ids::{TenantId, UserId};
use crate::locale::{CountryCode, parse_time};
use crate::network::MacAddr;
use crate::package::ConnectionType;
use crate::text::bounded;
use crate::user::Email;

/// The longest customer name, in characters.
pub const NAME_MAX: usize = 120;
/// The longest postal address.
pub const ADDRESS_MAX: usize = 500;
/// The longest comment.
pub const COMMENT_MAX: usize = 2000;
/// The most sessions a customer may have at once.
pub const SIMULTANEOUS_USE_MAX: i64 = 100;

/// A static address wanted for a customer: from this pool, this address or the first free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticIp {
    /// The pool.
    pub pool_id: i64,
    /// The address, or `None` for the first free one.
    pub address: Option<Ipv4Addr>,
}

/// A new customer as asked for: references by id, everything else as typed.
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    /// The tenant (platform roles); others create in their own.
    pub tenant_id: Option<TenantId>,
    /// The owning operator or sub-operator (default: the caller if it is one, else the
    /// tenant).
    pub owner_id: Option<UserId>,
    /// The package.
    pub package_id: Option<i64>,
    /// How it connects (default: as its package does); its package must be of this type.
    pub connection_type: Option<String>,
    /// How it pays (default: the tenant's default).
    pub billing_type: Option<String>,
    /// Its name.
    pub name: String,
    /// Its mobile, written nationally or in E.164.
    pub mobile: Option<String>,
    /// Its e-mail.
    pub email: Option<String>,
    /// Its postal address.
    pub address: String,
    /// Its zone.
    pub zone_id: Option<i64>,
    /// Its home router.
    pub router_id: Option<i64>,
    /// Its user name (made up for hotspot customers: `<mobile>@<realm>`).
    pub username: Option<String>,
    /// Its password (default: a made-up one, returned once).
    pub password: Option<String>,
    /// Its status (default: active).
    pub status: Option<String>,
    /// When its service ends (RFC 3339, or a local time or day in the tenant's zone;
    /// prepaid default: now plus the package's validity).
    pub expires_at: Option<String>,
    /// A static address from `ip_pool_id`.
    pub static_ip: Option<String>,
    /// The pool its static address comes from, or its own address pool.
    pub ip_pool_id: Option<i64>,
    /// Ask for the first free address of `ip_pool_id` as a static address.
    pub allocate_static: bool,
    /// The MAC it is bound to.
    pub mac: Option<String>,
    /// Sessions allowed at once (default 1).
    pub simultaneous_use: Option<String>,
    /// Free comment.
    pub comment: String,
    /// Its custom fields by key, as given (checked by `crate::custom_field::parse_values`
    /// against the tenant's definitions).
    pub custom_fields: Vec<(String, crate::custom_field::FieldInput)>,
}

/// What a new customer's package decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageTerms {
    /// The package.
    pub id: i64,
    /// How its customers connect.
    pub connection: ConnectionType,
    /// How long a prepaid period lasts, in minutes.
    pub validity_minutes: i64,
}

/// What the caller found for a new customer: its owner, its package (`None` when the one
/// asked for cannot be used, which the caller reports), and the tenant's terms.
#[derive(Debug, Clone)]
pub struct Terms<'a> {
    /// Who will own it.
    pub owner: Owner,
    /// Its package, when usable.
    pub package: Option<PackageTerms>,
    /// The country mobile numbers are read in (`None`: the tenant's is unreadable).
    pub mobile_country: Option<&'a CountryCode>,
    /// The tenant's realm, for made-up user names.
    pub realm: &'a str,
    /// The tenant's default billing type.
    pub default_billing: BillingType,
    /// The tenant's time zone, for local times.
    pub zone: Tz,
    /// The password to give when none is asked for (made up by the caller).
    pub made_up_password: &'a str,
}

/// A new customer, parsed and placed.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// Who owns it.
    pub owner: Owner,
    /// Its package (one its owner may use, of its connection type).
    pub package_id: i64,
    /// How it connects.
    pub connection_type: ConnectionType,
    /// How it pays.
    pub billing_type: BillingType,
    /// Its name.
    pub name: String,
    /// Its mobile.
    pub mobile: Option<Msisdn>,
    /// Its e-mail.
    pub email: Option<String>,
    /// Its address.
    pub address: String,
    /// Its zone.
    pub zone_id: Option<i64>,
    /// Its home router.
    pub router_id: Option<i64>,
    /// Its RADIUS user name.
    pub username: Username,
    /// Its password.
    pub password: PppPassword,
    /// Its status.
    pub status: CustomerStatus,
    /// When its service ends.
    pub expires_at: Option<DateTime<Utc>>,
    /// A static address.
    pub static_ip: Option<StaticIp>,
    /// A pool of its own (instead of its package's), when it has no static address.
    pub ip_pool_id: Option<i64>,
    /// The MAC it is bound to.
    pub mac: Option<MacAddr>,
    /// Sessions allowed at once.
    pub simultaneous_use: i32,
    /// Free comment.
    pub comment: String,
}

impl NewCustomer {
    /// Parses `input` under `terms` at `now`; every refused field is reported. The flag is
    /// true when the password is the made-up one (to be shown once).
    pub fn parse(
        input: &CustomerInput,
        terms: &Terms<'_>,
        now: DateTime<Utc>,
    ) -> Result<(Self, bool), FieldErrors> {
        let mut errors = FieldErrors::new();
        let asked_connection = input
            .connection_type
            .as_deref()
            .and_then(|c| errors.take(read_connection(c)));
        let connection = terms
            .package
            .map(|p| p.connection)
            .or(asked_connection)
            .unwrap_or(ConnectionType::Other);
        if input.package_id.is_none() {
            errors.push(FieldError::new("package_id", "required"));
        }
        let name = errors.take(parse_name(&input.name));
        let mobile = filled(input.mobile.as_deref()).and_then(|m| {
            errors.take(
                terms
                    .mobile_country
                    .ok_or_else(|| FieldError::new("mobile", "unknown_country"))
                    .and_then(|country| Msisdn::parse(m, country)),
            )
        });
        let email = filled(input.email.as_deref()).and_then(|e| errors.take(parse_email(e)));
        let address = errors.take(parse_address(&input.address));
        let comment = errors.take(parse_comment(&input.comment));
        let username = match (connection, filled(input.username.as_deref())) {
            (_, Some(given)) => errors.take(Username::parse(given)),
            (ConnectionType::Hotspot, None) => match &mobile {
                Some(m) => errors.take(Username::parse(&format!("{}@{}", m.digits(), terms.realm))),
                None => {
                    if filled(input.mobile.as_deref()).is_none() {
                        errors.push(FieldError::new("mobile", "required"));
                    }
                    None
                }
            },
            (_, None) => errors.take(Err(FieldError::new("username", "required"))),
        };
        let made_up = input.password.is_none();
        let password = errors.take(PppPassword::parse(
            "password",
            input.password.as_deref().unwrap_or(terms.made_up_password),
        ));
        let mac = filled(input.mac.as_deref()).and_then(|m| errors.take(parse_mac(m)));
        let simultaneous_use = match filled(input.simultaneous_use.as_deref()) {
            Some(text) => errors.take(parse_simultaneous_use(text)),
            None => Some(1),
        };
        let billing = input
            .billing_type
            .as_deref()
            .and_then(|b| errors.take(read_billing(b)))
            .unwrap_or(terms.default_billing);
        let status = input
            .status
            .as_deref()
            .and_then(|s| errors.take(read_status(s)))
            .unwrap_or(CustomerStatus::Active);
        let expires_at = match filled(input.expires_at.as_deref()) {
            Some(text) => errors.take(parse_time("expires_at", text, terms.zone)),
            None => match (billing, terms.package) {
                (BillingType::Prepaid, Some(p)) => {
                    Some(now + TimeDelta::minutes(p.validity_minutes))
                }
                _ => None,
            },
        };
        let address_given = filled(input.static_ip.as_deref())
            .and_then(|ip| errors.take(parse_ip("static_ip", ip)));
        let static_wanted = input.allocate_static
            || input
                .static_ip
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty());
        let static_ip = match (input.ip_pool_id, static_wanted) {
            (Some(pool_id), true) => Some(StaticIp {
                pool_id,
                address: address_given,
            }),
            (None, true) => {
                errors.push(FieldError::new("ip_pool_id", "required"));
                None
            }
            _ => None,
        };
        if connection == ConnectionType::StaticIp && !static_wanted && input.ip_pool_id.is_none() {
            errors.push(FieldError::new("static_ip", "required"));
        }
        let (
            Some(package),
            Some(package_id),
            Some(name),
            Some(username),
            Some(password),
            Some(address),
            Some(comment),
            Some(simultaneous_use),
        ) = (
            terms.package,
            input.package_id,
            name,
            username,
            password,
            address,
            comment,
            simultaneous_use,
        )
        else {
            return Err(errors);
        };
        if !errors.is_empty() || package.id != package_id {
            return Err(errors);
        }
        let new = NewCustomer {
            owner: terms.owner,
            package_id,
            connection_type: connection,
            billing_type: billing,
            name,
            mobile,
            email,
            address,
            zone_id: input.zone_id,
            router_id: input.router_id,
            username,
            password,
            status,
            expires_at,
            ip_pool_id: if static_ip.is_some() {
                None
            } else {
                input.ip_pool_id
            },
            static_ip,
            mac,
            simultaneous_use,
            comment,
        };
        Ok((new, made_up))
    }
}

/// Changes to a customer as asked for; `None` leaves a field, an empty text clears an
/// optional one (e-mail, mobile, MAC binding, static address).
#[derive(Debug, Clone, Default)]
pub struct ChangesInput {
    /// New name.
    pub name: Option<String>,
    /// New mobile (`""` clears it).
    pub mobile: Option<String>,
    /// New e-mail (`""` clears it).
    pub email: Option<String>,
    /// New address.
    pub address: Option<String>,
    /// New zone (`Some(None)` ungroups).
    pub zone_id: Option<Option<i64>>,
    /// New home router.
    pub router_id: Option<Option<i64>>,
    /// New user name (a rename).
    pub username: Option<String>,
    /// New password.
    pub password: Option<String>,
    /// New status.
    pub status: Option<String>,
    /// New package.
    pub package_id: Option<i64>,
    /// New billing type.
    pub billing_type: Option<String>,
    /// New expiry (`""` removes it).
    pub expires_at: Option<String>,
    /// New static address from `ip_pool_id` (`""` releases it).
    pub static_ip: Option<String>,
    /// New own pool (the pool of a new static address).
    pub ip_pool_id: Option<Option<i64>>,
    /// New MAC binding (`""` removes it).
    pub mac: Option<String>,
    /// Sessions allowed at once.
    pub simultaneous_use: Option<String>,
    /// New comment.
    pub comment: Option<String>,
    /// Custom fields to change, by key (empty: none); `FieldInput::Clear` removes a value.
    pub custom_fields: Vec<(String, crate::custom_field::FieldInput)>,
}

impl ChangesInput {
    /// True when nothing but custom fields (if any) is asked to change.
    pub fn only_custom_fields(&self) -> bool {
        let ChangesInput {
            name,
            mobile,
            email,
            address,
            zone_id,
            router_id,
            username,
            password,
            status,
            package_id,
            billing_type,
            expires_at,
            static_ip,
            ip_pool_id,
            mac,
            simultaneous_use,
            comment,
            custom_fields: _,
        } = self;
        name.is_none()
            && mobile.is_none()
            && email.is_none()
            && address.is_none()
            && zone_id.is_none()
            && router_id.is_none()
            && username.is_none()
            && password.is_none()
            && status.is_none()
            && package_id.is_none()
            && billing_type.is_none()
            && expires_at.is_none()
            && static_ip.is_none()
            && ip_pool_id.is_none()
            && mac.is_none()
            && simultaneous_use.is_none()
            && comment.is_none()
    }
}

/// Changes to a customer, parsed; `None` leaves a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct CustomerChanges {
    /// New name.
    pub name: Option<String>,
    /// New mobile.
    pub mobile: Option<Option<Msisdn>>,
    /// New e-mail.
    pub email: Option<Option<String>>,
    /// New address.
    pub address: Option<String>,
    /// New zone.
    pub zone_id: Option<Option<i64>>,
    /// New home router.
    pub router_id: Option<Option<i64>>,
    /// New user name (a rename).
    pub username: Option<Username>,
    /// New password.
    pub password: Option<PppPassword>,
    /// New status (suspend, resume, disable).
    pub status: Option<CustomerStatus>,
    /// New package (checked by the caller).
    pub package_id: Option<i64>,
    /// New billing type.
    pub billing_type: Option<BillingType>,
    /// New expiry.
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// New static address (`Some(None)` releases it).
    pub static_ip: Option<Option<StaticIp>>,
    /// New own pool.
    pub ip_pool_id: Option<Option<i64>>,
    /// New MAC binding.
    pub mac: Option<Option<MacAddr>>,
    /// Sessions allowed at once.
    pub simultaneous_use: Option<i32>,
    /// New comment.
    pub comment: Option<String>,
}

impl CustomerChanges {
    /// Parses `input`, reading mobiles in `mobile_country` and local times in `zone`.
    pub fn parse(
        input: &ChangesInput,
        mobile_country: Option<&CountryCode>,
        zone: Tz,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let cleared = |text: &str| text.trim().is_empty();
        let mobile = input.mobile.as_deref().map(|m| {
            if cleared(m) {
                return None;
            }
            errors.take(
                mobile_country
                    .ok_or_else(|| FieldError::new("mobile", "unknown_country"))
                    .and_then(|country| Msisdn::parse(m, country)),
            )
        });
        let email = input
            .email
            .as_deref()
            .map(|e| filled(Some(e)).and_then(|e| errors.take(parse_email(e))));
        let expires_at = input
            .expires_at
            .as_deref()
            .map(|t| filled(Some(t)).and_then(|t| errors.take(parse_time("expires_at", t, zone))));
        let mac = input
            .mac
            .as_deref()
            .map(|m| filled(Some(m)).and_then(|m| errors.take(parse_mac(m))));
        let pool = input.ip_pool_id.flatten();
        let (static_ip, ip_pool_id) = match input.static_ip.as_deref() {
            None => (None, input.ip_pool_id),
            Some(text) if cleared(text) => (Some(None), None),
            Some(text) => match (errors.take(parse_ip("static_ip", text)), pool) {
                (Some(address), Some(pool_id)) => (
                    Some(Some(StaticIp {
                        pool_id,
                        address: Some(address),
                    })),
                    None,
                ),
                (Some(_), None) => {
                    errors.push(FieldError::new("ip_pool_id", "required"));
                    (None, None)
                }
                (None, _) => (None, None),
            },
        };
        let changes = CustomerChanges {
            name: input
                .name
                .as_deref()
                .and_then(|n| errors.take(parse_name(n))),
            mobile,
            email,
            address: input
                .address
                .as_deref()
                .and_then(|a| errors.take(parse_address(a))),
            zone_id: input.zone_id,
            router_id: input.router_id,
            username: input
                .username
                .as_deref()
                .and_then(|u| errors.take(Username::parse(u))),
            password: input
                .password
                .as_deref()
                .and_then(|p| errors.take(PppPassword::parse("password", p))),
            status: input
                .status
                .as_deref()
                .and_then(|s| errors.take(read_status(s))),
            package_id: input.package_id,
            billing_type: input
                .billing_type
                .as_deref()
                .and_then(|b| errors.take(read_billing(b))),
            expires_at,
            static_ip,
            ip_pool_id,
            mac,
            simultaneous_use: input
                .simultaneous_use
                .as_deref()
                .and_then(|n| errors.take(parse_simultaneous_use(n))),
            comment: input
                .comment
                .as_deref()
                .and_then(|c| errors.take(parse_comment(c))),
        };
        errors.finish(|| Some(changes))
    }

    /// The audit action naming the change.
    pub fn action(&self) -> &'static str {
        match self {
            c if c.status == Some(CustomerStatus::Suspended) => "customer.suspend",
            c if c.status == Some(CustomerStatus::Disabled) => "customer.disable",
            c if c.status == Some(CustomerStatus::Active) => "customer.resume",
            c if c.username.is_some() => "customer.rename",
            c if c.password.is_some() => "customer.change_password",
            c if c.package_id.is_some() => "customer.change_package",
            _ => "customer.update",
        }
    }
}

fn filled(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.trim().is_empty())
}

/// A customer's name: 1 to [`NAME_MAX`] characters.
pub fn parse_name(raw: &str) -> Result<String, FieldError> {
    bounded("name", raw, 1, NAME_MAX)
}

/// A postal address: up to [`ADDRESS_MAX`] characters.
pub fn parse_address(raw: &str) -> Result<String, FieldError> {
    bounded("address", raw, 0, ADDRESS_MAX)
}

/// A comment: up to [`COMMENT_MAX`] characters.
pub fn parse_comment(raw: &str) -> Result<String, FieldError> {
    bounded("comment", raw, 0, COMMENT_MAX)
}

fn parse_email(raw: &str) -> Result<String, FieldError> {
    Email::parse(raw).map(|e| e.as_str().to_owned())
}

fn parse_mac(raw: &str) -> Result<MacAddr, FieldError> {
    MacAddr::parse(raw).ok_or_else(|| FieldError::new("mac", "invalid_mac"))
}

fn parse_ip(field: &str, raw: &str) -> Result<Ipv4Addr, FieldError> {
    raw.trim()
        .parse()
        .map_err(|_| FieldError::new(field, "invalid_ip"))
}

/// Sessions allowed at once: 1 to [`SIMULTANEOUS_USE_MAX`].
pub fn parse_simultaneous_use(raw: &str) -> Result<i32, FieldError> {
    match raw.trim().parse::<i64>() {
        Ok(n) if (1..=SIMULTANEOUS_USE_MAX).contains(&n) => Ok(i32::try_from(n).unwrap_or(1)),
        _ => Err(FieldError::new("simultaneous_use", "out_of_range")
            .with("min", 1)
            .with("max", SIMULTANEOUS_USE_MAX)),
    }
}

/// A connection type by its name.
pub fn read_connection(raw: &str) -> Result<ConnectionType, FieldError> {
    ConnectionType::parse(raw)
        .ok_or_else(|| FieldError::new("connection_type", "unknown_connection_type"))
}

/// A billing type by its name.
pub fn read_billing(raw: &str) -> Result<BillingType, FieldError> {
    BillingType::parse(raw).ok_or_else(|| FieldError::new("billing_type", "unknown_billing_type"))
}

/// A stored status by its name.
pub fn read_status(raw: &str) -> Result<CustomerStatus, FieldError> {
    CustomerStatus::parse(raw).ok_or_else(|| FieldError::new("status", "unknown_status"))
}
