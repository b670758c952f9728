//! Verifying an inbound webhook: pure, no IO, the clock passed in. The caller hands over the
//! request's headers and **raw** body (signatures cover the exact bytes; re-encoded JSON
//! fails) and gets back a [`Notice`]: the event's identifiers and nothing else. Amounts and
//! statuses in a webhook are never trusted; the caller records the event (deduping on
//! `event_id`) and confirms the payment server-to-server.
//!
//! Checks, in order: the body's size, the signature header's shape, the HMAC (any `v1`
//! matching is enough, compared in constant time), then the timestamp: a correctly signed
//! event older or newer than [`TOLERANCE_SECONDS`] is [`WebhookError::Stale`] (a replay).

use thiserror::Error;

use crate::{GatewayConfig, Provider, generic, signature, stripe, wire};

/// How far a signature's timestamp may be from now, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

pub use crate::Notice;

/// Why a webhook is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WebhookError {
    /// Unsigned, or no signature matches the body under the account's webhook secret.
    #[error("webhook signature does not match")]
    BadSignature,
    /// Correctly signed, but the timestamp is more than the tolerance away from now.
    #[error("webhook signature timestamp is outside the tolerance")]
    Stale,
    /// The signature header or the body cannot be read.
    #[error("malformed webhook: {0}")]
    Malformed(String),
}

/// Verifies a webhook for the merchant account `cfg` received at `now_unix`.
pub fn verify(
    cfg: &GatewayConfig,
    headers: &http::HeaderMap,
    body: &[u8],
    now_unix: i64,
) -> Result<Notice, WebhookError> {
    if body.len() > wire::MAX_BODY {
        return Err(WebhookError::Malformed(format!(
            "body is larger than {} bytes",
            wire::MAX_BODY
        )));
    }
    let name = cfg.provider.signature_header();
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(WebhookError::BadSignature)?;
    if values.next().is_some() {
        return Err(WebhookError::Malformed(format!(
            "more than one {name} header"
        )));
    }
    if value.len() > signature::MAX_HEADER {
        return Err(WebhookError::Malformed(format!(
            "{name} header is longer than {} bytes",
            signature::MAX_HEADER
        )));
    }
    let value = value
        .to_str()
        .map_err(|_| WebhookError::Malformed(format!("{name} header is not ASCII")))?;
    let header = signature::parse(value).map_err(WebhookError::Malformed)?;
    if !header.matches(&cfg.webhook_secret, body) {
        return Err(WebhookError::BadSignature);
    }
    if now_unix.abs_diff(header.timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(WebhookError::Stale);
    }
    match cfg.provider {
        Provider::Stripe => stripe::notice(body),
        Provider::Generic => generic::notice(body),
    }
    .map_err(WebhookError::Malformed)
}

/// The signature header value for `body` signed at `timestamp` with `webhook_secret`, as a
/// provider sends it (`t=…,v1=…`); for senders such as the simulator and for tests.
pub fn sign(webhook_secret: &str, timestamp: i64, body: &[u8]) -> String {
    signature::sign(webhook_secret, timestamp, body)
}
