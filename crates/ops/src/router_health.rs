//! Routers' health, the operations' side (the checks run in the `router.health` job): a
//! check of one router now, on request ([`submit`]), and its last check as the caller may
//! see it ([`get`]).

use crate::Ctx;
use crate::error::OpError;
use domain::access::Actor;
use domain::ids::TenantId;
use store::Author;
use store::job::Job;
use store::network::Health;

/// The job kind: every router when its payload names none, else the one it names.
pub const KIND: &str = "router.health";

/// Queues a check of router `id` now; one already queued or running is the answer.
pub async fn submit(ctx: &Ctx<'_>, actor: &Actor, author: Author, id: i64) -> Result<Job, OpError> {
    let router = crate::provision::provisionable(ctx, actor, id).await?;
    let key = format!("{KIND}:{}", router.id);
    let mut w = ctx.db.write(author.clone(), ctx.now).await?;
    if let Some(running) = store::job::holder_of_dedupe_key(w.tx(), &key, ctx.now).await? {
        return Ok(running);
    }
    let job = w
        .enqueue(store::job::NewJob {
            kind: KIND,
            payload: serde_json::json!({ "router_id": router.id }),
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
        action: KIND,
        entity: "router",
        entity_id: Some(router.id),
        before: None,
        after: Some(serde_json::json!({ "job": job.0 })),
    })
    .await?;
    w.commit().await?;
    store::job::find(ctx.db, job)
        .await?
        .ok_or(OpError::NotFound)
}

/// The last check of router `id`, for those who see the router; none before its first.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Option<Health>, OpError> {
    let router = crate::network::get_router(ctx, actor, id).await?;
    Ok(store::network::health_of(ctx.db.conn(), router.id).await?)
}
