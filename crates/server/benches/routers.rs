//! Router operations as an operator meets them: over the API of a `lastmile serve` process,
//! against the simulated router over TCP.
//!
//! ```text
//! cargo bench -p lastmile --bench routers [-- SECRETS]
//! ```
//!
//! For each backend, a fresh installation with one tenant (its suspension pool set, and a
//! PPPoE package for each of the router's profiles but the last), then:
//!
//! 1. **Import** from a router holding SECRETS PPP secrets (default 10 000: names sharing
//!    prefixes, profiles drawn with a skew, 5 % disabled, 2 % of another service, 10 % with a
//!    fixed address) and 1 000 pools in every range form. The plan (a dry run) three times,
//!    its median; the import once; the import again three times (it creates nothing), its
//!    median. The baseline, in the same command: reading the router alone (`netops::import`
//!    from this process), three times, its median; the run's time over it is what lastmile
//!    adds. The server's peak resident memory after each step.
//! 2. **Provisioning** of a router holding 1 000 firewall rules and 1 000 hotspot users set by
//!    hand: the plan three times (median), the apply once, the second run (it plans
//!    nothing) three times (median), and the API commands each sent (counted by the router).
//!
//! 3. **Readdressing** of the imported customers: a wide pool given to every package, each
//!    package switched to static addresses (every customer given one, timed in all), then
//!    the pool's customers moved to another pool and back and again (each move readdresses
//!    every one of them and points the packages at the new pool), the median of the three;
//!    per customer, against the import's per customer in the same run. No session is live
//!    (the enforcement of live sessions is the enforcement ladder's, measured by `storm`).
//!
//! - `LASTMILE_BENCH_BACKENDS`: `sqlite,postgres` (default both).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::time::{Duration, Instant};

use common::{Install, Server, ms, ratio};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use reqwest::Method;
use routeros::sim::{Group, SimConfig, SimRouter};
use serde_json::{Value, json};

const API_USER: &str = "lastmile";
const API_PASSWORD: &str = "bench-api-pass";
const POOLS: usize = 1_000;
const PROFILES: usize = 20;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let secrets = common::customers_arg(10_000);
    for backend in common::backends() {
        println!("\n== {backend:?}: {secrets} secrets, {POOLS} pools");
        let install = Install::new(backend).await;
        let client = common::client();
        let (server, _) = install.serve(&[], &client).await;
        let (token, _) = server.sign_in(&client).await;
        let tenant = tenant(&server, &client, &token).await;
        import(&server, &client, &token, tenant, secrets).await;
        provision(&server, &client, &token, tenant).await;
        readdress(&server, &client, &token, tenant).await;
        server.stop().await;
    }
}

/// A tenant whose suspension pool exists, with a PPPoE master package named after each
/// profile but the last.
async fn tenant(server: &Server, client: &reqwest::Client, token: &str) -> i64 {
    let created = server
        .send_json(
            client,
            token,
            Method::POST,
            "/api/v1/tenants",
            &json!({"name": "Bench ISP", "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka",
                    "realm": "bench", "suspension_policy": "pool", "suspension_target": "suspended"}),
        )
        .await;
    let tenant = created["id"].as_i64().unwrap();
    server
        .send_json(
            client,
            token,
            Method::POST,
            "/api/v1/ip-pools",
            &json!({"tenant_id": tenant, "name": "suspended", "ranges": "100.65.96.0/20"}),
        )
        .await;
    for k in 0..PROFILES - 1 {
        server
            .send_json(
                client,
                token,
                Method::POST,
                "/api/v1/packages",
                &json!({"tenant_id": tenant, "name": format!("plan-{k}"), "connection_type": "pppoe",
                        "download_kbps": 10_000 * (k + 1), "upload_kbps": 5000, "validity_days": 30,
                        "price": 50_000}),
            )
            .await;
    }
    tenant
}

