//! The SMS outbox at the edge (`ops::sms`; the drivers are the `gateways` crate's):
//!
//! - `/api/v1/sms-gateways`: a tenant's gateways, or the platform's default (`GET` the list,
//!   `POST` one, `PATCH /{id}`, `POST /{id}/test` to queue a test message). The settings
//!   are one driver's configuration, checked here against the driver (its fields, a usable
//!   base URL, its credentials) and sealed whole at rest; answers name the keys that are
//!   set, never a value.
//! - `/api/v1/sms-messages`: the outbox, paged, filtered by status and kind.
//! - `POST /hooks/sms/{gateway}` (and `GET`, for templates whose provider reports by query
//!   string): delivery reports, read per driver with `gateways::sms::report` (Twilio's
//!   signature checked with the gateway's Auth Token over the URL it was told to call). A
//!   report of an unknown gateway or message, a repeated one and one saying the message is
//!   still under way change nothing and are answered 204; a malformed or badly signed one
//!   is refused, and an address refused too often in a minute is answered 429 unread, as
//!   the payment hooks are.

use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

use crate::http::auth::ApiCaller;
use crate::http::client::ClientIp;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::http::list::{ListResponse, page_request};
use crate::http::path::Id;
use crate::http::query::Query;
use crate::http::version::{IfMatch, with_etag};
use crate::state::AppState;
use domain::field::{FieldError, FieldErrors};
use gateways::sms::report::{self, DeliveryStatus, ReportError};
use gateways::sms::{SmsConfig, SmsGateway};
use ops::OpError;
use ops::sms::{GatewayInput, GatewayUpdate, GatewayView};
use store::sms::{LIST, Message, MessageFilter};

/// The largest delivery report read.
const HOOK_BODY_LIMIT: usize = report::MAX_REPORT;

/// The API routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_gateways, create_gateway))
        .routes(routes!(update_gateway))
        .routes(routes!(test_gateway))
        .routes(routes!(list_messages))
}

/// The routes providers reach without signing in.
pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/hooks/sms/{gateway}", post(report_post).get(report_get))
        .layer(DefaultBodyLimit::max(HOOK_BODY_LIMIT))
}

/// The path delivery reports of gateway `id` go to.
pub fn hook_path(id: i64) -> String {
    format!("/hooks/sms/{id}")
}

/// The driver configuration of gateway `id` from its opened `settings`: a Twilio gateway
/// told no `status_callback` is given this installation's hook when its public address is
/// configured (`public_url`), so its reports come back signed for that URL.
pub fn config(settings: &str, id: i64, public_url: &str) -> Result<SmsConfig, String> {
    let mut config: SmsConfig = serde_json::from_str(settings).map_err(|e| e.to_string())?;
    if let SmsConfig::Twilio(twilio) = &mut config
        && twilio.status_callback.is_none()
        && !public_url.is_empty()
    {
        twilio.status_callback = Some(format!(
            "{}{}",
            public_url.trim_end_matches('/'),
            hook_path(id)
        ));
    }
    Ok(config)
}

/// `settings` checked against its driver: the fields it takes and a gateway that builds.
fn checked_settings(settings: &serde_json::Value) -> Result<Zeroizing<String>, ApiError> {
    let invalid = |reason: String| {
        ApiError::invalid(&FieldErrors::one(
            FieldError::new("settings", "invalid_settings").with("reason", reason),
        ))
    };
    let text = Zeroizing::new(settings.to_string());
    let config: SmsConfig = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let client = gateways::sms::http_client().map_err(|e| invalid(e.to_string()))?;
    SmsGateway::new(config, client).map_err(|e| invalid(e.to_string()))?;
    Ok(text)
}

/// An SMS gateway, without its settings' values.
#[derive(Debug, Serialize, ToSchema)]
pub struct GatewayOut {
    id: i64,
    /// The tenant; absent for the platform's default gateway.
    tenant_id: Option<i64>,
    name: String,
    /// `twilio`, `bulksmsbd`, `sslwireless`, `africastalking`, `http_template` or `log`.
    driver: String,
    /// The settings that are set (their values are never shown).
    settings_keys: Vec<String>,
    /// `active` or `disabled`.
    status: String,
    /// The most messages a tenant sends through it in a day.
    daily_budget: i32,
    /// Where its delivery reports go (for the provider's dashboard).
    webhook_path: String,
    version: i32,
    created_at: DateTime<Utc>,
}

impl From<GatewayView> for GatewayOut {
    fn from(v: GatewayView) -> Self {
        let g = v.gateway;
        Self {
            webhook_path: hook_path(g.id),
            id: g.id,
            tenant_id: g.tenant_id,
            name: g.name,
            driver: g.driver,
            settings_keys: v.settings_keys,
            status: g.status,
            daily_budget: g.daily_budget,
            version: g.version,
            created_at: g.created_at,
        }
    }
}

