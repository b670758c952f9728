//! The customer's own site (`/my/{isp}/…`, role Customer): where a subscriber signs in and
//! sees and runs its service, on a phone, in Bangla or English, without script
//! (`ops::selfcare` decides everything; this module reads forms and cookies and shows
//! [`page::MyPage`]).
//!
//! - `GET login`, `POST login` (user name and password), `POST code` (a mobile: a code is
//!   sent), `GET code`, `POST code/check`. The sign-in forms carry a token from a cookie of
//!   their own (a double submit), so another site cannot sign a browser in.
//! - Signed in (the `HttpOnly` cookie `lastmile_my`, scoped to `/my/{isp}`): `GET` the
//!   home page (package, expiry, usage and what is left, live sessions, the traffic graph),
//!   `GET traffic.svg`, `GET bills`, `GET documents/{id}` (a receipt or invoice of its own),
//!   `POST card`, `POST pay` (to the provider's checkout) and `GET paid/{reference}`,
//!   `GET|POST password`, `POST switch` (another account of the proved mobile),
//!   `POST logout`. Every post carries the session's CSRF token.
//!
//! Another customer's document or payment is not found; a session of another ISP, or one
//! signed out, goes back to the sign-in.

mod page;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::traffic::Period;
use serde::Deserialize;

use self::page::{MyPage, page, status_of};
use crate::http::client::ClientIp;
use crate::i18n::{Lang, Tr};
use crate::ledger::panel::{digits_of, money_text};
use crate::page::cookie::cookie_in;
use crate::page::form::FormData;
use crate::state::AppState;
use ops::OpError;
use ops::selfcare::Me;

/// The session's cookie.
const COOKIE: &str = "lastmile_my";

/// The sign-in forms' token's cookie.
const FORM_COOKIE: &str = "lastmile_my_form";

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/my/{isp}", get(home))
        .route("/my/{isp}/login", get(login_page).post(login))
        .route("/my/{isp}/code", get(code_page).post(ask_code))
        .route("/my/{isp}/code/check", post(check_code))
        .route("/my/{isp}/traffic.svg", get(traffic))
        .route("/my/{isp}/bills", get(bills))
        .route("/my/{isp}/documents/{id}", get(document))
        .route("/my/{isp}/card", post(card))
        .route("/my/{isp}/pay", post(pay))
        .route("/my/{isp}/paid/{reference}", get(paid))
        .route("/my/{isp}/password", get(password_page).post(password))
        .route("/my/{isp}/switch", post(switch))
        .route("/my/{isp}/logout", post(logout))
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
}

/// The language: the browser's, as the panel reads it.
fn lang_of(headers: &HeaderMap) -> Lang {
    crate::page::cookie::language_of(headers)
}

/// `Set-Cookie` for `name=value` on `/my/{isp}`, for `max_age` seconds (0: removed).
fn cookie(
    state: &AppState,
    isp: &str,
    name: &str,
    value: &str,
    max_age: i64,
) -> Option<HeaderValue> {
    let mut text =
        format!("{name}={value}; Path=/my/{isp}; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    if state.settings.https() {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).ok()
}

/// A redirect to `to` (303), with cookies set.
fn see(to: &str, cookies: &[Option<HeaderValue>]) -> Response {
    let mut response = Redirect::to(to).into_response();
    for value in cookies.iter().flatten() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, value.clone());
    }
    response
}

/// The ISP at `isp`, or the not-found page.
async fn tenant_of(
    state: &AppState,
    headers: &HeaderMap,
    isp: &str,
) -> Result<store::tenant::Tenant, Response> {
    ops::selfcare::tenant_at(&state.ctx(), isp)
        .await
        .map_err(|error| {
            let p = MyPage::new(lang_of(headers), isp, "", "gone").with_error(&error);
            page(status_of(&error), &p)
        })
}

/// The signed-in customer, or a redirect to the sign-in.
async fn me_of(state: &AppState, headers: &HeaderMap, isp: &str) -> Result<Me, Response> {
    let tenant = tenant_of(state, headers, isp).await?;
    let ctx = state.ctx();
    let token = cookie_in(headers, COOKIE).unwrap_or_default();
    let found = async {
        let session = ops::selfcare::session(&ctx, &token).await?;
        ops::selfcare::me(&ctx, session, tenant).await
    };
    match found.await {
        Ok(me) => Ok(me),
        Err(OpError::Unauthenticated(_)) => Err(see(&format!("/my/{isp}/login"), &[])),
        Err(error) => Err(page(
            status_of(&error),
            &MyPage::new(lang_of(headers), isp, "", "gone").with_error(&error),
        )),
    }
}

