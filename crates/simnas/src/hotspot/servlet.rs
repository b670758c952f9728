//! The hotspot's HTTP routes: the servlet RouterOS serves (`/`, `/login`, `/status`,
//! `/logout`, files of the html directory) and the simulation's knobs (`/_sim/join`,
//! `/_sim/reconnect`, `/_sim/state`). Handlers read the request, call `aaa` or the shared
//! state, and render a page; every malformed input is a 400 ([`Refusal`]).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::aaa::{self, Outcome};
use super::host::{LoginBy, MacAddr, PoolFull};
use super::pages::{self, HostView, Page};
use super::{Inner, template};
use crate::acct;

/// The largest request body taken (a login form is far smaller).
const MAX_BODY: usize = 16 * 1024;
/// The longest user name (a RADIUS attribute holds 253 octets).
const MAX_USERNAME: usize = 253;
/// The longest password (PAP hides at most 128 octets).
const MAX_PASSWORD: usize = 128;
/// The longest URL remembered as `$(link-orig)`.
const MAX_URL: usize = 2_048;

/// The cookie that says which MAC a browser is.
const MAC_COOKIE: &str = "sim-mac";

/// The routes of a hotspot.
pub(crate) fn routes(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login).post(login))
        .route("/status", get(status))
        .route("/logout", get(logout).post(logout))
        .route("/_sim/join", get(join))
        .route("/_sim/reconnect", get(reconnect))
        .route("/_sim/state", get(sim_state))
        .fallback(other)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(inner)
}

/// Why a request gets no page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 400: no `sim-mac` cookie, so the host is `---`: join first.
    NotJoined,
    /// 400: a missing, malformed or oversized field.
    BadRequest(&'static str),
    /// 503: every address of the pool is held by a logged-in host.
    PoolFull,
    /// 404: no such page or file.
    NotFound,
}

impl From<PoolFull> for Refusal {
    fn from(_: PoolFull) -> Refusal {
        Refusal::PoolFull
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Refusal::NotJoined => (
                StatusCode::BAD_REQUEST,
                "Unknown client (MAC ---): join the simulated hotspot first, \
                 with /_sim/join?mac=AA:BB:CC:DD:EE:01",
            ),
            Refusal::BadRequest(message) => (StatusCode::BAD_REQUEST, message),
            Refusal::PoolFull => (
                StatusCode::SERVICE_UNAVAILABLE,
                "no more sessions are allowed: the address pool is full",
            ),
            Refusal::NotFound => (StatusCode::NOT_FOUND, "not found"),
        };
        let page = format!(
            "<!doctype html><meta charset=\"utf-8\"><title>{}</title><p>{message}</p>\n",
            status.as_u16()
        );
        (status, Html(page)).into_response()
    }
}

/// The client a request comes from: the MAC of its `sim-mac` cookie.
#[derive(Debug, Clone, Copy)]
struct Joined(MacAddr);

impl<S: Send + Sync> FromRequestParts<S> for Joined {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Joined, Refusal> {
        parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix(MAC_COOKIE)?.strip_prefix('='))
            .find_map(MacAddr::parse)
            .map(Joined)
            .ok_or(Refusal::NotJoined)
    }
}

/// A field that is absent or empty is `None`; one longer than `max` bytes is refused.
fn field(value: Option<String>, max: usize, what: &'static str) -> Result<Option<String>, Refusal> {
    match value {
        Some(value) if value.len() > max => Err(Refusal::BadRequest(what)),
        Some(value) if !value.is_empty() => Ok(Some(value)),
        _ => Ok(None),
    }
}

/// A page rendered for `host`, with `username` as typed and the last login's `error`.
fn page(
    inner: &Inner,
    host: &HostView,
    page: Page,
    username: &str,
    error: &str,
    headers: &HeaderMap,
) -> Response {
    let source = pages::source(&inner.router, page);
    let vars = pages::variables(
        inner.servlet(),
        host,
        username,
        error,
        headers,
        Instant::now(),
    );
    html(template::render(&source, &vars))
}

/// A login page, with a fresh CHAP challenge.
fn login_page(
    inner: &Inner,
    mac: MacAddr,
    username: &str,
    error: &str,
    headers: &HeaderMap,
) -> Result<Response, Refusal> {
    let host = inner.view(mac, true)?;
    Ok(page(inner, &host, Page::Login, username, error, headers))
}

/// An HTML page the browser must not cache (each login page has its own challenge).
fn html(body: String) -> Response {
    ([(header::CACHE_CONTROL, "no-cache, no-store")], Html(body)).into_response()
}

fn redirect(to: &'static str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

/// `GET /_sim/join?mac=…[&dst=…]`: the browser becomes host `mac`, having asked for `dst`.
#[derive(Debug, Deserialize)]
struct JoinQuery {
    mac: Option<String>,
    dst: Option<String>,
}

async fn join(
    State(inner): State<Arc<Inner>>,
    query: Result<Query<JoinQuery>, QueryRejection>,
) -> Result<Response, Refusal> {
    let Query(query) = query.map_err(|_| Refusal::BadRequest("malformed query"))?;
    let mac = query
        .mac
        .as_deref()
        .and_then(MacAddr::parse)
        .ok_or(Refusal::BadRequest(
            "mac must be a MAC address such as AA:BB:CC:DD:EE:01",
        ))?;
    let dst = field(query.dst, MAX_URL, "dst is too long")?.unwrap_or_else(|| inner.home());
    inner.join(mac, dst)?;
    let cookie = format!("{MAC_COOKIE}={mac}; Path=/; HttpOnly; SameSite=Lax");
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, "/".to_owned()),
            (header::SET_COOKIE, cookie),
        ],
    )
        .into_response())
}

