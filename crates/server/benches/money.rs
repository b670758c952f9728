//! Recharges with their ledger postings, as resellers meet them: over the API, 64 clients
//! at once, on the benchmark ISP.
//!
//! ```text
//! cargo bench -p lastmile --bench money [-- CUSTOMERS]
//! ```
//!
//! For each backend, an installation seeded with CUSTOMERS (default 100 000; `lastmile
//! bench seed --with-staff`: ten operators, five with two sub-operators each, skewed
//! packages and customers). The tenant's Admin books funds to every operator and each
//! operator passes some to its sub-operators, through the API. Then three phases of
//! `REQUESTS` (default 3 200) requests from 64 clients, each client signed in as a
//! reseller and recharging customers of its own drawn at random (those with time to buy:
//! not disabled, not free): one day to a month, some in hours, one whole validity, and one
//! in six a change to another of the reseller's packages (so the unused time of the stored
//! grant is credited):
//!
//! 1. previews of those recharges (the same reads, nothing written): the baseline;
//! 2. the recharges, the clients spread over every reseller;
//! 3. the recharges, every client one sub-operator's (the hot account: each posting waits
//!    for that balance's row).
//!
//! Printed per phase: requests/s, p50, p95, p99 and the p50 against the preview's, the
//! answers that were not 2xx by status (a customer two clients hit at once answers 412);
//! then `lastmile ledger verify` (it must be clean), the journals and entries written, and
//! on PostgreSQL the bytes of the ledger's tables per journal.
//!
//! - `LASTMILE_BENCH_BACKENDS`: `sqlite,postgres` (default both).
//! - `LASTMILE_BENCH_REQUESTS`: requests per phase.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::collections::HashMap;

use common::{Install, Phase, post_all, report, rows};
use rand::{RngExt as _, SeedableRng as _};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use testkit::Backend;

const CLIENTS: usize = 64;

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
    let requests: usize = std::env::var("LASTMILE_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_200);
    println!("money, {customers} customers, {requests} requests a phase, {CLIENTS} clients");
    for backend in common::backends() {
        run(backend, customers, requests).await;
    }
}

/// A reseller of the seeded tenant, signed in.
#[derive(Debug, Clone)]
struct Reseller {
    id: i64,
    token: String,
    /// Its customers: (id, connection type).
    customers: Vec<(i64, String)>,
    /// Its packages by connection type.
    packages: HashMap<String, Vec<i64>>,
}

/// What one client sends.
fn draw(reseller: &Reseller, rng: &mut impl rand::Rng, preview: bool) -> (i64, Value) {
    let (customer, connection) = &reseller.customers[rng.random_range(0..reseller.customers.len())];
    let mut body = match rng.random_range(0..10) {
        0..=3 => json!({"days": rng.random_range(1..=30)}),
        4..=5 => json!({"hours": rng.random_range(1..=72)}),
        6 => json!({"days": rng.random_range(1..=7), "hours": rng.random_range(0..24)}),
        _ => json!({}),
    };
    if rng.random_range(0..6) == 0
        && let Some(packages) = reseller.packages.get(connection)
    {
        body["package_id"] = json!(packages[rng.random_range(0..packages.len())]);
    }
    body["preview"] = json!(preview);
    (*customer, body)
}

/// One phase: `requests` requests from [`CLIENTS`] clients, client `i` acting as
/// `resellers[i % len]` and drawing its requests with its own seed.
async fn phase(
    base: &str,
    resellers: &[Reseller],
    requests: usize,
    preview: bool,
    seed: u64,
) -> Phase {
    let clients = (0..CLIENTS)
        .map(|i| {
            let share = requests / CLIENTS + usize::from(i < requests % CLIENTS);
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed + i as u64);
            let reseller = &resellers[i % resellers.len()];
            (0..share)
                .map(|_| {
                    let (customer, body) = draw(reseller, &mut rng, preview);
                    let path = format!("/api/v1/customers/{customer}/recharge");
                    (reseller.token.clone(), path, body)
                })
                .collect()
        })
        .collect();
    post_all(base, clients).await
}