/// A signed-in request: the customer, the ISP's realm from the path, and the headers. Its
/// rejection is the sign-in's redirect (or the ISP's not-found page).
struct Signed {
    me: Me,
    isp: String,
    headers: HeaderMap,
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let isp = params
            .iter()
            .find(|(name, _)| *name == "isp")
            .map(|(_, value)| value.to_owned())
            .unwrap_or_default();
        let me = me_of(state, &parts.headers, &isp).await?;
        Ok(Signed {
            me,
            isp,
            headers: parts.headers.clone(),
        })
    }
}

/// A page for `me` of `view`.
fn page_of(me: &Me, headers: &HeaderMap, isp: &str, view: &'static str) -> MyPage {
    let lang = Lang::parse(&me.session.lang).unwrap_or_else(|| lang_of(headers));
    let mut p = MyPage::new(lang, isp, &me.tenant.name, view);
    p.csrf = me.session.csrf.clone();
    p.name = me.customer.name.clone();
    p.username = me.customer.username.clone();
    p
}

/// A signed-in post's form, its CSRF token checked.
fn checked(me: &Me, form: &FormData) -> Result<(), OpError> {
    if ops::auth::token::same(form.text("_csrf"), &me.session.csrf) {
        Ok(())
    } else {
        Err(OpError::Forbidden)
    }
}

// ---- signing in ----

async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(isp): Path<String>,
) -> Response {
    let tenant = match tenant_of(&state, &headers, &isp).await {
        Ok(tenant) => tenant,
        Err(response) => return response,
    };
    login_form(&state, &headers, &isp, &tenant, None, StatusCode::OK)
}

/// The sign-in page, with a fresh form token, saying why `error` refused if it did.
fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    isp: &str,
    tenant: &store::tenant::Tenant,
    error: Option<&OpError>,
    status: StatusCode,
) -> Response {
    let token = ops::auth::token::new_token("");
    let mut p = MyPage::new(lang_of(headers), isp, &tenant.name, "login");
    p.csrf = token.clone();
    if let Some(error) = error {
        p = p.with_error(error);
    }
    let mut response = page(status, &p);
    if let Some(value) = cookie(state, isp, FORM_COOKIE, &token, 3600) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Whether a sign-in form carries its cookie's token.
fn form_token_ok(headers: &HeaderMap, form: &FormData) -> bool {
    let kept = cookie_in(headers, FORM_COOKIE).unwrap_or_default();
    !kept.is_empty() && ops::auth::token::same(form.text("_csrf"), &kept)
}

/// The ISP of a posted sign-in form whose token matches its cookie; else the page that
/// refuses it.
async fn sign_in_form(
    state: &AppState,
    headers: &HeaderMap,
    isp: &str,
    form: &FormData,
) -> Result<store::tenant::Tenant, Response> {
    let tenant = tenant_of(state, headers, isp).await?;
    if !form_token_ok(headers, form) {
        return Err(login_form(
            state,
            headers,
            isp,
            &tenant,
            Some(&OpError::Forbidden),
            StatusCode::FORBIDDEN,
        ));
    }
    Ok(tenant)
}

/// Where a sign-in step goes: on to `next` with the new session's cookie (the form's is
/// spent), or back to the sign-in saying why it was refused.
fn signed_on(
    state: &AppState,
    headers: &HeaderMap,
    isp: &str,
    tenant: &store::tenant::Tenant,
    opened: Result<ops::selfcare::Opened, OpError>,
    next: &str,
) -> Response {
    match opened {
        Ok(opened) => see(
            &format!("/my/{isp}{next}"),
            &[
                cookie(
                    state,
                    isp,
                    COOKIE,
                    &opened.token,
                    ops::selfcare::SESSION_HOURS * 3600,
                ),
                cookie(state, isp, FORM_COOKIE, "", 0),
            ],
        ),
        Err(error) => login_form(state, headers, isp, tenant, Some(&error), status_of(&error)),
    }
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Path(isp): Path<String>,
    form: FormData,
) -> Response {
    let tenant = match sign_in_form(&state, &headers, &isp, &form).await {
        Ok(tenant) => tenant,
        Err(response) => return response,
    };
    let signed = ops::selfcare::sign_in(
        &state.ctx(),
        &state.throttle,
        &tenant,
        form.text("username"),
        form.text("password"),
        lang_of(&headers).code(),
        ip,
    )
    .await
    .map(|(opened, _)| opened);
    signed_on(&state, &headers, &isp, &tenant, signed, "")
}

async fn ask_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Path(isp): Path<String>,
    form: FormData,
) -> Response {
    let tenant = match sign_in_form(&state, &headers, &isp, &form).await {
        Ok(tenant) => tenant,
        Err(response) => return response,
    };
    let asked = ops::selfcare::ask_code(
        &state.ctx(),
        &state.throttle,
        &tenant,
        form.text("mobile"),
        lang_of(&headers).code(),
        ip,
    )
    .await
    .map(|(opened, _)| opened);
    signed_on(&state, &headers, &isp, &tenant, asked, "/code")
}

