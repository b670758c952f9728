//! Reading delivery-report webhooks: pure functions, one per provider, from the raw bytes
//! the provider sent (a form body, a JSON body, or a GET's query string) to a
//! [`DeliveryReport`]: which message (the provider id [`super::Accepted`] gave), whether it
//! was delivered, failed for good or is still under way, and why it failed. Each reads at
//! most [`MAX_REPORT`] bytes, refuses a field given twice, and never panics on any input.
//!
//! Twilio signs its callbacks: [`verify_twilio`] checks `X-Twilio-Signature` (base64 of
//! HMAC-SHA1 keyed by the Auth Token over the full URL Twilio called followed by every form
//! field's name and value, sorted by name) in constant time before reading the body. The
//! other providers sign nothing; their webhook URL must carry a secret token in its path
//! (the caller's route checks it), and a report only moves an outbox row the caller finds
//! by `provider_id`.
//!
//! What each reads:
//!
//! - Twilio: the form's `MessageSid` (or `SmsSid`), `MessageStatus` (or `SmsStatus`),
//!   `ErrorCode`; `delivered` and `read` are delivered; `failed`, `undelivered`, `canceled`
//!   and `partially_delivered` failed; the rest (`queued`, `sending`, `sent`, `accepted`,
//!   `scheduled`…) pending.
//! - Africa's Talking: the form's `id`, `status`, `failureReason`; `Success` is delivered,
//!   `Failed` and `Rejected` failed, the rest (`Sent`, `Submitted`, `Buffered`) pending.
//! - BulkSMSBD and SSL Wireless publish no delivery-report push of their own; gateways
//!   that relay one (and the simulator) send `message_id` (BulkSMSBD) or `reference_id`
//!   (SSL Wireless), with `status` and `error` or `error_message`, as a query, a form or
//!   JSON. Their statuses, like the generic template's, are read with one vocabulary
//!   ([`status_word`]).
//! - The generic template: the fields its [`ReportFields`] names.
//!
//! Statuses nobody listed are pending: a report never closes a message it does not
//! understand.

use std::collections::HashMap;

use base64::Engine as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use thiserror::Error;

use crate::wire;

type HmacSha1 = Hmac<Sha1>;

/// The largest report read: real ones are well under 2 KiB.
pub const MAX_REPORT: usize = 16 * 1024;

/// The longest `X-Twilio-Signature` value read (base64 of 20 bytes is 28 characters).
const MAX_SIGNATURE: usize = 128;

/// Where a message stands, as a report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// On the handset: final.
    Delivered,
    /// Will not be delivered (undeliverable, rejected, expired, cancelled): final.
    Failed,
    /// Still under way (queued, sent, buffered…), or a status nobody listed.
    Pending,
}

impl DeliveryStatus {
    /// `"delivered"`, `"failed"` or `"pending"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Pending => "pending",
        }
    }
}

/// What one delivery report says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReport {
    /// The provider's id of the message ([`super::Accepted::provider_id`]).
    pub provider_id: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// The provider's error code or reason when it gave one (Twilio's `ErrorCode`, Africa's
    /// Talking's `failureReason`), at most 200 characters.
    pub error: Option<String>,
}

/// Why a report is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReportError {
    /// The signature is missing or does not match (Twilio).
    #[error("delivery report signature does not match")]
    BadSignature,
    /// The body is too large, not UTF-8, not a form or JSON object, or lacks a field.
    #[error("malformed delivery report: {0}")]
    Malformed(String),
}

/// Which fields of a generic template's reports hold what; the defaults are `id`, `status`
/// and `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportFields {
    /// The field with the provider's message id.
    pub id: String,
    /// The field with the status word.
    pub status: String,
    /// The field with the error, if the provider sends one.
    pub error: Option<String>,
}

impl Default for ReportFields {
    fn default() -> Self {
        ReportFields {
            id: "id".to_owned(),
            status: "status".to_owned(),
            error: Some("error".to_owned()),
        }
    }
}

/// Reads a Twilio status callback's form body, **unverified**: use [`verify_twilio`] on
/// anything that came from the network.
pub fn twilio(body: &[u8]) -> Result<DeliveryReport, ReportError> {
    let fields = fields(body)?;
    let id = first(&fields, &["MessageSid", "SmsSid"])?;
    let status = match first(&fields, &["MessageStatus", "SmsStatus"])?
        .to_ascii_lowercase()
        .as_str()
    {
        "delivered" | "read" => DeliveryStatus::Delivered,
        "failed" | "undelivered" | "canceled" | "partially_delivered" => DeliveryStatus::Failed,
        _ => DeliveryStatus::Pending,
    };
    report(id, status, fields.get("ErrorCode"))
}

