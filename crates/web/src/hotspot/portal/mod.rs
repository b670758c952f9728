//! The captive portal's pages (`/hs/{key}/…`, hotspot-design §1.5, §5): what a phone on the
//! hotspot sees, in Bangla or English, on one light page that needs no script and nothing
//! outside lastmile (a captive phone reaches nothing else).
//!
//! - `POST start`: the router's `login.html` posts its variables here; a visit opens under
//!   an `HttpOnly` cookie scoped to the portal's path, and the phone goes to the portal's
//!   page (a redirect after the post, so a reload posts nothing again). A portal opens at
//!   most `ops::hotspot::visit::VISITS_PER_MINUTE` visits a minute (429 past it).
//! - `GET /hs/{key}`: the step the visit is at: the mobile, the code, then what
//!   `ops::hotspot::visit::next` says (sign in, pick an account, remove a device, pay with a
//!   card, sign up or try, or the number's network).
//! - `POST mobile|voucher|code|choose|connect|signup|card|device|take-over`: the steps, each with the visit's
//!   CSRF token (derived from its cookie); a step that signs in ends in a 303 to the
//!   router's login with the account's credentials (`hand_off`).
//! - `GET welcome|status|bye`: where the router's `alogin.html`, `status.html` and
//!   `logout.html` send the phone, with a full navigation (what iOS's captive sheet needs).
//! - `GET lang/{code}`: the visit's language.
//! - `GET router/{page}`: the pages to put on the router, for `/tool fetch`.
//! - `GET /v/{code}`: where a printed voucher's QR code leads: the code, kept for an hour
//!   in a cookie that fills the portal's voucher field, and how to join the Wi-Fi.
//!
//! Everything shown back is escaped by the templates; the only address the portal sends a
//! phone to outside itself is the router's login address, checked when the visit opened.
//!
//! This module owns the routes, the visit's cookies and the lookup of a request's visit
//! (`visit_of`), and the pages that are not a posted step (`start`, `show`, `welcome`,
//! `bye`, the language, the router's pages, a voucher's link). The posted steps and the
//! extractor that checks their CSRF token are `steps`'s; the page they all show, and how
//! a refusal reads on it, is `page`'s.

mod page;
mod steps;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use self::page::{
    DeviceRow, PortalPage, date_of, lang_of, message, page, standing_page, status_of, time_left,
};
use self::steps::{card, choose, code, connect, device, mobile, pay, signup, take_over, voucher};
use crate::i18n::Lang;
use crate::page::form::FormData;
use crate::state::AppState;
use domain::customer::CustomerState;
use ops::OpError;
use ops::hotspot::visit::{self, Arrival, Step};

/// The visit's cookie.
const COOKIE: &str = "lastmile_portal";

/// The cookie a voucher's link leaves: its code, for the portal's voucher field.
const VOUCHER_COOKIE: &str = "lastmile_voucher";

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hs/{key}", get(show))
        .route("/hs/{key}/start", post(start))
        .route("/hs/{key}/mobile", post(mobile))
        .route("/hs/{key}/voucher", post(voucher))
        .route("/v/{code}", get(voucher_link))
        .route("/hs/{key}/code", post(code))
        .route("/hs/{key}/choose", post(choose))
        .route("/hs/{key}/connect", post(connect))
        .route("/hs/{key}/signup", post(signup))
        .route("/hs/{key}/card", post(card))
        .route("/hs/{key}/pay", post(pay))
        .route("/hs/{key}/paid/{reference}", get(paid))
        .route("/hs/{key}/device", post(device))
        .route("/hs/{key}/take-over", post(take_over))
        .route("/hs/{key}/welcome", get(welcome))
        .route("/hs/{key}/status", get(welcome))
        .route("/hs/{key}/bye", get(bye))
        .route("/hs/{key}/lang/{code}", get(language))
        .route("/hs/{key}/router/{page}", get(router_page))
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
}

