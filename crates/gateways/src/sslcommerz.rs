//! SSLCommerz's wire shapes, the subset we use: the session create, the IPN and its
//! `verify_sign`, and the validation API. The HTTP itself is `client`'s.
//!
//! - **Create**: `POST {base}/gwprocess/v4/api.php`, form-encoded, with `store_id`,
//!   `store_passwd`, `total_amount` (`"500.00"`), `currency`, `tran_id` (our
//!   `merchant_ref`, at most 30 characters), `success_url`, `fail_url`, `cancel_url`,
//!   `ipn_url`, and the product and customer fields SSLCommerz requires (placeholders here:
//!   a [`Checkout`] carries no customer details) → `{"status": "SUCCESS", "sessionkey",
//!   "GatewayPageURL", …}` or `{"status": "FAILED", "failedreason"}`. The checkout's id is
//!   the `tran_id`: it is what the IPN and the validation API name. Each create opens a new
//!   session for the same `tran_id`; the validation API sees them all.
//! - **The IPN**: `POST ipn_url`, form-encoded, with `tran_id`, `val_id`, `amount`,
//!   `currency`, `status` (`VALID`, `FAILED`, `CANCELLED`, `UNATTEMPTED`, `EXPIRED`),
//!   `verify_sign`, `verify_key` and more. `verify_sign` is the hex MD5 of the fields named
//!   in `verify_key` (comma-separated) plus `store_passwd` = hex MD5 of the store password,
//!   sorted by name and joined `name=value&…`. It carries no timestamp, so a captured IPN
//!   can be replayed: dedupe on the event id and confirm. SSLCommerz also sends the
//!   customer's browser to `success_url` (or `fail_url`, `cancel_url`) with a POST of the
//!   same fields; that visit is no notice and is not read here.
//! - **Confirm**: `GET {base}/validator/api/merchantTransIDvalidationAPI.php?tran_id=…&
//!   store_id=…&store_passwd=…&format=json` → `{"APIConnect": "DONE",
//!   "no_of_trans_found": N, "element": [{"val_id", "status", "amount", "currency",
//!   "currency_type", "currency_amount", "tran_id", "bank_tran_id", …}]}`. `Succeeded` when
//!   an element is `VALID` or `VALIDATED` (the transaction id is its `bank_tran_id`, else its
//!   `val_id`; the amount its `currency_amount` in `currency_type` when given, its `amount`
//!   in `currency` otherwise), `Pending` when none is found or they are all `PENDING` or
//!   `UNATTEMPTED` (the session may still be paid until it expires), `Failed` otherwise.
//!
//! SSLCommerz refuses with HTTP 200 (`"status": "FAILED"`, `"APIConnect"` other than
//! `DONE`); those refusals become [`GatewayError::Rejected`] with status 422. Amounts are
//! decimal strings (see `decimal`); only currencies with two decimals are spoken.

use std::collections::HashMap;

use md5::{Digest as _, Md5};
use serde::Deserialize;
use subtle::ConstantTimeEq as _;

use crate::WebhookError;
use crate::{Checkout, Confirmation, Created, GatewayConfig, GatewayError, Notice, PaymentStatus};
use crate::{decimal, wire};

/// The status an in-body refusal is reported with (HTTP itself said 200).
const REFUSED: u16 = 422;

/// The longest `tran_id` SSLCommerz takes.
pub(crate) const MAX_TRAN_ID: usize = 30;

/// The most fields a `verify_key` may name.
const MAX_SIGNED_FIELDS: usize = 100;

