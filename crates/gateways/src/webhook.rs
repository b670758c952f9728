//! Reading an inbound notice: pure, no IO, the clock passed in. [`verify`] takes a POSTed
//! webhook's headers and **raw** body (signatures cover the exact bytes; re-encoded bodies
//! fail); [`callback`] takes the query string of a bKash callback GET. Both give back a
//! [`Notice`]: the event's identifiers and nothing else. Amounts and statuses in a notice
//! are never trusted; the caller records the event (deduping on `event_id`) and confirms the
//! payment server-to-server ([`crate::Client::confirm`]), always.
//!
//! Checks, by provider:
//!
//! - Stripe and generic: the body's size, the signature header's shape, the HMAC (any `v1`
//!   matching is enough, compared in constant time), then the timestamp: a correctly signed
//!   event older or newer than [`TOLERANCE_SECONDS`] is [`WebhookError::Stale`] (a replay).
//! - SSLCommerz: the body's size, the form (no field twice), then `verify_sign`: the MD5
//!   over the fields `verify_key` names plus the hashed store password, compared in constant
//!   time, which must cover `tran_id`, `status` and `val_id`. SSLCommerz's IPN has no
//!   timestamp, so there is no staleness check: a replayed IPN verifies, and is harmless
//!   only because its `event_id` dedupes and settling always confirms.
//! - bKash signs nothing: [`callback`] only bounds and reads the query. It proves nothing;
//!   [`verify`] refuses bKash (it sends no webhooks).

use crate::{GatewayConfig, Provider, generic, signature, sslcommerz, stripe, wire};

/// Reads the identifiers out of a verified body.
type ReadBody = fn(&[u8]) -> Result<Notice, String>;

/// The longest bKash callback query string read.
pub const MAX_CALLBACK_QUERY: usize = 4096;

/// The statuses bKash sends the browser back with; anything else is refused, so a
/// notice's event id is one of three per payment.
const BKASH_STATUSES: [&str; 3] = ["success", "failure", "cancel"];

/// How far a signature's timestamp may be from now, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

pub use crate::{Notice, WebhookError};

/// Verifies a webhook for the merchant account `cfg` received at `now_unix`: Stripe's and
/// the generic protocol's signed JSON, SSLCommerz's IPN (its form body; the headers and the
/// clock are not used). bKash sends no webhooks: its notices go to [`callback`], and
/// `verify` refuses them as malformed.
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
    let (name, read): (_, ReadBody) = match cfg.provider {
        Provider::Stripe => ("stripe-signature", stripe::notice),
        Provider::Generic => ("x-signature", generic::notice),
        Provider::Sslcommerz => return sslcommerz::notice(body, &cfg.secret_key),
        Provider::Bkash => {
            return Err(WebhookError::Malformed(
                "bkash sends no webhooks: its notices are browser callbacks (webhook::callback)"
                    .to_owned(),
            ));
        }
    };
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
    read(body).map_err(WebhookError::Malformed)
}

/// Reads a bKash callback: the query string (with or without its leading `?`) of the GET
/// the customer's browser makes to the `callbackURL` (the checkout's `webhook_url`) after
/// bKash's page, `paymentID=…&status=success|failure|cancel`. Gives
/// `Notice { event_id: "{paymentID}:{status}", provider_payment_id: paymentID, kind: status }`.
///
/// **It is unsigned and proves nothing**: anyone can make that request, with any status.
/// It only says which payment to ask about; settling always confirms server-to-server
/// ([`crate::Client::confirm`], which for bKash executes the payment and so is also what
/// captures the money). The caller then redirects the browser to its return page.
///
/// Bounds: the query at most [`MAX_CALLBACK_QUERY`] bytes, each field given once, a
/// `paymentID` of printable ASCII, a `status` of `success`, `failure` or `cancel`, other
/// fields ignored. Only for bKash accounts; any other provider's notices are webhooks.
pub fn callback(cfg: &GatewayConfig, query: &str) -> Result<Notice, WebhookError> {
    let malformed = |m: String| WebhookError::Malformed(m);
    if cfg.provider.notice_method() != crate::NoticeMethod::BrowserCallback {
        return Err(malformed(format!(
            "{} sends webhooks, not browser callbacks (webhook::verify)",
            cfg.provider
        )));
    }
    if query.len() > MAX_CALLBACK_QUERY {
        return Err(malformed(format!(
            "callback query is longer than {MAX_CALLBACK_QUERY} bytes"
        )));
    }
    let fields = wire::unique_fields(wire::form(query).map_err(malformed)?).map_err(malformed)?;
    let field = |name: &str| fields.get(name).map_or("", String::as_str);
    let payment_id = wire::identifier("paymentID", field("paymentID")).map_err(malformed)?;
    let status = field("status");
    if !BKASH_STATUSES.contains(&status) {
        return Err(malformed(
            "callback status is not success, failure or cancel".to_owned(),
        ));
    }
    let event_id =
        wire::identifier("event id", &format!("{payment_id}:{status}")).map_err(malformed)?;
    Ok(Notice {
        event_id,
        provider_payment_id: payment_id,
        kind: status.to_owned(),
    })
}

/// The signature header value for `body` signed at `timestamp` with `webhook_secret`, as
/// Stripe and the generic protocol send it (`t=…,v1=…`); for senders such as the simulator
/// and for tests.
pub fn sign(webhook_secret: &str, timestamp: i64, body: &[u8]) -> String {
    signature::sign(webhook_secret, timestamp, body)
}