async fn count(conn: &DatabaseConnection, table: &str) -> i64 {
    rows(conn, &format!("SELECT COUNT(*) AS n FROM {table}")).await[0]
        .try_get("", "n")
        .unwrap()
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
    let accounts: Vec<(String, String, String)> = seed
        .lines()
        .filter_map(|line| {
            let mut parts = line.strip_prefix("account ")?.splitn(3, ' ');
            Some((
                parts.next()?.to_owned(),
                parts.next()?.to_owned(),
                parts.next()?.trim().to_owned(),
            ))
        })
        .collect();
    let conn = install.connect().await;
    let http = common::client();
    let (server, _) = install.serve(&[], &http).await;
    let sign_in = |email: String, password: String| {
        let http = http.clone();
        let base = server.base.clone();
        async move {
            let body: Value = http
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (
                body["token"].as_str().unwrap().to_owned(),
                body["user"]["id"].as_i64().unwrap(),
            )
        }
    };
    let (_, admin_email, admin_password) =
        accounts.iter().find(|a| a.0 == "admin").unwrap().clone();
    let (admin, _) = sign_in(admin_email, admin_password).await;

    // The resellers, their customers and their packages.
    let mut resellers = Vec::new();
    for (role, email, password) in accounts.iter().filter(|a| a.0 != "admin") {
        let (token, id) = sign_in(email.clone(), password.clone()).await;
        let column = if role == "operator" {
            "operator_id = {id} AND sub_operator_id IS NULL"
        } else {
            "sub_operator_id = {id}"
        }
        .replace("{id}", &id.to_string());
        let customers: Vec<(i64, String)> = rows(
            &conn,
            &format!("SELECT id, connection_type FROM customer WHERE {column} AND status <> 'disabled' AND billing_type <> 'free' AND archived_at IS NULL"),
        )
        .await
        .iter()
        .map(|r| (r.try_get("", "id").unwrap(), r.try_get("", "connection_type").unwrap()))
        .collect();
        let mut packages: HashMap<String, Vec<i64>> = HashMap::new();
        for r in rows(&conn, &format!("SELECT id, connection_type FROM package WHERE owner_id = {id} AND archived_at IS NULL")).await {
            packages
                .entry(r.try_get("", "connection_type").unwrap())
                .or_default()
                .push(r.try_get("", "id").unwrap());
        }
        if !customers.is_empty() {
            resellers.push((
                role.clone(),
                Reseller {
                    id,
                    token,
                    customers,
                    packages,
                },
            ));
        }
    }
    // Funds down the tree, through the API.
    for (role, r) in &resellers {
        if role == "operator" {
            server
                .send_json(
                    &http,
                    &admin,
                    reqwest::Method::POST,
                    &format!("/api/v1/users/{}/topup", r.id),
                    &json!({"amount": 100_000_000_000i64}),
                )
                .await;
        }
    }
    for (role, r) in &resellers {
        if role == "sub_operator" {
            let parent: i64 = rows(
                &conn,
                &format!("SELECT parent_id FROM staff_user WHERE id = {}", r.id),
            )
            .await[0]
                .try_get("", "parent_id")
                .unwrap();
            let (_, op) = resellers.iter().find(|(_, o)| o.id == parent).unwrap();
            server
                .send_json(
                    &http,
                    &op.token,
                    reqwest::Method::POST,
                    &format!("/api/v1/users/{}/topup", r.id),
                    &json!({"amount": 10_000_000_000i64}),
                )
                .await;
        }
    }
    let spread: Vec<Reseller> = resellers.iter().map(|(_, r)| r.clone()).collect();
    let hot: Vec<Reseller> = resellers
        .iter()
        .filter(|(role, _)| role == "sub_operator")
        .max_by_key(|(_, r)| r.customers.len())
        .map(|(_, r)| vec![r.clone()])
        .unwrap();
    println!(
        "  {} resellers with customers; the hot one has {} customers",
        spread.len(),
        hot[0].customers.len()
    );

    let journals_before = count(&conn, "ledger_journal").await;
    let preview = phase(&server.base, &spread, requests, true, 1).await;
    report("preview (baseline)", &preview, None);
    let paid = phase(&server.base, &spread, requests, false, 2).await;
    report("recharge, spread", &paid, Some(("preview", &preview)));
    let hot_paid = phase(&server.base, &hot, requests, false, 3).await;
    report(
        "recharge, one balance",
        &hot_paid,
        Some(("preview", &preview)),
    );

    let verify = install.lastmile(&["ledger", "verify"]).output().unwrap();
    assert!(
        verify.status.success(),
        "ledger verify: {}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let journals = count(&conn, "ledger_journal").await - journals_before;
    let entries = count(&conn, "ledger_entry").await;
    println!(
        "  ledger verify clean; {journals} recharge journals, {entries} entries in all ({:.1} a journal)",
        entries as f64 / (journals + journals_before) as f64
    );
    if backend == Backend::Postgres {
        let bytes: i64 = rows(
            &conn,
            "SELECT CAST(pg_total_relation_size('ledger_entry') + pg_total_relation_size('ledger_journal')
                    + pg_total_relation_size('service_grant') AS BIGINT) AS n",
        )
        .await[0]
            .try_get("", "n")
            .unwrap();
        println!(
            "  ledger tables with indexes: {:.0} bytes a journal",
            bytes as f64 / (journals + journals_before) as f64
        );
    }
    server.stop().await;
}