/// The visit's cookie in `headers`, when it reads as one.
fn cookie_of(headers: &HeaderMap) -> Option<String> {
    crate::page::cookie::cookie_in(headers, COOKIE).filter(|v| {
        v.len() == store::hotspot::TOKEN_LEN && v.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The page a phone without a live visit sees: open any page to start again.
fn no_visit(headers: &HeaderMap, key: &str, status: StatusCode) -> Response {
    let lang = crate::page::ui::language_of(headers);
    page(status, &PortalPage::new(lang, key, "gone"))
}

/// The visit of this request, with its cookie; or the response that says it has none.
async fn visit_of(
    state: &AppState,
    key: &str,
    headers: &HeaderMap,
) -> Result<(Step, String), Response> {
    let Some(token) = cookie_of(headers) else {
        return Err(no_visit(headers, key, StatusCode::UNAUTHORIZED));
    };
    match visit::step(&state.ctx(), key, &token).await {
        Ok(step) => Ok((step, token)),
        Err(OpError::NotFound) => Err(no_visit(headers, key, StatusCode::NOT_FOUND)),
        Err(OpError::Unauthenticated(_)) => Err(no_visit(headers, key, StatusCode::UNAUTHORIZED)),
        Err(error) => {
            tracing::error!(%error, "portal visit lookup failed");
            Err(no_visit(headers, key, StatusCode::INTERNAL_SERVER_ERROR))
        }
    }
}

/// To the portal's page, at the step the visit is at.
fn here(key: &str) -> Redirect {
    Redirect::to(&format!("/hs/{key}"))
}

/// `POST /hs/{key}/start`: the router's variables arrive.
async fn start(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let lang = crate::page::ui::language_of(&headers);
    if !domain::hotspot::is_key(&key) {
        return no_visit(&headers, &key, StatusCode::NOT_FOUND);
    }
    if let Err(wait) = state
        .portal_throttle
        .attempt(&[format!("portal:{key}")], std::time::Instant::now())
    {
        let mut response = no_visit(&headers, &key, StatusCode::TOO_MANY_REQUESTS);
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let arrival = Arrival {
        key: &key,
        mac: form.text("mac"),
        ip: form.text("ip"),
        login_url: form.text("login_url"),
        dst: form.text("dst"),
        chap_id: form.text("chap_id"),
        chap_challenge: form.text("chap_challenge"),
        error: form.text("err"),
        lang: lang.code(),
    };
    match visit::arrive(&state.ctx(), &arrival).await {
        Ok((token, visit)) => {
            let mut response = here(&key).into_response();
            let max_age = (visit.expires_at - visit.created_at).num_seconds()
                + visit::SIGNED_IN_TTL.num_seconds();
            let mut cookie = format!(
                "{COOKIE}={token}; Path=/hs/{key}; Max-Age={max_age}; HttpOnly; SameSite=Lax"
            );
            if state.settings.https() {
                cookie.push_str("; Secure");
            }
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(OpError::NotFound) => no_visit(&headers, &key, StatusCode::NOT_FOUND),
        Err(error) => {
            let mut p = PortalPage::new(lang, &key, "gone");
            p.error = message(p.t, &error);
            page(status_of(&error), &p)
        }
    }
}

/// `GET /hs/{key}`: the step the visit is at.
async fn show(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (step, token) = match visit_of(&state, &key, &headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if step.visit.handed_off_at.is_some() {
        return Redirect::to(&format!("/hs/{key}/status")).into_response();
    }
    let ctx = state.ctx();
    if step.visit.verified_at.is_none() {
        let screen = if step.visit.mobile.is_some() {
            "code"
        } else {
            "mobile"
        };
        let mut p = PortalPage::of(&step, &token, screen);
        p.voucher = voucher_kept(&headers);
        if let Some(code) = step.visit.router_error.as_deref() {
            p.error = p.t.t(&format!("portal.router.{code}")).to_owned();
        }
        return page(StatusCode::OK, &p);
    }
    match visit::next(&ctx, &step, None).await {
        Ok(standing) => page(
            StatusCode::OK,
            &standing_page(&step, &token, &standing, ctx.now)
                .with_payment(&ctx, &step)
                .await,
        ),
        Err(error) => page(
            status_of(&error),
            &PortalPage::of(&step, &token, "mobile").with_error(&error),
        ),
    }
}

/// `GET /hs/{key}/paid/{reference}`: the phone back from the provider's checkout of one of
/// its accounts' online payments. Paid, on to the visit's next step (signing in); still
/// pending (the provider's notice has not been settled yet), a page that looks again in a
/// moment; declined or expired, the recharge screen says so. Another visit's payment is not
/// found.
async fn paid(
    State(state): State<AppState>,
    Path((key, reference)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (step, token) = match visit_of(&state, &key, &headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let ctx = state.ctx();
    let intent = match ops::hotspot::pay::payment(&ctx, &step, &reference).await {
        Ok(intent) => intent,
        Err(error) => {
            return page(
                status_of(&error),
                &PortalPage::of(&step, &token, "gone").with_error(&error),
            );
        }
    };
    match intent.status.as_str() {
        "succeeded" => here(&key).into_response(),
        "pending" => {
            let mut p = PortalPage::of(&step, &token, "paying");
            p.account = intent.customer_id;
            p.refresh = true;
            page(StatusCode::OK, &p)
        }
        _ => {
            let mut p = PortalPage::of(&step, &token, "recharge");
            p.account = intent.customer_id;
            p.error = p.t.t("portal.payment_not_made").to_owned();
            page(StatusCode::OK, &p.with_payment(&ctx, &step).await)
        }
    }
}

/// The voucher code a voucher's link left, when it reads as one.
fn voucher_kept(headers: &HeaderMap) -> String {
    crate::page::cookie::cookie_in(headers, VOUCHER_COOKIE)
        .and_then(|v| domain::card::AccessCode::parse(&v).ok())
        .map(|code| code.printed())
        .unwrap_or_default()
}

/// `GET /v/{code}`: a printed voucher's link.
async fn voucher_link(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = crate::page::ui::language_of(&headers);
    let mut p = PortalPage::new(lang, "", "voucher_link");
    let Ok(code) = domain::card::AccessCode::parse(&code) else {
        p.error = p.t.t("error.voucher_mistyped").to_owned();
        return page(StatusCode::NOT_FOUND, &p);
    };
    p.voucher = code.printed();
    let mut response = page(StatusCode::OK, &p);
    let mut cookie = format!(
        "{VOUCHER_COOKIE}={}; Path=/hs; Max-Age=3600; HttpOnly; SameSite=Lax",
        code.as_str()
    );
    if state.settings.https() {
        cookie.push_str("; Secure");
    }
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET welcome` and `GET status`: the account the visit signed in as.
async fn welcome(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (step, token) = match visit_of(&state, &key, &headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match visit::status(&state.ctx(), &step).await {
        Ok(status) => {
            let mut p = PortalPage::of(&step, &token, "status");
            p.account = status.customer.id;
            p.package = status.package;
            p.state = status.state.as_str();
            p.expires = date_of(&step, status.customer.expires_at);
            p.time_left = status
                .customer
                .expires_at
                .filter(|_| status.state == CustomerState::Active)
                .map(|at| time_left(p.t, at - state.clock.now()))
                .unwrap_or_default();
            p.data_left = status
                .allowance
                .as_ref()
                .and_then(|a| {
                    a.volume_bytes.map(|volume| {
                        let left = (volume - a.used_bytes).max(0);
                        crate::i18n::format(
                            p.t.lang,
                            "portal.data_left_of",
                            &[
                                ("left", crate::page::ui::bytes(left)),
                                ("of", crate::page::ui::bytes(volume)),
                            ],
                        )
                    })
                })
                .unwrap_or_default();
            p.devices = status
                .devices
                .iter()
                .map(|d| DeviceRow {
                    id: d.id,
                    account: status.customer.id,
                    label: d.label.clone(),
                    mac: d.mac.clone(),
                    randomised: d.randomised,
                })
                .collect();
            p.logout_url = step
                .visit
                .login_url
                .strip_suffix("/login")
                .map(|base| format!("{base}/logout"))
                .unwrap_or_default();
            page(StatusCode::OK, &p)
        }
        Err(_) => here(&key).into_response(),
    }
}

/// `GET bye`: signed out at the router.
async fn bye(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = match visit_of(&state, &key, &headers).await {
        Ok((step, _)) => lang_of(&step),
        Err(_) => crate::page::ui::language_of(&headers),
    };
    page(StatusCode::OK, &PortalPage::new(lang, &key, "bye"))
}

/// `GET lang/{code}`: the visit's language.
async fn language(
    State(state): State<AppState>,
    Path((key, code)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Ok((step, _)) = visit_of(&state, &key, &headers).await {
        let lang = Lang::parse(&code).unwrap_or_default();
        if let Err(error) = visit::set_lang(&state.ctx(), &step, lang.code()).await {
            tracing::error!(%error, "portal language not kept");
        }
    }
    here(&key).into_response()
}

/// `GET router/{page}`: a page to put on the router.
async fn router_page(
    State(state): State<AppState>,
    Path((key, name)): Path<(String, String)>,
) -> Response {
    if !domain::hotspot::is_key(&key) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match store::hotspot::portal_by_key(state.db.conn(), &key).await {
        Ok(Some(_)) => {}
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "portal lookup failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    domain::hotspot::router_pages(&state.settings.public_url, &key)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map_or_else(
            || StatusCode::NOT_FOUND.into_response(),
            |(_, contents)| {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    contents,
                )
                    .into_response()
            },
        )
}
