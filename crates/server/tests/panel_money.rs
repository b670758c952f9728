//! Money in the web panel over HTTP, without a browser, on both engines: the tenant's Admin
//! tops up an operator from the operator's page, the operator previews a recharge of its
//! customer (a quote, nothing paid) and confirms it (paid once, however often the same
//! confirmation is sent), the customer's page shows the new expiry and the grant, the
//! statement lists the entries; a sub-operator with nothing to spend is told so and nothing
//! changes; nobody sees or posts the top-up form of a reseller outside its reach; the Admin
//! sets a reseller's account terms; the Admin takes a postpaid customer's cash payment from
//! its page. Each test reads the database or the API as well as the
//! pages; `support::panel` plays the browser.
//!
//! One file, past the usual length: every scenario plays in the same chain (`chain`) and
//! reads the same forms (`tokens`); the API side of the same money is `api_money.rs` and
//! `api_billing.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::panel::{Isp, Visitor, created, isp, staff_of, stored_customer};
use support::{Backend, PASSWORD, TestApp, spawn};

const TAKA: i64 = 100;

/// The Admin's tenant with an operator and its sub-operator, another operator, and a
/// master package (500 taka for 30 days) sold down the chain: the operator owes 400, the
/// sub-operator 450.
struct Chain<'a> {
    isp: Isp<'a>,
    op: i64,
    sub: i64,
    op2: i64,
    op_pkg: i64,
    sub_pkg: i64,
}

