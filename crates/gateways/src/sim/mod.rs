//! A simulated payment provider speaking all four protocols on loopback: Stripe's under
//! `/stripe`, the generic one under `/generic`, bKash's tokenized checkout under `/bkash`
//! and SSLCommerz's under `/sslcommerz` (what [`SimGateway::base_url`] gives). Tests, the
//! demo and `lastmile sim-gateway` start one; a [`Scenario`] makes it misbehave the ways
//! real providers do (duplicate, dropped, reordered, tampered, badly signed and replayed
//! notices, a failing confirm API, declined payments). It holds its payments in memory and
//! knows nothing of lastmile.
//!
//! Credentials: the [`SimConfig`]'s `secret_key` is Stripe's and the generic protocol's
//! Bearer key, bKash's `app_secret` and SSLCommerz's `store_passwd` (which signs its IPNs);
//! its `webhook_secret` signs Stripe and generic webhooks and is bKash's `password`. bKash's
//! `app_key` and `username` and SSLCommerz's `store_id` may be anything not empty (a bKash
//! token is good only with the `app_key` it was granted for).
//!
//! Routes, with each provider's shapes (see the `stripe`, `generic`, `bkash` and
//! `sslcommerz` modules of the crate):
//!
//! - create: `POST /stripe/v1/checkout/sessions` (form), `POST /generic/v1/checkout`
//!   (JSON), `POST /bkash/tokenized/checkout/create` (JSON, after
//!   `POST /bkash/tokenized/checkout/token/grant`), `POST /sslcommerz/gwprocess/v4/api.php`
//!   (form): bad credentials are refused (401, or bKash's and SSLCommerz's in-body
//!   refusals); amount > 0 and a currency or 400 (in-body for bKash and SSLCommerz); the
//!   same `Idempotency-Key` (Stripe), `merchant_ref` (generic) or `tran_id` (SSLCommerz)
//!   returns the same payment; every bKash create is a new payment;
//! - confirm: `GET /stripe/v1/checkout/sessions/{id}`, `GET /generic/v1/payments/{id}`,
//!   `POST /bkash/tokenized/checkout/execute` and `…/payment/status`,
//!   `GET /sslcommerz/validator/api/merchantTransIDvalidationAPI.php`: 401 without the key
//!   (in-body for SSLCommerz), 404 for an unknown id (in-body for bKash; none found for
//!   SSLCommerz), 500 under `fail_confirm`. bKash's execute captures an authorised payment
//!   once: before the customer authorised it answers `2056`, a second time `2117` (the
//!   simulator's codes), while the status query goes on saying `Completed`;
//! - the hosted page: `GET /{provider}/pay/{id}` shows the amount and a form with one
//!   button (`id="pay"`); `POST /{provider}/pay/{id}` does what [`SimGateway::pay`] does,
//!   then redirects (303): to the success URL, or the cancel URL when declined; for bKash,
//!   to `callbackURL?paymentID=…&status=success` (or `failure`), which the browser then
//!   follows, as bKash's real page does.
//!
//! Paying sends the payment's notices from a spawned task, each retried after 100 ms,
//! 300 ms and 1 s when it gets no 2xx: Stripe's and generic webhooks (signed as the
//! provider signs them) to the webhook URL (Stripe: `metadata[webhook_url]`), SSLCommerz's
//! IPN (a form with `verify_sign`) to `ipn_url`. bKash sends none: its notice is the
//! customer's browser coming back to the callback URL; when a payment is paid through
//! [`SimGateway::pay`] rather than the hosted page there is no browser, so the simulator
//! makes that GET itself (a 3xx answer counts as delivered). The pieces: `ledger` (the
//! payments), `stripe`, `generic`, `bkash` and `sslcommerz` (the API routes), `page` (the
//! hosted page) and `deliver` (notices and their delivery).

mod bkash;
mod deliver;
mod generic;
mod ledger;
mod page;
mod sslcommerz;
mod stripe;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use rand::RngExt as _;
use rand::distr::Alphanumeric;
use subtle::ConstantTimeEq as _;

use crate::sim_server::{Deliveries, Running, lock};
use crate::{PaymentStatus, Provider};
use ledger::{Ledger, NewPayment, Refusal};

/// The largest request body the simulator reads.
const MAX_REQUEST: usize = 64 * 1024;

