//! Online payments' notices as a provider delivers them: `lastmile serve` on the benchmark
//! ISP and the simulated provider (`gateways::sim`) on loopback.
//!
//! ```text
//! cargo bench -p lastmile --bench payments [-- CUSTOMERS]
//! ```
//!
//! For each backend, an installation seeded with CUSTOMERS (default 100 000, `lastmile bench
//! seed --with-staff`). The tenant's Admin adds a merchant account at the simulator and
//! starts `PAYMENTS` (default 2 000) online payments for prepaid customers drawn at random,
//! over the API. Then the customers pay, 16 at a time: the first 30% with every notice
//! delivered twice, the rest once, so 30% of the payments come with a duplicate. Measured
//! from the first payment to the last one settled (the notice kept, the provider asked,
//! the recharge posted): notices per minute and payments settled per minute; then that
//! every payment was credited exactly once (payments, intents settled, events kept) and
//! `lastmile ledger verify`.
//!
//! - `LASTMILE_BENCH_BACKENDS`: `sqlite,postgres` (default both).
//! - `LASTMILE_BENCH_PAYMENTS`: payments per backend.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Install;
use gateways::Provider;
use gateways::sim::{Scenario, SimConfig, SimGateway};
use rand::{RngExt as _, SeedableRng as _};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};
use serde_json::json;
use testkit::Backend;

const KEY: &str = "sk_bench_payments";
const WEBHOOK_SECRET: &str = "whsec_bench_payments";
const PAYERS: usize = 16;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let customers = common::customers_arg(100_000);
    let payments: usize = std::env::var("LASTMILE_BENCH_PAYMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    println!(
        "online payments, {customers} customers, {payments} payments, 30% with a duplicate notice"
    );
    for backend in common::backends() {
        run(backend, customers, payments).await;
    }
}

async fn scalar(conn: &DatabaseConnection, sql: &str) -> i64 {
    conn.query_one_raw(Statement::from_string(
        conn.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get("", "n")
    .unwrap()
}

async fn run(backend: Backend, customers: usize, payments: usize) {
    println!("\n{backend:?}");
    let install = Install::new(backend).await;
    let seed = install.run(&[
        "bench",
        "seed",
        "--customers",
        &customers.to_string(),
        "--with-staff",
    ]);
    let (email, password) = seed
        .lines()
        .filter_map(|line| {
            let mut parts = line.strip_prefix("account ")?.splitn(3, ' ');
            Some((parts.next()?, parts.next()?, parts.next()?.trim()))
        })
        .find(|(role, _, _)| *role == "admin")
        .map(|(_, e, p)| (e.to_owned(), p.to_owned()))
        .expect("the seed prints its Admin");
    let conn = install.connect().await;
    let http = common::client();
    let (server, _) = install.serve(&[], &http).await;
    let sim = SimGateway::start(SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        secret_key: KEY.to_owned(),
        webhook_secret: WEBHOOK_SECRET.to_owned(),
        scenario: Scenario::default(),
    })
    .await
    .unwrap();
    let token = http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let account = server
        .send_json(
            &http,
            &token,
            reqwest::Method::POST,
            "/api/v1/gateway-accounts",
            &json!({"provider": "generic", "name": "bench", "base_url": sim.base_url(Provider::Generic),
                    "secret_key": KEY, "webhook_secret": WEBHOOK_SECRET}),
        )
        .await["id"]
        .as_i64()
        .unwrap();

    // Prepaid customers in service or lapsed, drawn at random, each paying once.
    let candidates = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT id FROM customer WHERE billing_type = 'prepaid' AND status IN ('active', 'suspended') \
               AND archived_at IS NULL ORDER BY id"
                .to_owned(),
        ))
        .await
        .unwrap();
    let mut ids: Vec<i64> = candidates
        .iter()
        .map(|r| r.try_get::<i64>("", "id").unwrap())
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for i in (1..ids.len()).rev() {
        ids.swap(i, rng.random_range(0..=i));
    }
    ids.truncate(payments);
    let started = Instant::now();
    let mut refs = Vec::with_capacity(ids.len());
    for id in &ids {
        let intent = server
            .send_json(
                &http,
                &token,
                reqwest::Method::POST,
                "/api/v1/payments/online",
                &json!({"customer_id": id, "gateway_account_id": account}),
            )
            .await;
        refs.push(intent["merchant_ref"].as_str().unwrap().to_owned());
    }
    println!(
        "  {} payments started over the API in {:.1} s",
        refs.len(),
        started.elapsed().as_secs_f64()
    );
    let by_ref: std::collections::HashMap<String, String> = sim
        .payments()
        .into_iter()
        .map(|p| (p.merchant_ref, p.id))
        .collect();
    let provider_ids: Vec<String> = refs.iter().map(|r| by_ref[r].clone()).collect();

    // The payments: the first 30% with every notice twice.
    let sim = Arc::new(sim);
    let duplicated = provider_ids.len() * 3 / 10;
    let events_before = scalar(&conn, "SELECT COUNT(*) AS n FROM gateway_event").await;
    let began = Instant::now();
    for (phase, slice) in [
        (1u32, &provider_ids[..duplicated]),
        (0u32, &provider_ids[duplicated..]),
    ] {
        sim.set_scenario(Scenario {
            duplicates: phase,
            ..Scenario::default()
        });
        let chunk = slice.len().div_ceil(PAYERS).max(1);
        let tasks: Vec<_> = slice
            .chunks(chunk)
            .map(|ids| {
                let sim = Arc::clone(&sim);
                let ids = ids.to_vec();
                tokio::spawn(async move {
                    for id in ids {
                        sim.pay(&id).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    }
    let paid_in = began.elapsed();
    // Until every intent is settled (or two minutes pass).
    let total = i64::try_from(provider_ids.len()).unwrap();
    let settled_sql = "SELECT COUNT(*) AS n FROM payment_intent WHERE status = 'succeeded'";
    let deadline = Instant::now() + Duration::from_secs(120);
    while scalar(&conn, settled_sql).await < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = began.elapsed();
    let settled = scalar(&conn, settled_sql).await;
    let payments_made = scalar(
        &conn,
        "SELECT COUNT(*) AS n FROM payment WHERE method = 'online'",
    )
    .await;
    let events = scalar(&conn, "SELECT COUNT(*) AS n FROM gateway_event").await - events_before;
    let deliveries = provider_ids.len() + duplicated;
    let minutes = took.as_secs_f64() / 60.0;
    println!(
        "  paid at the provider in {:.1} s; all settled after {:.1} s",
        paid_in.as_secs_f64(),
        took.as_secs_f64()
    );
    println!(
        "  notices delivered {deliveries} ({duplicated} duplicates): {:.0}/min; payments settled {settled}/{total}: {:.0}/min",
        deliveries as f64 / minutes,
        settled as f64 / minutes
    );
    println!(
        "  credited exactly once: {} (payments {payments_made}, events kept {events}, intents settled {settled})",
        payments_made == total && events == total && settled == total
    );
    let verify = install.run(&["ledger", "verify"]);
    println!("  {}", verify.trim());
    server.stop().await;
    if let Ok(sim) = Arc::try_unwrap(sim) {
        sim.shutdown().await;
    }
}
