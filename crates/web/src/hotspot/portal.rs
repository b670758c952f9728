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

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::i18n::{Lang, Tr};
use crate::page::form::FormData;
use crate::state::AppState;
use domain::customer::{CustomerState, Msisdn};
use domain::hotspot::{Blocked, Next};
use ops::OpError;
use ops::hotspot::visit::{self, Arrival, Standing, Step};
use store::hotspot::Device;

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
        .route("/hs/{key}/device", post(device))
        .route("/hs/{key}/take-over", post(take_over))
        .route("/hs/{key}/welcome", get(welcome))
        .route("/hs/{key}/status", get(welcome))
        .route("/hs/{key}/bye", get(bye))
        .route("/hs/{key}/lang/{code}", get(language))
        .route("/hs/{key}/router/{page}", get(router_page))
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
}

/// One account as the page lists it.
struct AccountRow {
    id: i64,
    username: String,
    state: &'static str,
    expires: String,
}

/// One device as the page lists it.
struct DeviceRow {
    id: i64,
    account: i64,
    label: String,
    mac: String,
    randomised: bool,
}

/// One open session of an account in use, as the page lists it.
struct SessionRow {
    /// The bound device's label, or the MAC when no device has it.
    device: String,
    mac: String,
    since: String,
}

/// The portal's one page; `screen` says which step it shows.
#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    t: Tr,
    key: String,
    csrf: String,
    tenant: String,
    screen: &'static str,
    /// A message (already in the page's language) about what was refused.
    error: String,
    mobile: String,
    masked: String,
    account: i64,
    why: &'static str,
    network: String,
    trial: bool,
    accounts: Vec<AccountRow>,
    devices: Vec<DeviceRow>,
    package: String,
    expires: String,
    state: &'static str,
    logout_url: String,
    randomised: bool,
    sessions: Vec<SessionRow>,
    /// The page looks again in a moment (the routers are ending sessions).
    refresh: bool,
    /// A voucher's code to fill in.
    voucher: String,
    /// Paid time left, in the page's language (empty when none counts).
    time_left: String,
    /// Volume left of the period's, in the page's language (empty without a volume).
    data_left: String,
}

impl PortalPage {
    fn new(lang: Lang, key: &str, screen: &'static str) -> Self {
        PortalPage {
            t: Tr { lang },
            key: key.to_owned(),
            csrf: String::new(),
            tenant: String::new(),
            screen,
            error: String::new(),
            mobile: String::new(),
            masked: String::new(),
            account: 0,
            why: "",
            network: String::new(),
            trial: false,
            accounts: Vec::new(),
            devices: Vec::new(),
            package: String::new(),
            expires: String::new(),
            state: "",
            logout_url: String::new(),
            randomised: false,
            sessions: Vec::new(),
            refresh: false,
            voucher: String::new(),
            time_left: String::new(),
            data_left: String::new(),
        }
    }

    fn of(step: &Step, token: &str, screen: &'static str) -> Self {
        let mut page = PortalPage::new(lang_of(step), &step.portal.portal_key, screen);
        page.csrf = csrf(token);
        page.tenant = step.tenant.name.clone();
        page.mobile = step
            .visit
            .mobile
            .as_deref()
            .map(|m| Msisdn::stored(m).national())
            .unwrap_or_default();
        page.masked = mask(&page.mobile);
        page.randomised = step
            .visit
            .mac
            .as_deref()
            .and_then(domain::network::MacAddr::parse)
            .is_some_and(|m| m.is_random());
        page
    }

    /// What an account's state is called.
    fn state_text(&self, state: &str) -> &'static str {
        self.t.t(&format!("portal.state.{state}"))
    }

    /// Why the account cannot sign in.
    fn why_text(&self) -> &'static str {
        self.t.t(&format!("portal.why.{}", self.why))
    }

    fn with_error(mut self, error: &OpError) -> Self {
        self.error = message(self.t, error);
        self
    }
}

/// A page with no-store caching (every portal page is about one phone's visit).
fn page(status: StatusCode, template: &PortalPage) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => {
            tracing::error!(%error, "portal page rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "error").into_response()
        }
    }
}

fn lang_of(step: &Step) -> Lang {
    Lang::parse(&step.visit.lang).unwrap_or_default()
}

/// The visit's CSRF token: a hash of its cookie under a label of its own.
fn csrf(token: &str) -> String {
    store::hotspot::token_hash(&format!("csrf|{token}"))
}

/// `01712345678` shown as `017•••••678`.
fn mask(national: &str) -> String {
    let chars: Vec<char> = national.chars().collect();
    if chars.len() < 7 {
        return national.to_owned();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}{}{tail}", "•".repeat(chars.len() - 6))
}

/// What the phone is told about a refusal, in its language.
fn message(t: Tr, error: &OpError) -> String {
    match error {
        OpError::Invalid(errors) => crate::page::ui::field_messages(t, errors)
            .into_iter()
            .map(|(_, message)| message)
            .collect::<Vec<_>>()
            .join(" "),
        OpError::TooMany(seconds) => t.t1("portal.wait", "n", &seconds.to_string()),
        OpError::NotFound | OpError::Forbidden => t.t("portal.not_allowed").to_owned(),
        _ => t.t("portal.try_later").to_owned(),
    }
}

