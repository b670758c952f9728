//! bKash tokenized checkout's wire shapes, the subset we use, and the cache of its tokens.
//! The HTTP itself is `client`'s.
//!
//! - **Grant a token**: `POST {base}/tokenized/checkout/token/grant` with headers
//!   `username` and `password` and `{"app_key", "app_secret"}` → `{"id_token",
//!   "token_type", "expires_in", "refresh_token"}`. Every other call carries
//!   `Authorization: <id_token>` (no scheme) and `X-App-Key: <app_key>`.
//! - **Create**: `POST {base}/tokenized/checkout/create` with `{"mode": "0011",
//!   "payerReference", "callbackURL", "amount": "500.00", "currency": "BDT", "intent":
//!   "sale", "merchantInvoiceNumber"}` → `{"paymentID", "bkashURL", "statusCode": "0000",
//!   …}`. Not idempotent: each create is a new `paymentID`. Nothing is taken until execute,
//!   so a payment nobody confirms is never captured.
//! - **The callback**: bKash sends the customer's browser to `callbackURL?paymentID=…&
//!   status=success|failure|cancel` (an unsigned GET: see [`crate::webhook::callback`]).
//! - **Execute**: `POST {base}/tokenized/checkout/execute` with `{"paymentID"}` captures the
//!   money the customer authorised → `{"paymentID", "trxID", "transactionStatus":
//!   "Completed", "amount", "currency", "merchantInvoiceNumber", "statusCode": "0000"}`.
//!   Before the customer authorised, or a second time, it answers an error `statusCode`.
//! - **Query**: `POST {base}/tokenized/checkout/payment/status` with `{"paymentID"}` → the
//!   same fields, `transactionStatus` one of `Initiated`, `Completed`, `Failed`,
//!   `Cancelled`, `Expired`….
//!
//! bKash refuses with HTTP 200 and `{"statusCode": "<not 0000>", "statusMessage"}` (older
//! versions: `{"errorCode", "errorMessage"}`); those refusals become
//! [`GatewayError::Rejected`] with status 422 and bKash's code in the message. Amounts are
//! decimal strings in taka (see `decimal`), and only BDT is spoken.
//!
//! Confirming is execute, then the query when execute did not answer `Completed`:
//! `Completed` is `Succeeded` (the `trxID` is the transaction id), `Initiated` (and the
//! not-yet-final `Authorized`/`Pending Authorized`) `Pending`, `Failed`, `Cancelled`,
//! `Expired` and `Declined` `Failed`; any other status is refused as malformed, not guessed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{Checkout, Confirmation, Created, GatewayConfig, GatewayError, PaymentStatus};
use crate::{decimal, wire};

/// bKash's code for success.
const OK: &str = "0000";

/// The status an in-body refusal is reported with (HTTP itself said 200).
pub(crate) const REFUSED: u16 = 422;

/// The body of a token grant.
#[derive(Debug, Serialize)]
pub(crate) struct GrantRequest<'a> {
    app_key: &'a str,
    app_secret: &'a str,
}

impl<'a> GrantRequest<'a> {
    /// The grant for `cfg`'s `app_key` (`key_id`) and `app_secret` (`secret_key`).
    pub(crate) fn new(cfg: &'a GatewayConfig) -> Self {
        GrantRequest {
            app_key: &cfg.key_id,
            app_secret: &cfg.secret_key,
        }
    }
}

/// The body of a create.
#[derive(Debug, Serialize)]
pub(crate) struct CreateRequest<'a> {
    mode: &'static str,
    #[serde(rename = "payerReference")]
    payer_reference: &'a str,
    #[serde(rename = "callbackURL")]
    callback_url: &'a str,
    amount: String,
    currency: &'static str,
    intent: &'static str,
    #[serde(rename = "merchantInvoiceNumber")]
    merchant_invoice_number: &'a str,
}

impl<'a> CreateRequest<'a> {
    /// The request for `checkout`: BDT only, a positive amount, our reference as the
    /// invoice number, the webhook URL as the callback.
    pub(crate) fn new(checkout: &'a Checkout) -> Result<Self, String> {
        if checkout.currency != "BDT" {
            return Err("bKash takes BDT only".to_owned());
        }
        let amount = wire::positive("amount", checkout.amount)?;
        wire::identifier("merchant_ref", &checkout.merchant_ref)?;
        wire::text("webhook_url", &checkout.webhook_url, wire::MAX_TEXT)?;
        if checkout.webhook_url.is_empty() {
            return Err("bKash needs a webhook_url to call back".to_owned());
        }
        Ok(CreateRequest {
            mode: "0011",
            payer_reference: &checkout.merchant_ref,
            callback_url: &checkout.webhook_url,
            amount: decimal::format("amount", amount)?,
            currency: "BDT",
            intent: "sale",
            merchant_invoice_number: &checkout.merchant_ref,
        })
    }
}

