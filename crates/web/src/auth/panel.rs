//! The panel's sign-in pages (password, then the TOTP code when the account has one), sign
//! out, the first-account setup link, the dashboard, and the signed-in user's account page
//! (password, TOTP enrolment).

use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::TimeDelta;
use serde::Deserialize;
use std::net::IpAddr;

use crate::http::client::{ClientIp, user_agent};
use crate::page::form::FormData;
use crate::page::session::{self, COOKIE, PanelUser};
use crate::page::ui::{self, Section, Ui, field_messages, render};
use crate::state::AppState;
use ops::OpError;
use ops::auth::{self as signin, Verified, token};
use store::auth::{NewSession, Stage};

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/login/totp", get(totp_page).post(totp))
        .route("/logout", post(logout))
        .route("/setup/{token}", get(setup_page).post(setup))
        .route("/panel/account", get(account))
        .route("/panel/account/password", post(change_password))
        .route("/panel/account/totp/start", post(start_totp))
        .route("/panel/account/totp/confirm", post(confirm_totp))
        .route("/panel/account/totp/disable", post(disable_totp))
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ui: Ui,
    email: String,
    next: String,
    error: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    Query(query): Query<NextQuery>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    if let Some((session, _)) = session::current(&parts, &state).await
        && !store::auth::awaits_second_factor(&session)
    {
        return Redirect::to(&ui::local_path(query.next.as_deref())).into_response();
    }
    let lang = ui::language(&parts);
    render(&LoginPage {
        ui: Ui::public(lang, &parts.headers, "/login"),
        email: String::new(),
        next: ui::local_path(query.next.as_deref()),
        error: None,
    })
}

async fn login(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let form = match FormData::from_request(Request::from_parts(parts.clone(), body), &state).await
    {
        Ok(form) => form,
        Err(response) => return response,
    };
    let ClientIp(ip) = ClientIp::from_request_parts(&mut parts, &state)
        .await
        .unwrap_or(ClientIp([127, 0, 0, 1].into()));
    let lang = ui::language(&parts);
    let next = ui::local_path(form.get("next"));
    let failed = |error: &OpError| {
        let (status, key) = refusal(error, "login.wrong");
        let ui = Ui::public(lang, &parts.headers, "/login");
        let message = Some(ui.t.t(key).to_owned());
        let page = render(&LoginPage {
            ui,
            email: form.text("email").to_owned(),
            next: next.clone(),
            error: message,
        });
        with_retry_after((status, page).into_response(), error)
    };
    let verified =
        match crate::auth::check_password(&state, form.text("email"), form.text("password"), ip)
            .await
        {
            Ok(verified) => verified,
            Err(error) => return failed(&error),
        };
    if let Some((old, _)) = session::current(&parts, &state).await {
        let _ = store::auth::drop_session(&state.db, &old.id).await;
    }
    if verified.needs_totp() {
        return start_session(
            &state,
            &parts,
            ip,
            &verified,
            Stage::Mfa,
            &format!("/login/totp?next={}", ui::encode(&next)),
        )
        .await;
    }
    state.metrics.sign_in("ok");
    start_session(&state, &parts, ip, &verified, Stage::Full, &next).await
}

/// Starts a new session for a client at `ip` (a fresh id: sessions rotate at every sign-in)
/// and redirects.
async fn start_session(
    state: &AppState,
    parts: &Parts,
    ip: IpAddr,
    verified: &Verified,
    stage: Stage,
    to: &str,
) -> Response {
    let cookie_token = token::new_token("");
    let now = state.clock.now();
    let new = NewSession {
        id: token::hash(&cookie_token),
        user_id: verified.actor.user_id,
        tenant_id: verified.actor.tenant_id,
        stage,
        csrf: token::new_token(""),
        expires_at: now + TimeDelta::hours(i64::from(state.settings.session_max_hours.max(1))),
        ip: Some(ip.to_string()),
        user_agent: user_agent(parts),
    };
    let started = async {
        let mut w = state.db.write(verified.author(ip), now).await?;
        store::auth::start_session(&mut w, new).await?;
        if stage == Stage::Mfa {
            // The MFA stage is not a sign-in; record that the password was given.
            w.audit(store::AuditEntry {
                tenant_id: verified.actor.tenant_id,
                action: "auth.password_ok",
                entity: "user",
                entity_id: Some(verified.actor.user_id.0),
                before: None,
                after: None,
            })
            .await?;
        }
        w.commit().await
    };
    if let Err(error) = started.await {
        tracing::error!(%error, "cannot start a session");
        return ui::plain_error(
            ui::language(parts),
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
        );
    }
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        ui::set_cookie(COOKIE, &cookie_token, None, state.settings.https()),
    );
    response
}

