//! The simulator's API routes, one per provider, each answering in its provider's shape
//! (the drivers' module headers document them), and `GET /_messages`. Each route arrives
//! (counts, waits, maybe fails with 503), reads its fields, checks the credentials, then
//! lets [`Shared::take`] keep the message and plan its report.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse as _, Response};
use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use serde_json::json;

use super::{Draft, Refusal, Shared, e164, new_hex_id, request_fields, same_secret};
use crate::sms::SmsProvider;

/// What Africa's Talking's sandbox charges per message, as its answers show it.
const AT_COST: &str = "KES 0.8000";

fn text_field(fields: &HashMap<String, String>, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

/// `POST /twilio/2010-04-01/Accounts/{sid}/Messages.json`.
pub(super) async fn twilio(
    State(shared): State<Arc<Shared>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if shared.arrive().await {
        return twilio_error(
            StatusCode::SERVICE_UNAVAILABLE,
            20503,
            "Service Unavailable",
        );
    }
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", shared.username, shared.secret))
    );
    let given = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if shared.secret.is_empty() || sid != shared.username || !same_secret(given, &expected) {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let fields = match request_fields(None, &body) {
        Ok(fields) => fields,
        Err(message) => return twilio_error(StatusCode::BAD_REQUEST, 21000, &message),
    };
    let to = text_field(&fields, "To");
    let text = text_field(&fields, "Body");
    let sender = fields
        .get("MessagingServiceSid")
        .or_else(|| fields.get("From"))
        .cloned()
        .unwrap_or_default();
    if to.is_empty() {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21604,
            "A 'To' phone number is required.",
        );
    }
    if text.is_empty() {
        return twilio_error(StatusCode::BAD_REQUEST, 21602, "Message body is required.");
    }
    if sender.is_empty() {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21603,
            "A 'From' phone number is required.",
        );
    }
    let draft = Draft {
        provider: SmsProvider::Twilio,
        to: to.clone(),
        text,
        sender,
        reference: None,
        callback_url: fields
            .get("StatusCallback")
            .filter(|u| !u.is_empty())
            .cloned(),
    };
    match shared.take(draft, || new_hex_id("SM")) {
        Ok(message) => {
            let answer = json!({
                "sid": message.provider_id,
                "account_sid": shared.username,
                "to": message.to,
                "from": message.sender,
                "body": message.text,
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "error_code": null,
                "error_message": null,
                "uri": format!(
                    "/2010-04-01/Accounts/{}/Messages/{}.json",
                    shared.username, message.provider_id
                ),
            });
            (StatusCode::CREATED, Json(answer)).into_response()
        }
        Err(Refusal::Number) => twilio_error(
            StatusCode::BAD_REQUEST,
            21211,
            &format!(
                "The 'To' number {} is not a valid phone number.",
                crate::wire::excerpt(&to)
            ),
        ),
        Err(Refusal::Full) => twilio_error(
            StatusCode::SERVICE_UNAVAILABLE,
            20503,
            "Service Unavailable",
        ),
    }
}

fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (status, Json(body)).into_response()
}

/// `GET|POST /bulksmsbd/api/smsapi`.
pub(super) async fn bulksmsbd(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if shared.arrive().await {
        return bulksmsbd_answer(StatusCode::SERVICE_UNAVAILABLE, 1005, "Internal Error");
    }
    let Ok(fields) = request_fields(query.as_deref(), &body) else {
        return bulksmsbd_answer(StatusCode::OK, 1003, "Please Required all fields");
    };
    if !same_secret(&text_field(&fields, "api_key"), &shared.secret) {
        return bulksmsbd_answer(StatusCode::OK, 1011, "User Id not found");
    }
    let sender = text_field(&fields, "senderid");
    if sender.is_empty() {
        return bulksmsbd_answer(
            StatusCode::OK,
            1002,
            "Sender Id not correct/sender id is disabled",
        );
    }
    let (to, text) = (
        text_field(&fields, "number"),
        text_field(&fields, "message"),
    );
    if to.is_empty() || text.is_empty() {
        return bulksmsbd_answer(StatusCode::OK, 1003, "Please Required all fields");
    }
    let draft = Draft {
        provider: SmsProvider::Bulksmsbd,
        to,
        text,
        sender,
        reference: None,
        callback_url: shared.callback_url.clone(),
    };
    let number = shared.next_number();
    match shared.take(draft, || number.to_string()) {
        Ok(_) => {
            let answer = json!({
                "response_code": 202,
                "message_id": number,
                "success_message": "SMS Submitted Successfully",
                "error_message": "",
            });
            Json(answer).into_response()
        }
        Err(Refusal::Number) => bulksmsbd_answer(StatusCode::OK, 1001, "Invalid Number"),
        Err(Refusal::Full) => {
            bulksmsbd_answer(StatusCode::SERVICE_UNAVAILABLE, 1005, "Internal Error")
        }
    }
}

fn bulksmsbd_answer(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "response_code": code,
        "success_message": "",
        "error_message": message,
    });
    (status, Json(body)).into_response()
}

