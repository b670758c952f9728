//! The panel's signed-in user: a session cookie resolved to a full session (the second
//! factor given, if the account has one), with idle and absolute expiry. Pages that need a
//! signed-in user take [`PanelUser`]; without one they redirect to the sign-in page.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::TimeDelta;

use super::cookie as ui;
use crate::http::client::ClientIp;
use crate::i18n::Lang;
use crate::state::AppState;
use domain::access::Actor;
use ops::auth::{self as signin, token};
use store::Author;
use store::auth::{Holder, Session};

/// The session cookie's name.
pub const COOKIE: &str = "lastmile_session";

/// How stale a session's "last seen" may get before a request records it again.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);

/// A signed-in panel user.
#[derive(Debug, Clone)]
pub struct PanelUser {
    /// For access decisions.
    pub actor: Actor,
    /// For the audit log.
    pub author: Author,
    /// The account and its tenant.
    pub holder: Holder,
    /// The session's CSRF token.
    pub csrf: String,
    /// The session's id (hash of the cookie token).
    pub session_id: String,
    /// The panel's language.
    pub lang: Lang,
}

/// A session found by its cookie, whatever its stage.
pub async fn current(parts: &Parts, state: &AppState) -> Option<(Session, Holder)> {
    let cookie = ui::cookie(parts, COOKIE)?;
    if cookie.len() > 200 {
        return None;
    }
    let id = token::hash(&cookie);
    let now = state.clock.now();
    let (session, holder) = store::auth::find_session(&state.db, &id, now)
        .await
        .ok()
        .flatten()?;
    let idle = TimeDelta::minutes(i64::from(state.settings.session_idle_minutes.max(1)));
    if now - session.last_seen_at > idle {
        let _ = store::auth::drop_session(&state.db, &id).await;
        return None;
    }
    // Idle time is measured on the stored "last seen", by the server's clock, so every node
    // agrees on it; writing it at most once a minute keeps reads from turning into writes.
    if now - session.last_seen_at >= TOUCH_EVERY
        && let Err(error) = store::auth::touch_session(&state.db, &id, now).await
    {
        tracing::warn!(%error, "cannot record session use");
    }
    Some((session, holder))
}

impl FromRequestParts<AppState> for PanelUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = ui::language(parts);
        let next = parts.uri.path_and_query().map_or("/panel", |p| p.as_str());
        let login = format!("/login?next={}", ui::encode(next));
        // A session that ended (idle, expired, signed out elsewhere, account disabled): say
        // so on the sign-in page, and drop the dead cookie.
        let ended = || {
            let mut response = ui::redirect_with(&login, "flash.session_expired");
            response.headers_mut().append(
                header::SET_COOKIE,
                ui::set_cookie(COOKIE, "", Some(0), state.settings.https()),
            );
            response
        };
        let Some((session, holder)) = current(parts, state).await else {
            if ui::cookie(parts, COOKIE).is_some_and(|c| !c.is_empty()) {
                return Err(ended());
            }
            return Err(Redirect::to(&login).into_response());
        };
        if store::auth::awaits_second_factor(&session) {
            let second = format!("/login/totp?next={}", ui::encode(next));
            return Err(Redirect::to(&second).into_response());
        }
        let Ok(actor) = signin::actor_of(&holder) else {
            let _ = store::auth::drop_session(&state.db, &session.id).await;
            return Err(ended());
        };
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or(ClientIp([127, 0, 0, 1].into()));
        let author = Author::user(
            actor.user_id,
            holder.user.email.clone(),
            Some(ip.to_string()),
        );
        Ok(PanelUser {
            actor,
            author,
            holder,
            csrf: session.csrf,
            session_id: session.id,
            lang,
        })
    }
}
