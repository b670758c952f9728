//! Background jobs as their askers see them: the list and one job, each in the caller's
//! scope (`domain::access::job_scope`). What a job does is its kind's module
//! (`customer::import_job`); the workers that run them are the binary's.

use crate::Ctx;
use crate::error::OpError;
use domain::access::{Actor, job_scope};
use domain::ids::JobId;
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
