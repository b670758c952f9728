//! The panel in a real headless Chromium (Debian's `chromium` and `chromium-driver`), driven
//! through WebDriver: the Developer signs in through the form, creates a tenant and an
//! operator in it, sees both listed, switches the panel to Bangla and signs out; and an ISP's
//! Admin creates an IP pool, a package and a customer, finds the customer with two filters of
//! the customer list and suspends it.
//!
//! chromedriver runs as a child process on a free port for the length of the test and is
//! stopped, with the browser it started, even when the test fails. Without Chromium or
//! chromedriver the test fails; it never skips.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod support_browser;

use fantoccini::{Client, Locator};
use serde_json::json;
use support::panel::{radius_rows, staff_of, stored_customer};
use support::{Backend, PASSWORD, TestApp, spawn};
use support_browser::{
    Chromedriver, browser, choose, click, type_into, wait_for_path, wait_for_text,
};

async fn the_panel_works_in_a_real_browser(app: &TestApp, client: &Client) {
    // Sign in through the form.
    client.goto(&format!("{}/panel", app.base)).await.unwrap();
    wait_for_path(client, |p| p == "/login").await;
    type_into(client, "input[name=email]", "dev@example.com").await;
    type_into(client, "input[name=password]", PASSWORD).await;
    click(client, "form[action='/login'] button[type=submit]").await;
    wait_for_text(client, "main h1", "Dashboard").await;

    // Create a tenant.
    click(client, "nav.main a[href='/panel/tenants']").await;
    click(client, "#new-tenant").await;
    type_into(client, "input[name=name]", "Dhaka Net").await;
    choose(client, "select[name=country]", "BD").await;
    choose(client, "select[name=currency]", "BDT").await;
    type_into(client, "input[name=time_zone]", "Asia/Dhaka").await;
    click(client, "#save-tenant").await;
    let path = wait_for_path(client, |p| {
        p.strip_prefix("/panel/tenants/")
            .is_some_and(|id| id.parse::<i64>().is_ok())
    })
    .await;
    let tenant = path.trim_start_matches("/panel/tenants/").to_owned();
    wait_for_text(client, "main .flash", "Created.").await;

    // Create an operator in it: the form shows the tenant once the role asks for one.
    click(client, "nav.main a[href='/panel/users']").await;
    click(client, "#new-user").await;
    choose(client, "select[name=role]", "operator").await;
    choose(client, "select[name=tenant_id]", &tenant).await;
    type_into(client, "#user-form input[name=name]", "Op One").await;
    type_into(client, "#user-form input[name=email]", "op1@dhaka.example").await;
    type_into(client, "#user-form input[name=password]", PASSWORD).await;
    click(client, "#save-user").await;
    wait_for_path(client, |p| {
        p.strip_prefix("/panel/users/")
            .is_some_and(|id| id.parse::<i64>().is_ok())
    })
    .await;
    wait_for_text(client, "main .flash", "Created.").await;

    // Both are listed.
    click(client, "nav.main a[href='/panel/tenants']").await;
    wait_for_text(client, "#tenant-list", "Dhaka Net").await;
    wait_for_text(client, "#tenant-list", "Asia/Dhaka").await;
    click(client, "nav.main a[href='/panel/users']").await;
    wait_for_text(client, "#user-list", "op1@dhaka.example").await;
    wait_for_text(client, "#user-list", "Operator").await;

    // Switch to Bangla: the same page, translated.
    click(client, "a[data-lang-switch][hreflang='bn']").await;
    wait_for_text(client, "main h1", "ব্যবহারকারী").await;
    wait_for_path(client, |p| p == "/panel/users").await;
    let lang = client
        .find(Locator::Css("html"))
        .await
        .unwrap()
        .attr("lang")
        .await
        .unwrap();
    assert_eq!(lang.as_deref(), Some("bn"));
    wait_for_text(client, "#user-list", "অপারেটর").await;

    // Sign out: back at the sign-in page, in the chosen language.
    click(client, "#sign-out").await;
    wait_for_path(client, |p| p == "/login").await;
    wait_for_text(client, "main h1", "সাইন ইন").await;
    wait_for_text(client, "main .flash", "আপনি সাইন আউট করেছেন।").await;
    client.goto(&format!("{}/panel", app.base)).await.unwrap();
    wait_for_path(client, |p| p == "/login").await;
}