/// Verifies and reads a Twilio status callback: `url` is the full URL Twilio called
/// (scheme, host, port if any, path and query, exactly as configured in `StatusCallback`;
/// behind a proxy, rebuild it from the configured public URL, not from the request),
/// `signature` the `X-Twilio-Signature` header, `body` the raw form body. The signature is
/// checked first, in constant time; an empty `auth_token` matches nothing.
pub fn verify_twilio(
    auth_token: &str,
    url: &str,
    signature: &str,
    body: &[u8],
) -> Result<DeliveryReport, ReportError> {
    let params = form_params(body)?;
    if signature.len() > MAX_SIGNATURE {
        return Err(ReportError::BadSignature);
    }
    let given = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| ReportError::BadSignature)?;
    let mac = twilio_mac(auth_token, url, &params).ok_or(ReportError::BadSignature)?;
    mac.verify_slice(&given)
        .map_err(|_| ReportError::BadSignature)?;
    twilio(body)
}

/// The `X-Twilio-Signature` value for a request to `url` with the form `params`, signed
/// with `auth_token`: for senders such as the simulator, and for tests. Empty when
/// `auth_token` is.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    twilio_mac(auth_token, url, params)
        .map(|mac| base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}

fn twilio_mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Option<HmacSha1> {
    if auth_token.is_empty() {
        return None;
    }
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).ok()?;
    mac.update(url.as_bytes());
    for (key, value) in sorted {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    Some(mac)
}

/// Reads an Africa's Talking delivery report (a form POSTed to the callback URL set in the
/// dashboard).
pub fn africastalking(body: &[u8]) -> Result<DeliveryReport, ReportError> {
    let fields = fields(body)?;
    let id = first(&fields, &["id"])?;
    let status = match first(&fields, &["status"])? {
        "Success" => DeliveryStatus::Delivered,
        "Failed" | "Rejected" => DeliveryStatus::Failed,
        _ => DeliveryStatus::Pending,
    };
    report(id, status, fields.get("failureReason"))
}

/// Reads a BulkSMSBD delivery report: `message_id`, `status`, `error` (see the header).
pub fn bulksmsbd(body: &[u8]) -> Result<DeliveryReport, ReportError> {
    let fields = ReportFields {
        id: "message_id".to_owned(),
        status: "status".to_owned(),
        error: Some("error".to_owned()),
    };
    generic(&fields, body)
}

/// Reads an SSL Wireless delivery report: `reference_id`, `status`, `error_message` (see
/// the header).
pub fn sslwireless(body: &[u8]) -> Result<DeliveryReport, ReportError> {
    let fields = ReportFields {
        id: "reference_id".to_owned(),
        status: "status".to_owned(),
        error: Some("error_message".to_owned()),
    };
    generic(&fields, body)
}

/// Reads a generic template's delivery report (a query string, a form or a JSON object)
/// with the field names `names` gives, the status by [`status_word`].
pub fn generic(names: &ReportFields, body: &[u8]) -> Result<DeliveryReport, ReportError> {
    let fields = fields(body)?;
    let id = first(&fields, &[names.id.as_str()])?;
    let status = status_word(first(&fields, &[names.status.as_str()])?);
    let error = names.error.as_ref().and_then(|name| fields.get(name));
    report(id, status, error)
}

/// The common vocabulary of status words, case-insensitive: `delivered`, `delivrd`,
/// `success`, `successful` are delivered; `failed`, `failure`, `undelivered`, `undeliv`,
/// `undeliverable`, `rejected`, `rejectd`, `expired`, `expird`, `deleted`, `canceled`,
/// `cancelled` failed; anything else pending.
pub fn status_word(word: &str) -> DeliveryStatus {
    match word.trim().to_ascii_lowercase().as_str() {
        "delivered" | "delivrd" | "success" | "successful" => DeliveryStatus::Delivered,
        "failed" | "failure" | "undelivered" | "undeliv" | "undeliverable" | "rejected"
        | "rejectd" | "expired" | "expird" | "deleted" | "canceled" | "cancelled" => {
            DeliveryStatus::Failed
        }
        _ => DeliveryStatus::Pending,
    }
}

fn report(
    id: &str,
    status: DeliveryStatus,
    error: Option<&String>,
) -> Result<DeliveryReport, ReportError> {
    let provider_id = wire::identifier("the message id", id).map_err(ReportError::Malformed)?;
    let error = error
        .map(|e| wire::excerpt(e.trim()))
        .filter(|e| !e.is_empty());
    Ok(DeliveryReport {
        provider_id,
        status,
        error,
    })
}

/// The first of `names` present with a value that is not empty.
fn first<'a>(fields: &'a HashMap<String, String>, names: &[&str]) -> Result<&'a str, ReportError> {
    names
        .iter()
        .find_map(|name| fields.get(*name).filter(|v| !v.is_empty()))
        .map(String::as_str)
        .ok_or_else(|| ReportError::Malformed(format!("no {} field", names.join(" or "))))
}

/// The body as UTF-8, at most [`MAX_REPORT`] bytes.
fn text(body: &[u8]) -> Result<&str, ReportError> {
    text_within(body, MAX_REPORT)
}

/// The body as UTF-8, at most `max` bytes.
fn text_within(body: &[u8], max: usize) -> Result<&str, ReportError> {
    if body.len() > max {
        return Err(ReportError::Malformed(format!(
            "the body is larger than {max} bytes"
        )));
    }
    std::str::from_utf8(body)
        .map_err(|_| ReportError::Malformed("the report is not UTF-8".to_owned()))
}