/// The body of an execute or a query.
#[derive(Debug, Serialize)]
pub(crate) struct PaymentRequest<'a> {
    #[serde(rename = "paymentID")]
    payment_id: &'a str,
}

impl<'a> PaymentRequest<'a> {
    /// The request about `payment_id`.
    pub(crate) fn new(payment_id: &'a str) -> Self {
        PaymentRequest { payment_id }
    }
}

/// What every bKash answer may say about itself.
#[derive(Debug, Deserialize)]
struct Status {
    #[serde(rename = "statusCode")]
    status_code: Option<String>,
    #[serde(rename = "statusMessage")]
    status_message: Option<String>,
    #[serde(rename = "errorCode")]
    error_code: Option<String>,
    #[serde(rename = "errorMessage")]
    error_message: Option<String>,
}

/// bKash's refusal in a 200 answer, if it is one: its code and message.
pub(crate) fn refusal(body: &[u8]) -> Option<GatewayError> {
    let status: Status = serde_json::from_slice(body).ok()?;
    let (code, message) = match (status.error_code, status.status_code) {
        (Some(code), _) => (code, status.error_message),
        (None, Some(code)) if code != OK => (code, status.status_message),
        _ => return None,
    };
    Some(GatewayError::Rejected {
        status: REFUSED,
        message: wire::excerpt(&format!(
            "bKash {}: {}",
            wire::excerpt(&code),
            message.unwrap_or_default()
        )),
    })
}

/// Reads an answer: bKash's refusal, or the shape wanted.
fn answer<'de, T: Deserialize<'de>>(body: &'de [u8], what: &str) -> Result<T, GatewayError> {
    if let Some(refused) = refusal(body) {
        return Err(refused);
    }
    serde_json::from_slice(body).map_err(|e| GatewayError::Malformed(format!("{what}: {e}")))
}

/// A number bKash may send as a JSON number or a string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
}

#[derive(Debug, Deserialize)]
struct GrantAnswer {
    id_token: Option<String>,
    expires_in: Option<Seconds>,
}

/// A granted token and how long bKash says it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) id_token: String,
    pub(crate) lifetime: Duration,
}

/// The answer to a grant.
pub(crate) fn granted(body: &[u8]) -> Result<Token, GatewayError> {
    let answer: GrantAnswer = answer(body, "token grant")?;
    let malformed = |m: &str| GatewayError::Malformed(m.to_owned());
    let id_token = answer
        .id_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| malformed("the token grant has no id_token"))?;
    if id_token.len() > 8192 || !id_token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed("the id_token cannot be sent as a header"));
    }
    let seconds = match answer.expires_in {
        Some(Seconds::Number(n)) => n,
        Some(Seconds::Text(text)) => text.parse().unwrap_or(0),
        None => 0,
    };
    Ok(Token {
        id_token,
        lifetime: Duration::from_secs(seconds),
    })
}

#[derive(Debug, Deserialize)]
struct CreateAnswer {
    #[serde(rename = "paymentID")]
    payment_id: String,
    #[serde(rename = "bkashURL")]
    bkash_url: String,
}

/// The answer to a create.
pub(crate) fn created(body: &[u8]) -> Result<Created, GatewayError> {
    let answer: CreateAnswer = answer(body, "create payment")?;
    let checked = || -> Result<Created, String> {
        Ok(Created {
            provider_payment_id: wire::identifier("paymentID", &answer.payment_id)?,
            redirect_url: wire::text("bkashURL", &answer.bkash_url, wire::MAX_TEXT)?,
        })
    };
    checked().map_err(GatewayError::Malformed)
}

/// An execute's or a query's answer, the fields we read.
#[derive(Debug, Deserialize)]
struct Payment {
    #[serde(rename = "paymentID")]
    payment_id: String,
    #[serde(rename = "trxID")]
    trx_id: Option<String>,
    #[serde(rename = "transactionStatus")]
    transaction_status: String,
    amount: Option<String>,
    currency: Option<String>,
    #[serde(rename = "merchantInvoiceNumber")]
    merchant_invoice_number: Option<String>,
}

/// The answer to an execute or a query about `asked`: the confirmation, or bKash's refusal.
pub(crate) fn confirmation(body: &[u8], asked: &str) -> Result<Confirmation, GatewayError> {
    let payment: Payment = answer(body, "payment")?;
    read(payment, asked).map_err(GatewayError::Malformed)
}

