//! `GET /api/v1/audit`: the audit log, filterable by actor, record, action and time.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::list::{ListResponse, page_request};
use crate::http::query::Query;
use crate::state::AppState;
use domain::ids::{AuditId, TenantId, UserId};
use store::audit::{AuditFilter, Entry, LIST};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// An audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    id: AuditId,
    at: DateTime<Utc>,
    tenant_id: Option<TenantId>,
    /// The user who made the change (absent for the system).
    actor_id: Option<UserId>,
    /// The actor's e-mail at the time, or `system:…`.
    actor_label: String,
    /// `area.verb`, e.g. `user.create`.
    action: String,
    /// The kind of record: `tenant`, `user`, …
    entity: String,
    entity_id: Option<i64>,
    /// The record before the change (secrets left out).
    #[schema(value_type = Option<Object>)]
    before: Option<serde_json::Value>,
    /// The record after the change (secrets left out).
    #[schema(value_type = Option<Object>)]
    after: Option<serde_json::Value>,
    /// The client's address.
    ip: Option<String>,
}

impl AuditOut {
    /// The API view of a stored entry.
    pub fn from_model(e: &Entry) -> Self {
        let parse =
            |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str(t).ok());
        Self {
            id: AuditId(e.id),
            at: e.at,
            tenant_id: e.tenant_id.map(TenantId),
            actor_id: e.actor_id.map(UserId),
            actor_label: e.actor_label.clone(),
            action: e.action.clone(),
            entity: e.entity.clone(),
            entity_id: e.entity_id,
            before: parse(&e.before),
            after: parse(&e.after),
            ip: e.ip.clone(),
        }
    }
}

/// Filters and paging of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries by this user.
    actor_id: Option<i64>,
    /// Entries about this kind of record.
    entity: Option<String>,
    /// Entries about this record.
    entity_id: Option<i64>,
    /// Entries of this action.
    action: Option<String>,
    /// Entries of this tenant.
    tenant_id: Option<i64>,
    /// Entries at or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Entries before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// `-id` (default, newest first) or `id`.
    sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Lists the audit entries the caller may read.
#[utoipa::path(get, path = "/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = ListResponse<AuditOut>), (status = 422, body = ErrorBody)))]
async fn list_audit(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<AuditQuery>,
) -> Result<Json<ListResponse<AuditOut>>, ApiError> {
    let page = page_request(
        &LIST,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let filter = AuditFilter {
        actor_id: query.actor_id.map(UserId),
        entity: query.entity,
        entity_id: query.entity_id,
        action: query.action,
        tenant_id: query.tenant_id.map(TenantId),
        from: query.from,
        to: query.to,
    };
    let entries = ops::audit::list(&state.ctx(), &caller.actor, &filter, &page).await?;
    Ok(Json(ListResponse::from_page(entries, |e| {
        AuditOut::from_model(&e)
    })))
}
