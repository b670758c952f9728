//! The ledger against an oracle: seeded random sequences of money operations through the
//! API, on both engines, each step checked against an in-memory model of the whole book.
//! The model (`support_ledger`) is written from the posting rules of billing-design.md
//! §1.5–1.6 and the proration of §2, not from the code under test.
//!
//! The world: an Admin, an operator and its sub-operator, two packages at each level, VAT
//! included or added at a rate drawn per seed, customers of each reseller, and a clock that
//! stands still until a step moves it. The steps: top-ups by the Admin and down the tree,
//! account terms set by the Admin (the tenant covers) or by the operator (it covers, and
//! holds what its sub-operator owes), recharges by each reseller and in cash by the Admin
//! with random time and package changes, previews, retries with the same key and with the
//! same key on another request, and the clock moving on. After every step:
//!
//! - a refusal is predicted by the model, says `insufficient_balance` and changes nothing;
//! - every account of the tenant (resellers, customers, cash, revenue, adjustments, VAT)
//!   has the model's balance, and every reseller the model's hold, floor and available;
//! - a recharge answers the model's amount, cost, credit, start and expiry, and leaves the
//!   customer with the model's package, expiry and live grants;
//! - `ledger verify` is clean.
//!
//! One sequence played on SQLite and on PostgreSQL writes the same ledger, entry by entry.
//!
//! `LASTMILE_TEST_SEEDS` (comma-separated) replaces the default seeds; a failure names the
//! seed and the step.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod support_ledger;

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone as _, Utc};
use ops::clock::Clock;
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::{Value, json};
use support::{Backend, PASSWORD, TestApp, spawn_on};
use support_ledger::{Answer, Customer, Model, Priced, Vat};

const TAKA: i64 = 100;
const STEPS: usize = 60;
const DAY: i64 = 24 * 60;

