//! `/api/v1/routers`: routers (NAS) with their RADIUS secret, shown once, and their
//! RouterOS API access.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{NetworkQuery, double_option, notes, time_zone};
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
use domain::network::router as rules;
use domain::network::router::TlsTrust;
use store::network::{NewRouter, ROUTERS, Router, RouterChanges};

/// The routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_routers, create_router))
        .routes(routes!(get_router, update_router, delete_router))
}

/// A router (NAS). Its secrets are never shown after creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouterOut {
    id: i64,
    tenant_id: TenantId,
    name: String,
    /// The address it sends RADIUS from (unique on the installation).
    nas_address: String,
    api_address: Option<String>,
    api_port: i32,
    api_user: Option<String>,
    /// True when an API password is stored (sealed).
    api_password_set: bool,
    api_tls: bool,
    /// How the API-SSL certificate is trusted: `system` (the host's trust store), `pinned`
    /// (`api_tls_fingerprint`) or `ca` (the stored CA).
    api_tls_trust: String,
    /// The pinned SHA-256 fingerprint, 64 hex digits.
    api_tls_fingerprint: Option<String>,
    /// True when a CA is stored for the trust.
    api_tls_ca_set: bool,
    time_zone: Option<String>,
    notes: String,
    /// The built-in server refuses its Access-Requests without a Message-Authenticator.
    require_message_authenticator: bool,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl RouterOut {
    /// The API view of a stored router.
    pub fn from_model(r: &Router) -> Self {
        Self {
            id: r.id,
            tenant_id: TenantId(r.tenant_id),
            name: r.name.clone(),
            nas_address: r.nas_address.clone(),
            api_address: r.api_address.clone(),
            api_port: r.api_port,
            api_user: r.api_user.clone(),
            api_password_set: r.api_password.is_some(),
            api_tls: r.api_tls,
            api_tls_trust: r.api_tls_trust.clone(),
            api_tls_fingerprint: r.api_tls_fingerprint.clone(),
            api_tls_ca_set: r.api_tls_ca.is_some(),
            time_zone: r.time_zone.clone(),
            notes: r.notes.clone(),
            require_message_authenticator: r.require_message_authenticator,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A router just created, with its RADIUS secret (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedRouter {
    #[serde(flatten)]
    router: RouterOut,
    /// The RADIUS shared secret: given, or generated when left out. Shown only now.
    secret: String,
}

/// A new router.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRouterBody {
    /// Required for Developer and Super Admin; others create in their own tenant.
    tenant_id: Option<i64>,
    name: String,
    nas_address: String,
    /// Left out: a random one is made and returned once.
    secret: Option<String>,
    api_address: Option<String>,
    /// Default 8728 (8729 with `api_tls`).
    api_port: Option<i64>,
    api_user: Option<String>,
    api_password: Option<String>,
    #[serde(default)]
    api_tls: bool,
    /// `system` (default: the host's trust store), `pinned` or `ca`.
    api_tls_trust: Option<String>,
    /// With `pinned`: the certificate's SHA-256 fingerprint (as `lastmile router check`
    /// or the router's `/certificate print` shows it).
    api_tls_fingerprint: Option<String>,
    /// With `ca`: the ISP's CA certificate, PEM.
    api_tls_ca: Option<String>,
    time_zone: Option<String>,
    #[serde(default)]
    notes: String,
    /// Refuse Access-Requests without a Message-Authenticator (default true; turn off only
    /// for a NAS too old to send one).
    require_message_authenticator: Option<bool>,
}

/// Changes to a router; absent fields stay, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRouterBody {
    name: Option<String>,
    nas_address: Option<String>,
    secret: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    api_address: Option<Option<String>>,
    api_port: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    api_user: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    api_password: Option<Option<String>>,
    api_tls: Option<bool>,
    /// `system`, `pinned` (with `api_tls_fingerprint`) or `ca` (with `api_tls_ca`).
    api_tls_trust: Option<String>,
    api_tls_fingerprint: Option<String>,
    api_tls_ca: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    time_zone: Option<Option<String>>,
    notes: Option<String>,
    require_message_authenticator: Option<bool>,
    version: Option<i32>,
}

/// Lists the routers the caller sees.
#[utoipa::path(get, path = "/routers", tag = "network", security(("bearer" = [])), params(NetworkQuery),
    responses((status = 200, body = ListResponse<RouterOut>), (status = 422, body = ErrorBody)))]