/// The form fields of a session for `checkout` at the account `cfg`.
pub(crate) fn create_form(
    cfg: &GatewayConfig,
    checkout: &Checkout,
) -> Result<Vec<(&'static str, String)>, String> {
    let tran_id = wire::identifier("merchant_ref", &checkout.merchant_ref)?;
    if tran_id.len() > MAX_TRAN_ID {
        return Err(format!(
            "merchant_ref is longer than the {MAX_TRAN_ID} characters SSLCommerz takes"
        ));
    }
    let currency = wire::currency("currency", &checkout.currency)?;
    if wire::minor_digits(&currency) != 2 {
        return Err("SSLCommerz takes currencies with two decimals only".to_owned());
    }
    let amount = decimal::format("amount", wire::positive("amount", checkout.amount)?)?;
    if cfg.key_id.is_empty() {
        return Err("the account has no store_id (key_id)".to_owned());
    }
    let product: String = match checkout.description.trim() {
        "" => "Service".to_owned(),
        text => text.chars().take(255).collect(),
    };
    Ok(vec![
        ("store_id", cfg.key_id.clone()),
        ("store_passwd", cfg.secret_key.clone()),
        ("total_amount", amount),
        ("currency", currency),
        ("tran_id", tran_id),
        ("success_url", checkout.success_url.clone()),
        ("fail_url", checkout.cancel_url.clone()),
        ("cancel_url", checkout.cancel_url.clone()),
        ("ipn_url", checkout.webhook_url.clone()),
        ("product_name", product),
        ("product_category", "Service".to_owned()),
        ("product_profile", "non-physical-goods".to_owned()),
        ("num_of_item", "1".to_owned()),
        ("shipping_method", "NO".to_owned()),
        // A Checkout carries no customer details; SSLCommerz requires these fields.
        ("cus_name", "Customer".to_owned()),
        ("cus_email", "customer@example.com".to_owned()),
        ("cus_phone", "01700000000".to_owned()),
        ("cus_add1", "N/A".to_owned()),
        ("cus_city", "Dhaka".to_owned()),
        ("cus_country", "Bangladesh".to_owned()),
        ("value_a", checkout.merchant_ref.clone()),
    ])
}

#[derive(Debug, Deserialize)]
struct CreateAnswer {
    status: String,
    failedreason: Option<String>,
    #[serde(rename = "GatewayPageURL")]
    gateway_page_url: Option<String>,
}

/// The answer to a create of the session for `tran_id`.
pub(crate) fn created(body: &[u8], tran_id: &str) -> Result<Created, GatewayError> {
    let answer: CreateAnswer = serde_json::from_slice(body)
        .map_err(|e| GatewayError::Malformed(format!("session: {e}")))?;
    match answer.status.as_str() {
        "SUCCESS" => {}
        "FAILED" => {
            return Err(GatewayError::Rejected {
                status: REFUSED,
                message: wire::excerpt(&format!(
                    "SSLCommerz: {}",
                    answer.failedreason.unwrap_or_default()
                )),
            });
        }
        _ => {
            return Err(GatewayError::Malformed(
                "session status is neither SUCCESS nor FAILED".to_owned(),
            ));
        }
    }
    let checked = || -> Result<Created, String> {
        let url = answer
            .gateway_page_url
            .filter(|u| !u.is_empty())
            .ok_or("the session has no GatewayPageURL")?;
        Ok(Created {
            provider_payment_id: wire::identifier("tran_id", tran_id)?,
            redirect_url: wire::text("GatewayPageURL", &url, wire::MAX_TEXT)?,
        })
    };
    checked().map_err(GatewayError::Malformed)
}

#[derive(Debug, Deserialize)]
struct Validation {
    #[serde(rename = "APIConnect")]
    api_connect: String,
    #[serde(default)]
    element: Option<Vec<Element>>,
}

#[derive(Debug, Deserialize)]
struct Element {
    status: String,
    val_id: Option<String>,
    tran_id: Option<String>,
    bank_tran_id: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    currency_type: Option<String>,
    currency_amount: Option<String>,
}

