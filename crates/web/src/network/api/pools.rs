//! `/api/v1/ip-pools`: IP pools, stored exactly as their ranges.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::NetworkQuery;
use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::http::list::{ListResponse, page_request};
use crate::http::path::Id;
use crate::http::query::Query;
use crate::http::version::{IfMatch, with_etag};
use crate::state::AppState;
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use domain::network::{Pool, router as rules};
use store::network::{IpPool, POOLS};

/// The routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_pools, create_pool))
        .routes(routes!(get_pool, update_pool, delete_pool))
}

/// An IP pool, stored exactly as its ranges.
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolOut {
    id: i64,
    tenant_id: TenantId,
    /// The name RADIUS sends as `Framed-Pool` (the router's pool of the same name).
    name: String,
    /// Canonical ranges: `10.0.0.1-10.0.0.254,10.0.1.5`.
    ranges: String,
    /// The exact CIDR blocks the ranges cover.
    blocks: Vec<String>,
    /// Addresses in the pool.
    capacity: i64,
    /// Addresses allocated to customers as static addresses.
    used: i64,
    version: i32,
}

impl PoolOut {
    /// The API view of a stored pool.
    pub fn from_model(p: &IpPool, used: i64) -> Self {
        let blocks = Pool::parse(&p.ranges)
            .map(|pool| pool.blocks().iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        Self {
            id: p.id,
            tenant_id: TenantId(p.tenant_id),
            name: p.name.clone(),
            ranges: p.ranges.clone(),
            blocks,
            capacity: p.capacity,
            used,
            version: p.version,
        }
    }
}

/// A new pool.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePoolBody {
    tenant_id: Option<i64>,
    /// 1 to 64 of `A-Z a-z 0-9 _ - .` (the router's pool name).
    name: String,
    /// `10.0.0.1-10.0.0.254`, `10.0.1.0/24`, or a comma list of either.
    ranges: String,
}

/// Changes to a pool.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePoolBody {
    name: Option<String>,
    ranges: Option<String>,
    version: Option<i32>,
}

fn pool_ranges(raw: &str) -> Result<Pool, FieldError> {
    Pool::parse(raw).map_err(|e| FieldError::new("ranges", "invalid_ranges").with("reason", e))
}

/// Lists the pools the caller sees.
#[utoipa::path(get, path = "/ip-pools", tag = "network", security(("bearer" = [])), params(NetworkQuery),
    responses((status = 200, body = ListResponse<PoolOut>)))]
async fn list_pools(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<NetworkQuery>,
) -> Result<Json<ListResponse<PoolOut>>, ApiError> {
    let page = page_request(
        &POOLS,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let (pools, used) =
        ops::network::list_pools(&state.ctx(), &caller.actor, &query.filter(), &page).await?;
    let used_of = |id: i64| used.iter().find(|(p, _)| *p == id).map_or(0, |(_, n)| *n);
    Ok(Json(ListResponse::from_page(pools, |p| {
        PoolOut::from_model(&p, used_of(p.id))
    })))
}

/// Creates a pool; ranges overlapping another pool of the tenant are refused.
#[utoipa::path(post, path = "/ip-pools", tag = "network", security(("bearer" = [])), request_body = CreatePoolBody,
    responses((status = 201, body = PoolOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_pool(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreatePoolBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::new();
    let name = errors.take(rules::parse_object_name("name", &body.name));
    let ranges = errors.take(pool_ranges(&body.ranges));
    let (Some(name), Some(ranges)) = (name, ranges) else {
        return Err(ApiError::invalid(&errors));
    };
    let pool = ops::network::create_pool(
        &state.ctx(),
        &caller.actor,
        caller.author,
        body.tenant_id.map(TenantId),
        &name,
        &ranges,
    )
    .await?;
    Ok(with_etag(
        pool.version,
        (StatusCode::CREATED, Json(PoolOut::from_model(&pool, 0))),
    ))
}

/// One pool.
#[utoipa::path(get, path = "/ip-pools/{id}", tag = "network", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = PoolOut), (status = 404, body = ErrorBody)))]
async fn get_pool(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let (pool, used) = ops::network::get_pool(&state.ctx(), &caller.actor, id).await?;
    Ok(with_etag(
        pool.version,
        Json(PoolOut::from_model(&pool, used)),
    ))
}

/// Renames a pool or changes its ranges (allocated addresses must stay inside).
#[utoipa::path(patch, path = "/ip-pools/{id}", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = UpdatePoolBody,
    responses((status = 200, body = PoolOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_pool(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<UpdatePoolBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::new();
    let name = body
        .name
        .as_deref()
        .and_then(|n| errors.take(rules::parse_object_name("name", n)));
    let ranges = body
        .ranges
        .as_deref()
        .and_then(|r| errors.take(pool_ranges(r)));
    if !errors.is_empty() {
        return Err(ApiError::invalid(&errors));
    }
    let version = if_match.resolve(body.version)?;
    let pool = ops::network::update_pool(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        version,
        name.as_deref(),
        ranges.as_ref(),
    )
    .await?;
    let (_, used) = ops::network::get_pool(&state.ctx(), &caller.actor, id).await?;
    Ok(with_etag(
        pool.version,
        Json(PoolOut::from_model(&pool, used)),
    ))
}

/// Deletes (archives) a pool no package uses and with no allocation.
#[utoipa::path(delete, path = "/ip-pools/{id}", tag = "network", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn delete_pool(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    ops::network::archive_pool(&state.ctx(), &caller.actor, caller.author, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
