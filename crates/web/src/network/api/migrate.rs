//! `POST /api/v1/routers/{id}/migrate`: moving a router's PPP customers from its local
//! secrets to lastmile's RADIUS (`ops::router_migration`), queued as a job whose progress is
//! the batch in hand and whose result says what was taken, left and seen back; and
//! `POST /api/v1/routers/{id}/migrate/rollback`, enabling again the secrets the latest one
//! disabled.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::job::api::{JobOut, accepted};
use crate::state::AppState;
use domain::network::migration::Pace;
use ops::router_migration::MigrationRequest;

/// How the migration proceeds; each field has a default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrateBody {
    /// Customers online whose return through RADIUS is the test login (1 to 20; 3).
    canary: Option<u32>,
    /// Secrets disabled, and sessions dropped, per batch after the canary (1 to 1 000; 100).
    batch_size: Option<u32>,
    /// How long a batch's customers have to come back through RADIUS, seconds (5 to 600; 60).
    verify_seconds: Option<u32>,
    /// The share of a batch's dropped customers that must come back, percent (1 to 100; 80).
    min_reconnected_percent: Option<u32>,
}

/// Queues the router's migration to RADIUS; answers 202 with the job, whose progress and
/// result `GET /api/v1/jobs/{id}` gives. The router must send PPP logins to lastmile
/// (provision it first). Secrets of customers lastmile holds with the same password are
/// disabled batch by batch, their sessions dropped and their return through RADIUS awaited;
/// the canary is the test login. A batch that does not come back enables every secret again.
#[utoipa::path(post, path = "/routers/{id}/migrate", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = MigrateBody,
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn migrate_router(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<MigrateBody>,
) -> Result<Response, ApiError> {
    let default = Pace::default();
    let request = MigrationRequest {
        router_id: id,
        pace: Pace {
            canary: body.canary.unwrap_or(default.canary),
            batch_size: body.batch_size.unwrap_or(default.batch_size),
            verify_seconds: body.verify_seconds.unwrap_or(default.verify_seconds),
            min_reconnected_percent: body
                .min_reconnected_percent
                .unwrap_or(default.min_reconnected_percent),
        },
    };
    let job =
        ops::router_migration::submit(&state.ctx(), &caller.actor, caller.author, &request).await?;
    state.jobs_wake.notify_one();
    Ok(accepted(&job))
}

/// Queues the rollback of the router's latest migration: every secret it disabled is enabled
/// again; answers 202 with the job. Refused when there is none (`nothing_to_roll_back`).
#[utoipa::path(post, path = "/routers/{id}/migrate/rollback", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn rollback_migration(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let job =
        ops::router_migration::submit_rollback(&state.ctx(), &caller.actor, caller.author, id)
            .await?;
    state.jobs_wake.notify_one();
    Ok(accepted(&job))
}
