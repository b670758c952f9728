//! The captive portals at the API (`ops::hotspot`): `/api/v1/hotspot-portals` lists the
//! portals of the routers the caller manages and sets one up (`POST`); `PUT /{id}` changes one
//! or switches it off (its key stays); `GET /{id}` gives one
//! with the pages to put on its router (`html-directory`), which carry the portal's key and
//! this installation's public address. The router can also fetch them itself from
//! `/hs/{key}/router/{page}` (RouterOS `/tool fetch`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::http::list::ListResponse;
use crate::http::path::Id;
use crate::state::AppState;
use ops::hotspot::PortalInput;
use store::hotspot::Portal;

/// The API routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_portals, create_portal))
        .routes(routes!(get_portal, update_portal))
}

/// A portal to set up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePortalBody {
    /// The router (one the caller may provision).
    pub router_id: i64,
    /// The hotspot package new accounts are made on (unpaid until recharged).
    pub package_id: i64,
    /// The hotspot package of a mobile's one trial; none: no trial.
    pub trial_package_id: Option<i64>,
    /// The reseller new accounts belong to; none: the tenant.
    pub owner_id: Option<i64>,
    /// Devices an account may bind (default 2, at most 10).
    pub max_devices: Option<i32>,
    /// Codes its phones may be sent in an hour, all together (default 60, at most 10 000).
    pub codes_per_hour: Option<i32>,
    /// Host names the router's login page may be on (its `dns-name`), besides private
    /// addresses.
    #[serde(default)]
    pub hosts: Vec<String>,
}

/// A portal's edit: every setting as a set-up gives it (its router and key stay), whether
/// it is on, and the version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePortalBody {
    /// The hotspot package new accounts are made on.
    pub package_id: i64,
    /// The hotspot package of a mobile's one trial; none: no trial.
    pub trial_package_id: Option<i64>,
    /// The reseller new accounts belong to; none: the tenant.
    pub owner_id: Option<i64>,
    /// Devices an account may bind (default 2, at most 10).
    pub max_devices: Option<i32>,
    /// Codes its phones may be sent in an hour, all together (default 60, at most 10 000).
    pub codes_per_hour: Option<i32>,
    /// Host names the router's login page may be on.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// On (the default); off, its visits are refused and provisioning leaves it out.
    #[serde(default = "on")]
    pub active: bool,
    /// The version read.
    pub version: i32,
}

fn on() -> bool {
    true
}

/// A page to put on the router.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouterPage {
    /// Its file name in the hotspot's `html-directory`.
    pub name: String,
    /// Where the router can fetch it.
    pub url: String,
    /// Its contents.
    pub contents: String,
}

/// A portal.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalOut {
    /// Its id.
    pub id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// Its router.
    pub router_id: i64,
    /// The key in its addresses (`/hs/<key>/…`).
    pub portal_key: String,
    /// The reseller new accounts belong to.
    pub owner_id: Option<i64>,
    /// The package new accounts are made on.
    pub package_id: i64,
    /// The trial's package.
    pub trial_package_id: Option<i64>,
    /// Devices an account may bind.
    pub max_devices: i32,
    /// Codes its phones may be sent in an hour.
    pub codes_per_hour: i32,
    /// Host names of the router's login page.
    pub hosts: Vec<String>,
    /// `active` or `disabled`.
    pub status: String,
    /// Its version, for an edit.
    pub version: i32,
    /// When it was set up.
    pub created_at: DateTime<Utc>,
    /// The pages to put on the router.
    pub router_pages: Vec<RouterPage>,
}

impl PortalOut {
    /// A portal as shown, its pages addressed to `public_url`.
    pub fn from_model(p: &Portal, public_url: &str) -> Self {
        let base = public_url.trim_end_matches('/');
        PortalOut {
            id: p.id,
            tenant_id: p.tenant_id,
            router_id: p.router_id,
            portal_key: p.portal_key.clone(),
            owner_id: p.owner_id,
            package_id: p.package_id,
            trial_package_id: p.trial_package_id,
            max_devices: p.max_devices,
            codes_per_hour: p.codes_per_hour,
            hosts: ops::hotspot::hosts_of(p),
            status: p.status.clone(),
            version: p.version,
            created_at: p.created_at,
            router_pages: domain::hotspot::router_pages(base, &p.portal_key)
                .into_iter()
                .map(|(name, contents)| RouterPage {
                    name: name.to_owned(),
                    url: format!("{base}/hs/{}/router/{name}", p.portal_key),
                    contents,
                })
                .collect(),
        }
    }
}

/// The portals of the routers the caller manages.
#[utoipa::path(get, path = "/hotspot-portals", tag = "hotspot", security(("bearer" = [])),
    responses((status = 200, body = ListResponse<PortalOut>)))]
async fn list_portals(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<ListResponse<PortalOut>>, ApiError> {
    let portals = ops::hotspot::portals(&state.ctx(), &caller.actor).await?;
    let items: Vec<PortalOut> = portals
        .iter()
        .map(|p| PortalOut::from_model(p, &state.settings.public_url))
        .collect();
    let total = u64::try_from(items.len()).unwrap_or(u64::MAX);
    Ok(Json(ListResponse {
        items,
        next_cursor: None,
        total,
        total_capped: false,
    }))
}

/// Sets up the captive portal of a router the caller may provision: the package and owner
/// of accounts made at the portal, the trial, the devices an account may bind.
#[utoipa::path(post, path = "/hotspot-portals", tag = "hotspot", security(("bearer" = [])), request_body = CreatePortalBody,
    responses((status = 201, body = PortalOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_portal(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreatePortalBody>,
) -> Result<Response, ApiError> {
    let input = PortalInput {
        router_id: body.router_id,
        package_id: body.package_id,
        trial_package_id: body.trial_package_id,
        owner_id: body.owner_id,
        max_devices: body.max_devices,
        codes_per_hour: body.codes_per_hour,
        hosts: body.hosts,
    };
    let portal =
        ops::hotspot::create_portal(&state.ctx(), &caller.actor, caller.author, &input).await?;
    let out = PortalOut::from_model(&portal, &state.settings.public_url);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// One portal, with the pages to put on its router.
#[utoipa::path(get, path = "/hotspot-portals/{id}", tag = "hotspot", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = PortalOut), (status = 404, body = ErrorBody)))]
async fn get_portal(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<PortalOut>, ApiError> {
    let portal = ops::hotspot::portal(&state.ctx(), &caller.actor, id).await?;
    Ok(Json(PortalOut::from_model(
        &portal,
        &state.settings.public_url,
    )))
}

/// Changes a portal of a router the caller may provision, or switches it off; its key, and
/// so the pages on its router, stay.
#[utoipa::path(put, path = "/hotspot-portals/{id}", tag = "hotspot", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = UpdatePortalBody,
    responses((status = 200, body = PortalOut), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_portal(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    JsonBody(body): JsonBody<UpdatePortalBody>,
) -> Result<Json<PortalOut>, ApiError> {
    let edit = ops::hotspot::PortalEdit {
        settings: PortalInput {
            router_id: 0,
            package_id: body.package_id,
            trial_package_id: body.trial_package_id,
            owner_id: body.owner_id,
            max_devices: body.max_devices,
            codes_per_hour: body.codes_per_hour,
            hosts: body.hosts,
        },
        active: body.active,
        version: body.version,
    };
    let portal =
        ops::hotspot::update_portal(&state.ctx(), &caller.actor, caller.author, id, &edit).await?;
    Ok(Json(PortalOut::from_model(
        &portal,
        &state.settings.public_url,
    )))
}