#[derive(Template)]
#[template(path = "login_totp.html")]
struct TotpPage {
    ui: Ui,
    next: String,
    error: Option<String>,
}

async fn totp_page(
    State(state): State<AppState>,
    Query(query): Query<NextQuery>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let Some((session, _)) = session::current(&parts, &state)
        .await
        .filter(|(s, _)| store::auth::awaits_second_factor(s))
    else {
        return Redirect::to("/login").into_response();
    };
    let mut ui = Ui::public(ui::language(&parts), &parts.headers, "/login/totp");
    ui.csrf = session.csrf;
    render(&TotpPage {
        ui,
        next: ui::local_path(query.next.as_deref()),
        error: None,
    })
}

async fn totp(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let form = match FormData::from_request(Request::from_parts(parts.clone(), body), &state).await
    {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some((session, holder)) = session::current(&parts, &state)
        .await
        .filter(|(s, _)| store::auth::awaits_second_factor(s))
    else {
        return Redirect::to("/login").into_response();
    };
    if !token::same(form.text("_csrf"), &session.csrf) {
        return ui::plain_error(ui::language(&parts), StatusCode::FORBIDDEN, "error.csrf");
    }
    let ClientIp(ip) = ClientIp::from_request_parts(&mut parts, &state)
        .await
        .unwrap_or(ClientIp([127, 0, 0, 1].into()));
    let next = ui::local_path(form.get("next"));
    let actor = match signin::actor_of(&holder) {
        Ok(actor) => actor,
        Err(_) => return Redirect::to("/login").into_response(),
    };
    let verified = Verified { holder, actor };
    match crate::auth::check_totp(&state, &verified, form.text("code"), ip).await {
        Ok(()) => {
            let _ = store::auth::drop_session(&state.db, &session.id).await;
            state.metrics.sign_in("ok");
            start_session(&state, &parts, ip, &verified, Stage::Full, &next).await
        }
        Err(error) => {
            let (status, key) = refusal(&error, "login.wrong_totp");
            let mut ui = Ui::public(ui::language(&parts), &parts.headers, "/login/totp");
            ui.csrf = session.csrf;
            let message = Some(ui.t.t(key).to_owned());
            let page = render(&TotpPage {
                ui,
                next,
                error: message,
            });
            with_retry_after((status, page).into_response(), &error)
        }
    }
}

/// The status and message of a refused sign-in step; `wrong` is the message for wrong
/// credentials.
fn refusal(error: &OpError, wrong: &'static str) -> (StatusCode, &'static str) {
    match error {
        OpError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "login.too_many"),
        OpError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "error.busy"),
        OpError::Unauthenticated("account_disabled") => {
            (StatusCode::UNAUTHORIZED, "login.disabled")
        }
        OpError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, wrong),
        // Anything else broke on our side; it is not the visitor's mistake.
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "error.internal"),
    }
}

/// Adds `Retry-After` to a response refusing a throttled sign-in.
fn with_retry_after(mut response: Response, error: &OpError) -> Response {
    if let OpError::TooMany(seconds) = error {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from((*seconds).max(1)));
    }
    response
}

async fn logout(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if !form.csrf_ok(&user) {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.csrf");
    }
    let ended = async {
        let mut w = state
            .db
            .write(user.author.clone(), state.clock.now())
            .await?;
        store::auth::end_session(&mut w, &user.session_id).await?;
        w.commit().await
    };
    if let Err(error) = ended.await {
        tracing::warn!(%error, "cannot end a session");
    }
    let mut response = ui::redirect_with("/login", "flash.signed_out");
    response.headers_mut().append(
        header::SET_COOKIE,
        ui::set_cookie(COOKIE, "", Some(0), state.settings.https()),
    );
    response
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    ui: Ui,
    token: String,
    email: String,
    name: String,
    errors: Vec<(String, String)>,
}

