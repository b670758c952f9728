//! Seeded random sequences of money operations through the API, on both engines, each step
//! checked against a model of the resellers' balances: top-ups down the tree, account terms
//! set by the Admin or by the operator (who then covers the credit), recharges by both
//! levels of random customers with random time and package changes, and retries of a
//! recharge with its key. After every step:
//!
//! - a refused step changed nothing: the same journals, the same balances;
//! - a top-up moved exactly its amount from one balance to the other;
//! - a recharge lowered its collector's balance by exactly the `cost` it answered, and a
//!   retry with the same key answered the same journal and moved nothing;
//! - `ledger verify` is clean (balanced journals, cached totals, floors and holds, running
//!   balances, debits equal credits, gapless receipts).
//!
//! `LASTMILE_TEST_SEEDS` (comma-separated) replaces the default seeds; a failure names the
//! seed and the step.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rand::{RngExt as _, SeedableRng as _};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Backend, PASSWORD, TestApp, spawn};

const TAKA: i64 = 100;
const STEPS: usize = 40;

fn seeds() -> Vec<u64> {
    std::env::var("LASTMILE_TEST_SEEDS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2])
}

/// The world a sequence plays in: an Admin, an operator and its sub-operator, two packages
/// at each level, and customers of each reseller.
struct World {
    admin: String,
    op: (i64, String),
    sub: (i64, String),
    op_packages: Vec<i64>,
    sub_packages: Vec<i64>,
    op_customers: Vec<i64>,
    sub_customers: Vec<i64>,
}

async fn world(app: &TestApp) -> World {
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Sequence ISP").await;
    app.user(
        &dev,
        json!({"email": "admin@s.example", "name": "Admin", "role": "admin", "tenant_id": tenant}),
    )
    .await;
    let op = app
        .user(
            &dev,
            json!({"email": "op@s.example", "name": "Op", "role": "operator", "tenant_id": tenant}),
        )
        .await;
    let sub = app
        .user(&dev, json!({"email": "sub@s.example", "name": "Sub", "role": "sub_operator", "tenant_id": tenant, "parent_id": op}))
        .await;
    let (_, pool) = app
        .post(
            "/api/v1/ip-pools",
            &dev,
            json!({"tenant_id": tenant, "name": "home", "ranges": "10.0.0.0/22"}),
        )
        .await;
    let mut op_packages = Vec::new();
    let mut sub_packages = Vec::new();
    for (name, price, op_cost, sub_cost, days) in
        [("Basic", 300, 240, 270, 30), ("Pro", 500, 400, 450, 7)]
    {
        let (_, master) = app
            .post("/api/v1/packages", &dev, json!({"tenant_id": tenant, "name": name, "connection_type": "pppoe",
                   "download_kbps": 20000, "upload_kbps": 5000, "validity_days": days, "price": price * TAKA, "ip_pool_id": pool["id"]}))
            .await;
        let derive = |parent: &Value, owner: i64, cost: i64| json!({"parent_id": parent["id"], "owner_id": owner, "name": name, "price": price * TAKA, "cost_price": cost * TAKA});
        let (_, o) = app
            .post("/api/v1/packages", &dev, derive(&master, op, op_cost))
            .await;
        let (_, s) = app
            .post("/api/v1/packages", &dev, derive(&o, sub, sub_cost))
            .await;
        op_packages.push(o["id"].as_i64().unwrap());
        sub_packages.push(s["id"].as_i64().unwrap());
    }
    let op_token = app.login("op@s.example", PASSWORD).await;
    let sub_token = app.login("sub@s.example", PASSWORD).await;
    let make = |token: String, package: i64, prefix: &'static str| {
        let app = &app;
        async move {
            let mut ids = Vec::new();
            for i in 0..3 {
                let (status, c) = app
                    .post("/api/v1/customers", &token, json!({"package_id": package, "connection_type": "pppoe",
                           "name": format!("{prefix}{i}"), "username": format!("{prefix}{i}"), "expires_at": "2026-01-01T00:00:00Z"}))
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{c}");
                ids.push(c["id"].as_i64().unwrap());
            }
            ids
        }
    };
    let op_customers = make(op_token.clone(), op_packages[0], "o").await;
    let sub_customers = make(sub_token.clone(), sub_packages[0], "s").await;
    World {
        admin: app.login("admin@s.example", PASSWORD).await,
        op: (op, op_token),
        sub: (sub, sub_token),
        op_packages,
        sub_packages,
        op_customers,
        sub_customers,
    }
}