/// A router of `tenant` whose API is `sim`'s; its id.
async fn router(
    server: &Server,
    client: &reqwest::Client,
    token: &str,
    tenant: i64,
    name: &str,
    nas: &str,
    sim: &SimRouter,
) -> i64 {
    let created = server
        .send_json(
            client,
            token,
            Method::POST,
            "/api/v1/routers",
            &json!({"tenant_id": tenant, "name": name, "nas_address": nas, "api_address": "127.0.0.1",
                    "api_port": sim.address().port(), "api_user": API_USER, "api_password": API_PASSWORD}),
        )
        .await;
    created["id"].as_i64().unwrap()
}

async fn sim() -> SimRouter {
    SimRouter::start(SimConfig::new(API_USER, API_PASSWORD, Group::Full))
        .await
        .unwrap()
}

/// Pool `i` in one of the four range forms, inside `10.(i/4).((i%4)*64).0/26`.
fn pool_ranges(i: usize) -> String {
    let (a, b) = (i / 4, (i % 4) * 64);
    match i % 4 {
        0 => format!("10.{a}.{b}.0/26"),
        1 => format!("10.{a}.{b}.1-10.{a}.{}.62", b),
        2 => format!("10.{a}.{b}.0/27,10.{a}.{}.40-10.{a}.{}.50", b + 32, b + 32),
        _ => format!("10.{a}.{b}.7"),
    }
}

/// Fills `sim` with the import's shape.
fn fill_import(sim: &SimRouter, secrets: usize) {
    let mut rng = StdRng::seed_from_u64(12);
    for i in 0..POOLS {
        sim.insert(
            "/ip/pool",
            &[
                ("name", &format!("pool-{i:04}")),
                ("ranges", &pool_ranges(i)),
            ],
        )
        .unwrap();
    }
    for k in 0..PROFILES {
        sim.insert(
            "/ppp/profile",
            &[
                ("name", &format!("plan-{k}")),
                ("local-address", "10.255.255.1"),
                ("rate-limit", &format!("{}M/5M", 10 * (k + 1))),
            ],
        )
        .unwrap();
    }
    let prefixes = [
        "dhaka-pppoe-",
        "dhaka-pppoe-mirpur-",
        "ctg-",
        "sylhet-home-",
    ];
    let mut fixed = 0usize;
    for s in 0..secrets {
        let prefix = prefixes[rng.random_range(0..prefixes.len())];
        let name = format!("{prefix}{s:06}");
        // Skewed: most secrets on the first few profiles.
        let profile = (PROFILES as f64 * rng.random::<f64>().powi(3)) as usize;
        let mut props = vec![
            ("name".to_owned(), name),
            ("password".to_owned(), format!("pw-{s:06}")),
            ("profile".to_owned(), format!("plan-{profile}")),
            (
                "comment".to_owned(),
                format!("Subscriber {s}, road {}", s % 97),
            ),
        ];
        let roll = rng.random_range(0..100);
        if roll < 5 {
            props.push(("disabled".to_owned(), "yes".to_owned()));
        } else if roll < 7 {
            props.push(("service".to_owned(), "l2tp".to_owned()));
        } else if roll < 17 {
            // Fixed addresses in the CIDR-form pools, each once.
            let pool = (fixed % 250) * 4;
            let (a, b) = (pool / 4, 0);
            let address = format!("10.{a}.{b}.{}", 1 + fixed / 250);
            props.push(("remote-address".to_owned(), address));
            fixed += 1;
        }
        let props: Vec<(&str, &str)> = props
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        sim.insert("/ppp/secret", &props).unwrap();
    }
}

