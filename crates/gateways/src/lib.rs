//! Payment providers (billing-design.md §4): starting a hosted checkout, verifying the
//! provider's signed webhooks, and asking the provider server-to-server what became of a
//! payment. Two providers speak through it: Stripe (Checkout Sessions, a subset of the real
//! wire shapes) and a generic protocol of our own for aggregators (documented in the
//! `generic` module), plus [`sim`], a simulator of both for tests, the demo and `lastmile
//! sim-gateway`.
//!
//! What it owns: the wire shapes, the signature scheme, and the bounds on what a provider may
//! send. What it does not: payment intents, dedupe, ledgers and grants belong to the billing
//! side, which calls [`Client::create`] before the redirect, [`webhook::verify`] on every
//! inbound webhook and [`Client::confirm`] before trusting any outcome. It knows nothing of
//! lastmile: secrets come in through [`GatewayConfig`], sealed and unsealed by the caller.
//!
//! The pieces: `client` (the HTTP client and its error), `webhook` (pure verification),
//! `signature` (the `t=…,v1=…` HMAC scheme both providers share), `stripe` and `generic`
//! (each provider's wire shapes), `wire` (bounds on identifiers and currencies) and `sim`.

pub mod client;
pub mod sim;
pub mod webhook;

mod generic;
mod signature;
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
}

impl Provider {
    /// Every provider, in a stable order.
    pub const ALL: [Provider; 2] = [Provider::Stripe, Provider::Generic];

    /// Its stable name: `"stripe"` or `"generic"` (also the simulator's path prefix).
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Generic => "generic",
        }
    }

    /// The provider with this stable name, if any (exact, lower case).
    pub fn parse(name: &str) -> Option<Self> {
        Provider::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The header that carries a webhook's signature.
    pub fn signature_header(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe-signature",
            Provider::Generic => "x-signature",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One merchant account's settings. The secrets are the caller's to keep sealed; the `Debug`
/// form hides them.
#[derive(Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// The protocol it speaks.
    pub provider: Provider,
    /// The API base: `https://api.stripe.com` for Stripe, or the simulator's
    /// `http://127.0.0.1:PORT/stripe` (or `/generic`). Plain HTTP is used for loopback
    /// addresses only.
    pub base_url: String,
    /// The key for server-to-server calls, sent as a Bearer token.
    pub secret_key: String,
    /// The HMAC key webhooks are signed with.
    pub webhook_secret: String,
}

impl fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
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
    /// Where the provider sends the customer after paying.
    pub success_url: String,
    /// Where the provider sends the customer who gives up.
    pub cancel_url: String,
    /// Where the provider posts webhooks (the generic protocol and the simulator use it;
    /// real Stripe takes it from the dashboard instead).
    pub webhook_url: String,
}

/// A checkout the provider has created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The provider's id for it (Stripe: the Checkout Session, `cs_…`).
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
    /// The amount in minor units.
    pub amount: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
    /// Our reference, as the provider holds it.
    pub merchant_ref: String,
    /// The provider's transaction id (Stripe: the PaymentIntent), unique per merchant
    /// account; always present when `status` is `Succeeded`, possibly empty otherwise.
    pub txn_id: String,
}

/// What a verified webhook says: identifiers only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The provider's id of the event, the same on every redelivery: the dedupe key.
    pub event_id: String,
    /// The checkout or payment it is about (Stripe: `data.object.id`).
    pub provider_payment_id: String,
    /// The event's type, as the provider names it (`checkout.session.completed`,
    /// `payment.succeeded`…).
    pub kind: String,
}
