//! Recharge cards as an ISP meets them: over the API of a `lastmile serve` process.
//!
//! ```text
//! cargo bench -p lastmile --bench cards [-- CUSTOMERS]
//! ```
//!
//! For each backend, an installation seeded with CUSTOMERS (default 20 000; `lastmile bench
//! seed --with-staff`: resellers, skewed packages, shared name prefixes), then, as the
//! tenant's Admin:
//!
//! 1. **Batch generation**: a batch of 100 000 cards with its PINs kept sealed, three times
//!    (median), and once with its PINs given back in the answer instead; the baseline, in
//!    the same command, a batch of 1 000 (median of three), per card against per card.
//! 2. **Export** of a batch's 100 000 PINs as CSV.
//! 3. **Redemption**: `REQUESTS` (default 2 000) cards of that batch redeemed by 16 clients
//!    at once, each for a customer drawn at random among those the card's package serves
//!    (its own, or a reseller's package made from it); the baseline, in the same command, as
//!    many plain recharges of one validity for customers drawn the same way. Requests/s,
//!    p50, p95, p99, the p50 against the recharge's, and the answers that were not 2xx (a
//!    customer two clients drew at once answers 412).
//!
//! Then `lastmile ledger verify`, which must be clean.
//!
//! - `LASTMILE_BENCH_BACKENDS`: `sqlite,postgres` (default both).
//! - `LASTMILE_BENCH_REQUESTS`: redemptions (and recharges).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::time::{Duration, Instant};

use common::{Install, Request, ms, post_all, ratio, report, rows};
use rand::{RngExt as _, SeedableRng as _};
use reqwest::Method;
use serde_json::{Value, json};
use testkit::Backend;

const CLIENTS: usize = 16;
const BIG: i64 = 100_000;
const SMALL: i64 = 1_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let customers = common::customers_arg(20_000);
    let requests: usize = std::env::var("LASTMILE_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    println!("cards, {customers} customers, {requests} redemptions, {CLIENTS} clients");
    for backend in common::backends() {
        run(backend, customers, requests).await;
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Makes a batch of `quantity` cards of `package`; how long it took and the answer.
async fn batch(
    server: &common::Server,
    http: &reqwest::Client,
    token: &str,
    package: i64,
    quantity: i64,
    keep_pins: bool,
) -> (Duration, Value) {
    let started = Instant::now();
    let made = server
        .send_json(
            http,
            token,
            Method::POST,
            "/api/v1/card-batches",
            &json!({"package_id": package, "quantity": quantity, "keep_pins": keep_pins}),
        )
        .await;
    (started.elapsed(), made)
}

async fn run(backend: Backend, customers: usize, requests: usize) {
    println!("\n{backend:?}");
    let install = Install::new(backend).await;
    let seed = install.run(&[
        "bench",
        "seed",
        "--customers",
        &customers.to_string(),
        "--with-staff",
    ]);
    let (admin_email, admin_password) = seed
        .lines()
        .find_map(|line| {
            let mut parts = line.strip_prefix("account admin ")?.splitn(2, ' ');
            Some((parts.next()?.to_owned(), parts.next()?.trim().to_owned()))
        })
        .unwrap();
    let conn = install.connect().await;
    let http = common::client();
    let (server, _) = install.serve(&[], &http).await;
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": admin_email, "password": admin_password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = login["token"].as_str().unwrap().to_owned();

    // The master package most customers are served by (their own or a reseller's made
    // from it), and the customers it serves.
    let popular = rows(
        &conn,
        "SELECT COALESCE(p.master_id, p.id) AS master, COUNT(*) AS n FROM customer c \
         JOIN package p ON p.id = c.package_id \
         WHERE c.status <> 'disabled' AND c.billing_type = 'prepaid' AND c.archived_at IS NULL \
         GROUP BY COALESCE(p.master_id, p.id) ORDER BY n DESC",
    )
    .await;
    let package: i64 = popular[0].try_get("", "master").unwrap();
    let served: Vec<i64> = rows(
        &conn,
        &format!(
            "SELECT c.id FROM customer c JOIN package p ON p.id = c.package_id \
             WHERE (p.id = {package} OR p.master_id = {package}) AND c.status <> 'disabled' \
             AND c.billing_type = 'prepaid' AND c.archived_at IS NULL"
        ),
    )
    .await
    .iter()
    .map(|r| r.try_get("", "id").unwrap())
    .collect();
    println!(
        "  package {package}: {} prepaid customers it serves",
        served.len()
    );

    // 1. Batch generation.
    let mut small = Vec::new();
    for _ in 0..3 {
        small.push(batch(&server, &http, &admin, package, SMALL, true).await.0);
    }
    let small = median(small);
    let mut big = Vec::new();
    let mut kept = 0;
    for _ in 0..3 {
        let (took, made) = batch(&server, &http, &admin, package, BIG, true).await;
        kept = made["batch"]["id"].as_i64().unwrap();
        big.push(took);
    }
    let big = median(big);
    let (shown, made) = batch(&server, &http, &admin, package, BIG, false).await;
    assert_eq!(made["pins"].as_array().unwrap().len(), BIG as usize);
    let per = |d: Duration, n: i64| d / u32::try_from(n).unwrap();
    println!(
        "  batch of {BIG}, PINs sealed   {} ({} a card, {} the batch of {SMALL}'s per card {})",
        ms(big),
        ms(per(big, BIG)),
        ratio(per(big, BIG), per(small, SMALL)),
        ms(per(small, SMALL)),
    );
    println!(
        "  batch of {BIG}, PINs shown    {} ({} a card)",
        ms(shown),
        ms(per(shown, BIG))
    );

    // 2. Export.
    let started = Instant::now();
    let csv = http
        .get(format!("{}/api/v1/card-batches/{kept}/export", server.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let exported = started.elapsed();
    let pins: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(pins.len(), BIG as usize);
    println!("  export of {BIG} PINs        {}", ms(exported));

    // 3. Redemption against plain recharges of the same customers' shape.
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut draw = || served[rng.random_range(0..served.len())];
    // Round robin over the clients, all as the Admin.
    let spread = |requests: Vec<Request>| {
        let mut clients: Vec<Vec<Request>> = vec![Vec::new(); CLIENTS];
        for (i, r) in requests.into_iter().enumerate() {
            clients[i % CLIENTS].push(r);
        }
        clients
    };
    let recharges: Vec<Request> = (0..requests)
        .map(|_| {
            let path = format!("/api/v1/customers/{}/recharge", draw());
            (admin.clone(), path, json!({}))
        })
        .collect();
    let redemptions: Vec<Request> = pins
        .iter()
        .take(requests)
        .map(|pin| {
            let body = json!({"customer_id": draw(), "pin": pin});
            (admin.clone(), "/api/v1/cards/redeem".to_owned(), body)
        })
        .collect();
    let recharged = post_all(&server.base, spread(recharges)).await;
    report("recharge (baseline)", &recharged, None);
    let redeemed = post_all(&server.base, spread(redemptions)).await;
    report("redemption", &redeemed, Some(("recharge", &recharged)));

    let verify = install.lastmile(&["ledger", "verify"]).output().unwrap();
    assert!(
        verify.status.success(),
        "ledger verify: {}",
        String::from_utf8_lossy(&verify.stdout)
    );
    println!("  ledger verify: clean");
    server.stop().await;
}