/// `GET /`: the status page of a logged-in host, else the login page.
async fn home(
    State(inner): State<Arc<Inner>>,
    Joined(mac): Joined,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let host = inner.view(mac, false)?;
    if host.logged_in {
        return Ok(page(&inner, &host, Page::Status, "", "", &headers));
    }
    login_page(&inner, mac, "", "", &headers)
}

/// The fields `/login` takes (others, such as `popup`, are ignored).
#[derive(Debug, Default, Deserialize)]
struct LoginForm {
    username: Option<String>,
    password: Option<String>,
    dst: Option<String>,
}

/// `GET|POST /login`: logs the host in with the form's user name and password.
async fn login(
    State(inner): State<Arc<Inner>>,
    Joined(mac): Joined,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, Refusal> {
    let Form(form) = form.map_err(|_| Refusal::BadRequest("malformed login form"))?;
    let username = field(form.username, MAX_USERNAME, "username is too long")?;
    let password = field(form.password, MAX_PASSWORD, "password is too long")?;
    let dst = field(form.dst, MAX_URL, "dst is too long")?;
    let host = inner.view(mac, false)?;
    if let Some(dst) = dst {
        inner.set_link_orig(mac, dst);
    }
    if host.logged_in {
        return Ok(page(&inner, &host, Page::Alogin, "", "", &headers));
    }
    let Some(username) = username else {
        return login_page(&inner, mac, "", "", &headers);
    };
    let credential = inner.credential(mac, password.as_deref().unwrap_or_default());
    let login_by = LoginBy::of(&credential);
    match aaa::log_in(&inner, mac, username.clone(), credential, login_by).await {
        Outcome::Accepted => {
            let host = inner.view(mac, false)?;
            Ok(page(&inner, &host, Page::Alogin, &username, "", &headers))
        }
        Outcome::Refused(error) => login_page(&inner, mac, &username, &error, &headers),
    }
}

/// `GET /status`: a logged-in host's status; others are sent to log in.
async fn status(
    State(inner): State<Arc<Inner>>,
    Joined(mac): Joined,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let host = inner.view(mac, false)?;
    if !host.logged_in {
        return Ok(redirect("/login"));
    }
    Ok(page(&inner, &host, Page::Status, "", "", &headers))
}

/// The fields `/logout` takes.
#[derive(Debug, Default, Deserialize)]
struct LogoutForm {
    #[serde(rename = "erase-cookie")]
    erase_cookie: Option<String>,
}

/// `GET|POST /logout`: ends the host's session (Stop, User-Request); `erase-cookie=on`
/// forgets its mac-cookie too.
async fn logout(
    State(inner): State<Arc<Inner>>,
    Joined(mac): Joined,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Result<Response, Refusal> {
    let Form(form) = form.map_err(|_| Refusal::BadRequest("malformed logout form"))?;
    let erase = field(form.erase_cookie, 16, "erase-cookie is too long")?;
    let ended = aaa::log_out(&inner, mac, acct::USER_REQUEST);
    if matches!(erase.as_deref(), Some("on" | "true" | "yes")) {
        inner.forget_cookie(mac);
    }
    let mut host = inner.view(mac, false)?;
    match ended {
        Some(session) => {
            host.session = Some(session);
            Ok(page(&inner, &host, Page::Logout, "", "", &headers))
        }
        None => Ok(page(&inner, &host, Page::Flogout, "", "", &headers)),
    }
}

/// `GET /_sim/reconnect`: the host drops off (Stop, Lost-Carrier) and comes back; its
/// mac-cookie, if it has one, logs it in again with the credential it stored.
async fn reconnect(
    State(inner): State<Arc<Inner>>,
    Joined(mac): Joined,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    aaa::log_out(&inner, mac, acct::LOST_CARRIER);
    if let Some(cookie) = inner.cookie(mac) {
        let outcome = aaa::log_in(
            &inner,
            mac,
            cookie.user,
            cookie.credential,
            LoginBy::MacCookie,
        )
        .await;
        if outcome == Outcome::Accepted {
            return Ok(redirect("/status"));
        }
    }
    // A mac-cookie that fails does so silently: the host just sees the login page.
    login_page(&inner, mac, "", "", &headers)
}

/// `GET /_sim/state`: hosts, sessions and mac-cookies as JSON.
async fn sim_state(State(inner): State<Arc<Inner>>) -> Response {
    axum::Json(inner.sim_state()).into_response()
}

/// Any other URL: a file of the html directory (HTML ones substituted), else, for a host
/// not logged in, the login page, as any URL it asks for.
async fn other(
    State(inner): State<Arc<Inner>>,
    joined: Result<Joined, Refusal>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let name = uri.path().trim_start_matches('/');
    if name.starts_with("_sim/") {
        return Err(Refusal::NotFound);
    }
    if pages::servable(name)
        && let Some(contents) = pages::file(&inner.router, name)
    {
        let (content_type, substituted) = pages::content_type(name);
        if !substituted {
            return Ok(([(header::CONTENT_TYPE, content_type)], contents).into_response());
        }
        let Joined(mac) = joined?;
        let host = inner.view(mac, false)?;
        let source = String::from_utf8_lossy(&contents);
        let vars = pages::variables(inner.servlet(), &host, "", "", &headers, Instant::now());
        return Ok(html(template::render(&source, &vars)));
    }
    let Joined(mac) = joined?;
    if inner.view(mac, false)?.logged_in {
        return Err(Refusal::NotFound);
    }
    login_page(&inner, mac, "", "", &headers)
}