async fn balance(app: &TestApp, token: &str, user: i64) -> i64 {
    let (status, b) = app
        .get(&format!("/api/v1/users/{user}/balance"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    b["balance"].as_i64().unwrap()
}

/// Every reseller's balance and the number of journals: what a refused step leaves alone.
async fn snapshot(app: &TestApp, w: &World) -> (i64, i64, i64) {
    (
        balance(app, &w.admin, w.op.0).await,
        balance(app, &w.admin, w.sub.0).await,
        app.count("ledger_journal").await,
    )
}

async fn post_keyed(
    app: &TestApp,
    path: &str,
    token: &str,
    body: Value,
    key: &str,
) -> (StatusCode, Value) {
    let (status, _, answer) = app
        .call_full(
            Method::POST,
            path,
            Some(token),
            Some(body),
            &[("Idempotency-Key", key)],
        )
        .await;
    (status, answer)
}

async fn a_random_sequence_keeps_the_books_right(backend: Backend) {
    for seed in seeds() {
        let app = spawn(backend).await;
        let w = world(&app).await;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut last_recharge: Option<(String, String, Value, String, Value)> = None;
        for step in 0..STEPS {
            let here = format!("seed {seed}, step {step}");
            let before = snapshot(&app, &w).await;
            match rng.random_range(0..10) {
                // The Admin books funds to the operator.
                0 => {
                    let amount = rng.random_range(1..=1_500) * TAKA;
                    let (status, answer) = app
                        .post(
                            &format!("/api/v1/users/{}/topup", w.op.0),
                            &w.admin,
                            json!({"amount": amount}),
                        )
                        .await;
                    assert_eq!(status, StatusCode::CREATED, "{here}: {answer}");
                    let after = snapshot(&app, &w).await;
                    assert_eq!(after.0 - before.0, amount, "{here}");
                    assert_eq!(after.1, before.1, "{here}");
                }
                // The operator passes funds down, if it can.
                1 => {
                    let amount = rng.random_range(1..=800) * TAKA;
                    let (status, answer) = app
                        .post(
                            &format!("/api/v1/users/{}/topup", w.sub.0),
                            &w.op.1,
                            json!({"amount": amount}),
                        )
                        .await;
                    let after = snapshot(&app, &w).await;
                    if status == StatusCode::CREATED {
                        assert_eq!(
                            (before.0 - after.0, after.1 - before.1),
                            (amount, amount),
                            "{here}"
                        );
                    } else {
                        assert_eq!(
                            answer["error"]["code"], "insufficient_balance",
                            "{here}: {answer}"
                        );
                        assert_eq!(after, before, "{here}: a refused top-up changed something");
                    }
                }
                // Terms: by the Admin (the tenant covers) or by the operator (it covers).
                2 => {
                    let by = if rng.random_bool(0.5) {
                        &w.admin
                    } else {
                        &w.op.1
                    };
                    let body = match rng.random_range(0..3) {
                        0 => json!({"account_type": "prepaid"}),
                        1 => {
                            json!({"account_type": "credit", "credit_limit": rng.random_range(0..=600) * TAKA})
                        }
                        _ => json!({"account_type": "credit", "credit_limit": null}),
                    };
                    let (status, answer) = app
                        .patch(&format!("/api/v1/users/{}", w.sub.0), by, body)
                        .await;
                    let after = snapshot(&app, &w).await;
                    assert_eq!(
                        (after.0, after.1),
                        (before.0, before.1),
                        "{here}: terms moved money"
                    );
                    assert!(
                        status == StatusCode::OK
                            || answer["error"]["code"] == "insufficient_balance",
                        "{here}: {status} {answer}"
                    );
                }
                // A retry of the last recharge with its key: the same journal, nothing moved.
                3 if last_recharge.is_some() => {
                    let (path, token, body, key, first) = last_recharge.clone().unwrap();
                    let (status, answer) = post_keyed(&app, &path, &token, body, &key).await;
                    assert!(status.is_success(), "{here}: {status} {answer}");
                    assert_eq!(answer["journal_id"], first["journal_id"], "{here}");
                    assert_eq!(
                        snapshot(&app, &w).await,
                        before,
                        "{here}: a retry moved money"
                    );
                }
                // A recharge by one of the resellers.
                _ => {
                    let by_sub = rng.random_bool(0.5);
                    let (collector, token, customers, packages) = if by_sub {
                        (w.sub.0, &w.sub.1, &w.sub_customers, &w.sub_packages)
                    } else {
                        (w.op.0, &w.op.1, &w.op_customers, &w.op_packages)
                    };
                    let customer = customers[rng.random_range(0..customers.len())];
                    let mut body = match rng.random_range(0..4) {
                        0 => json!({}),
                        1 => json!({"days": rng.random_range(1..=30)}),
                        2 => json!({"hours": rng.random_range(1..=48)}),
                        _ => {
                            json!({"days": rng.random_range(1..=5), "hours": rng.random_range(0..24)})
                        }
                    };
                    if rng.random_bool(0.3) {
                        body["package_id"] = json!(packages[rng.random_range(0..packages.len())]);
                    }
                    let path = format!("/api/v1/customers/{customer}/recharge");
                    let key = format!("k-{seed}-{step}");
                    let (status, answer) = post_keyed(&app, &path, token, body.clone(), &key).await;
                    let after = snapshot(&app, &w).await;
                    let collector_after = if by_sub { after.1 } else { after.0 };
                    let collector_before = if by_sub { before.1 } else { before.0 };
                    if status == StatusCode::CREATED {
                        assert_eq!(
                            collector_before - collector_after,
                            answer["cost"].as_i64().unwrap(),
                            "{here}: collector {collector} paid other than its cost: {answer}"
                        );
                        last_recharge = Some((path, token.clone(), body, key, answer));
                    } else {
                        assert_eq!(
                            answer["error"]["code"], "insufficient_balance",
                            "{here}: {answer}"
                        );
                        assert_eq!(
                            after, before,
                            "{here}: a refused recharge changed something"
                        );
                    }
                }
            }
            let breaches = store::ledger::verify(app.state.db.conn(), None)
                .await
                .unwrap();
            assert!(breaches.is_empty(), "{here}: {breaches:?}");
        }
    }
}

both_backends!(a_random_sequence_keeps_the_books_right);
