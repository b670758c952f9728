//! The simulator's SSLCommerz routes (shapes in the crate's `sslcommerz` module): session
//! creates, keyed by `tran_id`, the validation API, and the IPNs a paid session sends,
//! signed with `verify_sign`. Refusals come as SSLCommerz sends them, with HTTP 200
//! (`"status": "FAILED"`, `"APIConnect": "INVALID_REQUEST"`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse as _, Response};
use http::{HeaderMap, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::ledger::{Draft, Refusal};
use super::{Shared, SimPayment, new_id, same_secret};
use crate::{PaymentStatus, Provider, decimal, wire};

/// What a form value keeps unescaped.
const FORM_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*');

/// The fields a create must carry besides the amount, currency, ids and URLs.
const REQUIRED: [&str; 7] = [
    "product_name",
    "product_category",
    "product_profile",
    "cus_name",
    "cus_email",
    "cus_phone",
    "shipping_method",
];

/// `POST /sslcommerz/gwprocess/v4/api.php`: any `store_id`, the simulator's secret key as
/// `store_passwd`; the same `tran_id` for the same amount and currency is the same payment.
pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return failed("Invalid request");
    };
    let field = |name: &str| form.get(name).map_or("", String::as_str);
    if field("store_id").is_empty() || !same_secret(field("store_passwd"), &shared.secret_key) {
        return failed("Store Credential Error Or Store is De-active");
    }
    if let Some(missing) = REQUIRED.iter().find(|name| field(name).is_empty()) {
        return failed(&format!("Missing required field: {missing}"));
    }
    for name in [
        "tran_id",
        "success_url",
        "fail_url",
        "cancel_url",
        "ipn_url",
    ] {
        if field(name).is_empty() {
            return failed(&format!("Missing required field: {name}"));
        }
    }
    let amount = match decimal::parse("total_amount", field("total_amount")) {
        Ok(amount) => amount,
        Err(message) => return failed(&message),
    };
    let draft = Draft {
        provider: Provider::Sslcommerz,
        merchant_ref: field("tran_id"),
        amount,
        currency: field("currency"),
        description: field("product_name"),
        success_url: field("success_url"),
        cancel_url: field("fail_url"),
        webhook_url: Some(field("ipn_url")),
    };
    let new = match draft.parse() {
        Ok(new) => new,
        Err(message) => return failed(&message),
    };
    match shared.open(new, Some(field("tran_id").to_owned()), &headers) {
        Ok(payment) => Json(json!({
            "status": "SUCCESS",
            "failedreason": "",
            "sessionkey": new_id(""),
            "GatewayPageURL": payment.redirect_url,
            "redirectGatewayURL": payment.redirect_url,
            "storeBanner": "",
            "storeLogo": "",
            "desc": [],
            "is_direct_pay_enable": "0",
        }))
        .into_response(),
        Err(Refusal::Conflict) => failed("Duplicate tran_id for another amount or currency"),
        Err(Refusal::Full) => failed("The simulator holds as many sessions as it will"),
    }
}

/// `GET /sslcommerz/validator/api/merchantTransIDvalidationAPI.php?tran_id=…&store_id=…&
/// store_passwd=…&format=json`.
pub(super) async fn validate(
    State(shared): State<Arc<Shared>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return Json(json!({ "APIConnect": "INVALID_REQUEST" })).into_response();
    };
    let field = |name: &str| query.get(name).map_or("", String::as_str);
    if field("store_id").is_empty() || !same_secret(field("store_passwd"), &shared.secret_key) {
        return Json(json!({ "APIConnect": "INVALID_REQUEST" })).into_response();
    }
    if shared.scenario().fail_confirm {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "APIConnect": "FAILED" })),
        )
            .into_response();
    }
    let elements: Vec<Value> = shared
        .find(Provider::Sslcommerz, field("tran_id"))
        .filter(|p| p.status != PaymentStatus::Pending)
        .map(|p| element(&p))
        .into_iter()
        .collect();
    Json(json!({
        "APIConnect": "DONE",
        "no_of_trans_found": elements.len(),
        "element": elements,
    }))
    .into_response()
}

