//! Payment providers (billing-design.md §4): starting a hosted checkout, taking the
//! provider's notices, and asking the provider server-to-server what became of a payment.
//! Four providers speak through it:
//!
//! - Stripe (Checkout Sessions, a subset of the real wire shapes), with signed webhooks;
//! - a generic protocol of our own for aggregators (documented in the `generic` module),
//!   with signed webhooks;
//! - bKash tokenized checkout (the `bkash` module), whose only notice is the customer's
//!   browser coming back to the callback URL with an unsigned GET ([`webhook::callback`]),
//!   and whose money is captured by the server-to-server execute call that
//!   [`Client::confirm`] makes;
//! - SSLCommerz (the `sslcommerz` module), with form-encoded IPNs signed by an MD5
//!   `verify_sign`;
//!
//! plus [`sim`], a simulator of all four for tests, the demo and `lastmile sim-gateway`.
//! Beside payments, [`sms`] holds the SMS gateway drivers (Twilio, Africa's Talking, SSL
//! Wireless, BulkSMSBD, a generic HTTP template and a log-only driver), the readers of their
//! delivery reports, and a simulated SMS gateway.
//!
//! What it owns: the wire shapes, the signature schemes, and the bounds on what a provider
//! may send. What it does not: payment intents, dedupe, ledgers and grants belong to the
//! billing side, which calls [`Client::create`] before the redirect, [`webhook::verify`] on
//! every inbound webhook (or [`webhook::callback`] on every bKash callback: see
//! [`Provider::notice_method`]) and [`Client::confirm`] before trusting any outcome: the
//! confirmation is the only truth about amount, currency, status, reference and transaction.
//! It knows nothing of lastmile: secrets come in through [`GatewayConfig`], sealed and
//! unsealed by the caller.
//!
//! The pieces: `client` (the HTTP client and its error), `webhook` (pure verification of
//! notices), `signature` (the `t=…,v1=…` HMAC scheme Stripe and the generic protocol share),
//! `stripe`, `generic`, `bkash` and `sslcommerz` (each provider's wire shapes), `decimal`
//! (exact conversion between minor units and the decimal strings bKash and SSLCommerz use),
//! `wire` (bounds on identifiers, currencies and forms), `sim`, and `sim_server` (the server
//! and delivery tasks `sim` and the SMS simulator share).

pub mod client;
pub mod sim;
pub mod sms;
pub mod webhook;

mod bkash;
mod decimal;
mod generic;
mod signature;
mod sim_server;
mod sslcommerz;
mod stripe;
mod wire;

use std::fmt;

pub use client::{Client, GatewayError};

/// Which protocol a merchant account speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// Stripe Checkout Sessions and Stripe-signed webhooks.
    Stripe,
    /// Our generic protocol for aggregators (see the `generic` module's header).
    Generic,
    /// bKash tokenized checkout (Bangladesh): notices are unsigned browser callbacks.
    Bkash,
    /// SSLCommerz (Bangladesh): notices are IPNs signed with `verify_sign`.
    Sslcommerz,
}

impl Provider {
    /// Every provider, in a stable order.
    pub const ALL: [Provider; 4] = [
        Provider::Stripe,
        Provider::Generic,
        Provider::Bkash,
        Provider::Sslcommerz,
    ];

    /// Its stable name: `"stripe"`, `"generic"`, `"bkash"` or `"sslcommerz"` (also the
    /// simulator's path prefix).
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Generic => "generic",
            Provider::Bkash => "bkash",
            Provider::Sslcommerz => "sslcommerz",
        }
    }

    /// The provider with this stable name, if any (exact, lower case).
    pub fn parse(name: &str) -> Option<Self> {
        Provider::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The header that carries a webhook's signature, for the providers that sign one:
    /// Stripe and the generic protocol. bKash signs nothing and SSLCommerz signs inside the
    /// form body (`verify_sign`), so both have `None`.
    pub fn signature_header(self) -> Option<&'static str> {
        match self {
            Provider::Stripe => Some("stripe-signature"),
            Provider::Generic => Some("x-signature"),
            Provider::Bkash | Provider::Sslcommerz => None,
        }
    }

    /// How this provider's notices reach the caller's [`Checkout::webhook_url`], and so
    /// which route must serve it and which function reads them.
    pub fn notice_method(self) -> NoticeMethod {
        match self {
            Provider::Stripe | Provider::Generic | Provider::Sslcommerz => NoticeMethod::Webhook,
            Provider::Bkash => NoticeMethod::BrowserCallback,
        }
    }
}

/// How a provider's notices arrive at [`Checkout::webhook_url`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeMethod {
    /// The provider's server POSTs a signed body (Stripe, generic: JSON with a signature
    /// header; SSLCommerz: a form with `verify_sign`). Read it with [`webhook::verify`] on
    /// the raw body, and answer 2xx once it is kept (non-2xx asks for a redelivery).
    Webhook,
    /// The provider sends the customer's browser back with a GET whose query string is the
    /// notice (bKash: `?paymentID=…&status=success|failure|cancel`). Read it with
    /// [`webhook::callback`]; it is unsigned and proves nothing, so it only says which
    /// payment to confirm. Answer by redirecting the browser on to the merchant's return
    /// page ([`Checkout::success_url`]), whatever the status says; there is no redelivery.
    BrowserCallback,
}

