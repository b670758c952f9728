//! The simulator's Stripe routes: Checkout Sessions created form-encoded and read back, in
//! Stripe's shapes (lower-case currencies, `{"error": {"type", "message"}}` on failure), and
//! the events its webhooks carry.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse as _, Response};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::ledger::{Draft, Refusal};
use super::{Shared, SimPayment, new_id};
use crate::{PaymentStatus, Provider, wire};

/// `POST /stripe/v1/checkout/sessions`.
pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    if !shared.authorized(&headers) {
        return unauthorized();
    }
    let Ok(Form(form)) = form else {
        return invalid("the body is not a form");
    };
    let key = match idempotency_key(&headers) {
        Ok(key) => key,
        Err(message) => return invalid(&message),
    };
    let new = match draft(&form).and_then(Draft::parse) {
        Ok(new) => new,
        Err(message) => return invalid(&message),
    };
    match shared.open(new, key, &headers) {
        Ok(payment) => Json(session(&payment)).into_response(),
        Err(Refusal::Conflict) => error(
            StatusCode::BAD_REQUEST,
            "idempotency_error",
            "Keys for idempotent requests can only be used with the same parameters they were first used with.",
        ),
        Err(Refusal::Full) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            "The simulator holds as many sessions as it will.",
        ),
    }
}

/// `GET /stripe/v1/checkout/sessions/{id}`.
pub(super) async fn retrieve(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !shared.authorized(&headers) {
        return unauthorized();
    }
    let Some(payment) = shared.find(Provider::Stripe, &id) else {
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            &format!("No such checkout.session: '{}'", wire::excerpt(&id)),
        );
    };
    if shared.scenario().fail_confirm {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "An unknown error occurred.",
        );
    }
    Json(session(&payment)).into_response()
}

/// The `Idempotency-Key` header, if any (at most 255 printable characters).
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, String> {
    headers
        .get("idempotency-key")
        .map(|value| {
            let value = value
                .to_str()
                .map_err(|_| "Idempotency-Key is not ASCII".to_owned())?;
            wire::reference("Idempotency-Key", value)
        })
        .transpose()
}

/// The session a form asks for: payment mode, one line item with price data.
fn draft(form: &HashMap<String, String>) -> Result<Draft<'_>, String> {
    let field = |name: &str| form.get(name).map(String::as_str);
    let required =
        |name: &str| field(name).ok_or_else(|| format!("Missing required param: {name}."));
    if required("mode")? != "payment" {
        return Err("Only mode=payment is simulated.".to_owned());
    }
    let number = |name: &str| -> Result<i64, String> {
        required(name)?
            .parse()
            .map_err(|_| format!("Invalid integer: {name}."))
    };
    let unit_amount = number("line_items[0][price_data][unit_amount]")?;
    let quantity = match field("line_items[0][quantity]") {
        Some(_) => number("line_items[0][quantity]")?,
        None => 1,
    };
    if quantity < 1 {
        return Err("line_items[0][quantity] must be at least 1.".to_owned());
    }
    let name = required("line_items[0][price_data][product_data][name]")?;
    if name.is_empty() {
        return Err("line_items[0][price_data][product_data][name] is empty.".to_owned());
    }
    Ok(Draft {
        provider: Provider::Stripe,
        merchant_ref: field("client_reference_id")
            .or_else(|| field("metadata[merchant_ref]"))
            .unwrap_or_default(),
        amount: unit_amount.checked_mul(quantity).unwrap_or(-1),
        currency: required("line_items[0][price_data][currency]")?,
        description: name,
        success_url: required("success_url")?,
        cancel_url: required("cancel_url")?,
        webhook_url: field("metadata[webhook_url]"),
    })
}

/// A Checkout Session as Stripe renders it.
fn session(payment: &SimPayment) -> Value {
    let (payment_status, status) = match payment.status {
        PaymentStatus::Succeeded => ("paid", "complete"),
        PaymentStatus::Pending => ("unpaid", "open"),
        PaymentStatus::Failed => ("unpaid", "expired"),
    };
    let mut metadata = json!({ "merchant_ref": payment.merchant_ref });
    if let Some(url) = &payment.webhook_url {
        metadata["webhook_url"] = json!(url);
    }
    json!({
        "id": payment.id,
        "object": "checkout.session",
        "amount_subtotal": payment.amount,
        "amount_total": payment.amount,
        "cancel_url": payment.cancel_url,
        "client_reference_id": payment.merchant_ref,
        "created": payment.created,
        "currency": payment.currency.to_ascii_lowercase(),
        "livemode": false,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": payment.txn_id,
        "payment_status": payment_status,
        "status": status,
        "success_url": payment.success_url,
        "url": (payment.status == PaymentStatus::Pending).then_some(&payment.redirect_url),
    })
}

/// The events a completed session's webhooks carry, in delivery order: the final one
/// (`checkout.session.completed` when paid, `checkout.session.expired` when declined) and,
/// when `reorder`, a stale `checkout.session.completed` still unpaid after it, as Stripe's
/// asynchronous payments produce out of order (the success is then
/// `checkout.session.async_payment_succeeded`). The amount shown is `claimed`.
pub(super) fn events(payment: &SimPayment, reorder: bool, claimed: i64, now: i64) -> Vec<Vec<u8>> {
    let mut object = session(payment);
    object["amount_total"] = json!(claimed);
    let kind = match payment.status {
        PaymentStatus::Succeeded if reorder => "checkout.session.async_payment_succeeded",
        PaymentStatus::Succeeded | PaymentStatus::Pending => "checkout.session.completed",
        PaymentStatus::Failed => "checkout.session.expired",
    };
    let mut events = vec![event(kind, object.clone(), now)];
    if reorder {
        object["payment_status"] = json!("unpaid");
        object["status"] = json!("complete");
        object["payment_intent"] = Value::Null;
        events.push(event("checkout.session.completed", object, now));
    }
    events
}

fn event(kind: &str, object: Value, now: i64) -> Vec<u8> {
    json!({
        "id": new_id("evt_"),
        "object": "event",
        "created": now,
        "livemode": false,
        "pending_webhooks": 1,
        "type": kind,
        "data": { "object": object },
    })
    .to_string()
    .into_bytes()
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "invalid_request_error",
        "Invalid API Key provided.",
    )
}

fn invalid(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request_error", message)
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({ "error": { "type": kind, "message": message } });
    (status, Json(body)).into_response()
}
