//! The customer's own site in a real headless Chromium the size of a phone (Debian's
//! `chromium` and `chromium-driver`), with nothing of lastmile mocked: the code goes out
//! through the SMS outbox to the simulated gateway and is read there, the usage comes from
//! accounting the built-in RADIUS server took (`radclient` as the router), and the payment
//! is made on the simulated provider's page, whose notice settles it.
//!
//! One subscriber, in turn: signs in with a code sent to its mobile; sees its package, its
//! usage and its traffic graph (an image the browser drew); recharges with a card; pays
//! online through the provider and comes back to a settled payment; the two recharges are
//! its receipts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_browser;
mod support_builtin;
mod support_freeradius;
mod support_hotspot;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use support::Backend;
use support_browser::{
    Chromedriver, click, phone_browser, text_of, type_into, wait_for, wait_for_path, wait_for_text,
};
use support_builtin::{acct_port, acked};
use support_freeradius::api;
use support_freeradius::nas::Nas;
use support_hotspot::site;

const MOBILE: &str = "01755555555";
const E164: &str = "+8801755555555";

/// An Accounting-Request of session `id` of rana at `at` with these counters.
fn record(status: &str, at: i64, input: u64, output: u64) -> Vec<(String, String)> {
    let mut attrs = vec![
        ("User-Name", "rana".to_owned()),
        ("Acct-Status-Type", status.to_owned()),
        ("Acct-Session-Id", "rana-1".to_owned()),
        ("NAS-Port", "3".to_owned()),
        ("NAS-Port-Type", "Wireless-802.11".to_owned()),
        ("Framed-IP-Address", "10.10.0.33".to_owned()),
        ("Event-Timestamp", at.to_string()),
    ];
    if status != "Start" {
        attrs.push(("Acct-Input-Octets", input.to_string()));
        attrs.push(("Acct-Output-Octets", output.to_string()));
    }
    attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

async fn a_subscriber_uses_its_own_site_in_headless_chromium(backend: Backend) {
    let site = site(backend).await;
    let app = &site.app;
    let (_, tenant) = app
        .get(&format!("/api/v1/tenants/{}", site.tenant), &site.dev)
        .await;
    let isp = tenant["realm"].as_str().unwrap().to_owned();
    let expires = app.state.clock.now() + chrono::TimeDelta::hours(12);
    let rana = api::customer(
        app,
        &site.dev,
        site.tenant,
        site.day_package,
        "rana",
        json!({"connection_type": "hotspot", "mobile": MOBILE, "billing_type": "prepaid",
               "expires_at": expires}),
    )
    .await;

    // Traffic ten minutes ago: 45 MB down and 9 MB up in five minutes, still online.
    let secret = site.secret.clone();
    let t = app.state.clock.now().timestamp().div_euclid(300) * 300 - 600;
    for attrs in [
        record("Start", t, 0, 0),
        record("Interim-Update", t + 300, 9_000_000, 45_000_000),
    ] {
        let borrowed: Vec<(&str, &str)> = attrs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        acked(
            &Nas.acct_at(acct_port(app), &secret, &borrowed),
            "accounting",
        );
    }
    ops::traffic::roll_up(&app.state.db, Duration::from_secs(30))
        .await
        .unwrap();

    // A card of the day package, and the merchant account at the simulated provider.
    let (status, made) = app
        .post(
            "/api/v1/card-batches",
            &site.dev,
            json!({"tenant_id": site.tenant, "package_id": site.day_package, "quantity": 1,
                   "keep_pins": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let pin = made["pins"][0]["pin"].as_str().unwrap().to_owned();
    let sim = gateways::sim::SimGateway::start(gateways::sim::SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        secret_key: "sk_my_test".to_owned(),
        webhook_secret: "whsec_my_test".to_owned(),
        scenario: gateways::sim::Scenario::default(),
    })
    .await
    .unwrap();
    app.user(
        &site.dev,
        json!({"email": "admin@isp.example", "name": "Admin", "role": "admin", "tenant_id": site.tenant}),
    )
    .await;
    let admin = app.login("admin@isp.example", support::PASSWORD).await;
    let (status, account) = app
        .post(
            "/api/v1/gateway-accounts",
            &admin,
            json!({"provider": "generic", "name": "Pay Online",
                   "base_url": sim.base_url(gateways::Provider::Generic),
                   "secret_key": "sk_my_test", "webhook_secret": "whsec_my_test"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{account}");

    let scratch = tempfile::tempdir().expect("a temporary directory");
    let driver = Chromedriver::start(&scratch.path().join("chromedriver.log"));
    let browser = phone_browser(&driver, &scratch.path().join("profile")).await;

    // Sign in with a code.
    browser
        .goto(&format!("{}/my/{isp}/login", app.base))
        .await
        .unwrap();
    type_into(&browser, "#mobile", MOBILE).await;
    click(&browser, "#send-code").await;
    wait_for_path(&browser, |p| p == format!("/my/{isp}/code")).await;
    let code = site.code_for(E164, 0).await;
    type_into(&browser, "#code", &code).await;
    click(&browser, "#check-code").await;
    wait_for_path(&browser, |p| p == format!("/my/{isp}")).await;
    wait_for(&browser, "#my-facts").await;
    let facts = text_of(&browser, "#my-facts").await;
    assert!(facts.contains("Hotspot Day"), "{facts}");

    // Its usage and its graph.
    let usage = text_of(&browser, "#usage-line").await;
    assert!(usage.contains("42.9 MiB"), "{usage}");
    let live = text_of(&browser, "#my-live").await;
    assert!(
        live.contains("10.10.0.33") && live.contains("42.9 MiB"),
        "{live}"
    );
    let drawn = browser
        .execute(
            "const i = document.getElementById('my-graph'); return i.complete ? i.naturalWidth : 0;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        drawn.as_u64(),
        Some(720),
        "the graph is an image the browser drew"
    );
    click(&browser, "#graph-week").await;
    wait_for(&browser, "img[src$='period=week']").await;

    // A card.
    type_into(&browser, "#pin", &pin).await;
    click(&browser, "#use-card").await;
    wait_for(&browser, "#notice").await;
    assert!(text_of(&browser, "#notice").await.contains("Recharged"));

    // Online, on the provider's page, and back.
    click(&browser, "#pay-online").await;
    wait_for_path(&browser, |p| !p.starts_with("/my/")).await;
    click(&browser, "#pay").await;
    wait_for_path(&browser, |p| p.starts_with(&format!("/my/{isp}/paid/"))).await;
    wait_for_text(&browser, "#notice", "Paid. Your service is renewed.").await;

    // Both recharges are its receipts.
    click(&browser, "#nav-bills").await;
    wait_for(&browser, "#my-documents").await;
    let receipts = browser
        .execute(
            "return document.querySelectorAll('tr.document').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(receipts.as_u64(), Some(2));
    let _ = browser.close().await;
    drop(driver);
    sim.shutdown().await;

    let (_, after) = app
        .get(&format!("/api/v1/customers/{}", rana["id"]), &site.dev)
        .await;
    let until: chrono::DateTime<chrono::Utc> =
        after["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        until > expires + chrono::TimeDelta::hours(47),
        "a card and a payment, a day each: {after}"
    );
    let breaches = store::ledger::verify(app.state.db.conn(), None)
        .await
        .unwrap();
    assert!(breaches.is_empty(), "{breaches:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_subscriber_uses_its_own_site_in_headless_chromium() {
    a_subscriber_uses_its_own_site_in_headless_chromium(Backend::Sqlite).await;
}