async fn list_routers(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<NetworkQuery>,
) -> Result<Json<ListResponse<RouterOut>>, ApiError> {
    let page = page_request(
        &ROUTERS,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let routers =
        ops::network::list_routers(&state.ctx(), &caller.actor, &query.filter(), &page).await?;
    Ok(Json(ListResponse::from_page(routers, |r| {
        RouterOut::from_model(&r)
    })))
}

/// Creates a router and its FreeRADIUS client entry.
#[utoipa::path(post, path = "/routers", tag = "network", security(("bearer" = [])), request_body = CreateRouterBody,
    responses((status = 201, body = CreatedRouter), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_router(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreateRouterBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::new();
    let tenant_id = body.tenant_id.map(TenantId).or(caller.actor.tenant_id);
    let name = errors.take(rules::parse_name(&body.name));
    let nas_address = errors.take(rules::parse_nas_address(&body.nas_address));
    let secret = match &body.secret {
        Some(s) => errors.take(rules::parse_secret(s)),
        None => Some(ops::network::random_secret()),
    };
    let api_address = body
        .api_address
        .as_deref()
        .and_then(|a| errors.take(rules::parse_api_address(a)));
    let default_port = if body.api_tls { 8729 } else { 8728 };
    let api_port = errors.take(rules::parse_port(
        "api_port",
        body.api_port.unwrap_or(default_port),
    ));
    let api_user = body
        .api_user
        .as_deref()
        .and_then(|u| errors.take(rules::parse_api_user(u)));
    let api_password = body.api_password.as_deref().and_then(|p| {
        errors.take(rules::parse_secret(p).map_err(|e| FieldError {
            field: "api_password".into(),
            ..e
        }))
    });
    let time_zone = body
        .time_zone
        .as_deref()
        .and_then(|z| errors.take(time_zone(z)));
    let notes = errors.take(notes(&body.notes));
    let trust = errors.take(TlsTrust::parse(
        body.api_tls_trust.as_deref().unwrap_or("system"),
        body.api_tls_fingerprint.as_deref(),
        body.api_tls_ca.as_deref(),
    ));
    if tenant_id.is_none() {
        errors.push(FieldError::new("tenant_id", "required"));
    }
    let (
        Some(tenant_id),
        Some(name),
        Some(nas_address),
        Some(secret),
        Some(api_port),
        Some(notes),
        Some(api_tls_trust),
    ) = (tenant_id, name, nas_address, secret, api_port, notes, trust)
    else {
        return Err(ApiError::invalid(&errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(&errors));
    }
    let new = NewRouter {
        tenant_id,
        name,
        nas_address,
        secret: secret.clone(),
        api_address,
        api_port,
        api_user,
        api_password,
        api_tls: body.api_tls,
        api_tls_trust,
        time_zone,
        notes,
        require_message_authenticator: body.require_message_authenticator.unwrap_or(true),
    };
    let router =
        ops::network::create_router(&state.ctx(), &caller.actor, caller.author, &new).await?;
    Ok(with_etag(
        router.version,
        (
            StatusCode::CREATED,
            Json(CreatedRouter {
                router: RouterOut::from_model(&router),
                secret,
            }),
        ),
    ))
}

/// One router.
#[utoipa::path(get, path = "/routers/{id}", tag = "network", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = RouterOut), (status = 404, body = ErrorBody)))]
async fn get_router(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let router = ops::network::get_router(&state.ctx(), &caller.actor, id).await?;
    Ok(with_etag(
        router.version,
        Json(RouterOut::from_model(&router)),
    ))
}

/// Changes a router (and its FreeRADIUS client entry).
#[utoipa::path(patch, path = "/routers/{id}", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "the version read")),
    request_body = UpdateRouterBody,
    responses((status = 200, body = RouterOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_router(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<UpdateRouterBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::new();
    let changes = RouterChanges {
        name: body
            .name
            .as_deref()
            .and_then(|v| errors.take(rules::parse_name(v))),
        nas_address: body
            .nas_address
            .as_deref()
            .and_then(|v| errors.take(rules::parse_nas_address(v))),
        secret: body
            .secret
            .as_deref()
            .and_then(|v| errors.take(rules::parse_secret(v))),
        api_address: body
            .api_address
            .map(|v| v.and_then(|a| errors.take(rules::parse_api_address(&a)))),
        api_port: body
            .api_port
            .and_then(|p| errors.take(rules::parse_port("api_port", p))),
        api_user: body
            .api_user
            .map(|v| v.and_then(|u| errors.take(rules::parse_api_user(&u)))),
        api_password: body.api_password.map(|v| {
            v.and_then(|p| {
                errors.take(rules::parse_secret(&p).map_err(|e| FieldError {
                    field: "api_password".into(),
                    ..e
                }))
            })
        }),
        api_tls: body.api_tls,
        api_tls_trust: body.api_tls_trust.as_deref().and_then(|kind| {
            errors.take(TlsTrust::parse(
                kind,
                body.api_tls_fingerprint.as_deref(),
                body.api_tls_ca.as_deref(),
            ))
        }),
        time_zone: body
            .time_zone
            .map(|v| v.and_then(|z| errors.take(time_zone(&z)))),
        notes: body.notes.as_deref().and_then(|n| errors.take(notes(n))),
        require_message_authenticator: body.require_message_authenticator,
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(&errors));
    }
    let version = if_match.resolve(body.version)?;
    let router = ops::network::update_router(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        version,
        &changes,
    )
    .await?;
    Ok(with_etag(
        router.version,
        Json(RouterOut::from_model(&router)),
    ))
}

/// Deletes (archives) a router; FreeRADIUS (on the generated configuration) stops serving it
/// within its client lifetime.
#[utoipa::path(delete, path = "/routers/{id}", tag = "network", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_router(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    ops::network::archive_router(&state.ctx(), &caller.actor, caller.author, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
