//! Postpaid billing through the API and the billing runs, on both engines: the tenant's
//! terms; a month's invoices issued once per customer and period however often the run
//! goes; cash payments, whole and in parts, splitting the paid share along the chain and
//! refused (nothing written) when they pay more than is owed, for a prepaid customer, or
//! from a reseller that cannot cover what it owes upward; idempotent retries; suspension
//! after the due date and the grace, resumption by paying; reminders and expiry notices
//! queued once; and the ledger clean at the end of each.
//!
//! One file, past the usual length, for the reason `api_money.rs` gives: every scenario plays
//! in the same reseller chain, at instants of the tenant's own days (`dhaka`, `run_at`), and
//! ends with `ledger verify`; split, the helpers would move to `support` for one reader.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::money::{Chain, TAKA, balance, chain, customer, postpaid, topup, verify_clean};
use support::{Backend, TestApp, spawn};

/// The instant local (Asia/Dhaka, UTC+6) `hour` o'clock begins on `day`.
fn dhaka(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    day.and_hms_opt(hour, 0, 0).unwrap().and_utc() - TimeDelta::hours(6)
}

/// The first day of the next month in Dhaka: a period every customer made now spans.
fn next_month(app: &TestApp) -> NaiveDate {
    let today = (app.clock().now() + TimeDelta::hours(6)).date_naive();
    domain::postpaid::Period::of(today, domain::postpaid::BillingDay::Day(1)).end
}

/// Runs the billing runs of `tenant` as at `at`; returns the reports by kind.
async fn run_at(app: &TestApp, tenant: i64, at: DateTime<Utc>) -> Vec<ops::billing_run::RunReport> {
    let ctx = ops::Ctx::new(&app.state.db, &app.state.hasher, at);
    ops::billing_run::run(&ctx, Some(domain::ids::TenantId(tenant)), false)
        .await
        .unwrap()
}

fn of<'a>(
    reports: &'a [ops::billing_run::RunReport],
    kind: &str,
) -> &'a ops::billing_run::RunReport {
    reports.iter().find(|r| r.kind == kind).unwrap()
}