fn seeds() -> Vec<u64> {
    std::env::var("LASTMILE_TEST_SEEDS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2])
}

// ---------------------------------------------------------------------------------------
// The world and what is read back.

struct World {
    tenant: i64,
    admin: (i64, String),
    op: (i64, String),
    sub: (i64, String),
    op_packages: Vec<Priced>,
    sub_packages: Vec<Priced>,
    op_customers: Vec<i64>,
    sub_customers: Vec<i64>,
    /// Account keys by a name that holds on both engines, for comparing ledgers.
    names: BTreeMap<String, String>,
}

fn reseller(id: i64) -> String {
    format!("reseller:{id}")
}

async fn world(app: &TestApp, rng: &mut StdRng) -> (World, Model) {
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Sequence ISP").await;
    let admin = app
        .user(
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
    let vat = Vat {
        rate_bp: [0, 500, 750, 1500][rng.random_range(0..4)],
        inclusive: rng.random_bool(0.5),
    };
    let (status, answer) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/vat-rates"),
            &dev,
            json!({"rate_bp": vat.rate_bp, "inclusive": vat.inclusive}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
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
        let (status, o) = app
            .post("/api/v1/packages", &dev, derive(&master, op, op_cost))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{o}");
        let (status, s) = app
            .post("/api/v1/packages", &dev, derive(&o, sub, sub_cost))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{s}");
        op_packages.push(Priced {
            id: o["id"].as_i64().unwrap(),
            minutes: days * DAY,
            price: price * TAKA,
            costs: vec![(reseller(op), op_cost * TAKA)],
        });
        sub_packages.push(Priced {
            id: s["id"].as_i64().unwrap(),
            minutes: days * DAY,
            price: price * TAKA,
            costs: vec![
                (reseller(sub), sub_cost * TAKA),
                (reseller(op), op_cost * TAKA),
            ],
        });
    }
    let op_token = app.login("op@s.example", PASSWORD).await;
    let sub_token = app.login("sub@s.example", PASSWORD).await;
    let lapsed = app.clock().now() - TimeDelta::days(30);
    let mut customers = BTreeMap::new();
    let mut names = BTreeMap::from([
        (format!("cash:{admin}"), "cash:admin".to_owned()),
        (reseller(op), "reseller:op".to_owned()),
        (reseller(sub), "reseller:sub".to_owned()),
    ]);
    let mut make = async |token: &str, package: i64, prefix: &str| {
        let mut ids = Vec::new();
        for i in 0..3 {
            let (status, c) = app
                .post("/api/v1/customers", token, json!({"package_id": package, "connection_type": "pppoe",
                       "name": format!("{prefix}{i}"), "username": format!("{prefix}{i}"), "expires_at": lapsed}))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{c}");
            let id = c["id"].as_i64().unwrap();
            customers.insert(
                id,
                Customer {
                    account: format!("customer:{id}"),
                    package,
                    expires: lapsed,
                    grants: Vec::new(),
                },
            );
            names.insert(format!("customer:{id}"), format!("customer:{prefix}{i}"));
            ids.push(id);
        }
        ids
    };
    let op_customers = make(&op_token, op_packages[0].id, "o").await;
    let sub_customers = make(&sub_token, sub_packages[0].id, "s").await;
    let model = Model {
        now: app.clock().now(),
        vat,
        balance: BTreeMap::new(),
        held: BTreeMap::new(),
        floor: BTreeMap::new(),
        cover: BTreeMap::new(),
        customers,
        journals: 0,
    };
    let world = World {
        tenant,
        admin: (admin, app.login("admin@s.example", PASSWORD).await),
        op: (op, op_token),
        sub: (sub, sub_token),
        op_packages,
        sub_packages,
        op_customers,
        sub_customers,
        names,
    };
    (world, model)
}

async fn rows(app: &TestApp, sql: String) -> Vec<sea_orm::QueryResult> {
    let conn = app.state.db.conn();
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
}

/// Every account of the tenant: key → (normal balance, held, floor).
async fn accounts(app: &TestApp, tenant: i64) -> BTreeMap<String, (i64, i64, Option<i64>)> {
    rows(
        app,
        format!(
            "SELECT key, normal * (credits_posted - debits_posted) AS balance, debits_pending,
                    floor_amount FROM ledger_account WHERE tenant_id = {tenant}"
        ),
    )
    .await
    .iter()
    .map(|r| {
        (
            r.try_get::<String>("", "key").unwrap(),
            (
                r.try_get("", "balance").unwrap(),
                r.try_get("", "debits_pending").unwrap(),
                r.try_get("", "floor_amount").unwrap(),
            ),
        )
    })
    .collect()
}

/// The book, entry by entry, with the names that hold on both engines.
async fn dump(app: &TestApp, w: &World) -> Vec<String> {
    rows(
        app,
        format!(
            "SELECT j.kind, a.key, e.side, e.amount, e.balance_after, e.at
               FROM ledger_entry e JOIN ledger_journal j ON j.id = e.journal_id
               JOIN ledger_account a ON a.id = e.account_id
              WHERE e.tenant_id = {} ORDER BY e.journal_id, e.id",
            w.tenant
        ),
    )
    .await
    .iter()
    .map(|r| {
        let key: String = r.try_get("", "key").unwrap();
        let at: DateTime<Utc> = r.try_get("", "at").unwrap();
        format!(
            "{} {} {} {} {} {}",
            r.try_get::<String>("", "kind").unwrap(),
            w.names.get(&key).unwrap_or(&key),
            r.try_get::<i16>("", "side").unwrap(),
            r.try_get::<i64>("", "amount").unwrap(),
            r.try_get::<i64>("", "balance_after").unwrap(),
            at.to_rfc3339(),
        )
    })
    .collect()
}

/// Holds the database to the model: every account, every reseller's balance as the API
/// shows it, every customer's package, expiry and live grants, the journals, and `verify`.
async fn check(app: &TestApp, w: &World, m: &Model, here: &str) {
    let stored = accounts(app, w.tenant).await;
    let keys: std::collections::BTreeSet<&String> = stored.keys().chain(m.balance.keys()).collect();
    for key in keys {
        let (balance, held, floor) = stored.get(key).copied().unwrap_or((0, 0, Some(0)));
        assert_eq!(balance, m.bal(key), "{here}: balance of {key}");
        if key.starts_with("reseller:") {
            let model_held = m.held.get(key).copied().unwrap_or(0);
            assert_eq!(
                (held, floor),
                (model_held, m.floor_of(key)),
                "{here}: hold and floor of {key}"
            );
        }
    }
    for user in [w.op.0, w.sub.0] {
        let (status, b) = app
            .get(&format!("/api/v1/users/{user}/balance"), &w.admin.1)
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let key = reseller(user);
        assert_eq!(b["balance"], json!(m.bal(&key)), "{here}: {b}");
        assert_eq!(b["available"], json!(m.available(&key)), "{here}: {b}");
    }
    for (id, c) in &m.customers {
        let (status, got) = app
            .get(&format!("/api/v1/customers/{id}"), &w.admin.1)
            .await;
        assert_eq!(status, StatusCode::OK, "{got}");
        assert_eq!(got["package_id"], json!(c.package), "{here}: customer {id}");
        let expires: DateTime<Utc> = serde_json::from_value(got["expires_at"].clone()).unwrap();
        assert_eq!(expires, c.expires, "{here}: expiry of customer {id}");
        let live = rows(
            app,
            format!(
                "SELECT starts_at, ends_at, minutes, price FROM service_grant
                  WHERE customer_id = {id} AND ended_at IS NULL ORDER BY id"
            ),
        )
        .await
        .iter()
        .map(|r| {
            (
                r.try_get::<DateTime<Utc>>("", "starts_at").unwrap(),
                r.try_get::<DateTime<Utc>>("", "ends_at").unwrap(),
                r.try_get::<i64>("", "minutes").unwrap(),
                r.try_get::<i64>("", "price").unwrap(),
            )
        })
        .filter(|(_, ends, ..)| *ends > m.now)
        .collect::<Vec<_>>();
        let model: Vec<_> = c
            .grants
            .iter()
            .filter(|g| g.ends > m.now)
            .map(|g| (g.starts, g.ends, g.minutes, g.sale.price))
            .collect();
        assert_eq!(live, model, "{here}: live grants of customer {id}");
    }
    let journals = rows(
        app,
        format!(
            "SELECT COUNT(*) AS n FROM ledger_journal WHERE tenant_id = {}",
            w.tenant
        ),
    )
    .await[0]
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(journals, m.journals, "{here}: journals");
    let breaches = store::ledger::verify(app.state.db.conn(), None)
        .await
        .unwrap();
    assert!(breaches.is_empty(), "{here}: {breaches:?}");
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

fn answered(a: &Value) -> Answer {
    let at = |k: &str| serde_json::from_value::<DateTime<Utc>>(a[k].clone()).unwrap();
    Answer {
        amount: a["amount"].as_i64().unwrap(),
        cost: a["cost"].as_i64().unwrap(),
        credit: a["credit"].as_i64().unwrap(),
        wallet: a["wallet"].as_i64().unwrap(),
        starts: at("starts_at"),
        expires: at("expires_at"),
    }
}

/// A refusal the model predicted: the right code, nothing written.
fn refused(status: StatusCode, answer: &Value, here: &str) {
    assert_eq!(
        (status, &answer["error"]["code"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("insufficient_balance")
        ),
        "{here}: {answer}"
    );
}

// ---------------------------------------------------------------------------------------
// The sequence.

/// The instant the clock stands at when a sequence starts.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 4, 0, 0).unwrap()
}

/// Plays `seed` on `backend`; returns the ledger it wrote.
async fn play(backend: Backend, seed: u64) -> Vec<String> {
    let app = spawn_on(backend, Clock::fixed(start()), |_| {}).await;
    let mut rng = StdRng::seed_from_u64(seed);
    let (w, mut m) = world(&app, &mut rng).await;
    check(&app, &w, &m, &format!("seed {seed}, start")).await;
    // The last recharge: its path, token, body, key and answer.
    let mut last: Option<(String, String, Value, String, Value)> = None;
    for step in 0..STEPS {
        let here = format!("seed {seed}, step {step}");
        match rng.random_range(0..14) {
            // The Admin books funds to the operator.
            0 | 1 => {
                let amount = rng.random_range(1..=1_500) * TAKA;
                let (status, answer) = app
                    .post(
                        &format!("/api/v1/users/{}/topup", w.op.0),
                        &w.admin.1,
                        json!({"amount": amount}),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{here}: {answer}");
                m = m
                    .topup(&format!("cash:{}", w.admin.0), &reseller(w.op.0), amount)
                    .expect("cash has no floor");
            }
            // The operator passes funds down, if it can.
            2 => {
                let amount = rng.random_range(1..=800) * TAKA;
                let (status, answer) = app
                    .post(
                        &format!("/api/v1/users/{}/topup", w.sub.0),
                        &w.op.1,
                        json!({"amount": amount}),
                    )
                    .await;
                match m.topup(&reseller(w.op.0), &reseller(w.sub.0), amount) {
                    Some(after) => {
                        assert_eq!(status, StatusCode::CREATED, "{here}: {answer}");
                        m = after;
                    }
                    None => refused(status, &answer, &here),
                }
            }
            // Terms: of the sub-operator by the Admin (the tenant covers) or by the
            // operator (it covers); of the operator by the Admin.
            3 | 4 => {
                let (floor, body) = match rng.random_range(0..3) {
                    0 => (Some(0), json!({"account_type": "prepaid"})),
                    1 => {
                        let limit = rng.random_range(0..=600) * TAKA;
                        (
                            Some(-limit),
                            json!({"account_type": "credit", "credit_limit": limit}),
                        )
                    }
                    _ => (
                        None,
                        json!({"account_type": "credit", "credit_limit": null}),
                    ),
                };
                let (who, target, cover) = match rng.random_range(0..3) {
                    0 => (&w.admin.1, w.sub.0, None),
                    1 => (&w.op.1, w.sub.0, Some(reseller(w.op.0))),
                    _ => (&w.admin.1, w.op.0, None),
                };
                let (status, answer) = app
                    .patch(&format!("/api/v1/users/{target}"), who, body)
                    .await;
                match m.terms(&reseller(target), floor, cover.as_deref()) {
                    Some(after) => {
                        assert_eq!(status, StatusCode::OK, "{here}: {answer}");
                        m = after;
                    }
                    None => refused(status, &answer, &here),
                }
            }
            // A retry of the last recharge with its key: the same journal, nothing moved;
            // the same key on another request: refused, nothing moved.
            5 if last.is_some() => {
                let (path, token, mut body, key, first) = last.clone().unwrap();
                if rng.random_bool(0.5) {
                    let (status, answer) = post_keyed(&app, &path, &token, body, &key).await;
                    assert!(status.is_success(), "{here}: {status} {answer}");
                    assert_eq!(answer["journal_id"], first["journal_id"], "{here}");
                    assert_eq!(answered(&answer), answered(&first), "{here}: {answer}");
                } else {
                    body["hours"] = json!(body["hours"].as_i64().unwrap_or(0) + 1);
                    let (status, answer) = post_keyed(&app, &path, &token, body, &key).await;
                    assert_eq!(status, StatusCode::CONFLICT, "{here}: {answer}");
                }
            }
            // The clock moves on: minutes, hours or days.
            6 => {
                let minutes = match rng.random_range(0..3) {
                    0 => rng.random_range(1..60),
                    1 => rng.random_range(1..48) * 60,
                    _ => rng.random_range(1..20) * DAY,
                };
                app.clock().shift(minutes * 60);
                m.now += TimeDelta::minutes(minutes);
            }
            // A recharge: by a reseller from its balance, or by the Admin in cash; with
            // `preview` now and then, which answers the same and writes nothing.
            _ => {
                let (collector, token, customers, packages) = match rng.random_range(0..5) {
                    0 | 1 => (
                        reseller(w.sub.0),
                        &w.sub.1,
                        &w.sub_customers,
                        &w.sub_packages,
                    ),
                    2 | 3 => (reseller(w.op.0), &w.op.1, &w.op_customers, &w.op_packages),
                    _ if rng.random_bool(0.5) => (
                        format!("cash:{}", w.admin.0),
                        &w.admin.1,
                        &w.sub_customers,
                        &w.sub_packages,
                    ),
                    _ => (
                        format!("cash:{}", w.admin.0),
                        &w.admin.1,
                        &w.op_customers,
                        &w.op_packages,
                    ),
                };
                let customer = customers[rng.random_range(0..customers.len())];
                let (mut body, minutes) = match rng.random_range(0..4) {
                    0 => (json!({}), None),
                    1 => {
                        let d = rng.random_range(1..=30);
                        (json!({"days": d}), Some(d * DAY))
                    }
                    2 => {
                        let h = rng.random_range(1..=48);
                        (json!({"hours": h}), Some(h * 60))
                    }
                    _ => {
                        let (d, h) = (rng.random_range(1..=5), rng.random_range(0..24));
                        (json!({"days": d, "hours": h}), Some(d * DAY + h * 60))
                    }
                };
                let current = m.customers[&customer].package;
                let package = if rng.random_bool(0.3) {
                    let p = packages[rng.random_range(0..packages.len())].clone();
                    body["package_id"] = json!(p.id);
                    p
                } else {
                    packages.iter().find(|p| p.id == current).unwrap().clone()
                };
                let (expected, after) = m.recharge(customer, &package, minutes, &collector);
                let path = format!("/api/v1/customers/{customer}/recharge");
                if rng.random_bool(0.2) {
                    body["preview"] = json!(true);
                    let (status, answer) = app.post(&path, token, body).await;
                    assert_eq!(status, StatusCode::OK, "{here}: {answer}");
                    let got = answered(&answer);
                    assert_eq!(got, expected, "{here}: preview");
                } else {
                    let key = format!("k-{seed}-{step}");
                    let (status, answer) = post_keyed(&app, &path, token, body.clone(), &key).await;
                    match after {
                        Some(after) => {
                            assert_eq!(status, StatusCode::CREATED, "{here}: {answer}");
                            assert_eq!(answered(&answer), expected, "{here}: {answer}");
                            m = after;
                            last = Some((path, token.clone(), body, key, answer));
                        }
                        None => refused(status, &answer, &here),
                    }
                }
            }
        }
        check(&app, &w, &m, &here).await;
    }
    dump(&app, &w).await
}

async fn a_random_sequence_keeps_the_book_the_model_predicts(backend: Backend) {
    for seed in seeds() {
        play(backend, seed).await;
    }
}

both_backends!(a_random_sequence_keeps_the_book_the_model_predicts);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sequence_writes_the_same_ledger_on_both_engines() {
    let seed = 7;
    let sqlite = play(Backend::Sqlite, seed).await;
    let postgres = play(Backend::Postgres, seed).await;
    assert!(
        sqlite.len() > 20,
        "the sequence posted too little: {sqlite:?}"
    );
    assert_eq!(sqlite, postgres);
}