/// The session waiting for a code, with its page; else the sign-in.
async fn waiting(
    state: &AppState,
    headers: &HeaderMap,
    isp: &str,
) -> Result<(store::selfcare::CustomerSession, MyPage), Response> {
    let tenant = tenant_of(state, headers, isp).await?;
    let token = cookie_in(headers, COOKIE).unwrap_or_default();
    match ops::selfcare::session(&state.ctx(), &token).await {
        Ok(session)
            if session.tenant_id == tenant.id && session.stage == store::selfcare::STAGE_CODE =>
        {
            let lang = Lang::parse(&session.lang).unwrap_or_else(|| lang_of(headers));
            let mut p = MyPage::new(lang, isp, &tenant.name, "code");
            p.csrf = session.csrf.clone();
            p.mobile = session.mobile.clone().unwrap_or_default();
            Ok((session, p))
        }
        _ => Err(see(&format!("/my/{isp}/login"), &[])),
    }
}

async fn code_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(isp): Path<String>,
) -> Response {
    match waiting(&state, &headers, &isp).await {
        Ok((_, p)) => page(StatusCode::OK, &p),
        Err(response) => response,
    }
}

async fn check_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(isp): Path<String>,
    form: FormData,
) -> Response {
    let (session, p) = match waiting(&state, &headers, &isp).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if !ops::auth::token::same(form.text("_csrf"), &session.csrf) {
        return page(StatusCode::FORBIDDEN, &p.with_error(&OpError::Forbidden));
    }
    match ops::selfcare::check_code(&state.ctx(), &session, form.text("code")).await {
        Ok(_) => see(&format!("/my/{isp}"), &[]),
        Err(error) => page(status_of(&error), &p.with_error(&error)),
    }
}

// ---- signed in ----

#[derive(Debug, Default, Deserialize)]
struct PeriodParam {
    graph: Option<String>,
    period: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    Signed { me, isp, headers }: Signed,
    Query(q): Query<PeriodParam>,
) -> Response {
    let period = q
        .graph
        .as_deref()
        .and_then(Period::parse)
        .unwrap_or(Period::Day);
    home_page(&state, &headers, &isp, &me, period, None, None).await
}

/// The home page, with a notice or a refusal.
async fn home_page(
    state: &AppState,
    headers: &HeaderMap,
    isp: &str,
    me: &Me,
    period: Period,
    notice: Option<String>,
    error: Option<&OpError>,
) -> Response {
    let ctx = state.ctx();
    let found = async {
        let overview = ops::selfcare::overview(&ctx, me).await?;
        let accounts = ops::selfcare::accounts(&ctx, me).await?;
        Ok::<_, OpError>((overview, accounts))
    };
    let (overview, accounts) = match found.await {
        Ok(found) => found,
        Err(error) => {
            return page(
                status_of(&error),
                &page_of(me, headers, isp, "gone").with_error(&error),
            );
        }
    };
    let mut p = page_of(me, headers, isp, "home");
    let t = p.t;
    let zone = ops::customer::zone(&me.tenant);
    let when = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
    };
    let c = &me.customer;
    let state_now = domain::customer::CustomerState::of(
        c.status.get(),
        c.billing_type.get(),
        c.expires_at,
        ctx.now,
    );
    p.facts.push((
        t.t("my.package").to_owned(),
        overview
            .package
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default(),
    ));
    p.facts.push((
        t.t("my.state").to_owned(),
        t.t(&format!("my.state_{}", state_now.as_str())).to_owned(),
    ));
    if let Some(expires) = c.expires_at {
        let left = expires - ctx.now;
        p.facts.push((t.t("my.expires").to_owned(), when(expires)));
        if left > chrono::TimeDelta::zero() {
            p.facts.push((
                t.t("my.time_left").to_owned(),
                crate::i18n::format(
                    t.lang,
                    "my.days_hours",
                    &[
                        ("d", left.num_days().to_string()),
                        ("h", (left.num_hours() % 24).to_string()),
                    ],
                ),
            ));
        }
    }
    let u = &overview.usage;
    p.usage = format!(
        "{} {}, {} {}",
        t.t("online.down"),
        crate::page::ui::bytes(u.period.output_octets),
        t.t("online.up"),
        crate::page::ui::bytes(u.period.input_octets)
    );
    if let Some(allowance) = &u.allowance
        && let Some(volume) = allowance.volume_bytes
    {
        p.facts.push((
            t.t("my.volume_left").to_owned(),
            crate::page::ui::bytes((volume - allowance.used_bytes).max(0)),
        ));
    }
    p.live = overview
        .live
        .iter()
        .map(|s| {
            (
                s.started_at.map(when).unwrap_or_default(),
                s.framed_ip.clone().unwrap_or_default(),
                crate::page::ui::bytes(s.output_octets),
                crate::page::ui::bytes(s.input_octets),
            )
        })
        .collect();
    p.period = period.as_str();
    p.pays_online = overview.pays_online;
    p.accounts = accounts.into_iter().map(|a| (a.id, a.username)).collect();
    if let Some(notice) = notice {
        p.notice = notice;
    }
    let status = match error {
        Some(error) => {
            p = p.with_error(error);
            status_of(error)
        }
        None => StatusCode::OK,
    };
    page(status, &p)
}

