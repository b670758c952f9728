//! Stripe's wire shapes, the subset we use: a Checkout Session created form-encoded at
//! `POST /v1/checkout/sessions` (with an `Idempotency-Key`), read back at
//! `GET /v1/checkout/sessions/{id}`, and the event a webhook carries. Building the request
//! and reading the answers; the HTTP itself is `client`'s, the signature `signature`'s.
//!
//! A session is `Succeeded` when its `payment_status` is `paid`, `Failed` when its `status`
//! is `expired`, and `Pending` otherwise; its PaymentIntent is the transaction id.
//! Stripe sends currencies lower case; we hand them on upper case.

use serde::Deserialize;

use crate::wire;
use crate::{Checkout, Confirmation, Created, Notice, PaymentStatus};

/// The form fields of a Checkout Session for `checkout`, in payment mode with one line.
pub(crate) fn create_form(checkout: &Checkout) -> Vec<(&'static str, String)> {
    vec![
        ("mode", "payment".to_owned()),
        (
            "line_items[0][price_data][currency]",
            checkout.currency.to_ascii_lowercase(),
        ),
        (
            "line_items[0][price_data][unit_amount]",
            checkout.amount.to_string(),
        ),
        (
            "line_items[0][price_data][product_data][name]",
            checkout.description.clone(),
        ),
        ("line_items[0][quantity]", "1".to_owned()),
        ("success_url", checkout.success_url.clone()),
        ("cancel_url", checkout.cancel_url.clone()),
        ("client_reference_id", checkout.merchant_ref.clone()),
        ("metadata[merchant_ref]", checkout.merchant_ref.clone()),
        // Real Stripe keeps this as plain metadata; the simulator delivers webhooks to it.
        ("metadata[webhook_url]", checkout.webhook_url.clone()),
    ]
}

/// A field Stripe may expand from an id into the object it names.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Expandable {
    Id(String),
    Object { id: String },
}

