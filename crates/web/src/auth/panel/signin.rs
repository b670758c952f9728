//! Signing in (the password, then the TOTP code when the account has one) and out.

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::TimeDelta;
use serde::Deserialize;
use std::net::IpAddr;

use crate::http::client::{ClientIp, user_agent};
use crate::page::form::{FormData, PanelForm};
use crate::page::session::{self, COOKIE};
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use ops::OpError;
use ops::auth::{self as signin, Verified, token};
use store::auth::{NewSession, Stage};

#[derive(Debug, Deserialize)]
pub(super) struct NextQuery {
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

pub(super) async fn login_page(
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

pub(super) async fn login(State(state): State<AppState>, request: Request) -> Response {
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
pub(super) async fn start_session(
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

pub(super) async fn totp_page(
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

pub(super) async fn totp(State(state): State<AppState>, request: Request) -> Response {
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

pub(super) async fn logout(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers: _,
        form: _,
    }: PanelForm,
) -> Response {
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
