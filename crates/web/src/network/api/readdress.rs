//! `POST /api/v1/ip-pools/{id}/migrate`: every customer of a pool moved to another pool, and
//! `POST /api/v1/packages/{id}/allocation`: a package's customers switched between static
//! and dynamic addresses (`ops::readdress`). Both are jobs; the capacity is checked first.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::job::api::{JobOut, accepted};
use crate::state::AppState;
use ops::readdress::Allocation;

/// Where the pool's customers go.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolMoveBody {
    /// Another pool of the same tenant.
    to_pool_id: i64,
}

/// Queues moving every customer of the pool to another pool: those with a static address
/// get one from the new pool, the packages giving addresses from this pool give them from
/// the new one, and their live sessions end so they reconnect with the new address.
/// Answers 202 with the job; 422 `pool_too_small` (with `needed` and `free`) when the new
/// pool cannot hold the static ones.
#[utoipa::path(post, path = "/ip-pools/{id}/migrate", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PoolMoveBody,
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn migrate_pool(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<PoolMoveBody>,
) -> Result<Response, ApiError> {
    let job = ops::readdress::submit_pool_move(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        body.to_pool_id,
    )
    .await?;
    state.jobs_wake.notify_one();
    Ok(accepted(&job))
}

/// How the package's customers get their addresses.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationBody {
    /// `static`: each its own address from the package's pool; `dynamic`: the router's
    /// choice from the pool at each login.
    #[schema(value_type = String)]
    mode: Allocation,
}

/// Queues switching the customers of a master package (and of the operators' packages
/// under it) to static or dynamic addresses from its pool; their live sessions end so they
/// reconnect with the new address. Answers 202 with the job; 422 `pool_too_small` when the
/// pool cannot give every customer an address.
#[utoipa::path(post, path = "/packages/{id}/allocation", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AllocationBody,
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn switch_allocation(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<AllocationBody>,
) -> Result<Response, ApiError> {
    let job = ops::readdress::submit_allocation(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        body.mode,
    )
    .await?;
    state.jobs_wake.notify_one();
    Ok(accepted(&job))
}
