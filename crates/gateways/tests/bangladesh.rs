//! bKash and SSLCommerz end to end: the client against the simulator over real TCP, with a
//! small receiver standing in for the billing server (SSLCommerz's IPN is POSTed to it; the
//! bKash callback is a GET to it, made by the simulator when no browser is there).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use gateways::sim::{Scenario, SimConfig, SimGateway};
use gateways::webhook::{self, Notice, WebhookError};
use gateways::{
    Checkout, Client, GatewayConfig, GatewayError, NoticeMethod, PaymentStatus, Provider,
};
use http::{HeaderMap, StatusCode};
use tokio::sync::mpsc;

const SECRET_KEY: &str = "app_secret_or_store_passwd";
const WEBHOOK_SECRET: &str = "bkash_password";

/// One notice as the receiver got it.
#[derive(Debug)]
enum Hook {
    /// An IPN's raw form body.
    Ipn(Bytes),
    /// A callback's raw query string.
    Callback(String),
}

async fn ipn(State(tx): State<mpsc::UnboundedSender<Hook>>, body: Bytes) -> StatusCode {
    let _ = tx.send(Hook::Ipn(body));
    StatusCode::OK
}

/// Answers as the billing server does: the browser goes on to the return page.
async fn callback(
    State(tx): State<mpsc::UnboundedSender<Hook>>,
    RawQuery(query): RawQuery,
) -> impl IntoResponse {
    let _ = tx.send(Hook::Callback(query.unwrap_or_default()));
    Redirect::to("/return")
}

struct Harness {
    sim: SimGateway,
    client: Client,
    receiver: String,
    hooks: mpsc::UnboundedReceiver<Hook>,
}

impl Harness {
    async fn start(scenario: Scenario) -> Harness {
        let (tx, hooks) = mpsc::unbounded_channel();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/ipn", post(ipn))
            .route("/callback", get(callback))
            .with_state(tx);
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
            receiver: format!("http://{address}"),
            hooks,
        }
    }

    fn cfg(&self, provider: Provider) -> GatewayConfig {
        let (key_id, username, webhook_secret) = match provider {
            Provider::Bkash => ("app_key_1", "sandboxTokenizedUser", WEBHOOK_SECRET),
            _ => ("store_1", "", ""),
        };
        GatewayConfig {
            provider,
            base_url: self.sim.base_url(provider),
            key_id: key_id.to_owned(),
            username: username.to_owned(),
            secret_key: SECRET_KEY.to_owned(),
            webhook_secret: webhook_secret.to_owned(),
        }
    }

    fn checkout(&self, provider: Provider, merchant_ref: &str) -> Checkout {
        let webhook_url = match provider {
            Provider::Bkash => format!("{}/callback?account=7", self.receiver),
            _ => format!("{}/ipn", self.receiver),
        };
        Checkout {
            merchant_ref: merchant_ref.to_owned(),
            amount: 50_000,
            currency: "BDT".to_owned(),
            description: "Fibre 20 Mbps, Baishakh".to_owned(),
            success_url: "http://127.0.0.1:1/paid".to_owned(),
            cancel_url: "http://127.0.0.1:1/cancelled".to_owned(),
            webhook_url,
        }
    }

    async fn create(&self, provider: Provider, merchant_ref: &str) -> String {
        let created = self
            .client
            .create(&self.cfg(provider), &self.checkout(provider, merchant_ref))
            .await
            .unwrap();
        created.provider_payment_id
    }

    async fn create_and_pay(&self, provider: Provider, merchant_ref: &str) -> String {
        let id = self.create(provider, merchant_ref).await;
        self.sim.pay(&id).await.unwrap();
        id
    }

    async fn next_hook(&mut self, wait: Duration) -> Option<Hook> {
        tokio::time::timeout(wait, self.hooks.recv())
            .await
            .ok()
            .flatten()
    }

    async fn hooks_until_quiet(&mut self) -> Vec<Hook> {
        let mut hooks = Vec::new();
        while let Some(hook) = self.next_hook(QUIET).await {
            hooks.push(hook);
        }
        hooks
    }

    /// The notice in `hook`, read as the billing server reads it.
    fn read(&self, hook: &Hook) -> Result<Notice, WebhookError> {
        match hook {
            Hook::Ipn(body) => {
                webhook::verify(&self.cfg(Provider::Sslcommerz), &HeaderMap::new(), body, 0)
            }
            Hook::Callback(query) => webhook::callback(&self.cfg(Provider::Bkash), query),
        }
    }

    async fn confirm(&self, provider: Provider, id: &str) -> gateways::Confirmation {
        self.client.confirm(&self.cfg(provider), id).await.unwrap()
    }

    fn held(&self, id: &str) -> gateways::sim::SimPayment {
        self.sim
            .payments()
            .into_iter()
            .find(|p| p.id == id)
            .unwrap()
    }
}

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(700);
const BANGLADESH: [Provider; 2] = [Provider::Bkash, Provider::Sslcommerz];