/// A gateway to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGatewayBody {
    /// The tenant (a tenant's own staff leave it out; the platform's roles leave it out for
    /// the platform's default gateway, which tenants without one of their own use).
    tenant_id: Option<i64>,
    /// What staff call it.
    name: String,
    /// The driver's settings: `{"driver": "twilio", "account_sid": …, "auth_token": …,
    /// "sender": …}`, `{"driver": "bulksmsbd", "api_key": …, "sender": …}`, … Sealed at rest,
    /// never shown again.
    #[schema(value_type = Object)]
    settings: serde_json::Value,
    /// `active` (the default) or `disabled`.
    status: Option<String>,
    /// The most messages a tenant sends through it in a day (1000).
    daily_budget: Option<i64>,
}

/// A change of a gateway.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGatewayBody {
    name: Option<String>,
    /// New settings, whole (secrets included).
    #[schema(value_type = Option<Object>)]
    settings: Option<serde_json::Value>,
    /// `active` or `disabled`.
    status: Option<String>,
    daily_budget: Option<i64>,
    /// The version read (or `If-Match`).
    version: Option<i32>,
}

/// A test message to send through a gateway.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    /// The number (`01712345678` or `+8801712345678`).
    to: String,
    /// The text (a short English line when left out).
    text: Option<String>,
}

/// A message of the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    id: i64,
    tenant_id: Option<i64>,
    /// The gateway it went (or must go) through.
    gateway_id: Option<i64>,
    /// The recipient, E.164.
    to: String,
    /// The text; absent for one-time codes.
    text: Option<String>,
    /// `otp`, `welcome`, `recharge`, `payment`, `expiry`, `due`, `suspension`, `manual` or
    /// `test`.
    kind: String,
    /// The caller's idempotency key.
    reference: String,
    parts: i32,
    /// `gsm7` or `ucs2`.
    encoding: String,
    /// `queued`, `sending`, `sent`, `delivered` or `failed`.
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    provider_id: Option<String>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
}

impl From<Message> for MessageOut {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            tenant_id: m.tenant_id,
            gateway_id: m.gateway_id,
            to: m.to_number,
            text: (m.kind != "otp").then_some(m.text),
            kind: m.kind,
            reference: m.reference,
            parts: m.parts,
            encoding: m.encoding,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            provider_id: m.provider_id,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
            delivered_at: m.delivered_at,
        }
    }
}

/// Which gateways.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GatewayQuery {
    /// Only this tenant's.
    tenant_id: Option<i64>,
}

/// Which messages.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// `queued`, `sending`, `sent`, `delivered` or `failed`.
    status: Option<String>,
    /// The kind.
    kind: Option<String>,
    /// Only this tenant's.
    tenant_id: Option<i64>,
    /// `id` or `-id` (the default).
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// The SMS gateways the caller manages.
#[utoipa::path(get, path = "/sms-gateways", tag = "sms", security(("bearer" = [])), params(GatewayQuery),
    responses((status = 200, body = Vec<GatewayOut>), (status = 403, body = ErrorBody)))]
async fn list_gateways(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<GatewayQuery>,
) -> Result<Json<Vec<GatewayOut>>, ApiError> {
    let gateways = ops::sms::list_gateways(&state.ctx(), &caller.actor, query.tenant_id).await?;
    Ok(Json(gateways.into_iter().map(GatewayOut::from).collect()))
}

/// Adds an SMS gateway to a tenant, or the platform's default.
#[utoipa::path(post, path = "/sms-gateways", tag = "sms", security(("bearer" = [])),
    request_body = CreateGatewayBody,
    responses((status = 201, body = GatewayOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_gateway(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreateGatewayBody>,
) -> Result<Response, ApiError> {
    let input = GatewayInput {
        tenant_id: body.tenant_id,
        name: body.name,
        settings: checked_settings(&body.settings)?,
        status: body.status,
        daily_budget: body.daily_budget,
    };
    let view = ops::sms::create_gateway(&state.ctx(), &caller.actor, caller.author, &input).await?;
    let version = view.gateway.version;
    Ok(with_etag(
        version,
        (StatusCode::CREATED, Json(GatewayOut::from(view))),
    ))
}

/// Changes an SMS gateway: its name, settings (whole), status or daily budget.
#[utoipa::path(patch, path = "/sms-gateways/{id}", tag = "sms", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "the version read")),
    request_body = UpdateGatewayBody,
    responses((status = 200, body = GatewayOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody), (status = 428, body = ErrorBody)))]
async fn update_gateway(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<UpdateGatewayBody>,
) -> Result<Response, ApiError> {
    let version = if_match.resolve(body.version)?;
    let update = GatewayUpdate {
        name: body.name,
        settings: body.settings.as_ref().map(checked_settings).transpose()?,
        status: body.status,
        daily_budget: body.daily_budget,
    };
    let view = ops::sms::update_gateway(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        version,
        &update,
    )
    .await?;
    let version = view.gateway.version;
    Ok(with_etag(version, Json(GatewayOut::from(view))))
}