fn status_of(error: &OpError) -> StatusCode {
    match error {
        OpError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        OpError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
        OpError::NotFound => StatusCode::NOT_FOUND,
        OpError::Forbidden => StatusCode::FORBIDDEN,
        OpError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

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

/// The visit of a posted step, its CSRF token checked.
async fn posted(
    state: &AppState,
    key: &str,
    headers: &HeaderMap,
    form: &FormData,
) -> Result<(Step, String), Response> {
    let (step, token) = visit_of(state, key, headers).await?;
    if !ops::auth::token::same(form.text("_csrf"), &csrf(&token)) {
        let page_ = PortalPage::of(&step, &token, "gone");
        return Err(page(StatusCode::FORBIDDEN, &page_));
    }
    Ok((step, token))
}

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
            &standing_page(&step, &token, &standing, ctx.now),
        ),
        Err(error) => page(
            status_of(&error),
            &PortalPage::of(&step, &token, "mobile").with_error(&error),
        ),
    }
}

fn date_of(step: &Step, at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    let zone = ops::customer::zone(&step.tenant);
    at.map(|at| at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The page for what a proved mobile gets.
fn standing_page(
    step: &Step,
    token: &str,
    standing: &Standing,
    now: chrono::DateTime<chrono::Utc>,
) -> PortalPage {
    let accounts: Vec<AccountRow> = standing
        .accounts
        .iter()
        .map(|c| AccountRow {
            id: c.id,
            username: c.username.clone(),
            state: CustomerState::of(c.status.get(), c.billing_type.get(), c.expires_at, now)
                .as_str(),
            expires: date_of(step, c.expires_at),
        })
        .collect();
    let devices = |account: i64| -> Vec<DeviceRow> {
        standing
            .devices
            .iter()
            .filter(|d| d.customer_id == account)
            .map(|d: &Device| DeviceRow {
                id: d.id,
                account,
                label: d.label.clone(),
                mac: d.mac.clone(),
                randomised: d.randomised,
            })
            .collect()
    };
    let mut p;
    match &standing.next {
        Next::SignIn { account, .. } => {
            p = PortalPage::of(step, token, "signin");
            p.account = *account;
            if p.masked.is_empty() {
                // A voucher's account: named by its code.
                p.masked = standing
                    .accounts
                    .iter()
                    .find(|c| c.id == *account)
                    .map(|c| c.username.split('@').next().unwrap_or("").to_uppercase())
                    .unwrap_or_default();
            }
        }
        Next::DeviceLimit { account } => {
            p = PortalPage::of(step, token, "devices");
            p.account = *account;
            p.devices = devices(*account);
        }
        Next::Choose(_) => {
            p = PortalPage::of(step, token, "choose");
        }
        Next::InUse { account } => {
            p = PortalPage::of(step, token, "in_use");
            p.account = *account;
            p.refresh = standing.ending;
            p.sessions = standing
                .sessions
                .iter()
                .filter(|s| s.customer_id == Some(*account))
                .map(|s| SessionRow {
                    device: standing
                        .devices
                        .iter()
                        .find(|d| {
                            d.customer_id == *account
                                && domain::network::MacAddr::parse(&d.mac)
                                    == domain::network::MacAddr::parse(&s.mac)
                        })
                        .map(|d| d.label.clone())
                        .unwrap_or_default(),
                    mac: s.mac.clone(),
                    since: date_of(step, s.started_at),
                })
                .collect();
        }
        Next::BoundElsewhere { account } => {
            p = PortalPage::of(step, token, "bound");
            p.account = *account;
        }
        Next::Recharge { account, why } => {
            p = PortalPage::of(step, token, "recharge");
            p.account = *account;
            p.why = match why {
                Blocked::Expired => "expired",
                Blocked::Suspended => "suspended",
                Blocked::UsedUp => "used_up",
            };
        }
        Next::OtherNetwork(network) => {
            p = PortalPage::of(step, token, "other");
            p.network = network.clone();
        }
        Next::SignUp { trial } => {
            p = PortalPage::of(step, token, "signup");
            p.trial = *trial;
        }
    }
    p.accounts = accounts;
    p
}

/// After a step: sign in when `decide` says so, else show the step.
async fn onward(
    state: &AppState,
    headers: &HeaderMap,
    step: &Step,
    token: &str,
    standing: Result<Standing, OpError>,
    retry: &'static str,
) -> Response {
    match standing {
        Ok(standing) => match standing.next {
            Next::SignIn { account, .. } => hand_off(state, headers, step, token, account).await,
            _ => here(&step.portal.portal_key).into_response(),
        },
        Err(error) => page(
            status_of(&error),
            &PortalPage::of(step, token, retry).with_error(&error),
        ),
    }
}

/// The 303 to the router's login.
async fn hand_off(
    state: &AppState,
    headers: &HeaderMap,
    step: &Step,
    token: &str,
    account: i64,
) -> Response {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match visit::hand_off(&state.ctx(), step, account, agent).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(error) => page(
            status_of(&error),
            &PortalPage::of(step, token, "mobile").with_error(&error),
        ),
    }
}

/// `POST mobile`: a code to the mobile typed.
async fn mobile(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let (step, token) = match posted(&state, &key, &headers, &form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match visit::send_code(&state.ctx(), &step, form.text("mobile")).await {
        Ok(_) => {
            state.jobs_wake.notify_one();
            here(&key).into_response()
        }
        Err(error) => {
            let mut p = PortalPage::of(&step, &token, "mobile").with_error(&error);
            p.mobile = form.text("mobile").chars().take(20).collect();
            page(status_of(&error), &p)
        }
    }
}

/// `POST voucher`: an access voucher's code instead of a mobile.
async fn voucher(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let (step, token) = match posted(&state, &key, &headers, &form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let standing = ops::hotspot::voucher::voucher(&state.ctx(), &step, form.text("voucher")).await;
    if let Err(error) = &standing {
        let mut p = PortalPage::of(&step, &token, "mobile").with_error(error);
        p.voucher = form.text("voucher").chars().take(20).collect();
        return page(status_of(error), &p);
    }
    let (step, token) = match visit_of(&state, &key, &headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    onward(&state, &headers, &step, &token, standing, "mobile").await
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

/// `POST code`: the code typed.
async fn code(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let (step, token) = match posted(&state, &key, &headers, &form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let ctx = state.ctx();
    if let Err(error) = visit::check_code(&ctx, &step, form.text("code")).await {
        return page(
            status_of(&error),
            &PortalPage::of(&step, &token, "code").with_error(&error),
        );
    }
    let (step, token) = match visit_of(&state, &key, &headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let standing = visit::next(&ctx, &step, None).await;
    onward(&state, &headers, &step, &token, standing, "mobile").await
}

fn number(form: &FormData, name: &str) -> i64 {
    form.text(name).trim().parse().unwrap_or(0)
}

/// `POST choose`: one account among the mobile's.
async fn choose(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let (step, token) = match posted(&state, &key, &headers, &form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let standing = visit::choose(&state.ctx(), &step, number(&form, "account")).await;
    onward(&state, &headers, &step, &token, standing, "choose").await
}

/// `POST connect`: sign in as the account.
async fn connect(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let (step, token) = match posted(&state, &key, &headers, &form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    hand_off(&state, &headers, &step, &token, number(&form, "account")).await
}

/// `POST signup`: a new account, on the trial when asked and allowed.
async fn signup(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let (step, token) = match posted(&state, &key, &headers, &form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let trial = form.text("trial") == "1";
    let standing = visit::sign_up(&state.ctx(), &step, trial).await;
    let (step, token) = match standing {
        Ok(_) => match visit_of(&state, &key, &headers).await {
            Ok(found) => found,
            Err(response) => return response,
        },
        Err(_) => (step, token),
    };
    onward(&state, &headers, &step, &token, standing, "signup").await
}

/// `POST card`: a recharge card for one of the mobile's accounts.
async fn card(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let (step, token) = match posted(&state, &key, &headers, &form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let account = number(&form, "account");
    let ctx = state.ctx();
    if let Err(error) = visit::redeem(&ctx, &step, account, form.text("pin")).await {
        let mut p = PortalPage::of(&step, &token, "recharge").with_error(&error);
        p.account = account;
        return page(status_of(&error), &p);
    }
    let standing = visit::next(&ctx, &step, Some(account)).await;
    onward(&state, &headers, &step, &token, standing, "recharge").await
}

/// `POST device`: removes a device, making room for this one.
async fn device(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let (step, token) = match posted(&state, &key, &headers, &form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let account = number(&form, "account");
    let ctx = state.ctx();
    if let Err(error) = visit::remove_device(&ctx, &step, account, number(&form, "device")).await {
        return page(
            status_of(&error),
            &PortalPage::of(&step, &token, "devices").with_error(&error),
        );
    }
    // The removed device's sessions end through the job queue.
    state.jobs_wake.notify_one();
    let standing = visit::next(&ctx, &step, Some(account)).await;
    onward(&state, &headers, &step, &token, standing, "devices").await
}

/// `POST take-over`: ends the sessions of an account in use, so this phone may sign in.
async fn take_over(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let (step, token) = match posted(&state, &key, &headers, &form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let account = number(&form, "account");
    match visit::take_over(&state.ctx(), &step, account).await {
        Ok(_) => {
            state.jobs_wake.notify_one();
            here(&key).into_response()
        }
        Err(error) => {
            let mut p = PortalPage::of(&step, &token, "in_use").with_error(&error);
            p.account = account;
            page(status_of(&error), &p)
        }
    }
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

/// `left` as days and hours, or hours and minutes under a day.
fn time_left(t: Tr, left: chrono::TimeDelta) -> String {
    let minutes = left.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if days > 0 {
        crate::i18n::format(
            t.lang,
            "portal.left_days",
            &[("d", days.to_string()), ("h", hours.to_string())],
        )
    } else {
        crate::i18n::format(
            t.lang,
            "portal.left_hours",
            &[("h", hours.to_string()), ("m", mins.to_string())],
        )
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
