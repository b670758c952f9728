//! The captive portal (hotspot-design §1.5, §2.4): staff set a router's portal up (its key,
//! the package and owner of new accounts, the trial, the device limit, the host names of the
//! router's login page) and get the pages to put on the router; phones then go through
//! [`visit`]: the router's variables arrive, a mobile is proved by a code, the account is
//! chosen by `domain::hotspot::decide`, the device is bound, and the phone is handed back to
//! the router with a CHAP response it never sees the secret of; or a phone types an access
//! voucher's code instead of a mobile ([`voucher`]).
//!
//! Who sets a portal up is who may provision the router (`provision::provisionable`).

pub mod pay;
pub mod visit;
pub mod voucher;

use serde::Deserialize;

use crate::Ctx;
use crate::error::OpError;
use domain::access::{Actor, Owner};
use domain::field::{FieldError, FieldErrors};
use domain::ids::{TenantId, UserId};
use domain::package::ConnectionType;
use store::Author;
use store::hotspot::{NewPortal, Portal};

/// Devices an account may bind when the portal names no limit.
pub const DEFAULT_MAX_DEVICES: i32 = 2;

/// The most devices a portal may let an account bind.
pub const MAX_DEVICES: i32 = 10;

/// Codes a portal's phones may be sent in an hour when the portal names no limit.
pub const DEFAULT_CODES_PER_HOUR: i32 = 60;

/// The most codes a portal may let its phones be sent in an hour.
pub const MAX_CODES_PER_HOUR: i32 = 10_000;

/// The most host names a portal may list.
const MAX_HOSTS: usize = 8;

/// A portal as asked for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PortalInput {
    /// The router (one the caller may provision).
    pub router_id: i64,
    /// The hotspot package new accounts are made on (unpaid until recharged).
    pub package_id: i64,
    /// The hotspot package of a mobile's one trial; none: no trial.
    pub trial_package_id: Option<i64>,
    /// The reseller new accounts belong to; none: the tenant.
    pub owner_id: Option<i64>,
    /// Devices an account may bind (default 2, at most 10).
    pub max_devices: Option<i32>,
    /// Codes its phones may be sent in an hour, all together (default 60).
    pub codes_per_hour: Option<i32>,
    /// Host names the router's login page may be on (its `dns-name`), besides private
    /// addresses.
    #[serde(default)]
    pub hosts: Vec<String>,
}

/// Reads host names: lower case, letters, digits, dots and dashes, not ending `.local`
/// (iOS does not detect a hotspot named so, hotspot-design §1.9).
fn parse_hosts(hosts: &[String], errors: &mut FieldErrors) -> String {
    if hosts.len() > MAX_HOSTS {
        errors.push(FieldError::new("hosts", "too_many").with("max", MAX_HOSTS));
        return String::new();
    }
    let mut out = Vec::with_capacity(hosts.len());
    for host in hosts {
        let host = host.trim().to_ascii_lowercase();
        let ok = (1..=253).contains(&host.len())
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
            && !host.starts_with(['.', '-'])
            && !host.ends_with(".local")
            && host.parse::<std::net::IpAddr>().is_err();
        if ok {
            out.push(host);
        } else {
            errors.push(FieldError::new("hosts", "invalid_host"));
        }
    }
    out.join(",")
}

