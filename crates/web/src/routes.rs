//! Where the routes meet: the JSON API (`/api/v1`, with its OpenAPI document and a browsable
//! UI), the web panel, `/healthz` and `/metrics`, the layers every request passes (metrics,
//! timeouts, body limits, security headers, panic catching), and the server loop with
//! graceful shutdown. This is the top floor of the crate: it names every area's routes, and
//! nothing names it but the binary.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::http::error::ApiError;
use crate::http::{idempotency, metrics};
use crate::page;
use crate::state::AppState;

/// The API's largest request body.
const API_BODY_LIMIT: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "lastmile API",
        description = "Billing, RADIUS AAA and MikroTik automation for ISPs. Authenticate with \
            `POST /api/v1/auth/login` and send the token as `Authorization: Bearer <token>`. \
            Errors are `{\"error\": {\"code\", \"message\", \"fields\"}}`. PATCH needs the \
            version read (`If-Match` or a `version` field); POST honours `Idempotency-Key`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in and the signed-in account"),
        (name = "tenants", description = "ISPs on this installation"),
        (name = "users", description = "Staff users and their roles"),
        (name = "audit", description = "The audit log"),
        (name = "network", description = "Routers (NAS), zones and IP pools"),
        (name = "vpn", description = "VPN servers and accounts: Winbox access to remote routers"),
        (name = "cards", description = "Recharge cards: batches, their life, redemption"),
        (name = "packages", description = "Master, operator and sub-operator packages"),
        (name = "customers", description = "Subscribers, their FreeRADIUS rows and the CSV import"),
        (name = "sessions", description = "Subscribers' RADIUS sessions, who is online, usage"),
        (name = "money", description = "Recharges, resellers' balances and top-ups, the ledger"),
        (name = "jobs", description = "Background work (imports) with its progress and result"),
        (name = "sms", description = "SMS gateways and the outbox of messages"),
        (name = "hotspot", description = "Captive portals of hotspot routers"),
        (name = "libreqos", description = "LibreQoS's ShapedDevices.csv and network.json from customers, packages and addresses"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API routes with their OpenAPI document.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(
        "/api/v1",
        OpenApiRouter::new()
            .merge(crate::auth::api::routes())
            .merge(crate::tenant::api::routes())
            .merge(crate::user::api::routes())
            .merge(crate::network::api::routes())
            .merge(crate::vpn::api::routes())
            .merge(crate::card::api::routes())
            .merge(crate::card::distributor::routes())
            .merge(crate::package::api::routes())
            .merge(crate::customer::api::routes())
            .merge(crate::customer::export::routes())
            .merge(crate::custom_field::api::routes())
            .merge(crate::online::api::routes())
            .merge(crate::traffic::api::routes())
            .merge(crate::ledger::api::routes())
            .merge(crate::billing::api::routes())
            .merge(crate::billing::online::routes())
            .merge(crate::audit::api::routes())
            .merge(crate::job::api::routes())
            .merge(crate::sms::api::routes())
            .merge(crate::sms::templates::routes())
            .merge(crate::hotspot::api::routes())
            .merge(crate::libreqos::api::routes()),
    )
}

/// The generated OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, openapi) = api().split_for_parts();
    openapi
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let (api_router, openapi) = api().split_for_parts();
    let api_router = api_router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::guard,
        ))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT));
    Router::new()
        .merge(api_router)
        .merge(SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", openapi))
        .merge(panel(&state))
        .merge(crate::billing::online::public_routes())
        .merge(crate::sms::api::public_routes())
        .merge(crate::hotspot::portal::routes())
        .merge(crate::selfcare::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::serve))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::record,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(CatchPanicLayer::new())
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

/// A URL nothing answers: the API's error for the API, the panel's page for the rest.
async fn not_found(state: State<AppState>, request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found").into_response();
    }
    page::fallback::not_found(state, request).await
}

/// A URL answered for other methods: the API's error for the API, the panel's answer (a
/// GET of an action goes to its page) for the rest.
async fn wrong_method(state: State<AppState>, request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        return ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").into_response();
    }
    page::fallback::wrong_method(state, request).await
}

/// The panel's routes, with its layers.
fn panel(state: &AppState) -> Router<AppState> {
    let routes = Router::new()
        .route("/", get(|| async { Redirect::to("/panel") }))
        .merge(crate::auth::panel::routes())
        .merge(crate::tenant::panel::routes())
        .merge(crate::user::panel::routes())
        .merge(crate::audit::panel::routes())
        .merge(crate::network::panel::routes())
        .merge(crate::vpn::panel::routes())
        .merge(crate::sms::panel::routes())
        .merge(crate::package::panel::routes())
        .merge(crate::customer::panel::routes())
        .merge(crate::custom_field::panel::routes())
        .merge(crate::online::panel::routes())
        .merge(crate::traffic::panel::routes())
        .merge(crate::ledger::panel::routes())
        .merge(crate::ledger::receipt::routes())
        .merge(crate::card::panel::routes())
        .merge(crate::card::print::routes())
        .merge(crate::job::panel::routes())
        .route("/panel", get(crate::auth::panel::dashboard))
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method);
    page::protect(routes, state)
}

/// Serves `listener` until `shutdown` turns true, then lets running requests finish.
pub async fn serve(listener: TcpListener, state: AppState, mut shutdown: watch::Receiver<bool>) {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let stop = async move {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
    };
    if let Err(error) = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!(%error, "HTTP server stopped");
    }
}