fn read(payment: Payment, asked: &str) -> Result<Confirmation, String> {
    if payment.payment_id != asked {
        return Err("the answer is about another payment".to_owned());
    }
    let status = match payment.transaction_status.as_str() {
        "Completed" => PaymentStatus::Succeeded,
        "Initiated" | "Authorized" | "Pending Authorized" => PaymentStatus::Pending,
        "Failed" | "Cancelled" | "Expired" | "Declined" => PaymentStatus::Failed,
        _ => return Err("transactionStatus is not one bKash documents".to_owned()),
    };
    let succeeded = status == PaymentStatus::Succeeded;
    let txn_id = match payment.trx_id.as_deref() {
        Some(trx) if !trx.is_empty() => wire::identifier("trxID", trx)?,
        _ if succeeded => return Err("a completed payment has no trxID".to_owned()),
        _ => String::new(),
    };
    let amount = match payment.amount.as_deref() {
        Some(amount) => decimal::parse("amount", amount)?,
        None if succeeded => return Err("a completed payment has no amount".to_owned()),
        None => 0,
    };
    let currency = match payment.currency.as_deref() {
        Some(currency) => wire::currency("currency", currency)?,
        None if succeeded => return Err("a completed payment has no currency".to_owned()),
        None => String::new(),
    };
    let merchant_ref = match payment.merchant_invoice_number.as_deref() {
        Some(reference) => wire::reference("merchantInvoiceNumber", reference)?,
        None if succeeded => {
            return Err("a completed payment has no merchantInvoiceNumber".to_owned());
        }
        None => String::new(),
    };
    Ok(Confirmation {
        provider_payment_id: payment.payment_id,
        status,
        amount,
        currency,
        merchant_ref,
        txn_id,
    })
}

/// How long before bKash's stated expiry a cached token stops being used.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// The longest a token is cached, whatever bKash says.
const TOKEN_MAX: Duration = Duration::from_secs(3600);

/// The most tokens cached (one per merchant account in use).
const MAX_TOKENS: usize = 1024;

/// Whose token it is: the API, the account, and a digest of its secrets (so a changed
/// secret is a new key, and the cache holds no secret).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey {
    base_url: String,
    app_key: String,
    username: String,
    secrets: Vec<u8>,
}

impl TokenKey {
    /// The key for `cfg`.
    pub(crate) fn new(cfg: &GatewayConfig) -> Self {
        let mut digest = Sha256::new();
        for part in [&cfg.secret_key, &cfg.webhook_secret] {
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part.as_bytes());
        }
        TokenKey {
            base_url: cfg.base_url.clone(),
            app_key: cfg.key_id.clone(),
            username: cfg.username.clone(),
            secrets: digest.finalize().to_vec(),
        }
    }
}

/// Granted tokens, per account, until shortly before they expire.
#[derive(Default)]
pub(crate) struct TokenCache {
    tokens: HashMap<TokenKey, (String, Instant)>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("tokens", &self.tokens.len())
            .finish()
    }
}

impl TokenCache {
    /// The token for `key`, if one is cached and still good at `now`.
    pub(crate) fn get(&self, key: &TokenKey, now: Instant) -> Option<String> {
        self.tokens
            .get(key)
            .filter(|(_, until)| now < *until)
            .map(|(token, _)| token.clone())
    }

    /// Keeps `token` for `key` until the margin before it expires (not at all when it lasts
    /// no longer than the margin).
    pub(crate) fn put(&mut self, key: TokenKey, token: &Token, now: Instant) {
        let Some(kept) = token.lifetime.min(TOKEN_MAX).checked_sub(TOKEN_MARGIN) else {
            return;
        };
        if kept.is_zero() {
            return;
        }
        if self.tokens.len() >= MAX_TOKENS && !self.tokens.contains_key(&key) {
            self.tokens.retain(|_, (_, until)| now < *until);
            if self.tokens.len() >= MAX_TOKENS {
                self.tokens.clear();
            }
        }
        self.tokens
            .insert(key, (token.id_token.clone(), now + kept));
    }

