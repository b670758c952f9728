//! Network operations, shared by the API and the panel: routers (mirrored into FreeRADIUS's
//! `nas`), zones and IP pools. Everyone in a tenant reads them; those who run the tenant
//! change them (`domain::access::manage_network`).

use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor, network_scope, tenant_scope};
use domain::ids::TenantId;
use domain::network::Pool;
use store::Author;
use store::list::{Page, PageRequest};
use store::network::{IpPool, NetworkFilter, NewRouter, Router, RouterChanges, Zone};

/// The tenant a new record goes to: the actor's own, or the one it names (platform roles),
/// checked against what the actor may change.
pub async fn tenant_for_change(
    ctx: &Ctx<'_>,
    actor: &Actor,
    wanted: Option<TenantId>,
) -> Result<TenantId, OpError> {
    let id = match (wanted, actor.tenant_id) {
        (Some(id), _) => id,
        (None, Some(own)) => own,
        (None, None) => return Err(OpError::field("tenant_id", "required")),
    };
    let tenant = store::tenant::find(ctx.db.conn(), &tenant_scope(actor), id)
        .await?
        .ok_or_else(|| OpError::field("tenant_id", "not_found"))?;
    access::manage_network(actor, &store::tenant::facts(&tenant))?;
    Ok(id)
}

/// May `actor` change the network of the tenant a record belongs to?
pub async fn may_change(ctx: &Ctx<'_>, actor: &Actor, tenant: i64) -> Result<(), OpError> {
    let tenant = store::tenant::find(ctx.db.conn(), &tenant_scope(actor), TenantId(tenant))
        .await?
        .ok_or(OpError::NotFound)?;
    Ok(access::manage_network(
        actor,
        &store::tenant::facts(&tenant),
    )?)
}

/// A new random RADIUS shared secret (`domain::network::router::SECRET_CHARS`).
pub fn random_secret() -> String {
    use domain::network::router::{SECRET_CHARS, SECRET_LEN};
    store::crypto::random_text(SECRET_CHARS, SECRET_LEN)
}

/// The routers the caller sees.
pub async fn list_routers(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &NetworkFilter,
    page: &PageRequest,
) -> Result<Page<Router>, OpError> {
    Ok(store::network::list_routers(ctx.db.conn(), &network_scope(actor), filter, page).await?)
}

/// One router the caller sees.
pub async fn get_router(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Router, OpError> {
    store::network::find_router(ctx.db.conn(), &network_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)
}

/// Creates a router; its secret is the one given or a new random one.
pub async fn create_router(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    new: &NewRouter,
) -> Result<Router, OpError> {
    tenant_for_change(ctx, actor, Some(new.tenant_id)).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let router = store::network::create_router(&mut w, new).await?;
    w.commit().await?;
    Ok(router)
}

/// Changes a router, if it is still at `version`.
pub async fn update_router(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    version: i32,
    changes: &RouterChanges,
) -> Result<Router, OpError> {
    let router = get_router(ctx, actor, id).await?;
    may_change(ctx, actor, router.tenant_id).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let router =
        store::network::update_router(&mut w, &network_scope(actor), id, version, changes).await?;
    w.commit().await?;
    Ok(router)
}

/// Deletes (archives) a router.
pub async fn archive_router(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<Router, OpError> {
    let router = get_router(ctx, actor, id).await?;
    may_change(ctx, actor, router.tenant_id).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let router = store::network::archive_router(&mut w, &network_scope(actor), id).await?;
    w.commit().await?;
    Ok(router)
}

/// The job kind that reads the certificate a router's API-SSL presents.
pub const TLS_PROBE_KIND: &str = "router.tls_probe";

/// Queues a job reading the certificate fingerprint the router's API-SSL presents, so an
/// operator can compare it with `/certificate print` on the router and pin it. The probe
/// itself is network IO and runs in the job, never in the request. A probe of the router
/// already queued is the one returned.
pub async fn probe_router_tls(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<store::job::Job, OpError> {
    let router = get_router(ctx, actor, id).await?;
    may_change(ctx, actor, router.tenant_id).await?;
    if router.api_address.is_none() {
        return Err(OpError::field("api_address", "required"));
    }
    if !router.api_tls {
        return Err(OpError::field("api_tls", "required"));
    }
    let key = format!("{TLS_PROBE_KIND}:{id}");
    let mut w = ctx.db.write(author.clone(), ctx.now).await?;
    // A probe still queued or running is the answer; a finished one lets its key go.
    if let Some(running) = store::job::holder_of_dedupe_key(w.tx(), &key, ctx.now).await? {
        return Ok(running);
    }
    let job = w
        .enqueue(store::job::NewJob {
            kind: TLS_PROBE_KIND,
            payload: serde_json::json!({ "router_id": id }),
            run_at: ctx.now,
            dedupe_key: Some(key),
            max_attempts: 1,
            tenant_id: Some(TenantId(router.tenant_id)),
            created_by: author.user_id,
        })
        .await?
        .ok_or(OpError::Busy)?;
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(router.tenant_id)),
        action: TLS_PROBE_KIND,
        entity: "router",
        entity_id: Some(id),
        before: None,
        after: Some(serde_json::json!({ "job": job.0 })),
    })
    .await?;
    w.commit().await?;
    store::job::find(ctx.db, job)
        .await?
        .ok_or(OpError::NotFound)
}

