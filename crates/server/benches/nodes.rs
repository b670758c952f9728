//! Two nodes on one PostgreSQL: how long a session or a change recorded through one
//! `lastmile serve` takes to reach the other's RADIUS answers, over real UDP and HTTP.
//!
//! ```text
//! cargo bench -p lastmile --bench nodes [-- CUSTOMERS]
//! ```
//!
//! An installation seeded with CUSTOMERS (default 10 000; `lastmile bench seed`), its
//! sessions cleared, a router at 127.0.0.2, and two `lastmile serve` processes on it (A and
//! B), left to finish their start-up work (the day's billing pass). For each of
//! `LASTMILE_BENCH_ROUNDS` (default 40) customers allowed one session, drawn at random among
//! those in service:
//!
//! - **session**: an Accounting Start for it to A; from A's acknowledgement, the time until
//!   an Access-Request for it is refused (simultaneous use), asked of A (the same node: the
//!   baseline) and of B every 2 ms;
//! - **stop**: its Stop to A; the time until B accepts it again;
//! - **change**: disabled through A's API; from the API's answer, the time until A and B
//!   refuse it.
//!
//! Printed: median, p95 and maximum of each, per node, and B's median over A's. B learns
//! of A's writes from PostgreSQL's `NOTIFY` at A's commit, and polls every 500 ms besides.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use common::{Install, Latencies, Server, client, ms, ratio};
use radius::auth::{self, Method};
use radius::client::{Client, ClientConfig};
use radius::{Code, Packet, attrs};
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::{RngExt as _, SeedableRng as _};
use sea_orm::ConnectionTrait as _;
use serde_json::json;
use testkit::Backend;

/// The router's secret.
const SECRET: &str = "bench-nodes-secret-0123";
/// The router's address (its requests' source).
const NAS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// The password `lastmile bench seed` gives every customer.
const PASSWORD: &str = "bench-pass";
/// Longest wait for a crossing before the benchmark gives up.
const PATIENCE: Duration = Duration::from_secs(10);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

/// One node's RADIUS side, as the router sees it.
struct Node {
    server: Server,
    auth: Client,
    acct: Client,
}

async fn bench() {
    let customers = common::customers_arg(10_000);
    let rounds: usize = std::env::var("LASTMILE_BENCH_ROUNDS").ok().map_or(40, |r| {
        r.parse().expect("LASTMILE_BENCH_ROUNDS is a number")
    });
    println!("two nodes on PostgreSQL: {customers} customers, {rounds} rounds");
    let install = Install::new(Backend::Postgres).await;
    install.run(&["bench", "seed", "--customers", &customers.to_string()]);
    install.execute("DELETE FROM radacct").await;
    let http = client();
    let a = node(&install, &http).await;
    let (token, _) = a.server.sign_in(&http).await;
    let tenant = a.server.seeded_tenant(&http, &token).await;
    a.server
        .add_router(&http, &token, tenant, "nodes-bench", NAS, SECRET)
        .await;
    // Started after the router exists, so both know it from their first load.
    let b = node(&install, &http).await;
    install.settled().await;

    let mut candidates = single_session(&install, tenant).await;
    let mut rng = StdRng::seed_from_u64(2026);
    candidates.shuffle(&mut rng);
    assert!(candidates.len() >= rounds, "too few customers in service");
    let (mut session, mut stop, mut change) = (
        [Vec::new(), Vec::new()],
        Vec::new(),
        [Vec::new(), Vec::new()],
    );
    for (round, (id, username)) in candidates.iter().take(rounds).enumerate() {
        let session_id = format!("nodes-{round}-{}", rng.random::<u32>());
        assert_eq!(login(&a, username).await, Code::AccessAccept, "{username}");
        account(&a, username, &session_id, attrs::acct_status_type::START).await;
        let acked = Instant::now();
        session[0].push(until(&a, username, Code::AccessReject, acked).await);
        session[1].push(until(&b, username, Code::AccessReject, acked).await);
        account(&a, username, &session_id, attrs::acct_status_type::STOP).await;
        let acked = Instant::now();
        stop.push(until(&b, username, Code::AccessAccept, acked).await);
        disable(&http, &a.server, &token, *id).await;
        let answered = Instant::now();
        change[0].push(until(&a, username, Code::AccessReject, answered).await);
        change[1].push(until(&b, username, Code::AccessReject, answered).await);
    }
    println!(
        "\n{:<38} {:>10} {:>10} {:>10} {:>8}",
        "crossing", "median", "p95", "max", "B/A"
    );
    let print = |what: &str, samples: &[Duration], baseline: Option<Duration>| {
        let l = Latencies::new(samples.to_vec());
        let median = l.quantile(0.5);
        println!(
            "{what:<38} {:>10} {:>10} {:>10} {:>8}",
            ms(median),
            ms(l.quantile(0.95)),
            ms(l.quantile(1.0)),
            baseline.map_or_else(|| "-".to_owned(), |b| ratio(median, b))
        );
        median
    };
    let same = print("session on A, refused by A", &session[0], None);
    print("session on A, refused by B", &session[1], Some(same));
    print("stop on A, accepted by B", &stop, None);
    let same = print("disabled through A, refused by A", &change[0], None);
    print("disabled through A, refused by B", &change[1], Some(same));
    a.server.stop().await;
    b.server.stop().await;
}