/// `GET|POST /sslwireless/api/v3/send-sms`.
pub(super) async fn sslwireless(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if shared.arrive().await {
        return sslwireless_failed(StatusCode::SERVICE_UNAVAILABLE, 500, "Service Unavailable");
    }
    let fields = match request_fields(query.as_deref(), &body) {
        Ok(fields) => fields,
        Err(message) => return sslwireless_failed(StatusCode::OK, 4000, &message),
    };
    let sid = text_field(&fields, "sid");
    if !same_secret(&text_field(&fields, "api_token"), &shared.secret) || sid.is_empty() {
        return sslwireless_failed(StatusCode::OK, 4001, "Unauthorized");
    }
    let (to, text, csms_id) = (
        text_field(&fields, "msisdn"),
        text_field(&fields, "sms"),
        text_field(&fields, "csms_id"),
    );
    if to.is_empty() || text.is_empty() || csms_id.is_empty() {
        return sslwireless_failed(StatusCode::OK, 4002, "msisdn, sms and csms_id are required");
    }
    let sms_type = if text.is_ascii() { "EN" } else { "BN" };
    let draft = Draft {
        provider: SmsProvider::Sslwireless,
        to: to.clone(),
        text: text.clone(),
        sender: sid,
        reference: Some(csms_id.clone()),
        callback_url: shared.callback_url.clone(),
    };
    let (sms_status, status_message, reference_id) = match shared.take(draft, || new_hex_id("")) {
        Ok(message) => ("SUCCESS", "Success", message.provider_id),
        Err(Refusal::Number) => ("FAILED", "Invalid Mobile No", String::new()),
        Err(Refusal::Full) => {
            return sslwireless_failed(StatusCode::SERVICE_UNAVAILABLE, 500, "Service Unavailable");
        }
    };
    let answer = json!({
        "status": "SUCCESS",
        "status_code": 200,
        "error_message": "",
        "smsinfo": [{
            "sms_status": sms_status,
            "status_message": status_message,
            "msisdn": to,
            "sms_type": sms_type,
            "sms_body": text,
            "csms_id": csms_id,
            "reference_id": reference_id,
        }],
    });
    Json(answer).into_response()
}

fn sslwireless_failed(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "status": "FAILED",
        "status_code": code,
        "error_message": message,
    });
    (status, Json(body)).into_response()
}

/// `POST /africastalking/version1/messaging`.
pub(super) async fn africastalking(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if shared.arrive().await {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    }
    let key = headers
        .get("apikey")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let fields = match request_fields(None, &body) {
        Ok(fields) => fields,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    if !same_secret(key, &shared.secret) || text_field(&fields, "username") != shared.username {
        return (
            StatusCode::UNAUTHORIZED,
            "The supplied authentication is invalid",
        )
            .into_response();
    }
    let (to, text) = (text_field(&fields, "to"), text_field(&fields, "message"));
    if to.is_empty() || text.is_empty() {
        return (StatusCode::BAD_REQUEST, "Both to and message are required").into_response();
    }
    let draft = Draft {
        provider: SmsProvider::Africastalking,
        to: to.clone(),
        text,
        sender: text_field(&fields, "from"),
        reference: None,
        callback_url: shared.callback_url.clone(),
    };
    let (summary, recipient) = match shared.take(draft, || new_hex_id("ATXid_")) {
        Ok(message) => (
            format!("Sent to 1/1 Total Cost: {AT_COST}"),
            json!({
                "statusCode": 101,
                "number": to,
                "status": "Success",
                "cost": AT_COST,
                "messageId": message.provider_id,
            }),
        ),
        Err(Refusal::Number) => (
            "Sent to 0/1 Total Cost: 0".to_owned(),
            json!({
                "statusCode": 403,
                "number": to,
                "status": "InvalidPhoneNumber",
                "cost": "0",
                "messageId": "None",
            }),
        ),
        Err(Refusal::Full) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
        }
    };
    let answer = json!({
        "SMSMessageData": { "Message": summary, "Recipients": [recipient] }
    });
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// `GET|POST /generic/send`.
pub(super) async fn generic(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if shared.arrive().await {
        return generic_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    }
    let fields = match request_fields(query.as_deref(), &body) {
        Ok(fields) => fields,
        Err(message) => return generic_error(StatusCode::BAD_REQUEST, &message),
    };
    if !same_secret(&text_field(&fields, "key"), &shared.secret) {
        return generic_error(StatusCode::UNAUTHORIZED, "bad key");
    }
    let (to, text) = (text_field(&fields, "to"), text_field(&fields, "text"));
    if to.is_empty() || text.is_empty() {
        return generic_error(StatusCode::BAD_REQUEST, "to and text are required");
    }
    let draft = Draft {
        provider: SmsProvider::Generic,
        to,
        text,
        sender: text_field(&fields, "from"),
        reference: fields.get("ref").filter(|r| !r.is_empty()).cloned(),
        callback_url: shared.callback_url.clone(),
    };
    match shared.take(draft, || new_hex_id("gen_")) {
        Ok(message) => Json(json!({ "ok": true, "id": message.provider_id })).into_response(),
        Err(Refusal::Number) => generic_error(StatusCode::BAD_REQUEST, "number refused"),
        Err(Refusal::Full) => generic_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    }
}

fn generic_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "ok": false, "error": message }))).into_response()
}

/// `GET /_messages?to=`: the messages taken, oldest first; with `to`, those to that number
/// (in any of the forms the APIs take).
pub(super) async fn messages(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(fields) = request_fields(query.as_deref(), b"") else {
        return (StatusCode::BAD_REQUEST, "bad query").into_response();
    };
    let wanted = fields.get("to").filter(|to| !to.is_empty());
    let messages: Vec<_> = super::lock(&shared.messages)
        .iter()
        .filter(|m| {
            wanted.is_none_or(|to| *to == m.to || (e164(to).is_some() && e164(to) == e164(&m.to)))
        })
        .cloned()
        .collect();
    Json(messages).into_response()
}
