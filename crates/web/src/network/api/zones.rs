//! `/api/v1/zones`: the tenant's areas, a tree, grouping customers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{NetworkQuery, double_option, zone_name};
use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::http::list::{ListResponse, page_request};
use crate::http::path::Id;
use crate::http::query::Query;
use crate::http::version::{IfMatch, with_etag};
use crate::state::AppState;
use domain::ids::TenantId;
use store::network::{ZONES, Zone};

/// The routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_zones, create_zone))
        .routes(routes!(get_zone, update_zone, delete_zone))
}

/// A zone: an area of the tenant, used to group customers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneOut {
    id: i64,
    tenant_id: TenantId,
    name: String,
    parent_id: Option<i64>,
    version: i32,
}

impl ZoneOut {
    /// The API view of a stored zone.
    pub fn from_model(z: &Zone) -> Self {
        Self {
            id: z.id,
            tenant_id: TenantId(z.tenant_id),
            name: z.name.clone(),
            parent_id: z.parent_id,
            version: z.version,
        }
    }
}

/// A new zone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateZoneBody {
    tenant_id: Option<i64>,
    name: String,
    parent_id: Option<i64>,
}

/// Changes to a zone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateZoneBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    parent_id: Option<Option<i64>>,
    version: Option<i32>,
}

/// Lists the zones the caller sees.
#[utoipa::path(get, path = "/zones", tag = "network", security(("bearer" = [])), params(NetworkQuery),
    responses((status = 200, body = ListResponse<ZoneOut>)))]
async fn list_zones(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<NetworkQuery>,
) -> Result<Json<ListResponse<ZoneOut>>, ApiError> {
    let page = page_request(
        &ZONES,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let zones =
        ops::network::list_zones(&state.ctx(), &caller.actor, &query.filter(), &page).await?;
    Ok(Json(ListResponse::from_page(zones, |z| {
        ZoneOut::from_model(&z)
    })))
}

/// Creates a zone.
#[utoipa::path(post, path = "/zones", tag = "network", security(("bearer" = [])), request_body = CreateZoneBody,
    responses((status = 201, body = ZoneOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_zone(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreateZoneBody>,
) -> Result<Response, ApiError> {
    let name = zone_name(&body.name)?;
    let zone = ops::network::create_zone(
        &state.ctx(),
        &caller.actor,
        caller.author,
        body.tenant_id.map(TenantId),
        &name,
        body.parent_id,
    )
    .await?;
    Ok(with_etag(
        zone.version,
        (StatusCode::CREATED, Json(ZoneOut::from_model(&zone))),
    ))
}

/// One zone.
#[utoipa::path(get, path = "/zones/{id}", tag = "network", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ZoneOut), (status = 404, body = ErrorBody)))]
async fn get_zone(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let zone = ops::network::get_zone(&state.ctx(), &caller.actor, id).await?;
    Ok(with_etag(zone.version, Json(ZoneOut::from_model(&zone))))
}

/// Renames or moves a zone.
#[utoipa::path(patch, path = "/zones/{id}", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = UpdateZoneBody,
    responses((status = 200, body = ZoneOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_zone(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<UpdateZoneBody>,
) -> Result<Response, ApiError> {
    let name = body.name.as_deref().map(zone_name).transpose()?;
    let version = if_match.resolve(body.version)?;
    let zone = ops::network::update_zone(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        version,
        name.as_deref(),
        body.parent_id,
    )
    .await?;
    Ok(with_etag(zone.version, Json(ZoneOut::from_model(&zone))))
}

/// Deletes (archives) a zone; its customers and child zones stay, ungrouped or moved up.
#[utoipa::path(delete, path = "/zones/{id}", tag = "network", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_zone(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    ops::network::archive_zone(&state.ctx(), &caller.actor, caller.author, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