async fn traffic(
    State(state): State<AppState>,
    Signed { me, .. }: Signed,
    Query(q): Query<PeriodParam>,
) -> Response {
    let Some(period) = q.period.as_deref().map_or(Some(Period::Day), Period::parse) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let t = Tr {
        lang: Lang::parse(&me.session.lang).unwrap_or_default(),
    };
    match ops::selfcare::traffic(&state.ctx(), &me, period).await {
        Ok(graph) => {
            let title = t.t(crate::traffic::panel::period_key(period));
            let mut response =
                crate::traffic::svg(&graph.series, title, graph.zone, t).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => status_of(&error).into_response(),
    }
}

async fn bills(State(state): State<AppState>, Signed { me, isp, headers }: Signed) -> Response {
    let mut p = page_of(&me, &headers, &isp, "bills");
    let (documents, payments) = match ops::selfcare::bills(&state.ctx(), &me).await {
        Ok(found) => found,
        Err(error) => return page(status_of(&error), &p.with_error(&error)),
    };
    let zone = ops::customer::zone(&me.tenant);
    let day =
        |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&zone).format("%Y-%m-%d").to_string();
    let t = p.t;
    p.documents = documents
        .iter()
        .map(|d| {
            let money = money_text(d.total, digits_of(&d.currency), &d.currency);
            let kind = match domain::invoice::Series::parse(&d.series) {
                Some(domain::invoice::Series::Invoice) => "receipt.invoice_title",
                Some(domain::invoice::Series::CreditNote) => "receipt.credit_note_title",
                _ => "receipt.title",
            };
            (
                day(d.issued_at),
                format!("{} {}", t.t(kind), d.number_text),
                money,
                Some(format!("/my/{isp}/documents/{}", d.id)),
            )
        })
        .collect();
    p.payments = payments
        .iter()
        .map(|pay| {
            (
                day(pay.received_at),
                pay.method.clone(),
                money_text(pay.amount, digits_of(&pay.currency), &pay.currency),
                pay.receipt_id.map(|id| format!("/my/{isp}/documents/{id}")),
            )
        })
        .collect();
    page(StatusCode::OK, &p)
}

async fn document(
    State(state): State<AppState>,
    Signed { me, isp, headers }: Signed,
    Path((_, id)): Path<(String, i64)>,
) -> Response {
    let ctx = state.ctx();
    let lang = Lang::parse(&me.session.lang).unwrap_or_else(|| lang_of(&headers));
    match ops::selfcare::document(&ctx, &me, id).await {
        Ok(invoice) => match crate::ledger::receipt::document(&ctx, invoice, Tr { lang }).await {
            Ok(response) => response,
            Err(error) => page(
                status_of(&error),
                &page_of(&me, &headers, &isp, "gone").with_error(&error),
            ),
        },
        Err(error) => page(
            status_of(&error),
            &page_of(&me, &headers, &isp, "gone").with_error(&error),
        ),
    }
}