async fn the_panel_in_headless_chromium(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let driver = Chromedriver::start(&scratch.path().join("chromedriver.log"));
    let profile = scratch.path().join("profile");
    let client = browser(&driver, &profile).await;

    the_panel_works_in_a_real_browser(&app, &client).await;
    let _ = client.close().await;
    drop(driver);

    // What the browser did is in the database.
    assert_eq!(app.count("tenant").await, 1);
    assert_eq!(app.count("staff_user").await, 2);
    assert_eq!(app.count("session").await, 0, "signed out");
}

/// The id at the end of the browser's path `/panel/{what}/{id}`, once it gets there.
async fn wait_for_record(client: &Client, what: &str) -> i64 {
    let prefix = format!("/panel/{what}/");
    let path = wait_for_path(client, |p| {
        p.strip_prefix(&prefix)
            .is_some_and(|id| id.parse::<i64>().is_ok())
    })
    .await;
    path[prefix.len()..].parse().unwrap()
}

/// How many rows the customer list shows.
async fn listed_customers(client: &Client) -> usize {
    client
        .find_all(Locator::Css("#customer-list tr[data-customer]"))
        .await
        .map_or(0, |rows| rows.len())
}

async fn an_admin_sets_up_a_customer_finds_it_and_suspends_it(
    app: &TestApp,
    client: &Client,
) -> i64 {
    client.goto(&format!("{}/panel", app.base)).await.unwrap();
    wait_for_path(client, |p| p == "/login").await;
    type_into(client, "input[name=email]", "admin@dhaka.example").await;
    type_into(client, "input[name=password]", PASSWORD).await;
    click(client, "form[action='/login'] button[type=submit]").await;
    wait_for_text(client, "main h1", "Dashboard").await;

    // An IP pool.
    click(client, "nav.main a[href='/panel/ip-pools']").await;
    click(client, "#new-pool").await;
    type_into(client, "#pool-form input[name=name]", "pppoe-main").await;
    type_into(
        client,
        "#pool-form input[name=ranges]",
        "10.0.0.1-10.0.0.254",
    )
    .await;
    click(client, "#save-pool").await;
    let pool = wait_for_record(client, "ip-pools").await;
    wait_for_text(client, "#pool-capacity", "254").await;

    // A master package using it.
    click(client, "nav.main a[href='/panel/packages']").await;
    click(client, "#new-package").await;
    type_into(client, "#package-form input[name=name]", "Home 20M").await;
    choose(
        client,
        "#package-form select[name=connection_type]",
        "pppoe",
    )
    .await;
    type_into(client, "#package-form input[name=download_kbps]", "20M").await;
    type_into(client, "#package-form input[name=upload_kbps]", "5M").await;
    choose(
        client,
        "#package-form select[name=ip_pool_id]",
        &pool.to_string(),
    )
    .await;
    type_into(client, "#package-form input[name=price]", "500").await;
    click(client, "#save-package").await;
    let package = wait_for_record(client, "packages").await;
    wait_for_text(client, "main .flash", "Created.").await;

    // A customer on it.
    click(client, "nav.main a[href='/panel/customers']").await;
    click(client, "#new-customer").await;
    // A connection type leaves only its packages to choose from.
    let connection = "#customer-form select[name=connection_type]";
    choose(client, connection, "hotspot").await;
    let option = client
        .find(Locator::Css(&format!(
            "#customer-form select[name=package_id] option[value='{package}']"
        )))
        .await
        .unwrap();
    assert_eq!(
        option.prop("disabled").await.unwrap().as_deref(),
        Some("true")
    );
    choose(client, connection, "pppoe").await;
    assert_eq!(
        option.prop("disabled").await.unwrap().as_deref(),
        Some("false")
    );
    choose(
        client,
        "#customer-form select[name=package_id]",
        &package.to_string(),
    )
    .await;
    type_into(client, "#customer-form input[name=username]", "rahim").await;
    type_into(client, "#customer-form input[name=password]", "first-pass").await;
    type_into(client, "#customer-form input[name=name]", "Rahim Uddin").await;
    type_into(client, "#customer-form input[name=mobile]", "01712345678").await;
    click(client, "#save-customer").await;
    let customer = wait_for_record(client, "customers").await;
    wait_for_text(client, "main .flash", "Created.").await;

    // Found among the others with two filters: PPPoE, on this package.
    click(client, "nav.main a[href='/panel/customers']").await;
    wait_for_text(client, "#customer-list", "Hotspot Guest").await;
    assert_eq!(listed_customers(client).await, 3);
    choose(client, "#filter-connection_type", "pppoe").await;
    choose(client, "#filter-package_id", &package.to_string()).await;
    click(client, "#apply-filters").await;
    wait_for_text(client, "#customer-total", "1 in all").await;
    assert_eq!(listed_customers(client).await, 1);
    wait_for_text(client, "#customer-list", "Rahim Uddin").await;

    // Suspended from its page.
    click(
        client,
        &format!("#customer-list a[href='/panel/customers/{customer}']"),
    )
    .await;
    wait_for_text(client, "#customer-state", "Active").await;
    click(client, "#suspend-customer").await;
    wait_for_text(client, "main .flash", "The customer is suspended.").await;
    wait_for_text(client, "#customer-state", "Suspended").await;

    // An action's address opened as a page (a reload, a restored tab) goes to the page it
    // belongs to, never "405"; an address the panel does not have gets its own error page.
    client
        .goto(&format!("{}/panel/customers/{customer}/resume", app.base))
        .await
        .unwrap();
    wait_for_path(client, |p| p == format!("/panel/customers/{customer}")).await;
    wait_for_text(client, "#customer-state", "Suspended").await;
    client
        .goto(&format!("{}/panel/no-such-page", app.base))
        .await
        .unwrap();
    wait_for_text(client, "main h1", "404").await;
    wait_for_text(client, "main", "Not found.").await;
    assert!(
        client.find(Locator::Css("nav.main")).await.is_ok(),
        "the panel's own page"
    );

    // On a phone the list keeps who, the state and the expiry; the filters fold away.
    client.set_window_size(390, 844).await.unwrap();
    client
        .goto(&format!("{}/panel/customers", app.base))
        .await
        .unwrap();
    wait_for_text(client, "#customer-list", "Rahim Uddin").await;
    let shown = |css: &'static str| async move {
        client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    };
    assert!(shown("#customer-list td.state").await);
    assert!(shown("#customer-list td.expires").await);
    assert!(!shown("#customer-list td.col-aux").await);
    assert!(
        !shown("#filter-connection_type").await,
        "the filters are folded"
    );
    click(client, "label[for=more-filters]").await;
    assert!(shown("#filter-connection_type").await, "and open on a tap");
    client.set_window_size(1280, 900).await.unwrap();
    customer
}