impl SetupPage {
    fn error(&self, field: &str) -> String {
        ui::message_for(&self.errors, field)
    }
}

/// True if `token` is the live setup link's.
fn setup_valid(state: &AppState, token: &str) -> bool {
    let setup = state.setup.lock().unwrap_or_else(|p| p.into_inner());
    setup.as_ref().is_some_and(|link| {
        token::same(&link.token_hash, &token::hash(token)) && link.expires_at > state.clock.now()
    })
}

async fn setup_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = ui::language_of(&headers);
    if !setup_valid(&state, &token) {
        return ui::plain_error(lang, StatusCode::NOT_FOUND, "error.not_found");
    }
    render(&SetupPage {
        ui: Ui::public(lang, &headers, "/panel"),
        token,
        email: String::new(),
        name: String::new(),
        errors: Vec::new(),
    })
}

async fn setup(
    State(state): State<AppState>,
    Path(setup_token): Path<String>,
    request: Request,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let form = match FormData::from_request(Request::from_parts(parts.clone(), body), &state).await
    {
        Ok(form) => form,
        Err(response) => return response,
    };
    let lang = ui::language(&parts);
    if !setup_valid(&state, &setup_token) {
        return ui::plain_error(lang, StatusCode::NOT_FOUND, "error.not_found");
    }
    let ClientIp(ip) = ClientIp::from_request_parts(&mut parts, &state)
        .await
        .unwrap_or(ClientIp([127, 0, 0, 1].into()));
    let author = store::Author::system("setup-link");
    let created = signin::create_developer(
        &state.ctx(),
        author,
        form.text("email"),
        form.text("name"),
        form.text("password"),
    )
    .await;
    match created {
        Ok(user) => {
            // The link is used up.
            *state.setup.lock().unwrap_or_else(|p| p.into_inner()) = None;
            let holder = store::auth::Holder { user, tenant: None };
            let Ok(actor) = signin::actor_of(&holder) else {
                return ui::plain_error(lang, StatusCode::INTERNAL_SERVER_ERROR, "error.internal");
            };
            let verified = Verified { holder, actor };
            start_session(&state, &parts, ip, &verified, Stage::Full, "/panel").await
        }
        Err(OpError::Invalid(errors)) => {
            let ui = Ui::public(lang, &parts.headers, "/panel");
            let errors = field_messages(ui.t, &errors);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&SetupPage {
                    ui,
                    token: setup_token,
                    email: form.text("email").to_owned(),
                    name: form.text("name").to_owned(),
                    errors,
                }),
            )
                .into_response()
        }
        Err(OpError::Busy) => ui::plain_error(lang, StatusCode::SERVICE_UNAVAILABLE, "error.busy"),
        Err(_) => ui::plain_error(lang, StatusCode::INTERNAL_SERVER_ERROR, "error.internal"),
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ui: Ui,
    tenant_count: String,
    user_count: String,
    recent: Vec<crate::audit::panel::AuditRow>,
}

