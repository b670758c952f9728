//! The web panel: server-rendered pages (askama templates, checked at compile time), forms
//! that work without JavaScript, the panel's session and CSRF defence, its languages, and
//! its own static assets. Each area's pages live in that area's `panel` module; this module
//! holds what they share.
//!
//! CSRF: every state-changing form is checked twice, by the `Sec-Fetch-Site`/`Origin` rule
//! (tower-http's `CsrfLayer`) and by a per-session token in a hidden field; the session
//! cookie is `SameSite=Lax` and `HttpOnly`.

pub mod form;
pub mod session;
pub mod ui;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::csrf::CsrfLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;

/// The panel's largest form body.
const FORM_LIMIT: usize = 64 * 1024;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The panel's routes, with its layers.
pub fn router(state: AppState) -> Router<AppState> {
    let _ = state;
    Router::new()
        .route("/", get(|| async { Redirect::to("/panel") }))
        .merge(crate::auth::panel::routes())
        .merge(crate::tenant::panel::routes())
        .merge(crate::user::panel::routes())
        .merge(crate::audit::panel::routes())
        .route("/panel", get(crate::auth::panel::dashboard))
        .route("/lang/{code}", get(ui::switch_language))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(CsrfLayer::new())
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