/// The host names a portal lists.
pub fn hosts_of(portal: &Portal) -> Vec<String> {
    portal
        .hosts
        .split(',')
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The owner of a portal's new accounts: the tenant, or one of its resellers.
pub(crate) async fn owner_of(
    ctx: &Ctx<'_>,
    tenant: TenantId,
    owner: Option<i64>,
) -> Result<Owner, OpError> {
    let Some(id) = owner else {
        return Ok(Owner::Tenant(tenant));
    };
    let user = store::user::find_self(ctx.db.conn(), UserId(id))
        .await?
        .filter(|u| u.tenant_id == Some(tenant.0) && u.status == domain::user::UserStatus::Active)
        .ok_or_else(|| OpError::field("owner_id", "not_found"))?;
    crate::customer::reseller_owner(&user, tenant)
}

/// A portal's fields as checked.
struct Checked {
    max_devices: i32,
    codes_per_hour: i32,
    hosts: String,
}

/// Checks `input` for a portal of `tenant`; every refused field is reported in one answer.
async fn check(ctx: &Ctx<'_>, tenant: TenantId, input: &PortalInput) -> Result<Checked, OpError> {
    let mut errors = FieldErrors::new();
    let max_devices = input.max_devices.unwrap_or(DEFAULT_MAX_DEVICES);
    if !(1..=MAX_DEVICES).contains(&max_devices) {
        errors.push(
            FieldError::new("max_devices", "out_of_range")
                .with("min", 1)
                .with("max", MAX_DEVICES),
        );
    }
    let codes_per_hour = input.codes_per_hour.unwrap_or(DEFAULT_CODES_PER_HOUR);
    if !(1..=MAX_CODES_PER_HOUR).contains(&codes_per_hour) {
        errors.push(
            FieldError::new("codes_per_hour", "out_of_range")
                .with("min", 1)
                .with("max", MAX_CODES_PER_HOUR),
        );
    }
    let hosts = parse_hosts(&input.hosts, &mut errors);
    let owner = match owner_of(ctx, tenant, input.owner_id).await {
        Ok(owner) => Some(owner),
        Err(OpError::Invalid(more)) => {
            errors.extend(more);
            None
        }
        Err(other) => return Err(other),
    };
    if let Some(owner) = owner {
        for (field, id) in [
            ("package_id", Some(input.package_id)),
            ("trial_package_id", input.trial_package_id),
        ] {
            let Some(id) = id else { continue };
            match crate::customer::usable_package(ctx, owner, id, ConnectionType::Hotspot).await {
                Ok(_) => {}
                Err(OpError::Invalid(more)) => {
                    for e in more.0 {
                        errors.push(FieldError {
                            field: field.to_owned(),
                            ..e
                        });
                    }
                }
                Err(other) => return Err(other),
            }
        }
    }
    if !errors.is_empty() {
        return Err(OpError::Invalid(errors));
    }
    Ok(Checked {
        max_devices,
        codes_per_hour,
        hosts,
    })
}

/// Sets up the portal of a router the caller may provision. Every refused field is
/// reported in one answer.
pub async fn create_portal(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: &PortalInput,
) -> Result<Portal, OpError> {
    let router = crate::provision::provisionable(ctx, actor, input.router_id)
        .await
        .map_err(|e| match e {
            OpError::NotFound => OpError::field("router_id", "not_found"),
            other => other,
        })?;
    let tenant = TenantId(router.tenant_id);
    let checked = check(ctx, tenant, input).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let portal = store::hotspot::create_portal(
        &mut w,
        &NewPortal {
            tenant,
            router_id: router.id,
            owner_id: input.owner_id,
            package_id: input.package_id,
            trial_package_id: input.trial_package_id,
            max_devices: checked.max_devices,
            codes_per_hour: checked.codes_per_hour,
            hosts: &checked.hosts,
        },
    )
    .await?;
    w.commit().await?;
    Ok(portal)
}

/// A portal's edit: its settings as a set-up asks for them (its router stays), whether it
/// is on, and the version read.
#[derive(Debug, Clone, Default)]
pub struct PortalEdit {
    /// The settings (`router_id` is the portal's own and is not read).
    pub settings: PortalInput,
    /// On; off, its visits are refused and provisioning leaves its pages and walled
    /// garden out.
    pub active: bool,
    /// The version the caller read.
    pub version: i32,
}

/// Changes portal `id` of a router the caller may provision (its key stays, so the pages
/// on the router stay right). Every refused field is reported in one answer; an edit of
/// a version read before another's is refused.
pub async fn update_portal(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    edit: &PortalEdit,
) -> Result<Portal, OpError> {
    let before = portal(ctx, actor, id).await?;
    crate::provision::provisionable(ctx, actor, before.router_id).await?;
    let input = PortalInput {
        router_id: before.router_id,
        ..edit.settings.clone()
    };
    let checked = check(ctx, TenantId(before.tenant_id), &input).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let after = store::hotspot::update_portal(
        &mut w,
        &before,
        edit.version,
        &store::hotspot::PortalChanges {
            owner_id: input.owner_id,
            package_id: input.package_id,
            trial_package_id: input.trial_package_id,
            max_devices: checked.max_devices,
            codes_per_hour: checked.codes_per_hour,
            hosts: &checked.hosts,
            status: if edit.active { "active" } else { "disabled" },
        },
    )
    .await?;
    w.commit().await?;
    Ok(after)
}

/// The portals of the routers the caller manages.
pub async fn portals(ctx: &Ctx<'_>, actor: &Actor) -> Result<Vec<Portal>, OpError> {
    let all = store::hotspot::portals(ctx.db.conn(), actor.tenant_id).await?;
    let mut out = Vec::with_capacity(all.len());
    for portal in all {
        if crate::network::may_change(ctx, actor, portal.tenant_id)
            .await
            .is_ok()
        {
            out.push(portal);
        }
    }
    Ok(out)
}

/// Portal `id`, if the caller manages its router.
pub async fn portal(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Portal, OpError> {
    let portal = store::hotspot::portal(ctx.db.conn(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    crate::network::get_router(ctx, actor, portal.router_id).await?;
    crate::network::may_change(ctx, actor, portal.tenant_id).await?;
    Ok(portal)
}

/// The hotspot account the portal makes on `package_id` from `input` (its name, mobile or
/// user name, paid time, comment): the portal's owner owns it, on the portal's router, a
/// prepaid hotspot account whose bound devices may each be online at once. With its
/// package.
pub(crate) async fn portal_account(
    ctx: &Ctx<'_>,
    step: &visit::Step,
    package_id: i64,
    input: domain::customer::CustomerInput,
) -> Result<(domain::customer::NewCustomer, store::package::Package), OpError> {
    let tenant = TenantId(step.tenant.id);
    let owner = match step.portal.owner_id {
        None => domain::access::Owner::Tenant(tenant),
        Some(id) => owner_of(ctx, tenant, Some(id)).await?,
    };
    let package = crate::customer::usable_package(
        ctx,
        owner,
        package_id,
        domain::package::ConnectionType::Hotspot,
    )
    .await?;
    let input = domain::customer::CustomerInput {
        tenant_id: Some(tenant),
        owner_id: owner.user(),
        package_id: Some(package.id),
        connection_type: Some("hotspot".to_owned()),
        billing_type: Some("prepaid".to_owned()),
        router_id: Some(step.visit.router_id),
        simultaneous_use: Some(step.portal.max_devices.to_string()),
        ..input
    };
    let country = crate::customer::mobile_country(&step.tenant);
    let realm = store::tenant::realm(&step.tenant);
    let made_up = crate::customer::random_password();
    let terms = domain::customer::Terms {
        owner,
        package: Some(crate::customer::package_terms(&package)),
        mobile_country: country.as_ref(),
        realm: &realm,
        default_billing: step.tenant.default_billing_type.get(),
        zone: crate::customer::zone(&step.tenant),
        made_up_password: &made_up,
    };
    let (new, _) =
        domain::customer::NewCustomer::parse(&input, &terms, ctx.now).map_err(OpError::Invalid)?;
    Ok((new, package))
}