async fn invoices_of(app: &TestApp, token: &str, customer: i64) -> Vec<Value> {
    let (status, list) = app
        .get(
            &format!("/api/v1/invoices?series=invoice&customer_id={customer}"),
            token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().unwrap().clone()
}

async fn pay(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post("/api/v1/payments", token, body).await
}

async fn status_of(app: &TestApp, token: &str, customer: i64) -> String {
    let (_, c) = app
        .get(&format!("/api/v1/customers/{customer}"), token)
        .await;
    c["status"].as_str().unwrap().to_owned()
}

async fn funded(app: &TestApp) -> Chain {
    let c = chain(app).await;
    let (status, _) = topup(app, &c.admin, c.op_id, 1_000 * TAKA).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = topup(app, &c.op, c.sub_id, 450 * TAKA).await;
    assert_eq!(status, StatusCode::CREATED);
    c
}

async fn the_terms_are_the_tenants_and_checked(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let path = format!("/api/v1/tenants/{}/billing-terms", c.tenant);
    let (status, terms) = app.get(&path, &c.admin).await;
    assert_eq!(status, StatusCode::OK, "{terms}");
    assert_eq!(
        terms,
        json!({"billing_day": "1", "due_days": 7, "grace_days": 3, "remind_days": 3})
    );
    let (status, terms) = app
        .call(
            Method::PUT,
            &path,
            Some(&c.admin),
            Some(json!({"billing_day": "last", "due_days": 10, "grace_days": 0, "remind_days": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{terms}");
    assert_eq!(terms["billing_day"], "last");
    let (status, refused) = app
        .call(
            Method::PUT,
            &path,
            Some(&c.admin),
            Some(json!({"billing_day": "31", "due_days": -1, "grace_days": 91, "remind_days": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let fields: Vec<&str> = refused["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["billing_day", "due_days", "grace_days"],
        "{refused}"
    );
    // A reseller changes no tenant's terms.
    let (status, _) = app
        .call(
            Method::PUT,
            &path,
            Some(&c.op),
            Some(json!({"billing_day": "5", "due_days": 1, "grace_days": 1, "remind_days": 1})),
        )
        .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{status}"
    );
    let (_, terms) = app.get(&path, &c.admin).await;
    assert_eq!(terms["due_days"], 10);
}

async fn a_month_is_invoiced_once_then_paid_along_the_chain(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    let own = postpaid(&app, &c.admin, c.master, "dave").await;
    let prepaid = customer(&app, &c.sub, c.sub_pkg, "erin").await;
    let start = next_month(&app);
    let at = dhaka(start, 1);

    // The month's run: one invoice per postpaid customer, numbered, due a week on.
    let reports = run_at(&app, c.tenant, at).await;
    let invoiced = of(&reports, "invoice");
    assert_eq!(
        (invoiced.customers, invoiced.amount),
        (2, 1_000 * TAKA),
        "{reports:?}"
    );
    let bills = invoices_of(&app, &c.sub, bob).await;
    assert_eq!(bills.len(), 1, "{bills:?}");
    let bill = &bills[0];
    assert_eq!(
        (
            bill["total"].as_i64(),
            bill["amount_due"].as_i64(),
            bill["status"].as_str(),
            bill["period_start"].as_str(),
        ),
        (
            Some(500 * TAKA),
            Some(500 * TAKA),
            Some("open"),
            Some(start.to_string().as_str())
        )
    );
    assert!(
        bill["number"].as_str().unwrap().starts_with("INV-"),
        "{bill}"
    );
    let due: DateTime<Utc> = bill["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due, dhaka(start + TimeDelta::days(7), 0));
    assert!(invoices_of(&app, &c.sub, prepaid).await.is_empty());
    // Invoicing earns the resellers nothing yet: margins come with the money.
    assert_eq!(
        balance(&app, &c.sub, c.sub_id).await["balance"].as_i64(),
        Some(0)
    );

    // Again, the same day and the next: nothing more is issued or posted.
    let (invoices, journals) = (
        app.count("invoice").await,
        app.count("ledger_journal").await,
    );
    let again = run_at(&app, c.tenant, at + TimeDelta::hours(2)).await;
    assert!(of(&again, "invoice").already_done, "{again:?}");
    let next_day = run_at(&app, c.tenant, at + TimeDelta::days(1)).await;
    assert_eq!(of(&next_day, "invoice").customers, 0, "{next_day:?}");
    assert_eq!(app.count("invoice").await, invoices);
    assert_eq!(app.count("ledger_journal").await, journals);

    // A sub-operator with nothing cannot take 500 it owes 450 of upward: nothing written.
    let (status, refused) = pay(
        &app,
        &c.sub,
        json!({"customer_id": bob, "amount": 500 * TAKA}),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("insufficient_balance")
        ),
        "{refused}"
    );
    assert_eq!(app.count("payment").await, 0);
    assert_eq!(
        invoices_of(&app, &c.sub, bob).await[0]["amount_paid"].as_i64(),
        Some(0)
    );

    // Funded, it takes the bill in two parts; the margins follow the money.
    topup(&app, &c.admin, c.op_id, 1_000 * TAKA).await;
    topup(&app, &c.op, c.sub_id, 450 * TAKA).await;
    let (status, first) = pay(
        &app,
        &c.sub,
        json!({"customer_id": bob, "amount": 200 * TAKA}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        first["applied"],
        json!([{"invoice_id": bill["id"], "amount": 200 * TAKA}])
    );
    let bill_now = &invoices_of(&app, &c.sub, bob).await[0];
    assert_eq!(
        (bill_now["amount_due"].as_i64(), bill_now["status"].as_str()),
        (Some(300 * TAKA), Some("open"))
    );
    // More than is owed is refused, saying what is.
    let (status, refused) = pay(
        &app,
        &c.sub,
        json!({"customer_id": bob, "amount": 300 * TAKA + 1}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.to_string().contains("exceeds_due"), "{refused}");
    assert!(
        refused.to_string().contains(&(300 * TAKA).to_string()),
        "{refused}"
    );
    let (status, second) = pay(
        &app,
        &c.sub,
        json!({"customer_id": bob, "amount": 300 * TAKA}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let bill_now = &invoices_of(&app, &c.sub, bob).await[0];
    assert_eq!(
        (bill_now["amount_due"].as_i64(), bill_now["status"].as_str()),
        (Some(0), Some("paid"))
    );
    // The sub-operator took 500 and owes 450 of it upward: 450 − 500 + 50 leaves 0; its
    // operator earned 50 over the 550 it kept.
    assert_eq!(
        balance(&app, &c.sub, c.sub_id).await["balance"].as_i64(),
        Some(0)
    );
    assert_eq!(
        balance(&app, &c.op, c.op_id).await["balance"].as_i64(),
        Some(600 * TAKA)
    );
    // The receipt of the second payment names the invoice it paid.
    let receipt = second["receipt_id"].as_i64().unwrap();
    let (_, r) = app
        .get(&format!("/api/v1/invoices/{receipt}"), &c.sub)
        .await;
    assert_eq!(r["series"], "receipt");
    assert_eq!(r["lines"][0]["kind"], "payment");
    assert_eq!(r["lines"][0]["description"], bill["number"]);

    // The owner's own customer pays the Admin in cash: revenue was booked at issue.
    let (status, paid) = pay(
        &app,
        &c.admin,
        json!({"customer_id": own, "amount": 500 * TAKA, "method": "cash"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    // A prepaid customer has no bills to pay.
    let (status, refused) = pay(
        &app,
        &c.sub,
        json!({"customer_id": prepaid, "amount": TAKA}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.to_string().contains("not_postpaid"), "{refused}");
    // Nothing is left to pay.
    let (status, refused) = pay(&app, &c.sub, json!({"customer_id": bob, "amount": TAKA})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");

    let (status, payments) = app
        .get(&format!("/api/v1/payments?customer_id={bob}"), &c.sub)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(payments.as_array().unwrap().len(), 2, "{payments}");
    let (status, runs) = app.get("/api/v1/billing/runs", &c.admin).await;
    assert_eq!(status, StatusCode::OK, "{runs}");
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "invoice" && r["status"] == "done"),
        "{runs}"
    );
    let (status, _) = app.get("/api/v1/billing/runs", &c.sub).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    verify_clean(&app).await;
}

async fn a_retried_payment_is_taken_once(backend: Backend) {
    let app = spawn(backend).await;
    let c = funded(&app).await;
    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    run_at(&app, c.tenant, dhaka(next_month(&app), 1)).await;
    let send = |amount: i64| {
        let app = &app;
        let token = c.sub.clone();
        async move {
            app.call_full(
                Method::POST,
                "/api/v1/payments",
                Some(&token),
                Some(json!({"customer_id": bob, "amount": amount})),
                &[("Idempotency-Key", "pay-bob-1")],
            )
            .await
        }
    };
    let (status, _, first) = send(100 * TAKA).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    // The retry answers as the first did.
    let (status, _, again) = send(100 * TAKA).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["payment_id"], first["payment_id"]);
    assert_eq!(again["applied"], first["applied"]);
    let (status, _, other) = send(50 * TAKA).await;
    assert_eq!(status, StatusCode::CONFLICT, "{other}");
    assert_eq!(app.count("payment").await, 1);
    assert_eq!(
        invoices_of(&app, &c.sub, bob).await[0]["amount_paid"].as_i64(),
        Some(100 * TAKA)
    );
    verify_clean(&app).await;
}

async fn an_unpaid_customer_is_suspended_after_the_grace_and_resumed_by_paying(backend: Backend) {
    let app = spawn(backend).await;
    let c = funded(&app).await;
    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    let carol = postpaid(&app, &c.sub, c.sub_pkg, "carol").await;
    let start = next_month(&app);
    run_at(&app, c.tenant, dhaka(start, 1)).await;
    let due = dhaka(start + TimeDelta::days(7), 0);

    // Within the grace (3 days): nobody is suspended.
    let reports = run_at(&app, c.tenant, due + TimeDelta::days(2)).await;
    assert_eq!(of(&reports, "overdue").customers, 0, "{reports:?}");
    assert_eq!(status_of(&app, &c.sub, bob).await, "active");

    // Past it: both are suspended, their RADIUS rows refuse them (the tenant's policy),
    // and each gets its notice.
    let after = due + TimeDelta::days(3) + TimeDelta::hours(1);
    let reports = run_at(&app, c.tenant, after).await;
    assert_eq!(of(&reports, "overdue").customers, 2, "{reports:?}");
    assert_eq!(status_of(&app, &c.sub, bob).await, "suspended");
    assert_eq!(status_of(&app, &c.sub, carol).await, "suspended");
    let rows = store::radius::read(app.state.db.conn(), bob).await.unwrap();
    assert!(format!("{rows:?}").contains("Reject"), "{rows:?}");
    let notices = store::billing::notifications_of(app.state.db.conn(), bob, 10)
        .await
        .unwrap();
    assert!(
        notices.iter().any(|n| n.kind == "suspended_unpaid"),
        "{notices:?}"
    );
    assert!(
        notices.iter().any(|n| n.kind == "invoice_issued"),
        "{notices:?}"
    );
    // The same day again: done.
    let again = run_at(&app, c.tenant, after + TimeDelta::hours(1)).await;
    assert!(of(&again, "overdue").already_done);

    // The clock moves to that day, and the staff sign in again.
    app.clock().shift((after - app.clock().now()).num_seconds());
    let sub = app.login("sub@m.example", support::PASSWORD).await;
    let op = app.login("op@m.example", support::PASSWORD).await;
    let admin = app.login("admin@m.example", support::PASSWORD).await;
    let c = Chain {
        sub,
        op,
        admin,
        ..c
    };

    // Bob pays in full and is back; Carol pays half and stays suspended.
    let (status, paid) = pay(
        &app,
        &c.sub,
        json!({"customer_id": bob, "amount": 500 * TAKA}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["resumed"], true);
    assert_eq!(status_of(&app, &c.sub, bob).await, "active");
    let rows = store::radius::read(app.state.db.conn(), bob).await.unwrap();
    assert!(!format!("{rows:?}").contains("Reject"), "{rows:?}");
    let (status, half) = pay(
        &app,
        &c.op,
        json!({"customer_id": carol, "amount": 250 * TAKA}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{half}");
    assert_eq!(half["resumed"], false);
    assert_eq!(status_of(&app, &c.sub, carol).await, "suspended");

    // A customer staff suspended is not resumed by paying: its suspension is staff's.
    let dan = postpaid(&app, &c.sub, c.sub_pkg, "dan").await;
    let (_, before) = app.get(&format!("/api/v1/customers/{dan}"), &c.admin).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/customers/{dan}/suspend"),
            &c.admin,
            json!({"version": before["version"]}),
        )
        .await;
    assert!(status.is_success(), "{status}");
    run_at(&app, c.tenant, after + TimeDelta::days(1)).await;
    let owed = invoices_of(&app, &c.sub, dan).await;
    if let Some(bill) = owed.first() {
        let amount = bill["amount_due"].as_i64().unwrap();
        let (status, paid) = pay(
            &app,
            &c.admin,
            json!({"customer_id": dan, "amount": amount}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        assert_eq!(paid["resumed"], false);
    }
    assert_eq!(status_of(&app, &c.sub, dan).await, "suspended");
    verify_clean(&app).await;
}

async fn reminders_and_expiry_notices_are_queued_once(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    // Today's runs may have gone already (the scheduler's): the test plays on later days.
    let expires = (app.clock().now() + TimeDelta::days(3))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    // Time given by hand: the tenant's Admin's to give.
    let (status, erin) = app
        .post(
            "/api/v1/customers",
            &c.admin,
            json!({"owner_id": c.sub_id, "package_id": c.sub_pkg, "connection_type": "pppoe", "name": "erin",
                   "username": "erin", "expires_at": expires}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{erin}");
    let erin = erin["id"].as_i64().unwrap();
    let expires: DateTime<Utc> = expires.parse().unwrap();
    let kinds = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            let mut kinds: Vec<String> = store::billing::notifications_of(db.conn(), erin, 20)
                .await
                .unwrap()
                .into_iter()
                .map(|n| n.kind)
                .collect();
            kinds.sort();
            kinds
        }
    };
    // Three days' notice: reminded two days before, once.
    let first = run_at(&app, c.tenant, app.clock().now() + TimeDelta::days(1)).await;
    assert_eq!(of(&first, "remind").notices, 1, "{first:?}");
    let next = run_at(&app, c.tenant, app.clock().now() + TimeDelta::days(2)).await;
    assert_eq!(of(&next, "remind").notices, 0, "{next:?}");
    assert_eq!(kinds(&app).await, ["expiry_reminder"]);
    // Its time runs out: the next pass gives notice, the one after finds nothing new.
    let out = run_at(&app, c.tenant, expires + TimeDelta::minutes(1)).await;
    assert_eq!(of(&out, "expiry").customers, 1, "{out:?}");
    let later = run_at(&app, c.tenant, expires + TimeDelta::minutes(6)).await;
    assert_eq!(of(&later, "expiry").customers, 0, "{later:?}");
    assert_eq!(kinds(&app).await, ["expired", "expiry_reminder"]);
}

async fn bad_payments_are_refused_and_write_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let c = funded(&app).await;
    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    let carol = postpaid(&app, &c.sub, c.sub_pkg, "carol").await;
    run_at(&app, c.tenant, dhaka(next_month(&app), 1)).await;
    let carols = invoices_of(&app, &c.sub, carol).await[0]["id"]
        .as_i64()
        .unwrap();
    let journals = app.count("ledger_journal").await;
    for (body, want) in [
        (
            json!({"customer_id": bob, "amount": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"customer_id": bob, "amount": -5}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"customer_id": bob, "amount": i64::MAX}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"customer_id": bob, "amount": "100"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"customer_id": bob, "amount": 1.5}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"customer_id": bob}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"customer_id": bob, "amount": 100, "method": "card"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"customer_id": bob, "amount": 100, "invoice_id": carols}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"customer_id": bob, "amount": 100, "extra": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"customer_id": 999_999, "amount": 100}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, refused) = pay(&app, &c.sub, body.clone()).await;
        let status = if status == StatusCode::BAD_REQUEST {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            status
        };
        assert_eq!(status, want, "{body} → {refused}");
    }
    // Another tenant's staff sees no such customer.
    let other = app.tenant(&c.dev, "Other ISP").await;
    app.user(
        &c.dev,
        json!({"email": "admin@o.example", "name": "O", "role": "admin", "tenant_id": other}),
    )
    .await;
    let stranger = app.login("admin@o.example", support::PASSWORD).await;
    let (status, _) = pay(&app, &stranger, json!({"customer_id": bob, "amount": 100})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("ledger_journal").await, journals);
    assert_eq!(app.count("payment").await, 0);
    verify_clean(&app).await;
}

async fn credit_notes_take_part_of_an_invoice_off_with_its_vat(backend: Backend) {
    let app = spawn(backend).await;
    let c = funded(&app).await;
    // 5% VAT inside the prices, and the tenant's registration for its tax invoices.
    let (status, rate) = app
        .post(
            &format!("/api/v1/tenants/{}/vat-rates", c.tenant),
            &c.admin,
            json!({"rate_bp": 500}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rate}");
    let identity = format!("/api/v1/tenants/{}/tax-identity", c.tenant);
    let (status, refused) = app
        .call(
            Method::PUT,
            &identity,
            Some(&c.admin),
            Some(json!({"bin": "12-AB", "address": "Dhaka"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, set) = app
        .call(
            Method::PUT,
            &identity,
            Some(&c.admin),
            Some(json!({"bin": "000123456-0101", "address": "House 1, Road 2, Dhaka"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(
        app.get(&identity, &c.admin).await.1["bin"],
        "000123456-0101"
    );

    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    let carol = postpaid(&app, &c.sub, c.sub_pkg, "carol").await;
    let start = next_month(&app);
    run_at(&app, c.tenant, dhaka(start, 1)).await;
    let after = dhaka(start + TimeDelta::days(10), 1);
    run_at(&app, c.tenant, after).await;
    assert_eq!(status_of(&app, &c.sub, carol).await, "suspended");
    app.clock().shift((after - app.clock().now()).num_seconds());
    let admin = app.login("admin@m.example", support::PASSWORD).await;
    let sub = app.login("sub@m.example", support::PASSWORD).await;
    let op = app.login("op@m.example", support::PASSWORD).await;
    let bill = invoices_of(&app, &sub, bob).await[0].clone();
    let (bill_id, vat) = (bill["id"].as_i64().unwrap(), bill["vat"].as_i64().unwrap());
    assert!(vat > 0, "{bill}");
    let path = format!("/api/v1/invoices/{bill_id}/credit-notes");
    let journals = app.count("ledger_journal").await;

    // Resellers give nothing away: a credit is the owner's.
    for token in [&sub, &op] {
        let (status, _) = app
            .post(
                &path,
                token,
                json!({"amount": 100 * TAKA, "reason": "outage"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // Bad requests: a clear 4xx, nothing written.
    for (body, want) in [
        (
            json!({"amount": 0, "reason": "outage"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"amount": -5, "reason": "outage"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"amount": 501 * TAKA, "reason": "outage"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"amount": i64::MAX, "reason": "outage"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"amount": 100, "reason": "  "}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"amount": 100, "reason": "x".repeat(201)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"amount": "100", "reason": "outage"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"amount": 100}), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, refused) = app.post(&path, &admin, body.clone()).await;
        let status = if status == StatusCode::BAD_REQUEST {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            status
        };
        assert_eq!(status, want, "{body} → {refused}");
    }
    let (status, _) = app
        .post(
            "/api/v1/invoices/999999/credit-notes",
            &admin,
            json!({"amount": 100, "reason": "outage"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("ledger_journal").await, journals);

    // 100 taka off, for an outage: a numbered note with its share of the VAT, the invoice
    // owing 400; Bob's debt is still past the grace.
    let credit = |amount: i64, key: &'static str| {
        let (app, path, admin) = (&app, &path, &admin);
        async move {
            let (status, _, body) = app
                .call_full(
                    Method::POST,
                    path,
                    Some(admin),
                    Some(json!({"amount": amount, "reason": "Outage, 3 days"})),
                    &[("idempotency-key", key)],
                )
                .await;
            (status, body)
        }
    };
    let (status, done) = credit(100 * TAKA, "k1").await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    let note = &done["credit_note"];
    assert!(
        note["number"].as_str().unwrap().starts_with("CN-"),
        "{note}"
    );
    assert_eq!(
        (
            note["series"].as_str(),
            note["total"].as_i64(),
            note["vat"].as_i64(),
            note["credits_invoice_id"].as_i64(),
            note["reason"].as_str(),
        ),
        (
            Some("credit_note"),
            Some(100 * TAKA),
            Some(vat / 5),
            Some(bill_id),
            Some("Outage, 3 days")
        ),
        "{note}"
    );
    assert_eq!(
        (
            done["invoice"]["amount_due"].as_i64(),
            done["invoice"]["credited"].as_i64(),
            done["invoice"]["status"].as_str(),
            done["resumed"].as_bool(),
        ),
        (
            Some(400 * TAKA),
            Some(100 * TAKA),
            Some("open"),
            Some(false)
        )
    );
    // The retry answers the same note; the key with another amount is a conflict.
    let (status, again) = credit(100 * TAKA, "k1").await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["credit_note"]["id"], note["id"]);
    let (status, _) = credit(50 * TAKA, "k1").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, notes) = app.get(&path, &sub).await;
    assert_eq!(notes.as_array().map(Vec::len), Some(1), "{notes}");

    // Paying the rest settles it and resumes nobody who was not suspended for it.
    let (status, paid) = pay(
        &app,
        &sub,
        json!({"customer_id": bob, "amount": 400 * TAKA}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let (status, refused) = credit(10 * TAKA, "k2").await;
    assert_eq!(
        (status, refused["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_open")),
        "{refused}"
    );

    // Carol's whole invoice credited: settled, and she is resumed.
    let carol_bill = invoices_of(&app, &sub, carol).await[0]["id"]
        .as_i64()
        .unwrap();
    let (status, done) = app
        .post(
            &format!("/api/v1/invoices/{carol_bill}/credit-notes"),
            &admin,
            json!({"amount": 500 * TAKA, "reason": "Goodwill"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["invoice"]["status"], "paid");
    assert_eq!(done["resumed"], true);
    assert_eq!(status_of(&app, &sub, carol).await, "active");
    // A receipt is no invoice to credit.
    let receipt = paid["receipt_id"].as_i64().unwrap();
    let (status, _) = app
        .post(
            &format!("/api/v1/invoices/{receipt}/credit-notes"),
            &admin,
            json!({"amount": 100, "reason": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    verify_clean(&app).await;
    // Nothing of the settled invoices is left waiting in `Billed`.
    let billed = store::ledger::accounts(
        app.state.db.conn(),
        Some(&[c.tenant]),
        Some(domain::ledger::AccountKind::Billed),
        None,
    )
    .await
    .unwrap()
    .into_iter()
    .map(|a| a.credits_posted - a.debits_posted)
    .sum::<i64>();
    assert_eq!(billed, 0);
}

async fn a_monthly_customer_pays_its_own_price(backend: Backend) {
    let app = spawn(backend).await;
    let c = funded(&app).await;
    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    let erin = customer(&app, &c.sub, c.sub_pkg, "erin").await;
    let set = |who: i64, token: &str, price: Value| {
        let (app, token) = (&app, token.to_owned());
        async move {
            let (_, now) = app.get(&format!("/api/v1/customers/{who}"), &token).await;
            app.call(
                Method::PUT,
                &format!("/api/v1/customers/{who}/custom-price"),
                Some(&token),
                Some(json!({"custom_price": price, "version": now["version"]})),
            )
            .await
        }
    };
    // Below what the sub-operator owes upward (450), zero, negative, huge, a prepaid
    // customer: refused, nothing changed.
    for (who, price, code) in [
        (bob, json!(449 * TAKA), "below_cost"),
        (bob, json!(0), "out_of_range"),
        (bob, json!(-1), "out_of_range"),
        (bob, json!(i64::MAX), "out_of_range"),
        (erin, json!(400 * TAKA), "not_monthly_pppoe"),
    ] {
        let (status, refused) = set(who, &c.sub, price.clone()).await;
        assert_eq!(
            (status, refused["error"]["fields"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{price} → {refused}"
        );
    }
    // Another tenant's staff sees no such customer; a stale version is refused.
    let other = app.tenant(&c.dev, "Other ISP").await;
    app.user(
        &c.dev,
        json!({"email": "admin@o.example", "name": "O", "role": "admin", "tenant_id": other}),
    )
    .await;
    let stranger = app.login("admin@o.example", support::PASSWORD).await;
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/customers/{bob}/custom-price"),
            Some(&stranger),
            Some(json!({"custom_price": 480 * TAKA, "version": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/customers/{bob}/custom-price"),
            Some(&c.sub),
            Some(json!({"custom_price": 480 * TAKA, "version": 999})),
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (status, done) = set(bob, &c.sub, json!(480 * TAKA)).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["custom_price"].as_i64(), Some(480 * TAKA));

    // The month's invoice charges 480, and paying it splits 30 to the sub-operator (480
    // less the 450 it owes) and 50 to the operator.
    let start = next_month(&app);
    run_at(&app, c.tenant, dhaka(start, 1)).await;
    let bill = invoices_of(&app, &c.sub, bob).await[0].clone();
    assert_eq!(bill["total"].as_i64(), Some(480 * TAKA), "{bill}");
    let before = (
        balance(&app, &c.sub, c.sub_id).await["balance"]
            .as_i64()
            .unwrap(),
        balance(&app, &c.op, c.op_id).await["balance"]
            .as_i64()
            .unwrap(),
    );
    let (status, paid) = pay(
        &app,
        &c.admin,
        json!({"customer_id": bob, "amount": 480 * TAKA}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(
        (
            balance(&app, &c.sub, c.sub_id).await["balance"]
                .as_i64()
                .unwrap()
                - before.0,
            balance(&app, &c.op, c.op_id).await["balance"]
                .as_i64()
                .unwrap()
                - before.1,
        ),
        (30 * TAKA, 50 * TAKA)
    );
    // Back to the package's price: the next month charges 500.
    let (status, done) = set(bob, &c.sub, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done["custom_price"].is_null(), "{done}");
    let next = domain::postpaid::Period::of(start, domain::postpaid::BillingDay::Day(1)).end;
    run_at(&app, c.tenant, dhaka(next, 1)).await;
    let bills = invoices_of(&app, &c.sub, bob).await;
    assert_eq!(bills[0]["total"].as_i64(), Some(500 * TAKA), "{bills:?}");
    verify_clean(&app).await;
}

async fn a_customer_joining_after_the_last_days_run_is_billed_for_its_days(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let bob = postpaid(&app, &c.sub, c.sub_pkg, "bob").await;
    let start = next_month(&app);
    let period = domain::postpaid::Period::of(start, domain::postpaid::BillingDay::Day(1));
    let last = period.end.pred_opt().unwrap();
    run_at(&app, c.tenant, dhaka(start, 1)).await;
    // The last day's run goes just after midnight; Carol joins that evening.
    let reports = run_at(&app, c.tenant, dhaka(last, 0) + TimeDelta::minutes(5)).await;
    assert_eq!(of(&reports, "invoice").customers, 0, "{reports:?}");
    app.clock()
        .shift((dhaka(last, 20) - app.clock().now()).num_seconds());
    let sub = app.login("sub@m.example", support::PASSWORD).await;
    let carol = postpaid(&app, &sub, c.sub_pkg, "carol").await;

    // The next day is a new period: both get its invoice, and Carol also her day of the
    // one she joined in; Bob, billed for it already, nothing more.
    let next = dhaka(period.end, 0) + TimeDelta::minutes(5);
    let reports = run_at(&app, c.tenant, next).await;
    assert_eq!(of(&reports, "invoice").customers, 2, "{reports:?}");
    assert_eq!(of(&reports, "invoice_late").customers, 1, "{reports:?}");
    let bills = invoices_of(&app, &sub, carol).await;
    assert_eq!(bills.len(), 2, "{bills:?}");
    let late = bills
        .iter()
        .find(|b| b["period_start"] == start.to_string())
        .unwrap();
    let one_day = domain::billing::prorate(500 * TAKA, 1, period.days(), 1);
    assert!(
        (late["total"].as_i64().unwrap() - one_day).abs() <= 100,
        "{late}"
    );
    assert_eq!(invoices_of(&app, &sub, bob).await.len(), 2);
    // Again, and the day after: nothing more.
    let (invoices, journals) = (
        app.count("invoice").await,
        app.count("ledger_journal").await,
    );
    run_at(&app, c.tenant, next + TimeDelta::hours(3)).await;
    let reports = run_at(&app, c.tenant, next + TimeDelta::days(1)).await;
    assert_eq!(of(&reports, "invoice_late").customers, 0, "{reports:?}");
    assert_eq!(app.count("invoice").await, invoices);
    assert_eq!(app.count("ledger_journal").await, journals);
    verify_clean(&app).await;
}

both_backends!(
    the_terms_are_the_tenants_and_checked,
    a_month_is_invoiced_once_then_paid_along_the_chain,
    a_retried_payment_is_taken_once,
    an_unpaid_customer_is_suspended_after_the_grace_and_resumed_by_paying,
    reminders_and_expiry_notices_are_queued_once,
    bad_payments_are_refused_and_write_nothing,
    credit_notes_take_part_of_an_invoice_off_with_its_vat,
    a_monthly_customer_pays_its_own_price,
    a_customer_joining_after_the_last_days_run_is_billed_for_its_days,
);
