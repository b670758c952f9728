//! Background jobs as their askers see them: the list and one job, each in the caller's
//! scope (`domain::access::job_scope`). What a job does is its kind's module
//! (`customer::import_job`); the workers that run them are the binary's. Also [`queue_once`],
//! the queuing an operation on a router or on many customers shares: one of its kind at a
//! time, audited.

use crate::Ctx;
use crate::error::OpError;
use domain::access::{Actor, job_scope};
use domain::ids::{JobId, TenantId};
use store::Author;
use store::job::{Job, JobFilter};
use store::list::{Page, PageRequest};

/// The jobs the caller sees.
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &JobFilter,
    page: &PageRequest,
) -> Result<Page<Job>, OpError> {
    Ok(store::job::list(ctx.db.conn(), &job_scope(actor), filter, page).await?)
}

/// One job the caller sees.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: JobId) -> Result<Job, OpError> {
    store::job::find_scoped(ctx.db.conn(), &job_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)
}

/// A job an operation queues once: while one of its key is queued or running, that one is
/// the answer.
pub(crate) struct Once {
    /// The tenant it works in.
    pub tenant: TenantId,
    /// Its kind, also the audit entry's action.
    pub kind: &'static str,
    /// Its dedupe key.
    pub key: String,
    /// What it was asked.
    pub payload: serde_json::Value,
    /// Attempts it gets.
    pub max_attempts: i32,
    /// The record it is about, for the audit entry.
    pub entity: &'static str,
    /// That record's id.
    pub entity_id: i64,
}

/// Queues `job` unless one of its key is queued or running (that one is the answer), with
/// an audit entry naming the job and what it was asked.
pub(crate) async fn queue_once(ctx: &Ctx<'_>, author: Author, job: Once) -> Result<Job, OpError> {
    let mut w = ctx.db.write(author.clone(), ctx.now).await?;
    if let Some(running) = store::job::holder_of_dedupe_key(w.tx(), &job.key, ctx.now).await? {
        return Ok(running);
    }
    let queued = w
        .enqueue(store::job::NewJob {
            kind: job.kind,
            payload: job.payload.clone(),
            run_at: ctx.now,
            dedupe_key: Some(job.key),
            max_attempts: job.max_attempts,
            tenant_id: Some(job.tenant),
            created_by: author.user_id,
        })
        .await?
        .ok_or(OpError::Busy)?;
    w.audit(store::AuditEntry {
        tenant_id: Some(job.tenant),
        action: job.kind,
        entity: job.entity,
        entity_id: Some(job.entity_id),
        before: None,
        after: Some(serde_json::json!({ "job": queued.0, "request": job.payload })),
    })
    .await?;
    w.commit().await?;
    store::job::find(ctx.db, queued)
        .await?
        .ok_or(OpError::NotFound)
}
