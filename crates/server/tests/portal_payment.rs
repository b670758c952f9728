//! Paying online at the captive portal, on both engines, with nothing of lastmile's
//! mocked: a phone whose account has expired proves its mobile through the simulated
//! hotspot, is offered a recharge card or an online payment, goes to the simulated
//! provider's hosted page (`gateways::sim`, over TCP), pays, comes back to the portal,
//! which waits for the provider's notice to be settled, and signs in; the router opens the
//! session only after lastmile's RADIUS server accepts it. Another visit cannot read the
//! payment; provisioning lets the provider's pages through the hotspot's walled garden.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;
mod support_hotspot;

use gateways::Provider;
use gateways::sim::{Scenario, SimConfig, SimGateway};
use reqwest::StatusCode;
use serde_json::json;
use support::{Backend, until};
use support_hotspot::{field, location, phone, site};

const KEY: &str = "sk_test_portal_sim";
const WEBHOOK_SECRET: &str = "whsec_portal_sim";

async fn an_expired_account_pays_online_at_the_portal_and_signs_in(backend: Backend) {
    let s = site(backend).await;
    let sim = SimGateway::start(SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        secret_key: KEY.to_owned(),
        webhook_secret: WEBHOOK_SECRET.to_owned(),
        scenario: Scenario::default(),
    })
    .await
    .unwrap();
    // An account on the day package whose time ran out.
    let (status, customer) = s
        .app
        .post(
            "/api/v1/customers",
            &s.dev,
            json!({"tenant_id": s.tenant, "package_id": s.day_package, "connection_type": "hotspot",
                   "name": "Karim", "mobile": "01712345678", "expires_at": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    let customer = customer["id"].as_i64().unwrap();

    // Without a merchant account, the recharge screen offers only a card.
    let phone = phone();
    let mac = "02:11:22:33:55:01";
    let page = s.arrive(&phone, mac).await;
    let proved = s.prove(&phone, &page, "01712345678").await;
    assert_eq!(proved.status(), StatusCode::SEE_OTHER);
    let recharge = s.page(&phone).await;
    assert!(recharge.contains("data-screen=\"recharge\""), "{recharge}");
    assert!(!recharge.contains("id=\"pay-online\""), "{recharge}");
    let refused = s
        .post(
            &phone,
            &recharge,
            "/pay",
            &[("account", &customer.to_string())],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("does not take online payments")
    );

    // With one, it offers to pay online: the phone goes to the provider's page.
    let (status, account) = s
        .app
        .post(
            "/api/v1/gateway-accounts",
            &s.dev,
            json!({"tenant_id": s.tenant, "provider": "stripe", "name": "Cards",
                   "base_url": sim.base_url(Provider::Stripe), "secret_key": KEY,
                   "webhook_secret": WEBHOOK_SECRET}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    let recharge = s.page(&phone).await;
    assert!(recharge.contains("id=\"pay-online\""), "{recharge}");
    let paying = s
        .post(
            &phone,
            &recharge,
            "/pay",
            &[("account", &customer.to_string())],
        )
        .await;
    assert_eq!(paying.status(), StatusCode::SEE_OTHER);
    let checkout = location(&paying);
    assert!(checkout.starts_with("http://127.0.0.1:"), "{checkout}");
    assert_eq!(
        s.app.count("payment").await,
        0,
        "nothing paid on a redirect"
    );
    let hosted = phone.get(&checkout).send().await.unwrap();
    assert!(hosted.text().await.unwrap().contains("id=\"pay\""));
    let paid = phone.post(&checkout).send().await.unwrap();
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    let back = location(&paid);
    assert!(back.starts_with(&s.portal("/paid/")), "{back}");

    // Another phone's visit does not see this payment: before it proves a mobile, nor
    // after it proves another one.
    let stranger = support_hotspot::phone();
    let first = s.arrive(&stranger, "02:11:22:33:55:09").await;
    let seen = stranger.get(&back).send().await.unwrap();
    assert_eq!(seen.status(), StatusCode::UNAUTHORIZED);
    let proved = s.prove(&stranger, &first, "01812345678").await;
    assert_eq!(proved.status(), StatusCode::SEE_OTHER);
    let seen = stranger.get(&back).send().await.unwrap();
    assert_eq!(seen.status(), StatusCode::NOT_FOUND);

    // Back at the portal: it waits for the provider's notice, then the account has its
    // time and the phone signs in.
    let settled = until(
        "the portal sees the payment settled",
        async || {
            let answer = phone.get(&back).send().await.unwrap();
            (answer.status(), answer.text().await.unwrap())
        },
        |(status, body)| {
            assert!(
                *status == StatusCode::SEE_OTHER || body.contains("id=\"paying\""),
                "{status}: {body}"
            );
            *status == StatusCode::SEE_OTHER
        },
    )
    .await;
    assert_eq!(settled.0, StatusCode::SEE_OTHER);
    assert_eq!(s.app.count("payment").await, 1);
    let signin = s.page(&phone).await;
    assert!(signin.contains("data-screen=\"signin\""), "{signin}");
    let handoff = s
        .post(
            &phone,
            &signin,
            "/connect",
            &[("account", &field(&signin, "account"))],
        )
        .await;
    s.online(&phone, handoff, mac).await;
    let (_, after) = s
        .app
        .get(&format!("/api/v1/customers/{customer}"), &s.dev)
        .await;
    let expires = after["expires_at"].as_str().unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(expires).unwrap();
    assert!(expires > s.app.clock().now(), "{after}");

    // Provisioning lets the provider's pages through the walled garden.
    let (_, routers) = s.app.get("/api/v1/routers", &s.dev).await;
    let router = routers["items"][0]["id"].as_i64().unwrap();
    let (status, queued) = s
        .app
        .post(
            &format!("/api/v1/routers/{router}/provision"),
            &s.dev,
            json!({"dry_run": false, "radius_address": "127.0.0.1",
                   "portal_address": "127.0.0.1", "portal_url": s.app.base}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let job = format!("/api/v1/jobs/{}", queued["id"]);
    until(
        "the provisioning is done",
        async || s.app.get(&job, &s.dev).await.1,
        |job| job["status"] == "done",
    )
    .await;
    let hosts: Vec<String> = s
        .router
        .rows("/ip/hotspot/walled-garden")
        .unwrap()
        .iter()
        .filter_map(|r| r.text("dst-host"))
        .collect();
    assert_eq!(
        hosts,
        ["127.0.0.1", "*.stripe.com", "*.stripe.network"],
        "{hosts:?}"
    );
    support::money::verify_clean(&s.app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_expired_account_pays_online_at_the_portal_and_signs_in() {
    an_expired_account_pays_online_at_the_portal_and_signs_in(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_expired_account_pays_online_at_the_portal_and_signs_in() {
    an_expired_account_pays_online_at_the_portal_and_signs_in(Backend::Postgres).await;
}