/// Queues a test message through a gateway (sent by the `sms.send` job); answers 202 with
/// the message.
#[utoipa::path(post, path = "/sms-gateways/{id}/test", tag = "sms", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = TestBody,
    responses((status = 202, body = MessageOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn test_gateway(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    JsonBody(body): JsonBody<TestBody>,
) -> Result<Response, ApiError> {
    let message = ops::sms::send_test(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        &body.to,
        body.text.as_deref(),
    )
    .await?;
    state.jobs_wake.notify_one();
    Ok((StatusCode::ACCEPTED, Json(MessageOut::from(message))).into_response())
}

/// The outbox: the messages the caller reads, newest first.
#[utoipa::path(get, path = "/sms-messages", tag = "sms", security(("bearer" = [])), params(MessageQuery),
    responses((status = 200, body = ListResponse<MessageOut>), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn list_messages(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<MessageQuery>,
) -> Result<Json<ListResponse<MessageOut>>, ApiError> {
    let page = page_request(
        &LIST,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let filter = MessageFilter {
        status: query.status,
        kind: query.kind,
        tenant_id: query.tenant_id,
    };
    let messages = ops::sms::messages(&state.ctx(), &caller.actor, &filter, &page).await?;
    Ok(Json(ListResponse::from_page(messages, MessageOut::from)))
}

/// Answers with `handle` unless `ip` has had too many refusals this minute (the payment
/// hooks' throttle); a refusal (400, 403) stays counted against it.
async fn guarded(
    state: &AppState,
    ip: std::net::IpAddr,
    handle: impl Future<Output = Response>,
) -> Response {
    let keys = [format!("ip:{ip}")];
    let started = Instant::now();
    if let Err(wait) = state.hook_throttle.attempt(&keys, started) {
        let seconds = wait.as_secs().max(1).to_string();
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds)],
        )
            .into_response();
    }
    let response = handle.await;
    if !matches!(
        response.status(),
        StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN
    ) {
        state.hook_throttle.forgive(&keys, started, None);
    }
    response
}

/// `POST /hooks/sms/{gateway}`: a delivery report in the body.
async fn report_post(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(gateway): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    guarded(
        &state,
        ip,
        take_report(&state, gateway, headers, body.to_vec()),
    )
    .await
}

/// `GET /hooks/sms/{gateway}?…`: a delivery report in the query string.
async fn report_get(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(gateway): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let body = query.unwrap_or_default().into_bytes();
    if body.len() > HOOK_BODY_LIMIT {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    guarded(&state, ip, take_report(&state, gateway, headers, body)).await
}

/// How lastmile is reached: the configured public address, else the request's host.
fn base_of(state: &AppState, headers: &HeaderMap) -> String {
    if !state.settings.public_url.is_empty() {
        return state.settings.public_url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.len() <= 255 && !h.contains(['/', ' ', '\\']))
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn take_report(
    state: &AppState,
    gateway: String,
    headers: HeaderMap,
    body: Vec<u8>,
) -> Response {
    let Ok(id) = gateway.parse::<i64>() else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let ctx = state.ctx();
    let settings = match ops::sms::gateway_settings(&ctx, id).await {
        Ok((_, settings)) => settings,
        Err(OpError::NotFound) => return StatusCode::NO_CONTENT.into_response(),
        Err(error) => {
            tracing::error!(%error, gateway = id, "cannot read an SMS gateway");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let config = match config(&settings, id, &state.settings.public_url) {
        Ok(config) => config,
        Err(error) => {
            tracing::warn!(%error, gateway = id, "an SMS gateway's settings do not read");
            return StatusCode::NO_CONTENT.into_response();
        }
    };
    let read = match &config {
        SmsConfig::Twilio(twilio) => {
            let url = twilio
                .status_callback
                .clone()
                .unwrap_or_else(|| format!("{}{}", base_of(state, &headers), hook_path(id)));
            let signature = headers
                .get("x-twilio-signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            report::verify_twilio(&twilio.auth_token, &url, signature, &body)
        }
        SmsConfig::Africastalking(_) => report::africastalking(&body),
        SmsConfig::Bulksmsbd(_) => report::bulksmsbd(&body),
        SmsConfig::Sslwireless(_) => report::sslwireless(&body),
        SmsConfig::Generic(generic) => report::generic(&generic.report, &body),
        SmsConfig::Log => return StatusCode::NO_CONTENT.into_response(),
    };
    let delivery = match read {
        Ok(delivery) => delivery,
        Err(ReportError::BadSignature) => {
            tracing::warn!(
                gateway = id,
                "an SMS delivery report failed its signature check"
            );
            return StatusCode::FORBIDDEN.into_response();
        }
        Err(ReportError::Malformed(why)) => {
            tracing::warn!(gateway = id, %why, "a malformed SMS delivery report");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    let delivered = match delivery.status {
        DeliveryStatus::Delivered => true,
        DeliveryStatus::Failed => false,
        DeliveryStatus::Pending => return StatusCode::NO_CONTENT.into_response(),
    };
    match ops::sms::delivery_report(
        &ctx,
        id,
        &delivery.provider_id,
        delivered,
        delivery.error.as_deref(),
    )
    .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => {
            tracing::error!(%error, gateway = id, "cannot record an SMS delivery report");
            // The provider delivers it again later.
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