/// Starts job `path` with `body` and waits for it; the job and the wall time.
async fn run_job(
    server: &Server,
    client: &reqwest::Client,
    token: &str,
    path: &str,
    body: &Value,
) -> (Value, Duration) {
    let started = Instant::now();
    let queued = server
        .send_json(client, token, Method::POST, path, body)
        .await;
    let id = queued["id"].as_i64().unwrap();
    loop {
        let job = server
            .get_json(client, token, &format!("/api/v1/jobs/{id}"))
            .await;
        if job["status"] == "done" || job["status"] == "failed" {
            assert_eq!(job["status"], "done", "{path}: {job}");
            return (job, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The server's peak resident memory so far, in MiB.
fn peak_mib(server: &Server) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

async fn import(
    server: &Server,
    client: &reqwest::Client,
    token: &str,
    tenant: i64,
    secrets: usize,
) {
    let sim = sim().await;
    let filled = Instant::now();
    fill_import(&sim, secrets);
    println!("router filled in {}", ms(filled.elapsed()));
    let id = router(server, client, token, tenant, "core", "10.254.0.1", &sim).await;
    let path = format!("/api/v1/routers/{id}/import");
    println!("server at start: peak {:.0} MiB", peak_mib(server));

    // The baseline: reading the router alone, from this process.
    let mut reads = Vec::new();
    for _ in 0..3 {
        let config = routeros::ClientConfig::new(sim.address().to_string(), API_USER, API_PASSWORD);
        let started = Instant::now();
        let api = routeros::Client::connect(&config).await.unwrap();
        let snapshot = netops::import::read(&api).await.unwrap();
        reads.push(started.elapsed());
        assert_eq!(snapshot.secrets.len(), secrets);
        api.close().await;
    }
    let read = median(reads);
    println!("baseline, reading the router:  {} (median of 3)", ms(read));

    let mut plans = Vec::new();
    let mut counts = Value::Null;
    for _ in 0..3 {
        let (job, took) = run_job(server, client, token, &path, &json!({"dry_run": true})).await;
        counts = job["result"]["plan"]["counts"].clone();
        plans.push(took);
    }
    let plan = median(plans);
    println!(
        "plan (dry run):                {} (median of 3, {} the read), peak {:.0} MiB; {counts}",
        ms(plan),
        ratio(plan, read),
        peak_mib(server)
    );
    let (job, took) = run_job(server, client, token, &path, &json!({"dry_run": false})).await;
    let created = &job["result"]["applied"]["customers"]["created"];
    let pools = job["result"]["applied"]["pools"]
        .as_object()
        .map_or(0, serde_json::Map::len);
    println!(
        "import:                        {} ({} the read), {created} customers and {pools} pools \
         created, {:.2} ms per customer, peak {:.0} MiB",
        ms(took),
        ratio(took, read),
        took.as_secs_f64() * 1000.0 / created.as_f64().unwrap_or(1.0).max(1.0),
        peak_mib(server)
    );
    let mut again = Vec::new();
    for _ in 0..3 {
        let (job, took) = run_job(server, client, token, &path, &json!({"dry_run": false})).await;
        assert_eq!(job["result"]["applied"]["customers"]["created"], 0, "{job}");
        again.push(took);
    }
    let again = median(again);
    println!(
        "import again (creates nothing): {} (median of 3, {} the read), peak {:.0} MiB",
        ms(again),
        ratio(again, read),
        peak_mib(server)
    );
}

async fn provision(server: &Server, client: &reqwest::Client, token: &str, tenant: i64) {
    let sim = sim().await;
    for i in 0..1_000 {
        sim.insert(
            "/ip/firewall/filter",
            &[
                ("chain", if i % 3 == 0 { "input" } else { "forward" }),
                ("src-address", &format!("172.16.{}.{}", i / 250, i % 250)),
                ("action", if i % 2 == 0 { "accept" } else { "drop" }),
                ("comment", &format!("by hand {i}")),
            ],
        )
        .unwrap();
        sim.insert(
            "/ip/hotspot/user",
            &[
                ("name", &format!("guest-{i:04}")),
                ("password", &format!("g{i:04}")),
                ("comment", "by hand"),
            ],
        )
        .unwrap();
    }
    let id = router(server, client, token, tenant, "edge", "10.254.0.2", &sim).await;
    let path = format!("/api/v1/routers/{id}/provision");
    let body = |dry_run: bool| {
        json!({"dry_run": dry_run, "radius_address": "198.51.100.10", "portal_address": "198.51.100.20",
               "identity": "edge-1"})
    };
    println!("\nprovisioning a router with 1 000 firewall rules and 1 000 hotspot users:");
    let mut plans = Vec::new();
    let mut steps = 0;
    let before = sim.commands();
    for _ in 0..3 {
        let (job, took) = run_job(server, client, token, &path, &body(true)).await;
        steps = job["result"]["steps"].as_array().map_or(0, Vec::len);
        plans.push(took);
    }
    let plan_commands = (sim.commands() - before) / 3;
    let plan = median(plans);
    println!(
        "plan:              {} (median of 3), {steps} steps, {plan_commands} API commands",
        ms(plan)
    );
    let before = sim.commands();
    let (job, took) = run_job(server, client, token, &path, &body(false)).await;
    println!(
        "apply:             {} ({} steps applied), {} API commands ({} the plan)",
        ms(took),
        job["result"]["applied"]["applied"],
        sim.commands() - before,
        ratio(took, plan)
    );
    let mut again = Vec::new();
    let before = sim.commands();
    for _ in 0..3 {
        let (job, took) = run_job(server, client, token, &path, &body(false)).await;
        assert_eq!(job["result"]["steps"], json!([]), "{job}");
        again.push(took);
    }
    println!(
        "second run:        {} (median of 3, plans nothing), {} API commands",
        ms(median(again)),
        (sim.commands() - before) / 3
    );
    assert_eq!(
        sim.rows("/ip/firewall/filter").unwrap().len(),
        1_001,
        "the rules set by hand stay"
    );
}

/// Every package of `tenant` given pool `a`, switched to static addresses, then pool `a`'s
/// customers moved to pool `b`, back, and to `b` again.
async fn readdress(server: &Server, client: &reqwest::Client, token: &str, tenant: i64) {
    let pool = async |name: &str, ranges: &str| {
        let created = server
            .send_json(
                client,
                token,
                Method::POST,
                "/api/v1/ip-pools",
                &json!({"tenant_id": tenant, "name": name, "ranges": ranges}),
            )
            .await;
        created["id"].as_i64().unwrap()
    };
    let a = pool("wide-a", "172.16.0.0/17").await;
    let b = pool("wide-b", "172.24.0.0/17").await;
    let packages = server
        .get_json(
            client,
            token,
            &format!("/api/v1/packages?tenant_id={tenant}&limit=100"),
        )
        .await;
    let mut ids = Vec::new();
    for p in packages["items"].as_array().unwrap() {
        if p["parent_id"].is_null() && p["connection_type"] == "pppoe" {
            let id = p["id"].as_i64().unwrap();
            server
                .send_json(
                    client,
                    token,
                    Method::PATCH,
                    &format!("/api/v1/packages/{id}"),
                    // The service is changed whole: its fields as they are, the pool new.
                    &json!({"ip_pool_id": a, "version": p["version"],
                            "connection_type": p["connection_type"],
                            "download_kbps": p["download_kbps"], "upload_kbps": p["upload_kbps"],
                            "validity_days": p["validity_minutes"].as_i64().unwrap() / 1440}),
                )
                .await;
            ids.push(id);
        }
    }
    let started = Instant::now();
    let mut readdressed = 0;
    for id in &ids {
        let path = format!("/api/v1/packages/{id}/allocation");
        let (job, _) = run_job(server, client, token, &path, &json!({"mode": "static"})).await;
        readdressed += job["result"]["passes"][0]["readdressed"].as_i64().unwrap();
    }
    let switched = started.elapsed();
    println!(
        "static switch of {} packages: {} for {readdressed} customers, {:.2} ms per customer, \
         peak {:.0} MiB",
        ids.len(),
        ms(switched),
        switched.as_secs_f64() * 1000.0 / (readdressed.max(1) as f64),
        peak_mib(server)
    );
    let mut moves = Vec::new();
    for (from, to) in [(a, b), (b, a), (a, b)] {
        let path = format!("/api/v1/ip-pools/{from}/migrate");
        let (job, took) = run_job(server, client, token, &path, &json!({"to_pool_id": to})).await;
        assert_eq!(
            job["result"]["passes"][0]["readdressed"].as_i64().unwrap(),
            readdressed,
            "{job}"
        );
        moves.push(took);
    }
    let moved = median(moves);
    println!(
        "pool move of {readdressed} customers: {} (median of 3), {:.2} ms per customer, \
         peak {:.0} MiB",
        ms(moved),
        moved.as_secs_f64() * 1000.0 / (readdressed.max(1) as f64),
        peak_mib(server)
    );
}