/// Queues job `kind` about `router` with `payload` under dedupe key `key`, audited as
/// `kind` with the job and the request: the router operations' queuing. A job of that key
/// still queued or running is the answer instead.
pub(crate) async fn queue_router_job(
    ctx: &Ctx<'_>,
    author: Author,
    router: &Router,
    kind: &'static str,
    key: String,
    payload: serde_json::Value,
) -> Result<store::job::Job, OpError> {
    let job = crate::job::Once {
        tenant: TenantId(router.tenant_id),
        kind,
        key,
        payload,
        max_attempts: 1,
        entity: "router",
        entity_id: router.id,
    };
    crate::job::queue_once(ctx, author, job).await
}

/// The router's shared secret in clear (shown to those who may change the router).
pub async fn router_secret(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<String, OpError> {
    let router = get_router(ctx, actor, id).await?;
    may_change(ctx, actor, router.tenant_id).await?;
    let secret = ctx
        .db
        .keyring()
        .open_string(store::network::SECRET_CONTEXT, &router.secret)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    Ok(secret.to_string())
}

/// The zones the caller sees.
pub async fn list_zones(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &NetworkFilter,
    page: &PageRequest,
) -> Result<Page<Zone>, OpError> {
    Ok(store::network::list_zones(ctx.db.conn(), &network_scope(actor), filter, page).await?)
}

/// One zone the caller sees.
pub async fn get_zone(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Zone, OpError> {
    store::network::find_zone(ctx.db.conn(), &network_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)
}

/// A zone's parent: a zone of the same tenant the caller sees.
async fn parent_zone(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: TenantId,
    parent: Option<i64>,
) -> Result<Option<i64>, OpError> {
    match parent {
        None => Ok(None),
        Some(id) => {
            match store::network::find_zone(ctx.db.conn(), &network_scope(actor), id).await? {
                Some(zone) if zone.tenant_id == tenant.0 => Ok(Some(id)),
                _ => Err(OpError::field("parent_id", "not_found")),
            }
        }
    }
}

/// Creates a zone.
pub async fn create_zone(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    tenant: Option<TenantId>,
    name: &str,
    parent: Option<i64>,
) -> Result<Zone, OpError> {
    let tenant = tenant_for_change(ctx, actor, tenant).await?;
    let parent = parent_zone(ctx, actor, tenant, parent).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let zone = store::network::create_zone(&mut w, tenant, name, parent).await?;
    w.commit().await?;
    Ok(zone)
}

/// Renames or moves a zone.
pub async fn update_zone(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    version: i32,
    name: Option<&str>,
    parent: Option<Option<i64>>,
) -> Result<Zone, OpError> {
    let zone = get_zone(ctx, actor, id).await?;
    may_change(ctx, actor, zone.tenant_id).await?;
    let parent = match parent {
        Some(p) => Some(parent_zone(ctx, actor, TenantId(zone.tenant_id), p).await?),
        None => None,
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    let zone =
        store::network::update_zone(&mut w, &network_scope(actor), id, version, name, parent)
            .await?;
    w.commit().await?;
    Ok(zone)
}

/// Deletes (archives) a zone.
pub async fn archive_zone(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<Zone, OpError> {
    let zone = get_zone(ctx, actor, id).await?;
    may_change(ctx, actor, zone.tenant_id).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let zone = store::network::archive_zone(&mut w, &network_scope(actor), id).await?;
    w.commit().await?;
    Ok(zone)
}

/// The pools the caller sees, with how many addresses of each are allocated.
pub async fn list_pools(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &NetworkFilter,
    page: &PageRequest,
) -> Result<(Page<IpPool>, Vec<(i64, i64)>), OpError> {
    let pools =
        store::network::list_pools(ctx.db.conn(), &network_scope(actor), filter, page).await?;
    let ids: Vec<i64> = pools.items.iter().map(|p| p.id).collect();
    let used = store::network::used_counts(ctx.db.conn(), &ids).await?;
    Ok((pools, used))
}

/// One pool the caller sees, with its allocated count.
pub async fn get_pool(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<(IpPool, i64), OpError> {
    let pool = store::network::find_pool(ctx.db.conn(), &network_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)?;
    let used = store::network::used_counts(ctx.db.conn(), &[id])
        .await?
        .first()
        .map_or(0, |(_, n)| *n);
    Ok((pool, used))
}

/// Creates a pool.
pub async fn create_pool(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    tenant: Option<TenantId>,
    name: &str,
    ranges: &Pool,
) -> Result<IpPool, OpError> {
    let tenant = tenant_for_change(ctx, actor, tenant).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let pool = store::network::create_pool(&mut w, tenant, name, ranges).await?;
    w.commit().await?;
    Ok(pool)
}

/// Renames a pool or changes its ranges; customers whose address pool it is get their
/// projection rewritten (the pool's name is what RADIUS sends).
pub async fn update_pool(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    version: i32,
    name: Option<&str>,
    ranges: Option<&Pool>,
) -> Result<IpPool, OpError> {
    let (pool, _) = get_pool(ctx, actor, id).await?;
    may_change(ctx, actor, pool.tenant_id).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let pool =
        store::network::update_pool(&mut w, &network_scope(actor), id, version, name, ranges)
            .await?;
    if name.is_some() {
        let reach = store::customer::Reach::Pool { id };
        store::customer::rewrite_or_converge(
            &mut w,
            TenantId(pool.tenant_id),
            reach,
            "ip_pool.update",
        )
        .await?;
    }
    w.commit().await?;
    Ok(pool)
}

/// Deletes (archives) a pool nothing uses.
pub async fn archive_pool(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<IpPool, OpError> {
    let (pool, _) = get_pool(ctx, actor, id).await?;
    may_change(ctx, actor, pool.tenant_id).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let pool = store::network::archive_pool(&mut w, &network_scope(actor), id).await?;
    w.commit().await?;
    Ok(pool)
}