#[test]
fn notices_arrive_by_get_for_bkash_and_by_post_for_the_others() {
    assert_eq!(
        Provider::Bkash.notice_method(),
        NoticeMethod::BrowserCallback
    );
    assert_eq!(
        NoticeMethod::BrowserCallback.http_method(),
        http::Method::GET
    );
    for provider in [Provider::Stripe, Provider::Generic, Provider::Sslcommerz] {
        assert_eq!(provider.notice_method(), NoticeMethod::Webhook);
    }
    assert_eq!(NoticeMethod::Webhook.http_method(), http::Method::POST);
    assert_eq!(Provider::parse("bkash"), Some(Provider::Bkash));
    assert_eq!(Provider::parse("sslcommerz"), Some(Provider::Sslcommerz));
    assert_eq!(Provider::Sslcommerz.signature_header(), None);
}

#[tokio::test]
async fn a_bkash_payment_is_created_paid_called_back_and_executed() {
    let mut h = Harness::start(Scenario::default()).await;
    let created = h
        .client
        .create(
            &h.cfg(Provider::Bkash),
            &h.checkout(Provider::Bkash, "lm100"),
        )
        .await
        .unwrap();
    assert!(created.provider_payment_id.starts_with("TR0011"));
    assert!(
        created
            .redirect_url
            .starts_with(&h.sim.base_url(Provider::Bkash))
    );
    h.sim.pay(&created.provider_payment_id).await.unwrap();

    let hook = h.next_hook(WAIT).await.expect("a callback");
    let Hook::Callback(query) = &hook else {
        panic!("{hook:?}")
    };
    assert!(query.starts_with("account=7&"), "{query}");
    let notice = h.read(&hook).unwrap();
    assert_eq!(notice.provider_payment_id, created.provider_payment_id);
    assert_eq!(notice.kind, "success");
    assert_eq!(
        notice.event_id,
        format!("{}:success", created.provider_payment_id)
    );
    // Authorised, not yet taken: only the execute in confirm takes the money.
    let held = h.held(&created.provider_payment_id);
    assert!(held.authorised && held.status == PaymentStatus::Pending);

    let confirmed = h
        .confirm(Provider::Bkash, &notice.provider_payment_id)
        .await;
    let held = h.held(&created.provider_payment_id);
    assert_eq!(confirmed.status, PaymentStatus::Succeeded);
    assert_eq!(confirmed.amount, 50_000);
    assert_eq!(confirmed.currency, "BDT");
    assert_eq!(confirmed.merchant_ref, "lm100");
    assert_eq!(confirmed.provider_payment_id, created.provider_payment_id);
    assert_eq!(Some(confirmed.txn_id.clone()), held.txn_id);
    assert_eq!(held.status, PaymentStatus::Succeeded);
    assert!(h.hooks_until_quiet().await.is_empty(), "one callback only");
}

#[tokio::test]
async fn a_bkash_payment_executed_twice_still_succeeds_with_the_same_trx_id() {
    let h = Harness::start(Scenario::default()).await;
    let id = h.create_and_pay(Provider::Bkash, "lm101").await;
    let first = h.confirm(Provider::Bkash, &id).await;
    let second = h.confirm(Provider::Bkash, &id).await;
    assert_eq!(first.status, PaymentStatus::Succeeded);
    assert_eq!(second, first);
}