/// A form body's (or query string's) fields, in order, for signing.
fn form_params(body: &[u8]) -> Result<Vec<(String, String)>, ReportError> {
    wire::form(text(body)?).map_err(ReportError::Malformed)
}

/// The report's fields, from at most [`MAX_REPORT`] bytes (see [`fields_within`]).
fn fields(body: &[u8]) -> Result<HashMap<String, String>, ReportError> {
    fields_within(body, MAX_REPORT)
}

/// The fields of at most `max` bytes: a JSON object's top-level strings, numbers and
/// booleans, or a form body's or query string's fields; a name given twice is refused. The
/// simulator reads requests with it too.
pub(super) fn fields_within(
    body: &[u8],
    max: usize,
) -> Result<HashMap<String, String>, ReportError> {
    let text = text_within(body, max)?;
    if text.trim_start().starts_with('{') {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|_| ReportError::Malformed("the report is not a JSON object".to_owned()))?;
        if object.len() > wire::MAX_FORM_FIELDS {
            return Err(ReportError::Malformed(
                "the report has too many fields".to_owned(),
            ));
        }
        let fields = object
            .into_iter()
            .filter_map(|(key, value)| {
                let value = match value {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => return None,
                };
                Some((key, value))
            })
            .collect();
        return Ok(fields);
    }
    let pairs = wire::form(text).map_err(ReportError::Malformed)?;
    wire::unique_fields(pairs).map_err(ReportError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_signatures_match_a_known_vector() {
        // The example from Twilio's security documentation, as its libraries test it.
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            twilio_signature("12345", url, &params),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
    }

    #[test]
    fn a_signed_twilio_report_verifies_and_a_tampered_one_does_not() {
        let body = b"MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003&To=%2B8801712345678";
        let url = "https://isp.example/webhooks/sms/twilio";
        let params = form_params(body).unwrap();
        let signature = twilio_signature("tok", url, &params);
        let report = verify_twilio("tok", url, &signature, body).unwrap();
        assert_eq!(
            report,
            DeliveryReport {
                provider_id: "SM1".into(),
                status: DeliveryStatus::Failed,
                error: Some("30003".into())
            }
        );
        let tampered =
            b"MessageSid=SM1&MessageStatus=delivered&ErrorCode=30003&To=%2B8801712345678";
        assert_eq!(
            verify_twilio("tok", url, &signature, tampered),
            Err(ReportError::BadSignature)
        );
        assert_eq!(
            verify_twilio("tok", "https://other.example/", &signature, body),
            Err(ReportError::BadSignature)
        );
        assert_eq!(
            verify_twilio("", url, &signature, body),
            Err(ReportError::BadSignature)
        );
        assert_eq!(
            verify_twilio("tok", url, "not base64!", body),
            Err(ReportError::BadSignature)
        );
        assert_eq!(
            verify_twilio("tok", url, "", body),
            Err(ReportError::BadSignature)
        );
    }

    #[test]
    fn africastalking_reports_map_their_statuses() {
        let report = africastalking(
            b"id=ATXid_1&status=Success&phoneNumber=%2B254711000111&networkCode=63902&retryCount=0",
        )
        .unwrap();
        assert_eq!(report.status, DeliveryStatus::Delivered);
        let failed =
            africastalking(b"id=ATXid_2&status=Rejected&failureReason=UserInBlackList").unwrap();
        assert_eq!(failed.status, DeliveryStatus::Failed);
        assert_eq!(failed.error.as_deref(), Some("UserInBlackList"));
        assert_eq!(
            africastalking(b"id=ATXid_3&status=Buffered")
                .unwrap()
                .status,
            DeliveryStatus::Pending
        );
    }

    #[test]
    fn generic_reports_come_as_query_form_or_json() {
        let names = ReportFields::default();
        let from_query = generic(&names, b"?id=g1&status=DELIVRD").unwrap();
        assert_eq!(from_query.status, DeliveryStatus::Delivered);
        let from_json = sslwireless(
            br#"{"reference_id":17,"status":"FAILED","error_message":"Absent subscriber"}"#,
        )
        .unwrap();
        assert_eq!(from_json.provider_id, "17");
        assert_eq!(from_json.status, DeliveryStatus::Failed);
        assert_eq!(
            bulksmsbd(b"message_id=9&status=Sent").unwrap().status,
            DeliveryStatus::Pending
        );
    }

    #[test]
    fn bad_reports_are_errors() {
        let names = ReportFields::default();
        for body in [
            &b""[..],
            b"status=delivered",
            b"id=&status=delivered",
            b"id=a b&status=delivered",
            b"id=1&id=2&status=delivered",
            b"id=%FF&status=x",
            b"\xff\xfe",
            b"{\"id\":",
            b"{\"id\":{\"x\":1},\"status\":\"delivered\"}",
            b"[1,2]",
        ] {
            assert!(generic(&names, body).is_err(), "{body:?}");
        }
        let big = vec![b'a'; MAX_REPORT + 1];
        assert!(generic(&names, &big).is_err());
        assert!(twilio(&big).is_err());
        assert!(verify_twilio("tok", "https://x/", "AAAA", &big).is_err());
    }
}