/// How the simulator misbehaves. Everything off by default: a well-behaved provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scenario {
    /// Extra deliveries of each notice (the same event id each time; for bKash, the same
    /// callback, as a customer reloading the page makes).
    pub duplicates: u32,
    /// The payment succeeds but no notice is sent (reconciliation must find it).
    pub drop_webhooks: bool,
    /// A stale notice is delivered after the final one (Stripe: `checkout.session.completed`
    /// still unpaid; generic: `payment.pending`; SSLCommerz: an `UNATTEMPTED` IPN; bKash: a
    /// `status=cancel` callback).
    pub reorder: bool,
    /// Stripe and generic: the webhook body claims ten times the amount; the confirm API
    /// reports the true one. bKash and SSLCommerz: the customer pays a tenth of the amount
    /// asked (at least one minor unit), as through a tampered hosted page; the confirmation
    /// (and SSLCommerz's IPN) shows what was paid, for the caller to refuse.
    pub tamper_amount: bool,
    /// Webhooks are signed with another secret (SSLCommerz: `verify_sign` with another
    /// store password; bKash signs nothing).
    pub wrong_secret: bool,
    /// Webhooks are signed with a timestamp ten minutes old (Stripe and generic only: the
    /// others have no timestamp).
    pub stale_signature: bool,
    /// The confirm API answers 500, as an overloaded provider does (bKash: execute and the
    /// status query both).
    pub fail_confirm: bool,
    /// Paying fails the payment (status failed, a failure notice).
    pub declined: bool,
    /// The delay before each notice delivery, in milliseconds.
    pub delay_ms: u64,
}

/// What to run.
#[derive(Clone)]
pub struct SimConfig {
    /// Where to listen (port 0 for any).
    pub listen: SocketAddr,
    /// The key clients must send as a Bearer token (Stripe, generic); bKash's `app_secret`;
    /// SSLCommerz's `store_passwd`, which also signs its IPNs.
    pub secret_key: String,
    /// The key Stripe and generic webhooks are signed with; bKash's `password`.
    pub webhook_secret: String,
    /// How it behaves at first ([`SimGateway::set_scenario`] changes it).
    pub scenario: Scenario,
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("listen", &self.listen)
            .field("scenario", &self.scenario)
            .finish_non_exhaustive()
    }
}

/// One payment the simulator holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPayment {
    /// Which protocol created it.
    pub provider: Provider,
    /// Its id (Stripe: `cs_test_…`; generic: `pay_…`; bKash: the `paymentID`, `TR0011…`;
    /// SSLCommerz: the merchant's `tran_id`).
    pub id: String,
    /// The merchant's reference.
    pub merchant_ref: String,
    /// The amount in minor units.
    pub amount: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
    /// What it is for.
    pub description: String,
    /// Where it stands (a bKash payment the customer authorised stays `Pending` until it is
    /// executed).
    pub status: PaymentStatus,
    /// The transaction id (Stripe: `pi_…`; generic: `txn_…`; bKash: the `trxID`;
    /// SSLCommerz: the `bank_tran_id`), once it has succeeded.
    pub txn_id: Option<String>,
    /// bKash: the customer has authorised it, and an execute will capture it.
    pub authorised: bool,
    /// What the customer paid, once paid: `amount`, except under
    /// [`Scenario::tamper_amount`] for bKash and SSLCommerz.
    pub paid_amount: Option<i64>,
    /// SSLCommerz: the validation id (`val_id`), once paid.
    pub val_id: Option<String>,
    /// Where its notices go, if anywhere (bKash: the callback URL; SSLCommerz: `ipn_url`).
    pub webhook_url: Option<String>,
    /// Its hosted page.
    pub redirect_url: String,
    /// Where the hosted page sends the customer after paying.
    pub success_url: String,
    /// Where the hosted page sends the customer when the payment is declined.
    pub cancel_url: String,
    /// When it was created, in Unix seconds.
    pub created: i64,
}

/// How long a bKash token the simulator grants lasts, in seconds.
const TOKEN_SECONDS: u64 = 3600;

/// The most live bKash tokens held; past it, the oldest are dropped.
const MAX_TOKENS: usize = 10_000;

