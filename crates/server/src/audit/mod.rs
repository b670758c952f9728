//! The audit log, read side: what the caller may read (its scope), filtered.

pub mod api;
pub mod panel;

use crate::app::AppState;
use crate::error::OpError;
use domain::access::{Actor, audit_scope};
use store::audit::{AuditFilter, Entry};
use store::list::{Page, PageRequest};

/// The audit entries the caller may read.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: &AuditFilter,
    page: &PageRequest,
) -> Result<Page<Entry>, OpError> {
    Ok(store::audit::list(state.db.conn(), &audit_scope(actor), filter, page).await?)
}