/// Starts a node with RADIUS ports of its own.
async fn node(install: &Install, http: &reqwest::Client) -> Node {
    let (server, ports, _) = install.serve_radius(&[], http).await;
    let config = ClientConfig {
        timeout: Duration::from_secs(2),
        retries: 2,
        source: Some(IpAddr::V4(NAS)),
        ..ClientConfig::default()
    };
    let at = |port| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
    Node {
        server,
        auth: Client::with_config(at(ports.auth), SECRET.as_bytes().to_vec(), config.clone()),
        acct: Client::with_config(at(ports.acct), SECRET.as_bytes().to_vec(), config),
    }
}

/// The node's answer to a PAP login of `username`.
async fn login(node: &Node, username: &str) -> Code {
    let mut request = Packet::new(Code::AccessRequest, 0);
    request.add(attrs::USER_NAME, &username.to_owned());
    request.add(attrs::NAS_IP_ADDRESS, &NAS);
    auth::add_credentials(&mut request, Method::Pap, PASSWORD, SECRET.as_bytes()).unwrap();
    node.auth.send(&request).await.unwrap().packet.code
}

/// Asks `node` every 2 ms until it answers `code`; the time since `since`.
async fn until(node: &Node, username: &str, code: Code, since: Instant) -> Duration {
    loop {
        if login(node, username).await == code {
            return since.elapsed();
        }
        assert!(since.elapsed() < PATIENCE, "{username}: never {code:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// An Accounting-Request of `status` for `username`'s session `id`, acknowledged.
async fn account(node: &Node, username: &str, id: &str, status: u32) {
    let mut request = Packet::new(Code::AccountingRequest, 0);
    request.add(attrs::ACCT_STATUS_TYPE, &status);
    request.add(attrs::USER_NAME, &username.to_owned());
    request.add(attrs::ACCT_SESSION_ID, &id.to_owned());
    request.add(attrs::NAS_IP_ADDRESS, &NAS);
    request.add(attrs::NAS_PORT, &7u32);
    let reply = node.acct.send(&request).await.unwrap();
    assert_eq!(reply.packet.code, Code::AccountingResponse);
}

/// Disables customer `id` through `server`'s API.
async fn disable(http: &reqwest::Client, server: &Server, token: &str, id: i64) {
    let path = format!("/api/v1/customers/{id}");
    let current = server.get_json(http, token, &path).await;
    let body = json!({"version": current["version"]});
    server
        .send_json(
            http,
            token,
            reqwest::Method::POST,
            &format!("{path}/disable"),
            &body,
        )
        .await;
}

/// The tenant's customers in service allowed one session, bound to no MAC, on PPPoE.
async fn single_session(install: &Install, tenant: i64) -> Vec<(i64, String)> {
    let conn = install.connect().await;
    let sql = format!(
        "SELECT id, username FROM customer WHERE tenant_id = {tenant} \
         AND archived_at IS NULL AND status = 'active' AND simultaneous_use = 1 \
         AND mac IS NULL AND connection_type = 'pppoe' \
         AND (billing_type <> 'prepaid' OR expires_at > now() + interval '1 day') ORDER BY id"
    );
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql,
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
            )
        })
        .collect()
}