/// `GET /panel`: counts and the latest changes the user may see.
pub async fn dashboard(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
) -> Response {
    let counted = async {
        let tenant_page =
            store::list::PageRequest::first(&store::tenant::LIST, 1).map_err(OpError::Invalid)?;
        let tenants =
            ops::tenant::list(&state.ctx(), &user.actor, &Default::default(), &tenant_page).await?;
        let user_page =
            store::list::PageRequest::first(&store::user::LIST, 1).map_err(OpError::Invalid)?;
        let users =
            ops::user::list(&state.ctx(), &user.actor, &Default::default(), &user_page).await?;
        let recent = ops::audit::list(
            &state.ctx(),
            &user.actor,
            &Default::default(),
            &store::list::PageRequest::first(&store::audit::LIST, 8).map_err(OpError::Invalid)?,
        )
        .await?;
        Ok::<_, OpError>((tenants, users, recent))
    };
    match counted.await {
        Ok((tenants, users, recent)) => {
            let count = |total: u64, capped: bool| {
                if capped {
                    format!("{total}+")
                } else {
                    total.to_string()
                }
            };
            render(&DashboardPage {
                ui: Ui::new(&user, Section::Dashboard, &headers, "/panel"),
                tenant_count: count(tenants.total, tenants.total_capped),
                user_count: count(users.total, users.total_capped),
                recent: recent
                    .items
                    .iter()
                    .map(crate::audit::panel::AuditRow::from_model)
                    .collect(),
            })
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ui: Ui,
    email: String,
    totp_enabled: bool,
    enrolment: Option<signin::Enrolment>,
    errors: Vec<(String, String)>,
}

impl AccountPage {
    fn error(&self, field: &str) -> String {
        ui::message_for(&self.errors, field)
    }
}

async fn account_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    errors: Vec<(String, String)>,
) -> Response {
    let fresh = store::user::find_self(state.db.conn(), user.actor.user_id)
        .await
        .ok()
        .flatten();
    let Some(fresh) = fresh else {
        return ui::error_page(user, headers, StatusCode::NOT_FOUND, "error.not_found");
    };
    // A pending enrolment (secret stored, not yet confirmed) is shown again until confirmed.
    let enrolment = match (&fresh.totp_secret, fresh.totp_enabled) {
        (Some(sealed), false) => state
            .db
            .keyring()
            .open("staff_user.totp_secret", sealed)
            .ok()
            .map(|secret| {
                let uri = signin::totp::uri(&secret, &fresh.email);
                signin::Enrolment {
                    secret: signin::totp::base32(&secret),
                    qr_svg: signin::totp::qr_svg(&uri).unwrap_or_default(),
                    uri,
                }
            }),
        _ => None,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = AccountPage {
        ui: Ui::new(user, Section::Account, headers, "/panel/account"),
        email: fresh.email.clone(),
        totp_enabled: fresh.totp_enabled,
        enrolment,
        errors,
    };
    (status, render(&page)).into_response()
}

async fn account(State(state): State<AppState>, user: PanelUser, headers: HeaderMap) -> Response {
    account_page(&state, &user, &headers, Vec::new()).await
}

/// Runs an account change and answers with a redirect or the page with its errors.
async fn account_result(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    result: Result<(), OpError>,
    done: &'static str,
) -> Response {
    match result {
        Ok(()) => ui::redirect_with("/panel/account", done),
        Err(OpError::Invalid(errors)) => {
            let messages = field_messages(crate::i18n::Tr { lang: user.lang }, &errors);
            account_page(state, user, headers, messages).await
        }
        Err(error) => ui::op_error(user, headers, &error),
    }
}

async fn change_password(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if !form.csrf_ok(&user) {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.csrf");
    }
    let result = signin::change_password(
        &state.ctx(),
        &user.actor,
        user.author.clone(),
        form.text("current_password"),
        form.text("new_password"),
        &store::user::Keep {
            session: Some(user.session_id.clone()),
            token: None,
        },
    )
    .await;
    account_result(&state, &user, &headers, result, "flash.password_changed").await
}

async fn start_totp(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if !form.csrf_ok(&user) {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.csrf");
    }
    match signin::start_totp(&state.ctx(), &user.actor, user.author.clone()).await {
        Ok(_) => Redirect::to("/panel/account").into_response(),
        Err(error) => account_result(&state, &user, &headers, Err(error), "flash.saved").await,
    }
}

async fn confirm_totp(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if !form.csrf_ok(&user) {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.csrf");
    }
    let result = signin::confirm_totp(
        &state.ctx(),
        &user.actor,
        user.author.clone(),
        form.text("code"),
    )
    .await;
    account_result(&state, &user, &headers, result, "flash.totp_enabled").await
}

async fn disable_totp(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if !form.csrf_ok(&user) {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.csrf");
    }
    let result = signin::disable_totp(
        &state.ctx(),
        &user.actor,
        user.author.clone(),
        form.text("password"),
    )
    .await;
    account_result(&state, &user, &headers, result, "flash.totp_disabled").await
}
