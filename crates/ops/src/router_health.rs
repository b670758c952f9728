//! Routers' health, the operations' side (the checks run in the `router.health` job): a
//! check of one router now, on request ([`submit`]), and its last check as the caller may
//! see it ([`get`]).

use crate::Ctx;
use crate::error::OpError;
use domain::access::Actor;
use store::Author;
use store::job::Job;
use store::network::Health;

/// The job kind: every router when its payload names none, else the one it names.
pub const KIND: &str = "router.health";

/// Queues a check of router `id` now; one already queued or running is the answer.
pub async fn submit(ctx: &Ctx<'_>, actor: &Actor, author: Author, id: i64) -> Result<Job, OpError> {
    let router = crate::provision::provisionable(ctx, actor, id).await?;
    let key = format!("{KIND}:{}", router.id);
    let payload = serde_json::json!({ "router_id": router.id });
    crate::network::queue_router_job(ctx, author, &router, KIND, key, payload).await
}

/// The last check of router `id`, for those who see the router; none before its first.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Option<Health>, OpError> {
    let router = crate::network::get_router(ctx, actor, id).await?;
    Ok(store::network::health_of(ctx.db.conn(), router.id).await?)
}
