//! The simulator's bKash tokenized checkout routes (shapes in the crate's `bkash` module):
//! token grants, creates, executes and status queries, answering refusals as bKash does,
//! with HTTP 200 and a `statusCode` other than `0000` (the codes are the simulator's), and a
//! bad or expired token with 401. Also the callback URLs the customer's browser is sent to.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse as _, Response};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ledger::{Draft, ExecuteRefusal, Refusal};
use super::{Shared, SimPayment, same_secret};
use crate::{PaymentStatus, Provider, decimal, wire};

/// The body of a grant.
#[derive(Debug, Deserialize)]
pub(super) struct GrantBody {
    app_key: String,
    app_secret: String,
}

/// `POST /bkash/tokenized/checkout/token/grant`: `username` and `password` headers (any
/// username; the password is the simulator's webhook secret), `app_key` (any) and
/// `app_secret` (the simulator's secret key).
pub(super) async fn grant(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<GrantBody>, JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return refused("2001", "Invalid request body");
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    if header("username").is_empty() || !same_secret(header("password"), &shared.webhook_secret) {
        return refused("2079", "Invalid username or password");
    }
    if body.app_key.is_empty() || !same_secret(&body.app_secret, &shared.secret_key) {
        return refused("2001", "Invalid App Key or App Secret");
    }
    let token = shared.grant(&body.app_key);
    Json(json!({
        "statusCode": "0000",
        "statusMessage": "Successful",
        "id_token": token,
        "token_type": "Bearer",
        "expires_in": super::TOKEN_SECONDS,
        "refresh_token": super::new_id("sim_refresh_"),
    }))
    .into_response()
}

/// The body of a create.
#[derive(Debug, Deserialize)]
pub(super) struct CreateBody {
    mode: String,
    #[serde(rename = "payerReference")]
    payer_reference: String,
    #[serde(rename = "callbackURL")]
    callback_url: String,
    amount: String,
    currency: String,
    intent: String,
    #[serde(rename = "merchantInvoiceNumber")]
    merchant_invoice_number: String,
}

/// `POST /bkash/tokenized/checkout/create`: a new payment each time.
pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> Response {
    if !shared.bkash_authorized(&headers) {
        return unauthorized();
    }
    let Ok(Json(body)) = body else {
        return refused("2065", "Invalid request body");
    };
    if body.mode != "0011" || body.intent != "sale" {
        return refused("2065", "Only mode 0011 with intent sale is simulated");
    }
    if body.currency != "BDT" {
        return refused("2065", "Invalid currency");
    }
    if body.payer_reference.is_empty() {
        return refused("2065", "Invalid payerReference");
    }
    let amount = match decimal::parse("amount", &body.amount) {
        Ok(amount) => amount,
        Err(message) => return refused("2065", &message),
    };
    let draft = Draft {
        provider: Provider::Bkash,
        merchant_ref: &body.merchant_invoice_number,
        amount,
        currency: &body.currency,
        description: "bKash payment",
        success_url: &body.callback_url,
        cancel_url: &body.callback_url,
        webhook_url: Some(&body.callback_url),
    };
    let new = match draft.parse() {
        Ok(new) => new,
        Err(message) => return refused("2065", &message),
    };
    match shared.open(new, None, &headers) {
        Ok(payment) => Json(json!({
            "statusCode": "0000",
            "statusMessage": "Successful",
            "paymentID": payment.id,
            "paymentCreateTime": payment.created.to_string(),
            "transactionStatus": "Initiated",
            "amount": body.amount,
            "currency": "BDT",
            "intent": "sale",
            "merchantInvoiceNumber": payment.merchant_ref,
            "bkashURL": payment.redirect_url,
            "callbackURL": body.callback_url,
            "successCallbackURL": callback_url(&payment, "success"),
            "failureCallbackURL": callback_url(&payment, "failure"),
            "cancelledCallbackURL": callback_url(&payment, "cancel"),
        }))
        .into_response(),
        Err(Refusal::Conflict | Refusal::Full) => {
            refused("9999", "The simulator holds as many payments as it will")
        }
    }
}

