//! `GET /api/v1/routers/{id}/health` (the router's last check: when it was checked and last
//! answered, version, identity, uptime, CPU, lastmile's RADIUS entry and drift from the kept
//! provisioning) and `POST /api/v1/routers/{id}/health` (check it now, as a job).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::job::api::{JobOut, accepted};
use crate::state::AppState;

/// A router's last health check.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthOut {
    router_id: i64,
    /// When it was checked.
    checked_at: DateTime<Utc>,
    /// When its API last answered.
    seen_at: Option<DateTime<Utc>>,
    /// RouterOS version.
    version: Option<String>,
    /// `/system identity`.
    identity: Option<String>,
    /// Uptime as RouterOS prints it.
    uptime: Option<String>,
    /// CPU load, percent.
    cpu_load: Option<i32>,
    /// Whether lastmile's RADIUS entry is there and right (absent: never provisioned).
    radius_ok: Option<bool>,
    /// The steps that would bring it back to its kept provisioning, when it drifted.
    #[schema(value_type = Option<Vec<Object>>)]
    drift: Option<Value>,
    /// Why the check failed.
    error: Option<String>,
}

/// The router's last health check (404 before its first).
#[utoipa::path(get, path = "/routers/{id}/health", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = HealthOut), (status = 404, body = ErrorBody)))]
pub(super) async fn router_health(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<HealthOut>, ApiError> {
    let health = ops::router_health::get(&state.ctx(), &caller.actor, id)
        .await?
        .ok_or(ops::OpError::NotFound)?;
    Ok(Json(HealthOut {
        router_id: health.router_id,
        checked_at: health.checked_at,
        seen_at: health.seen_at,
        version: health.version,
        identity: health.identity,
        uptime: health.uptime,
        cpu_load: health.cpu_load,
        radius_ok: health.radius_ok,
        drift: health.drift.and_then(|d| serde_json::from_str(&d).ok()),
        error: health.error,
    }))
}

/// Checks the router now; answers 202 with the job.
#[utoipa::path(post, path = "/routers/{id}/health", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn check_router(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let job = ops::router_health::submit(&state.ctx(), &caller.actor, caller.author, id).await?;
    state.jobs_wake.notify_one();
    Ok(accepted(&job))
}
