//! The sign-up wizard in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven through WebDriver: an ISP's Admin signs in, opens the
//! sign-ups from the customer list, fills the basic information and the package and stops
//! there; opens the drafts list, resumes the draft at the step it reached, fills the address
//! with the tenant's required custom field, collects the first payment in cash, reviews and activates.
//! The customer's page says it is created, and the new customer then authenticates through
//! the built-in RADIUS server (`radclient` as the NAS, PAP): Access-Accept.
//!
//! chromedriver runs as a child process on a free port for the length of the test and is
//! stopped, with the browser it started, even when the test fails. Without Chromium,
//! chromedriver or `radclient` the test fails; it never skips.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod support_browser;
mod support_builtin;
mod support_freeradius;

use std::time::{Duration, Instant};

use fantoccini::Client;
use reqwest::StatusCode;
use serde_json::json;
use support::panel::{attribute, radius_rows, staff_of, stored_customer};
use support::{Backend, PASSWORD, TestApp, spawn};
use support_browser::{
    Chromedriver, browser, choose, click, type_into, wait_for, wait_for_path, wait_for_text,
};
use support_builtin::{ACCEPT, port};
use support_freeradius::api;
use support_freeradius::nas::Nas;

/// The draft id in the browser's path `/panel/signups/{id}/{step}`, once it is at `step`.
async fn at_step(client: &Client, step: &str) -> i64 {
    let suffix = format!("/{step}");
    let path = wait_for_path(client, |p| {
        p.starts_with("/panel/signups/") && p.ends_with(&suffix)
    })
    .await;
    path.trim_start_matches("/panel/signups/")
        .trim_end_matches(&suffix)
        .parse()
        .unwrap_or_else(|_| panic!("a draft's address, got {path}"))
}

async fn a_sign_up_is_resumed_finished_and_authenticates(
    app: &TestApp,
    client: &Client,
    home: i64,
    zone: i64,
) -> i64 {
    // Sign in and open the sign-ups from the customer list.
    client.goto(&format!("{}/panel", app.base)).await.unwrap();
    wait_for_path(client, |p| p == "/login").await;
    type_into(client, "input[name=email]", "admin@isp.example").await;
    type_into(client, "input[name=password]", PASSWORD).await;
    click(client, "form[action='/login'] button[type=submit]").await;
    wait_for_text(client, "main h1", "Dashboard").await;
    click(client, "nav.main a[href='/panel/customers']").await;
    click(client, "#signups-link").await;
    wait_for_path(client, |p| p == "/panel/signups").await;
    click(client, "#new-signup").await;

    // Step 1: basic information.
    wait_for_path(client, |p| p == "/panel/signups/new").await;
    type_into(client, "#signup-form input[name=name]", "Nasima Akter").await;
    type_into(client, "#signup-form input[name=mobile]", "01712345670").await;
    choose(client, "#signup-form select[name=connection_type]", "pppoe").await;
    type_into(client, "#signup-form input[name=username]", "nasima").await;
    type_into(client, "#signup-form input[name=password]", "nasima-pw-1").await;
    click(client, "#signup-next").await;

    // Step 2: the package; then stop.
    let draft = at_step(client, "package").await;
    choose(
        client,
        "#signup-form select[name=package_id]",
        &home.to_string(),
    )
    .await;
    click(client, "#signup-next").await;
    assert_eq!(at_step(client, "address").await, draft);

    // The drafts list shows it at step 3; resume it there.
    click(client, "#signup-drafts").await;
    wait_for_path(client, |p| p == "/panel/signups").await;
    wait_for_text(client, &format!("tr[data-draft='{draft}']"), "Nasima Akter").await;
    wait_for_text(client, &format!("tr[data-draft='{draft}']"), "3/5").await;
    click(client, &format!("#resume-{draft}")).await;
    assert_eq!(at_step(client, "address").await, draft);

    // Step 3: the address, the zone and the tenant's required custom field.
    type_into(
        client,
        "#signup-form input[name=address]",
        "House 7, Road 3, Uttara",
    )
    .await;
    choose(
        client,
        "#signup-form select[name=zone_id]",
        &zone.to_string(),
    )
    .await;
    type_into(
        client,
        "#signup-form input[name='custom_fields.landmark']",
        "Opposite the school",
    )
    .await;
    click(client, "#signup-next").await;

    // Step 4: collect the first period in cash.
    assert_eq!(at_step(client, "payment").await, draft);
    choose(client, "#signup-form select[name=billing_type]", "prepaid").await;
    click(client, "#signup-form input[name=payment][value=recharge]").await;
    click(client, "#signup-next").await;

    // Step 5: review, then activate.
    assert_eq!(at_step(client, "review").await, draft);
    wait_for_text(client, "#signup-review", "Nasima Akter").await;
    wait_for_text(client, "#signup-review", "Home 50M").await;
    wait_for_text(client, "#signup-review", "Opposite the school").await;
    click(client, "#signup-activate").await;
    let path = wait_for_path(client, |p| {
        p.strip_prefix("/panel/customers/")
            .is_some_and(|id| id.parse::<i64>().is_ok())
    })
    .await;
    wait_for_text(client, "main .flash", "Created.").await;
    wait_for(client, "main h1").await;

    // The drafts list is empty again.
    client
        .goto(&format!("{}/panel/signups", app.base))
        .await
        .unwrap();
    wait_for_text(client, "main", "No sign-up in progress.").await;
    path.trim_start_matches("/panel/customers/")
        .parse()
        .unwrap()
}

