//! Pushing lastmile's pools to a router (reference §2.13's profile push): the `/ip/pool`
//! that `Framed-Pool` names and a PPP profile per pool (`domain::network::provision::
//! pool_wants`), planned against the router and applied step by step with the rollback of
//! a failed step (`netops::provision`), as a job. The pools are those asked for, or every
//! pool a live package of the router's tenant gives addresses from.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::Ctx;
use crate::error::OpError;
use domain::access::Actor;
use domain::ids::TenantId;
use domain::network::Pool;
use domain::network::provision::Step;
use store::Author;
use store::job::Job;
use store::network::Router;

/// The job kind.
pub const KIND: &str = "router.pools";

/// Pools pushed at once at most.
pub const MAX_POOLS: usize = 1_000;

/// What a push does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The router.
    pub router_id: i64,
    /// The pools (of the router's tenant); none: every pool a live package gives addresses
    /// from.
    pub pool_ids: Option<Vec<i64>>,
    /// The router's own end of each PPP link, if set in the profiles.
    pub gateway: Option<Ipv4Addr>,
    /// Only plan: write nothing.
    pub dry_run: bool,
}

/// Queues a push (or its plan) to the router `request` names; one operation per router at a
/// time.
pub async fn submit(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    request: &PushRequest,
) -> Result<Job, OpError> {
    let router = crate::provision::provisionable(ctx, actor, request.router_id).await?;
    if let Some(ids) = &request.pool_ids {
        if ids.is_empty() || ids.len() > MAX_POOLS {
            return Err(OpError::Invalid(domain::field::FieldErrors::one(
                domain::field::FieldError::new("pool_ids", "too_many_items").with("max", MAX_POOLS),
            )));
        }
        let of_tenant: HashSet<i64> =
            store::network::tenant_pools(ctx.db.conn(), TenantId(router.tenant_id))
                .await?
                .iter()
                .map(|p| p.id)
                .collect();
        if ids.iter().any(|id| !of_tenant.contains(id)) {
            return Err(OpError::field("pool_ids", "not_found"));
        }
    }
    if let Some(gateway) = request.gateway
        && (gateway.is_unspecified() || gateway.is_broadcast() || gateway.is_multicast())
    {
        return Err(OpError::field("gateway", "invalid_ip"));
    }
    let payload = serde_json::to_value(request).map_err(|e| OpError::Internal(e.to_string()))?;
    let key = format!("{}:{}", crate::provision::KIND, router.id);
    crate::network::queue_router_job(ctx, author, &router, KIND, key, payload).await
}

/// The pools `request` pushes to `router`, by name with their ranges.
pub async fn pools(
    ctx: &Ctx<'_>,
    router: &Router,
    request: &PushRequest,
) -> Result<Vec<(String, Pool)>, OpError> {
    let tenant = TenantId(router.tenant_id);
    let all = store::network::tenant_pools(ctx.db.conn(), tenant).await?;
    let wanted: HashSet<i64> = match &request.pool_ids {
        Some(ids) => ids.iter().copied().collect(),
        None => store::package::pools_in_use(ctx.db.conn(), tenant)
            .await?
            .into_iter()
            .collect(),
    };
    let mut out = Vec::new();
    for pool in all.iter().filter(|p| wanted.contains(&p.id)) {
        out.push((pool.name.clone(), store::network::pool_ranges(pool)?));
    }
    Ok(out)
}

/// Records in the audit log what a push to `router` changed (the steps applied) and, when a
/// step failed, what was undone.
pub async fn record(
    ctx: &Ctx<'_>,
    author: Author,
    router: &Router,
    steps: &[Step],
    outcome: serde_json::Value,
) -> Result<(), OpError> {
    let mut w = ctx.db.write(author, ctx.now).await?;
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(router.tenant_id)),
        action: "router.pools.apply",
        entity: "router",
        entity_id: Some(router.id),
        before: None,
        after: Some(serde_json::json!({ "steps": steps, "outcome": outcome })),
    })
    .await?;
    w.commit().await?;
    Ok(())
}