#[tokio::test]
async fn confirming_before_paying_is_pending_for_both() {
    let h = Harness::start(Scenario::default()).await;
    for provider in BANGLADESH {
        let id = h.create(provider, "lm102").await;
        let confirmed = h.confirm(provider, &id).await;
        assert_eq!(confirmed.status, PaymentStatus::Pending, "{provider}");
        assert_eq!(confirmed.txn_id, "");
        // Paying afterwards still works: an early execute took nothing and spoiled nothing.
        h.sim.pay(&id).await.unwrap();
        let confirmed = h.confirm(provider, &id).await;
        assert_eq!(confirmed.status, PaymentStatus::Succeeded, "{provider}");
    }
}

#[tokio::test]
async fn declined_payments_send_a_failure_notice_and_confirm_as_failed() {
    let mut h = Harness::start(Scenario {
        declined: true,
        ..Scenario::default()
    })
    .await;
    for provider in BANGLADESH {
        let id = h.create_and_pay(provider, "lm103").await;
        let hook = h.next_hook(WAIT).await.unwrap();
        let notice = h.read(&hook).unwrap();
        let (kind, event_id) = match provider {
            Provider::Bkash => ("failure", format!("{id}:failure")),
            _ => ("FAILED", format!("{id}:FAILED")),
        };
        assert_eq!(notice.kind, kind);
        assert_eq!(notice.event_id, event_id);
        let confirmed = h.confirm(provider, &id).await;
        assert_eq!(confirmed.status, PaymentStatus::Failed, "{provider}");
        assert_eq!(confirmed.txn_id, "");
    }
}

#[tokio::test]
async fn an_sslcommerz_payment_is_created_paid_notified_and_validated() {
    let mut h = Harness::start(Scenario::default()).await;
    let created = h
        .client
        .create(
            &h.cfg(Provider::Sslcommerz),
            &h.checkout(Provider::Sslcommerz, "lm200"),
        )
        .await
        .unwrap();
    assert_eq!(created.provider_payment_id, "lm200");
    h.sim.pay("lm200").await.unwrap();

    let hook = h.next_hook(WAIT).await.expect("an IPN");
    assert!(matches!(hook, Hook::Ipn(_)));
    let notice = h.read(&hook).unwrap();
    let held = h.held("lm200");
    assert_eq!(notice.provider_payment_id, "lm200");
    assert_eq!(notice.kind, "VALID");
    assert_eq!(Some(notice.event_id.clone()), held.val_id);

    let confirmed = h.confirm(Provider::Sslcommerz, "lm200").await;
    assert_eq!(confirmed.status, PaymentStatus::Succeeded);
    assert_eq!(confirmed.amount, 50_000);
    assert_eq!(confirmed.currency, "BDT");
    assert_eq!(confirmed.merchant_ref, "lm200");
    assert_eq!(Some(confirmed.txn_id.clone()), held.txn_id);
    assert!(h.hooks_until_quiet().await.is_empty(), "one IPN only");
}

#[tokio::test]
async fn exact_amounts_cross_the_wire_both_ways() {
    let h = Harness::start(Scenario::default()).await;
    for provider in BANGLADESH {
        for (n, amount) in [1, 10, 50_050, 50_005, 12_345_678_901]
            .into_iter()
            .enumerate()
        {
            let mut checkout = h.checkout(provider, &format!("lm3{n}"));
            checkout.amount = amount;
            let created = h.client.create(&h.cfg(provider), &checkout).await.unwrap();
            h.sim.pay(&created.provider_payment_id).await.unwrap();
            let confirmed = h.confirm(provider, &created.provider_payment_id).await;
            assert_eq!(confirmed.amount, amount, "{provider}");
            assert_eq!(h.held(&created.provider_payment_id).amount, amount);
        }
    }
}

