//! The panel's signed-in user: a session cookie resolved to a full session (the second
//! factor given, if the account has one), with idle and absolute expiry. Pages that need a
//! signed-in user take [`PanelUser`]; without one they redirect to the sign-in page.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::TimeDelta;

use super::ui;
use crate::app::AppState;
use crate::auth::{self as signin, token};
use crate::http::client::ClientIp;
use crate::i18n::Lang;
use domain::access::Actor;
use store::Author;
use store::auth::{Holder, Session};

/// The session cookie's name.
pub const COOKIE: &str = "lastmile_session";

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
    let idle = TimeDelta::minutes(i64::from(state.config.security.session_idle_minutes.max(1)));
    if now - session.last_seen_at > idle {
        let _ = store::auth::drop_session(&state.db, &id).await;
        return None;
    }
    if signin::due_for_touch(state, &id)
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
        let to_login = || {
            let next = parts.uri.path_and_query().map_or("/panel", |p| p.as_str());
            Redirect::to(&format!("/login?next={}", ui::encode(next))).into_response()
        };
        let Some((session, holder)) = current(parts, state).await else {
            return Err(to_login());
        };
        if store::auth::awaits_second_factor(&session) {
            return Err(Redirect::to("/login/totp").into_response());
        }
        let Ok(actor) = signin::actor_of(&holder) else {
            let _ = store::auth::drop_session(&state.db, &session.id).await;
            return Err(to_login());
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
