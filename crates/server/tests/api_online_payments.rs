//! Online payments through the simulated provider (`gateways::sim`, over real TCP), on both
//! engines: a merchant account added with its secrets kept out of every answer; a postpaid
//! customer's invoice paid online, credited once however many times the provider repeats
//! its notice, with the margins along the chain; a prepaid customer's package bought online;
//! a notice that never comes found by reconciliation; forged, badly signed, stale and
//! tampered notices crediting nothing wrong; a declined payment closed; a confirmed amount
//! that differs from the intent refused; bad requests refused with nothing written; an
//! address that keeps sending forged notices cut off. The ledger is clean at the end of
//! each.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use gateways::Provider;
use gateways::sim::{Scenario, SimConfig, SimGateway};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::money::{Chain, TAKA, balance, chain, customer, postpaid, topup, verify_clean};
use support::{Backend, TestApp, spawn, spawn_with};

const KEY: &str = "sk_test_lastmile_sim";
const WEBHOOK_SECRET: &str = "whsec_lastmile_sim";

async fn sim(scenario: Scenario) -> SimGateway {
    SimGateway::start(SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        secret_key: KEY.to_owned(),
        webhook_secret: WEBHOOK_SECRET.to_owned(),
        scenario,
    })
    .await
    .unwrap()
}