#[tokio::test]
async fn a_tampered_amount_shows_in_the_confirmation() {
    let mut h = Harness::start(Scenario {
        tamper_amount: true,
        ..Scenario::default()
    })
    .await;
    for provider in BANGLADESH {
        let id = h.create_and_pay(provider, "lm400").await;
        // The notice still reads (it carries no amount we trust)…
        let hook = h.next_hook(WAIT).await.unwrap();
        assert!(h.read(&hook).is_ok());
        // …and the confirmation tells what was really paid, for the caller to refuse.
        let confirmed = h.confirm(provider, &id).await;
        assert_eq!(confirmed.status, PaymentStatus::Succeeded);
        assert_eq!(confirmed.amount, 5_000, "{provider}");
        assert_ne!(confirmed.amount, h.checkout(provider, "lm400").amount);
    }
}

#[tokio::test]
async fn duplicates_and_reordering_keep_their_event_ids() {
    let mut h = Harness::start(Scenario {
        duplicates: 1,
        reorder: true,
        ..Scenario::default()
    })
    .await;
    for provider in BANGLADESH {
        let id = h.create_and_pay(provider, "lm500").await;
        let notices: Vec<_> = h
            .hooks_until_quiet()
            .await
            .iter()
            .map(|hook| h.read(hook).unwrap())
            .collect();
        let kinds: Vec<_> = notices.iter().map(|n| n.kind.as_str()).collect();
        let expected = match provider {
            Provider::Bkash => ["success", "success", "cancel", "cancel"],
            _ => ["VALID", "VALID", "UNATTEMPTED", "UNATTEMPTED"],
        };
        assert_eq!(kinds, expected, "{provider}");
        assert_eq!(notices[0].event_id, notices[1].event_id);
        assert_eq!(notices[2].event_id, notices[3].event_id);
        assert_ne!(notices[0].event_id, notices[2].event_id);
        // The stale notice changes nothing: the confirmation is the truth.
        let confirmed = h.confirm(provider, &id).await;
        assert_eq!(confirmed.status, PaymentStatus::Succeeded);
    }
}

#[tokio::test]
async fn dropped_notices_leave_confirm_to_find_the_payment() {
    let mut h = Harness::start(Scenario {
        drop_webhooks: true,
        delay_ms: 50,
        ..Scenario::default()
    })
    .await;
    for provider in BANGLADESH {
        let id = h.create_and_pay(provider, "lm600").await;
        assert!(h.hooks_until_quiet().await.is_empty());
        let confirmed = h.confirm(provider, &id).await;
        assert_eq!(confirmed.status, PaymentStatus::Succeeded, "{provider}");
    }
}

#[tokio::test]
async fn an_ipn_signed_with_another_password_is_a_bad_signature() {
    let mut h = Harness::start(Scenario {
        wrong_secret: true,
        ..Scenario::default()
    })
    .await;
    h.create_and_pay(Provider::Sslcommerz, "lm700").await;
    let hook = h.next_hook(WAIT).await.unwrap();
    assert_eq!(h.read(&hook), Err(WebhookError::BadSignature));
}

#[tokio::test]
async fn a_failing_confirm_api_is_a_retryable_500() {
    let h = Harness::start(Scenario {
        fail_confirm: true,
        ..Scenario::default()
    })
    .await;
    for provider in BANGLADESH {
        let id = h.create_and_pay(provider, "lm800").await;
        let error = h.client.confirm(&h.cfg(provider), &id).await.unwrap_err();
        assert!(
            matches!(error, GatewayError::Rejected { status: 500, .. }),
            "{provider}: {error:?}"
        );
        assert!(error.is_retryable());
    }
    // No bKash payment was executed meanwhile.
    let payments = h.sim.payments();
    let mut bkash = payments.iter().filter(|p| p.provider == Provider::Bkash);
    assert!(bkash.all(|p| p.txn_id.is_none() && p.authorised));
}

