//! The audit log, read side: what the caller may read (its scope), filtered.

use crate::Ctx;
use crate::error::OpError;
use domain::access::{Actor, audit_scope};
use store::audit::{AuditFilter, Entry};
use store::list::{Page, PageRequest};

/// The audit entries the caller may read.
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &AuditFilter,
    page: &PageRequest,
) -> Result<Page<Entry>, OpError> {
    Ok(store::audit::list(ctx.db.conn(), &audit_scope(actor), filter, page).await?)
}
