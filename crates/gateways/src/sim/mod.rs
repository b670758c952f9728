//! A simulated payment provider speaking both protocols on loopback: Stripe's under
//! `/stripe` and the generic one under `/generic`. Tests, the demo and `lastmile sim-gateway`
//! start one; a [`Scenario`] makes it misbehave the ways real providers do (duplicate,
//! dropped, reordered, tampered, badly signed and replayed webhooks, a failing confirm API,
//! declined payments). It holds its payments in memory and knows nothing of lastmile.
//!
//! Routes, with each provider's shapes (see the `stripe` and `generic` modules of the crate):
//!
//! - create: `POST /stripe/v1/checkout/sessions` (form) and `POST /generic/v1/checkout`
//!   (JSON): Bearer secret key or 401; amount > 0 and a currency or 400; the same
//!   `Idempotency-Key` (Stripe) or `merchant_ref` (generic) returns the same payment;
//! - confirm: `GET /stripe/v1/checkout/sessions/{id}` and `GET /generic/v1/payments/{id}`:
//!   401 without the key, 404 for an unknown id, 500 under `fail_confirm`;
//! - the hosted page: `GET /{provider}/pay/{id}` shows the amount and a form with one
//!   button (`id="pay"`); `POST /{provider}/pay/{id}` does what [`SimGateway::pay`] does,
//!   then redirects (303) to the success URL, or the cancel URL when declined.
//!
//! Paying sends the payment's webhooks to its webhook URL (Stripe: `metadata[webhook_url]`)
//! from a spawned task, signed as the provider signs them, each retried after 100 ms, 300 ms
//! and 1 s when it gets no 2xx. The pieces: `ledger` (the payments), `stripe` and `generic`
//! (the API routes), `page` (the hosted page) and `deliver` (webhook events and delivery).

mod deliver;
mod generic;
mod ledger;
mod page;
mod stripe;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use rand::RngExt as _;
use rand::distr::Alphanumeric;
use subtle::ConstantTimeEq as _;
use tokio::sync::oneshot;
use tokio::task::{AbortHandle, JoinHandle};

use crate::{PaymentStatus, Provider};
use ledger::{Ledger, NewPayment, Refusal};

/// The largest request body the simulator reads.
const MAX_REQUEST: usize = 64 * 1024;

/// How long one webhook delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// How the simulator misbehaves. Everything off by default: a well-behaved provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scenario {
    /// Extra deliveries of each webhook (the same event id each time).
    pub duplicates: u32,
    /// The payment succeeds but no webhook is sent (reconciliation must find it).
    pub drop_webhooks: bool,
    /// A stale event (Stripe: `checkout.session.completed` still unpaid; generic:
    /// `payment.pending`) is delivered after the final one.
    pub reorder: bool,
    /// The webhook body claims ten times the amount; the confirm API reports the true one.
    pub tamper_amount: bool,
    /// Webhooks are signed with another secret.
    pub wrong_secret: bool,
    /// Webhooks are signed with a timestamp ten minutes old.
    pub stale_signature: bool,
    /// The confirm API answers 500, as an overloaded provider does.
    pub fail_confirm: bool,
    /// Paying fails the payment (status failed, a failure webhook).
    pub declined: bool,
    /// The delay before each webhook delivery, in milliseconds.
    pub delay_ms: u64,
}

/// What to run.
#[derive(Clone)]
pub struct SimConfig {
    /// Where to listen (port 0 for any).
    pub listen: SocketAddr,
    /// The key clients must send as a Bearer token.
    pub secret_key: String,
    /// The key webhooks are signed with.
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
    /// Its id (Stripe: `cs_test_…`; generic: `pay_…`).
    pub id: String,
    /// The merchant's reference.
    pub merchant_ref: String,
    /// The amount in minor units.
    pub amount: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
    /// What it is for.
    pub description: String,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The transaction id (Stripe: `pi_…`; generic: `txn_…`), once it has succeeded.
    pub txn_id: Option<String>,
    /// Where its webhooks go, if anywhere.
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

/// State every route shares.
struct Shared {
    secret_key: String,
    webhook_secret: String,
    addr: SocketAddr,
    scenario: Mutex<Scenario>,
    ledger: Mutex<Ledger>,
    deliveries: Mutex<Vec<AbortHandle>>,
    http: reqwest::Client,
}

/// A poisoned lock means a panic mid-operation; every operation checks before it changes
/// anything, so the data is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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

    /// The customer pays: the payment completes (or is declined) and its webhooks leave.
    fn pay(&self, id: &str) -> Result<SimPayment, String> {
        let scenario = self.scenario();
        let payment = lock(&self.ledger).complete(id, scenario.declined)?;
        let plan = deliver::plan(&payment, &scenario, &self.webhook_secret);
        if !plan.is_empty() {
            let task = tokio::spawn(deliver::run(self.http.clone(), plan));
            let mut deliveries = lock(&self.deliveries);
            deliveries.retain(|d| !d.is_finished());
            deliveries.push(task.abort_handle());
        }
        Ok(payment)
    }
}

/// A running simulator. Dropping it stops it.
pub struct SimGateway {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl fmt::Debug for SimGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimGateway")
            .field("addr", &self.addr)
            .field("scenario", &self.shared.scenario())
            .finish_non_exhaustive()
    }
}

impl Drop for SimGateway {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
        for delivery in lock(&self.shared.deliveries).drain(..) {
            delivery.abort();
        }
    }
}

impl SimGateway {
    /// Binds `config.listen` and serves on a spawned task.
    pub async fn start(config: SimConfig) -> std::io::Result<SimGateway> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let http = crate::client::http_client(DELIVERY_TIMEOUT).map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            secret_key: config.secret_key,
            webhook_secret: config.webhook_secret,
            addr,
            scenario: Mutex::new(config.scenario),
            ledger: Mutex::new(Ledger::default()),
            deliveries: Mutex::new(Vec::new()),
            http,
        });
        let app = routes(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                // A dropped sender stops the server too.
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::warn!(%error, "simulated gateway stopped");
            }
        });
        tracing::info!(%addr, "simulated gateway listening");
        Ok(SimGateway {
            shared,
            addr,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API base for `provider`: `http://ADDR/stripe` or `http://ADDR/generic`.
    pub fn base_url(&self, provider: Provider) -> String {
        format!("http://{}/{}", self.addr, provider.as_str())
    }

    /// Changes how it behaves from now on: for payments created, paid and confirmed
    /// afterwards, and so for every webhook not yet planned. Deliveries already planned by a
    /// pay keep the scenario they were planned under.
    pub fn set_scenario(&self, scenario: Scenario) {
        *lock(&self.shared.scenario) = scenario;
    }

    /// What the customer's click on "Pay" does: completes the payment (or declines it, per
    /// the scenario) and sends its webhooks. Errors when the id is unknown or the payment is
    /// no longer pending.
    pub async fn pay(&self, provider_payment_id: &str) -> Result<(), String> {
        self.shared.pay(provider_payment_id).map(drop)
    }

    /// Every payment it holds, oldest first.
    pub fn payments(&self) -> Vec<SimPayment> {
        lock(&self.shared.ledger).all()
    }

    /// Stops serving (requests in progress finish) and abandons deliveries not yet made.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), server)
                .await
                .is_err()
            {
                tracing::warn!("simulated gateway did not stop in time");
                abort.abort();
            }
        }
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
        .layer(DefaultBodyLimit::max(MAX_REQUEST))
        .with_state(shared)
}
