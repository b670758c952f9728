//! A recharge in a real headless Chromium (Debian's `chromium` and `chromium-driver`), driven
//! through WebDriver: an operator the Admin topped up with 1 000 taka signs in through the
//! form, opens its lapsed customer's page, prices 7 days of a 500-taka 30-day package in the
//! recharge card (117.00 BDT to collect, 93.00 BDT its cost), confirms, is told the customer
//! is recharged and follows the receipt link to the printable receipt (its `RC-` number, the
//! total, the customer, the print button). The API then shows the operator's balance lower
//! by exactly its cost (907 taka), and the books still verify.
//!
//! Then a customer pays online: the operator makes a payment link on the customer's page
//! through the tenant's merchant account at the simulated provider (`gateways::sim`, over
//! TCP), the browser follows it to the provider's page and pays, comes back to lastmile's
//! return page, which says the payment is received once the provider's notice is settled;
//! the customer's service then runs a month on, paid once.
//!
//! chromedriver runs as a child process on a free port for the length of the test and is
//! stopped, with the browser it started, even when the test fails. Without Chromium or
//! chromedriver the test fails; it never skips.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod support_browser;

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::json;
use support::{Backend, PASSWORD, TestApp, spawn};
use support_browser::{
    Chromedriver, PATIENCE, browser, choose, click, text_of, type_into, wait_for_path,
    wait_for_text,
};

const TAKA: i64 = 100;

/// What the API set up: the operator (id and token), its package and its customer.
struct Sale {
    op_id: i64,
    op: String,
    op_pkg: i64,
    customer: i64,
}