/// State every route shares.
struct Shared {
    secret_key: String,
    webhook_secret: String,
    addr: SocketAddr,
    scenario: Mutex<Scenario>,
    ledger: Mutex<Ledger>,
    deliveries: Deliveries,
    /// bKash tokens granted: the token, the `app_key` it is for and when it expires.
    tokens: Mutex<HashMap<String, (String, Instant)>>,
    /// How many bKash tokens were granted.
    grants: AtomicU64,
}

/// Who makes the customer's click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payer {
    /// A browser on the hosted page, which follows bKash's redirect to the callback itself.
    Browser,
    /// [`SimGateway::pay`]: no browser, so the simulator makes bKash's callback itself.
    Api,
}

/// The clock, in Unix seconds.
fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A new random id with `prefix`.
fn new_id(prefix: &str) -> String {
    let tail: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("{prefix}{tail}")
}

/// A new bKash `trxID`: ten upper-case letters and digits.
fn new_trx_id() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(10)
        .map(|b| char::from(b).to_ascii_uppercase())
        .collect()
}

/// Whether `given` is `expected`, in constant time; an empty `expected` matches nothing.
fn same_secret(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

impl Shared {
    fn scenario(&self) -> Scenario {
        lock(&self.scenario).clone()
    }

    /// Whether the request carries `Authorization: Bearer <secret key>`.
    fn authorized(&self, headers: &http::HeaderMap) -> bool {
        let expected = format!("Bearer {}", self.secret_key);
        headers
            .get(http::header::AUTHORIZATION)
            .is_some_and(|value| bool::from(value.as_bytes().ct_eq(expected.as_bytes())))
    }

    /// Grants a bKash token for `app_key`.
    fn grant(&self, app_key: &str) -> String {
        let token = new_id("sim_id_token_");
        let now = Instant::now();
        let mut tokens = lock(&self.tokens);
        tokens.retain(|_, (_, until)| now < *until);
        if tokens.len() >= MAX_TOKENS {
            tokens.clear();
        }
        let until = now + Duration::from_secs(TOKEN_SECONDS);
        tokens.insert(token.clone(), (app_key.to_owned(), until));
        self.grants.fetch_add(1, Ordering::Relaxed);
        token
    }

    /// Whether the request carries a live bKash token (`Authorization`) and the `app_key`
    /// it was granted for (`X-App-Key`).
    fn bkash_authorized(&self, headers: &http::HeaderMap) -> bool {
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(token), Some(app_key)) = (
            header(http::header::AUTHORIZATION.as_str()),
            header("x-app-key"),
        ) else {
            return false;
        };
        lock(&self.tokens)
            .get(token)
            .is_some_and(|(key, until)| key == app_key && Instant::now() < *until)
    }

    /// Forgets every bKash token, as an expiry would.
    fn expire_tokens(&self) {
        lock(&self.tokens).clear();
    }

    /// Where the hosted pages are, as the client reached us (so a simulator listening on
    /// 0.0.0.0 hands out an address the browser can use).
    fn public_base(&self, headers: &http::HeaderMap) -> String {
        let host = headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.len() <= 255
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            });
        match host {
            Some(host) => format!("http://{host}"),
            None => format!("http://{}", self.addr),
        }
    }

    /// Opens a payment (or finds the one with the same idempotency key).
    fn open(
        &self,
        new: NewPayment,
        key: Option<String>,
        headers: &http::HeaderMap,
    ) -> Result<SimPayment, Refusal> {
        let base = self.public_base(headers);
        lock(&self.ledger).open(new, key, &base, now_unix())
    }

    fn find(&self, provider: Provider, id: &str) -> Option<SimPayment> {
        lock(&self.ledger).find(provider, id).cloned()
    }

    /// The customer pays: the payment completes (or is declined, or for bKash is
    /// authorised) and its notices leave.
    fn pay(&self, id: &str, payer: Payer) -> Result<SimPayment, String> {
        let scenario = self.scenario();
        let payment = lock(&self.ledger).complete(id, scenario.declined, scenario.tamper_amount)?;
        let secrets = deliver::Secrets {
            webhook: &self.webhook_secret,
            store_passwd: &self.secret_key,
        };
        let plan = deliver::plan(&payment, &scenario, secrets, payer == Payer::Browser);
        self.deliveries.send(plan);
        Ok(payment)
    }
}

/// A running simulator. Dropping it stops it.
pub struct SimGateway {
    shared: Arc<Shared>,
    running: Running,
}