/// The body of an execute or a status query.
#[derive(Debug, Deserialize)]
pub(super) struct PaymentBody {
    #[serde(rename = "paymentID")]
    payment_id: String,
}

/// `POST /bkash/tokenized/checkout/execute`: captures an authorised payment, once.
pub(super) async fn execute(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<PaymentBody>, JsonRejection>,
) -> Response {
    let id = match payment_request(&shared, &headers, body) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    let executed = super::lock(&shared.ledger).execute(&id);
    match executed {
        Ok(payment) => Json(answer(&payment)).into_response(),
        Err(ExecuteRefusal::Unknown) => refused("2002", "Invalid Payment ID"),
        Err(ExecuteRefusal::NotAuthorised) => refused("2056", "Invalid Payment State"),
        Err(ExecuteRefusal::AlreadyExecuted) => {
            refused("2117", "Payment execution already been called before")
        }
    }
}

/// `POST /bkash/tokenized/checkout/payment/status`.
pub(super) async fn status(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<PaymentBody>, JsonRejection>,
) -> Response {
    let id = match payment_request(&shared, &headers, body) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    match shared.find(Provider::Bkash, &id) {
        Some(payment) => Json(answer(&payment)).into_response(),
        None => refused("2002", "Invalid Payment ID"),
    }
}

/// The payment id an execute or a query is about, or the answer refusing it.
fn payment_request(
    shared: &Shared,
    headers: &HeaderMap,
    body: Result<Json<PaymentBody>, JsonRejection>,
) -> Result<String, Box<Response>> {
    if !shared.bkash_authorized(headers) {
        return Err(Box::new(unauthorized()));
    }
    let Ok(Json(body)) = body else {
        return Err(Box::new(refused("2065", "Invalid request body")));
    };
    if shared.scenario().fail_confirm {
        return Err(Box::new(
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "message": "Internal server error" })),
            )
                .into_response(),
        ));
    }
    Ok(body.payment_id)
}

/// A payment as execute and the status query render it.
fn answer(payment: &SimPayment) -> Value {
    let (status, amount) = match payment.status {
        PaymentStatus::Succeeded => ("Completed", payment.paid_amount.unwrap_or(payment.amount)),
        PaymentStatus::Pending => ("Initiated", payment.amount),
        PaymentStatus::Failed => ("Failed", payment.amount),
    };
    let mut body = json!({
        "statusCode": "0000",
        "statusMessage": "Successful",
        "paymentID": payment.id,
        "transactionStatus": status,
        "amount": decimal::format("amount", amount).unwrap_or_default(),
        "currency": payment.currency,
        "intent": "sale",
        "merchantInvoiceNumber": payment.merchant_ref,
        "payerReference": payment.merchant_ref,
    });
    if let Some(trx) = &payment.txn_id {
        body["trxID"] = json!(trx);
        body["customerMsisdn"] = json!("01770618575");
    }
    body
}

/// `callbackURL?paymentID=…&status=…` for `payment`, as bKash sends the browser back.
pub(super) fn callback_url(payment: &SimPayment, status: &str) -> Option<String> {
    let base = payment.webhook_url.as_deref()?;
    let mut url = reqwest::Url::parse(base).ok()?;
    url.query_pairs_mut()
        .append_pair("paymentID", &payment.id)
        .append_pair("status", status);
    Some(url.into())
}

/// The status a bKash callback carries for `payment` once the customer has acted.
pub(super) fn outcome(payment: &SimPayment) -> &'static str {
    if payment.status == PaymentStatus::Failed {
        "failure"
    } else {
        "success"
    }
}

/// The callbacks a paid payment's customer makes, in order: its outcome and, when
/// `reorder`, a stale `cancel` after it.
pub(super) fn callbacks(payment: &SimPayment, reorder: bool) -> Vec<String> {
    let mut statuses = vec![outcome(payment)];
    if reorder {
        statuses.push("cancel");
    }
    statuses
        .into_iter()
        .filter_map(|status| callback_url(payment, status))
        .collect()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "message": "Unauthorized" })),
    )
        .into_response()
}

fn refused(code: &str, message: &str) -> Response {
    Json(json!({
        "statusCode": code,
        "statusMessage": wire::excerpt(message),
    }))
    .into_response()
}