/// A tenant with an Admin and an operator; a master package at 500 taka for 30 days offered
/// to the operator at cost 400; a customer of the operator whose service lapsed (so that a
/// recharge starts now and credits nothing); the operator topped up 1 000 taka by the Admin.
async fn an_operator_with_funds_and_a_lapsed_customer(app: &TestApp) -> Sale {
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Money ISP").await;
    app.user(
        &dev,
        json!({"email": "admin@m.example", "name": "Admin", "role": "admin", "tenant_id": tenant}),
    )
    .await;
    let op_id = app
        .user(
            &dev,
            json!({"email": "op@m.example", "name": "Op", "role": "operator", "tenant_id": tenant}),
        )
        .await;
    let (status, pool) = app
        .post(
            "/api/v1/ip-pools",
            &dev,
            json!({"tenant_id": tenant, "name": "home", "ranges": "10.0.0.0/20"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pool}");
    let (status, master) = app
        .post("/api/v1/packages", &dev, json!({"tenant_id": tenant, "name": "Home", "connection_type": "pppoe",
               "download_kbps": 20000, "upload_kbps": 5000, "validity_days": 30, "price": 500 * TAKA,
               "ip_pool_id": pool["id"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{master}");
    let (status, op_pkg) = app
        .post(
            "/api/v1/packages",
            &dev,
            json!({"parent_id": master["id"], "owner_id": op_id, "name": "Op Home",
               "price": 500 * TAKA, "cost_price": 400 * TAKA}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op_pkg}");
    let op_pkg = op_pkg["id"].as_i64().unwrap();

    let admin = app.login("admin@m.example", PASSWORD).await;
    let op = app.login("op@m.example", PASSWORD).await;
    let (status, customer) = app
        .post(
            "/api/v1/customers",
            &op,
            json!({"package_id": op_pkg, "connection_type": "pppoe", "name": "Alice Rahman",
                   "username": "alice", "expires_at": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    let customer = customer["id"].as_i64().unwrap();

    let (status, done) = app
        .post(
            &format!("/api/v1/users/{op_id}/topup"),
            &admin,
            json!({"amount": 1_000 * TAKA}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["balance"]["balance"].as_i64(), Some(1_000 * TAKA));
    Sale {
        op_id,
        op,
        op_pkg,
        customer,
    }
}

/// The operator's side in the browser: sign in, price and pay 7 days, open the receipt.
async fn the_operator_recharges_and_prints_the_receipt(
    app: &TestApp,
    client: &Client,
    sale: &Sale,
) {
    // Sign in through the form.
    client.goto(&format!("{}/panel", app.base)).await.unwrap();
    wait_for_path(client, |p| p == "/login").await;
    type_into(client, "input[name=email]", "op@m.example").await;
    type_into(client, "input[name=password]", PASSWORD).await;
    click(client, "form[action='/login'] button[type=submit]").await;
    wait_for_text(client, "main h1", "Dashboard").await;

    // The customer's page: the recharge card, with what the operator may spend.
    let customer = sale.customer;
    let page = format!("/panel/customers/{customer}");
    client.goto(&format!("{}{page}", app.base)).await.unwrap();
    wait_for_text(client, "main h1", "Alice Rahman").await;
    assert_eq!(
        text_of(client, "#collector-balance").await,
        "Your balance: 1000.00 BDT; available to spend: 1000.00 BDT."
    );

    // 7 days, priced first: round_half_up(500 × 7/30) = 117 taka to collect, and
    // round_half_up(400 × 7/30) = 93 taka the operator's cost (`domain::billing::prorate`,
    // to the taka). Nothing is paid yet.
    choose(
        client,
        "#recharge-form select[name=recharge_package]",
        &sale.op_pkg.to_string(),
    )
    .await;
    type_into(client, "#recharge-form input[name=days]", "7").await;
    click(client, "#preview-recharge").await;
    wait_for_text(client, "#quote-amount", "BDT").await;
    assert_eq!(
        (
            text_of(client, "#quote-price").await,
            text_of(client, "#quote-credit").await,
            text_of(client, "#quote-amount").await,
            text_of(client, "#quote-cost").await,
        ),
        (
            "117.00 BDT".to_owned(),
            "0.00 BDT".to_owned(),
            "117.00 BDT".to_owned(),
            "93.00 BDT".to_owned(),
        )
    );
    assert_eq!(
        app.count("service_grant").await,
        0,
        "a preview pays nothing"
    );

    // Confirmed: back on the customer's page, told so, with the receipt linked.
    click(client, "#confirm-recharge").await;
    wait_for_path(client, |p| p == page).await;
    wait_for_text(
        client,
        "#recharged",
        "Recharged: the service now runs until",
    )
    .await;
    let link = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("#recharged #receipt-link"))
        .await
        .unwrap_or_else(|e| panic!("#receipt-link: {e}"));
    assert_eq!(link.text().await.unwrap(), "Print the receipt");
    // The link opens a new tab (`target=_blank`); the test follows it in this one.
    let href = link
        .attr("href")
        .await
        .unwrap()
        .expect("the receipt link has an address");
    assert!(
        href.starts_with("/invoices/") && href.ends_with("/print"),
        "{href}"
    );

    // The printable receipt: numbered in the tenant's series, for the customer, 117 taka.
    client.goto(&format!("{}{href}", app.base)).await.unwrap();
    wait_for_text(client, "#receipt-number", "RC-").await;
    let number = text_of(client, "#receipt-number").await;
    assert!(number.starts_with("RC-"), "{number}");
    assert_eq!(text_of(client, "#receipt-total").await, "117.00 BDT");
    let buyer = text_of(client, "#receipt-buyer").await;
    assert!(buyer.contains("Alice Rahman (alice)"), "{buyer}");
    let print = client
        .find(Locator::Css("button#print-receipt"))
        .await
        .unwrap_or_else(|e| panic!("the receipt has a print button: {e}"));
    assert!(print.is_displayed().await.unwrap());
}

async fn an_operator_recharges_a_customer_and_prints_the_receipt_in_headless_chromium(
    backend: Backend,
) {
    let app = spawn(backend).await;
    let sale = an_operator_with_funds_and_a_lapsed_customer(&app).await;
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let driver = Chromedriver::start(&scratch.path().join("chromedriver.log"));
    let profile = scratch.path().join("profile");
    let client = browser(&driver, &profile).await;

    the_operator_recharges_and_prints_the_receipt(&app, &client, &sale).await;
    let _ = client.close().await;
    drop(driver);

    // The operator paid exactly its cost: debited the 117 taka collected, credited its
    // margin of 117 − 93 = 24, so 1 000 − 93 = 907 taka remain.
    let (status, balance) = app
        .get(&format!("/api/v1/users/{}/balance", sale.op_id), &sale.op)
        .await;
    assert_eq!(status, StatusCode::OK, "{balance}");
    assert_eq!(
        (balance["balance"].as_i64(), balance["available"].as_i64()),
        (Some(907 * TAKA), Some(907 * TAKA)),
        "{balance}"
    );
    // Paid once: the top-up and the recharge, one grant, one receipt; the books verify.
    assert_eq!(app.count("ledger_journal").await, 2);
    assert_eq!(app.count("service_grant").await, 1);
    assert_eq!(app.count("invoice").await, 1);
    let breaches = store::ledger::verify(app.state.db.conn(), None)
        .await
        .unwrap();
    assert!(breaches.is_empty(), "{breaches:?}");
}

/// The customer's side of an online payment: the operator makes the link on the customer's
/// page, the browser pays on the provider's page and comes back.
async fn a_customer_pays_online_through_the_simulated_provider_in_headless_chromium(
    backend: Backend,
) {
    let app = spawn(backend).await;
    let sale = an_operator_with_funds_and_a_lapsed_customer(&app).await;
    let sim = gateways::sim::SimGateway::start(gateways::sim::SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        secret_key: "sk_browser_test".to_owned(),
        webhook_secret: "whsec_browser_test".to_owned(),
        scenario: gateways::sim::Scenario::default(),
    })
    .await
    .unwrap();
    let admin = app.login("admin@m.example", PASSWORD).await;
    let (status, account) = app
        .post(
            "/api/v1/gateway-accounts",
            &admin,
            json!({"provider": "generic", "name": "Pay Online",
                   "base_url": sim.base_url(gateways::Provider::Generic),
                   "secret_key": "sk_browser_test", "webhook_secret": "whsec_browser_test"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{account}");

    let scratch = tempfile::tempdir().expect("a temporary directory");
    let driver = Chromedriver::start(&scratch.path().join("chromedriver.log"));
    let client = browser(&driver, &scratch.path().join("profile")).await;
    client.goto(&format!("{}/panel", app.base)).await.unwrap();
    wait_for_path(&client, |p| p == "/login").await;
    type_into(&client, "input[name=email]", "op@m.example").await;
    type_into(&client, "input[name=password]", PASSWORD).await;
    click(&client, "form[action='/login'] button[type=submit]").await;
    wait_for_text(&client, "main h1", "Dashboard").await;

    // The link, made on the customer's page.
    let page = format!("/panel/customers/{}", sale.customer);
    client.goto(&format!("{}{page}", app.base)).await.unwrap();
    wait_for_text(&client, "#online-payment h2", "Online payment").await;
    choose(
        &client,
        "#online-form select[name=gateway_account_id]",
        &account["id"].to_string(),
    )
    .await;
    click(&client, "#start-online").await;
    let link = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("#checkout-link"))
        .await
        .unwrap_or_else(|e| panic!("#checkout-link: {e}"));
    let checkout = link
        .attr("href")
        .await
        .unwrap()
        .expect("a checkout address");
    assert!(
        checkout.starts_with(&sim.base_url(gateways::Provider::Generic)),
        "{checkout}"
    );

    // The provider's page: pay, and come back to lastmile.
    client.goto(&checkout).await.unwrap();
    click(&client, "#pay").await;
    wait_for_path(&client, |p| p.starts_with("/pay/return/")).await;
    wait_for_text(&client, "#payment-title", "Payment received").await;
    let _ = client.close().await;
    drop(driver);
    sim.shutdown().await;

    // One payment, online; a month of service from now.
    let (status, payments) = app
        .get(
            &format!("/api/v1/payments?customer_id={}", sale.customer),
            &sale.op,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(payments.as_array().unwrap().len(), 1, "{payments}");
    assert_eq!(payments[0]["method"], "online");
    let (_, customer) = app
        .get(&format!("/api/v1/customers/{}", sale.customer), &sale.op)
        .await;
    let expires: chrono::DateTime<chrono::Utc> =
        customer["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        expires > app.clock().now() + chrono::TimeDelta::days(29),
        "{customer}"
    );
    let breaches = store::ledger::verify(app.state.db.conn(), None)
        .await
        .unwrap();
    assert!(breaches.is_empty(), "{breaches:?}");
}

both_backends!(
    an_operator_recharges_a_customer_and_prints_the_receipt_in_headless_chromium,
    a_customer_pays_online_through_the_simulated_provider_in_headless_chromium,
);
