//! The API's sign-in, sign-out and self-service calls under `/api/v1/auth` and `/api/v1/me`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::ApiCaller;
use crate::http::client::ClientIp;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::state::AppState;
use crate::user::api::UserOut;
use ops::OpError;

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(start_totp, disable_totp))
        .routes(routes!(confirm_totp))
}

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's e-mail.
    email: String,
    /// Its password.
    password: String,
    /// The current TOTP code, for accounts with a second factor.
    #[serde(default)]
    totp: Option<String>,
}

/// A new API token.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    /// When it stops working.
    expires_at: DateTime<Utc>,
    /// The signed-in user.
    user: UserOut,
}

/// Signs in and returns a bearer token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "wrong credentials, or `totp_required`/`invalid_totp`", body = ErrorBody),
        (status = 429, description = "too many wrong tries; see Retry-After", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let verified = crate::auth::check_password(&state, &body.email, &body.password, ip).await?;
    if verified.needs_totp() {
        let code = body
            .totp
            .as_deref()
            .ok_or(OpError::Unauthenticated("totp_required"))?;
        crate::auth::check_totp(&state, &verified, code, ip).await?;
    }
    let user = UserOut::try_from(&verified.holder.user)?;
    let token = ops::auth::token::new_token("lm_");
    let now = state.clock.now();
    let expires_at = now + TimeDelta::days(i64::from(state.settings.token_days.max(1)));
    let tenant_id = verified.actor.tenant_id;
    let mut w = state
        .db
        .write(verified.author(ip), now)
        .await
        .map_err(OpError::from)?;
    store::auth::issue_token(
        &mut w,
        verified.actor.user_id,
        tenant_id,
        &ops::auth::token::hash(&token),
        "api",
        expires_at,
    )
    .await
    .map_err(OpError::from)?;
    w.commit().await.map_err(OpError::from)?;
    state.metrics.sign_in("ok");
    Ok(Json(LoginResponse {
        token,
        expires_at,
        user,
    }))
}

/// Revokes the token of this request.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, caller: ApiCaller) -> Result<StatusCode, ApiError> {
    let mut w = state
        .db
        .write(caller.author.clone(), state.clock.now())
        .await
        .map_err(OpError::from)?;
    store::auth::revoke_token(&mut w, &caller.token, caller.actor.tenant_id)
        .await
        .map_err(OpError::from)?;
    w.commit().await.map_err(OpError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<UserOut>, ApiError> {
    let user = store::user::find_self(state.db.conn(), caller.actor.user_id)
        .await
        .map_err(OpError::from)?
        .ok_or(OpError::NotFound)?;
    Ok(Json(UserOut::try_from(&user)?))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    current_password: String,
    /// The new one (10 characters or more).
    new_password: String,
}

/// Changes the signed-in user's password.
#[utoipa::path(post, path = "/me/password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    ops::auth::change_password(
        &state.ctx(),
        &caller.actor,
        caller.author,
        &body.current_password,
        &body.new_password,
        &store::user::Keep {
            session: None,
            token: Some(caller.token.id),
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A TOTP enrolment to confirm.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The secret in base32.
    secret: String,
    /// The `otpauth://` URI for authenticator apps.
    uri: String,
}

/// Starts a TOTP enrolment: returns a new secret to load into an authenticator app; confirm
/// it with a code to turn the second factor on.
#[utoipa::path(post, path = "/me/totp", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TotpEnrolment), (status = 422, body = ErrorBody)))]
async fn start_totp(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<TotpEnrolment>, ApiError> {
    let enrolment = ops::auth::start_totp(&state.ctx(), &caller.actor, caller.author).await?;
    Ok(Json(TotpEnrolment {
        secret: enrolment.secret,
        uri: enrolment.uri,
    }))
}

/// A TOTP code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// Six digits from the authenticator app.
    code: String,
}

/// Confirms the TOTP enrolment; sign-in asks for a code from now on.
#[utoipa::path(post, path = "/me/totp/confirm", tag = "auth", security(("bearer" = [])),
    request_body = TotpCode,
    responses((status = 204), (status = 422, body = ErrorBody)))]
async fn confirm_totp(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<TotpCode>,
) -> Result<StatusCode, ApiError> {
    ops::auth::confirm_totp(&state.ctx(), &caller.actor, caller.author, &body.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account password, to confirm a sensitive change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordConfirmation {
    /// The account's password.
    password: String,
}

/// Turns the second factor off.
#[utoipa::path(delete, path = "/me/totp", tag = "auth", security(("bearer" = [])),
    request_body = PasswordConfirmation,
    responses((status = 204), (status = 422, body = ErrorBody)))]
async fn disable_totp(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<PasswordConfirmation>,
) -> Result<StatusCode, ApiError> {
    ops::auth::disable_totp(&state.ctx(), &caller.actor, caller.author, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
