//! Zero-touch provisioning, the operations' side (the plan is `domain::network::provision`'s,
//! the router work `netops::provision`'s): queuing the job ([`submit`]), the settings a
//! router is provisioned with, each from its one source of truth ([`settings`]: the router's
//! own secret, the tenant's suspension pool), the record of what was applied ([`record`]:
//! audited, and kept with its steps when it completed), and rolling the latest completed one
//! back on request ([`submit_rollback`], [`reverted`]).

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::Ctx;
use crate::error::OpError;
use domain::access::Actor;
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use domain::network::provision::{PORTAL_DIRECTORY, PortalPages, Settings, Step};
use domain::text::bounded;
use store::Author;
use store::job::Job;
use store::network::Router;

/// The job kind.
pub const KIND: &str = "router.provision";
/// The job kind of a rollback on request.
pub const ROLLBACK_KIND: &str = "router.provision.rollback";
/// The keyring context a kept provisioning's steps are sealed under (they may hold secrets).
const STEPS_CONTEXT: &str = "router.provisioning.steps";

/// What a provisioning job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionRequest {
    /// The router.
    pub router_id: i64,
    /// Where the router reaches lastmile's RADIUS server.
    pub radius_address: Ipv4Addr,
    /// lastmile's authentication port as the router reaches it.
    pub auth_port: u16,
    /// lastmile's accounting port as the router reaches it.
    pub acct_port: u16,
    /// The captive portal's address, for the walled garden.
    pub portal_address: Option<Ipv4Addr>,
    /// The router's identity, if lastmile sets it.
    pub identity: Option<String>,
    /// The SNMP community lastmile reads with, if any.
    pub snmp_community: Option<String>,
    /// Only plan: write nothing.
    pub dry_run: bool,
    /// Where phones reach lastmile (its public address), for the captive portal's pages
    /// when the router has a portal; none: the pages are not put on the router.
    #[serde(default)]
    pub portal_url: Option<String>,
}