    /// Forgets the token for `key` (bKash refused it).
    pub(crate) fn forget(&mut self, key: &TokenKey) {
        self.tokens.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Provider;

    fn cfg() -> GatewayConfig {
        GatewayConfig {
            provider: Provider::Bkash,
            base_url: "https://tokenized.sandbox.bka.sh/v1.2.0-beta".to_owned(),
            key_id: "app_key_1".to_owned(),
            username: "sandboxUser".to_owned(),
            secret_key: "app_secret_1".to_owned(),
            webhook_secret: "password_1".to_owned(),
        }
    }

    fn payment(status: &str, trx: &str) -> Vec<u8> {
        format!(
            r#"{{"paymentID":"TR0011abc","trxID":{trx},"transactionStatus":"{status}",
            "amount":"500.5","currency":"BDT","intent":"sale","merchantInvoiceNumber":"lm1",
            "statusCode":"0000","statusMessage":"Successful"}}"#
        )
        .into_bytes()
    }

    #[test]
    fn completed_succeeds_with_its_trx_id_and_exact_amount() {
        let c = confirmation(&payment("Completed", r#""9ABC""#), "TR0011abc").unwrap();
        assert_eq!(c.status, PaymentStatus::Succeeded);
        assert_eq!(c.txn_id, "9ABC");
        assert_eq!(c.amount, 50_050);
        assert_eq!(c.currency, "BDT");
        assert_eq!(c.merchant_ref, "lm1");
        assert!(confirmation(&payment("Completed", "null"), "TR0011abc").is_err());
    }

    #[test]
    fn statuses_map_and_unknown_ones_are_not_guessed() {
        let status = |s| confirmation(&payment(s, "null"), "TR0011abc").map(|c| c.status);
        assert_eq!(status("Initiated"), Ok(PaymentStatus::Pending));
        assert_eq!(status("Failed"), Ok(PaymentStatus::Failed));
        assert_eq!(status("Cancelled"), Ok(PaymentStatus::Failed));
        assert_eq!(status("Expired"), Ok(PaymentStatus::Failed));
        assert!(matches!(
            status("Refunded?"),
            Err(GatewayError::Malformed(_))
        ));
        assert!(confirmation(&payment("Completed", r#""9ABC""#), "TR0011other").is_err());
    }

    #[test]
    fn in_body_refusals_are_rejections_in_either_shape() {
        let refused = refusal(br#"{"statusCode":"2056","statusMessage":"Invalid Payment State"}"#);
        assert!(
            matches!(&refused, Some(GatewayError::Rejected { status: REFUSED, message }) if message.contains("2056")),
            "{refused:?}"
        );
        assert!(refusal(br#"{"errorCode":"2001","errorMessage":"Invalid App Key"}"#).is_some());
        assert!(refusal(br#"{"statusCode":"0000","paymentID":"x"}"#).is_none());
        assert!(refusal(b"not json").is_none());
        assert!(matches!(
            confirmation(br#"{"statusCode":"2117","statusMessage":"already"}"#, "x"),
            Err(GatewayError::Rejected {
                status: REFUSED,
                ..
            })
        ));
    }

    #[test]
    fn the_create_request_speaks_taka_strings() {
        let checkout = Checkout {
            merchant_ref: "lm1".into(),
            amount: 50_000,
            currency: "BDT".into(),
            description: "Fibre".into(),
            success_url: "https://isp.example/ok".into(),
            cancel_url: "https://isp.example/no".into(),
            webhook_url: "https://isp.example/hooks/payments/3".into(),
        };
        let body = serde_json::to_value(CreateRequest::new(&checkout).unwrap()).unwrap();
        assert_eq!(body["amount"], "500.00");
        assert_eq!(body["mode"], "0011");
        assert_eq!(body["callbackURL"], "https://isp.example/hooks/payments/3");
        assert_eq!(body["merchantInvoiceNumber"], "lm1");
        let mut usd = checkout.clone();
        usd.currency = "USD".into();
        assert!(CreateRequest::new(&usd).is_err());
        let mut zero = checkout;
        zero.amount = 0;
        assert!(CreateRequest::new(&zero).is_err());
    }

    #[test]
    fn tokens_are_cached_until_shortly_before_expiry_per_account_and_secret() {
        let mut cache = TokenCache::default();
        let now = Instant::now();
        let key = TokenKey::new(&cfg());
        let token = granted(
            br#"{"id_token":"tok1","token_type":"Bearer","expires_in":3600,"refresh_token":"r"}"#,
        )
        .unwrap();
        cache.put(key.clone(), &token, now);
        assert_eq!(cache.get(&key, now).as_deref(), Some("tok1"));
        assert_eq!(
            cache.get(&key, now + Duration::from_secs(3539)).as_deref(),
            Some("tok1")
        );
        assert_eq!(cache.get(&key, now + Duration::from_secs(3540)), None);
        let mut rotated = cfg();
        rotated.secret_key = "app_secret_2".to_owned();
        assert_eq!(cache.get(&TokenKey::new(&rotated), now), None);
        cache.forget(&key);
        assert_eq!(cache.get(&key, now), None);
        let short = granted(br#"{"id_token":"tok2","expires_in":"30"}"#).unwrap();
        cache.put(key.clone(), &short, now);
        assert_eq!(cache.get(&key, now), None);
        assert!(!format!("{cache:?} {key:?}").contains("app_secret"));
    }

    #[test]
    fn grants_without_a_usable_token_are_malformed() {
        assert!(granted(br#"{"expires_in":3600}"#).is_err());
        assert!(granted(br#"{"id_token":"a b","expires_in":3600}"#).is_err());
        assert!(matches!(
            granted(br#"{"statusCode":"2079","statusMessage":"Invalid username"}"#),
            Err(GatewayError::Rejected { .. })
        ));
    }
}
