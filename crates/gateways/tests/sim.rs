//! The client against a running simulator, for both providers, with a small webhook receiver
//! standing in for the billing server: real TCP throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use gateways::sim::{Scenario, SimConfig, SimGateway};
use gateways::webhook::{self, Notice, WebhookError};
use gateways::{Checkout, Client, GatewayConfig, GatewayError, PaymentStatus, Provider};
use http::{HeaderMap, StatusCode};
use tokio::sync::mpsc;

/// The providers whose webhooks are signed in a header (Stripe, generic); bKash and
/// SSLCommerz have tests of their own.
const SIGNED: [Provider; 2] = [Provider::Stripe, Provider::Generic];

const SECRET_KEY: &str = "sk_test_sim";
const WEBHOOK_SECRET: &str = "whsec_sim";

/// One webhook as the receiver got it.
#[derive(Debug)]
struct Hook {
    headers: HeaderMap,
    body: Bytes,
}

struct Receiver {
    hooks: mpsc::UnboundedSender<Hook>,
    /// Requests still to refuse with a 500 before accepting.
    refuse: AtomicU32,
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let refused = receiver
        .refuse
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let _ = receiver.hooks.send(Hook { headers, body });
    if refused {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// A simulator, a client and a webhook receiver.
struct Harness {
    sim: SimGateway,
    client: Client,
    webhook_url: String,
    hooks: mpsc::UnboundedReceiver<Hook>,
}

impl Harness {
    async fn start(scenario: Scenario) -> Harness {
        Harness::with_refusals(scenario, 0).await
    }

    async fn with_refusals(scenario: Scenario, refuse: u32) -> Harness {
        let (tx, hooks) = mpsc::unbounded_channel();
        let receiver = Arc::new(Receiver {
            hooks: tx,
            refuse: AtomicU32::new(refuse),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let sim = SimGateway::start(SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            secret_key: SECRET_KEY.to_owned(),
            webhook_secret: WEBHOOK_SECRET.to_owned(),
            scenario,
        })
        .await
        .unwrap();
        Harness {
            sim,
            client: Client::new().unwrap(),
            webhook_url: format!("http://{address}/hook"),
            hooks,
        }
    }

    fn cfg(&self, provider: Provider) -> GatewayConfig {
        GatewayConfig {
            provider,
            base_url: self.sim.base_url(provider),
            key_id: String::new(),
            username: String::new(),
            secret_key: SECRET_KEY.to_owned(),
            webhook_secret: WEBHOOK_SECRET.to_owned(),
        }
    }

    fn checkout(&self, merchant_ref: &str) -> Checkout {
        Checkout {
            merchant_ref: merchant_ref.to_owned(),
            amount: 1234,
            currency: "USD".to_owned(),
            description: "Fibre 50 Mbps, May".to_owned(),
            success_url: "http://127.0.0.1:1/paid".to_owned(),
            cancel_url: "http://127.0.0.1:1/cancelled".to_owned(),
            webhook_url: self.webhook_url.clone(),
        }
    }

    /// Creates a checkout for `merchant_ref` and pays it.
    async fn create_and_pay(&self, provider: Provider, merchant_ref: &str) -> String {
        let created = self
            .client
            .create(&self.cfg(provider), &self.checkout(merchant_ref))
            .await
            .unwrap();
        self.sim.pay(&created.provider_payment_id).await.unwrap();
        created.provider_payment_id
    }

    /// The next webhook, if one comes within `wait`.
    async fn next_hook(&mut self, wait: Duration) -> Option<Hook> {
        tokio::time::timeout(wait, self.hooks.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every webhook that arrives until none has for `quiet`.
    async fn hooks_until_quiet(&mut self, quiet: Duration) -> Vec<Hook> {
        let mut hooks = Vec::new();
        while let Some(hook) = self.next_hook(quiet).await {
            hooks.push(hook);
        }
        hooks
    }

    fn verify(&self, provider: Provider, hook: &Hook) -> Result<Notice, WebhookError> {
        webhook::verify(&self.cfg(provider), &hook.headers, &hook.body, now())
    }
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(700);

/// The amount a webhook body claims.
fn claimed_amount(provider: Provider, hook: &Hook) -> i64 {
    let body: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    match provider {
        Provider::Stripe => body["data"]["object"]["amount_total"].as_i64().unwrap(),
        _ => body["amount"].as_i64().unwrap(),
    }
}

#[tokio::test]
async fn a_paid_checkout_sends_a_verifiable_webhook_and_confirms_as_succeeded() {
    let mut h = Harness::start(Scenario::default()).await;
    for provider in SIGNED {
        let cfg = h.cfg(provider);
        let created = h.client.create(&cfg, &h.checkout("INV-100")).await.unwrap();
        assert!(created.redirect_url.contains(&created.provider_payment_id));
        let before = h
            .client
            .confirm(&cfg, &created.provider_payment_id)
            .await
            .unwrap();
        assert_eq!(before.status, PaymentStatus::Pending);

        h.sim.pay(&created.provider_payment_id).await.unwrap();
        let hook = h.next_hook(WAIT).await.expect("a webhook");
        let notice = h.verify(provider, &hook).unwrap();
        assert_eq!(notice.provider_payment_id, created.provider_payment_id);
        assert!(notice.event_id.starts_with("evt_"));
        let kind = match provider {
            Provider::Stripe => "checkout.session.completed",
            _ => "payment.succeeded",
        };
        assert_eq!(notice.kind, kind);

        let confirmed = h
            .client
            .confirm(&cfg, &notice.provider_payment_id)
            .await
            .unwrap();
        let held = h
            .sim
            .payments()
            .into_iter()
            .find(|p| p.id == created.provider_payment_id)
            .unwrap();
        assert_eq!(confirmed.status, PaymentStatus::Succeeded);
        assert_eq!(confirmed.amount, 1234);
        assert_eq!(confirmed.currency, "USD");
        assert_eq!(confirmed.merchant_ref, "INV-100");
        assert_eq!(Some(confirmed.txn_id.clone()), held.txn_id);
        assert_eq!(held.status, PaymentStatus::Succeeded);
        assert!(
            h.hooks_until_quiet(QUIET).await.is_empty(),
            "{provider}: one webhook only"
        );
    }
}

#[tokio::test]
async fn stripe_speaks_lower_case_currencies_on_the_wire() {
    let mut h = Harness::start(Scenario::default()).await;
    h.create_and_pay(Provider::Stripe, "INV-101").await;
    let hook = h.next_hook(WAIT).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(body["data"]["object"]["currency"], "usd");
    assert_eq!(body["data"]["object"]["client_reference_id"], "INV-101");
    assert!(hook.headers.contains_key("stripe-signature"));
}

#[tokio::test]
async fn transaction_and_event_ids_are_unique() {
    let mut h = Harness::start(Scenario::default()).await;
    let mut events = Vec::new();
    for provider in SIGNED {
        for n in 0..3 {
            h.create_and_pay(provider, &format!("INV-{provider}-{n}"))
                .await;
            let hook = h.next_hook(WAIT).await.unwrap();
            events.push(h.verify(provider, &hook).unwrap().event_id);
        }
    }
    let mut txns: Vec<_> = h
        .sim
        .payments()
        .into_iter()
        .filter_map(|p| p.txn_id)
        .collect();
    txns.sort();
    txns.dedup();
    assert_eq!(txns.len(), 6);
    events.sort();
    events.dedup();
    assert_eq!(events.len(), 6);
}

#[tokio::test]
async fn duplicates_deliver_the_same_event_three_times() {
    let mut h = Harness::start(Scenario {
        duplicates: 2,
        ..Scenario::default()
    })
    .await;
    for provider in SIGNED {
        h.create_and_pay(provider, "INV-200").await;
        let hooks = h.hooks_until_quiet(QUIET).await;
        assert_eq!(hooks.len(), 3, "{provider}");
        let notices: Vec<_> = hooks
            .iter()
            .map(|hook| h.verify(provider, hook).unwrap())
            .collect();
        assert!(notices.iter().all(|n| n.event_id == notices[0].event_id));
    }
}

#[tokio::test]
async fn dropped_webhooks_leave_confirm_to_find_the_payment() {
    let mut h = Harness::start(Scenario {
        drop_webhooks: true,
        ..Scenario::default()
    })
    .await;
    for provider in SIGNED {
        let id = h.create_and_pay(provider, "INV-300").await;
        assert!(h.hooks_until_quiet(QUIET).await.is_empty(), "{provider}");
        let confirmed = h.client.confirm(&h.cfg(provider), &id).await.unwrap();
        assert_eq!(confirmed.status, PaymentStatus::Succeeded);
        assert_eq!(confirmed.amount, 1234);
    }
}

#[tokio::test]
async fn reordered_events_bring_a_stale_one_after_the_final_one() {
    let mut h = Harness::start(Scenario {
        reorder: true,
        ..Scenario::default()
    })
    .await;
    for provider in SIGNED {
        let id = h.create_and_pay(provider, "INV-400").await;
        let hooks = h.hooks_until_quiet(QUIET).await;
        let kinds: Vec<_> = hooks
            .iter()
            .map(|hook| h.verify(provider, hook).unwrap().kind)
            .collect();
        let expected = match provider {
            Provider::Stripe => [
                "checkout.session.async_payment_succeeded",
                "checkout.session.completed",
            ],
            _ => ["payment.succeeded", "payment.pending"],
        };
        assert_eq!(kinds, expected);
        let confirmed = h.client.confirm(&h.cfg(provider), &id).await.unwrap();
        assert_eq!(confirmed.status, PaymentStatus::Succeeded);
    }
}

#[tokio::test]
async fn a_tampered_amount_in_the_webhook_does_not_change_what_confirm_reports() {
    let mut h = Harness::start(Scenario {
        tamper_amount: true,
        ..Scenario::default()
    })
    .await;
    for provider in SIGNED {
        let id = h.create_and_pay(provider, "INV-500").await;
        let hook = h.next_hook(WAIT).await.unwrap();
        assert!(h.verify(provider, &hook).is_ok());
        assert_ne!(claimed_amount(provider, &hook), 1234, "{provider}");
        let confirmed = h.client.confirm(&h.cfg(provider), &id).await.unwrap();
        assert_eq!(confirmed.amount, 1234);
    }
}

#[tokio::test]
async fn webhooks_signed_with_the_wrong_secret_fail_verification() {
    let mut h = Harness::start(Scenario {
        wrong_secret: true,
        ..Scenario::default()
    })
    .await;
    for provider in SIGNED {
        h.create_and_pay(provider, "INV-600").await;
        let hook = h.next_hook(WAIT).await.unwrap();
        assert_eq!(h.verify(provider, &hook), Err(WebhookError::BadSignature));
    }
}

#[tokio::test]
async fn webhooks_with_a_stale_signature_fail_verification() {
    let mut h = Harness::start(Scenario {
        stale_signature: true,
        ..Scenario::default()
    })
    .await;
    for provider in SIGNED {
        h.create_and_pay(provider, "INV-700").await;
        let hook = h.next_hook(WAIT).await.unwrap();
        assert_eq!(h.verify(provider, &hook), Err(WebhookError::Stale));
    }
}

#[tokio::test]
async fn a_declined_payment_sends_a_failure_and_confirms_as_failed() {
    let mut h = Harness::start(Scenario {
        declined: true,
        ..Scenario::default()
    })
    .await;
    for provider in SIGNED {
        let id = h.create_and_pay(provider, "INV-800").await;
        let hook = h.next_hook(WAIT).await.unwrap();
        let kind = match provider {
            Provider::Stripe => "checkout.session.expired",
            _ => "payment.failed",
        };
        assert_eq!(h.verify(provider, &hook).unwrap().kind, kind);
        let confirmed = h.client.confirm(&h.cfg(provider), &id).await.unwrap();
        assert_eq!(confirmed.status, PaymentStatus::Failed);
        assert_eq!(confirmed.txn_id, "");
    }
}

#[tokio::test]
async fn a_failing_confirm_api_is_an_error_until_it_recovers() {
    let h = Harness::start(Scenario {
        fail_confirm: true,
        ..Scenario::default()
    })
    .await;
    for provider in SIGNED {
        let id = h.create_and_pay(provider, "INV-900").await;
        let error = h.client.confirm(&h.cfg(provider), &id).await.unwrap_err();
        assert!(
            matches!(error, GatewayError::Rejected { status: 500, .. }),
            "{error:?}"
        );
        assert!(error.is_retryable());
    }
    h.sim.set_scenario(Scenario::default());
    for payment in h.sim.payments() {
        let confirmed = h
            .client
            .confirm(&h.cfg(payment.provider), &payment.id)
            .await
            .unwrap();
        assert_eq!(confirmed.status, PaymentStatus::Succeeded);
    }
}

#[tokio::test]
async fn a_wrong_bearer_key_is_rejected_with_401() {
    let h = Harness::start(Scenario::default()).await;
    for provider in SIGNED {
        let id = h.create_and_pay(provider, "INV-1000").await;
        let mut cfg = h.cfg(provider);
        cfg.secret_key = "sk_test_wrong".to_owned();
        let created = h.client.create(&cfg, &h.checkout("INV-1001")).await;
        assert!(
            matches!(created, Err(GatewayError::Rejected { status: 401, .. })),
            "{created:?}"
        );
        let confirmed = h.client.confirm(&cfg, &id).await;
        assert!(
            matches!(confirmed, Err(GatewayError::Rejected { status: 401, .. })),
            "{confirmed:?}"
        );
        let shown = format!("{}", confirmed.unwrap_err());
        assert!(!shown.contains("sk_test"), "{shown}");
    }
    assert_eq!(h.sim.payments().len(), 2);
}

#[tokio::test]
async fn creating_twice_with_the_same_merchant_ref_returns_the_same_checkout() {
    let h = Harness::start(Scenario::default()).await;
    for provider in SIGNED {
        let cfg = h.cfg(provider);
        let first = h
            .client
            .create(&cfg, &h.checkout("INV-1100"))
            .await
            .unwrap();
        let again = h
            .client
            .create(&cfg, &h.checkout("INV-1100"))
            .await
            .unwrap();
        assert_eq!(first, again, "{provider}");
        let other = h
            .client
            .create(&cfg, &h.checkout("INV-1101"))
            .await
            .unwrap();
        assert_ne!(first.provider_payment_id, other.provider_payment_id);

        let mut changed = h.checkout("INV-1100");
        changed.amount = 999;
        let conflict = h.client.create(&cfg, &changed).await;
        assert!(
            matches!(
                conflict,
                Err(GatewayError::Rejected {
                    status: 400 | 409,
                    ..
                })
            ),
            "{conflict:?}"
        );
    }
    assert_eq!(h.sim.payments().len(), 4);
}

#[tokio::test]
async fn invalid_amounts_and_currencies_are_rejected_with_400() {
    let h = Harness::start(Scenario::default()).await;
    for provider in SIGNED {
        let cfg = h.cfg(provider);
        for (amount, currency) in [(0, "USD"), (-5, "USD"), (100, "US"), (100, "U$D")] {
            let mut checkout = h.checkout("INV-1200");
            checkout.amount = amount;
            checkout.currency = currency.to_owned();
            let result = h.client.create(&cfg, &checkout).await;
            assert!(
                matches!(result, Err(GatewayError::Rejected { status: 400, .. })),
                "{provider} {amount} {currency}: {result:?}"
            );
        }
    }
    assert!(h.sim.payments().is_empty());
}

#[tokio::test]
async fn an_unknown_payment_is_rejected_with_404() {
    let h = Harness::start(Scenario::default()).await;
    for provider in SIGNED {
        let result = h.client.confirm(&h.cfg(provider), "cs_test_nothing").await;
        assert!(
            matches!(result, Err(GatewayError::Rejected { status: 404, .. })),
            "{result:?}"
        );
    }
    // A payment of one protocol is unknown to the other.
    let id = h.create_and_pay(Provider::Generic, "INV-1300").await;
    let result = h.client.confirm(&h.cfg(Provider::Stripe), &id).await;
    assert!(matches!(
        result,
        Err(GatewayError::Rejected { status: 404, .. })
    ));
}

#[tokio::test]
async fn a_refused_delivery_is_retried_with_the_same_event() {
    let mut h = Harness::with_refusals(Scenario::default(), 2).await;
    h.create_and_pay(Provider::Generic, "INV-1400").await;
    let hooks = h.hooks_until_quiet(Duration::from_millis(1500)).await;
    assert_eq!(hooks.len(), 3);
    let notices: Vec<_> = hooks
        .iter()
        .map(|hook| h.verify(Provider::Generic, hook).unwrap())
        .collect();
    assert!(notices.iter().all(|n| n == &notices[0]));
}

#[tokio::test]
async fn deliveries_wait_the_scenarios_delay() {
    let mut h = Harness::start(Scenario {
        delay_ms: 400,
        ..Scenario::default()
    })
    .await;
    h.create_and_pay(Provider::Stripe, "INV-1500").await;
    assert!(h.next_hook(Duration::from_millis(150)).await.is_none());
    assert!(h.next_hook(WAIT).await.is_some());
}

#[tokio::test]
async fn a_payment_is_paid_once() {
    let mut h = Harness::start(Scenario::default()).await;
    let id = h.create_and_pay(Provider::Generic, "INV-1600").await;
    assert!(h.sim.pay(&id).await.is_err());
    assert!(h.sim.pay("pay_unknown").await.is_err());
    assert_eq!(h.hooks_until_quiet(QUIET).await.len(), 1);
}

/// A plain HTTP client that does not follow redirects, as a browser's first hop.
fn browser() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_hosted_page_shows_the_amount_and_its_pay_button_completes_the_payment() {
    let mut h = Harness::start(Scenario::default()).await;
    let browser = browser();
    for provider in SIGNED {
        let mut checkout = h.checkout("INV-1700");
        checkout.description = "<script>alert(1)</script>".to_owned();
        let created = h.client.create(&h.cfg(provider), &checkout).await.unwrap();
        let page = browser.get(&created.redirect_url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("12.34 USD"), "{html}");
        assert!(html.contains(r#"id="pay""#), "{html}");
        assert!(html.contains("INV-1700"));
        assert!(!html.contains("<script>"), "{html}");

        let paid = browser.post(&created.redirect_url).send().await.unwrap();
        assert_eq!(paid.status(), 303);
        assert_eq!(paid.headers()["location"], "http://127.0.0.1:1/paid");
        let hook = h.next_hook(WAIT).await.unwrap();
        assert_eq!(
            h.verify(provider, &hook).unwrap().provider_payment_id,
            created.provider_payment_id
        );
        let confirmed = h
            .client
            .confirm(&h.cfg(provider), &created.provider_payment_id)
            .await;
        assert_eq!(confirmed.unwrap().status, PaymentStatus::Succeeded);

        // A second click changes nothing and sends nothing.
        let again = browser.post(&created.redirect_url).send().await.unwrap();
        assert_eq!(again.status(), 303);
        let html = browser
            .get(&created.redirect_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains(r#"id="pay""#), "{html}");
        assert!(h.hooks_until_quiet(QUIET).await.is_empty());
    }
}

#[tokio::test]
async fn a_declined_payment_on_the_hosted_page_goes_back_to_the_cancel_url() {
    let h = Harness::start(Scenario {
        declined: true,
        ..Scenario::default()
    })
    .await;
    let browser = browser();
    let created = h
        .client
        .create(&h.cfg(Provider::Stripe), &h.checkout("INV-1800"))
        .await
        .unwrap();
    let paid = browser.post(&created.redirect_url).send().await.unwrap();
    assert_eq!(paid.status(), 303);
    assert_eq!(paid.headers()["location"], "http://127.0.0.1:1/cancelled");
    let unknown = browser
        .get(format!(
            "{}/pay/cs_test_unknown",
            h.sim.base_url(Provider::Stripe)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_stopped_simulator_is_unreachable() {
    let h = Harness::start(Scenario::default()).await;
    let cfg = h.cfg(Provider::Generic);
    h.sim.shutdown().await;
    let result = h.client.confirm(&cfg, "pay_1").await;
    assert!(
        matches!(result, Err(GatewayError::Unreachable(_))),
        "{result:?}"
    );
}