/// The router `id` if `actor` may provision it, with API access configured.
pub async fn provisionable(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Router, OpError> {
    let router = crate::network::get_router(ctx, actor, id).await?;
    crate::network::may_change(ctx, actor, router.tenant_id).await?;
    if router.api_address.is_none() || router.api_user.is_none() {
        return Err(OpError::field("api_address", "required"));
    }
    Ok(router)
}

fn check(request: &ProvisionRequest) -> Result<(), OpError> {
    let mut errors = FieldErrors::new();
    if let Some(identity) = &request.identity
        && let Err(e) = bounded("identity", identity, 1, 64)
    {
        errors.push(e);
    }
    if let Some(community) = &request.snmp_community {
        let ok = community
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !ok || community.is_empty() || community.len() > 32 {
            errors.push(FieldError::new("snmp_community", "invalid_community"));
        }
    }
    for (field, port) in [
        ("auth_port", request.auth_port),
        ("acct_port", request.acct_port),
    ] {
        if port == 0 {
            errors.push(FieldError::new(field, "invalid_port"));
        }
    }
    if request.radius_address.is_unspecified() || request.radius_address.is_broadcast() {
        errors.push(FieldError::new("radius_address", "invalid_ip"));
    }
    if let Some(url) = &request.portal_url
        && domain::hotspot::first_address(url).is_none_or(|u| u.contains(['"', '<', '>', '\\']))
    {
        errors.push(FieldError::new("portal_url", "invalid_portal_url"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(OpError::Invalid(errors))
    }
}

/// Queues provisioning (or, with `dry_run`, its plan) of the router `request` names; one
/// at a time per router: one already queued or running is the answer.
pub async fn submit(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    request: &ProvisionRequest,
) -> Result<Job, OpError> {
    let router = provisionable(ctx, actor, request.router_id).await?;
    check(request)?;
    let payload = serde_json::to_value(request).map_err(|e| OpError::Internal(e.to_string()))?;
    let key = format!("{KIND}:{}", router.id);
    crate::network::queue_router_job(ctx, author, &router, KIND, key, payload).await
}

/// RouterOS 7.15 and later sign and check Message-Authenticator (`require-message-auth`).
pub fn has_message_auth(version: &str) -> bool {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (7, 15)
}

/// What `router` is provisioned with for `request`: its own shared secret, the tenant's
/// suspension pool (when its policy is a pool), the CoA port lastmile sends to, and
/// Message-Authenticator when the router's RouterOS has it (`message_auth`).
pub async fn settings(
    ctx: &Ctx<'_>,
    router: &Router,
    request: &ProvisionRequest,
    coa_port: u16,
    message_auth: bool,
) -> Result<Settings, OpError> {
    let secret = ctx
        .db
        .keyring()
        .open_string(store::network::SECRET_CONTEXT, &router.secret)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let tenant = store::tenant::find_any(ctx.db.conn(), TenantId(router.tenant_id))
        .await?
        .ok_or(OpError::NotFound)?;
    let suspended = match (
        tenant.suspension_policy.as_str(),
        tenant.suspension_target.as_deref(),
    ) {
        ("pool", Some(name)) => {
            let pools = store::network::tenant_pools(ctx.db.conn(), TenantId(tenant.id)).await?;
            match pools.iter().find(|p| p.name == name) {
                Some(p) => Some((p.name.clone(), store::network::pool_ranges(p)?)),
                None => return Err(OpError::field("suspension_target", "pool_not_found")),
            }
        }
        _ => None,
    };
    let portal = store::hotspot::portals(ctx.db.conn(), Some(TenantId(router.tenant_id)))
        .await?
        .into_iter()
        .find(|p| p.router_id == router.id && p.status == "active");
    let portal_pages = match (portal, request.portal_url.as_deref()) {
        (Some(portal), Some(url)) if !url.trim().is_empty() => Some(PortalPages {
            directory: PORTAL_DIRECTORY.to_owned(),
            files: domain::hotspot::router_pages(url, &portal.portal_key)
                .into_iter()
                .map(|(name, contents)| (name.to_owned(), contents))
                .collect(),
        }),
        _ => None,
    };
    // Phones pay at the portal before they are online: the tenant's merchant accounts'
    // checkout pages go through the walled garden.
    let mut payment_hosts = Vec::new();
    if portal_pages.is_some() {
        for account in store::gateway::accounts(ctx.db.conn(), Some(&[tenant.id])).await? {
            if account.status == "active" {
                for host in domain::hotspot::payment_hosts(&account.provider, &account.base_url) {
                    if !payment_hosts.contains(&host) {
                        payment_hosts.push(host);
                    }
                }
            }
        }
    }
    Ok(Settings {
        radius_address: request.radius_address,
        secret: secret.to_string(),
        auth_port: request.auth_port,
        acct_port: request.acct_port,
        coa_port,
        interim_seconds: 300,
        portal_address: request.portal_address,
        suspended,
        identity: request.identity.clone(),
        snmp_community: request.snmp_community.clone(),
        message_auth,
        portal_pages,
        payment_hosts,
    })
}

/// Records in the audit log what provisioning `router` with `request` changed (the steps
/// applied) and, when a step failed, what was undone; a provisioning that `completed` is
/// also kept with its steps, for a rollback on request.
pub async fn record(
    ctx: &Ctx<'_>,
    author: Author,
    router: &Router,
    request: &ProvisionRequest,
    steps: &[Step],
    completed: bool,
    outcome: serde_json::Value,
) -> Result<(), OpError> {
    let tenant = TenantId(router.tenant_id);
    let internal = |e: String| OpError::Internal(e);
    let shown = serde_json::to_value(domain::network::provision::redacted(steps))
        .map_err(|e| internal(e.to_string()))?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let kept = if completed {
        // Kept whole for the rollback (the values a step replaced may be secrets): sealed.
        let whole = serde_json::to_vec(steps).map_err(|e| internal(e.to_string()))?;
        let sealed = ctx
            .db
            .keyring()
            .seal(STEPS_CONTEXT, &whole)
            .map_err(|e| internal(e.to_string()))?;
        let request = serde_json::to_value(request).map_err(|e| internal(e.to_string()))?;
        let sealed = serde_json::Value::String(sealed);
        Some(store::network::record_provisioning(&w, tenant, router.id, &request, &sealed).await?)
    } else {
        None
    };
    w.audit(store::AuditEntry {
        tenant_id: Some(tenant),
        action: "router.provision.apply",
        entity: "router",
        entity_id: Some(router.id),
        before: None,
        after: Some(serde_json::json!({ "steps": shown, "outcome": outcome, "kept": kept })),
    })
    .await?;
    w.commit().await?;
    Ok(())
}

/// Queues the rollback of the latest provisioning of router `id` that completed and is not
/// rolled back yet; refused when there is none. One operation per router at a time.
pub async fn submit_rollback(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<Job, OpError> {
    let router = provisionable(ctx, actor, id).await?;
    let Some(latest) = store::network::latest_provisioning(ctx.db.conn(), router.id).await? else {
        return Err(OpError::field("router", "nothing_to_roll_back"));
    };
    // One operation per router at a time: a rollback shares provisioning's key.
    let key = format!("{KIND}:{}", router.id);
    let payload = serde_json::json!({ "router_id": router.id, "provisioning_id": latest.id });
    crate::network::queue_router_job(ctx, author, &router, ROLLBACK_KIND, key, payload).await
}

/// The steps of provisioning `id` of `router`, if it is the latest not rolled back.
pub async fn to_revert(ctx: &Ctx<'_>, router: &Router, id: i64) -> Result<Vec<Step>, OpError> {
    let latest = store::network::latest_provisioning(ctx.db.conn(), router.id)
        .await?
        .filter(|p| p.id == id)
        .ok_or_else(|| OpError::field("router", "nothing_to_roll_back"))?;
    let internal = |e: String| OpError::Internal(e);
    let sealed: String =
        serde_json::from_str(&latest.steps).map_err(|e| internal(e.to_string()))?;
    let whole = ctx
        .db
        .keyring()
        .open(STEPS_CONTEXT, &sealed)
        .map_err(|e| internal(e.to_string()))?;
    serde_json::from_slice(&whole).map_err(|e| internal(e.to_string()))
}

/// Records that provisioning `id` of `router` was rolled back (each undo's result in the
/// audit entry); it is marked only when every undo worked.
pub async fn reverted(
    ctx: &Ctx<'_>,
    author: Author,
    router: &Router,
    id: i64,
    undone: &[(usize, Result<(), String>)],
) -> Result<(), OpError> {
    let complete = undone.iter().all(|(_, r)| r.is_ok());
    let mut w = ctx.db.write(author, ctx.now).await?;
    if complete {
        store::network::mark_reverted(&w, id).await?;
    }
    let undone = serde_json::to_value(undone).map_err(|e| OpError::Internal(e.to_string()))?;
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(router.tenant_id)),
        action: "router.provision.revert",
        entity: "router",
        entity_id: Some(router.id),
        before: None,
        after: Some(
            serde_json::json!({ "provisioning": id, "undone": undone, "complete": complete }),
        ),
    })
    .await?;
    w.commit().await?;
    Ok(())
}