#[tokio::test]
async fn wrong_credentials_are_refused_without_showing_a_secret() {
    let h = Harness::start(Scenario::default()).await;
    let id = h.create_and_pay(Provider::Sslcommerz, "lm900").await;
    for provider in BANGLADESH {
        let mut cfg = h.cfg(provider);
        cfg.secret_key = "wrong-secret".to_owned();
        let created = h
            .client
            .create(&cfg, &h.checkout(provider, "lm901"))
            .await
            .unwrap_err();
        assert!(
            matches!(created, GatewayError::Rejected { status: 422, .. }),
            "{provider}: {created:?}"
        );
        assert!(!created.to_string().contains("wrong-secret"), "{created}");
        if provider == Provider::Sslcommerz {
            let confirmed = h.client.confirm(&cfg, &id).await.unwrap_err();
            assert!(
                matches!(confirmed, GatewayError::Rejected { status: 422, .. }),
                "{confirmed:?}"
            );
            assert!(!confirmed.to_string().contains("wrong-secret"));
        }
    }
    let mut cfg = h.cfg(Provider::Bkash);
    cfg.webhook_secret = "wrong-password".to_owned();
    let created = h
        .client
        .create(&cfg, &h.checkout(Provider::Bkash, "lm902"))
        .await;
    assert!(matches!(
        created,
        Err(GatewayError::Rejected { status: 422, .. })
    ));
    assert_eq!(h.sim.payments().len(), 1);
}

#[tokio::test]
async fn bkash_tokens_are_granted_once_and_again_after_expiry() {
    let h = Harness::start(Scenario::default()).await;
    let id = h.create_and_pay(Provider::Bkash, "lm1000").await;
    h.confirm(Provider::Bkash, &id).await;
    h.create(Provider::Bkash, "lm1001").await;
    assert_eq!(h.sim.token_grants(), 1);
    // A token the provider no longer honours is forgotten and granted anew, once.
    h.sim.expire_tokens();
    let again = h.confirm(Provider::Bkash, &id).await;
    assert_eq!(again.status, PaymentStatus::Succeeded);
    assert_eq!(h.sim.token_grants(), 2);
    // Another account gets its own token.
    let mut other = h.cfg(Provider::Bkash);
    other.key_id = "app_key_2".to_owned();
    h.client
        .create(&other, &h.checkout(Provider::Bkash, "lm1002"))
        .await
        .unwrap();
    assert_eq!(h.sim.token_grants(), 3);
}

#[tokio::test]
async fn checkouts_these_providers_cannot_take_are_refused_before_sending() {
    let h = Harness::start(Scenario::default()).await;
    for provider in BANGLADESH {
        for (amount, currency, merchant_ref) in [
            (0, "BDT", "lm1100"),
            (-5, "BDT", "lm1100"),
            (100, "JPY", "lm1100"),
            (100, "B$T", "lm1100"),
            (100, "BDT", "lm 1100"),
        ] {
            let mut checkout = h.checkout(provider, merchant_ref);
            checkout.amount = amount;
            checkout.currency = currency.to_owned();
            let result = h.client.create(&h.cfg(provider), &checkout).await;
            assert!(
                matches!(result, Err(GatewayError::Malformed(_))),
                "{provider} {amount} {currency}: {result:?}"
            );
        }
    }
    let mut usd = h.checkout(Provider::Bkash, "lm1101");
    usd.currency = "USD".to_owned();
    assert!(
        h.client
            .create(&h.cfg(Provider::Bkash), &usd)
            .await
            .is_err()
    );
    let long = h.checkout(Provider::Sslcommerz, &"l".repeat(31));
    assert!(
        h.client
            .create(&h.cfg(Provider::Sslcommerz), &long)
            .await
            .is_err()
    );
    assert!(h.sim.payments().is_empty());
}

#[tokio::test]
async fn sslcommerz_creates_are_keyed_by_tran_id() {
    let h = Harness::start(Scenario::default()).await;
    let cfg = h.cfg(Provider::Sslcommerz);
    let first = h
        .client
        .create(&cfg, &h.checkout(Provider::Sslcommerz, "lm1200"))
        .await
        .unwrap();
    let again = h
        .client
        .create(&cfg, &h.checkout(Provider::Sslcommerz, "lm1200"))
        .await
        .unwrap();
    assert_eq!(first, again);
    let mut changed = h.checkout(Provider::Sslcommerz, "lm1200");
    changed.amount = 1;
    let conflict = h.client.create(&cfg, &changed).await;
    assert!(
        matches!(conflict, Err(GatewayError::Rejected { status: 422, .. })),
        "{conflict:?}"
    );
    // bKash opens a new payment each time.
    let a = h.create(Provider::Bkash, "lm1201").await;
    let b = h.create(Provider::Bkash, "lm1201").await;
    assert_ne!(a, b);
}

