//! The API's caller: a bearer token in `Authorization` resolved to a signed-in staff user,
//! its [`Actor`] for the access rules and its [`Author`] for the audit log. The API reads no
//! cookies, so a browser's session cannot be ridden into it (no CSRF surface).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::client::ClientIp;
use super::error::ApiError;
use crate::state::AppState;
use domain::access::Actor;
use ops::OpError;
use ops::auth::{self as signin, token};
use store::Author;
use store::auth::Token;

/// A request with a valid bearer token.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// For access decisions.
    pub actor: Actor,
    /// For the audit log.
    pub author: Author,
    /// The token used.
    pub token: Token,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .map(str::to_owned)
            .ok_or(OpError::Unauthenticated("unauthenticated"))?;
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or(ClientIp([127, 0, 0, 1].into()));
        let now = state.clock.now();
        let hash = token::hash(&bearer);
        let (token, holder) = store::auth::find_token(&state.db, &hash, now)
            .await
            .map_err(OpError::from)?
            .ok_or(OpError::Unauthenticated("unauthenticated"))?;
        let actor =
            signin::actor_of(&holder).map_err(|_| OpError::Unauthenticated("unauthenticated"))?;
        if state.due_for_touch(&hash)
            && let Err(error) = store::auth::touch_token(&state.db, token.id, now).await
        {
            tracing::warn!(%error, "cannot record token use");
        }
        let author = Author::user(
            actor.user_id,
            holder.user.email.clone(),
            Some(ip.to_string()),
        );
        Ok(ApiCaller {
            actor,
            author,
            token,
        })
    }
}