impl fmt::Debug for SimGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimGateway")
            .field("addr", &self.running.addr())
            .field("scenario", &self.shared.scenario())
            .finish_non_exhaustive()
    }
}

impl Drop for SimGateway {
    fn drop(&mut self) {
        self.shared.deliveries.abort_all();
    }
}

impl SimGateway {
    /// Binds `config.listen` and serves on a spawned task.
    pub async fn start(config: SimConfig) -> std::io::Result<SimGateway> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let deliveries = Deliveries::new()?;
        let shared = Arc::new(Shared {
            secret_key: config.secret_key,
            webhook_secret: config.webhook_secret,
            addr,
            scenario: Mutex::new(config.scenario),
            ledger: Mutex::new(Ledger::default()),
            deliveries,
            tokens: Mutex::new(HashMap::new()),
            grants: AtomicU64::new(0),
        });
        let app = routes(Arc::clone(&shared));
        let running = Running::serve(listener, app, "simulated gateway")?;
        Ok(SimGateway { shared, running })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.running.addr()
    }

    /// The API base for `provider`: `http://ADDR/stripe`, `http://ADDR/generic`,
    /// `http://ADDR/bkash` or `http://ADDR/sslcommerz`.
    pub fn base_url(&self, provider: Provider) -> String {
        format!("http://{}/{}", self.running.addr(), provider.as_str())
    }

    /// Changes how it behaves from now on: for payments created, paid and confirmed
    /// afterwards, and so for every webhook not yet planned. Deliveries already planned by a
    /// pay keep the scenario they were planned under.
    pub fn set_scenario(&self, scenario: Scenario) {
        *lock(&self.shared.scenario) = scenario;
    }

    /// What the customer's click on "Pay" does: completes the payment (or declines it, per
    /// the scenario) and sends its notices. A bKash payment is only authorised (an execute
    /// captures it), and since no browser is there to follow bKash's redirect, the
    /// simulator makes the callback GET itself. Errors when the id is unknown or the payment
    /// is no longer pending (or already authorised).
    pub async fn pay(&self, provider_payment_id: &str) -> Result<(), String> {
        self.shared.pay(provider_payment_id, Payer::Api).map(drop)
    }

    /// How many bKash tokens it has granted (a client that caches them asks once per
    /// account and hour).
    pub fn token_grants(&self) -> u64 {
        self.shared.grants.load(Ordering::Relaxed)
    }

    /// Forgets every bKash token it granted, as if they had expired: calls with them are
    /// refused with 401 from now on.
    pub fn expire_tokens(&self) {
        self.shared.expire_tokens();
    }

    /// Every payment it holds, oldest first.
    pub fn payments(&self) -> Vec<SimPayment> {
        lock(&self.shared.ledger).all()
    }

    /// Stops serving (requests in progress finish) and abandons deliveries not yet made.
    pub async fn shutdown(mut self) {
        self.running.shutdown().await;
    }
}

fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/stripe/v1/checkout/sessions", post(stripe::create))
        .route("/stripe/v1/checkout/sessions/{id}", get(stripe::retrieve))
        .route("/generic/v1/checkout", post(generic::create))
        .route("/generic/v1/payments/{id}", get(generic::retrieve))
        .route(
            "/stripe/pay/{id}",
            get(page::show_stripe).post(page::pay_stripe),
        )
        .route(
            "/generic/pay/{id}",
            get(page::show_generic).post(page::pay_generic),
        )
        .route("/bkash/tokenized/checkout/token/grant", post(bkash::grant))
        .route("/bkash/tokenized/checkout/create", post(bkash::create))
        .route("/bkash/tokenized/checkout/execute", post(bkash::execute))
        .route(
            "/bkash/tokenized/checkout/payment/status",
            post(bkash::status),
        )
        .route(
            "/bkash/pay/{id}",
            get(page::show_bkash).post(page::pay_bkash),
        )
        .route("/sslcommerz/gwprocess/v4/api.php", post(sslcommerz::create))
        .route(
            "/sslcommerz/validator/api/merchantTransIDvalidationAPI.php",
            get(sslcommerz::validate),
        )
        .route(
            "/sslcommerz/pay/{id}",
            get(page::show_sslcommerz).post(page::pay_sslcommerz),
        )
        .layer(DefaultBodyLimit::max(MAX_REQUEST))
        .with_state(shared)
}