async fn card(
    State(state): State<AppState>,
    Signed { me, isp, headers }: Signed,
    form: FormData,
) -> Response {
    let ctx = state.ctx();
    let done = async {
        checked(&me, &form)?;
        ops::selfcare::redeem(&ctx, &me, form.text("pin")).await
    };
    match done.await {
        Ok(redeemed) => {
            let t = Tr {
                lang: Lang::parse(&me.session.lang).unwrap_or_default(),
            };
            let notice = t.t1("my.recharged", "serial", &redeemed.serial);
            // The page shows the customer after the recharge.
            match me_of(&state, &headers, &isp).await {
                Ok(me) => {
                    home_page(&state, &headers, &isp, &me, Period::Day, Some(notice), None).await
                }
                Err(response) => response,
            }
        }
        Err(error) => home_page(&state, &headers, &isp, &me, Period::Day, None, Some(&error)).await,
    }
}

async fn pay(
    State(state): State<AppState>,
    Signed { me, isp, headers }: Signed,
    form: FormData,
) -> Response {
    let ctx = state.ctx();
    let checkout = async {
        checked(&me, &form)?;
        let (intent, credentials) = ops::selfcare::pay(&ctx, &me).await?;
        let back = format!(
            "{}/my/{isp}/paid/{}",
            crate::billing::online::base_of(&state, &headers),
            intent.merchant_ref
        );
        match crate::billing::online::checkout(&state, &headers, intent, &credentials, &back).await
        {
            Ok(intent) => intent.redirect_url.ok_or(OpError::Busy),
            Err(crate::billing::online::StartError::Op(error)) => Err(error),
            Err(crate::billing::online::StartError::Gateway) => {
                Err(OpError::field("pay", "payment_unavailable"))
            }
        }
    };
    match checkout.await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(error) => home_page(&state, &headers, &isp, &me, Period::Day, None, Some(&error)).await,
    }
}

async fn paid(
    State(state): State<AppState>,
    Signed { me, isp, headers }: Signed,
    Path((_, reference)): Path<(String, String)>,
) -> Response {
    let mut p = page_of(&me, &headers, &isp, "paid");
    if reference.len() > 64 {
        return page(StatusCode::NOT_FOUND, &p.with_error(&OpError::NotFound));
    }
    match ops::selfcare::payment(&state.ctx(), &me, &reference).await {
        Ok(intent) => {
            let t = p.t;
            p.notice = match intent.status.as_str() {
                "succeeded" => t.t("my.paid_done").to_owned(),
                "failed" | "cancelled" | "expired" => t.t("my.paid_failed").to_owned(),
                _ => {
                    p.refresh = true;
                    t.t("my.paid_waiting").to_owned()
                }
            };
            page(StatusCode::OK, &p)
        }
        Err(error) => page(status_of(&error), &p.with_error(&error)),
    }
}

async fn password_page(Signed { me, isp, headers }: Signed) -> Response {
    page(StatusCode::OK, &page_of(&me, &headers, &isp, "password"))
}

async fn password(
    State(state): State<AppState>,
    Signed { me, isp, headers }: Signed,
    form: FormData,
) -> Response {
    let p = page_of(&me, &headers, &isp, "password");
    let done = async {
        checked(&me, &form)?;
        if form.text("password") != form.text("confirm") {
            return Err(OpError::field("confirm", "passwords_differ"));
        }
        ops::selfcare::change_password(
            &state.ctx(),
            &me,
            form.text("current_password"),
            form.text("password"),
        )
        .await
    };
    match done.await {
        Ok(_) => {
            let mut p = p;
            p.notice = p.t.t("my.password_changed").to_owned();
            page(StatusCode::OK, &p)
        }
        Err(error) => page(status_of(&error), &p.with_error(&error)),
    }
}

async fn switch(
    State(state): State<AppState>,
    Signed { me, isp, headers }: Signed,
    form: FormData,
) -> Response {
    let account = form.text("account").parse::<i64>().unwrap_or(0);
    let done = async {
        checked(&me, &form)?;
        ops::selfcare::switch(&state.ctx(), &me, account).await
    };
    match done.await {
        Ok(()) => see(&format!("/my/{isp}"), &[]),
        Err(error) => home_page(&state, &headers, &isp, &me, Period::Day, None, Some(&error)).await,
    }
}

async fn logout(
    State(state): State<AppState>,
    Signed { me, isp, headers }: Signed,
    form: FormData,
) -> Response {
    if checked(&me, &form).is_err() {
        return home_page(
            &state,
            &headers,
            &isp,
            &me,
            Period::Day,
            None,
            Some(&OpError::Forbidden),
        )
        .await;
    }
    if let Err(error) = ops::selfcare::sign_out(&state.ctx(), &me).await {
        return home_page(&state, &headers, &isp, &me, Period::Day, None, Some(&error)).await;
    }
    see(
        &format!("/my/{isp}/login"),
        &[cookie(&state, &isp, COOKIE, "", 0)],
    )
}