async fn chain(app: &TestApp) -> Chain<'_> {
    let isp = isp(app).await;
    let (dev, tenant) = (&isp.dev, isp.tenant);
    let op = app
        .user(dev, staff_of(tenant, "op@dhaka.example", "operator"))
        .await;
    let mut sub = staff_of(tenant, "sub@dhaka.example", "sub_operator");
    sub["parent_id"] = json!(op);
    let sub = app.user(dev, sub).await;
    let op2 = app
        .user(dev, staff_of(tenant, "op2@dhaka.example", "operator"))
        .await;
    let pool = created(
        app,
        dev,
        "/api/v1/ip-pools",
        json!({"tenant_id": tenant, "name": "home", "ranges": "10.0.0.0/22"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let master = created(app, dev, "/api/v1/packages", json!({"tenant_id": tenant, "name": "Home", "connection_type": "pppoe",
        "download_kbps": 20000, "upload_kbps": 5000, "validity_days": 30, "price": 500 * TAKA, "ip_pool_id": pool}))
    .await["id"]
        .as_i64()
        .unwrap();
    let derive = |parent: i64, owner: i64, name: &str, cost: i64| json!({"parent_id": parent, "owner_id": owner, "name": name, "price": 500 * TAKA, "cost_price": cost * TAKA});
    let op_pkg = created(
        app,
        dev,
        "/api/v1/packages",
        derive(master, op, "Op Home", 400),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let sub_pkg = created(
        app,
        dev,
        "/api/v1/packages",
        derive(op_pkg, sub, "Sub Home", 450),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    Chain {
        isp,
        op,
        sub,
        op2,
        op_pkg,
        sub_pkg,
    }
}

/// A PPPoE customer created by the reseller signed in as `email`, on `package`, expiring
/// at `expires_at`.
/// A customer of reseller `owner` on `package`, expiring at `expires_at`: created by the
/// tenant's Admin, who may give time by hand (a reseller sells it by recharge).
async fn customer(
    app: &TestApp,
    owner: i64,
    package: i64,
    username: &str,
    expires_at: &str,
) -> i64 {
    let token = app.login("admin@dhaka.example", PASSWORD).await;
    created(
        app,
        &token,
        "/api/v1/customers",
        json!({"owner_id": owner, "package_id": package, "connection_type": "pppoe", "name": username,
               "username": username, "expires_at": expires_at}),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

/// Reseller `id`'s balance and what it may spend, in minor units, as the Admin reads them
/// through the API.
async fn balance(app: &TestApp, id: i64) -> (i64, Option<i64>) {
    let admin = app.login("admin@dhaka.example", PASSWORD).await;
    let (status, b) = app
        .get(&format!("/api/v1/users/{id}/balance"), &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    (b["balance"].as_i64().unwrap(), b["available"].as_i64())
}

/// The CSRF token and the key of the money forms on `page`, as the visitor reads them.
async fn tokens(visitor: &mut Visitor<'_>, page: &str) -> (String, String) {
    let shown = visitor.get(page).await;
    assert_eq!(shown.status, StatusCode::OK, "{page}: {}", shown.body);
    let csrf = shown.input("_csrf").expect("a CSRF token");
    let key = shown.input("key").expect("the page draws a key");
    (csrf, key)
}

async fn an_operator_previews_then_pays_a_recharge_once_with_funds_the_admin_topped_up(
    backend: Backend,
) {
    let app = spawn(backend).await;
    let Chain {
        isp: Isp { mut admin, .. },
        op,
        op_pkg,
        ..
    } = chain(&app).await;
    let alice = customer(&app, op, op_pkg, "alice", "2099-01-01T00:00:00Z").await;

    // The Admin tops the operator up from its page; the same form sent again books once.
    let op_page = format!("/panel/users/{op}");
    let shown = admin.get(&op_page).await;
    assert_eq!(
        shown.text_of("balance-amount").as_deref(),
        Some("0.00 BDT"),
        "{}",
        shown.body
    );
    let (csrf, key) = tokens(&mut admin, &op_page).await;
    let topup = format!("/panel/users/{op}/topup");
    let refused = admin
        .post(
            &topup,
            &[("_csrf", &csrf), ("key", &key), ("amount", "10.005")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.has("Not an amount"), "{}", refused.body);
    assert_eq!(app.count("ledger_journal").await, 0);
    let fields = [
        ("_csrf", csrf.as_str()),
        ("key", &key),
        ("amount", "1,000.50"),
    ];
    for _ in 0..2 {
        let reply = admin.post(&topup, &fields).await;
        assert_eq!(
            (reply.status, reply.location()),
            (StatusCode::SEE_OTHER, op_page.as_str()),
            "{}",
            reply.body
        );
    }
    assert_eq!(balance(&app, op).await, (100_050, Some(100_050)));
    assert_eq!(app.count("ledger_journal").await, 1);
    let shown = admin.get(&op_page).await;
    assert_eq!(
        shown.text_of("balance-amount").as_deref(),
        Some("1000.50 BDT")
    );
    assert_eq!(shown.text_of("balance-terms").as_deref(), Some("Prepaid"));

    // The operator previews: a quote, nothing paid.
    let mut operator = Visitor::signed_in(&app, "op@dhaka.example").await;
    let page = format!("/panel/customers/{alice}");
    let (csrf, key) = tokens(&mut operator, &page).await;
    let action = format!("/panel/customers/{alice}/recharge");
    let op_pkg = op_pkg.to_string();
    let form = |step| {
        [
            ("_csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("recharge_package", op_pkg.as_str()),
            ("days", ""),
            ("hours", ""),
            ("step", step),
        ]
    };
    let preview = form("preview");
    let quote = operator.post(&action, &preview).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    let text = |id: &str| quote.text_of(id).unwrap_or_default();
    assert_eq!(
        (
            text("quote-price"),
            text("quote-credit"),
            text("quote-amount"),
            text("quote-cost"),
            text("quote-starts"),
            text("quote-expires"),
        ),
        (
            "500.00 BDT".to_owned(),
            "0.00 BDT".to_owned(),
            "500.00 BDT".to_owned(),
            "400.00 BDT".to_owned(),
            "2099-01-01 06:00".to_owned(),
            "2099-01-31 06:00".to_owned(),
        )
    );
    assert_eq!(quote.input("key").as_deref(), Some(key.as_str()));
    assert!(quote.has("id=\"confirm-recharge\""));
    assert_eq!(app.count("ledger_journal").await, 1);
    assert_eq!(app.count("service_grant").await, 0);

    // Confirmed: paid, and the page says until when the service now runs.
    let confirm = form("confirm");
    let paid = operator.post(&action, &confirm).await;
    assert_eq!(paid.status, StatusCode::SEE_OTHER, "{}", paid.body);
    let back = paid.location().to_owned();
    assert!(back.starts_with(&page), "{back}");
    let shown = operator.get(&back).await;
    assert_eq!(
        shown.text_of("recharged").as_deref(),
        Some("Recharged: the service now runs until 2099-01-31 06:00. Print the receipt"),
        "{}",
        shown.body
    );
    // The receipt: numbered, for the customer, with what was taken and by whom.
    let receipt = back
        .split("receipt=")
        .nth(1)
        .expect("the page links the receipt")
        .to_owned();
    let printed = operator.get(&format!("/invoices/{receipt}/print")).await;
    assert_eq!(printed.status, StatusCode::OK, "{}", printed.body);
    let number = printed.text_of("receipt-number").unwrap();
    assert!(
        number.starts_with("RC-") && number.ends_with("-000001"),
        "{number}"
    );
    assert_eq!(
        printed.text_of("receipt-total").as_deref(),
        Some("500.00 BDT")
    );
    let lines = printed.text_of("receipt-lines").unwrap();
    assert!(
        lines.contains("Internet service") && lines.contains("Op Home"),
        "{lines}"
    );
    // Nobody outside the sale reads it.
    let mut other = Visitor::signed_in(&app, "op2@dhaka.example").await;
    let hidden = other.get(&format!("/invoices/{receipt}/print")).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(shown.rows("grant").len(), 1);
    let grants = shown.text_of("grant-list").unwrap();
    assert!(
        grants.contains("2099-01-31 06:00")
            && grants.contains("Op Home")
            && grants.contains("500.00 BDT"),
        "{grants}"
    );
    let expires = stored_customer(&app, alice).await.expires_at.unwrap();
    assert_eq!(expires.to_rfc3339(), "2099-01-31T00:00:00+00:00");
    assert_eq!(balance(&app, op).await, (60_050, Some(60_050)));

    // The same confirmation again (a double click): answered alike, paid once.
    let again = operator.post(&action, &confirm).await;
    assert_eq!(
        (again.status, again.location()),
        (StatusCode::SEE_OTHER, back.as_str())
    );
    assert_eq!(balance(&app, op).await, (60_050, Some(60_050)));
    assert_eq!(app.count("ledger_journal").await, 2);
    assert_eq!(app.count("service_grant").await, 1);
    assert_eq!(stored_customer(&app, alice).await.expires_at, Some(expires));

    // A new page draws a new key: another recharge is another payment.
    let (_, fresh) = tokens(&mut operator, &page).await;
    assert_ne!(fresh, key);

    // The operator's statement, newest first: the top-up, then the recharge, which takes
    // the 500 collected from its balance and gives back its margin of 100.
    let statement = operator.get(&format!("/panel/ledger?user_id={op}")).await;
    assert_eq!(statement.status, StatusCode::OK, "{}", statement.body);
    assert_eq!(statement.rows("entry").len(), 3);
    let entries = statement.text_of("ledger-entries").unwrap();
    let at = |row: &str| {
        entries
            .find(row)
            .unwrap_or_else(|| panic!("{row} in {entries}"))
    };
    let paid = at(&format!("reseller:{op}Debit500.00 BDT600.50 BDT"));
    let margin = at("Credit100.00 BDT1100.50 BDT");
    let topped_up = at("Credit1000.50 BDT1000.50 BDT");
    assert!(paid < margin && margin < topped_up, "{entries}");
    // Days filter the statement: today holds all three entries, a day long past none.
    let today = app
        .clock()
        .now()
        .with_timezone(&chrono_tz::Asia::Dhaka)
        .date_naive();
    let dated = operator
        .get(&format!(
            "/panel/ledger?user_id={op}&from={today}&to={today}"
        ))
        .await;
    assert_eq!(dated.rows("entry").len(), 3, "{}", dated.body);
    let past = operator
        .get(&format!(
            "/panel/ledger?user_id={op}&from=2020-01-01&to=2020-01-31"
        ))
        .await;
    assert_eq!(past.rows("entry").len(), 0);
    // The customer's statement: what it paid for the time.
    let statement = operator
        .get(&format!("/panel/ledger?customer_id={alice}"))
        .await;
    assert_eq!(statement.status, StatusCode::OK);
    assert!(!statement.rows("entry").is_empty());
    assert!(statement.has(&format!("customer:{alice}")));
}

async fn a_sub_operator_without_funds_is_refused_and_nothing_changes(backend: Backend) {
    let app = spawn(backend).await;
    let Chain { sub, sub_pkg, .. } = chain(&app).await;
    let bob = customer(&app, sub, sub_pkg, "bob", "2026-01-01T00:00:00Z").await;
    let before = stored_customer(&app, bob).await;

    let mut reseller = Visitor::signed_in(&app, "sub@dhaka.example").await;
    let page = format!("/panel/customers/{bob}");
    let shown = reseller.get(&page).await;
    assert!(shown.has("id=\"recharge-form\""), "{}", shown.body);
    assert_eq!(
        shown.text_of("collector-balance").as_deref(),
        Some("Your balance: 0.00 BDT; available to spend: 0.00 BDT.")
    );
    let (csrf, key) = tokens(&mut reseller, &page).await;
    let sub_pkg = sub_pkg.to_string();
    let action = format!("/panel/customers/{bob}/recharge");
    let fields = |step| {
        [
            ("_csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("recharge_package", sub_pkg.as_str()),
            ("days", "7"),
            ("hours", ""),
            ("step", step),
        ]
    };
    let quote = reseller.post(&action, &fields("preview")).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    let refused = reseller.post(&action, &fields("confirm")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.text_of("recharge-error").as_deref(),
        Some("Insufficient balance: 0.00 BDT available."),
        "{}",
        refused.body
    );
    // What was asked is still in the form.
    assert!(refused.has("name=\"days\" value=\"7\""));

    let after = stored_customer(&app, bob).await;
    assert_eq!(
        (after.version, after.expires_at, after.status.code()),
        (before.version, before.expires_at, before.status.code())
    );
    assert_eq!(app.count("ledger_journal").await, 0);
    assert_eq!(app.count("service_grant").await, 0);
    assert_eq!(balance(&app, sub).await, (0, Some(0)));

    // A field it cannot read comes back beside it.
    let mut bad = fields("preview");
    bad[3] = ("days", "a week");
    let refused = reseller.post(&action, &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.has("Not a whole number."), "{}", refused.body);
}

async fn a_reseller_sees_no_top_up_form_outside_its_reach(backend: Backend) {
    let app = spawn(backend).await;
    let Chain { op, sub, op2, .. } = chain(&app).await;
    let mut reseller = Visitor::signed_in(&app, "sub@dhaka.example").await;

    // Another operator's page is not its to see; its own has no top-up (no one tops up itself).
    let other = reseller.get(&format!("/panel/users/{op2}")).await;
    assert!(
        matches!(other.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{}",
        other.status
    );
    assert!(!other.has("topup-form"));
    for id in [op, sub] {
        let page = reseller.get(&format!("/panel/users/{id}")).await;
        assert!(!page.has("topup-form"), "user {id}: {}", page.body);
        assert!(!page.has("terms-form"), "user {id}");
    }
    // Posting the form anyway moves nothing.
    let (csrf, _) = {
        let own = reseller.get(&format!("/panel/users/{sub}")).await;
        (own.input("_csrf").unwrap(), ())
    };
    for id in [op2, op] {
        let reply = reseller
            .post(
                &format!("/panel/users/{id}/topup"),
                &[("_csrf", csrf.as_str()), ("key", "k1"), ("amount", "100")],
            )
            .await;
        assert!(
            matches!(reply.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "user {id}: {}",
            reply.status
        );
    }
    assert_eq!(app.count("ledger_journal").await, 0);
    assert_eq!(balance(&app, op2).await, (0, Some(0)));
}

async fn the_admin_sets_a_resellers_account_terms(backend: Backend) {
    let app = spawn(backend).await;
    let Chain {
        isp: Isp { mut admin, .. },
        sub,
        ..
    } = chain(&app).await;
    let page = format!("/panel/users/{sub}");
    let action = format!("/panel/users/{sub}/terms");
    let shown = admin.get(&page).await;
    assert!(shown.has("id=\"terms-form\""), "{}", shown.body);
    let csrf = shown.input("_csrf").unwrap();

    let reply = admin
        .post(
            &action,
            &[
                ("_csrf", csrf.as_str()),
                ("account_type", "credit"),
                ("credit_limit", "250.5"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let shown = admin.get(&page).await;
    assert_eq!(
        shown.text_of("balance-terms").as_deref(),
        Some("On credit, up to 250.50 BDT")
    );
    assert!(shown.has("name=\"credit_limit\" value=\"250.50\""));
    assert_eq!(balance(&app, sub).await, (0, Some(25_050)));

    // A limit it cannot read is refused beside it, and the terms stay.
    let refused = admin
        .post(
            &action,
            &[
                ("_csrf", csrf.as_str()),
                ("account_type", "credit"),
                ("credit_limit", "-5"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.has("Must not be negative."), "{}", refused.body);
    assert_eq!(balance(&app, sub).await, (0, Some(25_050)));

    // Empty: credit without a limit.
    let reply = admin
        .post(
            &action,
            &[
                ("_csrf", csrf.as_str()),
                ("account_type", "credit"),
                ("credit_limit", ""),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(balance(&app, sub).await, (0, None));
    let shown = admin.get(&page).await;
    assert_eq!(
        shown.text_of("balance-available").as_deref(),
        Some("no limit")
    );
}

/// The Admin sets the tenant's VAT on the tenant's page: a rate in percent, included in
/// prices; a rate out of range comes back beside the field.
async fn the_admin_sets_the_tenants_vat(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        mut admin, tenant, ..
    } = isp(&app).await;
    let page = format!("/panel/tenants/{tenant}");
    let shown = admin.get(&page).await;
    assert!(shown.has("id=\"vat-form\""), "{}", shown.body);
    let csrf = shown.input("_csrf").unwrap();
    let action = format!("/panel/tenants/{tenant}/vat");
    let refused = admin
        .post(&action, &[("_csrf", csrf.as_str()), ("vat_rate", "150")])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.has("Between 0 and 10000."), "{}", refused.body);
    let saved = admin
        .post(
            &action,
            &[
                ("_csrf", csrf.as_str()),
                ("vat_rate", "7.5"),
                ("vat_inclusive", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let shown = admin.get(&page).await;
    assert_eq!(shown.rows("vat-rate").len(), 1);
    let rates = shown.text_of("vat-rates").unwrap();
    assert!(
        rates.contains("7.50%") && rates.contains("included in prices"),
        "{rates}"
    );
    let vat = store::tax::vat_at(
        app.state.db.conn(),
        domain::ids::TenantId(tenant),
        app.clock().now(),
    )
    .await
    .unwrap();
    assert_eq!((vat.rate_bp, vat.inclusive), (750, true));
}

async fn the_admin_takes_a_postpaid_customers_cash_from_its_page(backend: Backend) {
    let app = spawn(backend).await;
    let Chain {
        isp: Isp {
            mut admin, tenant, ..
        },
        op_pkg,
        ..
    } = chain(&app).await;
    let token = app.login("op@dhaka.example", PASSWORD).await;
    let bob = created(
        &app,
        &token,
        "/api/v1/customers",
        json!({"package_id": op_pkg, "connection_type": "pppoe", "name": "Bob", "username": "bob",
               "billing_type": "postpaid"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    // Next month's invoice, issued by the run.
    let start = app.clock().now() + chrono::TimeDelta::days(40);
    let ctx = ops::Ctx::new(&app.state.db, &app.state.hasher, start);
    ops::billing_run::run(&ctx, Some(domain::ids::TenantId(tenant)), false)
        .await
        .unwrap();
    let page = format!("/panel/customers/{bob}");
    let shown = admin.get(&page).await;
    assert_eq!(
        shown.text_of("payment-due").as_deref(),
        Some("Owed now: 500.00 BDT."),
        "{}",
        shown.body
    );
    assert_eq!(shown.rows("invoice").len(), 1, "{}", shown.body);
    assert_eq!(shown.input("payment_amount").as_deref(), Some("500.00"));
    let invoice = shown.rows("invoice")[0];

    // A bad amount comes back beside the field; nothing is taken.
    let (csrf, key) = tokens(&mut admin, &page).await;
    let action = format!("/panel/customers/{bob}/payment");
    let refused = admin
        .post(
            &action,
            &[("_csrf", &csrf), ("key", &key), ("payment_amount", "five")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.has("Not an amount"), "{}", refused.body);
    let refused = admin
        .post(
            &action,
            &[("_csrf", &csrf), ("key", &key), ("payment_amount", "600")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.has("More than is owed: 500.00 BDT is due."),
        "{}",
        refused.body
    );
    assert_eq!(app.count("payment").await, 0);

    // 200 taken; the same form sent again takes it once.
    let fields = [
        ("_csrf", csrf.as_str()),
        ("key", &key),
        ("payment_amount", "200"),
    ];
    let first = admin.post(&action, &fields).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert!(
        first
            .location()
            .starts_with(&format!("{page}?paid=1&receipt=")),
        "{}",
        first.location()
    );
    let again = admin.post(&action, &fields).await;
    assert_eq!(again.location(), first.location());
    assert_eq!(app.count("payment").await, 1);
    let shown = admin.get(first.location()).await;
    assert!(shown.has("Payment taken."), "{}", shown.body);
    assert_eq!(
        shown.text_of("payment-due").as_deref(),
        Some("Owed now: 300.00 BDT.")
    );

    // The invoice prints as one, with what is still owed.
    let printed = admin.get(&format!("/invoices/{invoice}/print")).await;
    assert_eq!(printed.status, StatusCode::OK);
    assert_eq!(printed.text_of("document-kind").as_deref(), Some("Invoice"));
    assert_eq!(
        printed.text_of("invoice-owed").as_deref(),
        Some("300.00 BDT")
    );
}

async fn the_admin_credits_an_invoice_and_sets_an_own_price_from_the_page(backend: Backend) {
    let app = spawn(backend).await;
    let Chain {
        isp: Isp {
            mut admin, tenant, ..
        },
        op_pkg,
        ..
    } = chain(&app).await;
    let token = app.login("op@dhaka.example", PASSWORD).await;
    let bob = created(
        &app,
        &token,
        "/api/v1/customers",
        json!({"package_id": op_pkg, "connection_type": "pppoe", "name": "Bob", "username": "bob",
               "billing_type": "postpaid"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let page = format!("/panel/customers/{bob}");
    // The tenant is registered for VAT: its invoices are tax documents.
    let admin_token = app.login("admin@dhaka.example", PASSWORD).await;
    let (status, set) = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/tenants/{tenant}/tax-identity"),
            Some(&admin_token),
            Some(json!({"bin": "000123456-0101", "address": "Dhaka"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");

    // Its own price: below what the operator owes upward (400) is refused beside the field;
    // 450 is kept.
    let shown = admin.get(&page).await;
    let csrf = shown.input("_csrf").unwrap();
    let version = stored_customer(&app, bob).await.version.to_string();
    let action = format!("/panel/customers/{bob}/custom-price");
    let refused = admin
        .post(
            &action,
            &[
                ("_csrf", &csrf),
                ("version", &version),
                ("custom_price", "300"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(stored_customer(&app, bob).await.custom_price, None);
    let done = admin
        .post(
            &action,
            &[
                ("_csrf", &csrf),
                ("version", &version),
                ("custom_price", "450"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        stored_customer(&app, bob).await.custom_price,
        Some(450 * TAKA)
    );
    let shown = admin.get(done.location()).await;
    assert!(shown.text_of("priced").is_some(), "{}", shown.body);
    assert_eq!(shown.input("custom_price").as_deref(), Some("450.00"));

    // The month's invoice charges it.
    let start = app.clock().now() + chrono::TimeDelta::days(40);
    let ctx = ops::Ctx::new(&app.state.db, &app.state.hasher, start);
    ops::billing_run::run(&ctx, Some(domain::ids::TenantId(tenant)), false)
        .await
        .unwrap();
    let shown = admin.get(&page).await;
    assert_eq!(
        shown.text_of("payment-due").as_deref(),
        Some("Owed now: 450.00 BDT."),
        "{}",
        shown.body
    );
    let invoice = shown.rows("invoice")[0].to_string();

    // 50 off for an outage: a reason is required; then one note, however often it is sent.
    let (csrf, key) = tokens(&mut admin, &page).await;
    let action = format!("/panel/customers/{bob}/credit");
    let refused = admin
        .post(
            &action,
            &[
                ("_csrf", &csrf),
                ("key", &key),
                ("credit_invoice", &invoice),
                ("credit_amount", "50"),
                ("credit_reason", " "),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let fields = [
        ("_csrf", csrf.as_str()),
        ("key", &key),
        ("credit_invoice", &invoice),
        ("credit_amount", "50"),
        ("credit_reason", "Outage, 2 days"),
    ];
    let first = admin.post(&action, &fields).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let again = admin.post(&action, &fields).await;
    assert_eq!(again.location(), first.location());
    let notes = store::invoice::credit_notes_of(app.state.db.conn(), invoice.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(notes.len(), 1);
    let shown = admin.get(first.location()).await;
    assert!(shown.text_of("credited").is_some(), "{}", shown.body);
    assert_eq!(
        shown.text_of("payment-due").as_deref(),
        Some("Owed now: 400.00 BDT.")
    );

    // The note prints as Bangladesh's credit note, with its invoice and its reason.
    let printed = admin.get(&format!("/invoices/{}/print", notes[0].id)).await;
    assert_eq!(printed.status, StatusCode::OK);
    assert_eq!(
        printed.text_of("document-kind").as_deref(),
        Some("Credit note")
    );
    assert_eq!(
        printed.text_of("tax-form").as_deref(),
        Some("Mushak-6.7: credit note")
    );
    assert_eq!(
        printed.text_of("credit-reason").as_deref(),
        Some("Outage, 2 days")
    );
    assert_eq!(
        printed.text_of("receipt-total").as_deref(),
        Some("50.00 BDT")
    );
    assert!(
        printed
            .text_of("amount-words")
            .unwrap()
            .contains("BDT fifty only"),
        "{}",
        printed.body
    );
    // The invoice prints as a tax invoice with what was credited.
    let printed = admin.get(&format!("/invoices/{invoice}/print")).await;
    assert_eq!(
        printed.text_of("tax-form").as_deref(),
        Some("Mushak-6.3: tax invoice")
    );
    assert_eq!(
        printed.text_of("invoice-credited").as_deref(),
        Some("50.00 BDT")
    );
    assert_eq!(
        printed.text_of("invoice-owed").as_deref(),
        Some("400.00 BDT")
    );

    // An operator neither sees the credit form nor may post it.
    let mut op = Visitor::signed_in(&app, "op@dhaka.example").await;
    let shown = op.get(&page).await;
    assert!(shown.text_of("credit-card").is_none(), "{}", shown.body);
}

both_backends!(
    an_operator_previews_then_pays_a_recharge_once_with_funds_the_admin_topped_up,
    a_sub_operator_without_funds_is_refused_and_nothing_changes,
    a_reseller_sees_no_top_up_form_outside_its_reach,
    the_admin_sets_a_resellers_account_terms,
    the_admin_sets_the_tenants_vat,
    the_admin_takes_a_postpaid_customers_cash_from_its_page,
    the_admin_credits_an_invoice_and_sets_an_own_price_from_the_page,
);