async fn an_isp_in_headless_chromium(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Dhaka Net").await;
    app.user(&dev, staff_of(tenant, "admin@dhaka.example", "admin"))
        .await;
    // Two customers the filters leave out: another connection type, another package.
    let other = |name: &str, kind: &str| {
        json!({"tenant_id": tenant, "name": name, "connection_type": kind,
               "download_kbps": 5000, "upload_kbps": 1000, "validity_days": 1, "price": 2000})
    };
    for (name, kind, customer, mobile) in [
        ("Day pass", "hotspot", "Hotspot Guest", "01812345678"),
        ("Office", "pppoe", "Office Line", "01812345679"),
    ] {
        let (status, package) = app.post("/api/v1/packages", &dev, other(name, kind)).await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{package}");
        let (status, body) = app
            .post(
                "/api/v1/customers",
                &dev,
                json!({"tenant_id": tenant, "package_id": package["id"], "connection_type": kind,
                       "name": customer, "mobile": mobile, "username": kind,
                       "password": "other-pass"}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    }
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let driver = Chromedriver::start(&scratch.path().join("chromedriver.log"));
    let profile = scratch.path().join("profile");
    let client = browser(&driver, &profile).await;

    let customer = an_admin_sets_up_a_customer_finds_it_and_suspends_it(&app, &client).await;
    let _ = client.close().await;
    drop(driver);

    // What the browser did is in the database and in the customer's RADIUS rows.
    assert_eq!(app.count("ip_pool").await, 1);
    assert_eq!(app.count("package").await, 3);
    let stored = stored_customer(&app, customer).await;
    assert_eq!(
        (stored.username.as_str(), stored.status.as_str()),
        ("rahim", "suspended")
    );
    let rows = radius_rows(&app, customer).await;
    assert!(
        rows.check
            .contains(&("Auth-Type".to_owned(), ":=".to_owned(), "Reject".to_owned())),
        "{rows:?}"
    );
}

both_backends!(the_panel_in_headless_chromium, an_isp_in_headless_chromium);
