//! Sign-in, sign-out and the signed-in account, over the API (bearer tokens) and in the
//! panel (sessions). Who someone is, is `ops::auth`'s to decide; this module puts the
//! node's sign-in throttle in front of it and counts the outcomes in the metrics.

pub mod api;
pub mod panel;

use std::net::IpAddr;

use crate::state::AppState;
use ops::OpError;
use ops::auth::Verified;

/// The metrics label of a refused sign-in.
fn outcome(error: &OpError) -> Option<&'static str> {
    match error {
        OpError::TooMany(_) => Some("throttled"),
        OpError::Busy => Some("busy"),
        OpError::Unauthenticated("invalid_credentials") => Some("wrong"),
        OpError::Unauthenticated("invalid_totp") => Some("wrong_totp"),
        _ => None,
    }
}

/// Checks an e-mail and password from `ip` behind the throttle, counting the outcome.
pub async fn check_password(
    state: &AppState,
    email: &str,
    password: &str,
    ip: IpAddr,
) -> Result<Verified, OpError> {
    let result =
        ops::auth::check_password(&state.ctx(), &state.throttle, email, password, ip).await;
    if let Err(label) = result.as_ref().map_err(outcome)
        && let Some(label) = label
    {
        state.metrics.sign_in(label);
    }
    result
}

/// Checks the second factor of a verified password from `ip`, counting a wrong code.
pub async fn check_totp(
    state: &AppState,
    verified: &Verified,
    code: &str,
    ip: IpAddr,
) -> Result<(), OpError> {
    let result = ops::auth::check_totp(&state.ctx(), &state.throttle, verified, code, ip).await;
    if let Err(OpError::Unauthenticated("invalid_totp")) = &result {
        state.metrics.sign_in("wrong_totp");
    }
    result
}
