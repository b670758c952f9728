//! Router-to-RADIUS migration, the operations' side (the batches are
//! `domain::network::migration`'s, the router work `netops::migrate`'s): queuing the job
//! ([`submit`]), which of the router's secrets lastmile holds ([`held`]), the record of a
//! migration ([`begin`], [`finish`]: begun before the router is touched, its disabled
//! secrets noted as it goes, audited when it ends), and rolling the latest one back on
//! request ([`submit_rollback`], [`to_revert`], [`reverted`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::Ctx;
use crate::error::OpError;
use domain::access::Actor;
use domain::ids::TenantId;
use domain::network::migration::{Held, Pace};
use store::Author;
use store::job::Job;
use store::network::Router;

/// The job kind.
pub const KIND: &str = "router.migrate";
/// The job kind of a rollback on request.
pub const ROLLBACK_KIND: &str = "router.migrate.rollback";

/// What a migration job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationRequest {
    /// The router.
    pub router_id: i64,
    /// How it proceeds.
    #[serde(flatten)]
    pub pace: Pace,
}

/// The key one operation per router at a time shares (provisioning's).
fn key(router: &Router) -> String {
    format!("{}:{}", crate::provision::KIND, router.id)
}

/// Queues the migration of the router `request` names; one operation per router at a time:
/// one already queued or running is the answer.
pub async fn submit(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    request: &MigrationRequest,
) -> Result<Job, OpError> {
    let router = crate::provision::provisionable(ctx, actor, request.router_id).await?;
    request.pace.check().map_err(OpError::Invalid)?;
    let payload = serde_json::to_value(request).map_err(|e| OpError::Internal(e.to_string()))?;
    crate::network::queue_router_job(ctx, author, &router, KIND, key(&router), payload).await
}

/// What lastmile holds of the user names `names` (any case) in `router`'s tenant: by name
/// in lower case, the customer and its password.
pub async fn held(
    ctx: &Ctx<'_>,
    router: &Router,
    names: &[String],
) -> Result<HashMap<String, Held>, OpError> {
    let keys: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let holders = store::customer::name_holders(ctx.db.conn(), &keys).await?;
    let ids: Vec<i64> = holders
        .iter()
        .filter(|(_, _, tenant, _)| *tenant == router.tenant_id)
        .map(|(_, id, _, _)| *id)
        .collect();
    let customers = store::customer::find_live_many(ctx.db.conn(), &ids).await?;
    let mut out = HashMap::with_capacity(customers.len());
    for c in customers {
        let password = store::customer::password(ctx.db.keyring(), &c)
            .map_err(|e| OpError::Internal(e.to_string()))?;
        out.insert(
            c.username_key.clone(),
            Held {
                customer_id: c.id,
                password: password.to_string(),
            },
        );
    }
    Ok(out)
}

/// Records that a migration of `router` begins (audited); its id, under which the secrets
/// it disables are noted as it goes (`store::network::note_disabled`).
pub async fn begin(
    ctx: &Ctx<'_>,
    author: Author,
    router: &Router,
    request: &MigrationRequest,
    planned: serde_json::Value,
) -> Result<i64, OpError> {
    let tenant = TenantId(router.tenant_id);
    let request = serde_json::to_value(request).map_err(|e| OpError::Internal(e.to_string()))?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let id = store::network::begin_migration(&w, tenant, router.id, &request).await?;
    w.audit(store::AuditEntry {
        tenant_id: Some(tenant),
        action: "router.migrate.begin",
        entity: "router",
        entity_id: Some(router.id),
        before: None,
        after: Some(serde_json::json!({ "migration": id, "planned": planned })),
    })
    .await?;
    w.commit().await?;
    Ok(id)
}

/// Records how migration `id` of `router` ended (`outcome`, audited); when it failed and
/// every secret it disabled was enabled again, it is marked rolled back too.
pub async fn finish(
    ctx: &Ctx<'_>,
    author: Author,
    router: &Router,
    id: i64,
    done: bool,
    rolled_back: bool,
    outcome: serde_json::Value,
) -> Result<(), OpError> {
    let mut w = ctx.db.write(author, ctx.now).await?;
    store::network::finish_migration(&w, id, if done { "done" } else { "failed" }).await?;
    if rolled_back {
        store::network::mark_migration_reverted(&w, id).await?;
    }
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(router.tenant_id)),
        action: "router.migrate",
        entity: "router",
        entity_id: Some(router.id),
        before: None,
        after: Some(serde_json::json!({ "migration": id, "outcome": outcome })),
    })
    .await?;
    w.commit().await?;
    Ok(())
}

/// Queues the rollback of the latest migration of router `id` not rolled back: the secrets
/// it disabled are enabled again. Refused when there is none.
pub async fn submit_rollback(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<Job, OpError> {
    let router = crate::provision::provisionable(ctx, actor, id).await?;
    let Some(latest) = store::network::latest_migration(ctx.db.conn(), router.id).await? else {
        return Err(OpError::field("router", "no_migration_to_roll_back"));
    };
    let payload = serde_json::json!({ "router_id": router.id, "migration_id": latest.id });
    crate::network::queue_router_job(ctx, author, &router, ROLLBACK_KIND, key(&router), payload)
        .await
}

/// The secrets migration `id` of `router` disabled, if it is the latest not rolled back.
pub async fn to_revert(ctx: &Ctx<'_>, router: &Router, id: i64) -> Result<Vec<String>, OpError> {
    let latest = store::network::latest_migration(ctx.db.conn(), router.id)
        .await?
        .filter(|m| m.id == id)
        .ok_or_else(|| OpError::field("router", "no_migration_to_roll_back"))?;
    Ok(store::network::disabled_names(&latest))
}

/// Records that migration `id` of `router` was rolled back: `enabled` secrets enabled again.
pub async fn reverted(
    ctx: &Ctx<'_>,
    author: Author,
    router: &Router,
    id: i64,
    enabled: usize,
) -> Result<(), OpError> {
    let mut w = ctx.db.write(author, ctx.now).await?;
    store::network::mark_migration_reverted(&w, id).await?;
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(router.tenant_id)),
        action: "router.migrate.revert",
        entity: "router",
        entity_id: Some(router.id),
        before: None,
        after: Some(serde_json::json!({ "migration": id, "enabled": enabled })),
    })
    .await?;
    w.commit().await?;
    Ok(())
}
