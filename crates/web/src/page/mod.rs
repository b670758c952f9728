//! The web panel: server-rendered pages (askama templates, checked at compile time), forms
//! that work without JavaScript, the panel's session and CSRF defence, its languages, and
//! its own static assets. Each area's pages live in that area's `panel` module; this module
//! holds what they share, and the layers every panel route passes ([`protect`]). The routes
//! are assembled in `crate::routes`.
//!
//! CSRF: every state-changing form is checked twice, by the `Sec-Fetch-Site`/`Origin` rule
//! (tower-http's `CsrfLayer`) and by a per-session token in a hidden field; the session
//! cookie is `SameSite=Lax` and `HttpOnly`.

pub mod cookie;
pub mod fallback;
pub mod form;
pub mod input;
pub mod lookup;
pub mod session;
pub mod ui;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::csrf::{CsrfLayer, ProtectionError};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// The panel's largest form body.
const FORM_LIMIT: usize = 64 * 1024;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `routes` with the layers every panel route passes: the form size limit, the CSRF check,
/// the security headers, and the assets.
pub fn protect(routes: Router<AppState>, state: &AppState) -> Router<AppState> {
    routes
        .route("/lang/{code}", get(ui::switch_language))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(csrf_layer(state))
        .layer(middleware::from_fn(explain_refusal))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The `Sec-Fetch-Site`/`Origin` check. Behind a reverse proxy the `Host` the panel sees may
/// not be the one the browser used, so the configured public address is trusted as an
/// origin too.
fn csrf_layer(state: &AppState) -> CsrfLayer {
    if state.settings.public_url.is_empty() {
        return CsrfLayer::new();
    }
    let origin = state.settings.public_url.clone();
    match CsrfLayer::new().add_trusted_origin(&origin) {
        Ok(layer) => layer,
        Err(error) => {
            tracing::warn!(%error, origin, "public_url is not an origin; only Host is trusted");
            CsrfLayer::new()
        }
    }
}

/// Turns the CSRF layer's bare 403 into a page that says why, in the visitor's language.
async fn explain_refusal(request: Request, next: Next) -> Response {
    let lang = ui::language_of(request.headers());
    let response = next.run(request).await;
    if response.extensions().get::<ProtectionError>().is_some() {
        return ui::plain_error(lang, StatusCode::FORBIDDEN, "error.cross_site");
    }
    response
}

async fn stylesheet() -> Response {
    static_asset(
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    )
}

async fn script() -> Response {
    static_asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    )
}

fn static_asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