impl NoticeMethod {
    /// The HTTP method the notice arrives with: `POST` or `GET`.
    pub fn http_method(self) -> http::Method {
        match self {
            NoticeMethod::Webhook => http::Method::POST,
            NoticeMethod::BrowserCallback => http::Method::GET,
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One merchant account's settings. The two secrets are the caller's to keep sealed; the
/// `Debug` form hides them.
///
/// What each field holds, by provider:
///
/// | field            | Stripe / generic       | bKash                  | SSLCommerz                |
/// |------------------|------------------------|------------------------|---------------------------|
/// | `key_id`         | unused (empty)         | `app_key`              | `store_id`                |
/// | `username`       | unused (empty)         | `username`             | unused (empty)            |
/// | `secret_key`     | API key (Bearer)       | `app_secret`           | `store_passwd`            |
/// | `webhook_secret` | webhook HMAC key       | `password`             | unused (may equal `store_passwd`) |
///
/// SSLCommerz signs its IPNs with `store_passwd`, so `secret_key` is what verifies them.
#[derive(Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// The protocol it speaks.
    pub provider: Provider,
    /// The API base: `https://api.stripe.com` for Stripe; for bKash the tokenized API with
    /// its version (`https://tokenized.pay.bka.sh/v1.2.0-beta`, or the sandbox's);
    /// `https://securepay.sslcommerz.com` (or `https://sandbox.sslcommerz.com`) for
    /// SSLCommerz; or the simulator's `http://127.0.0.1:PORT/{provider}` (see
    /// [`sim::SimGateway::base_url`]). Plain HTTP is used for loopback addresses only.
    pub base_url: String,
    /// The account's public identifier (bKash `app_key`, SSLCommerz `store_id`); empty for
    /// Stripe and the generic protocol. Not secret.
    pub key_id: String,
    /// bKash's API `username`; empty for the others. Not secret.
    pub username: String,
    /// The key for server-to-server calls: the Bearer token for Stripe and the generic
    /// protocol, bKash's `app_secret`, SSLCommerz's `store_passwd` (which also verifies its
    /// IPNs). Secret.
    pub secret_key: String,
    /// The HMAC key Stripe and generic webhooks are signed with; bKash's API `password`;
    /// unused by SSLCommerz. Secret.
    pub webhook_secret: String,
}

impl fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("key_id", &self.key_id)
            .field("username", &self.username)
            .field("secret_key", &"<hidden>")
            .field("webhook_secret", &"<hidden>")
            .finish()
    }
}

/// What a checkout is for: built by the caller from its own payment intent, never from the
/// browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// Our unique reference for the payment (the intent's `merchant_ref`); it is also the
    /// idempotency key of the create call, so a retried create returns the same checkout.
    pub merchant_ref: String,
    /// The amount in minor units, greater than zero.
    pub amount: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
    /// What the customer sees they are paying for.
    pub description: String,
    /// Where the provider sends the customer after paying. (bKash never sees it: its
    /// customers come back to `webhook_url`, whose handler sends them on here.)
    pub success_url: String,
    /// Where the provider sends the customer who gives up (SSLCommerz: also on failure).
    pub cancel_url: String,
    /// Where notices go (see [`Provider::notice_method`]): the webhook URL for the generic
    /// protocol and the simulator (real Stripe takes it from the dashboard instead), the
    /// `ipn_url` for SSLCommerz, the `callbackURL` the customer's browser is sent back to
    /// for bKash.
    pub webhook_url: String,
}

/// A checkout the provider has created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The provider's id for it (Stripe: the Checkout Session, `cs_…`; bKash: the
    /// `paymentID`; SSLCommerz: the `tran_id`, which is our `merchant_ref`, since that is
    /// what its IPNs and its validation API name).
    pub provider_payment_id: String,
    /// The hosted page to send the customer to.
    pub redirect_url: String,
}

/// Where a payment stands, as the provider tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// The money is taken: final.
    Succeeded,
    /// Not paid yet (or not yet known to be).
    Pending,
    /// Declined, expired or abandoned: final.
    Failed,
}

impl PaymentStatus {
    /// `"succeeded"`, `"pending"` or `"failed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Pending => "pending",
            PaymentStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the provider says, server-to-server, of one payment: the truth the caller checks
/// against its intent (amount, currency, merchant_ref) before applying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// The provider's id of the checkout or payment asked about.
    pub provider_payment_id: String,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The amount in minor units. Possibly 0 when `status` is not `Succeeded` and the
    /// provider holds no transaction yet (SSLCommerz before the customer pays).
    pub amount: i64,
    /// ISO 4217 code, upper case; possibly empty when `status` is not `Succeeded`, as
    /// `amount` may be 0.
    pub currency: String,
    /// Our reference, as the provider holds it.
    pub merchant_ref: String,
    /// The provider's transaction id (Stripe: the PaymentIntent; bKash: the `trxID`;
    /// SSLCommerz: the `bank_tran_id`, else the `val_id`), unique per merchant account;
    /// always present when `status` is `Succeeded`, possibly empty otherwise.
    pub txn_id: String,
}

/// Why a webhook is refused (`webhook::verify`, and each provider's reading of its notice).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Unsigned, or no signature matches the body under the account's webhook secret.
    #[error("webhook signature does not match")]
    BadSignature,
    /// Correctly signed, but the timestamp is more than the tolerance away from now.
    #[error("webhook signature timestamp is outside the tolerance")]
    Stale,
    /// The signature header or the body cannot be read.
    #[error("malformed webhook: {0}")]
    Malformed(String),
}

/// What a verified webhook (or a read bKash callback) says: identifiers only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The provider's id of the event, the same on every redelivery: the dedupe key
    /// (bKash: `{paymentID}:{status}`; SSLCommerz: the `val_id`, or `{tran_id}:{status}`
    /// when there is none).
    pub event_id: String,
    /// The checkout or payment it is about (Stripe: `data.object.id`; bKash: the
    /// `paymentID`; SSLCommerz: the `tran_id`).
    pub provider_payment_id: String,
    /// The event's type, as the provider names it (`checkout.session.completed`,
    /// `payment.succeeded`, bKash's `success`, SSLCommerz's `VALID`…).
    pub kind: String,
}
