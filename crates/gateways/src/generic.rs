//! The generic protocol: ours, for aggregators and local gateways that will implement one
//! documented shape rather than us implementing theirs. JSON over HTTPS, amounts in minor
//! units, currencies as upper-case ISO 4217 codes, unknown fields ignored on both sides.
//!
//! **Create a checkout**: `POST {base}/v1/checkout` with `Authorization: Bearer <secret key>`
//! and
//! `{"merchant_ref", "amount", "currency", "description", "success_url", "cancel_url",
//! "webhook_url"}`. `merchant_ref` is the idempotency key: the same reference with the same
//! amount and currency returns the same checkout; with another amount or currency, 409.
//! Answer `200 {"id": "<payment id>", "checkout_url": "<hosted page>"}`.
//!
//! **Confirm**: `GET {base}/v1/payments/{id}` with the same Bearer key. Answer
//! `200 {"id", "status": "succeeded"|"pending"|"failed", "amount", "currency", "merchant_ref",
//! "txn_id"}`; `txn_id` (unique per merchant account) is required once `succeeded`, and may be
//! `null` before. Unknown id: 404.
//!
//! **Errors**: a non-2xx status with `{"error": {"code": "<snake_case>", "message": "<text>"}}`
//! (401 bad key, 400 invalid request, 404 unknown payment, 409 idempotency conflict, 5xx
//! retry later).
//!
//! **Webhooks**: `POST <webhook_url>` with header `X-Signature: t=<unix seconds>,v1=<hex>`,
//! `v1 = hex(HMAC-SHA256(webhook secret, "{t}.{raw body}"))` (several `v1` during a secret
//! rotation; receivers reject `|now - t| > 300`), body
//! `{"event_id", "type": "payment.succeeded"|"payment.failed"|"payment.pending",
//! "payment_id", ...}`. The gateway may add the amount and other details, which receivers
//! never trust: they confirm. A delivery is retried until it gets a 2xx; the same event keeps
//! its `event_id`, and events may arrive out of order.

use serde::{Deserialize, Serialize};

use crate::wire;
use crate::{Checkout, Confirmation, Created, Notice, PaymentStatus};

/// The body of a create.
#[derive(Debug, Serialize)]
pub(crate) struct CreateRequest<'a> {
    merchant_ref: &'a str,
    amount: i64,
    currency: &'a str,
    description: &'a str,
    success_url: &'a str,
    cancel_url: &'a str,
    webhook_url: &'a str,
}

impl<'a> CreateRequest<'a> {
    /// The request for `checkout`.
    pub(crate) fn new(checkout: &'a Checkout) -> Self {
        CreateRequest {
            merchant_ref: &checkout.merchant_ref,
            amount: checkout.amount,
            currency: &checkout.currency,
            description: &checkout.description,
            success_url: &checkout.success_url,
            cancel_url: &checkout.cancel_url,
            webhook_url: &checkout.webhook_url,
        }
    }
}

#[derive(Debug, Deserialize)]
struct CreateAnswer {
    id: String,
    checkout_url: String,
}

/// The answer to a create.
pub(crate) fn created(body: &[u8]) -> Result<Created, String> {
    let answer: CreateAnswer =
        serde_json::from_slice(body).map_err(|e| format!("checkout: {e}"))?;
    Ok(Created {
        provider_payment_id: wire::identifier("id", &answer.id)?,
        redirect_url: wire::text("checkout_url", &answer.checkout_url, wire::MAX_TEXT)?,
    })
}

#[derive(Debug, Deserialize)]
struct Payment {
    id: String,
    status: String,
    amount: i64,
    currency: String,
    merchant_ref: String,
    txn_id: Option<String>,
}

/// The answer to a confirm, which must be the payment asked about.
pub(crate) fn confirmation(body: &[u8], asked: &str) -> Result<Confirmation, String> {
    let payment: Payment = serde_json::from_slice(body).map_err(|e| format!("payment: {e}"))?;
    if payment.id != asked {
        return Err("the answer is about another payment".to_owned());
    }
    let status = match payment.status.as_str() {
        "succeeded" => PaymentStatus::Succeeded,
        "pending" => PaymentStatus::Pending,
        "failed" => PaymentStatus::Failed,
        _ => return Err("payment status is not succeeded, pending or failed".to_owned()),
    };
    let txn_id = match payment.txn_id.as_deref() {
        Some(txn) if !txn.is_empty() => wire::identifier("txn_id", txn)?,
        _ if status == PaymentStatus::Succeeded => {
            return Err("a succeeded payment has no txn_id".to_owned());
        }
        _ => String::new(),
    };
    Ok(Confirmation {
        provider_payment_id: payment.id,
        status,
        amount: payment.amount,
        currency: wire::currency("currency", &payment.currency)?,
        merchant_ref: wire::reference("merchant_ref", &payment.merchant_ref)?,
        txn_id,
    })
}

#[derive(Debug, Deserialize)]
struct Event {
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    payment_id: String,
}

/// The identifiers in a webhook's body.
pub(crate) fn notice(body: &[u8]) -> Result<Notice, String> {
    let event: Event = serde_json::from_slice(body).map_err(|e| format!("event: {e}"))?;
    Ok(Notice {
        event_id: wire::identifier("event_id", &event.event_id)?,
        provider_payment_id: wire::identifier("payment_id", &event.payment_id)?,
        kind: wire::identifier("type", &event.kind)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_succeeded_payment_needs_its_txn_id() {
        let body = br#"{"id":"pay_1","status":"succeeded","amount":5,"currency":"bdt",
            "merchant_ref":"INV-9","txn_id":"txn_1","fee":0}"#;
        let c = confirmation(body, "pay_1").unwrap();
        assert_eq!(c.currency, "BDT");
        assert_eq!(c.txn_id, "txn_1");
        let missing = br#"{"id":"pay_1","status":"succeeded","amount":5,"currency":"BDT",
            "merchant_ref":"INV-9","txn_id":null}"#;
        assert!(confirmation(missing, "pay_1").is_err());
    }

    #[test]
    fn an_unknown_status_is_malformed_not_guessed() {
        let body = br#"{"id":"pay_1","status":"paid","amount":5,"currency":"BDT",
            "merchant_ref":"INV-9"}"#;
        assert!(confirmation(body, "pay_1").is_err());
    }

    #[test]
    fn a_pending_payment_has_no_txn_id_yet() {
        let body = br#"{"id":"pay_1","status":"pending","amount":5,"currency":"BDT",
            "merchant_ref":"INV-9"}"#;
        let c = confirmation(body, "pay_1").unwrap();
        assert_eq!(c.status, PaymentStatus::Pending);
        assert_eq!(c.txn_id, "");
    }
}