/// A transaction as the validation API lists it.
fn element(payment: &SimPayment) -> Value {
    let paid = payment.paid_amount.unwrap_or(payment.amount);
    let amount = decimal::format("amount", paid).unwrap_or_default();
    let status = match payment.status {
        PaymentStatus::Succeeded => "VALID",
        PaymentStatus::Pending => "PENDING",
        PaymentStatus::Failed => "FAILED",
    };
    json!({
        "val_id": payment.val_id.clone().unwrap_or_default(),
        "status": status,
        "validated_on": "",
        "currency_type": payment.currency,
        "currency_amount": amount,
        "currency_rate": "1.0000",
        "base_fair": "0.00",
        "value_a": payment.merchant_ref,
        "value_b": "",
        "value_c": "",
        "value_d": "",
        "risk_title": "Safe",
        "risk_level": "0",
        "APIConnect": "DONE",
        "tran_id": payment.id,
        "amount": amount,
        "store_amount": store_amount(paid),
        "bank_tran_id": payment.txn_id.clone().unwrap_or_default(),
        "card_type": "BKASH-BKash",
        "currency": payment.currency,
        "error": if status == "FAILED" { "Declined by the simulator" } else { "" },
    })
}

/// What the store keeps of `paid` after SSLCommerz's 2.5 % fee, as a decimal string.
fn store_amount(paid: i64) -> String {
    let fee = paid / 40;
    decimal::format("store_amount", paid - fee).unwrap_or_default()
}

/// The IPN bodies a paid session sends, in delivery order, signed with `store_passwd`: its
/// final status (`VALID` or `FAILED`) and, when `reorder`, a stale `UNATTEMPTED` after it.
pub(super) fn ipns(payment: &SimPayment, reorder: bool, store_passwd: &str) -> Vec<Vec<u8>> {
    let mut bodies = vec![ipn(payment, None, store_passwd)];
    if reorder {
        bodies.push(ipn(payment, Some("UNATTEMPTED"), store_passwd));
    }
    bodies
}

fn ipn(payment: &SimPayment, stale: Option<&str>, store_passwd: &str) -> Vec<u8> {
    let paid = payment.paid_amount.unwrap_or(payment.amount);
    let amount = decimal::format("amount", paid).unwrap_or_default();
    let final_status = match payment.status {
        PaymentStatus::Succeeded => "VALID",
        PaymentStatus::Pending => "PENDING",
        PaymentStatus::Failed => "FAILED",
    };
    let status = stale.unwrap_or(final_status);
    let valid = status == "VALID";
    let mut fields: Vec<(String, String)> = vec![
        ("tran_id".into(), payment.id.clone()),
        ("status".into(), status.into()),
        ("amount".into(), amount.clone()),
        ("currency".into(), payment.currency.clone()),
        ("currency_type".into(), payment.currency.clone()),
        ("currency_amount".into(), amount),
        ("value_a".into(), payment.merchant_ref.clone()),
    ];
    if valid {
        let more = [
            ("val_id", payment.val_id.clone().unwrap_or_default()),
            ("bank_tran_id", payment.txn_id.clone().unwrap_or_default()),
            ("store_amount", store_amount(paid)),
            ("card_type", "BKASH-BKash".to_owned()),
            ("card_issuer", "BKash Mobile Banking".to_owned()),
            ("card_brand", "MOBILEBANKING".to_owned()),
            ("risk_level", "0".to_owned()),
            ("risk_title", "Safe".to_owned()),
        ];
        fields.extend(more.into_iter().map(|(k, v)| (k.to_owned(), v)));
    } else if status == "FAILED" {
        fields.push(("error".into(), "Declined by the simulator".into()));
    }
    let (key, sign) = crate::sslcommerz::sign(&fields, store_passwd);
    fields.push(("verify_sign".into(), sign));
    fields.push(("verify_key".into(), key));
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, FORM_VALUE),
                utf8_percent_encode(v, FORM_VALUE)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

fn failed(reason: &str) -> Response {
    Json(json!({
        "status": "FAILED",
        "failedreason": wire::excerpt(reason),
        "sessionkey": "",
        "GatewayPageURL": "",
    }))
    .into_response()
}