#[tokio::test]
async fn unknown_payments_are_refused_or_pending() {
    let h = Harness::start(Scenario::default()).await;
    let bkash = h
        .client
        .confirm(&h.cfg(Provider::Bkash), "TR0011none")
        .await;
    assert!(
        matches!(bkash, Err(GatewayError::Rejected { status: 422, .. })),
        "{bkash:?}"
    );
    // SSLCommerz knows no transaction under that tran_id yet.
    let ssl = h.confirm(Provider::Sslcommerz, "lm_none").await;
    assert_eq!((ssl.status, ssl.amount), (PaymentStatus::Pending, 0));
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
async fn the_bkash_page_sends_the_browser_to_the_callback() {
    let mut h = Harness::start(Scenario::default()).await;
    let browser = browser();
    let id = h.create(Provider::Bkash, "lm1300").await;
    let created_url = h.held(&id).redirect_url;
    let html = browser
        .get(&created_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("500.00 BDT"), "{html}");
    assert!(html.contains(r#"id="pay""#));
    assert!(html.contains("status=cancel"), "{html}");

    let paid = browser.post(&created_url).send().await.unwrap();
    assert_eq!(paid.status(), 303);
    let location = paid.headers()["location"].to_str().unwrap().to_owned();
    let (target, query) = location.split_once('?').unwrap();
    assert_eq!(target, format!("{}/callback", h.receiver));
    // The browser makes the callback; the simulator sends nothing itself.
    assert!(h.hooks_until_quiet().await.is_empty());
    let notice = webhook::callback(&h.cfg(Provider::Bkash), query).unwrap();
    assert_eq!(
        (notice.provider_payment_id.as_str(), notice.kind.as_str()),
        (id.as_str(), "success")
    );
    let followed = browser.get(&location).send().await.unwrap();
    assert_eq!(followed.status(), 303);
    assert!(matches!(h.next_hook(WAIT).await, Some(Hook::Callback(_))));

    let confirmed = h.confirm(Provider::Bkash, &id).await;
    assert_eq!(confirmed.status, PaymentStatus::Succeeded);
    let html = browser
        .get(&created_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains(r#"id="pay""#), "{html}");
}

#[tokio::test]
async fn the_sslcommerz_page_posts_the_ipn_and_returns_the_browser() {
    let mut h = Harness::start(Scenario::default()).await;
    let browser = browser();
    let created = h
        .client
        .create(
            &h.cfg(Provider::Sslcommerz),
            &h.checkout(Provider::Sslcommerz, "lm1400"),
        )
        .await
        .unwrap();
    let html = browser
        .get(&created.redirect_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("500.00 BDT") && html.contains("Fibre 20 Mbps"),
        "{html}"
    );
    let paid = browser.post(&created.redirect_url).send().await.unwrap();
    assert_eq!(paid.status(), 303);
    assert_eq!(paid.headers()["location"], "http://127.0.0.1:1/paid");
    let hook = h.next_hook(WAIT).await.unwrap();
    let notice = h.read(&hook).unwrap();
    assert_eq!(notice.provider_payment_id, "lm1400");
    let confirmed = h.confirm(Provider::Sslcommerz, "lm1400").await;
    assert_eq!(confirmed.status, PaymentStatus::Succeeded);
}

#[tokio::test]
async fn declined_pages_send_the_browser_to_failure() {
    let h = Harness::start(Scenario {
        declined: true,
        ..Scenario::default()
    })
    .await;
    let browser = browser();
    let id = h.create(Provider::Bkash, "lm1500").await;
    let paid = browser
        .post(&h.held(&id).redirect_url)
        .send()
        .await
        .unwrap();
    let location = paid.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.ends_with(&format!("paymentID={id}&status=failure")),
        "{location}"
    );
    let created = h
        .client
        .create(
            &h.cfg(Provider::Sslcommerz),
            &h.checkout(Provider::Sslcommerz, "lm1501"),
        )
        .await
        .unwrap();
    let paid = browser.post(&created.redirect_url).send().await.unwrap();
    assert_eq!(paid.headers()["location"], "http://127.0.0.1:1/cancelled");
}