/// The tenant's merchant account at `sim` for `provider`.
async fn account(app: &TestApp, c: &Chain, sim: &SimGateway, provider: Provider) -> i64 {
    let (status, a) = app
        .post(
            "/api/v1/gateway-accounts",
            &c.admin,
            json!({"provider": provider.as_str(), "name": provider.as_str(),
                   "base_url": sim.base_url(provider), "secret_key": KEY,
                   "webhook_secret": WEBHOOK_SECRET}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert!(!a.to_string().contains(KEY) && !a.to_string().contains(WEBHOOK_SECRET));
    a["id"].as_i64().unwrap()
}

/// Next month's invoices for the tenant's postpaid customers, by the run of the day 40 days
/// on (41 for a second run in the same period).
async fn invoice_run_on(app: &TestApp, tenant: i64, days: i64) {
    let at = app.clock().now() + chrono::TimeDelta::days(days);
    let ctx = ops::Ctx::new(&app.state.db, &app.state.hasher, at);
    ops::billing_run::run(&ctx, Some(domain::ids::TenantId(tenant)), false)
        .await
        .unwrap();
}

async fn invoice_run(app: &TestApp, tenant: i64) {
    invoice_run_on(app, tenant, 40).await;
}

async fn start(app: &TestApp, token: &str, customer: i64, account: i64) -> (StatusCode, Value) {
    app.post(
        "/api/v1/payments/online",
        token,
        json!({"customer_id": customer, "gateway_account_id": account}),
    )
    .await
}

/// The simulator's id of the payment with our reference `merchant_ref`.
fn provider_id(sim: &SimGateway, merchant_ref: &str) -> String {
    sim.payments()
        .into_iter()
        .find(|p| p.merchant_ref == merchant_ref)
        .map(|p| p.id)
        .unwrap()
}

/// The intent once it is no longer pending (or after 15 s, as it is).
async fn settled(app: &TestApp, token: &str, id: i64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (status, intent) = app
            .get(&format!("/api/v1/payments/online/{id}"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{intent}");
        if intent["status"] != "pending" || tokio::time::Instant::now() > deadline {
            return intent;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn payments_of(app: &TestApp, token: &str, customer: i64) -> Vec<Value> {
    let (status, list) = app
        .get(&format!("/api/v1/payments?customer_id={customer}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}

async fn an_invoice_is_paid_online_once_however_often_the_provider_tells(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let sim = sim(Scenario {
        duplicates: 2,
        reorder: true,
        ..Scenario::default()
    })
    .await;
    let stripe = account(&app, &c, &sim, Provider::Stripe).await;
    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    invoice_run(&app, c.tenant).await;

    let (status, intent) = start(&app, &c.sub, bob, stripe).await;
    assert_eq!(status, StatusCode::CREATED, "{intent}");
    assert_eq!(
        (
            intent["amount"].as_i64(),
            intent["purpose"].as_str(),
            intent["status"].as_str()
        ),
        (Some(500 * TAKA), Some("invoices"), Some("pending"))
    );
    assert!(
        intent["checkout_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    let id = intent["id"].as_i64().unwrap();
    // Nothing is credited before the provider says so.
    assert_eq!(app.count("payment").await, 0);

    sim.pay(&provider_id(&sim, intent["merchant_ref"].as_str().unwrap()))
        .await
        .unwrap();
    let done = settled(&app, &c.sub, id).await;
    assert_eq!(
        (done["status"].as_str(), done["outcome"].as_str()),
        (Some("succeeded"), Some("paid")),
        "{done}"
    );
    // Let the repeated and stale notices arrive and be settled too.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.count("payment").await, 1);
    let paid = payments_of(&app, &c.sub, bob).await;
    assert_eq!(paid[0]["method"], "online");
    assert_eq!(paid[0]["amount"].as_i64(), Some(500 * TAKA));
    let (_, bills) = app
        .get(
            &format!("/api/v1/invoices?series=invoice&customer_id={bob}"),
            &c.sub,
        )
        .await;
    assert_eq!(bills["items"][0]["status"], "paid", "{bills}");
    // The tenant holds the money at the provider; the chain got its margins.
    assert_eq!(
        balance(&app, &c.sub, c.sub_id).await["balance"].as_i64(),
        Some(50 * TAKA)
    );
    assert_eq!(
        balance(&app, &c.op, c.op_id).await["balance"].as_i64(),
        Some(50 * TAKA)
    );
    // Every delivery of the one notice was kept once.
    let events: i64 = app.count("gateway_event").await;
    assert!((1..=2).contains(&events), "{events} events kept");
    verify_clean(&app).await;
    sim.shutdown().await;
}

async fn a_prepaid_package_is_bought_online(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let sim = sim(Scenario::default()).await;
    let generic = account(&app, &c, &sim, Provider::Generic).await;
    let alice = customer(&app, &c.sub, c.sub_pkg, "alice").await;
    let (status, intent) = start(&app, &c.sub, alice, generic).await;
    assert_eq!(status, StatusCode::CREATED, "{intent}");
    assert_eq!(intent["purpose"], "recharge");
    assert_eq!(intent["amount"].as_i64(), Some(500 * TAKA));
    sim.pay(&provider_id(&sim, intent["merchant_ref"].as_str().unwrap()))
        .await
        .unwrap();
    let done = settled(&app, &c.sub, intent["id"].as_i64().unwrap()).await;
    assert_eq!(done["outcome"], "recharged", "{done}");
    let (_, a) = app.get(&format!("/api/v1/customers/{alice}"), &c.sub).await;
    let expires: chrono::DateTime<chrono::Utc> = a["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        expires > app.clock().now() + chrono::TimeDelta::days(29),
        "{a}"
    );
    assert_eq!(payments_of(&app, &c.sub, alice).await.len(), 1);
    verify_clean(&app).await;
    sim.shutdown().await;
}

async fn a_lost_notice_is_found_by_reconciliation(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let sim = sim(Scenario {
        drop_webhooks: true,
        ..Scenario::default()
    })
    .await;
    let generic = account(&app, &c, &sim, Provider::Generic).await;
    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    invoice_run(&app, c.tenant).await;
    let (_, intent) = start(&app, &c.sub, bob, generic).await;
    let id = intent["id"].as_i64().unwrap();
    sim.pay(&provider_id(&sim, intent["merchant_ref"].as_str().unwrap()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.count("gateway_event").await, 0);
    let (_, pending) = app
        .get(&format!("/api/v1/payments/online/{id}"), &c.sub)
        .await;
    assert_eq!(pending["status"], "pending");
    // Three minutes on, the scheduler's reconciliation asks the provider.
    app.clock().shift(180);
    let sub = app.login("sub@m.example", support::PASSWORD).await;
    lastmile::jobs::tick(&app.state, false).await;
    let done = settled(&app, &sub, id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(app.count("payment").await, 1);
    verify_clean(&app).await;
    sim.shutdown().await;
}

async fn forged_stale_and_tampered_notices_credit_nothing_wrong(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    topup(&app, &c.admin, c.op_id, 1_000 * TAKA).await;
    let sim = sim(Scenario::default()).await;
    let stripe = account(&app, &c, &sim, Provider::Stripe).await;
    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    invoice_run(&app, c.tenant).await;

    // A notice nobody signed, and one for a merchant account that does not exist.
    let forged = json!({"id": "evt_forged", "type": "checkout.session.completed",
                        "data": {"object": {"id": "cs_forged", "amount_total": 1}}});
    for path in [
        format!("/hooks/payments/{stripe}"),
        "/hooks/payments/999999".to_owned(),
    ] {
        let (status, _, _) = app
            .call_full(
                Method::POST,
                &path,
                None,
                Some(forged.clone()),
                &[("Stripe-Signature", "t=1,v1=00")],
            )
            .await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
            "{path}: {status}"
        );
    }
    assert_eq!(app.count("gateway_event").await, 0);

    // Notices signed with another secret or an old timestamp are refused; the payment is
    // still credited once reconciliation asks the provider.
    for bad in [
        Scenario {
            wrong_secret: true,
            ..Scenario::default()
        },
        Scenario {
            stale_signature: true,
            ..Scenario::default()
        },
    ] {
        sim.set_scenario(bad);
        let (status, intent) = start(&app, &c.sub, bob, stripe).await;
        assert_eq!(status, StatusCode::CREATED, "{intent}");
        sim.pay(&provider_id(&sim, intent["merchant_ref"].as_str().unwrap()))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(app.count("gateway_event").await, 0);
        let (_, still) = app
            .get(&format!("/api/v1/payments/online/{}", intent["id"]), &c.sub)
            .await;
        assert_eq!(still["status"], "pending", "{still}");
        // Closed as the customer walked away; it never reached the ledger.
        let ctx = app.state.ctx();
        let closed = ops::gateway::settle(
            &ctx,
            intent["id"].as_i64().unwrap(),
            &ops::gateway::Confirmed {
                status: ops::gateway::ConfirmedStatus::Failed,
                amount: 0,
                currency: "BDT".into(),
                merchant_ref: String::new(),
                txn_id: String::new(),
            },
        )
        .await
        .unwrap();
        assert_eq!(closed, ops::gateway::Settled::Closed);
    }
    assert_eq!(app.count("payment").await, 0);

    // A notice claiming another amount: the provider's API says what was paid.
    sim.set_scenario(Scenario {
        tamper_amount: true,
        ..Scenario::default()
    });
    let (_, intent) = start(&app, &c.sub, bob, stripe).await;
    sim.pay(&provider_id(&sim, intent["merchant_ref"].as_str().unwrap()))
        .await
        .unwrap();
    let done = settled(&app, &c.sub, intent["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let paid = payments_of(&app, &c.sub, bob).await;
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0]["amount"].as_i64(), Some(500 * TAKA));

    // A declined payment is closed; nothing is credited.
    let carol = postpaid(&app, &c.sub, c.sub_pkg, "carol").await;
    invoice_run_on(&app, c.tenant, 41).await;
    sim.set_scenario(Scenario {
        declined: true,
        ..Scenario::default()
    });
    let (_, intent) = start(&app, &c.sub, carol, stripe).await;
    sim.pay(&provider_id(&sim, intent["merchant_ref"].as_str().unwrap()))
        .await
        .ok();
    let done = settled(&app, &c.sub, intent["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(payments_of(&app, &c.sub, carol).await.is_empty());

    // A provider confirming another amount than was asked is not credited.
    sim.set_scenario(Scenario::default());
    let (_, intent) = start(&app, &c.sub, carol, stripe).await;
    let ctx = app.state.ctx();
    let refused = ops::gateway::settle(
        &ctx,
        intent["id"].as_i64().unwrap(),
        &ops::gateway::Confirmed {
            status: ops::gateway::ConfirmedStatus::Succeeded,
            amount: 1,
            currency: "BDT".into(),
            merchant_ref: intent["merchant_ref"].as_str().unwrap().to_owned(),
            txn_id: "txn_small".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(refused, ops::gateway::Settled::Mismatch);
    let (_, closed) = app
        .get(&format!("/api/v1/payments/online/{}", intent["id"]), &c.sub)
        .await;
    assert_eq!(
        (closed["status"].as_str(), closed["outcome"].as_str()),
        (Some("failed"), Some("amount_mismatch"))
    );
    assert!(payments_of(&app, &c.sub, carol).await.is_empty());
    verify_clean(&app).await;
    sim.shutdown().await;
}

async fn bad_requests_are_refused_and_write_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let sim = sim(Scenario::default()).await;
    let stripe = account(&app, &c, &sim, Provider::Stripe).await;
    for body in [
        json!({"provider": "paypal", "name": "x", "base_url": "https://api.example", "secret_key": KEY, "webhook_secret": WEBHOOK_SECRET}),
        json!({"provider": "stripe", "name": "x", "base_url": "http://evil.example", "secret_key": KEY, "webhook_secret": WEBHOOK_SECRET}),
        json!({"provider": "stripe", "name": "x", "base_url": "https://api.stripe.com", "secret_key": "short", "webhook_secret": WEBHOOK_SECRET}),
        json!({"provider": "stripe", "name": "stripe", "base_url": "https://api.stripe.com", "secret_key": KEY, "webhook_secret": WEBHOOK_SECRET}),
    ] {
        let (status, refused) = app
            .post("/api/v1/gateway-accounts", &c.admin, body.clone())
            .await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::CONFLICT,
            "{body} → {status} {refused}"
        );
    }
    // Resellers add no merchant accounts and read none.
    let (status, _) = app
        .post("/api/v1/gateway-accounts", &c.op, json!({"provider": "stripe", "name": "mine", "base_url": "https://api.stripe.com", "secret_key": KEY, "webhook_secret": WEBHOOK_SECRET}))
        .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{status}"
    );
    let (status, list) = app.get("/api/v1/gateway-accounts", &c.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(KEY), "{list}");

    // Nothing owed, no such customer, another tenant's account.
    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    let (status, refused) = start(&app, &c.sub, bob, stripe).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.to_string().contains("nothing_due"), "{refused}");
    let (status, _) = start(&app, &c.sub, 999_999, stripe).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = start(&app, &c.sub, bob, 999_999).await;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::UNPROCESSABLE_ENTITY,
        "{status}"
    );
    assert_eq!(app.count("payment_intent").await, 0);
    // The provider unreachable: the intent is closed, the caller told.
    invoice_run(&app, c.tenant).await;
    sim.shutdown().await;
    let (status, refused) = start(&app, &c.sub, bob, stripe).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{refused}");
    assert_eq!(app.count("payment").await, 0);
    verify_clean(&app).await;
}

async fn bkash_and_sslcommerz_pay_through_their_own_protocols(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let sim = sim(Scenario {
        duplicates: 1,
        ..Scenario::default()
    })
    .await;
    // Each names the merchant its own way: bKash by app key and user name, SSLCommerz by
    // store id; without them the account is refused.
    for (body, field) in [
        (
            json!({"provider": "bkash", "key_id": "app-key"}),
            "username",
        ),
        (json!({"provider": "sslcommerz"}), "key_id"),
        (json!({"provider": "stripe", "key_id": "x"}), "key_id"),
    ] {
        let mut body = body;
        for (k, v) in [
            ("name", json!("refused")),
            ("base_url", json!(sim.base_url(Provider::Bkash))),
            ("secret_key", json!(KEY)),
            ("webhook_secret", json!(WEBHOOK_SECRET)),
        ] {
            body[k] = v;
        }
        let (status, refused) = app.post("/api/v1/gateway-accounts", &c.admin, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["error"]["fields"][0]["field"], field, "{refused}");
    }
    let mut accounts = Vec::new();
    for (provider, username) in [(Provider::Bkash, "merchant"), (Provider::Sslcommerz, "")] {
        let (status, a) = app
            .post(
                "/api/v1/gateway-accounts",
                &c.admin,
                json!({"provider": provider.as_str(), "name": provider.as_str(),
                       "base_url": sim.base_url(provider), "secret_key": KEY,
                       "webhook_secret": WEBHOOK_SECRET, "key_id": "merchant-1",
                       "username": if username.is_empty() { None } else { Some(username) }}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{a}");
        assert!(!a.to_string().contains(KEY) && !a.to_string().contains(WEBHOOK_SECRET));
        accounts.push((provider, a["id"].as_i64().unwrap()));
    }
    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    let carol = postpaid(&app, &c.sub, c.sub_pkg, "carol").await;
    invoice_run(&app, c.tenant).await;

    // A made-up bKash callback names no payment of ours: refused, nothing kept.
    let bkash = accounts[0].1;
    let forged = support::http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}/hooks/payments/{bkash}?paymentID=TR0011forged&status=success",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("gateway_event").await, 0);

    for ((provider, account), who) in accounts.iter().zip([bob, carol]) {
        let (status, intent) = start(&app, &c.sub, who, *account).await;
        assert_eq!(status, StatusCode::CREATED, "{provider}: {intent}");
        assert!(
            intent["checkout_url"]
                .as_str()
                .unwrap()
                .starts_with(&sim.base_url(*provider)),
            "{intent}"
        );
        let id = intent["id"].as_i64().unwrap();
        // Nothing is credited before the customer pays and the provider confirms.
        assert_eq!(settled_soon(&app, &c.sub, id).await["status"], "pending");
        sim.pay(&provider_id(&sim, intent["merchant_ref"].as_str().unwrap()))
            .await
            .unwrap();
        let done = settled(&app, &c.sub, id).await;
        assert_eq!(
            (done["status"].as_str(), done["outcome"].as_str()),
            (Some("succeeded"), Some("paid")),
            "{provider}: {done}"
        );
        let paid = payments_of(&app, &c.sub, who).await;
        assert_eq!(paid.len(), 1, "{provider}: {paid:?}");
        assert_eq!(paid[0]["amount"].as_i64(), Some(500 * TAKA));
    }
    // The repeated notices change nothing.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.count("payment").await, 2);
    verify_clean(&app).await;
    sim.shutdown().await;
}

/// A forged notice to `path` as if from `from` (through the trusted local proxy).
async fn forged_from(app: &TestApp, path: &str, from: &str) -> reqwest::Response {
    app.http
        .post(format!("{}{path}", app.base))
        .header("X-Forwarded-For", from)
        .header("Stripe-Signature", "t=1,v1=00")
        .body(r#"{"id":"evt_forged","type":"checkout.session.completed"}"#)
        .send()
        .await
        .unwrap()
}

async fn an_address_that_keeps_forging_notices_is_cut_off(backend: Backend) {
    let app = spawn_with(backend, |config| {
        config.security.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        config.security.hook_refusals_per_minute = 5;
    })
    .await;
    let c = chain(&app).await;
    let sim = sim(Scenario::default()).await;
    let stripe = account(&app, &c, &sim, Provider::Stripe).await;
    let hook = format!("/hooks/payments/{stripe}");
    for i in 0..5 {
        let path = if i % 2 == 0 {
            &hook
        } else {
            "/hooks/payments/999999"
        };
        let refused = forged_from(&app, path, "203.0.113.7").await;
        assert!(
            matches!(
                refused.status(),
                StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND
            ),
            "try {i}: {}",
            refused.status()
        );
    }
    // The sixth in the minute is not read, on any of the public payment paths.
    let cut = forged_from(&app, &hook, "203.0.113.7").await;
    assert_eq!(cut.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = cut.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let page = app
        .http
        .get(format!("{}/pay/return/nosuchref", app.base))
        .header("X-Forwarded-For", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address is still heard.
    let elsewhere = forged_from(&app, &hook, "198.51.100.2").await;
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count("gateway_event").await, 0);
    verify_clean(&app).await;
    sim.shutdown().await;
}

/// The intent after a short while (it should still be pending).
async fn settled_soon(app: &TestApp, token: &str, id: i64) -> Value {
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.get(&format!("/api/v1/payments/online/{id}"), token)
        .await
        .1
}

both_backends!(
    an_invoice_is_paid_online_once_however_often_the_provider_tells,
    a_prepaid_package_is_bought_online,
    a_lost_notice_is_found_by_reconciliation,
    forged_stale_and_tampered_notices_credit_nothing_wrong,
    bad_requests_are_refused_and_write_nothing,
    bkash_and_sslcommerz_pay_through_their_own_protocols,
    an_address_that_keeps_forging_notices_is_cut_off,
);