fn filled(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

impl Element {
    /// The amount and currency the customer was charged in: the transaction's own
    /// (`currency_amount` in `currency_type`) when given, else `amount` in `currency`.
    fn charged(&self) -> Result<(i64, String), String> {
        let (amount, currency) = match (
            filled(self.currency_amount.as_deref()),
            filled(self.currency_type.as_deref()),
        ) {
            (Some(amount), Some(currency)) => (amount, currency),
            _ => (
                filled(self.amount.as_deref()).ok_or("the transaction has no amount")?,
                filled(self.currency.as_deref()).ok_or("the transaction has no currency")?,
            ),
        };
        Ok((
            decimal::parse("amount", amount)?,
            wire::currency("currency", currency)?,
        ))
    }
}

/// The validation API's answer about `asked` (a `tran_id`).
pub(crate) fn confirmation(body: &[u8], asked: &str) -> Result<Confirmation, GatewayError> {
    let answer: Validation = serde_json::from_slice(body)
        .map_err(|e| GatewayError::Malformed(format!("validation: {e}")))?;
    if answer.api_connect != "DONE" {
        return Err(GatewayError::Rejected {
            status: REFUSED,
            message: wire::excerpt(&format!("SSLCommerz APIConnect {}", answer.api_connect)),
        });
    }
    read(answer.element.unwrap_or_default(), asked).map_err(GatewayError::Malformed)
}

fn read(elements: Vec<Element>, asked: &str) -> Result<Confirmation, String> {
    if elements
        .iter()
        .any(|e| e.tran_id.as_deref().is_some_and(|t| t != asked))
    {
        return Err("the answer is about another tran_id".to_owned());
    }
    let is_valid = |e: &&Element| matches!(e.status.as_str(), "VALID" | "VALIDATED");
    let valid = elements.iter().find(is_valid);
    let paid_times = elements.iter().filter(is_valid).count();
    if paid_times > 1 {
        // One checkout paid twice: the first is credited; the rest is the merchant's to
        // refund, and must not pass unseen.
        tracing::warn!(
            tran_id = asked,
            paid_times,
            "SSLCommerz reports one transaction paid more than once"
        );
    }
    let pending = elements
        .iter()
        .all(|e| matches!(e.status.as_str(), "PENDING" | "UNATTEMPTED"));
    let (status, element) = match valid {
        Some(element) => (PaymentStatus::Succeeded, Some(element)),
        None if pending => (PaymentStatus::Pending, elements.first()),
        None => (PaymentStatus::Failed, elements.first()),
    };
    let (amount, currency, txn_id) = match element {
        Some(element) if status == PaymentStatus::Succeeded => {
            let (amount, currency) = element.charged()?;
            let txn = filled(element.bank_tran_id.as_deref())
                .or(filled(element.val_id.as_deref()))
                .ok_or("a valid transaction has neither bank_tran_id nor val_id")?;
            (amount, currency, wire::identifier("bank_tran_id", txn)?)
        }
        // What a payment not taken was for is shown when it can be read; it decides nothing.
        Some(element) => element
            .charged()
            .map_or((0, String::new(), String::new()), |(a, c)| {
                (a, c, String::new())
            }),
        None => (0, String::new(), String::new()),
    };
    Ok(Confirmation {
        provider_payment_id: wire::identifier("tran_id", asked)?,
        status,
        amount,
        currency,
        merchant_ref: wire::reference("tran_id", asked)?,
        txn_id,
    })
}

/// `verify_sign` over `signed` (name, value) with `store_passwd`: the hex MD5 of the pairs
/// plus `store_passwd` = hex MD5 of the password, sorted by name, joined `name=value&…`.
fn digest(signed: &[(&str, &str)], store_passwd: &str) -> Vec<u8> {
    let password = hex::encode(Md5::digest(store_passwd.as_bytes()));
    let mut pairs: Vec<(&str, &str)> = signed.to_vec();
    pairs.push(("store_passwd", &password));
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let joined = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    Md5::digest(joined.as_bytes()).to_vec()
}

/// The `verify_key` and `verify_sign` for an IPN of `fields` signed over all of them, as
/// SSLCommerz sends them; for the simulator.
pub(crate) fn sign(fields: &[(String, String)], store_passwd: &str) -> (String, String) {
    let signed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let key = fields
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(",");
    (key, hex::encode(digest(&signed, store_passwd)))
}

/// Verifies an IPN (its raw form body) with `store_passwd` and returns its identifiers.
/// `verify_key` must name `tran_id` and `status` (and `val_id` when there is one), so what
/// is returned is what was signed.
pub(crate) fn notice(body: &[u8], store_passwd: &str) -> Result<Notice, WebhookError> {
    let malformed = |m: String| WebhookError::Malformed(m);
    let text = std::str::from_utf8(body).map_err(|_| malformed("IPN is not UTF-8".into()))?;
    let fields = wire::unique_fields(wire::form(text).map_err(malformed)?).map_err(malformed)?;
    let field = |name: &str| fields.get(name).map(String::as_str);
    let given = field("verify_sign").ok_or(WebhookError::BadSignature)?;
    let key = field("verify_key").ok_or(WebhookError::BadSignature)?;
    if store_passwd.is_empty() {
        return Err(WebhookError::BadSignature);
    }
    let names: Vec<&str> = key.split(',').collect();
    if names.len() > MAX_SIGNED_FIELDS {
        return Err(malformed(format!(
            "verify_key names more than {MAX_SIGNED_FIELDS} fields"
        )));
    }
    let mut signed: Vec<(&str, &str)> = Vec::with_capacity(names.len());
    for name in &names {
        if name.is_empty()
            || matches!(*name, "store_passwd" | "verify_sign" | "verify_key")
            || signed.iter().any(|(n, _)| n == name)
        {
            return Err(malformed(
                "verify_key names an empty, repeated or reserved field".into(),
            ));
        }
        let value = field(name).ok_or_else(|| {
            malformed(format!(
                "verify_key names {}, which the IPN lacks",
                wire::excerpt(name)
            ))
        })?;
        signed.push((name, value));
    }
    let expected = digest(&signed, store_passwd);
    let matched = hex::decode(given.to_ascii_lowercase())
        .is_ok_and(|bytes| bool::from(bytes.as_slice().ct_eq(expected.as_slice())));
    if !matched {
        return Err(WebhookError::BadSignature);
    }
    let val_id = field("val_id").filter(|v| !v.is_empty());
    let covers = |name: &str| names.contains(&name);
    if !covers("tran_id") || !covers("status") || (val_id.is_some() && !covers("val_id")) {
        // Correctly signed, but not over the identifiers we would hand on.
        return Err(WebhookError::BadSignature);
    }
    identifiers(&fields, val_id).map_err(malformed)
}

fn identifiers(fields: &HashMap<String, String>, val_id: Option<&str>) -> Result<Notice, String> {
    let tran_id = wire::identifier("tran_id", fields.get("tran_id").map_or("", String::as_str))?;
    let status = fields.get("status").map_or("", String::as_str);
    if status.is_empty()
        || status.len() > 32
        || !status
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err("status is not a status".to_owned());
    }
    let event_id = match val_id {
        Some(val_id) => wire::identifier("val_id", val_id)?,
        None => wire::identifier("event id", &format!("{tran_id}:{status}"))?,
    };
    Ok(Notice {
        event_id,
        provider_payment_id: tran_id,
        kind: status.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Provider;

    fn cfg() -> GatewayConfig {
        GatewayConfig {
            provider: Provider::Sslcommerz,
            base_url: "https://sandbox.sslcommerz.com".to_owned(),
            key_id: "store1".to_owned(),
            username: String::new(),
            secret_key: "store1@ssl".to_owned(),
            webhook_secret: String::new(),
        }
    }

    fn checkout() -> Checkout {
        Checkout {
            merchant_ref: "lm123".into(),
            amount: 50_050,
            currency: "BDT".into(),
            description: "Fibre 50".into(),
            success_url: "https://isp.example/ok".into(),
            cancel_url: "https://isp.example/no".into(),
            webhook_url: "https://isp.example/hook".into(),
        }
    }

    #[test]
    fn the_form_carries_the_store_the_amount_and_the_urls() {
        let form = create_form(&cfg(), &checkout()).unwrap();
        let get = |k: &str| form.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("total_amount"), Some("500.50"));
        assert_eq!(get("store_id"), Some("store1"));
        assert_eq!(get("tran_id"), Some("lm123"));
        assert_eq!(get("ipn_url"), Some("https://isp.example/hook"));
        assert_eq!(get("fail_url"), Some("https://isp.example/no"));
        assert_eq!(get("product_profile"), Some("non-physical-goods"));
        let mut long = checkout();
        long.merchant_ref = "x".repeat(MAX_TRAN_ID + 1);
        assert!(create_form(&cfg(), &long).is_err());
        let mut yen = checkout();
        yen.currency = "JPY".into();
        assert!(create_form(&cfg(), &yen).is_err());
    }

    #[test]
    fn a_failed_create_is_a_rejection_with_the_reason() {
        let refused = created(
            br#"{"status":"FAILED","failedreason":"Store Credential Error Or Store is De-active"}"#,
            "lm1",
        );
        assert!(
            matches!(&refused, Err(GatewayError::Rejected { status: 422, message }) if message.contains("Store Credential")),
            "{refused:?}"
        );
        let ok = created(br#"{"status":"SUCCESS","sessionkey":"S1","GatewayPageURL":"https://sandbox.sslcommerz.com/EasyCheckOut/testS1"}"#, "lm1").unwrap();
        assert_eq!(ok.provider_payment_id, "lm1");
    }

    fn element(status: &str) -> String {
        format!(
            r#"{{"val_id":"V1","status":"{status}","amount":"500.50","currency":"BDT",
            "tran_id":"lm123","bank_tran_id":"B1","store_amount":"487.99"}}"#
        )
    }

    fn validation(elements: &[String]) -> Vec<u8> {
        format!(
            r#"{{"APIConnect":"DONE","no_of_trans_found":{},"element":[{}]}}"#,
            elements.len(),
            elements.join(",")
        )
        .into_bytes()
    }

    #[test]
    fn a_valid_element_succeeds_whatever_else_is_there() {
        let body = validation(&[element("FAILED"), element("VALIDATED")]);
        let c = confirmation(&body, "lm123").unwrap();
        assert_eq!(c.status, PaymentStatus::Succeeded);
        assert_eq!((c.amount, c.currency.as_str()), (50_050, "BDT"));
        assert_eq!(c.txn_id, "B1");
        assert_eq!(c.merchant_ref, "lm123");
    }

    #[test]
    fn the_transaction_currency_wins_over_the_settlement_one() {
        let body = validation(&[r#"{"val_id":"V1","status":"VALID","amount":"1180.00",
            "currency":"BDT","currency_type":"USD","currency_amount":"10.00",
            "tran_id":"lm123","bank_tran_id":""}"#
            .to_owned()]);
        let c = confirmation(&body, "lm123").unwrap();
        assert_eq!((c.amount, c.currency.as_str()), (1000, "USD"));
        assert_eq!(c.txn_id, "V1");
    }

    #[test]
    fn nothing_found_is_pending_and_failures_fail() {
        let none = br#"{"APIConnect":"DONE","no_of_trans_found":0}"#;
        let c = confirmation(none, "lm123").unwrap();
        assert_eq!(
            (c.status, c.amount, c.currency.as_str()),
            (PaymentStatus::Pending, 0, "")
        );
        let pending = confirmation(&validation(&[element("PENDING")]), "lm123").unwrap();
        assert_eq!(pending.status, PaymentStatus::Pending);
        let failed = confirmation(
            &validation(&[element("FAILED"), element("CANCELLED")]),
            "lm123",
        );
        assert_eq!(failed.unwrap().status, PaymentStatus::Failed);
        assert!(confirmation(&validation(&[element("VALID")]), "lm999").is_err());
        assert!(matches!(
            confirmation(br#"{"APIConnect":"INVALID_REQUEST"}"#, "lm123"),
            Err(GatewayError::Rejected { status: 422, .. })
        ));
    }
}