impl Expandable {
    fn id(&self) -> &str {
        match self {
            Expandable::Id(id) | Expandable::Object { id } => id,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Metadata {
    merchant_ref: Option<String>,
}

/// A Checkout Session, the fields we read.
#[derive(Debug, Deserialize)]
struct Session {
    id: String,
    url: Option<String>,
    payment_intent: Option<Expandable>,
    payment_status: Option<String>,
    status: Option<String>,
    amount_total: Option<i64>,
    currency: Option<String>,
    client_reference_id: Option<String>,
    metadata: Option<Metadata>,
}

/// The answer to a create: the session's id and hosted page.
pub(crate) fn created(body: &[u8]) -> Result<Created, String> {
    let session: Session =
        serde_json::from_slice(body).map_err(|e| format!("checkout session: {e}"))?;
    let url = session.url.ok_or("checkout session has no url")?;
    Ok(Created {
        provider_payment_id: wire::identifier("session id", &session.id)?,
        redirect_url: wire::text("session url", &url, wire::MAX_TEXT)?,
    })
}

/// The answer to a retrieve, which must be the session asked about.
pub(crate) fn confirmation(body: &[u8], asked: &str) -> Result<Confirmation, String> {
    let session: Session =
        serde_json::from_slice(body).map_err(|e| format!("checkout session: {e}"))?;
    if session.id != asked {
        return Err("the answer is about another checkout session".to_owned());
    }
    let payment_status = session
        .payment_status
        .ok_or("checkout session has no payment_status")?;
    let state = session.status.ok_or("checkout session has no status")?;
    let status = if payment_status == "paid" {
        PaymentStatus::Succeeded
    } else if state == "expired" {
        PaymentStatus::Failed
    } else {
        PaymentStatus::Pending
    };
    let amount = session
        .amount_total
        .ok_or("checkout session has no amount_total")?;
    let currency = session.currency.ok_or("checkout session has no currency")?;
    let merchant_ref = session
        .client_reference_id
        .or_else(|| session.metadata.and_then(|m| m.merchant_ref))
        .ok_or("checkout session has no client_reference_id")?;
    let txn_id = match &session.payment_intent {
        Some(intent) => wire::identifier("payment_intent", intent.id())?,
        None if status == PaymentStatus::Succeeded => {
            return Err("a paid checkout session has no payment_intent".to_owned());
        }
        None => String::new(),
    };
    Ok(Confirmation {
        provider_payment_id: session.id,
        status,
        amount,
        currency: wire::currency("currency", &currency)?,
        merchant_ref: wire::reference("client_reference_id", &merchant_ref)?,
        txn_id,
    })
}

#[derive(Debug, Deserialize)]
struct EventObject {
    id: String,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: EventObject,
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

/// The identifiers in an event: its id, its type and the id of the object it is about.
pub(crate) fn notice(body: &[u8]) -> Result<Notice, String> {
    let event: Event = serde_json::from_slice(body).map_err(|e| format!("event: {e}"))?;
    Ok(Notice {
        event_id: wire::identifier("event id", &event.id)?,
        provider_payment_id: wire::identifier("data.object.id", &event.data.object.id)?,
        kind: wire::identifier("event type", &event.kind)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(payment_status: &str, status: &str, intent: &str) -> Vec<u8> {
        format!(
            r#"{{"id":"cs_1","object":"checkout.session","amount_total":1500,"currency":"eur",
            "client_reference_id":"INV-1","payment_intent":{intent},
            "payment_status":"{payment_status}","status":"{status}","extra":[1,2]}}"#
        )
        .into_bytes()
    }

    #[test]
    fn a_paid_session_succeeds_with_its_payment_intent() {
        let c = confirmation(&session("paid", "complete", r#""pi_1""#), "cs_1").unwrap();
        assert_eq!(c.status, PaymentStatus::Succeeded);
        assert_eq!(c.currency, "EUR");
        assert_eq!(c.amount, 1500);
        assert_eq!(c.merchant_ref, "INV-1");
        assert_eq!(c.txn_id, "pi_1");
    }

    #[test]
    fn an_expanded_payment_intent_gives_its_id() {
        let body = session(
            "paid",
            "complete",
            r#"{"id":"pi_2","object":"payment_intent"}"#,
        );
        assert_eq!(confirmation(&body, "cs_1").unwrap().txn_id, "pi_2");
    }

    #[test]
    fn an_expired_session_fails_and_an_open_one_is_pending() {
        let expired = confirmation(&session("unpaid", "expired", "null"), "cs_1").unwrap();
        assert_eq!(expired.status, PaymentStatus::Failed);
        assert_eq!(expired.txn_id, "");
        let open = confirmation(&session("unpaid", "open", "null"), "cs_1").unwrap();
        assert_eq!(open.status, PaymentStatus::Pending);
        let free = confirmation(&session("no_payment_required", "complete", "null"), "cs_1");
        assert_eq!(free.unwrap().status, PaymentStatus::Pending);
    }

    #[test]
    fn a_paid_session_without_payment_intent_is_malformed() {
        assert!(confirmation(&session("paid", "complete", "null"), "cs_1").is_err());
    }

    #[test]
    fn an_answer_about_another_session_is_malformed() {
        assert!(confirmation(&session("paid", "complete", r#""pi_1""#), "cs_2").is_err());
    }

    #[test]
    fn the_form_names_the_currency_lower_case() {
        let checkout = Checkout {
            merchant_ref: "INV-1".into(),
            amount: 990,
            currency: "USD".into(),
            description: "Fibre 50".into(),
            success_url: "https://isp.example/ok".into(),
            cancel_url: "https://isp.example/no".into(),
            webhook_url: "https://isp.example/hook".into(),
        };
        let form = create_form(&checkout);
        assert!(form.contains(&("line_items[0][price_data][currency]", "usd".to_owned())));
        assert!(form.contains(&("line_items[0][price_data][unit_amount]", "990".to_owned())));
        assert!(form.contains(&("client_reference_id", "INV-1".to_owned())));
    }
}
