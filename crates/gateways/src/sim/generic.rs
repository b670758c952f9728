//! The simulator's routes for the generic protocol (documented in the crate's `generic`
//! module): JSON checkouts keyed by `merchant_ref`, payments read back, and the events its
//! webhooks carry.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse as _, Response};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::ledger::{Draft, Refusal};
use super::{Shared, SimPayment, new_id};
use crate::{PaymentStatus, Provider, wire};

/// The body of a create.
#[derive(Debug, Deserialize)]
pub(super) struct CreateBody {
    merchant_ref: String,
    amount: i64,
    currency: String,
    #[serde(default)]
    description: String,
    success_url: String,
    cancel_url: String,
    webhook_url: String,
}

/// `POST /generic/v1/checkout`.
pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> Response {
    if !shared.authorized(&headers) {
        return unauthorized();
    }
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) => return invalid(&wire::excerpt(&rejection.body_text())),
    };
    let draft = Draft {
        provider: Provider::Generic,
        merchant_ref: &body.merchant_ref,
        amount: body.amount,
        currency: &body.currency,
        description: &body.description,
        success_url: &body.success_url,
        cancel_url: &body.cancel_url,
        webhook_url: Some(&body.webhook_url),
    };
    let new = match draft.parse() {
        Ok(new) => new,
        Err(message) => return invalid(&message),
    };
    match shared.open(new, Some(body.merchant_ref.clone()), &headers) {
        Ok(payment) => Json(json!({
            "id": payment.id,
            "checkout_url": payment.redirect_url,
        }))
        .into_response(),
        Err(Refusal::Conflict) => error(
            StatusCode::CONFLICT,
            "idempotency_conflict",
            "merchant_ref was used for another amount or currency",
        ),
        Err(Refusal::Full) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the simulator holds as many payments as it will",
        ),
    }
}

/// `GET /generic/v1/payments/{id}`.
pub(super) async fn retrieve(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !shared.authorized(&headers) {
        return unauthorized();
    }
    let Some(payment) = shared.find(Provider::Generic, &id) else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such payment");
    };
    if shared.scenario().fail_confirm {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "try again later",
        );
    }
    Json(json!({
        "id": payment.id,
        "status": payment.status.as_str(),
        "amount": payment.amount,
        "currency": payment.currency,
        "merchant_ref": payment.merchant_ref,
        "txn_id": payment.txn_id,
        "description": payment.description,
        "created": payment.created,
    }))
    .into_response()
}

/// The events a completed payment's webhooks carry, in delivery order: `payment.succeeded`
/// or `payment.failed`, then, when `reorder`, a stale `payment.pending`. The amount shown is
/// `claimed`.
pub(super) fn events(payment: &SimPayment, reorder: bool, claimed: i64, now: i64) -> Vec<Vec<u8>> {
    let kind = match payment.status {
        PaymentStatus::Succeeded => "payment.succeeded",
        PaymentStatus::Failed => "payment.failed",
        PaymentStatus::Pending => "payment.pending",
    };
    let mut events = vec![event(payment, kind, claimed, now)];
    if reorder {
        events.push(event(payment, "payment.pending", claimed, now));
    }
    events
}

fn event(payment: &SimPayment, kind: &str, claimed: i64, now: i64) -> Vec<u8> {
    json!({
        "event_id": new_id("evt_"),
        "type": kind,
        "payment_id": payment.id,
        "merchant_ref": payment.merchant_ref,
        "amount": claimed,
        "currency": payment.currency,
        "created": now,
    })
    .to_string()
    .into_bytes()
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing or wrong Bearer key",
    )
}

fn invalid(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request", message)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "error": { "code": code, "message": message } });
    (status, Json(body)).into_response()
}