async fn the_sign_up_wizard_in_headless_chromium(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    app.user(&isp.dev, staff_of(isp.tenant, "admin@isp.example", "admin"))
        .await;
    let (status, zone) = app
        .post(
            "/api/v1/zones",
            &isp.dev,
            json!({"tenant_id": isp.tenant, "name": "Uttara"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{zone}");
    let (status, field) = app
        .post(
            "/api/v1/custom-fields",
            &isp.dev,
            json!({"tenant_id": isp.tenant, "key": "landmark", "label": "Landmark", "kind": "text", "required": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{field}");

    let scratch = tempfile::tempdir().expect("a temporary directory");
    let driver = Chromedriver::start(&scratch.path().join("chromedriver.log"));
    let client = browser(&driver, &scratch.path().join("profile")).await;
    let customer = a_sign_up_is_resumed_finished_and_authenticates(
        &app,
        &client,
        isp.home,
        zone["id"].as_i64().unwrap(),
    )
    .await;
    let _ = client.close().await;
    drop(driver);

    // What the browser did is in the database: one customer, paid, its RADIUS rows.
    assert_eq!(app.count("customer").await, 1);
    assert_eq!(app.count("signup_draft").await, 0);
    assert_eq!(app.count("service_grant").await, 1);
    let stored = stored_customer(&app, customer).await;
    assert_eq!(stored.username, "nasima");
    assert!(stored.expires_at.is_some_and(|at| at > app.clock().now()));
    let rows = radius_rows(&app, customer).await;
    assert_eq!(
        attribute(&rows.check, "Cleartext-Password"),
        Some("nasima-pw-1")
    );

    // The new customer authenticates through the built-in RADIUS server.
    let login = [("User-Name", "nasima"), ("User-Password", "nasima-pw-1")];
    let began = Instant::now();
    let reply = loop {
        let reply = Nas.auth_at(port(&app), &isp.secret, &login);
        if reply.code.as_deref() == Some(ACCEPT) || began.elapsed() > Duration::from_secs(10) {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(reply.code.as_deref(), Some(ACCEPT), "{}", reply.raw);
    assert_eq!(
        reply.get("Mikrotik-Rate-Limit"),
        Some("10M/50M"),
        "{}",
        reply.raw
    );
    // A wrong password is still refused.
    let wrong = Nas.auth_at(
        port(&app),
        &isp.secret,
        &[("User-Name", "nasima"), ("User-Password", "not-hers")],
    );
    assert_eq!(
        wrong.code.as_deref(),
        Some("Access-Reject"),
        "{}",
        wrong.raw
    );
}

mod on_sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sign_up_wizard_in_headless_chromium() {
        super::the_sign_up_wizard_in_headless_chromium(super::Backend::Sqlite).await;
    }
}

mod on_postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sign_up_wizard_in_headless_chromium() {
        super::the_sign_up_wizard_in_headless_chromium(super::Backend::Postgres).await;
    }
}
